package llama

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/gguf"
)

// bufferLog keeps the compute buffer sizes llama.cpp logs ("CPU compute buffer size = 1.50 MiB").
type bufferLog struct {
	mu    sync.Mutex
	sizes map[string]float64 // MiB by buffer type
}

var computeLine = regexp.MustCompile(`(\S+) compute buffer size =\s+([0-9.]+) MiB`)

func (b *bufferLog) Enabled(context.Context, slog.Level) bool { return true }
func (b *bufferLog) Handle(_ context.Context, r slog.Record) error {
	if m := computeLine.FindStringSubmatch(r.Message); m != nil {
		v, err := strconv.ParseFloat(m[2], 64)
		if err == nil {
			b.mu.Lock()
			b.sizes[m[1]] = v
			b.mu.Unlock()
		}
	}
	return nil
}
func (b *bufferLog) WithAttrs([]slog.Attr) slog.Handler { return b }
func (b *bufferLog) WithGroup(string) slog.Handler      { return b }

// The estimate of a context's compute buffer is at least what llama.cpp then allocates for
// it, for each architecture, small and long contexts, with and without flash attention.
func TestComputeEstimateCoversLlamaCpp(t *testing.T) {
	logs := &bufferLog{}
	prev := slog.Default()
	slog.SetDefault(slog.New(logs))
	t.Cleanup(func() { slog.SetDefault(prev) })

	dir := t.TempDir()
	for _, id := range []string{"tiny-llama", "tiny-gemma2", "tiny-phi3"} {
		spec, ok := gguf.TinySpec(id)
		require.True(t, ok)
		path := filepath.Join(dir, id+".gguf")
		require.NoError(t, gguf.Write(path, spec, gguf.WriteOptions{Seed: 1, Type: gguf.TypeF16}))
		m, err := Load(path)
		require.NoError(t, err)
		ff := m.feedForward()
		require.Positive(t, ff)
		for _, nCtx := range []int{256, 4096} {
			for _, flash := range []FlashAttention{FlashAuto, FlashOff} {
				t.Run(fmt.Sprintf("%s/ctx%d/flash-%s", id, nCtx, flash), func(t *testing.T) {
					logs.mu.Lock()
					logs.sizes = map[string]float64{}
					logs.mu.Unlock()
					s, err := m.NewSession(WithContextSize(nCtx), WithFlashAttention(flash))
					require.NoError(t, err)
					defer s.Close()
					logs.mu.Lock()
					defer logs.mu.Unlock()
					require.NotEmpty(t, logs.sizes, "llama.cpp logged no compute buffer")
					var largest float64
					for _, v := range logs.sizes {
						largest = max(largest, v)
					}
					est := float64(computeBytes(m.info, ff, nCtx, min(512, nCtx), flash)) / (1 << 20)
					t.Logf("llama.cpp %v MiB, estimate %.2f MiB", logs.sizes, est)
					assert.GreaterOrEqual(t, est, largest)
				})
			}
		}
		require.NoError(t, m.Close())
	}
}

// The estimate for a Mistral-7B against what llama.cpp allocated on an H200 (CUDA0 compute
// buffer, flash attention on): 112.01 MiB at 4096 positions and 140.01 MiB at 16384. It
// covers them without asking for twice as much.
func TestComputeEstimateOfMistral(t *testing.T) {
	info := Info{VocabSize: 32000, EmbeddingSize: 4096, Heads: 32, KVHeads: 8, Layers: 32}
	for nCtx, reported := range map[int]float64{4096: 112.01, 16384: 140.01} {
		est := float64(computeBytes(info, 14336, nCtx, 512, FlashAuto)) / (1 << 20)
		assert.GreaterOrEqual(t, est, reported, "ctx %d", nCtx)
		assert.Less(t, est, 2*reported, "ctx %d", nCtx)
	}
}

// A context that does not fit says what it needs, of what, and what is available; one that
// fits, or whose memory cannot be read, passes.
func TestSessionFitExplainsItself(t *testing.T) {
	f := sessionFit{nCtx: 8192, kv: 1 << 30, compute: 150 << 20, cud: gpuReserve, where: "GPU memory", avail: 1 << 30, known: true}
	err := f.check()
	require.ErrorIs(t, err, ErrOutOfMemory)
	assert.EqualError(t, err, "out of memory: a context of 8192 tokens needs about 1.40 GiB (KV cache 1.00 GiB, compute 150.0 MiB, CUDA's own 256.0 MiB), GPU memory available is 1.00 GiB")
	f.avail = f.need()
	assert.NoError(t, f.check())
	f.avail, f.known = 0, false
	assert.NoError(t, f.check())
}
