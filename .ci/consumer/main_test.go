package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/llama"
	"github.com/local-llm-bench/llmbench/models"
)

func TestGeneratesFromASyntheticModel(t *testing.T) {
	spec, ok := gguf.TinySpec("tiny-llama")
	if !ok {
		t.Fatal("no tiny-llama spec")
	}
	path := filepath.Join(t.TempDir(), "tiny-llama.gguf")
	if err := gguf.Write(path, spec, gguf.WriteOptions{Seed: 1, Type: gguf.TypeF16}); err != nil {
		t.Fatal(err)
	}
	var pieces int
	res, err := generate(context.Background(), path, "Hello", 4, func(string) { pieces++ })
	if err != nil {
		t.Fatal(err)
	}
	if res.Tokens != 4 || pieces != 4 || res.Stop != llama.StopMaxTokens {
		t.Fatalf("generated %d tokens (%d pieces), stopped for %q; want 4, %q", res.Tokens, pieces, res.Stop, llama.StopMaxTokens)
	}
}

func TestGeneratesFromTheDefaultModel(t *testing.T) {
	path := models.DefaultModelPath()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("the default model is not there (%v); make models fetches it", err)
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"-model", path, "-n", "8"}, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	text, summary, _ := strings.Cut(out.String(), "\n8 tokens, ")
	if strings.TrimSpace(text) == "" || summary == "" {
		t.Fatalf("want 8 tokens of text and a summary, got %q", out.String())
	}
	t.Logf("%s", out.String())
}
