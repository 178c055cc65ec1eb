package bench

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/llama"
	"github.com/local-llm-bench/llmbench/models"
)

// The benchmarks measure each model in LLMBENCH_BENCH_MODELS (comma-separated GGUF paths), or
// the default small model, llama-bench style: BenchmarkGenerate decodes LLMBENCH_BENCH_GEN
// tokens (default 128) from an empty context, BenchmarkPrompt processes LLMBENCH_BENCH_PROMPT
// token ids (default 512). One iteration is one call; the KV cache is cleared before each.
//
//	make gobench ARGS="-benchtime 5x"
//
// make passes the C flags that compile llama.cpp's CPU kernels for AVX2/FMA; a plain go test
// compiles them for the baseline, several times slower, and the benchmarks' log says so.
//
// Metric units are plain words per second or milliseconds, which benchstat compares as they
// are (it rescales only units it knows, such as ns/op and B/op).

func benchModels(b *testing.B) []string {
	var paths []string
	if env := os.Getenv("LLMBENCH_BENCH_MODELS"); env != "" {
		for _, p := range strings.Split(env, ",") {
			if p = strings.TrimSpace(p); p != "" {
				paths = append(paths, p)
			}
		}
	} else {
		paths = []string{models.DefaultModelPath()}
	}
	var found []string
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			b.Logf("skipping %s: %v", p, err)
			continue
		}
		found = append(found, p)
	}
	if len(found) == 0 {
		b.Skip("no model to benchmark: set LLMBENCH_BENCH_MODELS or run make models")
	}
	return found
}

func envInt(b *testing.B, key string, def int) int {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 2 {
		b.Fatalf("%s=%q: want a number of at least 2", key, v)
	}
	return n
}

// openBench loads path (loadBench) and a session with room for n tokens, closed when the
// benchmark ends. It logs the warning of a slow CPU build.
func openBench(b *testing.B, path string, n int) (*llama.Model, *llama.Session) {
	m := loadBench(b, path)
	s, err := m.NewSession(llama.WithContextSize(max(n+1, 1024)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	logCPUBuild(b)
	return m, s
}

// loadBench loads path with every layer on the GPU where there is one, closed when the
// benchmark ends.
func loadBench(b *testing.B, path string) *llama.Model {
	m, err := llama.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// logCPUBuild logs the warning of a slow CPU build. The log of a benchmark without
// sub-benchmarks is printed whatever the flags: the warning sits beside each model's figures.
func logCPUBuild(b *testing.B) {
	if w := llama.CheckCPUBuild().Warning(); w != "" {
		b.Log(w)
	}
}

// benchMonitor starts NVML sampling when a GPU runs the model; stop reports peak VRAM.
func benchMonitor(b *testing.B, info llama.Info) (stop func()) {
	if !info.GPU {
		return func() {}
	}
	mon, err := NewNVMLMonitor(0)
	if err != nil {
		b.Logf("no VRAM figure: %v", err)
		return func() {}
	}
	probe, err := mon.Start()
	if err != nil {
		mon.Close()
		b.Logf("no VRAM figure: %v", err)
		return func() {}
	}
	return func() {
		s, err := probe.Stop()
		mon.Close()
		if err == nil && s.ProcessSeen {
			b.ReportMetric(float64(s.PeakProcessBytes)/(1<<20), "vram-MiB")
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	n := envInt(b, "LLMBENCH_BENCH_GEN", metrics.DefaultGenTokens)
	for _, path := range benchModels(b) {
		b.Run(strings.TrimSuffix(filepath.Base(path), ".gguf"), func(b *testing.B) {
			m, s := openBench(b, path, n)
			info := m.Info()
			first := []int32{info.BOS}
			if info.BOS < 0 {
				first = []int32{0}
			}
			opts := llama.GenerateOptions{MaxTokens: n, IgnoreEOG: true}
			timer := metrics.NewTokenTimer(n)
			var tokens, calls int
			var decode, ttft time.Duration
			var engineMs float64
			var engineTokens int
			var itl []float64
			// One call first, untimed, as make bench's warmup: the first call after a load
			// pays for what the next ones find ready.
			if _, err := s.GenerateTokens(context.Background(), first, opts, nil); err != nil {
				b.Fatal(err)
			}
			stop := benchMonitor(b, info)
			for b.Loop() {
				if err := s.Reset(); err != nil {
					b.Fatal(err)
				}
				timer.Start()
				res, err := s.GenerateTokens(context.Background(), first, opts, func(llama.Token) bool {
					timer.Token()
					return true
				})
				timer.Stop()
				if err != nil {
					b.Fatal(err)
				}
				t0, ok := timer.TTFT()
				if !ok {
					b.Fatal("no token generated")
				}
				calls++
				ttft += t0
				decoded, span := timer.Decode()
				tokens += decoded
				decode += span
				engineMs += res.Perf.EvalMs
				engineTokens += res.Perf.EvalTokens
				itl = append(itl, timer.ITLMs()...)
			}
			stop()
			b.ReportMetric(float64(tokens)/decode.Seconds(), "tok/s")
			b.ReportMetric(float64(engineTokens)/(engineMs/1000), "engine-tok/s")
			b.ReportMetric(metrics.Millis(ttft)/float64(calls), "ttft-ms")
			slices.Sort(itl)
			b.ReportMetric(metrics.Percentile(itl, 99), "itl-p99-ms")
		})
	}
}

func BenchmarkPrompt(b *testing.B) {
	n := envInt(b, "LLMBENCH_BENCH_PROMPT", metrics.DefaultPromptTokens)
	for _, path := range benchModels(b) {
		b.Run(strings.TrimSuffix(filepath.Base(path), ".gguf"), func(b *testing.B) {
			m, s := openBench(b, path, n)
			r := &runner{info: m.Info()}
			r.rng = newRNG(1)
			toks := r.randomTokens(n)
			var wall time.Duration
			var engineMs float64
			var tokens int
			if _, err := s.Prefill(context.Background(), toks); err != nil { // the warmup
				b.Fatal(err)
			}
			stop := benchMonitor(b, m.Info())
			for b.Loop() {
				if err := s.Reset(); err != nil {
					b.Fatal(err)
				}
				res, err := s.Prefill(context.Background(), toks)
				if err != nil {
					b.Fatal(err)
				}
				wall += res.PromptTime
				engineMs += res.Perf.PromptEvalMs
				tokens += res.PromptTokens
			}
			stop()
			b.ReportMetric(float64(tokens)/wall.Seconds(), "prompt-tok/s")
			b.ReportMetric(float64(tokens)/(engineMs/1000), "engine-prompt-tok/s")
		})
	}
}
