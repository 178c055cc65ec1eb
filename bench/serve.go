package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/llama"
)

// Server is what Serve needs of a server of many streams; *llama.Server provides it.
type Server interface {
	GenerateTokens(ctx context.Context, tokens []int32, opts llama.GenerateOptions, fn func(llama.Token) bool) (llama.Result, error)
	Stats() llama.ServerStats
	ResetStats()
	Sequences() int
	ContextSize() int
	Close() error
}

// ServingModel is a Model that serves several streams at once; the models of LoadLlama are.
type ServingModel interface {
	Model
	NewServer(opts ...llama.SessionOption) (Server, error)
	TokenizePrompt(p llama.Prompt, addBOS bool) ([]int32, error)
}

func (m llamaModel) NewServer(opts ...llama.SessionOption) (Server, error) {
	s, err := m.Model.NewServer(opts...)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// clock reads the time and waits for it: the wall clock, or a test's.
type clock interface {
	Now() time.Time
	// SleepUntil returns at t, or with ctx's error when ctx ends first.
	SleepUntil(ctx context.Context, t time.Time) error
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Serve measures spec's model serving several users at once through one llama.Server: first
// a closed loop at each of serve.Users (that many users, each sending the next request as
// soon as its reply ends), then an open loop of Poisson arrivals at each rate, and the
// capacity under serve.Target. Each level gets a server of its own, with a sequence per user
// (the open loop: as many as the closed loop's level of highest requests/s) and a context
// that holds a whole request in each; a level whose server does not fit in memory ends the
// closed loop, and Skipped says so.
//
// The model is loaded once with spec's options (threads, flash attention, KV cache type,
// placement); spec's workloads are not run. opts.Loader must load a ServingModel.
// opts.Progress is told of each level as it starts (Rep 0, the warmup) and of each measured
// request as it ends, from the goroutines of the requests, one call at a time; opts.Stop ends
// the sweep before the next level. A cancelled ctx or a failure returns what was measured so
// far, with the error.
func Serve(ctx context.Context, spec metrics.Spec, serve metrics.ServeSpec, opts Options) (metrics.Serving, error) {
	return serveWith(ctx, spec, serve, opts, wallClock{})
}

// serveRunner runs one Serve.
type serveRunner struct {
	spec    metrics.Spec
	serve   metrics.ServeSpec
	opts    Options
	clk     clock
	model   ServingModel
	info    llama.Info
	gen     llama.GenerateOptions
	prompts [][]int32 // the baseline prompts' tokens; nil for random prompts
	perSeq  int       // tokens a request may need: its prompt and reply
	noGPU   string
	out     *metrics.Serving
}

func serveWith(ctx context.Context, spec metrics.Spec, serve metrics.ServeSpec, opts Options, clk clock) (metrics.Serving, error) {
	prompts := spec.Prompts
	spec, err := withDefaults(spec)
	if err != nil {
		return metrics.Serving{}, err
	}
	serve, err = serve.WithDefaults()
	out := metrics.Serving{Spec: serve}
	if err != nil {
		return out, err
	}
	if prompts == nil {
		// Every baseline prompt, whatever the chat workload keeps of them.
		if prompts, err = metrics.BaselinePrompts(); err != nil {
			return out, err
		}
	}
	if opts.Loader == nil {
		opts.Loader = LoadLlama
	}
	r := &serveRunner{spec: spec, serve: serve, opts: opts, clk: clk, out: &out}
	err = r.run(ctx, prompts)
	out.Capacity = metrics.CapacityOf(out.Closed, out.Open, serve.Target)
	return out, err
}

func (r *serveRunner) run(ctx context.Context, prompts []metrics.Prompt) error {
	if err := r.next(ctx, Event{Label: "load", Rep: 1, Reps: 1}); err != nil {
		return err
	}
	m, err := r.opts.Loader(r.spec.Model, ModelOptions(r.spec)...)
	if err != nil {
		return fmt.Errorf("load %s: %w", r.spec.Name, err)
	}
	defer m.Close()
	sm, ok := m.(ServingModel)
	if !ok {
		return fmt.Errorf("serve %s: the model cannot serve several streams", r.spec.Name)
	}
	r.model, r.info = sm, sm.Info()
	r.noGPU = gpuUnavailable(r.opts.Monitor, r.info)
	if err := r.preparePrompts(prompts); err != nil {
		return err
	}
	if err := r.closedLoop(ctx); err != nil {
		return err
	}
	return r.openLoop(ctx)
}

// preparePrompts tokenizes the baseline prompts through the chat template, or sizes the
// random ones, and finds what a sequence must hold.
func (r *serveRunner) preparePrompts(prompts []metrics.Prompt) error {
	g := r.serve.GenTokens
	if r.serve.RandomPrompts {
		r.gen = llama.GenerateOptions{MaxTokens: g, IgnoreEOG: true}
		r.perSeq = r.serve.PromptTokens + g
	} else {
		r.gen = llama.GenerateOptions{MaxTokens: g}
		if r.info.ChatTemplate == "" {
			r.out.Skipped = append(r.out.Skipped, "chat template: the model has none; prompts were sent as plain text")
		}
		for _, p := range prompts {
			prompt := llama.Text(p.Text)
			if r.info.ChatTemplate != "" {
				t, err := r.model.ChatPrompt([]llama.Message{{Role: "user", Content: p.Text}})
				if err != nil {
					return fmt.Errorf("chat prompt %s: %w", p.ID, err)
				}
				prompt = t
			}
			toks, err := r.model.TokenizePrompt(prompt, true)
			if err != nil {
				return fmt.Errorf("tokenize prompt %s: %w", p.ID, err)
			}
			r.prompts = append(r.prompts, toks)
			r.perSeq = max(r.perSeq, len(toks)+g)
		}
		if len(r.prompts) == 0 {
			return fmt.Errorf("serve %s: no prompts", r.spec.Name)
		}
	}
	if tc := r.info.TrainContext; tc > 0 && r.perSeq > tc {
		return fmt.Errorf("serve %s: a request needs %d tokens, more than the %d of the model's training context", r.spec.Name, r.perSeq, tc)
	}
	return nil
}

// promptFor is the prompt of the i-th request of a level: a baseline prompt in turn, or
// random token ids of their own, the same for the same i in every run with the same seed.
func (r *serveRunner) promptFor(i int) []int32 {
	if r.prompts != nil {
		return r.prompts[i%len(r.prompts)]
	}
	rr := &runner{info: r.info, rng: newRNG(r.serve.Seed ^ uint64(i+1)*0x9e3779b97f4a7c15)}
	return rr.randomTokens(r.serve.PromptTokens)
}

// next says whether to go on to the next level, then tells Progress.
func (r *serveRunner) next(ctx context.Context, e Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-r.opts.Stop:
		return ErrStopped
	default:
	}
	r.progress(e)
	return nil
}

func (r *serveRunner) progress(e Event) {
	if r.opts.Progress != nil {
		e.Name = r.spec.Name
		r.opts.Progress(e)
	}
}

func (r *serveRunner) closedLoop(ctx context.Context) error {
	for i, users := range r.serve.Users {
		warmup := r.serve.ClosedWarmup(users)
		lvl, err := r.level(ctx, users, warmup, metrics.ServeLevel{Users: users}, func(l *load) { l.closed(users) })
		if errors.Is(err, llama.ErrOutOfMemory) {
			for _, u := range r.serve.Users[i:] {
				r.out.Skipped = append(r.out.Skipped, fmt.Sprintf("%s: %v", metrics.ServeLevel{Users: u}.Label(), err))
			}
			return nil
		}
		if err != nil {
			return err
		}
		r.out.Closed = append(r.out.Closed, lvl)
		if lvl.RequestsPerS > r.out.SaturationRPS {
			r.out.SaturationRPS, r.out.SaturationUsers = lvl.RequestsPerS, users
		}
	}
	return nil
}

// openRates are the open loop's arrival rates: the spec's, or fractions of the closed loop's
// saturation.
func (r *serveRunner) openRates() []float64 {
	if len(r.serve.Rates) > 0 {
		return r.serve.Rates
	}
	rates := make([]float64, len(r.serve.RateFractions))
	for i, f := range r.serve.RateFractions {
		rates[i] = f * r.out.SaturationRPS
	}
	return rates
}

func (r *serveRunner) openLoop(ctx context.Context) error {
	if r.serve.ClosedOnly {
		return nil
	}
	if r.out.SaturationUsers == 0 {
		r.out.Skipped = append(r.out.Skipped, "open loop: the closed loop measured no throughput to size it")
		return nil
	}
	rates := r.openRates()
	for i, rate := range rates {
		gaps := poissonGaps(r.serve.Seed+uint64(i), rate)
		lvl, err := r.level(ctx, r.out.SaturationUsers, r.serve.OpenWarmup(), metrics.ServeLevel{RateRPS: rate},
			func(l *load) { l.open(gaps) })
		if errors.Is(err, llama.ErrOutOfMemory) {
			for _, rate := range rates[i:] {
				r.out.Skipped = append(r.out.Skipped, fmt.Sprintf("%s: %v", metrics.ServeLevel{RateRPS: rate}.Label(), err))
			}
			return nil
		}
		if err != nil {
			return err
		}
		r.out.Open = append(r.out.Open, lvl)
	}
	return nil
}

// level runs one level on a server of its own with n sequences, through drive, and
// summarizes it into lvl.
func (r *serveRunner) level(ctx context.Context, n, warmup int, lvl metrics.ServeLevel, drive func(*load)) (metrics.ServeLevel, error) {
	label := "serve " + lvl.Label()
	if err := r.next(ctx, Event{Label: label, Reps: r.serve.Requests}); err != nil {
		return lvl, err
	}
	opts := append(sessionOptions(r.spec, n*r.perSeq), llama.WithSequences(n))
	sv, err := r.model.NewServer(opts...)
	if err != nil {
		return lvl, fmt.Errorf("%s: %w", label, err)
	}
	defer sv.Close()
	l := newLoad(ctx, r, sv, warmup, label)
	drive(l)
	if err := l.failure(); err != nil {
		return lvl, fmt.Errorf("%s: %w", label, err)
	}
	lvl = l.summarize(lvl)
	lvl.Sequences, lvl.ContextSize = sv.Sequences(), sv.ContextSize()
	lvl.Engine = engineOf(l.stats)
	lvl.GPU, lvl.GPUUnavailable = l.sample, r.noGPU
	if l.sample != nil && l.sample.EnergyMethod != "unavailable" {
		if tokens := lvl.OutputTPS * lvl.WindowMs / 1000; tokens > 0 {
			jpt := l.sample.EnergyJ / tokens
			lvl.JPerToken = &jpt
		}
	}
	if l.sample == nil && lvl.GPUUnavailable == "" {
		lvl.GPUUnavailable = "no GPU samples"
	}
	return lvl, nil
}

// engineOf turns the server's counters over a window into the result's.
func engineOf(s llama.ServerStats) metrics.ServeEngine {
	e := metrics.ServeEngine{
		Steps: s.Steps, DecodeMs: metrics.Millis(s.DecodeTime), EngineMs: s.Perf.PromptEvalMs + s.Perf.EvalMs,
		WallMs: metrics.Millis(s.Wall), BusyMs: metrics.Millis(s.BusyWall),
		PromptTokens: s.PromptTokens, GenTokens: s.GenTokens, MaxBatch: s.MaxBatch, MaxActive: s.MaxActive,
	}
	if e.BusyMs > 0 {
		o := max(0, 1-e.DecodeMs/e.BusyMs)
		e.OutsideDecode = &o
	}
	return e
}

// gpuUnavailable says why a model's serving has no GPU figures; "" when it has.
func gpuUnavailable(mon Monitor, info llama.Info) string {
	if mon == nil {
		return "no GPU monitor"
	}
	if !info.GPU {
		return "the model runs on the CPU"
	}
	gpus, err := mon.GPUs()
	switch {
	case err != nil:
		return err.Error()
	case len(gpus) == 0:
		return "no GPU found"
	}
	return ""
}
