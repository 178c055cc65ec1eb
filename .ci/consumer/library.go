package main

// The library's other packages, imported so that they are built here too: with no CGO_*
// variables, like the binding above them, including nvml's cgo.
import (
	_ "github.com/local-llm-bench/llmbench/bench"
	_ "github.com/local-llm-bench/llmbench/bench/report"
	_ "github.com/local-llm-bench/llmbench/eval"
	_ "github.com/local-llm-bench/llmbench/gguf"
	_ "github.com/local-llm-bench/llmbench/nvml"
)
