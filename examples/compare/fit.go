package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/local-llm-bench/llmbench/bench"
	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/bench/report"
	"github.com/local-llm-bench/llmbench/llama"
)

// budgetsUsage and kvUsage are the help of -budgets and -kv.
const (
	budgetsUsage = "VRAM budgets in GiB, comma-separated (e.g. 4,6,8,12,16,24; a card sold as 8 GB has 8 GiB): " +
		"plan each model's placement for each, then, on a GPU, load and measure it with the rest of the GPU held unused; " +
		"without a GPU the plans are shown, marked planned, not measured"
	kvUsage = "KV cache types of the -budgets sweep, comma-separated (f16, q8_0, q4_0)"
)

// parseBudgets reads -budgets: positive numbers of GiB, each once, into bytes.
func parseBudgets(s string) ([]uint64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []uint64
	seen := map[uint64]bool{}
	for _, f := range strings.Split(s, ",") {
		g, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || g <= 0 || math.IsInf(g, 0) || g > 1<<20 {
			return nil, fmt.Errorf("-budgets: %q is not a positive number of GiB", strings.TrimSpace(f))
		}
		b := uint64(math.Round(g * metrics.GiB))
		if seen[b] {
			return nil, fmt.Errorf("-budgets: %s GiB given twice", strings.TrimSpace(f))
		}
		seen[b] = true
		out = append(out, b)
	}
	return out, nil
}

// parseKVTypes reads -kv.
func parseKVTypes(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		switch t := llama.KVCacheType(strings.TrimSpace(f)); t {
		case llama.KVF16, llama.KVQ8_0, llama.KVQ4_0:
			out = append(out, string(t))
		default:
			return nil, fmt.Errorf("-kv: unknown KV cache type %q (f16, q8_0, q4_0)", strings.TrimSpace(f))
		}
	}
	return out, nil
}

// fitModel runs the -budgets sweep of t (bench.RunFit) into m, with the workloads of the
// model's spec; the error is the sweep's: a stop, or a bad spec.
func fitModel(ctx context.Context, c config, t target, m *report.Model, mon bench.Monitor, stop <-chan struct{}, prog *progress) error {
	f, err := bench.RunFit(ctx, specFor(c, t), metrics.FitSpec{Budgets: c.budgets, KVTypes: c.kvTypes},
		bench.FitOptions{Monitor: mon, Stop: stop, Progress: prog.event})
	m.Result.Fit = &f
	return err
}

// needsFit says whether a model kept by -resume lacks the sweep -budgets asks for, or has one
// that did not finish.
func needsFit(c config, m report.Model) bool {
	return len(c.budgets) > 0 && (m.Result.Fit == nil || m.Result.Fit.Error != "")
}

// fitUnfinished says how far a sweep that stopped went.
func fitUnfinished(name string, c config, m report.Model) string {
	done := 0
	if f := m.Result.Fit; f != nil {
		done = len(f.Steps)
	}
	return fmt.Sprintf("%s: fit sweep stopped after %d of %d budget steps", name, done, len(c.budgets)*len(c.kvTypes))
}

// sayFitWithoutGPU tells, once, what -budgets does on a machine without a GPU.
func sayFitWithoutGPU(c config, w io.Writer) {
	if len(c.budgets) > 0 && !llama.HasGPU() {
		fmt.Fprintln(w, "compare: no GPU: -budgets plans each model for each budget and loads nothing; the fits-on table says planned, not measured")
	}
}

// breaches is the error of a run in which a plan broke its budget, a failure of the planner.
func breaches(rep report.Run) error {
	var parts []string
	for _, r := range report.FitRows(rep) {
		if r.Breach {
			parts = append(parts, fmt.Sprintf("%s at %g GiB (%s): %s", r.Model, r.BudgetGiB, r.KVType, r.Error))
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return fmt.Errorf("planner breach: %s", strings.Join(parts, "; "))
}
