package llama_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
	"github.com/local-llm-bench/llmbench/llama"
)

// Every malformed file gives an error through the library, and none ends the process: the
// files that would make llama.cpp abort or read out of bounds (UnsafeForLlama) are among them.
func TestMalformedFilesAreRejectedBeforeLlamaCpp(t *testing.T) {
	for _, c := range ggufttest.Malformed(t, t.TempDir()) {
		t.Run(c.Name, func(t *testing.T) {
			m, err := llama.Load(c.Path)
			require.Error(t, err)
			assert.Nil(t, m)
			if errors.Is(c.WantErr, gguf.ErrInvalid) {
				assert.ErrorIs(t, err, llama.ErrInvalidModel)
			} else {
				assert.ErrorIs(t, err, c.WantErr)
				assert.NotErrorIs(t, err, llama.ErrInvalidModel)
			}
			assert.Contains(t, err.Error(), c.Reason)
		})
	}
}

// Files that are well-formed GGUF but not a model llama.cpp can build are caught by llama.cpp
// itself, and come back as ErrInvalidModel with its reason.
func TestWellFormedButWrongModelsAreInvalid(t *testing.T) {
	valid := ggufttest.Valid(t, t.TempDir())
	data, err := os.ReadFile(valid)
	require.NoError(t, err)
	f, err := gguf.Validate(valid)
	require.NoError(t, err)
	// patch returns a copy of the file with old replaced by new (same length) in the header.
	patch := func(t *testing.T, pairs ...[2]string) string {
		out := bytes.Clone(data)
		for _, p := range pairs {
			require.Len(t, p[1], len(p[0]))
			i := bytes.Index(out[:f.DataOffset], []byte(p[0]))
			require.GreaterOrEqual(t, i, 0, "%q not in the header", p[0])
			copy(out[i:], p[1])
		}
		path := filepath.Join(t.TempDir(), "patched.gguf")
		require.NoError(t, os.WriteFile(path, out, 0o644))
		_, err := gguf.Validate(path)
		require.NoError(t, err, "the patched file is still well-formed")
		return path
	}
	tests := []struct {
		name   string
		pairs  [][2]string
		reason string
	}{
		{"unknown architecture", [][2]string{{"\x05\x00\x00\x00\x00\x00\x00\x00llama", "\x05\x00\x00\x00\x00\x00\x00\x00xxxxx"}}, "architecture"},
		{"missing tensor", [][2]string{{"output_norm.weight", "output_norX.weight"}}, "output_norm.weight"},
		{"tensors of the wrong shape", [][2]string{{"blk.0.attn_q.weight", "blk.0.tmp_xx.weight"}, {"blk.0.attn_k.weight", "blk.0.attn_q.weight"}, {"blk.0.tmp_xx.weight", "blk.0.attn_k.weight"}}, "shape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := llama.Load(patch(t, tt.pairs...))
			require.ErrorIs(t, err, llama.ErrInvalidModel)
			assert.Contains(t, err.Error(), tt.reason)
		})
	}
	// And the unpatched file loads.
	m, err := llama.Load(valid)
	require.NoError(t, err)
	require.NoError(t, m.Close())
}
