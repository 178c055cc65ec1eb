package eval

import (
	"regexp"
	"strings"
)

// Method says how an answer was found in a reply.
type Method string

// The methods, in the order Extract tries them: explicit forms first, then the last number,
// after lm-evaluation-harness's strict-then-flexible matching.
const (
	MethodHash       Method = "hash"        // "#### 42", GSM8K's form
	MethodAnswerIs   Method = "answer-is"   // "The answer is 42", "Answer: 42", "A resposta é 42"
	MethodBoxed      Method = "boxed"       // "\boxed{42}"
	MethodBold       Method = "bold"        // "**42**", "**Total: $42**"
	MethodEquals     Method = "equals"      // a last line ending "= 42"
	MethodLastNumber Method = "last-number" // the last number that is not a label or an echo
	MethodNone       Method = "none"        // no number found
)

// Extraction is the answer found in a reply.
type Extraction struct {
	// Value is the number; 0 when OK is false.
	Value float64 `json:"value"`
	// OK says whether a number was found.
	OK bool `json:"ok"`
	// Method says how it was found; MethodNone when OK is false.
	Method Method `json:"method"`
}

// ExtractAnswer returns the final numeric answer in a model's reply and whether there is one.
// It is [Extract] without the method.
func ExtractAnswer(response string) (float64, bool) {
	e := Extract(response)
	return e.Value, e.OK
}

// Extract finds the final numeric answer in a model's reply. It looks first for an explicit
// form, the last of its kind winning within each: "#### 42", "The answer is 42" (also
// "Answer: 42", "Final answer: 42", "A resposta é 42"), "\boxed{42}", a bold number "**42**",
// and a last line that ends "= 42". Failing those it takes the last number of the reply.
//
// Numbers are read as people write them: thousands separators ("1,234", "1 234"), a decimal
// comma where it cannot be a separator ("3,5", "1.234,56", "R$ 1.234"), currency ("$", "R$",
// "€", "£"), percent ("25%" is 25), signs, fractions ("3/4", "\frac{3}{4}", "¾"), mixed
// numbers ("1 1/2"), scientific notation ("1.2e5", "3 × 10^4"), English words ("forty-two",
// "one hundred and five"; used by the last-number fallback only when the reply has no digits)
// and trailing periods. Step numbering ("1. " opening a line, "Step 2"), ordinals ("3rd") and
// digits glued to letters ("m2", "H2O", "cm^2") are not answers. Text after the reply's own
// turn (a chat-template token, or a "Question:" line the model invents after answering) is
// ignored.
func Extract(response string) Extraction { return ExtractFor("", response) }

// ExtractFor is [Extract] for the reply to question: the last-number fallback also skips the
// numbers the reply echoes from the question, those standing next to the same word as in the
// question ("If 3 apples cost $6, ..."), and finds none when every number is an echo.
func ExtractFor(question, response string) Extraction {
	raw := ownTurn(response)
	text := plainText(raw)
	toks := scanNumbers(text)
	if t, ok := afterMarker(text, toks, hashMarker); ok {
		return found(t, MethodHash)
	}
	if t, ok := afterMarker(text, toks, answerIsMarker); ok {
		return found(t, MethodAnswerIs)
	}
	if t, ok := boxed(raw); ok {
		return found(t, MethodBoxed)
	}
	if t, ok := bold(text); ok {
		return found(t, MethodBold)
	}
	if t, ok := equalsAtEnd(text); ok {
		return found(t, MethodEquals)
	}
	if t, ok := lastNumber(toks, text, question); ok {
		return found(t, MethodLastNumber)
	}
	return Extraction{Method: MethodNone}
}

func found(t numTok, m Method) Extraction {
	return Extraction{Value: t.value, OK: true, Method: m}
}

var (
	hashMarker     = regexp.MustCompile(`#{4,}`)
	answerIsMarker = regexp.MustCompile(`(?i)(?:\banswer\b(?:\s+(?:to|for)\s+(?:this|the)\s+(?:question|problem))?|\bresposta(?:\s+final)?)` +
		`(?:\s*\([^)\n]{0,40}\))?[\s*_]*(?:is\b|was\b|would\s+be\b|will\s+be\b|should\s+be\b|=|:|é|seria|será)`)
	// markerGap is what may stand between a marker and its number: markdown, punctuation, a
	// LaTeX "$" and a few filler words ("The answer is approximately **42**", "Answer: x = 42").
	markerGap = regexp.MustCompile("(?i)^[\\s*_:=≈~<>(\\[`\"'$]*" +
		`(?:(?:is|are|of|approximately|approx\.?|about|around|roughly|exactly|equal\s+to|equals|` +
		`therefore|thus|then|so|simply|just|only|aproximadamente|cerca\s+de|igual\s+a|[a-z]\s*[=≈])` +
		"[\\s*_:=≈~<>(\\[`\"'$]*)*$")
	boldSpan   = regexp.MustCompile(`\*\*([^*\n]+?)\*\*`)
	boxedStart = regexp.MustCompile(`\\(?:boxed|fbox)\s*\{`)
)

// afterMarker returns the number right after the last marker that has one.
func afterMarker(text string, toks []numTok, marker *regexp.Regexp) (numTok, bool) {
	ms := marker.FindAllStringIndex(text, -1)
	for k := len(ms) - 1; k >= 0; k-- {
		end := ms[k][1]
		for _, t := range toks {
			if t.start < end {
				continue
			}
			if !t.label && markerGap.MatchString(text[end:t.start]) {
				return t, true
			}
			break
		}
	}
	return numTok{}, false
}

// boxed returns the number in the last \boxed{...} of raw that holds one; after an "=" when
// the box holds an equation.
func boxed(raw string) (numTok, bool) {
	ms := boxedStart.FindAllStringIndex(raw, -1)
	for k := len(ms) - 1; k >= 0; k-- {
		open := ms[k][1]
		depth, end := 1, -1
		for i := open; i < len(raw) && end < 0; i++ {
			switch raw[i] {
			case '{':
				depth++
			case '}':
				if depth--; depth == 0 {
					end = i
				}
			}
		}
		if end < 0 {
			continue
		}
		if ts := quantities(afterEquals(plainText(raw[open:end]))); len(ts) > 0 {
			return ts[0], true
		}
	}
	return numTok{}, false
}

// bold returns the number of the last bold span that holds exactly one (after an "=" when it
// holds an equation); spans with several numbers are working, not an answer.
func bold(text string) (numTok, bool) {
	ms := boldSpan.FindAllStringSubmatch(text, -1)
	for k := len(ms) - 1; k >= 0; k-- {
		if ts := quantities(afterEquals(ms[k][1])); len(ts) == 1 {
			return ts[0], true
		}
	}
	return numTok{}, false
}

// equalsAtEnd returns the number after the last "=" or "≈" of the reply's last line, when it is
// the only number there ("So 4 × 3.80 = $15.20.").
func equalsAtEnd(text string) (numTok, bool) {
	// The last line with a word or number: "$$" or "---" closing a block is not a line of it.
	lines := strings.Split(text, "\n")
	last := ""
	for k := len(lines) - 1; k >= 0 && last == ""; k-- {
		if strings.IndexFunc(lines[k], func(r rune) bool { return r < 0x80 && (isLetter(byte(r)) || isDigit(byte(r))) }) >= 0 {
			last = lines[k]
		}
	}
	rest := afterEquals(last)
	if len(rest) == len(last) {
		return numTok{}, false
	}
	if ts := quantities(rest); len(ts) == 1 {
		return ts[0], true
	}
	return numTok{}, false
}

// afterEquals returns s after its last "=" or "≈"; all of s when it has none.
func afterEquals(s string) string {
	i := strings.LastIndex(s, "=")
	if j := strings.LastIndex(s, "≈"); j > i {
		return s[j+len("≈"):]
	}
	return s[i+1:]
}

// quantities returns the numbers of s that are not labels.
func quantities(s string) []numTok {
	var out []numTok
	for _, t := range scanNumbers(s) {
		if !t.label {
			out = append(out, t)
		}
	}
	return out
}

// lastNumber returns the last number of the reply that is neither a label nor, when question
// is given, an echo of it. Numbers in words count only when the reply has none in digits:
// "one" is too often a pronoun.
func lastNumber(toks []numTok, text, question string) (numTok, bool) {
	var echoes []echo
	if question != "" {
		echoes = echoesOf(plainText(question))
	}
	var digits, words []numTok
	for _, t := range toks {
		if t.label || isEcho(text, t, echoes) {
			continue
		}
		if t.word {
			words = append(words, t)
		} else {
			digits = append(digits, t)
		}
	}
	switch {
	case len(digits) > 0:
		return digits[len(digits)-1], true
	case len(words) > 0:
		return words[len(words)-1], true
	}
	return numTok{}, false
}

// echo is a number of the question with the words on either side of it.
type echo struct {
	value      float64
	prev, next string
}

func echoesOf(question string) []echo {
	var out []echo
	for _, t := range scanNumbers(question) {
		out = append(out, echo{t.value, contextWord(question, t.start, -1), contextWord(question, t.end, 1)})
	}
	return out
}

// isEcho reports whether t repeats a number of the question next to the same word.
func isEcho(text string, t numTok, echoes []echo) bool {
	if len(echoes) == 0 {
		return false
	}
	prev, next := contextWord(text, t.start, -1), contextWord(text, t.end, 1)
	for _, e := range echoes {
		if e.value == t.value && (prev != "" && prev == e.prev || next != "" && next == e.next) {
			return true
		}
	}
	return false
}

// contextWord returns the word beside position i of s, looking back (dir -1) or ahead (dir 1)
// past spaces and punctuation; "" when a number comes first or the word says too little.
func contextWord(s string, i, dir int) string {
	for i > 0 && dir < 0 || i < len(s) && dir > 0 {
		c := s[i-1]
		if dir > 0 {
			c = s[i]
		}
		if isLetter(c) || isDigit(c) || c >= 0x80 {
			break
		}
		i += dir
	}
	var w string
	if dir < 0 {
		w = wordEndingAt(s, i)
	} else {
		w, _ = wordAt(s, i)
	}
	if stopWords[w] {
		return ""
	}
	return w
}

// stopWords stand next to too many numbers to tie one to the question.
var stopWords = map[string]bool{
	"a": true, "an": true, "and": true, "are": true, "at": true, "be": true, "by": true,
	"for": true, "in": true, "is": true, "it": true, "of": true, "on": true, "so": true,
	"that": true, "the": true, "this": true, "to": true, "was": true, "with": true,
}
