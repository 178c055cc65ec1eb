package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/local-llm-bench/llmbench/llama"
)

// tickClock is a clock for tests: every reading is one tick after the last, and SleepUntil
// moves the time on to the instant asked for at once.
type tickClock struct {
	mu   sync.Mutex
	now  time.Time
	tick time.Duration
}

func newTickClock(tick time.Duration) *tickClock {
	return &tickClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), tick: tick}
}

func (c *tickClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.tick)
	return c.now
}

func (c *tickClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	return nil
}

// fakeServingModel is fakeModel that serves: its servers hand out MaxTokens tokens at once,
// and it tokenizes a prompt as one token per four bytes after BOS.
type fakeServingModel struct {
	*fakeModel
	mu      sync.Mutex
	servers []*fakeServer
	// oomFrom makes the n-th server and those after fail with ErrOutOfMemory (1-based); 0 never.
	oomFrom int
	// failRequest fails that request of every server (0-based, in the order they reach it); -1 never.
	failRequest int
	// gate holds the first requests of each server until that many are under way at once.
	gate int
}

func newFakeServingModel() *fakeServingModel {
	return &fakeServingModel{fakeModel: newFakeModel(), failRequest: -1}
}

func (m *fakeServingModel) NewServer(opts ...llama.SessionOption) (Server, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.oomFrom > 0 && len(m.servers)+1 >= m.oomFrom {
		return nil, fmt.Errorf("new server: %w: 1 GiB of KV cache, 512 MiB free", llama.ErrOutOfMemory)
	}
	s := &fakeServer{model: m, gate: m.gate, open: make(chan struct{})}
	if s.gate <= 1 {
		close(s.open)
		s.gate = 0
	}
	m.servers = append(m.servers, s)
	return s, nil
}

func (m *fakeServingModel) TokenizePrompt(p llama.Prompt, addBOS bool) ([]int32, error) {
	toks := make([]int32, 0, len(p.String())/4+1)
	if addBOS {
		toks = append(toks, m.info.BOS)
	}
	for range len(p.String()) / 4 {
		toks = append(toks, 7)
	}
	return toks, nil
}

func fakeServingLoader(m *fakeServingModel) Loader {
	return func(path string, opts ...llama.ModelOption) (Model, error) { return m, nil }
}

// fakeServer counts what it is asked and how many requests run at once.
type fakeServer struct {
	model *fakeServingModel
	gate  int
	open  chan struct{}

	mu        sync.Mutex
	calls     int
	active    int
	maxActive int
	resets    int
	prompts   []int
	opts      []llama.GenerateOptions
	cancelled int
	closed    bool
}

func (s *fakeServer) GenerateTokens(ctx context.Context, tokens []int32, opts llama.GenerateOptions, fn func(llama.Token) bool) (llama.Result, error) {
	s.mu.Lock()
	n := s.calls
	s.calls++
	s.active++
	s.maxActive = max(s.maxActive, s.active)
	s.prompts = append(s.prompts, len(tokens))
	s.opts = append(s.opts, opts)
	if s.active == s.gate {
		close(s.open)
		s.gate = 0 // once
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
	}()
	select {
	case <-s.open:
	case <-ctx.Done():
	}
	if n == s.model.failRequest {
		return llama.Result{}, errors.New("scripted failure")
	}
	res := llama.Result{PromptTokens: len(tokens), Stop: llama.StopMaxTokens, Queued: time.Millisecond}
	for i := range opts.MaxTokens {
		if err := ctx.Err(); err != nil {
			s.mu.Lock()
			s.cancelled++
			s.mu.Unlock()
			res.Stop = llama.StopCancelled
			return res, err
		}
		res.Tokens++
		fn(llama.Token{ID: 7, Index: i})
	}
	return res, nil
}

// Stats reports 90 ms inside llama_decode of 100 ms busy.
func (s *fakeServer) Stats() llama.ServerStats {
	return llama.ServerStats{Steps: 10, DecodeTime: 90 * time.Millisecond, Wall: 120 * time.Millisecond, BusyWall: 100 * time.Millisecond,
		GenTokens: 40, PromptTokens: 80, MaxBatch: 12, MaxActive: 2, Perf: llama.Perf{PromptEvalMs: 50, EvalMs: 38}}
}

func (s *fakeServer) ResetStats() {
	s.mu.Lock()
	s.resets++
	s.mu.Unlock()
}

func (s *fakeServer) Sequences() int   { return 0 }
func (s *fakeServer) ContextSize() int { return 0 }

func (s *fakeServer) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}
