package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/llama"
)

// errWindowEnded cancels the requests still under way once the measured ones have ended.
var errWindowEnded = errors.New("measurement window ended")

// load drives one level of a serving sweep. Its requests are numbered in the order sent; the
// first warmup of them fill the server, the next Requests are measured, and those after keep
// the load up until the last measured one ends, when they are cancelled. The window runs from
// the send of the first measured request to the end of the last one; the server's counters
// and the GPU monitor cover it.
type load struct {
	r        *serveRunner
	sv       Server
	ctx      context.Context
	cancel   context.CancelCauseFunc
	warmup   int
	measured int
	label    string

	mu     sync.Mutex
	reqs   []*request
	ended  int // measured requests that ended
	t0     time.Time
	probe  Probe
	stats  llama.ServerStats
	sample *metrics.GPUSample
	err    error
	wg     sync.WaitGroup
}

// request is one request of a level, timed at its token callback.
type request struct {
	index    int
	measured bool
	tokens   []int32
	timer    *metrics.TokenTimer
	res      llama.Result
	err      error
}

func newLoad(ctx context.Context, r *serveRunner, sv Server, warmup int, label string) *load {
	lctx, cancel := context.WithCancelCause(ctx)
	return &load{r: r, sv: sv, ctx: lctx, cancel: cancel, warmup: warmup, measured: r.serve.Requests, label: label}
}

// closed runs users that each send a request as soon as their last reply ended.
func (l *load) closed(users int) {
	for range users {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for l.ctx.Err() == nil {
				l.run(l.send(time.Time{}))
			}
		}()
	}
	l.wg.Wait()
	l.cancel(nil)
}

// open sends requests at the times the gaps give, each as it falls due, whatever is under way.
func (l *load) open(gaps func() time.Duration) {
	due := l.r.clk.Now()
	for {
		due = due.Add(gaps())
		if l.r.clk.SleepUntil(l.ctx, due) != nil {
			break
		}
		req := l.send(due)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.run(req)
		}()
	}
	l.wg.Wait()
	l.cancel(nil)
}

// send numbers the next request and starts its timer: at due when it has one (the open
// loop's schedule), else now. The first measured request opens the window.
func (l *load) send(due time.Time) *request {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := len(l.reqs)
	req := &request{index: i, measured: i >= l.warmup && i < l.warmup+l.measured, tokens: l.r.promptFor(i)}
	req.timer = metrics.NewTokenTimer(l.r.serve.GenTokens)
	req.timer.Clock = l.r.clk.Now
	l.reqs = append(l.reqs, req)
	if i == l.warmup {
		l.begin()
	}
	if due.IsZero() {
		req.timer.Start()
	} else {
		req.timer.StartAt(due)
	}
	if i == l.warmup {
		l.t0 = req.timer.Started()
	}
	return req
}

// begin opens the window: the server's counters start afresh and the GPU monitor samples.
func (l *load) begin() {
	l.sv.ResetStats()
	if l.r.noGPU != "" || l.r.opts.Monitor == nil {
		return
	}
	p, err := l.r.opts.Monitor.Start()
	if err != nil {
		l.fail(fmt.Errorf("gpu monitor: %w", err))
		return
	}
	l.probe = p
}

// run sends the request to the server and takes its tokens at the callback.
func (l *load) run(req *request) {
	res, err := l.sv.GenerateTokens(l.ctx, req.tokens, l.r.gen, func(llama.Token) bool {
		req.timer.Token()
		return true
	})
	req.timer.Stop()
	req.res, req.err = res, err
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil && !errors.Is(context.Cause(l.ctx), errWindowEnded) {
		l.fail(fmt.Errorf("request %d: %w", req.index, err))
		return
	}
	if !req.measured {
		return
	}
	l.ended++
	l.r.progress(Event{Label: l.label, Rep: l.ended, Reps: l.measured})
	if l.ended == l.measured {
		l.end()
	}
}

// end closes the window once the last measured request ended, and cancels the requests
// still under way.
func (l *load) end() {
	l.stats = l.sv.Stats()
	if l.probe != nil {
		s, err := l.probe.Stop()
		l.probe = nil
		if err != nil {
			l.fail(fmt.Errorf("gpu monitor: %w", err))
			return
		}
		l.sample = &s
	}
	l.cancel(errWindowEnded)
}

// fail ends the level with err, the first failure only; the caller holds mu.
func (l *load) fail(err error) {
	if l.err == nil {
		l.err = err
	}
	l.cancel(err)
}

// failure is why the level did not finish: a request that failed, or the parent context.
func (l *load) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.probe != nil {
		l.probe.Stop()
		l.probe = nil
	}
	switch {
	case l.err != nil:
		return l.err
	case l.ended < l.measured:
		if err := context.Cause(l.ctx); err != nil && !errors.Is(err, errWindowEnded) {
			return err
		}
		return fmt.Errorf("%d of %d measured requests ended", l.ended, l.measured)
	}
	return nil
}

// summarize fills lvl with the level's figures.
func (l *load) summarize(lvl metrics.ServeLevel) metrics.ServeLevel {
	l.mu.Lock()
	defer l.mu.Unlock()
	return summarizeRequests(lvl, l.reqs, l.t0)
}

// summarizeRequests computes a level's figures from its requests, the window opening at t0
// and closing at the end of the last measured request: the aggregate rates over every
// request's share of the window, the distributions over the measured requests.
func summarizeRequests(lvl metrics.ServeLevel, reqs []*request, t0 time.Time) metrics.ServeLevel {
	var measured []*request
	t1 := t0
	for _, q := range reqs {
		if q.measured {
			measured = append(measured, q)
			if q.timer.Stopped().After(t1) {
				t1 = q.timer.Stopped()
			}
		}
	}
	lvl.Requests = len(measured)
	lvl.Stops = map[string]int{}
	var perUser, ttft, queued, e2e, prompt, tokens, itl []float64
	for _, q := range measured {
		if q.err != nil {
			lvl.Errors++
			continue
		}
		lvl.Stops[string(q.res.Stop)]++
		if tps, ok := q.timer.DecodeTPS(); ok {
			perUser = append(perUser, tps)
		}
		if d, ok := q.timer.TTFT(); ok {
			ttft = append(ttft, metrics.Millis(d))
		}
		queued = append(queued, metrics.Millis(q.res.Queued))
		e2e = append(e2e, metrics.Millis(q.timer.E2E()))
		prompt = append(prompt, float64(len(q.tokens)))
		tokens = append(tokens, float64(q.timer.Tokens()))
		itl = append(itl, q.timer.ITLMs()...)
	}
	lvl.PerUserTPS = metrics.Summarize(perUser)
	lvl.TTFTMs = metrics.Summarize(ttft)
	lvl.QueuedMs = metrics.Summarize(queued)
	lvl.E2EMs = metrics.Summarize(e2e)
	lvl.PromptTokens = metrics.Summarize(prompt)
	lvl.Tokens = metrics.Summarize(tokens)
	lvl.ITLMs = metrics.Summarize(itl)

	window := t1.Sub(t0)
	lvl.WindowMs = metrics.Millis(window)
	if window <= 0 {
		return lvl
	}
	delivered, completed := 0, 0
	for _, q := range reqs {
		delivered += q.timer.TokensIn(t0, t1)
		end := q.timer.Stopped()
		if q.err == nil && !end.Before(t0) && !end.After(t1) {
			completed++
		}
	}
	lvl.OutputTPS = float64(delivered) / window.Seconds()
	lvl.RequestsPerS = float64(completed) / window.Seconds()
	return lvl
}

// poissonGaps returns the gaps between the arrivals of a Poisson process of rate requests/s,
// drawn from a generator seeded by seed: exponential, of mean 1/rate.
func poissonGaps(seed uint64, rate float64) func() time.Duration {
	rng := rand.New(rand.NewPCG(seed, 0x706f6973736f6e))
	return func() time.Duration {
		return time.Duration(rng.ExpFloat64() / rate * float64(time.Second))
	}
}
