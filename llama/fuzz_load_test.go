package llama_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
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

// withKV returns a copy of a valid file with the 4-byte value of key (a u32 or an f32)
// replaced by bits.
func withKV(t testing.TB, file []byte, key string, bits uint32) []byte {
	t.Helper()
	f, err := gguf.ValidateReader(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	for _, kv := range f.KV {
		if kv.Key == key {
			require.Contains(t, []gguf.ValueType{gguf.ValueUint32, gguf.ValueFloat32}, kv.Value.Type(), key)
			out := append([]byte(nil), file...)
			binary.LittleEndian.PutUint32(out[kv.Offset+8+int64(len(key))+4:], bits)
			return out
		}
	}
	t.Fatalf("no key %s", key)
	return nil
}

// abortingFile is a well-formed model that made the pinned llama.cpp abort the process, at
// load or at the first decode, until gguf.Validate learnt to reject it.
type abortingFile struct {
	name   string
	data   []byte
	reason string // in the error
}

func abortingFiles(t testing.TB, dir string) []abortingFile {
	t.Helper()
	valid, err := os.ReadFile(ggufttest.Valid(t, dir))
	require.NoError(t, err)
	// llama.cpp reads a token up to a NUL byte: "<0x23>" with its "0" zeroed is "<", another
	// token, as the fuzzer found.
	nul := bytes.Clone(valid)
	i := bytes.Index(nul, []byte("\x06\x00\x00\x00\x00\x00\x00\x00<0x23>"))
	require.Positive(t, i)
	nul[i+8+len("<")] = 0
	// Without "<0x7A>" (nor "z"), tokenizing a "z" throws in llama.cpp, as the fuzzer found.
	noByte := bytes.Clone(valid)
	i = bytes.Index(noByte, []byte("<0x7A>"))
	require.Positive(t, i)
	copy(noByte[i:], "<0x7a>")
	return []abortingFile{
		{"token with a NUL byte", nul, "duplicates token"},
		{"no token for a byte", noByte, "no token <0x7A>"},
		{"alignment 16", withKV(t, valid, "general.alignment", 16), "alignment 16 is below 32"},
		{"no blocks", withKV(t, valid, "llama.block_count", 0), "0 blocks"},
		{"NaN epsilon", withKV(t, valid, "llama.attention.layer_norm_rms_epsilon", math.Float32bits(float32(math.NaN()))), "epsilon NaN"},
		{"negative epsilon", withKV(t, valid, "llama.attention.layer_norm_rms_epsilon", math.Float32bits(-1e-5)), "epsilon -1e-05"},
		{"gemma2 of one block", writeSpec(t, dir, microSpec(t, "tiny-gemma2", 1)), "1 blocks"},
	}
}

func TestFilesThatAbortLlamaCppAreInvalid(t *testing.T) {
	for _, c := range abortingFiles(t, t.TempDir()) {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "aborting.gguf")
			require.NoError(t, os.WriteFile(path, c.data, 0o644))
			_, err := llama.Load(path)
			require.ErrorIs(t, err, llama.ErrInvalidModel)
			assert.Contains(t, err.Error(), c.reason)
		})
	}
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
// architecture, the malformed variants of ggufttest and the files that made llama.cpp abort.
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
	for _, c := range abortingFiles(f, dir) {
		f.Add(c.data)
	}

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
		_, _ = s.Generate(context.Background(), "fuzz", llama.GenerateOptions{MaxTokens: 2}, nil)
	})
}
