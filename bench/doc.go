// Package bench measures local models the way a person choosing one needs: load time, time to
// first token, prompt and generation tokens/s at the token callback beside llama.cpp's own
// figures, inter-token latency percentiles, end-to-end latency per prompt, and, where a GPU
// monitor is given, peak process VRAM, energy per token and the share of the memory-bandwidth
// roofline, and always the process's peak resident memory. Repetitions aggregate to mean,
// standard deviation, min, max and percentiles, and every result carries the metadata needed to
// reproduce it. RunFit answers "will it fit my GPU?": it plans a model for each VRAM budget and
// KV cache type, finds the largest context each placement holds and, on a GPU, loads and
// measures each plan with the rest of the GPU held unused.
//
// The runner talks to models through small interfaces (Loader, Model, Session) that the llama
// package satisfies, so its logic is tested without cgo or a GPU. What it measures is made of
// the values of package metrics (Spec, Result, Stat, TokenTimer), which need no cgo, so that
// the report and the tools that read saved results build without it.
package bench
