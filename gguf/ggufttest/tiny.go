package ggufttest

import (
	"path/filepath"
	"testing"

	"github.com/local-llm-bench/llmbench/gguf"
)

// Tiny writes the tiny synthetic model of the given spec id (gguf.TinySpecs: two layers of
// each architecture) to dir as <id>.gguf, F16 from seed 1, and returns its path.
func Tiny(t testing.TB, dir, id string) string {
	t.Helper()
	spec, ok := gguf.TinySpec(id)
	if !ok {
		t.Fatalf("ggufttest: no tiny spec %q", id)
	}
	path := filepath.Join(dir, id+".gguf")
	if err := gguf.Write(path, spec, gguf.WriteOptions{Seed: 1, Type: gguf.TypeF16}); err != nil {
		t.Fatalf("ggufttest: %v", err)
	}
	return path
}
