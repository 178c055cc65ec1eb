// Command gpucheck verifies the GPU path on synthetic twins (or any models) and prints one
// table: for each model, generation and prompt tokens/s at the token callback beside
// llama.cpp's own, their ratio, the spread of generation speed over the repetitions, peak
// process VRAM from NVML beside nvidia-smi's figure read during a generation, and what the NVML
// sampler costs (generation measured with and without it, alternating, in this process). It
// also checks that the process's VRAM comes back to the same level after each model is closed,
// and, with -oom, loads the last model again and again until the GPU is full: the load that
// does not fit must fail with llama.ErrOutOfMemory, a context too large for what is left (an
// absurd one, and those near the largest that fits) too, and once the copies are closed the
// model must load and generate again.
//
//	gpucheck -backend build/cuda -models a.gguf,b.gguf -reps 5 -out results/gpucheck
//
// It exits with status 1 on any error, and 2 when a check fails its target.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"

	"github.com/local-llm-bench/llmbench/bench"
	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/llama"
)

// Targets of the checks.
const (
	minRatio       = 0.97 // callback tokens/s ÷ llama.cpp's
	maxCV          = 0.02 // of generation tokens/s over the repetitions
	maxSamplerCost = 0.01
	maxSMIDiff     = 0.02 // NVML peak vs nvidia-smi
)

func main() {
	code, err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpucheck:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// Check is what gpucheck measured on one model.
type Check struct {
	Model  string         `json:"model"`
	Card   string         `json:"card"`
	Result metrics.Result `json:"result"`
	// GenRatio and PromptRatio are tokens/s at the callback ÷ llama.cpp's own (means), of
	// generation and of the prompt.
	GenRatio    float64 `json:"gen_ratio"`
	PromptRatio float64 `json:"prompt_ratio"`
	// Generation tokens/s at the callback, run after run in one session, with the NVML sampler
	// and without it, in the order with, without, without, with, ...
	WithMonitorTPS    []float64 `json:"with_monitor_tps"`
	WithoutMonitorTPS []float64 `json:"without_monitor_tps"`
	SamplerCost       float64   `json:"sampler_cost"`
	NVMLPeakMiB       float64   `json:"nvml_peak_mib"`
	SMIMiB            float64   `json:"nvidia_smi_mib"`
	SMIDiff           float64   `json:"nvidia_smi_diff"`
	// AfterCloseMiB is the process's VRAM once everything of this model is closed.
	AfterCloseMiB float64  `json:"after_close_mib"`
	Failures      []string `json:"failures"`
}

// OOM is what the -oom check saw.
type OOM struct {
	Model     string  `json:"model"`
	Copies    int     `json:"copies"` // loaded before the one that did not fit
	Error     string  `json:"error"`
	IsOOM     bool    `json:"is_out_of_memory"`
	Recovered bool    `json:"recovered"` // loaded and generated again after closing the copies
	AfterMiB  float64 `json:"after_close_mib"`
	// Contexts asked of the last copy while the GPU was full: an absurd one, then a search for
	// the largest that fits, whose failures come from llama.cpp's allocation near the edge.
	Contexts []ContextTry `json:"contexts"`
	// ContextsOK: every context that did not fit gave ErrOutOfMemory, and the copy then
	// generated in a small one.
	ContextsOK bool `json:"contexts_ok"`
}

// ContextTry is one session asked for while the GPU was full.
type ContextTry struct {
	Tokens int    `json:"tokens"`
	Error  string `json:"error,omitempty"`
	IsOOM  bool   `json:"is_out_of_memory"`
	Note   string `json:"note,omitempty"` // what was done with a context that fit
}

func run(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("gpucheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	paths := fs.String("models", "", "comma-separated GGUF files")
	reps := fs.Int("reps", 5, "repetitions of each measure")
	backend := fs.String("backend", "", "GPU backend folder (default: $"+llama.BackendDirEnv+" or build/cuda)")
	out := fs.String("out", "", "folder for the JSON of each check")
	prompt := fs.Int("prompt", 512, "prompt tokens")
	gen := fs.Int("gen", 128, "generated tokens")
	oom := fs.Bool("oom", false, "fill the GPU with copies of the last model to check out-of-memory handling")
	verbose := fs.Bool("v", false, "print llama.cpp's log on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, nil
		}
		return 1, err
	}
	if *paths == "" {
		return 1, fmt.Errorf("-models is required")
	}
	if *verbose {
		slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	if *backend != "" {
		if err := llama.LoadBackend(*backend); err != nil {
			return 1, err
		}
	}
	if !llama.HasGPU() {
		return 1, fmt.Errorf("no GPU backend loaded: give -backend or set %s", llama.BackendDirEnv)
	}
	mon, err := bench.NewNVMLMonitor(0)
	if err != nil {
		return 1, err
	}
	defer mon.Close()
	gpus, err := mon.GPUs()
	if err != nil {
		return 1, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var checks []Check
	for _, p := range strings.Split(*paths, ",") {
		spec := metrics.Spec{Model: p, Repetitions: *reps, PromptTokens: *prompt, GenTokens: *gen,
			Workloads: []metrics.Workload{metrics.WorkloadPrompt, metrics.WorkloadGenerate}, SkipHash: true}
		c, err := check(ctx, spec, mon, stderr)
		if err != nil {
			return 1, err
		}
		c.Card = gpus[0].Name
		if c.AfterCloseMiB, err = processMiB(mon); err != nil {
			return 1, err
		}
		checks = append(checks, c)
		if *out != "" {
			if err := metrics.SaveJSON(filepath.Join(*out, metrics.FileName(c.Model)+".json"), c); err != nil {
				return 1, err
			}
		}
	}
	if err := table(stdout, gpus[0], checks); err != nil {
		return 1, err
	}
	failed := false
	for _, c := range checks {
		failed = failed || len(c.Failures) > 0
	}
	// Every model, once closed, leaves the process where the first one did: the CUDA context
	// and nothing of the model.
	for _, c := range checks[1:] {
		if d := c.AfterCloseMiB - checks[0].AfterCloseMiB; d > 64 || d < -64 {
			fmt.Fprintf(stdout, "VRAM after closing %s: %.0f MiB, after the first model: %.0f MiB\n", c.Model, c.AfterCloseMiB, checks[0].AfterCloseMiB)
			failed = true
		}
	}
	fmt.Fprintf(stdout, "process VRAM after each model was closed (MiB):")
	for _, c := range checks {
		fmt.Fprintf(stdout, " %.0f", c.AfterCloseMiB)
	}
	fmt.Fprintln(stdout)
	if *oom {
		o, err := fillGPU(ctx, checks[len(checks)-1].Result.Spec.Model, mon)
		if err != nil {
			return 1, err
		}
		fmt.Fprintf(stdout, "out of memory: %d copies of %s loaded; the next: %s (ErrOutOfMemory: %v); after closing them it loaded and generated again: %v; VRAM after close %.0f MiB\n",
			o.Copies, o.Model, o.Error, o.IsOOM, o.Recovered, o.AfterMiB)
		fmt.Fprintf(stdout, "contexts asked of the last copy on the full GPU (every failure ErrOutOfMemory, then it generated: %v):\n", o.ContextsOK)
		for _, t := range o.Contexts {
			fmt.Fprintf(stdout, "  %8d tokens: ", t.Tokens)
			if t.Error == "" {
				fmt.Fprintln(stdout, "fits", t.Note)
			} else {
				fmt.Fprintf(stdout, "%s (ErrOutOfMemory: %v)\n", t.Error, t.IsOOM)
			}
		}
		failed = failed || !o.IsOOM || !o.Recovered || !o.ContextsOK || o.AfterMiB-checks[0].AfterCloseMiB > 64
		if *out != "" {
			if err := metrics.SaveJSON(filepath.Join(*out, "oom.json"), o); err != nil {
				return 1, err
			}
		}
	}
	if failed {
		return 2, nil
	}
	return 0, nil
}

// processMiB reads this process's VRAM now.
func processMiB(mon *bench.NVMLMonitor) (float64, error) {
	p, err := mon.Start()
	if err != nil {
		return 0, err
	}
	s, err := p.Stop()
	if err != nil {
		return 0, err
	}
	return float64(s.PeakProcessBytes) / (1 << 20), nil
}

// fillGPU loads copies of the model until one does not fit, then closes them and loads it again.
func fillGPU(ctx context.Context, path string, mon *bench.NVMLMonitor) (OOM, error) {
	o := OOM{Model: filepath.Base(path)}
	var copies []*llama.Model
	defer func() {
		for _, m := range copies {
			m.Close()
		}
	}()
	for len(copies) < 256 {
		if err := ctx.Err(); err != nil {
			return o, err
		}
		m, err := llama.Load(path)
		if err != nil {
			o.Error = err.Error()
			o.IsOOM = errors.Is(err, llama.ErrOutOfMemory)
			break
		}
		copies = append(copies, m)
	}
	o.Copies = len(copies)
	if len(copies) > 0 {
		o.Contexts, o.ContextsOK = tryContexts(ctx, copies[len(copies)-1])
	}
	for _, m := range copies {
		m.Close()
	}
	copies = nil
	m, err := llama.Load(path)
	if err == nil {
		s, serr := m.NewSession(llama.WithContextSize(1024))
		if serr == nil {
			res, gerr := s.GenerateTokens(ctx, bosPrompt(m), llama.GenerateOptions{MaxTokens: 8, IgnoreEOG: true}, nil)
			o.Recovered = gerr == nil && res.Tokens == 8
			s.Close()
		}
		m.Close()
	}
	after, err := processMiB(mon)
	o.AfterMiB = after
	return o, err
}

// tryContexts asks m, on a full GPU, for a context of 2^22 tokens, whose KV cache no GPU holds,
// then searches for the largest context that fits, where CUDA's own allocations are the
// closest to failing. Every failure must be ErrOutOfMemory, and the largest context that fit
// must compute a prompt and generate.
func tryContexts(ctx context.Context, m *llama.Model) ([]ContextTry, bool) {
	var tries []ContextTry
	ok := true
	try := func(n int) bool {
		s, err := m.NewSession(llama.WithContextSize(n))
		t := ContextTry{Tokens: n}
		if err != nil {
			t.Error, t.IsOOM = err.Error(), errors.Is(err, llama.ErrOutOfMemory)
			ok = ok && t.IsOOM
		} else {
			s.Close()
		}
		tries = append(tries, t)
		return err == nil
	}
	try(1 << 22)
	lo, hi := 0, 1<<22 // lo fits (0: none found yet), hi does not
	for hi-lo > 256 && ctx.Err() == nil {
		mid := (lo + hi) / 2 / 256 * 256
		if mid <= lo {
			mid = lo + 256
		}
		if try(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	// The largest context that fits must also compute: a prompt of a full ubatch and a few
	// tokens, for which CUDA's pools grow.
	if lo == 0 {
		return tries, false
	}
	s, err := m.NewSession(llama.WithContextSize(lo))
	if err != nil {
		tries = append(tries, ContextTry{Tokens: lo, Error: "again: " + err.Error()})
		return tries, false
	}
	defer s.Close()
	prompt := make([]int32, 512)
	for i := range prompt {
		prompt[i] = int32(100 + i)
	}
	res, err := s.GenerateTokens(ctx, prompt, llama.GenerateOptions{MaxTokens: 8, IgnoreEOG: true}, nil)
	t := ContextTry{Tokens: lo, Note: "computed a prompt of 512 tokens and generated 8"}
	if err != nil {
		t.Error = "computing 512 + 8 tokens: " + err.Error()
	}
	tries = append(tries, t)
	return tries, ok && err == nil && res.Tokens == 8
}

// samplerRuns generates gen tokens 2×pairs times in one session after two runs to warm up,
// the NVML sampler running around every other run, and returns the decode tokens/s at the
// callback of the runs with it and of those without.
func samplerRuns(ctx context.Context, path string, gen, pairs int, mon *bench.NVMLMonitor) (with, without []float64, err error) {
	m, err := llama.Load(path)
	if err != nil {
		return nil, nil, err
	}
	defer m.Close()
	s, err := m.NewSession(llama.WithContextSize(gen + 256))
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	prompt := bosPrompt(m)
	timer := metrics.NewTokenTimer(gen)
	for i := range 2*pairs + 2 {
		monitored := i%4 == 0 || i%4 == 3 // with, without, without, with
		var probe bench.Probe
		if monitored {
			if probe, err = mon.Start(); err != nil {
				return nil, nil, err
			}
		}
		if err := s.Reset(); err != nil {
			return nil, nil, err
		}
		timer.Start()
		_, err := s.GenerateTokens(ctx, prompt, llama.GenerateOptions{MaxTokens: gen, IgnoreEOG: true}, func(llama.Token) bool {
			timer.Token()
			return true
		})
		timer.Stop()
		if monitored {
			if _, serr := probe.Stop(); serr != nil && err == nil {
				err = serr
			}
		}
		if err != nil {
			return nil, nil, err
		}
		if i < 2 {
			continue
		}
		tps, ok := timer.DecodeTPS()
		if !ok {
			return nil, nil, fmt.Errorf("generation %d: %d tokens, no decode rate", i, timer.Tokens())
		}
		if monitored {
			with = append(with, tps)
		} else {
			without = append(without, tps)
		}
	}
	return with, without, nil
}

// bosPrompt is a prompt of the model's BOS token alone, or of token 1 for a model without one.
func bosPrompt(m *llama.Model) []int32 {
	if bos := m.Info().BOS; bos >= 0 {
		return []int32{bos}
	}
	return []int32{1}
}

// measures finds the prompt and generation measures of a result, nil where there is none.
func measures(r *metrics.Result) (tg, pp *metrics.Measure) {
	return r.Measure(fmt.Sprintf("tg%d", r.Spec.GenTokens)), r.Measure(fmt.Sprintf("pp%d", r.Spec.PromptTokens))
}

func check(ctx context.Context, spec metrics.Spec, mon *bench.NVMLMonitor, log io.Writer) (Check, error) {
	progress := func(e bench.Event) {
		fmt.Fprintf(log, "%s %s %d/%d\n", e.Name, e.Label, e.Rep, e.Reps)
	}
	res, err := bench.Run(ctx, spec, bench.Options{Monitor: mon, Progress: progress})
	if err != nil {
		return Check{}, err
	}
	spec = res.Spec // with its defaults filled in
	c := Check{Model: res.Name, Result: res}
	tg, pp := measures(&res)
	if tg == nil || pp == nil {
		return c, fmt.Errorf("%s: measures missing", res.Name)
	}
	c.GenRatio = ratio(tg.DecodeTPS.Mean, tg.EngineEvalTPS.Mean)
	c.PromptRatio = ratio(pp.PromptTPS.Mean, pp.EnginePromptTPS.Mean)
	if c.GenRatio < minRatio {
		c.Failures = append(c.Failures, fmt.Sprintf("generation ratio %.3f < %.2f", c.GenRatio, minRatio))
	}
	if c.PromptRatio < minRatio {
		c.Failures = append(c.Failures, fmt.Sprintf("prompt ratio %.3f < %.2f", c.PromptRatio, minRatio))
	}
	if cv := tg.DecodeTPS.CV(); cv > maxCV {
		c.Failures = append(c.Failures, fmt.Sprintf("CV of generation %.4f > %.2f", cv, maxCV))
	}

	// The sampler's cost: generation in one session, with and without it, in pairs whose
	// order alternates, so that neither drift over time nor a model's placement in memory
	// (which differs from load to load by more than the cost) passes for cost.
	if c.WithMonitorTPS, c.WithoutMonitorTPS, err = samplerRuns(ctx, spec.Model, spec.GenTokens, 2*spec.Repetitions, mon); err != nil {
		return c, err
	}
	c.SamplerCost = 1 - metrics.Summarize(c.WithMonitorTPS).Mean/metrics.Summarize(c.WithoutMonitorTPS).Mean
	if c.SamplerCost > maxSamplerCost {
		c.Failures = append(c.Failures, fmt.Sprintf("sampler cost %.4f > %.2f", c.SamplerCost, maxSamplerCost))
	}

	if err := compareSMI(ctx, &c, spec, mon); err != nil {
		return c, err
	}
	return c, nil
}

// compareSMI generates a long reply with the sampler running and asks nvidia-smi for this
// process's memory half way through.
func compareSMI(ctx context.Context, c *Check, spec metrics.Spec, mon *bench.NVMLMonitor) error {
	m, err := llama.Load(spec.Model)
	if err != nil {
		return err
	}
	defer m.Close()
	s, err := m.NewSession(llama.WithContextSize(4096))
	if err != nil {
		return err
	}
	defer s.Close()
	probe, err := mon.Start()
	if err != nil {
		return err
	}
	smi := make(chan float64, 1)
	smiErr := make(chan error, 1)
	const n = 1024
	_, err = s.GenerateTokens(ctx, bosPrompt(m), llama.GenerateOptions{MaxTokens: n, IgnoreEOG: true}, func(t llama.Token) bool {
		if t.Index == n/2 {
			go func() {
				v, err := smiProcessMiB(os.Getpid())
				smi <- v
				smiErr <- err
			}()
		}
		return true
	})
	sample, perr := probe.Stop()
	if err != nil {
		return err
	}
	if perr != nil {
		return perr
	}
	c.SMIMiB = <-smi
	if err := <-smiErr; err != nil {
		return err
	}
	if !sample.ProcessSeen {
		c.Failures = append(c.Failures, "the process never appeared in NVML's process list")
		return nil
	}
	c.NVMLPeakMiB = float64(sample.PeakProcessBytes) / (1 << 20)
	c.SMIDiff = c.NVMLPeakMiB/c.SMIMiB - 1
	if c.SMIDiff > maxSMIDiff || c.SMIDiff < -maxSMIDiff {
		c.Failures = append(c.Failures, fmt.Sprintf("NVML %.0f MiB vs nvidia-smi %.0f MiB", c.NVMLPeakMiB, c.SMIMiB))
	}
	return nil
}

func smiProcessMiB(pid int) (float64, error) {
	out, err := exec.Command("nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits").Output()
	if err != nil {
		return 0, fmt.Errorf("nvidia-smi: %w", err)
	}
	total, found := 0.0, false
	for _, line := range strings.Split(string(bytes.TrimSpace(out)), "\n") {
		f := strings.Split(line, ",")
		if len(f) != 2 || strings.TrimSpace(f[0]) != strconv.Itoa(pid) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(f[1]), 64)
		if err != nil {
			return 0, fmt.Errorf("nvidia-smi: %q: %w", line, err)
		}
		total, found = total+v, true
	}
	if !found {
		return 0, fmt.Errorf("nvidia-smi does not list process %d:\n%s", pid, out)
	}
	return total, nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func table(w io.Writer, gpu metrics.GPUInfo, checks []Check) error {
	fmt.Fprintf(w, "%s, driver %s, CUDA %s\n", gpu.Name, gpu.DriverVersion, gpu.CUDAVersion)
	t := tablewriter.NewWriter(w)
	t.Header("model", "tg tok/s callback", "tg tok/s llama.cpp", "ratio", "pp tok/s callback", "pp tok/s llama.cpp", "ratio",
		"tg CV", "VRAM NVML MiB", "nvidia-smi MiB", "diff", "sampler cost", "verdict")
	for _, c := range checks {
		tg, pp := measures(&c.Result)
		verdict := "ok"
		if len(c.Failures) > 0 {
			verdict = strings.Join(c.Failures, "; ")
		}
		if err := t.Append(c.Model,
			fmt.Sprintf("%.1f ± %.1f", tg.DecodeTPS.Mean, tg.DecodeTPS.Stddev),
			fmt.Sprintf("%.1f ± %.1f", tg.EngineEvalTPS.Mean, tg.EngineEvalTPS.Stddev),
			fmt.Sprintf("%.3f", c.GenRatio),
			fmt.Sprintf("%.0f ± %.0f", pp.PromptTPS.Mean, pp.PromptTPS.Stddev),
			fmt.Sprintf("%.0f ± %.0f", pp.EnginePromptTPS.Mean, pp.EnginePromptTPS.Stddev),
			fmt.Sprintf("%.3f", c.PromptRatio),
			fmt.Sprintf("%.2f%%", 100*tg.DecodeTPS.CV()),
			fmt.Sprintf("%.0f", c.NVMLPeakMiB),
			fmt.Sprintf("%.0f", c.SMIMiB),
			fmt.Sprintf("%+.2f%%", 100*c.SMIDiff),
			fmt.Sprintf("%+.2f%%", 100*c.SamplerCost),
			verdict,
		); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "measured %s\n", time.Now().UTC().Format(time.RFC3339))
	return err
}
