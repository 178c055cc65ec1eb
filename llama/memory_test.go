package llama

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
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
		m, err := Load(ggufttest.Tiny(t, dir, id))
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
	f := sessionFit{nCtx: 8192, kv: 1 << 30, compute: 150 << 20, cud: gpuReserve, share: 1, where: "GPU memory", avail: 1 << 30, known: true}
	err := f.check()
	require.ErrorIs(t, err, ErrOutOfMemory)
	assert.EqualError(t, err, "out of memory: a context of 8192 tokens needs about 1.40 GiB (KV cache 1.00 GiB, compute 150.0 MiB, CUDA's own 256.0 MiB), GPU memory available is 1.00 GiB")
	f.avail = f.need()
	assert.NoError(t, f.check())
	f.avail, f.known = 0, false
	assert.NoError(t, f.check())

	f = sessionFit{nCtx: 8192, kv: 1 << 30, compute: 150 << 20, cud: gpuReserve, share: 0.25, where: "GPU memory of CUDA1", avail: 256 << 20, known: true}
	assert.EqualError(t, f.check(), "out of memory: a context of 8192 tokens needs about 662.0 MiB (25% of the KV cache of 1.00 GiB, compute 150.0 MiB, CUDA's own 256.0 MiB), GPU memory of CUDA1 available is 256.0 MiB")
}

// The memory check looks at the GPUs the model is placed on, each for its share of the layers,
// as llama.cpp places them: not the sum of every GPU's free memory.
func TestPlacedGPUs(t *testing.T) {
	const gib = 1 << 30
	cpu := Device{Name: "CPU", Type: DeviceCPU, FreeBytes: 64 * gib}
	gpu0 := Device{Name: "CUDA0", Type: DeviceGPU, FreeBytes: 30 * gib}
	gpu1 := Device{Name: "CUDA1", Type: DeviceGPU, FreeBytes: 10 * gib}
	igpu := Device{Name: "iGPU", Type: DeviceIGPU, FreeBytes: 8 * gib}
	layer := defaultModelConfig()
	tests := []struct {
		name string
		devs []Device
		cfg  modelConfig
		want map[string]float64
	}{
		{"no GPU", []Device{cpu}, layer, map[string]float64{}},
		{"one GPU", []Device{cpu, gpu0}, layer, map[string]float64{"CUDA0": 1}},
		{"layers split by free memory", []Device{cpu, gpu0, gpu1}, layer, map[string]float64{"CUDA0": 0.75, "CUDA1": 0.25}},
		{"tensor split given", []Device{cpu, gpu0, gpu1}, modelConfig{splitMode: SplitLayer, tensorSplit: []float32{1, 3}}, map[string]float64{"CUDA0": 0.25, "CUDA1": 0.75}},
		{"tensor split leaves one out", []Device{cpu, gpu0, gpu1}, modelConfig{splitMode: SplitLayer, tensorSplit: []float32{0, 1}}, map[string]float64{"CUDA1": 1}},
		{"main GPU only", []Device{cpu, gpu0, gpu1}, modelConfig{splitMode: SplitNone, mainGPU: 1}, map[string]float64{"CUDA1": 1}},
		{"main GPU out of range", []Device{cpu, gpu0}, modelConfig{splitMode: SplitNone, mainGPU: 3}, map[string]float64{}},
		{"integrated GPU only without another", []Device{cpu, igpu}, layer, map[string]float64{"iGPU": 1}},
		{"integrated GPU left out beside a GPU", []Device{cpu, igpu, gpu1}, layer, map[string]float64{"CUDA1": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]float64{}
			for _, g := range placedGPUs(tt.devs, tt.cfg) {
				got[g.dev.Name] = g.share
			}
			assert.InDeltaMapValues(t, tt.want, got, 1e-9)
			assert.Len(t, got, len(tt.want))
		})
	}
}

// With two GPUs each must hold its share of the KV cache, a compute buffer and CUDA's reserve:
// a context that fits in their sum but not on the smaller one is refused, naming it.
func TestSessionFitChecksEveryPlacedGPU(t *testing.T) {
	const gib = 1 << 30
	info := Info{GPU: true, Layers: 32, LayersOnGPU: 33, KVHeads: 8, Heads: 32, EmbeddingSize: 4096, VocabSize: 32000}
	gpus := []gpuShare{
		{dev: Device{Name: "CUDA0", Type: DeviceGPU, FreeBytes: 20 * gib}, share: 0.5},
		{dev: Device{Name: "CUDA1", Type: DeviceGPU, FreeBytes: 1 * gib}, share: 0.5},
	}
	cfg := defaultSessionConfig()
	cfg.contextSize, cfg.flash = 16384, FlashOn
	sh := newContextShape(cfg, 32768)
	fits := fitSession(info, gpus, 128, 14336, sh, false)
	require.Len(t, fits, 2)
	kv := kvCacheBytes(info, 128, sh)
	assert.Equal(t, uint64(2*gib), kv, "32 layers × 2 × 8 heads × 128 × 16384 positions × 2 bytes")
	assert.NoError(t, fits[0].check())
	err := fits[1].check()
	require.ErrorIs(t, err, ErrOutOfMemory)
	assert.Contains(t, err.Error(), "GPU memory of CUDA1 available is 1.00 GiB")
	assert.Less(t, fits[0].need()+fits[1].need(), uint64(21*gib), "the sum would have fitted")

	cfg.contextSize, cfg.flash = 256, FlashAuto
	host := fitSession(Info{Layers: 2, KVHeads: 2, EmbeddingSize: 256, VocabSize: 512}, nil, 64, 512, newContextShape(cfg, 512), false)
	require.Len(t, host, 1)
	assert.Equal(t, "host memory", host[0].where)
	assert.Zero(t, host[0].cud)
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
	gpu := []gpuShare{{dev: Device{Name: "CUDA0", Type: DeviceGPU, FreeBytes: 80 << 30}, share: 1}}
	assert.Equal(t, 10*perLayer, fitSession(info, gpu, 128, 14336, sh, false)[0].kv)
	assert.Zero(t, fitSession(info, gpu, 128, 14336, sh, true)[0].kv)
	info.LayersOnGPU = 33 // the output layer too
	assert.Equal(t, 32*perLayer, fitSession(info, gpu, 128, 14336, sh, false)[0].kv)
	info.GPU = false
	f := fitSession(info, nil, 128, 14336, sh, true)
	require.Len(t, f, 1)
	assert.Equal(t, 32*perLayer, f[0].kv)
	assert.Equal(t, "host memory", f[0].where)
}
