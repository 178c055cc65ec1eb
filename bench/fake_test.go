package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/llama"
)

// fakeModel and fakeSession stand in for llama: they produce tokens at once and report
// engine timings scripted by the test, and count what the runner asks of them.
type fakeModel struct {
	info     llama.Info
	template string
	mu       sync.Mutex
	sessions []*fakeSession
	closed   int
	// failChatAt makes the n-th Generate call fail (1-based); 0 never.
	failChatAt int
	// cancelAt cancels this func at the n-th Generate call.
	cancelAt int
	cancel   context.CancelFunc
}

func (m *fakeModel) Info() llama.Info { return m.info }

func (m *fakeModel) NewSession(opts ...llama.SessionOption) (Session, error) {
	s := &fakeSession{model: m, nCtx: 2048}
	m.mu.Lock()
	m.sessions = append(m.sessions, s)
	m.mu.Unlock()
	return s, nil
}

func (m *fakeModel) ChatPrompt(msgs []llama.Message) (llama.Prompt, error) {
	if m.template == "" {
		return llama.Prompt{}, llama.ErrNoChatTemplate
	}
	return llama.Concat(llama.RawPrompt("<user>"), llama.Text(msgs[0].Content), llama.RawPrompt("<assistant>")), nil
}

func (m *fakeModel) Close() error {
	m.mu.Lock()
	m.closed++
	m.mu.Unlock()
	return nil
}

type fakeSession struct {
	model    *fakeModel
	nCtx     int
	resets   int
	prefills []int
	gens     int
	chats    int
	closed   bool
	pos      int
}

func (s *fakeSession) ContextSize() int { return s.nCtx }
func (s *fakeSession) Reset() error     { s.resets++; s.pos = 0; return nil }
func (s *fakeSession) Close() error     { s.closed = true; return nil }

func (s *fakeSession) Prefill(ctx context.Context, tokens []int32) (llama.Result, error) {
	if err := ctx.Err(); err != nil {
		return llama.Result{}, err
	}
	s.prefills = append(s.prefills, len(tokens))
	s.pos += len(tokens)
	// llama.cpp reports 1000 tokens/s of prompt processing; the binding's clock, 800.
	return llama.Result{
		PromptTokens: len(tokens), Stop: llama.StopPromptOnly,
		PromptTime: time.Duration(float64(len(tokens)) / 800 * float64(time.Second)),
		Perf:       llama.Perf{PromptEvalTokens: len(tokens), PromptEvalMs: float64(len(tokens))},
	}, nil
}

func (s *fakeSession) GenerateTokens(ctx context.Context, tokens []int32, opts llama.GenerateOptions, fn func(llama.Token) bool) (llama.Result, error) {
	s.gens++
	return s.emit(ctx, len(tokens), opts.MaxTokens, llama.StopMaxTokens, fn)
}

func (s *fakeSession) Generate(ctx context.Context, prompt llama.Prompt, opts llama.GenerateOptions, fn func(llama.Token) bool) (llama.Result, error) {
	s.chats++
	if s.model.failChatAt == s.chats {
		return llama.Result{}, errors.New("scripted failure")
	}
	if s.model.cancelAt == s.chats {
		s.model.cancel()
	}
	// Replies are as long as the prompt, at most MaxTokens, and end at end of generation.
	n := min(len(prompt.String())/4, opts.MaxTokens)
	stop := llama.StopEOG
	if n == opts.MaxTokens {
		stop = llama.StopMaxTokens
	}
	return s.emit(ctx, len(prompt.String())/3, n, stop, fn)
}

func (s *fakeSession) emit(ctx context.Context, promptTokens, n int, stop llama.StopReason, fn func(llama.Token) bool) (llama.Result, error) {
	if err := ctx.Err(); err != nil {
		return llama.Result{Stop: llama.StopCancelled}, err
	}
	res := llama.Result{PromptTokens: promptTokens, Stop: stop, PromptTime: time.Millisecond}
	for i := 0; i < n; i++ {
		res.Text += fmt.Sprintf("t%d ", i)
		res.Tokens++
		if fn != nil && !fn(llama.Token{ID: int32(i), Index: i}) {
			res.Stop = llama.StopCallback
			break
		}
	}
	s.pos += promptTokens + res.Tokens
	res.Perf = llama.Perf{PromptEvalTokens: promptTokens, PromptEvalMs: 1, EvalTokens: max(res.Tokens-1, 0), EvalMs: float64(max(res.Tokens-1, 0)) * 2}
	return res, nil
}

func fakeLoader(m *fakeModel) Loader {
	return func(path string, opts ...llama.ModelOption) (Model, error) {
		if path == "missing.gguf" {
			return nil, fmt.Errorf("load %s: no such file", path)
		}
		return m, nil
	}
}

func newFakeModel() *fakeModel {
	return &fakeModel{
		template: "chatml",
		info: llama.Info{
			Architecture: "llama", Name: "fake", Params: 1e6, SizeBytes: 1 << 30, FileType: llama.FileTypeQ4_K_M,
			TrainContext: 2048, Layers: 4, LayersTotal: 5, LayersOnGPU: 5, GPU: true, VocabSize: 1000,
			BOS: 1, AddBOS: true, ChatTemplate: "chatml",
		},
	}
}

// fakeMonitor returns scripted samples: each probe reports 1 GiB + 1 MiB × its number.
type fakeMonitor struct {
	probes int
	gpus   []metrics.GPUInfo
	err    error
}

func (f *fakeMonitor) GPUs() ([]metrics.GPUInfo, error) { return f.gpus, f.err }

func (f *fakeMonitor) Start() (Probe, error) {
	f.probes++
	return fakeProbe{n: f.probes}, nil
}

type fakeProbe struct{ n int }

func (p fakeProbe) Stop() (metrics.GPUSample, error) {
	return metrics.GPUSample{
		PeakProcessBytes: 1<<30 + uint64(p.n)<<20, ProcessSeen: true,
		BaselineUsedBytes: 500 << 20, PeakUsedBytes: 2 << 30,
		EnergyJ: 64, EnergyMethod: "counter", MeanPowerW: 300, PeakPowerW: 350, Samples: 10, IntervalMs: 10,
	}, nil
}
