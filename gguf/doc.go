// Package gguf reads, checks and writes GGUF files in pure Go.
//
// Validate parses a file's header and checks it against the format and against what the pinned
// llama.cpp trusts, so that a malformed file is rejected with an error naming the problem
// before it reaches C, where it could crash the process. Write makes synthetic models: GGUF
// files with the architecture, shapes, vocabulary size and special tokens of a real model
// (ReferenceSpecs) and random weights, which llama.cpp loads, quantizes and runs at the real
// model's speed. TinySpecs gives small ones for tests.
package gguf
