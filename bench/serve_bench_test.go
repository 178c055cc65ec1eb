package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/llama"
)

// BenchmarkServe serves LLMBENCH_BENCH_USERS users at once (comma-separated; default 1,2,4,
// or 1 to 64 when a GPU backend is loaded) on each model, through one llama.Server with a
// sequence per user: the closed loop of Serve, each user sending a request of
// LLMBENCH_BENCH_PROMPT random token ids (default 512) for LLMBENCH_BENCH_GEN tokens (default
// 128, through end of generation) as soon as the last one ended. One iteration warms the
// server up with a request per user and measures the next request of each; the figures pool
// the iterations: agg-tok/s (every token of the measurement windows ÷ their time),
// user-tok/s and user-p10-tok/s (the median and the slow tenth of the requests' decode rates
// at the callback), ttft-p99-ms (from the send, queueing included) and, on a GPU, vram-MiB.
//
//	make gobench BENCH=Serve ARGS="-benchtime 3x"
func BenchmarkServe(b *testing.B) {
	p := envInt(b, "LLMBENCH_BENCH_PROMPT", metrics.DefaultServePromptTokens)
	g := envInt(b, "LLMBENCH_BENCH_GEN", metrics.DefaultServeGenTokens)
	levels := benchUsers(b)
	for _, path := range benchModels(b) {
		b.Run(strings.TrimSuffix(filepath.Base(path), ".gguf"), func(b *testing.B) {
			m := loadBench(b, path)
			for _, n := range levels {
				b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) { benchServe(b, m, n, p, g) })
			}
		})
	}
}

// benchUsers reads LLMBENCH_BENCH_USERS.
func benchUsers(b *testing.B) []int {
	env := os.Getenv("LLMBENCH_BENCH_USERS")
	if env == "" {
		if llama.HasGPU() {
			return metrics.DefaultServeUsers
		}
		return []int{1, 2, 4}
	}
	var users []int
	for _, f := range strings.Split(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("LLMBENCH_BENCH_USERS=%q: want numbers of users, at least 1", env)
		}
		users = append(users, n)
	}
	return users
}

func benchServe(b *testing.B, m *llama.Model, users, prompt, gen int) {
	sv, err := m.NewServer(llama.WithSequences(users), llama.WithContextSize(users*(prompt+gen)))
	if err != nil {
		b.Fatal(err)
	}
	defer sv.Close()
	logCPUBuild(b)
	spec, err := metrics.ServeSpec{Users: []int{users}, Requests: users, PromptTokens: prompt, GenTokens: gen, RandomPrompts: true}.WithDefaults()
	if err != nil {
		b.Fatal(err)
	}
	r := &serveRunner{serve: spec, clk: wallClock{}, model: llamaModel{m}, info: m.Info(),
		gen: llama.GenerateOptions{MaxTokens: gen, IgnoreEOG: true}, out: &metrics.Serving{}}
	var window time.Duration
	var tokens float64
	var perUser, ttft []float64
	stop := benchMonitor(b, m.Info())
	for b.Loop() {
		l := newLoad(context.Background(), r, sv, users, "")
		l.closed(users)
		if err := l.failure(); err != nil {
			b.Fatal(err)
		}
		lvl := l.summarize(metrics.ServeLevel{Users: users})
		window += time.Duration(lvl.WindowMs * float64(time.Millisecond))
		tokens += lvl.OutputTPS * lvl.WindowMs / 1000
		for _, q := range l.reqs {
			if !q.measured {
				continue
			}
			if tps, ok := q.timer.DecodeTPS(); ok {
				perUser = append(perUser, tps)
			}
			if d, ok := q.timer.TTFT(); ok {
				ttft = append(ttft, metrics.Millis(d))
			}
		}
	}
	stop()
	slices.Sort(perUser)
	slices.Sort(ttft)
	b.ReportMetric(tokens/window.Seconds(), "agg-tok/s")
	b.ReportMetric(metrics.Percentile(perUser, 50), "user-tok/s")
	b.ReportMetric(metrics.Percentile(perUser, 10), "user-p10-tok/s")
	b.ReportMetric(metrics.Percentile(ttft, 99), "ttft-p99-ms")
}
