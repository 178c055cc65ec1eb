package gguf

import (
	"fmt"
	"iter"
	"slices"
	"strings"
)

// Token types of tokenizer.ggml.token_type (llama_token_type).
const (
	tokenNormal  int32 = 1
	tokenUnknown int32 = 2
	tokenControl int32 = 3
	tokenByte    int32 = 6
)

// spaceMarker is SentencePiece's word-boundary marker, U+2581.
const spaceMarker = "▁"

// vocabulary is a SentencePiece-style token list as written to the tokenizer.ggml.* arrays.
type vocabulary struct {
	tokens []string
	scores []float32
	types  []int32
}

// byteBase is the id of "<0x00>". The 256 byte tokens follow the leading run of special tokens,
// as in the Llama and Phi-3 vocabularies (ids 3..258), or the first gap after it that holds all
// 256 without moving a special token (Gemma's specials at 106 and 107 push them past those).
func (s Spec) byteBase() (int, error) {
	ids := make([]int, 0, len(s.Special))
	for _, t := range s.Special {
		ids = append(ids, t.ID)
	}
	slices.Sort(ids)
	base := 0
	for _, id := range ids {
		if id == base {
			base++
		}
	}
	for _, id := range ids {
		if id >= base && id < base+256 {
			base = id + 1
		}
	}
	if base+256 > s.Vocab {
		return 0, fmt.Errorf("vocab %d has no room for the 256 byte tokens after the special tokens", s.Vocab)
	}
	return base, nil
}

func isByteToken(t string) bool {
	return len(t) == 6 && strings.HasPrefix(t, "<0x") && strings.HasSuffix(t, ">")
}

// vocabulary lays out the token list: special tokens at their ids, the byte tokens, and
// distinct filler pieces everywhere else. Single characters, "▁" and "▁x" for each printable
// ASCII character come first, so that with the byte fallback any text tokenizes; then
// lowercase letter strings of growing length, with and without "▁". Scores fall with rank like
// SentencePiece log-probabilities, so merges prefer the earlier, shorter pieces.
func (s Spec) vocabulary() (vocabulary, error) {
	base, err := s.byteBase()
	if err != nil {
		return vocabulary{}, err
	}
	v := vocabulary{
		tokens: make([]string, s.Vocab),
		scores: make([]float32, s.Vocab),
		types:  make([]int32, s.Vocab),
	}
	used := make(map[string]bool, s.Vocab)
	for _, t := range s.Special {
		v.tokens[t.ID], v.types[t.ID] = t.Text, tokenControl
		if t.ID == s.UNK {
			v.types[t.ID] = tokenUnknown
		}
		used[t.Text] = true
	}
	for b := range 256 {
		v.tokens[base+b], v.types[base+b] = fmt.Sprintf("<0x%02X>", b), tokenByte
	}
	next, stop := iter.Pull(fillerPieces())
	defer stop()
	rank := 0
	for id := range v.tokens {
		if v.types[id] != 0 {
			continue
		}
		piece, _ := next() // the sequence is endless
		for used[piece] {
			piece, _ = next()
		}
		used[piece] = true
		rank++
		v.tokens[id], v.types[id], v.scores[id] = piece, tokenNormal, -float32(rank)
	}
	return v, nil
}

// fillerPieces yields an endless sequence of distinct pieces.
func fillerPieces() iter.Seq[string] {
	return func(yield func(string) bool) {
		if !yield(spaceMarker) {
			return
		}
		var printable []string
		for c := byte('!'); c <= '~'; c++ {
			printable = append(printable, string(c))
		}
		for _, prefix := range []string{"", spaceMarker} {
			for _, c := range printable {
				if !yield(prefix + c) {
					return
				}
			}
		}
		for n := 2; ; n++ {
			digits := make([]byte, n)
			for i := range digits {
				digits[i] = 'a'
			}
			for {
				w := string(digits)
				if !yield(spaceMarker+w) || !yield(w) {
					return
				}
				i := n - 1
				for i >= 0 && digits[i] == 'z' {
					digits[i] = 'a'
					i--
				}
				if i < 0 {
					break
				}
				digits[i]++
			}
		}
	}
}
