package eval

import (
	"regexp"
	"strings"
)

// plainText turns the LaTeX and typography of a model's reply into plain text that the number
// scanner reads: "\frac{3}{4}" becomes "3/4", "1{,}234" becomes "1,234", "\$" becomes "$",
// "\times" becomes "×", other commands and braces go, and non-breaking spaces become spaces.
// Markdown stays: bold marks an answer.
func plainText(s string) string {
	s = latexSymbols.Replace(s)
	s = replaceFracs(s)
	s = latexCommand.ReplaceAllStringFunc(s, func(cmd string) string {
		if r, ok := latexCommands[cmd[1:]]; ok {
			return r
		}
		return " "
	})
	return braces.Replace(s)
}

var braces = strings.NewReplacer("{", "", "}", "")

var latexSymbols = strings.NewReplacer(
	`\\`, "\n", `\(`, " ", `\)`, " ", `\[`, " ", `\]`, " ",
	"{,}", ",", `\,`, " ", `\;`, " ", `\:`, " ", `\!`, "", `\ `, " ",
	`\$`, "$", `\%`, "%",
	"\u00a0", " ", "\u202f", " ", "\u2009", " ",
)

var latexCommand = regexp.MustCompile(`\\[a-zA-Z]+`)

// latexCommands maps the commands that mean something here; every other one becomes a space.
var latexCommands = map[string]string{
	"times": " × ", "cdot": " · ", "div": " ÷ ", "approx": " ≈ ", "left": "", "right": "",
}

var latexFrac = regexp.MustCompile(`\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}`)

// replaceFracs writes \frac{a}{b} as a/b, parenthesized unless a and b are plain numbers, and
// after a space where a digit precedes, so that 1\frac{1}{2} reads as the mixed number 1 1/2.
func replaceFracs(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range latexFrac.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(s[last:m[0]])
		if m[0] > 0 && isDigit(s[m[0]-1]) {
			b.WriteByte(' ')
		}
		num, den := strings.TrimSpace(s[m[2]:m[3]]), strings.TrimSpace(s[m[4]:m[5]])
		if !plainNumber.MatchString(num) || !plainNumber.MatchString(den) {
			num, den = "("+num+")", "("+den+")"
		}
		b.WriteString(num + "/" + den)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

var plainNumber = regexp.MustCompile(`^-?\d+$`)

// turnMarker finds a line where a model, having answered, starts a new exchange of its own.
var turnMarker = regexp.MustCompile(`(?im)^[\s#*>]*(?:question|q|user|human|problem|pergunta|questão)\s*\d*\s*:`)

// answerMarker finds where a reply states its answer, for turnMarker.
var answerMarker = regexp.MustCompile(`(?i)answer|resposta|####|\\boxed`)

// specialTokens are chat-template tokens that end a turn when a runtime leaves them in the text.
var specialTokens = []string{
	"<|im_end|>", "<|im_start|>", "<|end|>", "<|user|>", "<|eot_id|>", "<|endoftext|>",
	"<end_of_turn>", "<start_of_turn>", "</s>",
}

// ownTurn cuts what a reply goes on to say after its own turn: text after a chat-template token,
// and question-and-answer pairs that small models invent after answering ("The answer is 4.
// Question: ... The answer is 9."), whose numbers would otherwise be read as the answer.
func ownTurn(s string) string {
	for _, tok := range specialTokens {
		if i := strings.Index(s, tok); i >= 0 {
			s = s[:i]
		}
	}
	if a := answerMarker.FindStringIndex(s); a != nil {
		if t := turnMarker.FindStringIndex(s[a[1]:]); t != nil {
			s = s[:a[1]+t[0]]
		}
	}
	return s
}
