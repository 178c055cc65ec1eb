package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/llama"
)

// FitOptions are what RunFit uses besides its specs. Every field has a default over package
// llama; the tests replace them.
type FitOptions struct {
	// Loader loads the model; default LoadLlama.
	Loader Loader
	// Planner plans a placement; default llama.PlanPlacement.
	Planner func(path string, req llama.PlanRequest) (llama.Plan, error)
	// GPU reports whether a GPU backend is loaded; default llama.HasGPU. Without one RunFit
	// plans and loads nothing: n_gpu_layers means nothing on the CPU.
	GPU func() bool
	// Monitor samples the process's GPU memory over each load. Without one the loads are
	// measured for speed alone, and no budget can be checked.
	Monitor Monitor
	// FreeGPU reads the free memory of the GPU a plan places the model on, and names it;
	// default: llama.Devices' first GPU. It sizes the ballast.
	FreeGPU func() (free uint64, name string, err error)
	// Ballast holds size bytes of that GPU unused during a load, so that only the budget is
	// free there, as on a card of that size; default llama.NewBallast.
	Ballast func(size uint64) (io.Closer, error)
	// Progress is told about each load and call as it starts.
	Progress func(Event)
	// Stop, when closed, ends the sweep before its next load, keeping what was done.
	Stop <-chan struct{}
	// Clock reads the time for the token timer; nil means time.Now.
	Clock func() time.Time
}

func (o *FitOptions) defaults() {
	if o.Loader == nil {
		o.Loader = LoadLlama
	}
	if o.Planner == nil {
		o.Planner = llama.PlanPlacement
	}
	if o.GPU == nil {
		o.GPU = llama.HasGPU
	}
	if o.FreeGPU == nil {
		o.FreeGPU = firstGPUFree
	}
	if o.Ballast == nil {
		o.Ballast = func(size uint64) (io.Closer, error) {
			b, err := llama.NewBallast(size)
			if err != nil {
				return nil, err
			}
			return b, nil
		}
	}
}

// firstGPUFree is the free memory of the first GPU, the one a plan places a model on.
func firstGPUFree() (uint64, string, error) {
	devs, err := llama.Devices()
	if err != nil {
		return 0, "", err
	}
	for _, want := range []llama.DeviceType{llama.DeviceGPU, llama.DeviceIGPU} {
		for _, d := range devs {
			if d.Type == want {
				return d.FreeBytes, d.Description, nil
			}
		}
	}
	return 0, "", llama.ErrNoGPU
}

// NotMeasuredNoGPU is why a fit on a machine without a GPU holds plans alone.
const NotMeasuredNoGPU = "no GPU: planned, not measured"

// RunFit answers "will this model fit my GPU?" for spec's model, for each budget and KV cache
// type of fit:
//
//   - it plans the placement at fit's context (llama.PlanPlacement): the layers on the GPU and
//     the predicted memory, or why the budget cannot hold the model at all;
//   - it finds the largest context the placement holds: doubling the context, up to the
//     training context, while the planner keeps as many layers on the GPU and the KV cache
//     where it was; the next context is the one beyond;
//   - where a GPU is there, it loads each plan with its options and measures the prompt and
//     generation workloads of spec (prompt and decode tok/s, TTFT) and the process's peak GPU
//     memory (Monitor) from before the load to the end of its last call, with a ballast
//     holding the rest of the GPU so that only the budget is free. It then loads the
//     placement at its largest context (a prompt and a few tokens), and at the context beyond
//     with the placement held, which must be refused with ErrOutOfMemory. Where the card
//     holds it all the same (the planner errs high), the doubling goes on with real loads
//     until one is refused: FitStep.LargestContext is then what the card held.
//
// Without a GPU it plans alone, and says so (metrics.Fit.NotMeasured). A planner's refusal
// (ErrOutOfMemory) is a step's answer; a load that fails is recorded in the step and the sweep
// goes on. It returns an error for a bad spec or a file the planner cannot read, and
// ErrStopped or ctx's error, with the steps done, when stopped.
func RunFit(ctx context.Context, spec metrics.Spec, fit metrics.FitSpec, opts FitOptions) (metrics.Fit, error) {
	opts.defaults()
	out := metrics.Fit{Spec: fit}
	spec.Workloads = []metrics.Workload{metrics.WorkloadPrompt, metrics.WorkloadGenerate}
	spec, err := withDefaults(spec)
	if err != nil {
		return out, err
	}
	if len(fit.KVTypes) == 0 {
		fit.KVTypes = []string{string(llama.KVF16)}
		out.Spec.KVTypes = fit.KVTypes
	}
	if err := checkFitSpec(fit); err != nil {
		return out, fmt.Errorf("fit %s: %w", spec.Name, err)
	}
	f := &fitter{spec: spec, fit: fit, opts: opts, out: &out, gpu: opts.GPU()}
	if !f.gpu {
		out.NotMeasured = NotMeasuredNoGPU
	} else {
		out.Measured = true
		if _, name, err := opts.FreeGPU(); err == nil {
			out.GPU = name
		}
	}
	err = f.run(ctx)
	if err != nil {
		out.Error = err.Error()
	}
	return out, err
}

func checkFitSpec(fit metrics.FitSpec) error {
	if len(fit.Budgets) == 0 {
		return errors.New("no budget")
	}
	for _, b := range fit.Budgets {
		if b == 0 {
			return errors.New("a budget of 0 bytes")
		}
	}
	for _, t := range fit.KVTypes {
		switch llama.KVCacheType(t) {
		case llama.KVF16, llama.KVQ8_0, llama.KVQ4_0:
		default:
			return fmt.Errorf("unknown KV cache type %q (f16, q8_0, q4_0)", t)
		}
	}
	if fit.ContextSize < 0 {
		return fmt.Errorf("context %d is negative", fit.ContextSize)
	}
	return nil
}

type fitter struct {
	spec metrics.Spec
	fit  metrics.FitSpec
	opts FitOptions
	out  *metrics.Fit
	gpu  bool
}

func (f *fitter) run(ctx context.Context) error {
	for _, budget := range f.fit.Budgets {
		for _, kv := range f.fit.KVTypes {
			if err := stopped(ctx, f.opts.Stop); err != nil {
				return err
			}
			st, err := f.step(ctx, budget, kv)
			f.out.Steps = append(f.out.Steps, st)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// plan plans the model for budget with a KV cache of kv and a context of nCtx tokens (0: the
// planner's default).
func (f *fitter) plan(budget uint64, kv string, nCtx int) (llama.Plan, error) {
	s := f.spec
	s.KVCacheType = kv
	return f.opts.Planner(s.Model, llama.PlanRequest{Budget: budget, HostMemory: f.fit.HostMemory, Session: sessionOptions(s, nCtx)})
}

// step plans, sweeps the context and measures one budget and KV cache type. Its error stops
// the sweep: a stop, a cancellation, or a planner that fails for another reason than memory
// (a file that is not a model).
func (f *fitter) step(ctx context.Context, budget uint64, kv string) (metrics.FitStep, error) {
	st := metrics.FitStep{BudgetBytes: budget, KVType: kv}
	p, err := f.plan(budget, kv, f.fit.ContextSize)
	if err != nil {
		st.PlanError = err.Error()
		if !errors.Is(err, llama.ErrOutOfMemory) {
			return st, err
		}
		return st, nil
	}
	fp := fitPlan(p)
	st.Plan = &fp
	f.out.Layers, f.out.TrainContext, f.out.Context = p.Layers+1, p.TrainContext, p.ContextSize
	largest := f.sweep(p, &st)
	if !f.gpu {
		return st, nil
	}

	label := fmt.Sprintf("%s %s", budgetLabel(budget), kv)
	st.Load = f.load(ctx, fmt.Sprintf("%s, %d tokens", label, p.ContextSize), budget, p.ModelOptions(), p.SessionOptions(), p.GPU.Total(), p.ContextSize, true)
	if err := stopped(ctx, f.opts.Stop); err != nil {
		return st, err
	}
	if largest.ContextSize > p.ContextSize {
		st.MaxContextLoad = f.load(ctx, fmt.Sprintf("%s, largest context, %d tokens", label, largest.ContextSize), budget,
			largest.ModelOptions(), largest.SessionOptions(), largest.GPU.Total(), largest.ContextSize, false)
		if err := stopped(ctx, f.opts.Stop); err != nil {
			return st, err
		}
	}
	if st.Beyond != nil {
		return st, f.beyond(ctx, label, budget, p, &st)
	}
	return st, nil
}

// beyond loads the placement p, held, at the context one step beyond its largest, which a card
// of the budget must refuse. The planner errs on the high side, so the card may hold it all
// the same: that load then joins the step's BeyondHeld, and the next doubling is loaded, until
// one is refused or fails, or the training context is reached.
func (f *fitter) beyond(ctx context.Context, label string, budget uint64, p llama.Plan, st *metrics.FitStep) error {
	limit := max(p.TrainContext, p.ContextSize)
	for {
		b := st.Beyond
		opts := append(p.SessionOptions(), llama.WithContextSize(b.Context))
		b.Load = f.load(ctx, fmt.Sprintf("%s, one step beyond, %d tokens", label, b.Context), budget,
			p.ModelOptions(), opts, 0, b.Context, false)
		if err := stopped(ctx, f.opts.Stop); err != nil {
			return err
		}
		// Only a load with the rest of the GPU held, which kept to the budget, says what a
		// card of the budget holds.
		if l := b.Load; l.Error != "" || l.BallastBytes == 0 || l.Breach(budget) {
			return nil
		}
		st.BeyondHeld = append(st.BeyondHeld, b.Load)
		if b.Context >= limit {
			st.Beyond = nil
			return nil
		}
		next := min(2*b.Context, limit)
		st.Beyond = &metrics.FitBeyond{Context: next}
		if q, err := f.plan(p.Budget, string(p.KVType), next); err != nil {
			st.Beyond.PlanError = err.Error()
		} else {
			st.Beyond.PlannedLayers = q.GPULayers
		}
	}
}

// sweep finds the largest context of the doubling sweep from p's context at which the planner
// keeps p's placement, up to the training context, and the context beyond; it returns the plan
// at the largest.
func (f *fitter) sweep(p llama.Plan, st *metrics.FitStep) llama.Plan {
	largest := p
	limit := max(p.TrainContext, p.ContextSize)
	for {
		if largest.ContextSize >= limit {
			st.MaxContext, st.MaxContextCapped = largest.ContextSize, true
			return largest
		}
		next := min(2*largest.ContextSize, limit)
		q, err := f.plan(p.Budget, string(p.KVType), next)
		switch {
		case err != nil:
			st.Beyond = &metrics.FitBeyond{Context: next, PlanError: err.Error()}
		case q.GPULayers < p.GPULayers || q.KVOnGPU != p.KVOnGPU:
			st.Beyond = &metrics.FitBeyond{Context: next, PlannedLayers: q.GPULayers}
		default:
			largest = q
			continue
		}
		st.MaxContext = largest.ContextSize
		return largest
	}
}

// load loads the model with mopts, makes a session with sopts and, with workloads, measures the
// spec's prompt and generation workloads on it, else a prompt of one batch and a few tokens;
// the process's GPU and resident memory are measured from before the load to the end of the
// last call, with a ballast so that only the budget is free on the GPU.
func (f *fitter) load(ctx context.Context, label string, budget uint64, mopts []llama.ModelOption, sopts []llama.SessionOption, planned uint64, nCtx int, workloads bool) *metrics.FitLoad {
	l := &metrics.FitLoad{Context: nCtx, PlannedGPUBytes: planned}
	if f.opts.Progress != nil {
		f.opts.Progress(Event{Name: f.spec.Name, Label: label + ": load", Rep: 1, Reps: 1})
	}
	ballast := f.ballast(budget, l)
	defer ballast.Close()
	var probe Probe
	if f.opts.Monitor == nil {
		l.VRAMUnavailable = "no GPU monitor"
	} else if p, err := f.opts.Monitor.Start(); err != nil {
		l.VRAMUnavailable = "gpu monitor: " + err.Error()
	} else {
		probe = p
	}
	rss := selfRSS.start()

	err := f.loadAndCall(ctx, label, mopts, sopts, workloads, l)

	if probe != nil {
		s, perr := probe.Stop()
		switch {
		case perr != nil:
			l.VRAMUnavailable = "gpu monitor: " + perr.Error()
		case !s.ProcessSeen:
			l.VRAMUnavailable = "process not seen by NVML"
		default:
			l.PeakVRAMBytes = s.PeakProcessBytes - min(s.PeakProcessBytes, l.BallastBytes)
		}
	}
	l.PeakRSSBytes, l.RSSUnavailable = rss()
	if err != nil {
		l.Error = err.Error()
		l.OutOfMemory = errors.Is(err, llama.ErrOutOfMemory)
	}
	return l
}

func (f *fitter) loadAndCall(ctx context.Context, label string, mopts []llama.ModelOption, sopts []llama.SessionOption, workloads bool, l *metrics.FitLoad) error {
	m, err := f.opts.Loader(f.spec.Model, mopts...)
	if err != nil {
		return fmt.Errorf("load %s: %w", f.spec.Name, err)
	}
	defer m.Close()
	l.LayersOnGPU = m.Info().LayersOnGPU
	s, err := m.NewSession(sopts...)
	if err != nil {
		return fmt.Errorf("session for %s: %w", f.spec.Name, err)
	}
	defer s.Close()
	res := metrics.Result{}
	r := &runner{spec: f.spec, res: &res, model: m, sess: s, info: m.Info(), rng: newRNG(f.spec.Seed),
		timer: metrics.NewTokenTimer(f.spec.GenTokens), noGPU: "sampled over the whole load: see the fit's peak VRAM",
		opts: Options{Stop: f.opts.Stop, Progress: f.progress(label)}}
	r.timer.Clock = f.opts.Clock
	if !workloads {
		// One batch of prompt, as large as the context allows, reserves what the largest graph
		// takes; a few tokens after it exercise decoding at that size.
		n := min(metrics.DefaultPromptTokens, s.ContextSize()-8)
		if _, err := s.Prefill(ctx, r.randomTokens(n)); err != nil {
			return fmt.Errorf("prompt of %d tokens: %w", n, err)
		}
		first := []int32{int32(r.rng.IntN(r.info.VocabSize))}
		_, err := s.GenerateTokens(ctx, first, llama.GenerateOptions{MaxTokens: 4, IgnoreEOG: true}, nil)
		return err
	}
	err = r.prompt(ctx)
	if err == nil {
		err = r.generate(ctx, 0)
	}
	l.Measures = res.Measures
	return err
}

// progress tells opts.Progress about a load's calls, under the label of its budget.
func (f *fitter) progress(label string) func(Event) {
	if f.opts.Progress == nil {
		return nil
	}
	return func(e Event) {
		e.Label = label + ": " + e.Label
		f.opts.Progress(e)
	}
}

// ballast holds what the GPU has free beyond the budget, given what the process already takes
// there, and records its size in l, or why there is none.
func (f *fitter) ballast(budget uint64, l *metrics.FitLoad) io.Closer {
	if f.opts.Monitor == nil {
		l.NoBallast = "no GPU monitor to size it"
		return nopCloser{}
	}
	free, _, err := f.opts.FreeGPU()
	if err != nil {
		l.NoBallast = err.Error()
		return nopCloser{}
	}
	p, err := f.opts.Monitor.Start()
	if err != nil {
		l.NoBallast = "gpu monitor: " + err.Error()
		return nopCloser{}
	}
	s, err := p.Stop()
	if err != nil {
		l.NoBallast = "gpu monitor: " + err.Error()
		return nopCloser{}
	}
	used := s.PeakProcessBytes // what this process holds already: CUDA's context
	if used >= budget || free <= budget-used {
		l.NoBallast = fmt.Sprintf("the GPU has %.2f GiB free and the process takes %.2f GiB: no more than the budget is free", inGiB(free), inGiB(used))
		return nopCloser{}
	}
	size := free - (budget - used)
	b, err := f.opts.Ballast(size)
	if err != nil {
		l.NoBallast = err.Error()
		return nopCloser{}
	}
	l.BallastBytes = size
	return b
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

func inGiB(b uint64) float64 { return float64(b) / metrics.GiB }

// budgetLabel names a budget in GiB: "8 GiB", "5.5 GiB".
func budgetLabel(b uint64) string { return fmt.Sprintf("%g GiB", inGiB(b)) }

// fitPlan is p as values.
func fitPlan(p llama.Plan) metrics.FitPlan {
	mem := func(m llama.Memory) metrics.FitMemory {
		return metrics.FitMemory{Weights: m.Weights, KVCache: m.KVCache, Compute: m.Compute, Output: m.Output, Reserve: m.Reserve, Total: m.Total()}
	}
	return metrics.FitPlan{
		GPULayers: p.GPULayers, Layers: p.Layers + 1, KVOnGPU: p.KVOnGPU, ContextSize: p.ContextSize,
		GPU: mem(p.GPU), Host: mem(p.Host), DecidedBy: string(p.DecidedBy), Notes: p.Notes,
	}
}
