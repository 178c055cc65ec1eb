package metrics

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileName(t *testing.T) {
	assert.Equal(t, "gemma-2-2b-it.Q4_K_M", FileName("gemma-2-2b-it.Q4_K_M"))
	assert.Equal(t, "a_b", FileName("a/b"))
	assert.Equal(t, "model", FileName(".."))
}

func TestWriteFileAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "x.json")
	require.NoError(t, WriteFileAtomic(p, []byte("one")))
	require.NoError(t, WriteFileAtomic(p, []byte("two")))
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "two", string(data))
	require.Error(t, SaveJSON(p, math.NaN()))
	data, _ = os.ReadFile(p)
	assert.Equal(t, "two", string(data), "a failed save leaves the old file")
	entries, err := os.ReadDir(filepath.Dir(p))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left")
}
