// Package llama is the project's binding to llama.cpp: backends and devices, model loading,
// sessions that own a KV cache, generation with a per-token callback, chat templates and
// quantization. It is the only package of the module that talks to llama.cpp.
//
// llama.cpp and ggml are compiled from the Go module github.com/ollama/ollama (pinned in
// go.mod). The binding compiles against llamacpp.h, the project's own declarations of the part
// of their C API it uses, so that plain `go build` works with no CGO_* variables; a test checks
// them against the pinned module's headers (see third_party/README.md).
//
// Every file is validated by package gguf before it reaches llama.cpp, so that a malformed
// file is reported as ErrInvalidModel instead of reaching an assertion inside C.
package llama

// The linker wraps three ggml functions for every program that imports this package (see
// helpers.c): ggml_backend_free and ggml_backend_sched_free change behaviour only inside the
// binding's own calls that make or free a context, and ggml_backend_buffer_free only for a
// buffer the real function would leak; other code of the program sees them as they are.

// #cgo CXXFLAGS: -std=c++17
// #cgo LDFLAGS: -Wl,--wrap=ggml_backend_free -Wl,--wrap=ggml_backend_sched_free -Wl,--wrap=ggml_backend_buffer_free
// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	// llama.cpp's core and ggml's base and CPU backend, compiled by cgo from the pinned module.
	_ "github.com/ollama/ollama/llama/llama.cpp/src"
	_ "github.com/ollama/ollama/ml/backend/ggml/ggml/src"
)
