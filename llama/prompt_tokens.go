package llama

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// specialToken is a token that llama.cpp's tokenizer finds by its text before it tokenizes the
// text around it (tokenizer_st_partition in llama-vocab.cpp).
type specialToken struct {
	id   int32
	text string
	// control is set for control and unknown tokens, which llama.cpp recognizes only when
	// asked to parse special tokens; user-defined tokens it recognizes always.
	control bool
	// lstrip and rstrip drop the whitespace before and after the token.
	lstrip, rstrip bool
}

// specialTokens returns the model's special tokens, read from the vocabulary on first use so
// that a load, which the bench times, does not pay for a walk over every token.
func (m *Model) specialTokens() []specialToken {
	m.specialOnce.Do(func() { m.special = readSpecialTokens(m.vocab) })
	return m.special
}

// readSpecialTokens lists the vocabulary's special tokens in the order llama.cpp tries them:
// longest text first. llama.cpp leaves the order of texts of equal length unspecified; here it
// is by id, which matters only for two such texts that overlap in a prompt.
func readSpecialTokens(vocab *C.struct_llama_vocab) []specialToken {
	var out []specialToken
	n := int32(C.llama_vocab_n_tokens(vocab))
	for id := range n {
		attr := C.llama_vocab_get_attr(vocab, C.llama_token(id))
		if attr&(C.LLAMA_TOKEN_ATTR_CONTROL|C.LLAMA_TOKEN_ATTR_USER_DEFINED|C.LLAMA_TOKEN_ATTR_UNKNOWN) == 0 {
			continue
		}
		text := C.GoString(C.llama_vocab_get_text(vocab, C.llama_token(id)))
		if text == "" {
			continue // an empty text marks nothing
		}
		out = append(out, specialToken{
			id:      id,
			text:    text,
			control: attr&(C.LLAMA_TOKEN_ATTR_CONTROL|C.LLAMA_TOKEN_ATTR_UNKNOWN) != 0,
			lstrip:  attr&C.LLAMA_TOKEN_ATTR_LSTRIP != 0,
			rstrip:  attr&C.LLAMA_TOKEN_ATTR_RSTRIP != 0,
		})
	}
	slices.SortStableFunc(out, func(a, b specialToken) int { return cmp.Compare(len(b.text), len(a.text)) })
	return out
}

// fragment is a piece of a prompt: a special token (tok >= 0) or the raw text [start, end).
type fragment struct {
	tok        int32
	start, end int
}

// fragments splits p the way llama.cpp's tokenizer does before it tokenizes text, with one
// difference: a control token is recognized only where its whole text lies in one of p's
// special spans. Each special token in turn, longest first, splits every raw fragment at each
// of its occurrences, dropping the whitespace its lstrip and rstrip attributes ask to drop.
// Every raw fragment then starts the text or follows a special token, as in llama.cpp, so
// tokenizing each on its own gives what llama.cpp gives for the whole text where no control
// token is held back.
func (p Prompt) fragments(specials []specialToken) []fragment {
	frags := []fragment{{tok: -1, start: 0, end: len(p.text)}}
	var next []fragment
	for _, st := range specials {
		next = next[:0]
		for _, f := range frags {
			if f.tok >= 0 {
				next = append(next, f)
				continue
			}
			next = p.split(next, f, st)
		}
		frags, next = next, frags
	}
	return frags
}

// split appends the pieces of the raw fragment f split at every recognized occurrence of st.
func (p Prompt) split(out []fragment, f fragment, st specialToken) []fragment {
	pos := f.start
	for {
		m := p.find(st, pos, f.end)
		if m < 0 {
			break
		}
		left := m
		if st.lstrip {
			for left > pos && isSpace(p.text[left-1]) {
				left--
			}
		}
		if left > pos {
			out = append(out, fragment{tok: -1, start: pos, end: left})
		}
		out = append(out, fragment{tok: st.id})
		pos = m + len(st.text)
		if st.rstrip {
			for pos < f.end && isSpace(p.text[pos]) {
				pos++
			}
		}
	}
	if pos < f.end {
		out = append(out, fragment{tok: -1, start: pos, end: f.end})
	}
	return out
}

// find returns the first occurrence of st's text in text[from:to] that st may be recognized
// at, or -1.
func (p Prompt) find(st specialToken, from, to int) int {
	for from < to {
		i := strings.Index(p.text[from:to], st.text)
		if i < 0 {
			return -1
		}
		at := from + i
		if !st.control || p.inSpecial(at, at+len(st.text)) {
			return at
		}
		from = at + 1
	}
	return -1
}

// isSpace is C's isspace in the "C" locale, which llama.cpp's tokenizer and its chat
// templates use.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// TokenizePrompt returns the tokens of p as Generate decodes them: control tokens only where p
// recognizes them (see Prompt) and, with addBOS, the BOS token first where the model wants one
// and p does not begin with it, as Generate adds it at the start of a conversation.
// GenerateTokens on these tokens generates what Generate on p does.
func (m *Model) TokenizePrompt(p Prompt, addBOS bool) ([]int32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.c == nil {
		return nil, ErrClosed
	}
	toks, err := m.tokenizePrompt(p)
	if err != nil {
		return nil, err
	}
	if addBOS {
		toks = m.withBOS(toks)
	}
	return toks, nil
}

// withBOS puts the BOS token before toks where the model wants one and toks do not begin with it.
func (m *Model) withBOS(toks []int32) []int32 {
	if m.info.AddBOS && m.info.BOS >= 0 && (len(toks) == 0 || toks[0] != m.info.BOS) {
		return append([]int32{m.info.BOS}, toks...)
	}
	return toks
}

// tokenizePrompt tokenizes p as llama.cpp would with parse_special, except that control tokens
// count only in p's special spans. Nothing (no BOS) is added.
func (m *Model) tokenizePrompt(p Prompt) ([]int32, error) {
	switch {
	case len(p.special) == 0:
		return tokenize(m.vocab, p.text, false, false)
	case p.allSpecial():
		return tokenize(m.vocab, p.text, false, true)
	}
	var toks []int32
	for _, f := range p.fragments(m.specialTokens()) {
		if f.tok >= 0 {
			toks = append(toks, f.tok)
			continue
		}
		// Each raw fragment starts the text or follows a special token, where SentencePiece
		// adds its space prefix as llama.cpp does for the whole text.
		part, err := tokenize(m.vocab, p.text[f.start:f.end], false, false)
		if err != nil {
			return nil, fmt.Errorf("tokenize prompt: %w", err)
		}
		toks = append(toks, part...)
	}
	return toks, nil
}
