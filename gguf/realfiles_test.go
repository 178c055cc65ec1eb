package gguf_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/models"
)

// TestValidateRealFiles checks the real GGUF files on this machine: the catalog models found in
// the model folder (`make models`, which `make test` runs, fetches the default one there) and
// any named in GGUF_TEST_FILES (a list separated by the OS path separator). The validator must
// accept what llama.cpp's own tools wrote, and read where each tensor lies.
func TestValidateRealFiles(t *testing.T) {
	dir := models.ModelsDir()
	var paths []string
	for _, m := range models.List() {
		p := filepath.Join(dir, m.File)
		if _, err := os.Stat(p); err == nil {
			paths = append(paths, p)
		}
	}
	if list := os.Getenv("GGUF_TEST_FILES"); list != "" {
		paths = append(paths, filepath.SplitList(list)...)
	}
	if len(paths) == 0 {
		t.Skipf("no catalog model in %s and GGUF_TEST_FILES is not set: no real GGUF file to check (`make models` fetches the default model)", dir)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := gguf.Validate(path)
			require.NoError(t, err)
			assert.NotEmpty(t, f.Architecture())
			require.NotEmpty(t, f.Tensors)
			st, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, st.Size(), f.Size)
			// llama.cpp's writer pads each tensor's data to the alignment, so the last tensor ends
			// the file, up to that padding.
			var end int64
			for _, tn := range f.Tensors {
				end = max(end, f.DataOffset+tn.Offset+tn.Bytes())
			}
			assert.LessOrEqual(t, end, f.Size)
			assert.Greater(t, end, f.Size-f.Alignment, "the tensors end %d bytes before the file", f.Size-end)
		})
	}
}
