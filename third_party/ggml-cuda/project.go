// Package ggmlcuda carries the CMake project in this folder, which builds ggml's CUDA backend
// from the sources of the pinned github.com/ollama/ollama module. Embedding it lets
// third_party/cudabuild run it wherever the command runs, also as a binary carried to a
// machine without Go.
package ggmlcuda

import _ "embed"

// CMakeLists is the project's CMakeLists.txt.
//
//go:embed CMakeLists.txt
var CMakeLists []byte
