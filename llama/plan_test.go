package llama

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
)

// plentyOfHost is the host memory the planner tests give, so that their plans do not depend on
// what this machine has free at the time.
const plentyOfHost = 64 << 30

var planBudgets = []uint64{4 << 30, 6 << 30, 8 << 30, 12 << 30, 16 << 30, 24 << 30}

func twinHeader(t *testing.T, id string) (gguf.Spec, *gguf.File) {
	t.Helper()
	spec, ok := gguf.ReferenceSpec(id)
	require.True(t, ok)
	f, err := gguf.QuantizedHeader(spec, "Q4_K_M")
	require.NoError(t, err)
	return spec, f
}

// tensorBytes sums the bytes of the header's tensors whose names pass keep.
func tensorBytes(f *gguf.File, keep func(string) bool) uint64 {
	var n uint64
	for _, ti := range f.Tensors {
		if keep(ti.Name) {
			n += uint64(ti.Bytes())
		}
	}
	return n
}

// On the twins of the reference models, at budgets of 4 to 24 GiB and contexts of 4k and 8k:
// the layers on the GPU never shrink as the budget grows, the predicted GPU total never exceeds
// the budget, one more layer would, and the parts add up to what the header and the context
// hold: every tensor but the token embedding on the GPU once all layers are there (plus the
// embedding's copy where the output is tied to it), and a KV cache of 2 × layers × KV heads ×
// head width × context × 2 bytes, split between GPU and host by layer.
func TestPlanTwinsAtBudgets(t *testing.T) {
	for _, id := range []string{"gemma-2-2b-it", "phi-3-mini-4k-instruct", "mistral-7b-instruct-v0.2"} {
		spec, f := twinHeader(t, id)
		ms, err := shapeOf(f)
		require.NoError(t, err)
		embd, _ := f.Tensor("token_embd.weight")
		_, hasOutput := f.Tensor("output.weight")
		all := tensorBytes(f, func(string) bool { return true })
		for _, nCtx := range []int{4096, 8192} {
			t.Run(fmt.Sprintf("%s/ctx%d", id, nCtx), func(t *testing.T) {
				kvAll := uint64(2 * spec.Layers * spec.KVHeads * spec.HeadDim * nCtx * 2)
				prev := -1
				for _, budget := range planBudgets {
					p, err := PlanHeader(f, PlanRequest{Budget: budget, HostMemory: plentyOfHost, Session: []SessionOption{WithContextSize(nCtx)}})
					require.NoError(t, err)
					t.Logf("%2d GiB: %d/%d layers, GPU %s, host %s", budget>>30, p.GPULayers, p.Layers+1, formatBytes(p.GPU.Total()), formatBytes(p.Host.Total()))
					assert.Equal(t, nCtx, p.ContextSize)
					assert.Equal(t, spec.Context, p.TrainContext)
					assert.GreaterOrEqual(t, p.GPULayers, prev, "more budget, no fewer layers")
					prev = p.GPULayers
					assert.LessOrEqual(t, p.GPU.Total(), budget)
					if p.GPULayers <= p.Layers {
						cfg := defaultSessionConfig()
						cfg.contextSize = nCtx
						next, _ := ms.placementMemory(p.GPULayers+1, true, cfg, newContextShape(cfg, ms.info.TrainContext))
						assert.Greater(t, next.Total(), budget, "one more layer would not fit")
					}
					assert.Equal(t, kvAll, p.GPU.KVCache+p.Host.KVCache)
					assert.Equal(t, kvAll/uint64(spec.Layers)*uint64(min(p.GPULayers, p.Layers)), p.GPU.KVCache)
					assert.True(t, p.KVOnGPU == (p.GPULayers > 0))
					if p.OutputOnGPU() {
						want := all - uint64(embd.Bytes())
						if !hasOutput {
							want += uint64(embd.Bytes()) // the output's copy of the embedding
						}
						assert.Equal(t, want, p.GPU.Weights)
						assert.Equal(t, uint64(embd.Bytes()), p.Host.Weights, "only the embedding stays on the host")
					} else {
						assert.Equal(t, all, p.GPU.Weights+p.Host.Weights)
					}
				}
			})
		}
	}
}

// The Mistral-7B twin's file is 4.37 GB: at 4 GiB it cannot go wholly to the GPU, yet most of
// it does, and at 24 GiB it does for 4k and 8k contexts.
func TestPlanMistralTwinIsSensible(t *testing.T) {
	_, f := twinHeader(t, "mistral-7b-instruct-v0.2")
	for _, nCtx := range []int{4096, 8192} {
		small, err := PlanHeader(f, PlanRequest{Budget: 4 << 30, HostMemory: plentyOfHost, Session: []SessionOption{WithContextSize(nCtx)}})
		require.NoError(t, err)
		assert.Less(t, small.GPULayers, small.Layers)
		assert.Greater(t, small.GPULayers, small.Layers/2)
		assert.False(t, small.OutputOnGPU())
		large, err := PlanHeader(f, PlanRequest{Budget: 24 << 30, HostMemory: plentyOfHost, Session: []SessionOption{WithContextSize(nCtx)}})
		require.NoError(t, err)
		assert.Equal(t, large.Layers+1, large.GPULayers)
		assert.True(t, large.OutputOnGPU())
		assert.Equal(t, PlanEstimated, large.DecidedBy)
	}
}

// A quantized KV cache shrinks the cache by the size of its blocks against two bytes an
// element (q8_0: 34 bytes per 32, q4_0: 18 per 32), and leaves room for more layers.
func TestPlanKVTypesShrinkTheCache(t *testing.T) {
	_, f := twinHeader(t, "mistral-7b-instruct-v0.2")
	kv := map[KVCacheType]Plan{}
	for _, typ := range []KVCacheType{KVF16, KVQ8_0, KVQ4_0} {
		p, err := PlanHeader(f, PlanRequest{Budget: 4 << 30, HostMemory: plentyOfHost,
			Session: []SessionOption{WithContextSize(8192), WithKVCacheType(typ), WithFlashAttention(FlashOn)}})
		require.NoError(t, err)
		kv[typ] = p
	}
	total := func(p Plan) uint64 { return p.GPU.KVCache + p.Host.KVCache }
	assert.Equal(t, total(kv[KVF16])*34/64, total(kv[KVQ8_0]))
	assert.Equal(t, total(kv[KVF16])*18/64, total(kv[KVQ4_0]))
	assert.Greater(t, kv[KVQ8_0].GPULayers, kv[KVF16].GPULayers)
	assert.GreaterOrEqual(t, kv[KVQ4_0].GPULayers, kv[KVQ8_0].GPULayers)
}

// Parallel sequences share the context: in separate streams each gets n_ctx / n_seq_max cells
// (padded to 256), in a unified cache all of n_ctx, and the KV cache is n_ctx cells either way.
// Four streams of a 16k context shrink the compute buffer's attention mask fourfold, and with
// flash attention off the scores too; keeping the KV cache on the host frees the GPU for
// layers.
func TestPlanSequencesAndKVPlacement(t *testing.T) {
	_, f := twinHeader(t, "mistral-7b-instruct-v0.2")
	plan := func(opts ...SessionOption) Plan {
		p, err := PlanHeader(f, PlanRequest{Budget: 8 << 30, HostMemory: plentyOfHost, Session: opts})
		require.NoError(t, err)
		return p
	}
	one := plan(WithContextSize(16384), WithFlashAttention(FlashOff))
	split := plan(WithContextSize(16384), WithSequences(4), WithFlashAttention(FlashOff))
	unified := plan(WithContextSize(16384), WithSequences(4), WithKVUnified(true), WithFlashAttention(FlashOff))
	assert.Equal(t, 16384, one.SequenceContext)
	assert.Equal(t, 4096, split.SequenceContext)
	assert.Equal(t, 16384, unified.SequenceContext)
	for _, p := range []Plan{split, unified} {
		assert.Equal(t, 4, p.Sequences)
		assert.Equal(t, one.GPU.KVCache+one.Host.KVCache, p.GPU.KVCache+p.Host.KVCache)
	}
	assert.Less(t, split.GPU.Compute, unified.GPU.Compute)
	assert.Equal(t, one.Host.Output*4, split.Host.Output, "logits for each sequence")

	odd := plan(WithContextSize(4096), WithSequences(3))
	assert.Equal(t, 1536, odd.SequenceContext, "4096 / 3 padded to 256")
	assert.Equal(t, 4608, odd.ContextSize)

	onHost := plan(WithContextSize(16384), WithKVOffload(false))
	assert.False(t, onHost.KVOnGPU)
	assert.Zero(t, onHost.GPU.KVCache)
	assert.Equal(t, one.GPU.KVCache+one.Host.KVCache, onHost.Host.KVCache)
	assert.GreaterOrEqual(t, onHost.GPULayers, one.GPULayers)
}

// A budget that cannot hold the compute buffers and CUDA's reserve, and a placement whose host
// part does not fit in host memory, are ErrOutOfMemory with the sizes; bad session options are
// errors too.
func TestPlanErrors(t *testing.T) {
	_, f := twinHeader(t, "mistral-7b-instruct-v0.2")
	_, err := PlanHeader(f, PlanRequest{Budget: 512 << 20, HostMemory: plentyOfHost})
	require.ErrorIs(t, err, ErrOutOfMemory)
	assert.Regexp(t, `a budget of 512\.0 MiB cannot hold even the compute buffers with no layer on the GPU: compute [0-9.]+ MiB and CUDA's own 856\.0 MiB`, err.Error())

	_, err = PlanHeader(f, PlanRequest{Budget: 4 << 30, HostMemory: 1 << 30})
	require.ErrorIs(t, err, ErrOutOfMemory)
	assert.Regexp(t, `with \d+ of 33 layers on the GPU, host memory needs [0-9.]+ GiB \(weights [0-9.]+ GiB, KV cache [0-9.]+ MiB, compute [0-9.]+ MiB, output [0-9.]+ MiB\), 1\.00 GiB available`, err.Error())

	_, err = PlanHeader(f, PlanRequest{HostMemory: 2 << 30}) // the CPU alone
	require.ErrorIs(t, err, ErrOutOfMemory)
	assert.Contains(t, err.Error(), "with 0 of 33 layers on the GPU")

	for name, opt := range map[string]SessionOption{
		"no sequence":           WithSequences(0),
		"too many sequences":    WithSequences(maxSequences + 1),
		"quantized V, no flash": func(c *sessionConfig) { c.kvType, c.flash = KVQ8_0, FlashOff },
		"unknown KV type":       WithKVCacheType("q5_1"),
		"negative context":      WithContextSize(-1),
		"ubatch of zero":        WithUBatchSize(0),
	} {
		_, err := PlanHeader(f, PlanRequest{Budget: 8 << 30, HostMemory: plentyOfHost, Session: []SessionOption{opt}})
		assert.Error(t, err, name)
		assert.NotErrorIs(t, err, ErrOutOfMemory, name)
	}
}

// A file that is not a valid GGUF model is ErrInvalidModel, as Load says; a file that cannot
// be read gives the os error; a header that lacks a size the planner needs, or holds a block
// beyond the block count, is ErrInvalidModel.
func TestPlanInvalidModels(t *testing.T) {
	for _, c := range ggufttest.Malformed(t, t.TempDir()) {
		t.Run(c.Name, func(t *testing.T) {
			_, err := PlanPlacement(c.Path, PlanRequest{Budget: 8 << 30})
			require.Error(t, err)
			if errors.Is(c.WantErr, gguf.ErrInvalid) {
				assert.ErrorIs(t, err, ErrInvalidModel)
			} else {
				assert.ErrorIs(t, err, c.WantErr)
				assert.NotErrorIs(t, err, ErrInvalidModel)
			}
		})
	}
	_, err := PlanHeader(nil, PlanRequest{Budget: 8 << 30})
	assert.ErrorIs(t, err, ErrInvalidModel)
	dir := t.TempDir()
	good, err := os.ReadFile(ggufttest.Tiny(t, dir, "tiny-llama"))
	require.NoError(t, err)
	for name, edit := range map[string][2]string{
		"no block count":     {"llama.block_count", "llama.block_kount"},
		"no head count":      {"llama.attention.head_count\x04", "llama.attention.head_kount\x04"}, // the key, then its type (u32)
		"block out of range": {"blk.1.attn_norm.weight", "blk.7.attn_norm.weight"},
	} {
		t.Run(name, func(t *testing.T) {
			require.True(t, bytes.Contains(good, []byte(edit[0])), "the edit applies")
			b := bytes.Replace(good, []byte(edit[0]), []byte(edit[1]), 1)
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".gguf")
			require.NoError(t, os.WriteFile(path, b, 0o644))
			_, err := PlanPlacement(path, PlanRequest{Budget: 8 << 30})
			assert.ErrorIs(t, err, ErrInvalidModel)
		})
	}
}

// The header of a twin, computed without writing it, is the header of the file llama.cpp's
// quantizer writes, so a plan of one is the plan of the other; and on the CPU the plan's host
// memory is what llama.cpp then allocates: the model buffers (to within the alignment padding
// between tensors), the KV cache (exactly) and, from above, the compute buffer.
func TestPlanTinyTwinsMatchLlamaCpp(t *testing.T) {
	logs := logBuffers(t)
	dir := t.TempDir()
	for _, spec := range gguf.TinySpecs() {
		t.Run(spec.ID, func(t *testing.T) {
			q4 := filepath.Join(dir, spec.ID+".Q4_K_M.gguf")
			require.NoError(t, Quantize(ggufttest.Tiny(t, dir, spec.ID), q4, FileTypeQ4_K_M))
			header, err := gguf.QuantizedHeader(spec, "Q4_K_M")
			require.NoError(t, err)
			file, err := gguf.Validate(q4)
			require.NoError(t, err)
			assert.Equal(t, file.Size, header.Size)
			fromHeader, err := shapeOf(header)
			require.NoError(t, err)
			fromFile, err := shapeOf(file)
			require.NoError(t, err)
			fromFile.info.Name = fromHeader.info.Name
			assert.Equal(t, fromFile, fromHeader)

			req := PlanRequest{HostMemory: plentyOfHost, Session: []SessionOption{WithContextSize(512)}}
			p, err := PlanPlacement(q4, req)
			require.NoError(t, err)
			hp, err := PlanHeader(header, req)
			require.NoError(t, err)
			assert.Equal(t, p.Host, hp.Host)
			assert.Equal(t, 0, p.GPULayers)
			assert.Zero(t, p.GPU.Total())

			logs.reset()
			m, err := Load(q4, p.ModelOptions()...)
			require.NoError(t, err)
			defer m.Close()
			s, err := m.NewSession(p.SessionOptions()...)
			require.NoError(t, err)
			defer s.Close()
			logs.mu.Lock()
			defer logs.mu.Unlock()
			mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
			t.Logf("llama.cpp: model %.2f MiB, KV %.2f MiB, compute %v MiB; plan: weights %.2f, KV %.2f, compute %.2f MiB",
				logs.model, logs.kv, logs.compute, mib(p.Host.Weights), mib(p.Host.KVCache), mib(p.Host.Compute))
			assert.InEpsilon(t, logs.model, mib(p.Host.Weights), 0.01)
			assert.InDelta(t, logs.kv, mib(p.Host.KVCache), 0.011)
			assert.GreaterOrEqual(t, mib(p.Host.Compute), logs.compute["CPU"])
		})
	}
}

// A model loaded and a session made with a plan's options generate, for partial placements of
// each tiny model, several sequences and the KV cache kept on the host. Without a GPU backend
// n_gpu_layers changes nothing, but the path is the one a GPU takes.
func TestPlanLoadsAndGenerates(t *testing.T) {
	dir := t.TempDir()
	for _, id := range []string{"tiny-llama", "tiny-gemma2", "tiny-phi3"} {
		path := ggufttest.Tiny(t, dir, id)
		f, err := gguf.Validate(path)
		require.NoError(t, err)
		ms, err := shapeOf(f)
		require.NoError(t, err)
		for _, c := range []struct {
			name   string
			layers int // on the GPU, by setting the budget to what the estimate says they take
			opts   []SessionOption
		}{
			{"one layer", 1, nil},
			{"all but the output", ms.info.Layers, nil},
			{"everything", ms.info.Layers + 1, nil},
			{"two sequences", 1, []SessionOption{WithSequences(2)}},
			{"KV on the host", ms.info.Layers + 1, []SessionOption{WithKVOffload(false)}},
		} {
			t.Run(id+"/"+c.name, func(t *testing.T) {
				opts := append([]SessionOption{WithContextSize(512)}, c.opts...)
				cfg := defaultSessionConfig()
				for _, o := range opts {
					o(&cfg)
				}
				dev, _ := ms.placementMemory(c.layers, true, cfg, newContextShape(cfg, ms.info.TrainContext))
				p, err := PlanPlacement(path, PlanRequest{Budget: dev.Total(), HostMemory: plentyOfHost, Session: opts})
				require.NoError(t, err)
				assert.Equal(t, c.layers, p.GPULayers)
				assert.Equal(t, dev.Total(), p.GPU.Total())
				if !HasGPU() {
					assert.Contains(t, strings.Join(p.Notes, "\n"), "no GPU backend loaded")
				}

				m, err := Load(path, p.ModelOptions()...)
				require.NoError(t, err)
				defer m.Close()
				if HasGPU() {
					assert.Equal(t, p.GPULayers, m.Info().LayersOnGPU)
				} else {
					assert.Zero(t, m.Info().LayersOnGPU, "no GPU: every layer on the CPU")
				}
				s, err := m.NewSession(p.SessionOptions()...)
				require.NoError(t, err)
				defer s.Close()
				assert.Equal(t, p.SequenceContext, s.ContextSize())
				res, err := s.Generate(context.Background(), Text("plan the placement"), GenerateOptions{MaxTokens: 8, IgnoreEOG: true}, nil)
				require.NoError(t, err)
				assert.Equal(t, 8, res.Tokens)
			})
		}
	}
}

// A plan for the CPU alone (a budget of 0) keeps everything on the host, and its session
// offloads nothing.
func TestPlanForTheCPUAlone(t *testing.T) {
	path := ggufttest.Tiny(t, t.TempDir(), "tiny-llama")
	p, err := PlanPlacement(path, PlanRequest{HostMemory: plentyOfHost})
	require.NoError(t, err)
	assert.Zero(t, p.GPULayers)
	assert.False(t, p.KVOnGPU)
	assert.Zero(t, p.GPU.Total())
	assert.Positive(t, p.Host.Weights)
	assert.Positive(t, p.Host.KVCache)
	cfg := defaultSessionConfig()
	for _, o := range p.SessionOptions() {
		o(&cfg)
	}
	assert.True(t, cfg.kvOnHost)
	assert.True(t, cfg.noOffload)
	assert.Equal(t, min(DefaultContextSize, 512), cfg.contextSize, "the default context, capped by training, resolved")
}

// llama_params_fit, called where no GPU is loaded, measures nothing and changes nothing
// (n_gpu_layers stays llama.cpp's default) without aborting, and llama.cpp's log reaches the
// binding's logger during the call, through the logger it puts in place, and afterwards.
func TestParamsFitWithoutAGPU(t *testing.T) {
	if HasGPU() {
		t.Skip("a GPU backend is loaded: TestPlanMeasuredOnTheGPU covers llama_params_fit there")
	}
	lines := &lineLog{}
	prev := slog.Default()
	slog.SetDefault(slog.New(lines))
	t.Cleanup(func() { slog.SetDefault(prev) })

	path := ggufttest.Tiny(t, t.TempDir(), "tiny-llama")
	cfg := defaultSessionConfig()
	cfg.contextSize = 256
	n, err := paramsFit(path, cfg, newContextShape(cfg, 512), 0)
	require.NoError(t, err)
	assert.Greater(t, n, 2, "n_gpu_layers is still llama.cpp's default, every layer and more")
	assert.True(t, lines.has("no devices with dedicated memory found"), "llama_params_fit's own log line came through")
	_, _, _, err = fitLayers(path, cfg, newContextShape(cfg, 512), 1<<30)
	assert.ErrorContains(t, err, "no GPU to measure on")

	lines.clear()
	m, err := Load(path)
	require.NoError(t, err)
	require.NoError(t, m.Close())
	assert.True(t, lines.has("loading model tensors"), "the binding's logger is in place after the call")
}

// On a GPU, llama_params_fit measures the plan; its layer count is never above the estimate's,
// and the model loads with it and generates.
func TestPlanMeasuredOnTheGPU(t *testing.T) {
	if !HasGPU() {
		t.Skip("no GPU backend loaded (make cuda, or set LLMBENCH_BACKEND_DIR): llama_params_fit measures on a GPU")
	}
	path := ggufttest.Tiny(t, t.TempDir(), "tiny-llama")
	p, err := PlanPlacement(path, PlanRequest{Budget: 2 << 30, Session: []SessionOption{WithContextSize(512)}})
	require.NoError(t, err)
	t.Log(p, p.Notes)
	assert.LessOrEqual(t, p.GPULayers, p.EstimatedGPULayers)
	assert.NotContains(t, strings.Join(p.Notes, "\n"), "the estimate placed the layers", "llama_params_fit ran")
	m, err := Load(path, p.ModelOptions()...)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, p.GPULayers, m.Info().LayersOnGPU)
	s, err := m.NewSession(p.SessionOptions()...)
	require.NoError(t, err)
	defer s.Close()
	res, err := s.Generate(context.Background(), Text("measured"), GenerateOptions{MaxTokens: 4, IgnoreEOG: true}, nil)
	require.NoError(t, err)
	assert.Equal(t, 4, res.Tokens)
}

// lineLog keeps the messages logged through slog.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *lineLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, r.Message)
	return nil
}
func (l *lineLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *lineLog) WithGroup(string) slog.Handler      { return l }

func (l *lineLog) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = nil
}

func (l *lineLog) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}
