package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/local-llm-bench/llmbench/bench"
	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/bench/report"
	"github.com/local-llm-bench/llmbench/llama"
)

// serveConfig is what -serve and its flags ask for.
type serveConfig struct {
	on       bool
	users    []int
	requests int
	prompt   int
	gen      int
	random   bool
	rates    []float64
	noOpen   bool
	sloTTFT  time.Duration
	sloTPS   float64
}

func addServeFlags(fs *flag.FlagSet, c *serveConfig) {
	fs.BoolVar(&c.on, "serve", false, "also measure serving: a closed loop of N users, then Poisson arrivals, and the capacity under the service target")
	fs.Func("serve-users", "closed-loop levels, comma-separated (default 1,2,4,8,16,32,64 on a GPU, 1,2,4,8,16 on the CPU, 1,2,4 with -quick)", func(s string) error {
		users, err := parseList(s, strconv.Atoi)
		for _, u := range users {
			if u < 1 {
				return fmt.Errorf("%d users", u)
			}
		}
		c.users = users
		return err
	})
	fs.IntVar(&c.requests, "serve-requests", 0, "requests measured at each level, after the warmup (default 128, 32 on the CPU, 8 with -quick)")
	fs.IntVar(&c.prompt, "serve-prompt", 0, "tokens of a random prompt, the twins' (default 512, 64 with -quick)")
	fs.IntVar(&c.gen, "serve-gen", 0, "tokens a reply generates at most (default 128, 32 with -quick)")
	fs.BoolVar(&c.random, "serve-random", false, "random prompts and fixed-length replies on real models too (twins always get them)")
	fs.Func("serve-rates", "open-loop arrival rates in requests/s, comma-separated, or none (default: 0.25, 0.5, 0.75, 0.9 and 1 times the closed loop's highest req/s; 0.5 and 1 with -quick)", func(s string) error {
		if s == "none" {
			c.noOpen = true
			return nil
		}
		rates, err := parseList(s, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
		for _, r := range rates {
			if !(r > 0) {
				return fmt.Errorf("rate %v", r)
			}
		}
		c.rates = rates
		return err
	})
	fs.DurationVar(&c.sloTTFT, "slo-ttft", time.Duration(metrics.DefaultSLOTTFTMs)*time.Millisecond, "service target: the highest TTFT p99, queueing included")
	fs.Float64Var(&c.sloTPS, "slo-tps", metrics.DefaultSLOTokensPerSecond, "service target: the lowest per-user tokens/s (p10)")
}

// parseList reads "a,b,c" with parse.
func parseList[T any](s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, f := range strings.Split(s, ",") {
		v, err := parse(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (c serveConfig) validate() error {
	switch {
	case c.requests < 0 || c.prompt < 0 || c.gen < 0:
		return fmt.Errorf("-serve-requests, -serve-prompt and -serve-gen must not be negative")
	case c.sloTTFT <= 0 || !(c.sloTPS > 0):
		return fmt.Errorf("-slo-ttft and -slo-tps must be positive")
	}
	return nil
}

// covers reports whether a result that -resume found holds what -serve asks: its serving,
// when serving is asked.
func (c serveConfig) covers(m report.Model) bool { return !c.on || m.Result.Serving != nil }

// serveSpecFor sizes the sweep as specFor sizes the workloads: the defaults on a GPU, less on
// the CPU, least with -quick; the flags override them.
func serveSpecFor(c config, t target) metrics.ServeSpec {
	s := metrics.ServeSpec{
		RandomPrompts: t.synthetic || c.serve.random,
		Target:        metrics.ServeTarget{TTFTP99Ms: metrics.Millis(c.serve.sloTTFT), TokensPerSecond: c.serve.sloTPS},
	}
	switch {
	case c.quick:
		s.Users, s.Requests, s.PromptTokens, s.GenTokens = []int{1, 2, 4}, 8, 64, 32
		s.RateFractions = []float64{0.5, 1}
	case !llama.HasGPU() || c.cpu:
		s.Users, s.Requests = []int{1, 2, 4, 8, 16}, 32
	}
	if c.serve.users != nil {
		s.Users = c.serve.users
	}
	s.Requests = cmp.Or(c.serve.requests, s.Requests)
	s.PromptTokens = cmp.Or(c.serve.prompt, s.PromptTokens)
	s.GenTokens = cmp.Or(c.serve.gen, s.GenTokens)
	if c.serve.rates != nil {
		s.Rates = c.serve.rates
	}
	s.ClosedOnly = c.serve.noOpen
	return s
}

// serveModel measures the target's serving into res; a failure or a stop marks res
// incomplete, keeping the levels measured.
func serveModel(ctx context.Context, c config, t target, mon bench.Monitor, stop <-chan struct{}, prog *progress, res *metrics.Result) error {
	sv, err := bench.Serve(ctx, specFor(c, t), serveSpecFor(c, t), bench.Options{Monitor: mon, Stop: stop, Progress: prog.serve})
	res.Serving = &sv
	if err != nil {
		res.Complete = false
		res.Error = "serve: " + err.Error()
		res.FinishedAt = time.Now()
	}
	return err
}

// serve shows the serving sweep's progress: the level under way, its measured requests as a
// bar, at most once a second on a plain stream except for a level's start and end.
func (p *progress) serve(e bench.Event) {
	switch {
	case e.Label == "load":
		p.line(fmt.Sprintf("%s: loading to serve", e.Name), true)
	case e.Rep == 0:
		p.line(fmt.Sprintf("%s: %s warmup", e.Name, e.Label), true)
	default:
		p.line(fmt.Sprintf("%s: %s %s requests", e.Name, e.Label, bar(e.Rep, e.Reps)), e.Rep == e.Reps)
	}
}
