package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/llama"
)

// Options are what Run uses besides the Spec: how to load, what to monitor, whom to tell.
type Options struct {
	// Loader loads the model; default LoadLlama.
	Loader Loader
	// Monitor samples the GPU around each measured call; nil leaves the GPU figures out.
	Monitor Monitor
	// Progress is told about each call as it starts.
	Progress func(Event)
	// Stop, when closed, ends the run before the next call: the call under way finishes and
	// is kept, and Run returns ErrStopped with the result so far. Cancelling the context
	// instead stops within a token and drops the call under way.
	Stop <-chan struct{}
}

// ErrStopped is returned by Run when Options.Stop was closed before the run was done.
var ErrStopped = errors.New("stopped")

// Event tells what Run is about to do.
type Event struct {
	Name   string // the spec's name
	Label  string // the measure's label, "load" while loading
	Rep    int    // 1-based; 0 for a warmup call; for "load", 1 is the cold load, 2 the warm
	Reps   int
	Prompt string // the chat prompt's id
}

// Run loads the spec's model (twice: the first load is reported cold, the second warm and
// kept), runs each workload's warmup and repetitions on one session whose KV cache is reset
// before every call, and returns what it measured, with the process's peak resident memory from
// the first load on (Result.PeakRSSBytes). When ctx is cancelled or a workload fails it
// returns the result so far, marked incomplete, with the error.
func Run(ctx context.Context, spec metrics.Spec, opts Options) (metrics.Result, error) {
	started := time.Now()
	spec, err := withDefaults(spec)
	res := metrics.Result{Schema: metrics.Schema, Name: spec.Name, Spec: spec, StartedAt: started}
	if err != nil {
		return res, err
	}
	if opts.Loader == nil {
		opts.Loader = LoadLlama
	}
	r := &runner{spec: spec, opts: opts, res: &res}
	err = r.run(ctx)
	res.FinishedAt = time.Now()
	res.Complete = err == nil
	if err != nil {
		res.Error = err.Error()
	}
	return res, err
}

type runner struct {
	spec  metrics.Spec
	opts  Options
	res   *metrics.Result
	model Model
	sess  Session
	info  llama.Info
	gpus  []metrics.GPUInfo
	rng   *rand.Rand
	noGPU string // why GPU figures are unavailable
	timer *metrics.TokenTimer
	// itl pools the inter-token latencies of the measure under way's kept calls.
	itl []float64
}

func (r *runner) run(ctx context.Context) error {
	r.rng = newRNG(r.spec.Seed)
	r.timer = metrics.NewTokenTimer(r.spec.GenTokens + r.spec.ChatMaxTokens)
	r.res.Meta = collectMetadata(r.spec, r.opts.Monitor)
	r.gpus = r.res.Meta.GPUs
	r.noGPU = r.res.Meta.GPUUnavailable
	rss := selfRSS.start()
	defer func() { r.res.PeakRSSBytes, r.res.RSSUnavailable = rss() }()
	if err := r.load(ctx); err != nil {
		return err
	}
	defer r.model.Close()
	defer r.sess.Close()
	for _, w := range metrics.AllWorkloads {
		if !r.spec.Has(w) {
			continue
		}
		var err error
		switch w {
		case metrics.WorkloadPrompt:
			err = r.prompt(ctx)
		case metrics.WorkloadGenerate:
			err = r.generate(ctx, 0)
		case metrics.WorkloadDepth:
			err = r.depths(ctx)
		case metrics.WorkloadChat:
			err = r.chat(ctx)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// next is called before each call: it says whether to go on, then tells Progress.
func (r *runner) next(ctx context.Context, e Event) error {
	if err := stopped(ctx, r.opts.Stop); err != nil {
		return err
	}
	if r.opts.Progress != nil {
		e.Name = r.spec.Name
		r.opts.Progress(e)
	}
	return nil
}

func (r *runner) load(ctx context.Context) error {
	var times [2]float64
	for i := range times {
		if err := r.next(ctx, Event{Label: "load", Rep: i + 1, Reps: len(times)}); err != nil {
			return err
		}
		start := time.Now()
		m, err := r.opts.Loader(r.spec.Model, ModelOptions(r.spec)...)
		times[i] = metrics.Millis(time.Since(start))
		if err != nil {
			return fmt.Errorf("load %s: %w", r.spec.Name, err)
		}
		if i == 0 {
			m.Close()
			continue
		}
		r.model = m
	}
	r.res.Load = metrics.Load{ColdMs: times[0], WarmMs: times[1]}
	r.info = r.model.Info()
	nCtx := contextFor(r.spec, r.info.TrainContext)
	s, err := r.model.NewSession(sessionOptions(r.spec, nCtx)...)
	if err != nil {
		r.model.Close()
		return fmt.Errorf("session for %s: %w", r.spec.Name, err)
	}
	r.sess = s
	r.res.Model = modelInfo(r.info, s.ContextSize())
	if !r.spec.SkipHash {
		sum, err := fileSHA256(r.spec.Model)
		if err != nil {
			s.Close()
			r.model.Close()
			return fmt.Errorf("hash %s: %w", r.spec.Model, err)
		}
		r.res.Model.SHA256 = sum
	}
	if !r.info.GPU && r.noGPU == "" {
		r.noGPU = "the model runs on the CPU"
	}
	return nil
}

func modelInfo(info llama.Info, nCtx int) metrics.ModelInfo {
	return metrics.ModelInfo{
		Path: info.Path, FileBytes: info.FileBytes, Architecture: info.Architecture, Name: info.Name,
		Description: info.Description, Params: info.Params, WeightsBytes: info.SizeBytes,
		FileType: info.FileType.String(), Layers: info.Layers, LayersOnGPU: info.LayersOnGPU,
		LayersTotal: info.LayersTotal, TrainContext: info.TrainContext, ContextSize: nCtx,
		VocabSize: info.VocabSize, ChatTemplate: info.ChatTemplate != "",
	}
}

// newRNG is the source of the random token ids: a PCG seeded by seed, stable across Go
// versions.
func newRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x6c6c6d62656e6368))
}

// randomTokens returns n token ids drawn uniformly from the vocabulary, after BOS where the
// model wants one, as llama-bench makes its prompts.
func (r *runner) randomTokens(n int) []int32 {
	toks := make([]int32, 0, n)
	if r.info.AddBOS && r.info.BOS >= 0 {
		toks = append(toks, r.info.BOS)
	}
	for len(toks) < n {
		toks = append(toks, int32(r.rng.IntN(r.info.VocabSize)))
	}
	return toks
}

// repeat runs one measured workload: warmups, then repetitions, each after a reset and the
// setup (such as filling the cache to a depth), which is not timed.
func (r *runner) repeat(ctx context.Context, m *metrics.Measure, setup func() error, call func(fn func(llama.Token) bool) (llama.Result, error), tokensForEnergy func(metrics.Call) int) error {
	r.itl = r.itl[:0]
	for rep := -r.spec.Warmup + 1; rep <= r.spec.Repetitions; rep++ {
		if err := r.next(ctx, Event{Label: m.Label, Rep: max(rep, 0), Reps: r.spec.Repetitions}); err != nil {
			r.keepPartial(m, tokensForEnergy)
			return err
		}
		if err := r.sess.Reset(); err != nil {
			return err
		}
		if setup != nil {
			if err := setup(); err != nil {
				return fmt.Errorf("%s: %w", m.Label, err)
			}
		}
		c, itl, err := r.measure(ctx, rep > 0, call)
		if err != nil {
			return fmt.Errorf("%s: %w", m.Label, err)
		}
		if rep > 0 {
			m.Calls = append(m.Calls, c)
			r.itl = append(r.itl, itl...)
		}
	}
	r.finish(m, tokensForEnergy)
	r.res.Measures = append(r.res.Measures, *m)
	return nil
}

// keepPartial keeps the repetitions of a workload that a stop or cancellation cut short, when
// there are any: the measure then says how many it has in Reps.
func (r *runner) keepPartial(m *metrics.Measure, tokens func(metrics.Call) int) {
	if len(m.Calls) == 0 {
		return
	}
	r.finish(m, tokens)
	r.res.Measures = append(r.res.Measures, *m)
	r.res.Skipped = append(r.res.Skipped, fmt.Sprintf("%s: stopped after %d of %d repetitions", m.Label, len(m.Calls), r.spec.Repetitions))
}

// measure times one call at the token callback (metrics.TokenTimer), with the GPU monitor
// around it when monitored. It returns the call and its inter-token latencies.
func (r *runner) measure(ctx context.Context, monitored bool, call func(fn func(llama.Token) bool) (llama.Result, error)) (metrics.Call, []float64, error) {
	if err := ctx.Err(); err != nil {
		return metrics.Call{}, nil, err
	}
	var probe Probe
	if monitored && r.opts.Monitor != nil && r.noGPU == "" {
		p, err := r.opts.Monitor.Start()
		if err != nil {
			return metrics.Call{}, nil, fmt.Errorf("gpu monitor: %w", err)
		}
		probe = p
	}
	timer := r.timer
	timer.Start()
	res, err := call(func(llama.Token) bool {
		timer.Token()
		return true
	})
	timer.Stop()
	var sample *metrics.GPUSample
	if probe != nil {
		s, perr := probe.Stop()
		if perr != nil && err == nil {
			err = fmt.Errorf("gpu monitor: %w", perr)
		}
		sample = &s
	}
	if err != nil {
		return metrics.Call{}, nil, err
	}
	c := metrics.Call{
		PromptTokens:    res.PromptTokens,
		Tokens:          res.Tokens,
		Stop:            string(res.Stop),
		E2EMs:           metrics.Millis(timer.E2E()),
		EnginePromptTPS: res.Perf.PromptTokensPerSecond(),
		EngineEvalTPS:   res.Perf.EvalTokensPerSecond(),
		EnginePromptMs:  res.Perf.PromptEvalMs,
		EngineEvalMs:    res.Perf.EvalMs,
		GPU:             sample,
	}
	if res.PromptTime > 0 && res.PromptTokens > 0 {
		c.PromptTPS = float64(res.PromptTokens) / res.PromptTime.Seconds()
	}
	if ttft, ok := timer.TTFT(); ok {
		c.TTFTMs = metrics.Millis(ttft)
	}
	c.DecodeTPS, _ = timer.DecodeTPS()
	itl := timer.ITLMs()
	c.ITL = metrics.Summarize(itl)
	return c, itl, nil
}

func (r *runner) prompt(ctx context.Context) error {
	n := r.spec.PromptTokens
	m := &metrics.Measure{Workload: metrics.WorkloadPrompt, Label: fmt.Sprintf("pp%d", n)}
	if n > r.sess.ContextSize() {
		r.res.Skipped = append(r.res.Skipped, fmt.Sprintf("%s: %d tokens do not fit in the context of %d", m.Label, n, r.sess.ContextSize()))
		return nil
	}
	toks := r.randomTokens(n)
	return r.repeat(ctx, m, nil, func(func(llama.Token) bool) (llama.Result, error) {
		return r.sess.Prefill(ctx, toks)
	}, func(c metrics.Call) int { return c.PromptTokens })
}

func (r *runner) generate(ctx context.Context, depth int) error {
	n := r.spec.GenTokens
	m := &metrics.Measure{Workload: metrics.WorkloadGenerate, Label: fmt.Sprintf("tg%d", n), Depth: depth}
	var setup func() error
	if depth > 0 {
		m.Workload, m.Label = metrics.WorkloadDepth, fmt.Sprintf("tg%d@d%d", n, depth)
		fill := r.randomTokens(depth)
		setup = func() error {
			_, err := r.sess.Prefill(ctx, fill)
			return err
		}
	}
	first := r.randomTokens(1)[:1]
	if depth > 0 {
		first = []int32{int32(r.rng.IntN(r.info.VocabSize))}
	}
	opts := llama.GenerateOptions{MaxTokens: n, IgnoreEOG: true}
	return r.repeat(ctx, m, setup, func(fn func(llama.Token) bool) (llama.Result, error) {
		return r.sess.GenerateTokens(ctx, first, opts, fn)
	}, func(c metrics.Call) int { return c.Tokens })
}

func (r *runner) depths(ctx context.Context) error {
	for _, d := range r.spec.Depths {
		if d+r.spec.GenTokens+1 > r.sess.ContextSize() {
			r.res.Skipped = append(r.res.Skipped, fmt.Sprintf("depth %d: %d + %d tokens do not fit in the context of %d", d, d, r.spec.GenTokens+1, r.sess.ContextSize()))
			continue
		}
		if d == 0 && r.spec.Has(metrics.WorkloadGenerate) {
			continue // measured already as tg
		}
		if err := r.generate(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) chat(ctx context.Context) error {
	m := &metrics.Measure{Workload: metrics.WorkloadChat, Label: "chat"}
	texts := make([]llama.Prompt, len(r.spec.Prompts))
	for i, p := range r.spec.Prompts {
		text := llama.Text(p.Text)
		if r.info.ChatTemplate != "" {
			t, err := r.model.ChatPrompt([]llama.Message{{Role: "user", Content: p.Text}})
			if err != nil {
				return fmt.Errorf("chat prompt %s: %w", p.ID, err)
			}
			text = t
		}
		texts[i] = text
	}
	if r.info.ChatTemplate == "" {
		r.res.Skipped = append(r.res.Skipped, "chat template: the model has none; prompts were sent as plain text")
	}
	opts := llama.GenerateOptions{MaxTokens: r.spec.ChatMaxTokens}
	perPrompt := make([][]metrics.Call, len(texts))
	r.itl = r.itl[:0]
	replies := make([]string, len(texts))
	for rep := -r.spec.Warmup + 1; rep <= r.spec.Repetitions; rep++ {
		for i, text := range texts {
			if rep <= 0 && i > 0 {
				break // a warmup runs the first prompt only
			}
			if err := r.next(ctx, Event{Label: m.Label, Rep: max(rep, 0), Reps: r.spec.Repetitions, Prompt: r.spec.Prompts[i].ID}); err != nil {
				r.keepPartial(m, func(c metrics.Call) int { return c.Tokens })
				return err
			}
			if err := r.sess.Reset(); err != nil {
				return err
			}
			var reply string
			c, itl, err := r.measure(ctx, rep > 0, func(fn func(llama.Token) bool) (llama.Result, error) {
				res, err := r.sess.Generate(ctx, text, opts, fn)
				reply = res.Text
				return res, err
			})
			if err != nil {
				return fmt.Errorf("chat %s: %w", r.spec.Prompts[i].ID, err)
			}
			if rep <= 0 {
				continue
			}
			c.PromptID = r.spec.Prompts[i].ID
			m.Calls = append(m.Calls, c)
			r.itl = append(r.itl, itl...)
			perPrompt[i] = append(perPrompt[i], c)
			if rep == 1 {
				replies[i] = reply
			}
		}
	}
	r.finish(m, func(c metrics.Call) int { return c.Tokens })
	r.res.Measures = append(r.res.Measures, *m)
	for i, calls := range perPrompt {
		p := metrics.ChatPrompt{ID: r.spec.Prompts[i].ID, Lang: r.spec.Prompts[i].Lang, Stops: map[string]int{}, Reply: replies[i]}
		p.Tokens = summarizeCalls(calls, func(c metrics.Call) float64 { return float64(c.Tokens) })
		p.E2EMs = summarizeCalls(calls, func(c metrics.Call) float64 { return c.E2EMs })
		p.TTFTMs = summarizeCalls(calls, func(c metrics.Call) float64 { return c.TTFTMs })
		p.DecodeTPS = summarizeCalls(calls, decodeTPS)
		for _, c := range calls {
			p.Stops[c.Stop]++
		}
		r.res.Chat = append(r.res.Chat, p)
	}
	return nil
}

// finish aggregates a measure's calls; tokens says how many tokens a call's energy is spent on.
func (r *runner) finish(m *metrics.Measure, tokens func(metrics.Call) int) {
	calls := m.Calls
	m.Reps = len(calls)
	m.PromptTokens = summarizeCalls(calls, func(c metrics.Call) float64 { return float64(c.PromptTokens) })
	m.Tokens = summarizeCalls(calls, func(c metrics.Call) float64 { return float64(c.Tokens) })
	m.TTFTMs = summarizeCalls(calls, func(c metrics.Call) float64 { return nonZero(c.TTFTMs) })
	m.PromptTPS = summarizeCalls(calls, func(c metrics.Call) float64 { return nonZero(c.PromptTPS) })
	m.DecodeTPS = summarizeCalls(calls, decodeTPS)
	m.E2EMs = summarizeCalls(calls, func(c metrics.Call) float64 { return c.E2EMs })
	m.EnginePromptTPS = summarizeCalls(calls, func(c metrics.Call) float64 { return nonZero(c.EnginePromptTPS) })
	m.EngineEvalTPS = summarizeCalls(calls, func(c metrics.Call) float64 { return nonZero(c.EngineEvalTPS) })
	m.ITLMs = metrics.Summarize(r.itl)
	m.HarnessOverhead = overhead(m.DecodeTPS, m.EngineEvalTPS)
	m.PromptOverhead = overhead(m.PromptTPS, m.EnginePromptTPS)
	m.GPU, m.GPUUnavailable = r.gpuMeasure(m, tokens)
}

func (r *runner) gpuMeasure(m *metrics.Measure, tokens func(metrics.Call) int) (*metrics.GPUMeasure, string) {
	if r.noGPU != "" {
		return nil, r.noGPU
	}
	if r.opts.Monitor == nil {
		return nil, "no GPU monitor"
	}
	g := &metrics.GPUMeasure{}
	var proc, peak, base, energy, jpt, power, peakPower, samples, interval, roof []float64
	seen := true
	bw := r.peakBandwidth()
	for _, c := range m.Calls {
		s := c.GPU
		if s == nil {
			continue
		}
		seen = seen && s.ProcessSeen
		proc = append(proc, mib(s.PeakProcessBytes))
		peak = append(peak, mib(s.PeakUsedBytes))
		base = append(base, mib(s.BaselineUsedBytes))
		energy = append(energy, s.EnergyJ)
		if n := tokens(c); n > 0 && s.EnergyMethod != "unavailable" {
			jpt = append(jpt, s.EnergyJ/float64(n))
		}
		power = append(power, s.MeanPowerW)
		peakPower = append(peakPower, s.PeakPowerW)
		samples = append(samples, float64(s.Samples))
		interval = append(interval, s.IntervalMs)
		g.EnergyMethod = s.EnergyMethod
		if m.Workload != metrics.WorkloadPrompt && bw > 0 && c.DecodeTPS > 0 {
			roof = append(roof, 100*float64(r.info.SizeBytes)*c.DecodeTPS/bw)
		}
	}
	if len(peak) == 0 {
		return nil, "no GPU samples"
	}
	if seen {
		st := metrics.Summarize(proc)
		g.PeakProcessMiB = &st
	}
	g.PeakDeviceUsedMiB = metrics.Summarize(peak)
	g.BaselineDeviceUsedMiB = metrics.Summarize(base)
	g.EnergyJ = metrics.Summarize(energy)
	g.JPerToken = metrics.Summarize(jpt)
	g.MeanPowerW = metrics.Summarize(power)
	g.PeakPowerW = metrics.Summarize(peakPower)
	g.Samples = metrics.Summarize(samples)
	g.IntervalMs = metrics.Summarize(interval)
	if len(roof) > 0 {
		st := metrics.Summarize(roof)
		g.RooflinePct = &st
	}
	return g, ""
}

// peakBandwidth is the bandwidth of the fastest GPU watched: with layers split over several
// GPUs a token still passes through them one after another.
func (r *runner) peakBandwidth() float64 {
	bw := 0.0
	for _, g := range r.gpus {
		bw = max(bw, g.PeakBandwidthBytesPerSec)
	}
	return bw
}

func summarizeCalls(calls []metrics.Call, f func(metrics.Call) float64) metrics.Stat {
	v := make([]float64, len(calls))
	for i, c := range calls {
		v[i] = f(c)
	}
	return metrics.Summarize(v)
}

// decodeTPS leaves out calls with fewer than two tokens, which have no decode rate.
func decodeTPS(c metrics.Call) float64 {
	if c.Tokens < 2 {
		return nan
	}
	return c.DecodeTPS
}

func overhead(harness, engine metrics.Stat) *float64 {
	if harness.N == 0 || engine.N == 0 || engine.Mean <= 0 {
		return nil
	}
	o := 1 - harness.Mean/engine.Mean
	return &o
}

// stopped is ctx's error, or ErrStopped once stop is closed.
func stopped(ctx context.Context, stop <-chan struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-stop:
		return ErrStopped
	default:
	}
	return nil
}

var nan = func() float64 { var z float64; return z / z }()

func nonZero(x float64) float64 {
	if x == 0 {
		return nan
	}
	return x
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
