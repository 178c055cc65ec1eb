package gguf_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/local-llm-bench/llmbench/gguf"
)

// Write a tiny synthetic model and read its header back.
func ExampleWrite() {
	dir, err := os.MkdirTemp("", "gguf-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	spec, _ := gguf.TinySpec("tiny-gemma2")
	path := filepath.Join(dir, spec.ID+".gguf")
	if err := gguf.Write(path, spec, gguf.WriteOptions{Seed: 1, Type: gguf.TypeF16}); err != nil {
		log.Fatal(err)
	}

	f, err := gguf.Validate(path)
	if err != nil {
		log.Fatal(err)
	}
	layers, _ := f.Lookup("gemma2.block_count")
	n, _ := layers.AsUint()
	fmt.Println(f.Architecture(), n, "layers,", len(f.Tensors), "tensors")
	// Output: gemma2 2 layers, 24 tensors
}

// Check a file before handing it to llama.cpp.
func ExampleValidate() {
	_, err := gguf.Validate("testdata/does-not-exist.gguf")
	fmt.Println(err)
	// Output: validate testdata/does-not-exist.gguf: open testdata/does-not-exist.gguf: no such file or directory
}

// Size the Q4_K_M twins of the reference models without writing them.
func ExampleEstimateQuantizedSize() {
	for _, spec := range gguf.ReferenceSpecs() {
		size, err := gguf.EstimateQuantizedSize(spec, "Q4_K_M")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %.2f GB\n", spec.ID, float64(size)/1e9)
	}
	// Output:
	// gemma-2-2b-it: 1.71 GB
	// phi-3-mini-4k-instruct: 2.39 GB
	// mistral-7b-instruct-v0.2: 4.37 GB
}
