// Package twin writes synthetic twins of models: GGUF files with a model's exact architecture,
// shapes, vocabulary and special tokens and random weights, quantized by llama.cpp's own
// quantizer, on which speed and memory are measured like the real model's. It needs cgo
// (package llama); the catalog in package models does not.
package twin

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/llama"
)

// Write writes the synthetic twin of spec to path: random F16 weights of the spec's
// shapes, quantized to ftype with llama.cpp's own quantizer (FileTypeF16 keeps the F16 file).
// The F16 intermediate, 5 to 15 GB for the reference models, is written next to path and
// removed afterwards, also on failure. progress, when set, sees the F16 bytes written.
func Write(spec gguf.Spec, path string, ftype llama.FileType, seed int64, progress func(written, total int64)) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("twin %s: %w", spec.ID, err)
	}
	f16 := path
	if ftype != llama.FileTypeF16 {
		f16 = filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".f16.tmp")
		defer os.Remove(f16)
	}
	if err := gguf.Write(f16, spec, gguf.WriteOptions{Seed: seed, Type: gguf.TypeF16, Progress: progress}); err != nil {
		return fmt.Errorf("twin %s: %w", spec.ID, err)
	}
	if ftype == llama.FileTypeF16 {
		return nil
	}
	if err := llama.Quantize(f16, path, ftype); err != nil {
		return fmt.Errorf("twin %s: %w", spec.ID, err)
	}
	return nil
}
