package gguf_test

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
)

func TestValidateMalformed(t *testing.T) {
	dir := t.TempDir()
	_, err := gguf.Validate(ggufttest.Valid(t, dir))
	require.NoError(t, err, "the base of the malformed files is valid")

	cases := ggufttest.Malformed(t, dir)
	assert.GreaterOrEqual(t, len(cases), 15)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			f, err := gguf.Validate(c.Path)
			require.Error(t, err)
			assert.Nil(t, f)
			assert.ErrorIs(t, err, c.WantErr)
			assert.Contains(t, err.Error(), c.Path, "the error names the file")
			assert.Contains(t, strings.ReplaceAll(err.Error(), c.Path, ""), c.Reason, "the error names the problem")
			var fe *gguf.FormatError
			assert.Equal(t, errors.Is(c.WantErr, gguf.ErrInvalid), errors.As(err, &fe),
				"malformed files, and only they, give a FormatError")
		})
	}
	if os.Geteuid() == 0 {
		t.Run("unreadable file", func(t *testing.T) {
			t.Skip("running as root, which reads a file without read permission")
		})
	}
}

// TestValidateBoundedAllocation feeds headers whose counts and lengths claim 2^60 of something
// in a small file: the parser must refuse them before allocating for them.
func TestValidateBoundedAllocation(t *testing.T) {
	for _, c := range ggufttest.Malformed(t, t.TempDir()) {
		if c.Name != "absurd tensor count" && c.Name != "absurd kv count" &&
			c.Name != "absurd string length" && c.Name != "absurd array length" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			b, err := os.ReadFile(c.Path)
			require.NoError(t, err)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = gguf.ValidateReader(bytes.NewReader(b), int64(len(b)))
			runtime.ReadMemStats(&after)
			require.ErrorIs(t, err, gguf.ErrInvalid)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20))
		})
	}
}
