package llama

import (
	"slices"
	"strings"
)

// Prompt is text to generate from, together with the spans of it where control tokens such as
// <|im_start|> or <end_of_turn> are recognized; everywhere else their text is plain text, the
// way a user typed it. ChatPrompt makes one in which the chat template's markers are control
// tokens and the messages' content is plain text, so that content cannot start or end a turn.
// Text and RawPrompt make the two simple kinds, and Concat joins prompts. The zero Prompt is
// empty text. A Prompt is a value: safe to copy and to share between goroutines.
//
// Only control tokens (and the unknown token) are held back. Tokens a vocabulary marks as
// user-defined are part of its ordinary text and are recognized everywhere, as llama.cpp's
// tokenizer recognizes them even when it parses no special tokens.
type Prompt struct {
	text string
	// special holds the byte ranges of text where control tokens count: sorted, disjoint,
	// non-empty and never adjacent (adjacent ranges are merged).
	special []span
}

// span is the byte range [start, end) of a prompt's text.
type span struct{ start, end int }

// Text is a prompt of plain text: no control token is recognized in it. This is the right
// kind for anything a user wrote.
func Text(s string) Prompt { return Prompt{text: s} }

// RawPrompt is a prompt whose control tokens are recognized everywhere: text written as
// "<|im_start|>user\n..." by hand, for a template of one's own. Never put text that a user
// controls in a RawPrompt; Concat it as Text instead.
func RawPrompt(s string) Prompt {
	if s == "" {
		return Prompt{}
	}
	return Prompt{text: s, special: []span{{0, len(s)}}}
}

// Concat joins prompts into one; each part keeps its own kind of text, so that
//
//	Concat(RawPrompt("<|im_start|>user\n"), Text(question), RawPrompt("<|im_end|>\n<|im_start|>assistant\n"))
//
// builds a chat turn by hand with the question as plain text. A control token is recognized
// only where its whole text lies within the parts that recognize control tokens.
func Concat(parts ...Prompt) Prompt {
	var text strings.Builder
	var special []span
	for _, q := range parts {
		off := text.Len()
		text.WriteString(q.text)
		for _, s := range q.special {
			special = addSpan(special, span{s.start + off, s.end + off})
		}
	}
	return Prompt{text: text.String(), special: special}
}

// addSpan appends s, which starts at or after the end of the last span, merging the two when
// they touch.
func addSpan(spans []span, s span) []span {
	if n := len(spans); n > 0 && spans[n-1].end == s.start {
		spans[n-1].end = s.end
		return spans
	}
	return append(spans, s)
}

// String returns the prompt's text.
func (p Prompt) String() string { return p.text }

// allSpecial reports whether control tokens are recognized in the whole text.
func (p Prompt) allSpecial() bool {
	return len(p.special) == 1 && p.special[0] == span{0, len(p.text)}
}

// inSpecial reports whether [start, end) lies within one span where control tokens count.
func (p Prompt) inSpecial(start, end int) bool {
	i, found := slices.BinarySearchFunc(p.special, start, func(s span, pos int) int {
		switch {
		case s.end <= pos:
			return -1
		case s.start > pos:
			return 1
		}
		return 0
	})
	return found && end <= p.special[i].end
}
