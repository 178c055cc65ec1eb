package gguf

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSpecValidate(t *testing.T) {
	llama, _ := TinySpec("tiny-llama")
	gemma, _ := TinySpec("tiny-gemma2")
	phi3, _ := TinySpec("tiny-phi3")
	for _, c := range []struct {
		name   string
		base   Spec
		change func(*Spec)
		want   string
	}{
		{"unknown arch", llama, func(s *Spec) { s.Arch = "mamba" }, "unknown architecture"},
		{"no layers", llama, func(s *Spec) { s.Layers = 0 }, "layers 0"},
		{"absurd layers", llama, func(s *Spec) { s.Layers = 1 << 20 }, "layers"},
		{"negative embd", llama, func(s *Spec) { s.Embd = -1 }, "embd -1"},
		{"huge vocab", llama, func(s *Spec) { s.Vocab = 1 << 30 }, "vocab"},
		{"no kv heads", llama, func(s *Spec) { s.KVHeads = 0 }, "kv heads 0"},
		{"heads not divisible", llama, func(s *Spec) { s.KVHeads = 3 }, "do not divide"},
		{"phi3 q dim", phi3, func(s *Spec) { s.HeadDim = 32 }, "heads*head dim"},
		{"negative window", llama, func(s *Spec) { s.SlidingWindow = -1 }, "sliding window"},
		{"gemma2 without window", gemma, func(s *Spec) { s.SlidingWindow = 0 }, "needs a sliding window"},
		{"zero rope", llama, func(s *Spec) { s.RopeTheta = 0 }, "rope theta must be positive"},
		{"nan eps", llama, func(s *Spec) { s.NormEps = float32(math.NaN()) }, "norm eps"},
		{"negative softcap", gemma, func(s *Spec) { s.AttnSoftcap = -1 }, "attn softcap"},
		{"gemma2 without softcap", gemma, func(s *Spec) { s.FinalSoftcap = 0 }, "soft-caps"},
		{"softcap on llama", llama, func(s *Spec) { s.AttnSoftcap = 50 }, "gemma2's"},
		{"special outside vocab", llama, func(s *Spec) { s.Special = append(s.Special, SpecialToken{600, "<x>"}) }, "outside the vocabulary"},
		{"special without text", llama, func(s *Spec) { s.Special = append(s.Special, SpecialToken{400, ""}) }, "no text"},
		{"special byte token", llama, func(s *Spec) { s.Special = append(s.Special, SpecialToken{400, "<0x41>"}) }, "byte token"},
		{"special id twice", llama, func(s *Spec) { s.Special = append(s.Special, SpecialToken{1, "<x>"}) }, "id 1 given twice"},
		{"special text twice", llama, func(s *Spec) { s.Special = append(s.Special, SpecialToken{400, "<s>"}) }, `"<s>" given twice`},
		{"eos not special", llama, func(s *Spec) { s.EOS = 300 }, "eos id 300"},
		{"add bos without bos", llama, func(s *Spec) { s.BOS = -1 }, "without a bos"},
		{"no room for bytes", llama, func(s *Spec) { s.Vocab = 258 }, "no room for the 256 byte tokens"},
		{"specials crowd out bytes", gemma, func(s *Spec) { s.Vocab = 360 }, "no room"},
		{"special outside small vocab", gemma, func(s *Spec) { s.Vocab = 100 }, "outside the vocabulary"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.base
			s.Special = append([]SpecialToken(nil), s.Special...)
			c.change(&s)
			err := s.Validate()
			require.Error(t, err)
			assert.ErrorContains(t, err, c.want)
			assert.ErrorContains(t, err, s.ID, "the error names the spec")
		})
	}
	assert.Nil(t, Spec{Arch: "mamba"}.Tensors())
}

func TestVocabulary(t *testing.T) {
	for _, c := range []struct {
		id       string
		byteBase int
	}{
		{"tiny-llama", 3},    // after <unk> <s> </s>, as in Llama's vocabulary
		{"tiny-phi3", 3},     // the added tokens sit at the end
		{"tiny-gemma2", 108}, // specials fill 0..107
	} {
		t.Run(c.id, func(t *testing.T) {
			s, _ := TinySpec(c.id)
			base, err := s.byteBase()
			require.NoError(t, err)
			assert.Equal(t, c.byteBase, base)
			v, err := s.vocabulary()
			require.NoError(t, err)
			require.Len(t, v.tokens, s.Vocab)
			require.Len(t, v.scores, s.Vocab)
			require.Len(t, v.types, s.Vocab)
			assertDistinct(t, v.tokens)
			assert.Equal(t, "<0x00>", v.tokens[base])
			assert.Equal(t, "<0x0A>", v.tokens[base+10])
			assert.Equal(t, "<0xFF>", v.tokens[base+255])
			for _, want := range []string{"▁", "a", "z", "A", "0", "9", "?", "▁a"} {
				assert.Contains(t, v.tokens, want, "ASCII text tokenizes without the byte fallback")
			}
			for id, typ := range v.types {
				switch typ {
				case tokenNormal:
					assert.Negative(t, v.scores[id])
				case tokenControl, tokenUnknown, tokenByte:
					assert.Zero(t, v.scores[id])
				default:
					t.Fatalf("token %d has type %d", id, typ)
				}
			}
		})
	}
}

func TestFillerPieces(t *testing.T) {
	var got []string
	for p := range fillerPieces() {
		got = append(got, p)
		if len(got) == 1+2*94+4 {
			break
		}
	}
	assert.Equal(t, []string{"▁", "!", "\""}, got[:3])
	assert.Equal(t, "▁~", got[2*94])
	assert.Equal(t, []string{"▁aa", "aa", "▁ab", "ab"}, got[1+2*94:])
	assertDistinct(t, got)
}
