package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
	"github.com/local-llm-bench/llmbench/llama"
)

const gib = metrics.GiB

// twinPlanner plans the Mistral-7B twin from its header, whatever the path: the planner's own
// arithmetic, with no file and no GPU.
func twinPlanner(t *testing.T) func(string, llama.PlanRequest) (llama.Plan, error) {
	t.Helper()
	spec, ok := gguf.ReferenceSpec("mistral-7b-instruct-v0.2")
	require.True(t, ok)
	header, err := gguf.QuantizedHeader(spec, "Q4_K_M")
	require.NoError(t, err)
	return func(_ string, req llama.PlanRequest) (llama.Plan, error) { return llama.PlanHeader(header, req) }
}

// planAt plans the twin as RunFit does, for a check of its answers.
func planAt(t *testing.T, budget uint64, kv string, nCtx int) (llama.Plan, error) {
	s, err := withDefaults(metrics.Spec{Model: "twin.gguf", KVCacheType: kv})
	require.NoError(t, err)
	return twinPlanner(t)("", llama.PlanRequest{Budget: budget, HostMemory: 64 * gib, Session: sessionOptions(s, nCtx)})
}

// fakeCard is a GPU for RunFit: its memory is shared by a CUDA context, a ballast, a model and
// a session, and a load or a session that does not fit in what is free is refused with
// ErrOutOfMemory, as on a real card. What a load takes is scripted: modelBytes for the
// weights, and for the session the bytes of the kind of load under way, which the fitter's
// progress event names ("largest context", "one step beyond", else the plan at its context).
type fakeCard struct {
	mu                      sync.Mutex
	total, cuda             uint64
	ballast, model, session uint64
	probes                  map[*cardProbe]bool
	modelBytes              uint64
	sessionBytes            map[string]uint64
	kind                    string
	noBallast               error
	// holdsBeyond, where set, says which contexts one step beyond the card holds all the same,
	// with a session of sessionBytes["held beyond"].
	holdsBeyond                  func(nCtx int) bool
	ctx                          int      // the context of the load under way, from its label
	freeAtLoad                   []uint64 // what was free when each load began
	loads, sessions, ballastAsks int
}

func newFakeCard() *fakeCard {
	return &fakeCard{
		total: 141 * gib, cuda: 600 << 20, probes: map[*cardProbe]bool{},
		modelBytes:   4 * gib,
		sessionBytes: map[string]uint64{"plan": 1 * gib, "largest context": 2 * gib, "one step beyond": 40 * gib},
	}
}

func (c *fakeCard) used() uint64 { return c.cuda + c.ballast + c.model + c.session }

// take adds b to *where if it fits, updating the peaks of the probes running.
func (c *fakeCard) take(where *uint64, b uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if free := c.total - c.used(); b > free {
		return fmt.Errorf("fake card: %w: %d bytes asked, %d free", llama.ErrOutOfMemory, b, free)
	}
	*where += b
	for p := range c.probes {
		p.peak = max(p.peak, c.used())
	}
	return nil
}

func (c *fakeCard) give(where *uint64, b uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	*where -= b
}

func (c *fakeCard) GPUs() ([]metrics.GPUInfo, error) {
	return []metrics.GPUInfo{{Name: "Fake card"}}, nil
}

func (c *fakeCard) Start() (Probe, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := &cardProbe{c: c, peak: c.used()}
	c.probes[p] = true
	return p, nil
}

type cardProbe struct {
	c    *fakeCard
	peak uint64
}

func (p *cardProbe) Stop() (metrics.GPUSample, error) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	delete(p.c.probes, p)
	return metrics.GPUSample{PeakProcessBytes: p.peak, ProcessSeen: true}, nil
}

func (c *fakeCard) free() (uint64, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total - c.used(), "Fake card", nil
}

func (c *fakeCard) hold(size uint64) (io.Closer, error) {
	c.ballastAsks++
	if c.noBallast != nil {
		return nil, c.noBallast
	}
	if err := c.take(&c.ballast, size); err != nil {
		return nil, err
	}
	return closer(func() { c.give(&c.ballast, size) }), nil
}

type closer func()

func (f closer) Close() error { f(); return nil }

func (c *fakeCard) progress(e Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !strings.HasSuffix(e.Label, ": load") {
		return
	}
	c.kind = "plan"
	for _, k := range []string{"largest context", "one step beyond"} {
		if strings.Contains(e.Label, k) {
			c.kind = k
		}
	}
	words := strings.Fields(strings.TrimSuffix(e.Label, " tokens: load"))
	c.ctx, _ = strconv.Atoi(words[len(words)-1])
}

func (c *fakeCard) loader(path string, opts ...llama.ModelOption) (Model, error) {
	free, _, _ := c.free()
	c.freeAtLoad = append(c.freeAtLoad, free)
	c.loads++
	if err := c.take(&c.model, c.modelBytes); err != nil {
		return nil, err
	}
	return &cardModel{fakeModel: newFakeModel(), c: c}, nil
}

type cardModel struct {
	*fakeModel
	c *fakeCard
}

func (m *cardModel) NewSession(opts ...llama.SessionOption) (Session, error) {
	m.c.sessions++
	need := m.c.sessionBytes[m.c.kind]
	if m.c.kind == "one step beyond" && m.c.holdsBeyond != nil && m.c.holdsBeyond(m.c.ctx) {
		need = m.c.sessionBytes["held beyond"]
	}
	if err := m.c.take(&m.c.session, need); err != nil {
		return nil, err
	}
	s, _ := m.fakeModel.NewSession(opts...)
	return &cardSession{fakeSession: s.(*fakeSession), release: func() { m.c.give(&m.c.session, need) }}, nil
}

func (m *cardModel) Close() error {
	m.c.give(&m.c.model, m.c.modelBytes)
	return m.fakeModel.Close()
}

type cardSession struct {
	*fakeSession
	release func()
}

func (s *cardSession) Close() error {
	s.release()
	return s.fakeSession.Close()
}

func fitSpec() metrics.Spec {
	return metrics.Spec{Name: "twin", Model: "twin.gguf", Repetitions: 2, Warmup: -1, PromptTokens: 64, GenTokens: 8, SkipHash: true}
}

// Without a GPU RunFit plans each budget and KV type and loads nothing: the plans are the
// planner's, the largest context is one the planner keeps the placement at and the next one
// is not, the training context caps the sweep, and a budget too small for the compute buffers
// is an answer, not an error.
func TestFitPlansWithoutAGPU(t *testing.T) {
	card := newFakeCard()
	budgets := []uint64{512 << 20, 4 * gib, 8 * gib, 24 * gib}
	kvs := []string{"f16", "q8_0"}
	fit, err := RunFit(context.Background(), fitSpec(), metrics.FitSpec{Budgets: budgets, KVTypes: kvs, HostMemory: 64 * gib},
		FitOptions{Planner: twinPlanner(t), GPU: func() bool { return false }, Loader: card.loader, Monitor: card, Ballast: card.hold, FreeGPU: card.free})
	require.NoError(t, err)
	assert.False(t, fit.Measured)
	assert.Equal(t, NotMeasuredNoGPU, fit.NotMeasured)
	assert.Zero(t, card.loads, "nothing is loaded without a GPU")
	assert.Zero(t, card.ballastAsks)
	assert.Equal(t, 33, fit.Layers)
	assert.Equal(t, 32768, fit.TrainContext)
	assert.Equal(t, 4096, fit.Context)
	require.Len(t, fit.Steps, len(budgets)*len(kvs))

	for i, st := range fit.Steps {
		budget, kv := budgets[i/len(kvs)], kvs[i%len(kvs)]
		t.Run(fmt.Sprintf("%s/%s", budgetLabel(budget), kv), func(t *testing.T) {
			assert.Equal(t, budget, st.BudgetBytes)
			assert.Equal(t, kv, st.KVType)
			assert.Nil(t, st.Load)
			want, err := planAt(t, budget, kv, 0)
			if err != nil {
				assert.ErrorIs(t, err, llama.ErrOutOfMemory)
				assert.Equal(t, err.Error(), st.PlanError)
				assert.Nil(t, st.Plan)
				return
			}
			require.NotNil(t, st.Plan)
			assert.Equal(t, want.GPULayers, st.Plan.GPULayers)
			assert.Equal(t, want.GPU.Total(), st.Plan.GPU.Total)
			assert.Equal(t, want.Host.Total(), st.Plan.Host.Total)
			assert.Equal(t, 4096, st.Plan.ContextSize)

			at, err := planAt(t, budget, kv, st.MaxContext)
			require.NoError(t, err)
			assert.Equal(t, want.GPULayers, at.GPULayers, "the placement holds at the largest context")
			if st.MaxContextCapped {
				assert.Equal(t, 32768, st.MaxContext)
				assert.Nil(t, st.Beyond)
				return
			}
			require.NotNil(t, st.Beyond)
			assert.Equal(t, 2*st.MaxContext, st.Beyond.Context)
			beyond, err := planAt(t, budget, kv, st.Beyond.Context)
			if err != nil {
				assert.Equal(t, err.Error(), st.Beyond.PlanError)
				return
			}
			assert.Less(t, beyond.GPULayers, want.GPULayers, "one step beyond, a layer leaves the GPU")
			assert.Equal(t, beyond.GPULayers, st.Beyond.PlannedLayers)
		})
	}
	// What the twin gives: 512 MiB cannot hold the compute buffers; 4 GiB holds part of the
	// model at 4k; 24 GiB all of it up to its training context; q8_0 holds a larger context
	// than f16 at 8 GiB.
	assert.Contains(t, fit.Steps[0].PlanError, "cannot hold even the compute buffers")
	assert.Less(t, fit.Steps[2].Plan.GPULayers, 33)
	assert.True(t, fit.Steps[6].MaxContextCapped)
	assert.Equal(t, 33, fit.Steps[6].Plan.GPULayers)
	assert.Greater(t, fit.Steps[5].MaxContext, fit.Steps[4].MaxContext)
}

// On a GPU each plan is loaded with a ballast that leaves only the budget free, and measured:
// the peak VRAM is the process's less the ballast, the speeds come from the token timer's
// clock, the largest context loads, and the step beyond, which the card cannot hold, is
// refused with ErrOutOfMemory while the sweep goes on.
func TestFitMeasuresEachPlanOnAGPU(t *testing.T) {
	card := newFakeCard()
	budgets := []uint64{8 * gib, 24 * gib}
	fit, err := RunFit(context.Background(), fitSpec(), metrics.FitSpec{Budgets: budgets, HostMemory: 64 * gib},
		FitOptions{Planner: twinPlanner(t), GPU: func() bool { return true }, Loader: card.loader, Monitor: card,
			Ballast: card.hold, FreeGPU: card.free, Progress: card.progress, Clock: newTickClock(time.Millisecond).Now})
	require.NoError(t, err)
	assert.True(t, fit.Measured)
	assert.Empty(t, fit.NotMeasured)
	assert.Equal(t, "Fake card", fit.GPU)
	require.Len(t, fit.Steps, 2)

	loads := 0
	for _, st := range fit.Steps {
		require.NotNil(t, st.Plan)
		require.NotNil(t, st.Load)
		l := st.Load
		assert.Empty(t, l.Error)
		assert.Equal(t, 4096, l.Context)
		// The ballast held all that was free beyond the budget, given the CUDA context.
		assert.Equal(t, card.total-card.cuda-(st.BudgetBytes-card.cuda), l.BallastBytes)
		assert.Equal(t, st.BudgetBytes-card.cuda, card.freeAtLoad[loads], "only the budget was free for the model")
		assert.Equal(t, card.cuda+card.modelBytes+card.sessionBytes["plan"], l.PeakVRAMBytes, "the peak, less the ballast")
		assert.Equal(t, st.Plan.GPU.Total, l.PlannedGPUBytes)
		pct, ok := l.PlanErrorPct()
		require.True(t, ok)
		assert.InDelta(t, 100*(float64(l.PlannedGPUBytes)-float64(l.PeakVRAMBytes))/float64(l.PeakVRAMBytes), pct, 1e-9)
		assert.Empty(t, st.Breaches())
		margin, ok := st.MarginBytes()
		require.True(t, ok)
		peak, _ := st.PeakVRAMBytes()
		assert.Equal(t, int64(st.BudgetBytes)-int64(peak), margin)

		pp, tg := l.Measure("pp64"), l.Measure("tg8")
		require.NotNil(t, pp)
		require.NotNil(t, tg)
		assert.Equal(t, 2, tg.Reps)
		assert.InDelta(t, 800, pp.PromptTPS.Mean, 1e-9, "the fake session's prompt rate")
		assert.InDelta(t, 1000, tg.DecodeTPS.Mean, 1e-9, "a token a millisecond on the injected clock")
		assert.InDelta(t, 1, tg.TTFTMs.Mean, 1e-9)
		loads++

		if st.MaxContext > 4096 {
			require.NotNil(t, st.MaxContextLoad)
			assert.Empty(t, st.MaxContextLoad.Error)
			assert.Equal(t, st.MaxContext, st.MaxContextLoad.Context)
			assert.Equal(t, card.cuda+card.modelBytes+card.sessionBytes["largest context"], st.MaxContextLoad.PeakVRAMBytes)
			assert.Empty(t, st.MaxContextLoad.Measures, "a prompt and a few tokens, not the workloads")
			loads++
		}
		if st.Beyond != nil {
			require.NotNil(t, st.Beyond.Load)
			assert.Equal(t, st.Beyond.Context, st.Beyond.Load.Context)
			assert.True(t, st.Beyond.Load.OutOfMemory, st.Beyond.Load.Error)
			assert.Contains(t, st.Beyond.Load.Error, "session for twin")
			assert.Zero(t, st.Beyond.Load.PlannedGPUBytes, "the planner did not make this placement")
			loads++
		}
	}
	assert.NotNil(t, fit.Steps[0].Beyond, "8 GiB does not hold the twin's training context")
	assert.True(t, fit.Steps[1].MaxContextCapped, "24 GiB does")
	assert.Equal(t, loads, card.loads)
	assert.Zero(t, card.ballast+card.model+card.session, "everything was given back")
}

// The planner errs high, so a card may hold the context one step beyond its largest: the sweep
// then loads each doubling, the placement held, until one is refused or the training context
// is reached, and the largest context is the last the card held.
func TestFitLoadsPastWhatThePlannerPlaced(t *testing.T) {
	run := func(holds func(int) bool) metrics.FitStep {
		card := newFakeCard()
		card.holdsBeyond = holds
		card.sessionBytes["largest context"] = 1 * gib
		card.sessionBytes["held beyond"] = 1200 << 20 // with the model and CUDA, 5.8 GiB of the 6
		fit, err := RunFit(context.Background(), fitSpec(), metrics.FitSpec{Budgets: []uint64{6 * gib}, HostMemory: 64 * gib},
			FitOptions{Planner: twinPlanner(t), GPU: func() bool { return true }, Loader: card.loader, Monitor: card,
				Ballast: card.hold, FreeGPU: card.free, Progress: card.progress, Clock: newTickClock(time.Millisecond).Now})
		require.NoError(t, err)
		require.Len(t, fit.Steps, 1)
		assert.Zero(t, card.ballast+card.model+card.session, "everything was given back")
		return fit.Steps[0]
	}

	planned := run(nil)
	require.NotNil(t, planned.Beyond)
	first := planned.Beyond.Context
	require.Less(t, first, 32768, "the twin's training context is beyond the planner's largest at 6 GiB")
	assert.True(t, planned.Beyond.Load.OutOfMemory)
	assert.Empty(t, planned.BeyondHeld)
	n, capped := planned.LargestContext()
	assert.Equal(t, planned.MaxContext, n)
	assert.False(t, capped)

	st := run(func(nCtx int) bool { return nCtx <= first })
	require.Len(t, st.BeyondHeld, 1)
	held := st.BeyondHeld[0]
	assert.Equal(t, first, held.Context)
	assert.Empty(t, held.Error)
	assert.Positive(t, held.BallastBytes)
	require.NotNil(t, st.Beyond)
	assert.Equal(t, 2*first, st.Beyond.Context, "the next doubling")
	require.NotNil(t, st.Beyond.Load)
	assert.True(t, st.Beyond.Load.OutOfMemory, "refused: %s", st.Beyond.Load.Error)
	assert.True(t, st.Beyond.PlannedLayers < 33 || st.Beyond.PlanError != "", "the planner does not keep the placement there")
	assert.Equal(t, planned.MaxContext, st.MaxContext, "the planner's largest stays as planned")
	n, capped = st.LargestContext()
	assert.Equal(t, first, n)
	assert.False(t, capped)
	peak, ok := st.PeakVRAMBytes()
	require.True(t, ok)
	assert.Equal(t, held.PeakVRAMBytes, peak, "the held load is the placement's highest peak")

	st = run(func(int) bool { return true })
	require.NotEmpty(t, st.BeyondHeld)
	assert.Equal(t, 32768, st.BeyondHeld[len(st.BeyondHeld)-1].Context)
	for i, l := range st.BeyondHeld[1:] {
		assert.Equal(t, 2*st.BeyondHeld[i].Context, l.Context)
	}
	assert.Nil(t, st.Beyond, "the training context ends the doubling")
	n, capped = st.LargestContext()
	assert.Equal(t, 32768, n)
	assert.True(t, capped)
}

// A load that exceeds its budget is a breach of the plan, marked as such: here the card cannot
// hold a ballast, so the model takes more than the budget. Where a ballast holds, the same
// model is refused cleanly instead.
func TestFitBreachAndRefusal(t *testing.T) {
	run := func(card *fakeCard) metrics.Fit {
		fit, err := RunFit(context.Background(), fitSpec(), metrics.FitSpec{Budgets: []uint64{6 * gib}, HostMemory: 64 * gib},
			FitOptions{Planner: twinPlanner(t), GPU: func() bool { return true }, Loader: card.loader, Monitor: card,
				Ballast: card.hold, FreeGPU: card.free, Progress: card.progress, Clock: newTickClock(time.Millisecond).Now})
		require.NoError(t, err)
		require.Len(t, fit.Steps, 1)
		return fit
	}
	card := newFakeCard()
	card.modelBytes = 6 * gib
	card.noBallast = fmt.Errorf("ballast: %w", llama.ErrNoGPU)
	st := run(card).Steps[0]
	require.NotNil(t, st.Load)
	assert.Empty(t, st.Load.Error)
	assert.Equal(t, "ballast: no GPU backend loaded", st.Load.NoBallast)
	assert.Zero(t, st.Load.BallastBytes)
	require.Len(t, st.Breaches(), 1)
	assert.Same(t, st.Load, st.Breaches()[0])
	margin, ok := st.MarginBytes()
	require.True(t, ok)
	assert.Negative(t, margin)

	card = newFakeCard()
	card.modelBytes = 6 * gib
	st = run(card).Steps[0]
	require.NotNil(t, st.Load)
	assert.True(t, st.Load.OutOfMemory, "the model does not fit in the budget: refused")
	assert.Contains(t, st.Load.Error, "load twin")
	assert.Empty(t, st.Breaches())
	assert.Empty(t, st.Load.Measures)
}

// Without a monitor the loads are measured for speed and say why there is no VRAM figure and no
// ballast; a stop ends the sweep with the steps done; bad specs are errors.
func TestFitWithoutMonitorStopsAndErrors(t *testing.T) {
	card := newFakeCard()
	stop := make(chan struct{})
	loads := 0
	progress := func(e Event) {
		card.progress(e)
		if strings.HasSuffix(e.Label, ": load") {
			if loads++; loads == 2 {
				close(stop)
			}
		}
	}
	fit, err := RunFit(context.Background(), fitSpec(), metrics.FitSpec{Budgets: []uint64{8 * gib, 12 * gib, 16 * gib}, HostMemory: 64 * gib},
		FitOptions{Planner: twinPlanner(t), GPU: func() bool { return true }, Loader: card.loader, Ballast: card.hold,
			FreeGPU: card.free, Progress: progress, Stop: stop})
	require.ErrorIs(t, err, ErrStopped)
	assert.Equal(t, ErrStopped.Error(), fit.Error)
	require.Len(t, fit.Steps, 1, "the step under way is kept, and no other starts")
	st := fit.Steps[0]
	require.NotNil(t, st.Load)
	assert.Equal(t, "no GPU monitor", st.Load.VRAMUnavailable)
	assert.Equal(t, "no GPU monitor to size it", st.Load.NoBallast)
	assert.Zero(t, card.ballastAsks)
	assert.NotNil(t, st.Load.Measure("tg8"))
	_, ok := st.MarginBytes()
	assert.False(t, ok)
	assert.Equal(t, 2, card.loads)

	_, err = RunFit(context.Background(), metrics.Spec{Model: "missing.gguf"}, metrics.FitSpec{Budgets: []uint64{gib}}, FitOptions{GPU: func() bool { return false }})
	assert.ErrorIs(t, err, os.ErrNotExist, "a file the planner cannot read stops the sweep")

	for name, fs := range map[string]metrics.FitSpec{
		"no budget":        {},
		"zero budget":      {Budgets: []uint64{0}},
		"unknown KV type":  {Budgets: []uint64{gib}, KVTypes: []string{"q5_1"}},
		"negative context": {Budgets: []uint64{gib}, ContextSize: -1},
	} {
		_, err := RunFit(context.Background(), fitSpec(), fs, FitOptions{Planner: twinPlanner(t), GPU: func() bool { return false }})
		assert.Error(t, err, name)
	}
}

// On a tiny model through llama: without a GPU the real planner plans and nothing loads; with
// the card of the fakes standing in for the GPU's memory, each KV cache type's plan loads on
// the CPU with the plan's options and generates, and a context of the training context caps
// the sweep.
func TestFitOnTinyModel(t *testing.T) {
	path := ggufttest.Tiny(t, t.TempDir(), "tiny-llama")
	spec := metrics.Spec{Model: path, Repetitions: 1, Warmup: -1, PromptTokens: 32, GenTokens: 4, SkipHash: true}
	fs := metrics.FitSpec{Budgets: []uint64{gib}, KVTypes: []string{"f16", "q8_0", "q4_0"}, HostMemory: 64 * gib}

	fit, err := RunFit(context.Background(), spec, fs, FitOptions{})
	require.NoError(t, err)
	if llama.HasGPU() {
		assert.True(t, fit.Measured)
	} else {
		assert.Equal(t, NotMeasuredNoGPU, fit.NotMeasured)
		require.Len(t, fit.Steps, 3)
		for _, st := range fit.Steps {
			require.NotNil(t, st.Plan, st.PlanError)
			assert.Equal(t, 3, st.Plan.GPULayers, "the tiny model fits in 1 GiB")
			assert.Contains(t, strings.Join(st.Plan.Notes, "\n"), "no GPU backend loaded")
			assert.Nil(t, st.Load)
		}
	}

	card := newFakeCard()
	fit, err = RunFit(context.Background(), spec, fs, FitOptions{GPU: func() bool { return true }, Monitor: card, Ballast: card.hold, FreeGPU: card.free})
	require.NoError(t, err)
	require.Len(t, fit.Steps, 3)
	for _, st := range fit.Steps {
		t.Run(st.KVType, func(t *testing.T) {
			require.NotNil(t, st.Load)
			assert.Empty(t, st.Load.Error)
			assert.Equal(t, 512, st.Load.Context)
			assert.True(t, st.MaxContextCapped, "the training context is 512")
			assert.Nil(t, st.MaxContextLoad)
			tg := st.Load.Measure("tg4")
			require.NotNil(t, tg)
			assert.Positive(t, tg.DecodeTPS.Mean)
			assert.Equal(t, 4.0, tg.Tokens.Mean)
			if !llama.HasGPU() {
				assert.Zero(t, st.Load.LayersOnGPU, "on the CPU whatever the plan")
			}
		})
	}
	assert.Greater(t, card.ballastAsks, 0)
	assert.Zero(t, card.ballast, "every ballast was given back")
}
