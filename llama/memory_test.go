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

// bufferLog keeps the buffer sizes llama.cpp logs: compute buffers by buffer type ("CPU
// compute buffer size = 1.50 MiB"), and the sums of the KV cache buffers (two for a model with
// sliding-window layers) and of the model buffers.
type bufferLog struct {
	mu        sync.Mutex
	compute   map[string]float64 // MiB by buffer type
	kv, model float64            // MiB
}

var bufferLine = regexp.MustCompile(`(\S+) (compute|KV|model) buffer size =\s+([0-9.]+) MiB`)

func (b *bufferLog) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.compute, b.kv, b.model = map[string]float64{}, 0, 0
}

func (b *bufferLog) Enabled(context.Context, slog.Level) bool { return true }
func (b *bufferLog) Handle(_ context.Context, r slog.Record) error {
	m := bufferLine.FindStringSubmatch(r.Message)
	if m == nil {
		return nil
	}
	v, err := strconv.ParseFloat(m[3], 64)
	if err != nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch m[2] {
	case "compute":
		b.compute[m[1]] = v
	case "KV":
		b.kv += v
	case "model":
		b.model += v
	}
	return nil
}
func (b *bufferLog) WithAttrs([]slog.Attr) slog.Handler { return b }
func (b *bufferLog) WithGroup(string) slog.Handler      { return b }

// logBuffers routes slog, and so llama.cpp's log, into a bufferLog for the test.
func logBuffers(t *testing.T) *bufferLog {
	logs := &bufferLog{}
	logs.reset()
	prev := slog.Default()
	slog.SetDefault(slog.New(logs))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return logs
}

func writeTiny(t *testing.T, dir, id string) string {
	t.Helper()
	spec, ok := gguf.TinySpec(id)
	require.True(t, ok)
	path := filepath.Join(dir, id+".gguf")
	require.NoError(t, gguf.Write(path, spec, gguf.WriteOptions{Seed: 1, Type: gguf.TypeF16}))
	return path
}

// The estimate of a context's compute buffer is at least what llama.cpp then allocates for
// it, and the KV cache estimate is what llama.cpp allocates, for each architecture, small and
// long contexts, with and without flash attention, one sequence or several in separate streams
// or a unified cache, and each KV cache type.
func TestContextEstimateMatchesLlamaCpp(t *testing.T) {
	logs := logBuffers(t)
	dir := t.TempDir()
	cases := []struct {
		nCtx, seqs int
		unified    bool
		flash      FlashAttention
		kv         KVCacheType
	}{
		{256, 1, false, FlashAuto, KVF16},
		{256, 1, false, FlashOff, KVF16},
		{4096, 1, false, FlashAuto, KVF16},
		{4096, 1, false, FlashOff, KVF16},
		{1000, 3, false, FlashAuto, KVF16},
		{1000, 3, false, FlashOff, KVF16},
		{2048, 4, true, FlashAuto, KVF16},
		{2048, 4, true, FlashOff, KVF16},
		{1024, 2, false, FlashOn, KVQ8_0},
		{1024, 1, false, FlashOn, KVQ4_0},
	}
	for _, id := range []string{"tiny-llama", "tiny-gemma2", "tiny-phi3"} {
		m, err := Load(writeTiny(t, dir, id))
		require.NoError(t, err)
		ff := m.feedForward()
		require.Positive(t, ff)
		for _, c := range cases {
			opts := []SessionOption{WithContextSize(c.nCtx), WithFlashAttention(c.flash), WithKVCacheType(c.kv), WithSequences(c.seqs), WithKVUnified(c.unified)}
			t.Run(fmt.Sprintf("%s/ctx%d/seq%d-unified-%t/flash-%s/%s", id, c.nCtx, c.seqs, c.unified, c.flash, c.kv), func(t *testing.T) {
				logs.reset()
				s, err := m.NewSession(opts...)
				require.NoError(t, err)
				defer s.Close()
				cfg := defaultSessionConfig()
				for _, o := range opts {
					o(&cfg)
				}
				sh := newContextShape(cfg, m.info.TrainContext)
				assert.Equal(t, sh.nCtxSeq, s.ContextSize(), "one sequence holds n_ctx_seq positions")

				logs.mu.Lock()
				defer logs.mu.Unlock()
				require.NotEmpty(t, logs.compute, "llama.cpp logged no compute buffer")
				var largest float64
				for _, v := range logs.compute {
					largest = max(largest, v)
				}
				est := float64(computeBytes(m.info, ff, sh)) / (1 << 20)
				kv := float64(kvCacheBytes(m.info, m.headDim(), sh)) / (1 << 20)
				t.Logf("compute: llama.cpp %v MiB, estimate %.2f MiB; KV: llama.cpp %.2f MiB, estimate %.2f MiB", logs.compute, est, logs.kv, kv)
				assert.GreaterOrEqual(t, est, largest)
				assert.Less(t, est, 2*largest+1, "the estimate follows llama.cpp's buffer")
				// llama.cpp logs each KV buffer to 0.01 MiB.
				assert.InDelta(t, logs.kv, kv, 0.011)
			})
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
		cfg := defaultSessionConfig()
		cfg.contextSize = nCtx
		est := float64(computeBytes(info, 14336, newContextShape(cfg, 32768))) / (1 << 20)
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

// On a GPU a new context is checked for the KV cache of the layers there alone, and none of
// it when the cache stays on the host; on the CPU for all of it.
func TestSessionFitCountsTheKVCacheWhereItLives(t *testing.T) {
	info := Info{VocabSize: 32000, EmbeddingSize: 4096, Heads: 32, KVHeads: 8, Layers: 32, LayersOnGPU: 10, GPU: true}
	cfg := defaultSessionConfig()
	cfg.contextSize = 4096
	sh := newContextShape(cfg, 32768)
	perLayer := kvLayerBytes(info, 128, sh)
	assert.Equal(t, uint64(2*8*128*4096*2), perLayer)
	assert.Equal(t, 10*perLayer, fitSession(info, 128, 14336, sh, false).kv)
	assert.Zero(t, fitSession(info, 128, 14336, sh, true).kv)
	info.LayersOnGPU = 33 // the output layer too
	assert.Equal(t, 32*perLayer, fitSession(info, 128, 14336, sh, false).kv)
	info.GPU = false
	f := fitSession(info, 128, 14336, sh, true)
	assert.Equal(t, 32*perLayer, f.kv)
	assert.Equal(t, "host memory", f.where)
}
