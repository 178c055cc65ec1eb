package llama

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// FlashAttention says whether llama.cpp uses flash attention.
type FlashAttention int

// Flash attention settings, as llama.cpp's llama_flash_attn_type.
const (
	FlashAuto FlashAttention = -1
	FlashOff  FlashAttention = 0
	FlashOn   FlashAttention = 1
)

// String returns "auto", "on" or "off".
func (f FlashAttention) String() string {
	switch f {
	case FlashOn:
		return "on"
	case FlashOff:
		return "off"
	default:
		return "auto"
	}
}

// KVCacheType is the element type of the KV cache.
type KVCacheType string

// KV cache types. The quantized ones need flash attention for the V cache.
const (
	KVF16  KVCacheType = "f16"
	KVQ8_0 KVCacheType = "q8_0"
	KVQ4_0 KVCacheType = "q4_0"
)

// DefaultContextSize is the context a Session gets unless asked otherwise, capped by the
// model's training context.
const DefaultContextSize = 4096

type sessionConfig struct {
	contextSize int
	batchSize   int
	ubatchSize  int
	threads     int
	flash       FlashAttention
	kvType      KVCacheType
	noOffload   bool
	sequences   int
	kvUnified   bool
	kvOnHost    bool
}

func defaultSessionConfig() sessionConfig {
	return sessionConfig{batchSize: 2048, ubatchSize: 512, threads: DefaultThreads(), flash: FlashAuto, kvType: KVF16, sequences: 1}
}

func (c sessionConfig) validate() error {
	switch {
	case c.contextSize < 0:
		return fmt.Errorf("context size %d is negative", c.contextSize)
	case c.batchSize <= 0 || c.ubatchSize <= 0:
		return fmt.Errorf("batch %d and ubatch %d must be positive", c.batchSize, c.ubatchSize)
	case c.threads <= 0:
		return fmt.Errorf("threads %d must be positive", c.threads)
	case c.sequences < 1 || c.sequences > maxSequences:
		return fmt.Errorf("sequences %d out of range [1, %d]", c.sequences, maxSequences)
	}
	switch c.kvType {
	case KVF16, KVQ8_0, KVQ4_0:
	default:
		return fmt.Errorf("unknown KV cache type %q (f16, q8_0, q4_0)", c.kvType)
	}
	if c.kvType != KVF16 && c.flash == FlashOff {
		return fmt.Errorf("a %s KV cache needs flash attention", c.kvType)
	}
	return nil
}

// contextTokens is the context asked for: the size given, or DefaultContextSize capped by the
// model's training context.
func (c sessionConfig) contextTokens(trainContext int) int {
	if c.contextSize > 0 {
		return c.contextSize
	}
	if trainContext > 0 {
		return min(DefaultContextSize, trainContext)
	}
	return DefaultContextSize
}

// ThreadsEnv names the environment variable that sets DefaultThreads: a positive number of
// threads.
const ThreadsEnv = "LLMBENCH_THREADS"

// DefaultThreads is the number of CPU threads a Session uses unless told otherwise: $ThreadsEnv
// where it holds a positive number, else the cores this process may use. ggml's own default of
// 4 made decoding hundreds of times slower on a 2-core machine, where threads wait for each
// other.
//
// ggml's threads wait for each other by spinning, so they are only fast while each has a core
// to itself. On a machine where other processes keep the cores busy, fewer threads are faster:
// on this project's 2-core machine beside `stress -c 2` and a test run (load average 5 to 6),
// 32 tokens of the default model took 44 to 109 s on 2 threads and 1.3 to 3.1 s on one. An
// application that shares its machine sets $ThreadsEnv or WithThreads below the cores. An
// empty $ThreadsEnv counts as unset; another value that is not a positive number is ignored,
// with a warning.
func DefaultThreads() int {
	if v := strings.TrimSpace(os.Getenv(ThreadsEnv)); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
		threadsEnvWarning.Do(func() {
			slog.Warn("llama: "+ThreadsEnv+" is not a positive number of threads; using the cores", "value", v)
		})
	}
	return max(1, min(runtime.NumCPU(), runtime.GOMAXPROCS(0)))
}

var threadsEnvWarning sync.Once

// SessionOption configures NewSession.
type SessionOption func(*sessionConfig)

// WithContextSize sets the context in tokens; 0 means DefaultContextSize capped by the
// model's training context. llama.cpp may round it up (to a multiple of 256 in this version);
// Session.ContextSize reports the size in effect.
func WithContextSize(n int) SessionOption { return func(c *sessionConfig) { c.contextSize = n } }

// WithBatchSize sets the largest batch handed to llama_decode (default 2048).
func WithBatchSize(n int) SessionOption { return func(c *sessionConfig) { c.batchSize = n } }

// WithUBatchSize sets the physical batch size (default 512).
func WithUBatchSize(n int) SessionOption { return func(c *sessionConfig) { c.ubatchSize = n } }

// WithThreads sets the CPU threads for generation and prompt processing.
func WithThreads(n int) SessionOption { return func(c *sessionConfig) { c.threads = n } }

// WithFlashAttention sets flash attention to auto (the default), on or off.
func WithFlashAttention(f FlashAttention) SessionOption {
	return func(c *sessionConfig) { c.flash = f }
}

// WithKVCacheType sets the KV cache element type (default f16).
func WithKVCacheType(t KVCacheType) SessionOption { return func(c *sessionConfig) { c.kvType = t } }

// WithOpOffload says whether llama.cpp may compute large batches (prompts) on the GPU with
// weights that are kept in host memory (default true, as llama.cpp's op_offload and
// llama-bench's -nopo 0). Off, a model kept on the CPU computes entirely there.
func WithOpOffload(on bool) SessionOption { return func(c *sessionConfig) { c.noOffload = !on } }

// WithSequences sets how many sequences the context holds at once (llama.cpp's n_seq_max,
// default 1), each with its own positions in the KV cache. The context size is their total:
// unless WithKVUnified, llama.cpp gives each sequence a stream of context / n tokens rounded up
// to a multiple of 256, which Session.ContextSize reports. Generate uses the first sequence.
func WithSequences(n int) SessionOption { return func(c *sessionConfig) { c.sequences = n } }

// WithKVUnified says whether the sequences share one KV buffer (llama.cpp's kv_unified) instead
// of a stream each. Shared, any sequence may use the whole context; separate streams are faster
// when the sequences share no prompt prefix.
func WithKVUnified(on bool) SessionOption { return func(c *sessionConfig) { c.kvUnified = on } }

// WithKVOffload says whether the KV cache of the layers on a GPU lives on that GPU, with their
// attention computed there (the default, llama.cpp's offload_kqv), or in host memory, which
// leaves room on the GPU for more layers at the cost of attention on the CPU. It has no effect
// when no GPU backend is loaded.
func WithKVOffload(on bool) SessionOption { return func(c *sessionConfig) { c.kvOnHost = !on } }
