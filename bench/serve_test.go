package bench

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/llama"
)

const ms = time.Millisecond

var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// timed is a request whose timer was started at start and saw tokens at the given offsets
// from base, then stopped at stop.
func timed(measured bool, start time.Duration, stamps []time.Duration, stop time.Duration, res llama.Result, err error) *request {
	q := &request{measured: measured, tokens: make([]int32, res.PromptTokens), res: res, err: err}
	q.timer = metrics.NewTokenTimer(len(stamps))
	var i int
	q.timer.Clock = func() time.Time {
		d := stop
		if i < len(stamps) {
			d = stamps[i]
		}
		i++
		return base.Add(d)
	}
	q.timer.StartAt(base.Add(start))
	for range stamps {
		q.timer.Token()
	}
	q.timer.Stop()
	return q
}

func TestSummarizeRequests(t *testing.T) {
	done := llama.Result{PromptTokens: 20, Stop: llama.StopMaxTokens, Queued: 5 * ms}
	reqs := []*request{
		// A warmup request that ends inside the window: its tokens and its end count toward
		// the aggregate rates, nothing else.
		timed(false, -100*ms, []time.Duration{-50 * ms, 5 * ms, 15 * ms}, 16*ms, done, nil),
		// The measured ones: the first opens the window at 0, the last closes it at 401 ms.
		timed(true, 0, []time.Duration{100 * ms, 110 * ms, 120 * ms, 130 * ms}, 131*ms, done, nil),
		timed(true, 10*ms, []time.Duration{300 * ms, 320 * ms, 340 * ms}, 341*ms, llama.Result{PromptTokens: 40, Stop: llama.StopEOG, Queued: 15 * ms}, nil),
		timed(true, 20*ms, []time.Duration{360 * ms, 400 * ms}, 401*ms, done, nil),
		timed(true, 30*ms, []time.Duration{200 * ms}, 201*ms, llama.Result{}, errors.New("boom")),
		// A request after them, cancelled when the window closed.
		timed(false, 350*ms, []time.Duration{390 * ms, 410 * ms}, 420*ms, llama.Result{Stop: llama.StopCancelled}, context.Canceled),
	}
	l := summarizeRequests(metrics.ServeLevel{Users: 4}, reqs, base)
	assert.Equal(t, 4, l.Users)
	assert.Equal(t, 4, l.Requests)
	assert.Equal(t, 1, l.Errors)
	assert.InDelta(t, 401, l.WindowMs, 1e-9)
	// Tokens in [0, 401 ms): 2 of the warmup's, 4 + 3 + 2 measured, 1 of the failed one's,
	// 1 of the cancelled one's.
	assert.InDelta(t, 13/0.401, l.OutputTPS, 1e-9)
	// Ended in the window without error: the warmup one and three measured.
	assert.InDelta(t, 4/0.401, l.RequestsPerS, 1e-9)
	// Per-user rates 100, 50 and 25 tok/s: 3 tokens in 30 ms, 2 in 40 ms, 1 in 40 ms.
	assert.Equal(t, 3, l.PerUserTPS.N)
	assert.InDelta(t, 30, l.PerUserTPS.P10, 1e-9)
	assert.InDelta(t, 50, l.PerUserTPS.P50, 1e-9)
	// TTFT from each send: 100, 290, 340 ms.
	assert.InDelta(t, 290, l.TTFTMs.P50, 1e-9)
	assert.InDelta(t, 339, l.TTFTMs.P99, 1e-9)
	assert.InDelta(t, 340, l.TTFTMs.Max, 1e-9)
	// The intervals of the measured requests that ended well, pooled: 10, 10, 10, 20, 20, 40.
	assert.Equal(t, 6, l.ITLMs.N)
	for name, pair := range map[string][2]float64{"mean": {110.0 / 6, l.ITLMs.Mean}, "p50": {15, l.ITLMs.P50}, "p99": {39, l.ITLMs.P99}} {
		assert.InDelta(t, pair[0], pair[1], 1e-9, name)
	}
	assert.InDelta(t, (5+15+5)/3.0, l.QueuedMs.Mean, 1e-9)
	assert.InDelta(t, (131+331+381)/3.0, l.E2EMs.Mean, 1e-9)
	assert.InDelta(t, (20+40+20)/3.0, l.PromptTokens.Mean, 1e-9)
	assert.InDelta(t, 3, l.Tokens.P50, 1e-9)
	assert.Equal(t, map[string]int{"max_tokens": 2, "eog": 1}, l.Stops)

	// No measured request: no window, no rates, never a division by zero.
	l = summarizeRequests(metrics.ServeLevel{}, reqs[:1], base)
	assert.Zero(t, l.Requests)
	assert.Zero(t, l.OutputTPS)
	assert.False(t, math.IsNaN(l.RequestsPerS))
}

func TestPoissonGaps(t *testing.T) {
	const n, rate = 20000, 4.0
	gaps := poissonGaps(7, rate)
	again := poissonGaps(7, rate)
	other := poissonGaps(8, rate)
	var sum, sq float64
	same, differ := true, false
	long := 0
	for range n {
		g := gaps()
		same = same && g == again()
		differ = differ || g != other()
		s := g.Seconds()
		sum += s
		sq += s * s
		if s > 1/rate {
			long++
		}
	}
	assert.True(t, same, "the same seed gives the same arrivals")
	assert.True(t, differ, "another seed gives others")
	mean := sum / n
	sd := math.Sqrt(sq/n - mean*mean)
	// Exponential gaps: mean 1/rate, standard deviation equal to the mean, and a share e⁻¹ of
	// them longer than the mean. With 20000 draws these hold to about 2%.
	assert.InDelta(t, 1/rate, mean, 0.02/rate)
	assert.InDelta(t, 1, sd/mean, 0.03)
	assert.InDelta(t, math.Exp(-1), float64(long)/n, 0.01)
}

// serveSpec is a small sweep on fake.gguf with random prompts.
func serveSpec() (metrics.Spec, metrics.ServeSpec) {
	return metrics.Spec{Model: "fake.gguf", Name: "fake", SkipHash: true},
		metrics.ServeSpec{Users: []int{1, 2, 4}, Requests: 6, PromptTokens: 32, GenTokens: 8, RandomPrompts: true,
			RateFractions: []float64{0.5, 1}, Target: metrics.ServeTarget{TTFTP99Ms: 1e9, TokensPerSecond: 1e-9}}
}

func TestServeClosedAndOpenLoopsWithAFakeServer(t *testing.T) {
	m := newFakeServingModel()
	m.gate = 1 // set per server below
	spec, sv := serveSpec()
	var mu sync.Mutex
	var events []Event
	progress := func(e Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}
	// Each closed-loop server holds its first requests until every user has sent one, so that
	// the level runs at its full concurrency.
	gates := []int{1, 2, 4}
	loader := func(path string, opts ...llama.ModelOption) (Model, error) { return &gatedModel{m, gates}, nil }
	mon := &fakeMonitor{gpus: []metrics.GPUInfo{{Name: "Fake GPU"}}}
	out, err := serveWith(context.Background(), spec, sv, Options{Loader: loader, Progress: progress, Monitor: mon}, newTickClock(ms))
	require.NoError(t, err)

	require.Len(t, out.Closed, 3)
	require.Len(t, out.Open, 2)
	require.Len(t, m.servers, 5, "a server per level")
	for i, l := range out.Closed {
		s := m.servers[i]
		users := sv.Users[i]
		assert.Equal(t, users, l.Users)
		assert.Equal(t, 6, l.Requests)
		assert.Zero(t, l.Errors)
		assert.Equal(t, users, s.maxActive, "%d users: never more requests at once than users, and all of them", users)
		assert.Equal(t, 1, s.resets, "the counters start afresh when the window opens")
		assert.True(t, s.closed)
		assert.GreaterOrEqual(t, s.calls, users+6, "one warmup request per user, then the measured ones")
		for j, p := range s.prompts {
			assert.Equal(t, 32, p, "request %d: P random token ids", j)
			assert.Equal(t, llama.GenerateOptions{MaxTokens: 8, IgnoreEOG: true}, s.opts[j])
		}
		assert.Equal(t, map[string]int{"max_tokens": 6}, l.Stops)
		assert.Equal(t, 6, l.TTFTMs.N)
		assert.Equal(t, 6, l.PerUserTPS.N)
		assert.Positive(t, l.OutputTPS)
		assert.Positive(t, l.RequestsPerS)
		require.NotNil(t, l.Engine.OutsideDecode)
		assert.InDelta(t, 0.1, *l.Engine.OutsideDecode, 1e-9, "90 ms in llama_decode of 100 ms busy")
		assert.InDelta(t, 88, l.Engine.EngineMs, 1e-9, "llama.cpp's prompt and eval time")
		require.NotNil(t, l.GPU, "the monitor sampled the window")
		require.NotNil(t, l.JPerToken)
		assert.InDelta(t, 64/(l.OutputTPS*l.WindowMs/1000), *l.JPerToken, 1e-9, "64 J over the window's tokens")
		vram, ok := l.PeakVRAMMiB()
		assert.True(t, ok)
		assert.Greater(t, vram, 1024.0)
		assert.True(t, l.MeetsTarget)
	}
	assert.Equal(t, 5, mon.probes, "one probe per level")

	// The open loop runs on the closed loop's level of highest throughput, at fractions of it.
	best := 0
	for i, l := range out.Closed {
		if l.RequestsPerS > out.Closed[best].RequestsPerS {
			best = i
		}
	}
	assert.Equal(t, out.Closed[best].RequestsPerS, out.SaturationRPS)
	assert.Equal(t, out.Closed[best].Users, out.SaturationUsers)
	assert.Equal(t, 0.5*out.SaturationRPS, out.Open[0].RateRPS)
	assert.Equal(t, out.SaturationRPS, out.Open[1].RateRPS)
	for _, l := range out.Open {
		assert.Zero(t, l.Users)
		assert.Equal(t, 6, l.Requests)
		assert.Equal(t, 6, l.TTFTMs.N)
	}
	assert.Equal(t, metrics.Capacity{Target: sv.Target, Users: 4, UsersAtLeast: true, RateRPS: out.SaturationRPS, RateAtLeast: true, OpenMeasured: true}, out.Capacity)
	assert.Equal(t, sv.Users, out.Spec.Users, "the spec as run is kept")
	assert.Equal(t, 32, out.Spec.PromptTokens)

	// Progress: the load, then each level's start (Rep 0) and its measured requests.
	require.NotEmpty(t, events)
	assert.Equal(t, "load", events[0].Label)
	var starts []string
	ended := map[string]int{}
	for _, e := range events[1:] {
		assert.Equal(t, "fake", e.Name)
		assert.Equal(t, 6, e.Reps)
		if e.Rep == 0 {
			starts = append(starts, e.Label)
			continue
		}
		ended[e.Label]++
		assert.Equal(t, ended[e.Label], e.Rep, "one event per measured request, in order")
	}
	assert.Equal(t, []string{"serve 1 user", "serve 2 users", "serve 4 users", "serve " + out.Open[0].Label(), "serve " + out.Open[1].Label()}, starts)
	for _, s := range starts {
		assert.Equal(t, 6, ended[s], s)
	}
}

// gatedModel gives the n-th server it makes the n-th gate.
type gatedModel struct {
	*fakeServingModel
	gates []int
}

func (g *gatedModel) NewServer(opts ...llama.SessionOption) (Server, error) {
	g.mu.Lock()
	if n := len(g.servers); n < len(g.gates) {
		g.gate = g.gates[n]
	} else {
		g.gate = 1
	}
	g.mu.Unlock()
	return g.fakeServingModel.NewServer(opts...)
}

// The open loop sends each request when it falls due, whatever is under way, and times it
// from then: a late dispatch counts against the request.
func TestOpenLoopSendsOnSchedule(t *testing.T) {
	m := newFakeServingModel()
	_, sv := serveSpec()
	sv, err := sv.WithDefaults()
	require.NoError(t, err)
	clk := newTickClock(ms)
	r := &serveRunner{serve: sv, clk: clk, model: m, info: m.info, gen: llama.GenerateOptions{MaxTokens: 8, IgnoreEOG: true}, noGPU: "no GPU monitor", out: &metrics.Serving{}}
	srv, err := m.NewServer()
	require.NoError(t, err)
	start := clk.now
	l := newLoad(context.Background(), r, srv, 2, "open")
	gap := 0
	l.open(func() time.Duration { gap++; return time.Duration(gap) * 10 * ms })
	require.NoError(t, l.failure())
	require.GreaterOrEqual(t, len(l.reqs), 2+6)
	due := start.Add(ms) // the dispatcher reads the clock once, then adds the gaps
	for i, q := range l.reqs {
		due = due.Add(time.Duration(i+1) * 10 * ms)
		assert.Equal(t, due, q.timer.Started(), "request %d starts when it fell due", i)
		assert.Equal(t, i >= 2 && i < 8, q.measured, "request %d", i)
	}
	lvl := l.summarize(metrics.ServeLevel{RateRPS: 2})
	assert.Equal(t, 6, lvl.Requests)
	assert.Equal(t, l.reqs[2].timer.Started(), l.t0, "the window opens at the first measured request's due time")
}

func TestServeStopsBetweenLevels(t *testing.T) {
	m := newFakeServingModel()
	spec, sv := serveSpec()
	stop := make(chan struct{})
	var once sync.Once
	progress := func(e Event) {
		if e.Label == "serve 2 users" && e.Rep == 3 {
			once.Do(func() { close(stop) })
		}
	}
	out, err := serveWith(context.Background(), spec, sv, Options{Loader: fakeServingLoader(m), Progress: progress, Stop: stop}, newTickClock(ms))
	require.ErrorIs(t, err, ErrStopped)
	require.Len(t, out.Closed, 2, "the level under way finished; the next did not start")
	assert.Equal(t, 6, out.Closed[1].Requests)
	assert.Empty(t, out.Open)
	assert.Equal(t, 2, out.Capacity.Users, "capacity of what was measured")
	assert.Equal(t, 1, m.closed)
}

func TestServeLevelsThatDoNotFitEndTheClosedLoop(t *testing.T) {
	m := newFakeServingModel()
	m.oomFrom = 3 // the server of 4 users
	spec, sv := serveSpec()
	sv.Users = []int{1, 2, 4, 8}
	out, err := serveWith(context.Background(), spec, sv, Options{Loader: fakeServingLoader(m)}, newTickClock(ms))
	require.NoError(t, err)
	require.Len(t, out.Closed, 2)
	require.Len(t, out.Skipped, 4)
	assert.Contains(t, out.Skipped[0], "4 users: serve 4 users: new server: out of memory")
	assert.Contains(t, out.Skipped[1], "8 users: ")
	assert.Contains(t, out.Skipped[2], "req/s: serve ")
	assert.Equal(t, 2, out.Capacity.Users)
	assert.True(t, out.Capacity.UsersAtLeast, "every level measured met the target")
	assert.Empty(t, out.Open, "the open loop's server does not fit either")
}

func TestServeFailures(t *testing.T) {
	spec, sv := serveSpec()
	t.Run("a request fails", func(t *testing.T) {
		m := newFakeServingModel()
		m.failRequest = 3
		out, err := serveWith(context.Background(), spec, sv, Options{Loader: fakeServingLoader(m)}, newTickClock(ms))
		require.ErrorContains(t, err, "serve 1 user: request 3: scripted failure")
		assert.Empty(t, out.Closed, "a failed level is not kept")
		assert.Equal(t, 1, m.closed)
	})
	t.Run("cancelled", func(t *testing.T) {
		m := newFakeServingModel()
		ctx, cancel := context.WithCancel(context.Background())
		progress := func(e Event) {
			if e.Label == "serve 2 users" && e.Rep == 0 {
				cancel()
			}
		}
		out, err := serveWith(ctx, spec, sv, Options{Loader: fakeServingLoader(m), Progress: progress}, newTickClock(ms))
		require.ErrorIs(t, err, context.Canceled)
		assert.Len(t, out.Closed, 1)
	})
	t.Run("not a serving model", func(t *testing.T) {
		_, err := serveWith(context.Background(), spec, sv, Options{Loader: fakeLoader(newFakeModel())}, newTickClock(ms))
		require.ErrorContains(t, err, "cannot serve")
	})
	t.Run("a request larger than the training context", func(t *testing.T) {
		sv := sv
		sv.PromptTokens = 4000
		_, err := serveWith(context.Background(), spec, sv, Options{Loader: fakeServingLoader(newFakeServingModel())}, newTickClock(ms))
		require.ErrorContains(t, err, "4008 tokens, more than the 2048 of the model's training context")
	})
	t.Run("bad spec", func(t *testing.T) {
		sv := sv
		sv.Users = []int{0}
		_, err := serveWith(context.Background(), spec, sv, Options{Loader: fakeServingLoader(newFakeServingModel())}, newTickClock(ms))
		require.Error(t, err)
	})
}

// Real models get the baseline prompts through their chat template, one after another, and
// replies that end at end of generation; without a monitor the GPU figures say why.
func TestServeRealPrompts(t *testing.T) {
	m := newFakeServingModel()
	spec, sv := serveSpec()
	sv.RandomPrompts = false
	sv.Users = []int{2}
	sv.ClosedOnly = true
	sv.Requests = 14
	out, err := serveWith(context.Background(), spec, sv, Options{Loader: fakeServingLoader(m)}, newTickClock(ms))
	require.NoError(t, err)
	require.Len(t, out.Closed, 1)
	assert.Empty(t, out.Open)
	prompts, err := metrics.BaselinePrompts()
	require.NoError(t, err)
	s := m.servers[0]
	for i, n := range s.prompts {
		p, err := m.ChatPrompt([]llama.Message{{Role: "user", Content: prompts[i%len(prompts)].Text}})
		require.NoError(t, err)
		want, err := m.TokenizePrompt(p, true)
		require.NoError(t, err)
		assert.Equal(t, len(want), n, "request %d: baseline prompt %d through the template", i, i%len(prompts))
		assert.Equal(t, llama.GenerateOptions{MaxTokens: 8}, s.opts[i], "replies end at end of generation")
	}
	l := out.Closed[0]
	assert.Greater(t, l.PromptTokens.Max, l.PromptTokens.Min, "prompts of their own lengths")
	assert.Nil(t, l.GPU)
	assert.Equal(t, "no GPU monitor", l.GPUUnavailable)
	assert.Empty(t, out.Skipped)

	m = newFakeServingModel()
	m.info.ChatTemplate = ""
	out, err = serveWith(context.Background(), spec, sv, Options{Loader: fakeServingLoader(m), Monitor: &fakeMonitor{gpus: []metrics.GPUInfo{{Name: "x"}}}}, newTickClock(ms))
	require.NoError(t, err)
	assert.Equal(t, []string{"chat template: the model has none; prompts were sent as plain text"}, out.Skipped)
	assert.Equal(t, len(prompts[0].Text)/4+1, m.servers[0].prompts[0], "plain text")

	m = newFakeServingModel()
	m.info.GPU = false
	out, err = serveWith(context.Background(), spec, sv, Options{Loader: fakeServingLoader(m), Monitor: &fakeMonitor{gpus: []metrics.GPUInfo{{Name: "x"}}}}, newTickClock(ms))
	require.NoError(t, err)
	assert.Equal(t, "the model runs on the CPU", out.Closed[0].GPUUnavailable)
}
