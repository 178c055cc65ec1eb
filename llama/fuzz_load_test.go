package llama_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
	"github.com/local-llm-bench/llmbench/llama"
)

// microSpec shrinks a tiny spec to the given blocks of width 32, 100 to 150 KB as F16: small
// enough to mutate quickly, with its architecture's tensors, vocabulary and special tokens.
// gemma2 keeps its 128-wide heads (see gguf.TinySpecs); phi3's heads span the width.
func microSpec(t testing.TB, id string, layers int) gguf.Spec {
	t.Helper()
	s, ok := gguf.TinySpec(id)
	require.True(t, ok, id)
	s.ID = fmt.Sprintf("micro-%s-%d", s.Arch, layers)
	s.Layers, s.Embd, s.FF, s.Context = layers, 32, 64, 128
	if s.Arch == "phi3" {
		s.HeadDim = s.Embd / s.Heads
	}
	if s.SlidingWindow > 0 {
		s.SlidingWindow = 64
	}
	return s
}

// writeSpec writes spec to dir and returns the file's bytes.
func writeSpec(t testing.TB, dir string, spec gguf.Spec) []byte {
	t.Helper()
	path := filepath.Join(dir, spec.ID+".gguf")
	require.NoError(t, gguf.Write(path, spec, gguf.WriteOptions{Seed: 1, Type: gguf.TypeF16}))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// A gemma2 of one block loads, and its first decode trips an assertion in llama.cpp: its only
// layer uses the sliding window, and the cache for full attention is missing. The other files
// that made llama.cpp abort are among ggufttest.Malformed.
func TestGemma2OfOneBlockIsInvalid(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "aborting.gguf")
	require.NoError(t, os.WriteFile(path, writeSpec(t, dir, microSpec(t, "tiny-gemma2", 1)), 0o644))
	_, err := llama.Load(path)
	require.ErrorIs(t, err, llama.ErrInvalidModel)
	assert.Contains(t, err.Error(), "1 blocks")
}

// everyByte is a text with each byte value once, for a tokenizer to fall back on byte tokens.
var everyByte = func() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}()

// FuzzLoad feeds arbitrary files to Load. Whatever the bytes, the process survives (an abort
// inside llama.cpp ends the fuzzer, which reports the input), a failed load says the model is
// invalid or too big, and a model that loads renders every token of its vocabulary, tokenizes
// every byte and generates two tokens or says why not. The seeds are small valid models of each
// architecture and the malformed variants of ggufttest, among them the files that made
// llama.cpp abort.
// testdata/fuzz/FuzzLoad holds the three crashes the fuzzer found, each remade by hand from
// 68 KB to a small file: nul-duplicate-token, a header whose tokens differ only after a NUL
// byte; missing-byte-token, a 17 KB model without the byte token for "z", which the prompt
// "fuzz" needs; misaligned-data, one whose general.alignment of 16 puts its weights off
// ggml's 32-byte alignment.
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	valid, err := os.ReadFile(ggufttest.Valid(f, dir))
	require.NoError(f, err)
	f.Add(valid)
	f.Add(writeSpec(f, dir, microSpec(f, "tiny-gemma2", 2)))
	f.Add(writeSpec(f, dir, microSpec(f, "tiny-phi3", 1)))
	for _, c := range ggufttest.Malformed(f, dir) {
		if b, err := os.ReadFile(c.Path); err == nil {
			f.Add(b)
		}
	}
	f.Add(writeSpec(f, dir, microSpec(f, "tiny-gemma2", 1)))

	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.gguf")
		require.NoError(t, os.WriteFile(path, b, 0o644))
		m, err := llama.Load(path)
		if err != nil {
			require.Nil(t, m)
			if !errors.Is(err, llama.ErrInvalidModel) && !errors.Is(err, llama.ErrOutOfMemory) {
				t.Fatalf("load failed with neither ErrInvalidModel nor ErrOutOfMemory: %v", err)
			}
			return
		}
		defer m.Close()
		for id := range int32(m.Info().VocabSize) {
			_, err := m.TokenText(id)
			require.NoError(t, err)
		}
		_, err = m.Tokenize(everyByte, true, true)
		require.NoError(t, err)
		s, err := m.NewSession(llama.WithContextSize(64))
		if err != nil {
			return
		}
		defer s.Close()
		_, _ = s.Generate(context.Background(), llama.Text("fuzz"), llama.GenerateOptions{MaxTokens: 2}, nil)
	})
}
