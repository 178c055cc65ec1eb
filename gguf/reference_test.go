package gguf

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReferenceSpecs(t *testing.T) {
	// The shapes table of ARCHITECTURE.md.
	want := []struct {
		id, arch                                         string
		layers, embd, heads, kv, headDim, ff, vocab, ctx int
		window                                           int
		rope                                             float32
	}{
		{"gemma-2-2b-it", "gemma2", 26, 2304, 8, 4, 256, 9216, 256000, 8192, 4096, 10000},
		{"phi-3-mini-4k-instruct", "phi3", 32, 3072, 32, 32, 96, 8192, 32064, 4096, 2047, 10000},
		{"mistral-7b-instruct-v0.2", "llama", 32, 4096, 32, 8, 128, 14336, 32000, 32768, 0, 1e6},
	}
	specs := ReferenceSpecs()
	require.Len(t, specs, len(want))
	for i, w := range want {
		t.Run(w.id, func(t *testing.T) {
			s, ok := ReferenceSpec(w.id)
			require.True(t, ok)
			assert.Equal(t, specs[i], s)
			require.NoError(t, s.Validate())
			got := []int{s.Layers, s.Embd, s.Heads, s.KVHeads, s.HeadDim, s.FF, s.Vocab, s.Context, s.SlidingWindow}
			assert.Equal(t, []int{w.layers, w.embd, w.heads, w.kv, w.headDim, w.ff, w.vocab, w.ctx, w.window}, got)
			assert.Equal(t, w.arch, s.Arch)
			assert.Equal(t, w.rope, s.RopeTheta)
		})
	}
	_, ok := ReferenceSpec("llama-2-7b")
	assert.False(t, ok)
}

func TestReferenceSpecialTokens(t *testing.T) {
	for _, c := range []struct {
		id                      string
		tokens                  map[int]string
		bos, eos, eot, unk, pad int
	}{
		{"gemma-2-2b-it", map[int]string{0: "<pad>", 1: "<eos>", 2: "<bos>", 3: "<unk>", 4: "<mask>", 106: "<start_of_turn>", 107: "<end_of_turn>"},
			2, 1, 107, 3, 0},
		{"phi-3-mini-4k-instruct", map[int]string{0: "<unk>", 1: "<s>", 2: "</s>", 32000: "<|endoftext|>", 32001: "<|assistant|>",
			32002: "<|placeholder1|>", 32005: "<|placeholder4|>", 32006: "<|system|>", 32007: "<|end|>",
			32008: "<|placeholder5|>", 32009: "<|placeholder6|>", 32010: "<|user|>"},
			1, 32000, 32007, 0, 32000},
		{"mistral-7b-instruct-v0.2", map[int]string{0: "<unk>", 1: "<s>", 2: "</s>"}, 1, 2, -1, 0, -1},
	} {
		t.Run(c.id, func(t *testing.T) {
			s, _ := ReferenceSpec(c.id)
			v, err := s.vocabulary()
			require.NoError(t, err)
			for id, text := range c.tokens {
				assert.Equal(t, text, v.tokens[id], "id %d", id)
				assert.Contains(t, []int32{tokenControl, tokenUnknown}, v.types[id], text)
			}
			assert.Equal(t, []int{c.bos, c.eos, c.eot, c.unk, c.pad}, []int{s.BOS, s.EOS, s.EOT, s.UNK, s.PAD})
			assert.True(t, s.AddBOS)
			assertDistinct(t, v.tokens)
			if strings.Contains(strings.ToLower(s.Name), "phi3") {
				// llama-vocab.cpp looks these up with .at() when general.name says Phi-3.
				for _, tok := range []string{"</s>", "<unk>", "<s>", "<|endoftext|>"} {
					assert.Contains(t, v.tokens, tok)
				}
			}
			if s.Arch == "llama" {
				assert.NotContains(t, v.tokens, "[INST]", "v0.2 has no [INST] control token")
			}
		})
	}
}

// detectTemplate follows llm_chat_detect_template in llama-chat.cpp as far as the three
// reference families go.
func detectTemplate(tmpl string) string {
	has := func(s string) bool { return strings.Contains(tmpl, s) }
	switch {
	case has("<|im_start|>"):
		return "chatml"
	case strings.HasPrefix(tmpl, "mistral") || has("[INST]"):
		switch {
		case has("[SYSTEM_PROMPT]"):
			return "mistral-v7"
		case has("' [INST] ' + system_message") || has("[AVAILABLE_TOOLS]"):
			return "mistral-v1/v3"
		case has("content.strip()"), has("bos_token + '[INST]"), has("<<SYS>>"):
			return "llama2-variant"
		}
		return "llama2"
	case has("<|assistant|>") && has("<|end|>"):
		return "phi3"
	case has("[gMASK]<sop>"), has("<|assistant|>") && has("<|user|>"), has("<|user|>") && has("<|endoftext|>"),
		has("bos_token + message['role']"):
		return "other"
	case has("<start_of_turn>"):
		return "gemma"
	}
	return "unknown"
}

func TestChatTemplatesDetected(t *testing.T) {
	for _, s := range append(ReferenceSpecs(), TinySpecs()...) {
		want := map[string]string{"gemma2": "gemma", "phi3": "phi3", "llama": "llama2"}[s.Arch]
		assert.Equal(t, want, detectTemplate(s.ChatTemplate), s.ID)
	}
}

func TestReferenceFileSizes(t *testing.T) {
	s, _ := ReferenceSpec("mistral-7b-instruct-v0.2")
	f16, err := s.FileSize(WriteOptions{Type: TypeF16})
	require.NoError(t, err)
	assert.InDelta(t, 14.5e9, float64(f16), 0.05e9, "a 7B model is 14.5 GB as F16")
	f32, err := s.FileSize(WriteOptions{})
	require.NoError(t, err)
	assert.Greater(t, f32, 2*f16-int64(1e8))
}

func TestTinySpecs(t *testing.T) {
	for _, s := range TinySpecs() {
		t.Run(s.ID, func(t *testing.T) {
			require.NoError(t, s.Validate())
			got, ok := TinySpec(s.ID)
			require.True(t, ok)
			assert.Equal(t, s, got)
			for _, ti := range s.Tensors() {
				if len(ti.Dims) == 2 {
					assert.Zero(t, ti.Dims[0]%256, "%s is K-quant compatible", ti.Name)
				}
			}
			ref := map[string]string{"llama": "mistral-7b-instruct-v0.2", "gemma2": "gemma-2-2b-it", "phi3": "phi-3-mini-4k-instruct"}[s.Arch]
			r, _ := ReferenceSpec(ref)
			assert.Equal(t, r.ChatTemplate, s.ChatTemplate)
			assert.Equal(t, r.AddSpacePrefix, s.AddSpacePrefix)
		})
	}
	_, ok := TinySpec("tiny-mamba")
	assert.False(t, ok)
}

func assertDistinct(t *testing.T, tokens []string) {
	t.Helper()
	seen := make(map[string]int, len(tokens))
	for i, tok := range tokens {
		if j, dup := seen[tok]; dup {
			t.Fatalf("token %d %q duplicates token %d", i, tok, j)
		}
		seen[tok] = i
	}
}
