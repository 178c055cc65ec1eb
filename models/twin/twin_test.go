package twin

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/llama"
)

func TestWriteQuantizesAndRemovesTheF16File(t *testing.T) {
	spec, ok := gguf.TinySpec("tiny-llama")
	require.True(t, ok)
	dir := t.TempDir()
	path := filepath.Join(dir, "twin.Q4_K_M.gguf")
	var last int64
	require.NoError(t, Write(spec, path, llama.FileTypeQ4_K_M, 1, func(done, total int64) { last = total }))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the quantized file is left")
	m, err := llama.Load(path)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, llama.FileTypeQ4_K_M, m.Info().FileType)
	assert.Positive(t, last)

	f16 := filepath.Join(dir, "twin.F16.gguf")
	require.NoError(t, Write(spec, f16, llama.FileTypeF16, 1, nil))
	_, err = gguf.Validate(f16)
	require.NoError(t, err)

	bad := spec
	bad.Layers = 0
	require.Error(t, Write(bad, filepath.Join(dir, "bad.gguf"), llama.FileTypeQ4_K_M, 1, nil))
	_, err = os.Stat(filepath.Join(dir, ".bad.gguf.f16.tmp"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
