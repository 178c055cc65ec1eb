package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench"
	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/bench/report"
	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
	"github.com/local-llm-bench/llmbench/llama"
	"github.com/local-llm-bench/llmbench/models"
)

// On the CPU, -budgets plans each model for each budget and KV type and loads nothing, says so
// on stderr, and the report's fits-on table, chart and <model>_fit.csv say planned, not
// measured. With -resume, a model measured before without a sweep is kept and gets one.
func TestBudgetsOnTheCPUArePlanned(t *testing.T) {
	if llama.HasGPU() {
		t.Skip("a GPU backend is loaded: -budgets measures there; this test is of the CPU's plans")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "results")
	model := ggufttest.Tiny(t, dir, "tiny-llama")
	var stdout, stderr bytes.Buffer
	code, err := run(context.Background(), []string{"-models", model, "-quick", "-quality=false", "-out", out}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	require.Equal(t, 0, code)
	assert.NoFileExists(t, filepath.Join(out, "tiny-llama_fit.csv"))

	stdout.Reset()
	stderr.Reset()
	code, err = run(context.Background(), []string{"-models", model, "-quick", "-quality=false", "-out", out, "-resume",
		"-budgets", "1,0.5", "-kv", "f16,q8_0"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Equal(t, 0, code)
	assert.Contains(t, stderr.String(), "kept from")
	assert.NotContains(t, stderr.String(), "loading", "neither measured again nor loaded for the plans")
	assert.Contains(t, stderr.String(), "compare: no GPU: -budgets plans each model for each budget and loads nothing")
	assert.Contains(t, stdout.String(), "Fits on: VRAM budgets (planned, not measured)")
	assert.Contains(t, stdout.String(), "RSS GB", "the memory column of a CPU run")
	t.Log("\n" + stdout.String())

	data, err := os.ReadFile(filepath.Join(out, report.SummaryFile))
	require.NoError(t, err)
	var doc report.Document
	require.NoError(t, json.Unmarshal(data, &doc))
	require.Len(t, doc.Fit, 4, "two budgets × two KV types")
	for i, r := range doc.Fit {
		assert.Equal(t, []float64{1, 1, 0.5, 0.5}[i], r.BudgetGiB)
		assert.Equal(t, []string{"f16", "q8_0"}[i%2], r.KVType)
		assert.False(t, r.Measured)
		assert.Equal(t, bench.NotMeasuredNoGPU, r.NotMeasured)
		if r.BudgetGiB == 0.5 {
			assert.False(t, r.Fits, "half a GiB cannot hold CUDA's own reserve")
			assert.Contains(t, r.PlanError, "cannot hold even the compute buffers")
			continue
		}
		assert.True(t, r.Fits, r.PlanError)
		assert.Equal(t, 3, r.GPULayers, "the tiny model fits whole")
		assert.True(t, r.MaxContextCapped, "its training context is 512")
	}
	assert.Equal(t, report.MemoryRSS, doc.Summary[0].MemoryKind)
	assert.Positive(t, doc.Summary[0].PeakRSSMiB.Value)

	f, err := os.Open(filepath.Join(out, "tiny-llama_fit.csv"))
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	assert.Len(t, recs, 5)
	assert.FileExists(t, filepath.Join(out, "fit_tokens_per_second.png"))
	kept := readResult(t, filepath.Join(out, "tiny-llama.json"))
	require.NotNil(t, kept.Fit, "the sweep is saved with the model's results")
	assert.Len(t, kept.Fit.Steps, 4)
}

func TestBudgetFlags(t *testing.T) {
	b, err := parseBudgets(" 4, 6,0.5 ")
	require.NoError(t, err)
	assert.Equal(t, []uint64{4 << 30, 6 << 30, 512 << 20}, b)
	b, err = parseBudgets("")
	require.NoError(t, err)
	assert.Nil(t, b)
	kv, err := parseKVTypes("q4_0, f16")
	require.NoError(t, err)
	assert.Equal(t, []string{"q4_0", "f16"}, kv)

	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"not a number":  {[]string{"-budgets", "4,eight"}, `-budgets: "eight" is not a positive number of GiB`},
		"zero":          {[]string{"-budgets", "0"}, `-budgets: "0" is not a positive number of GiB`},
		"negative":      {[]string{"-budgets", "-4"}, `"-4" is not a positive number of GiB`},
		"empty item":    {[]string{"-budgets", "4,,8"}, `"" is not a positive number of GiB`},
		"twice":         {[]string{"-budgets", "8,8.0"}, "-budgets: 8.0 GiB given twice"},
		"unknown KV":    {[]string{"-budgets", "8", "-kv", "f16,q5_1"}, `-kv: unknown KV cache type "q5_1"`},
		"on the CPU":    {[]string{"-budgets", "8", "-cpu"}, "-budgets and -cpu exclude each other"},
		"infinite GiBs": {[]string{"-budgets", "Inf"}, `"Inf" is not a positive number of GiB`},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code, err := run(context.Background(), c.args, &stdout, &stderr)
			assert.Equal(t, 1, code)
			assert.ErrorContains(t, err, c.want)
		})
	}
}

// A run whose plan broke its budget ends with status 1 and says which.
func TestBreachesFailTheRun(t *testing.T) {
	st := metrics.FitStep{BudgetBytes: 4 << 30, KVType: "f16", Plan: &metrics.FitPlan{GPULayers: 20, Layers: 33},
		Load: &metrics.FitLoad{Context: 4096, PeakVRAMBytes: 5 << 30}}
	rep := report.Run{Models: []report.Model{{Result: metrics.Result{Name: "m", Fit: &metrics.Fit{Measured: true, Steps: []metrics.FitStep{st}}}}}}
	err := breaches(rep)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "planner breach: m at 4 GiB (f16): at 4096 tokens the process took 5.00 GiB"), err.Error())
	rep.Models[0].Result.Fit.Steps[0].Load.PeakVRAMBytes = 3 << 30
	assert.NoError(t, breaches(rep))
}

// On a GPU, -budgets measures each plan behind a ballast: at every budget the measured peak
// VRAM is within the budget (a breach fails the run), and the context one step beyond the
// largest, loaded with the placement held, ends cleanly: refused with ErrOutOfMemory, never an
// error of another kind or an abort. Where the plan's upper bounds left room for it, the card
// held it, and the doubling went on until a load was refused. The default small model (trained for 8192 tokens) at 1 GiB holds part of
// its layers and has a step beyond; at 1.25 GiB and more it holds everything.
func TestBudgetsOnAGPUAreMeasured(t *testing.T) {
	if !llama.HasGPU() {
		t.Skip("no GPU backend loaded (make cuda, or set LLMBENCH_BACKEND_DIR): the measured sweep needs a GPU; TestBudgetsOnTheCPUArePlanned covers the CPU")
	}
	model := models.DefaultModelPath()
	if _, err := os.Stat(model); err != nil {
		t.Skipf("default model %s not present (make models fetches it): %v", model, err)
	}
	out := filepath.Join(t.TempDir(), "results")
	var stdout, stderr bytes.Buffer
	code, err := run(context.Background(), []string{"-models", model, "-quick", "-quality=false", "-out", out,
		"-budgets", "1,1.25,1.5,2", "-kv", "f16,q8_0"}, &stdout, &stderr)
	t.Log("\n" + stdout.String())
	require.NoError(t, err, stderr.String())
	assert.Equal(t, 0, code)
	data, err := os.ReadFile(filepath.Join(out, report.SummaryFile))
	require.NoError(t, err)
	var doc report.Document
	require.NoError(t, json.Unmarshal(data, &doc))
	require.Len(t, doc.Fit, 8)
	for _, r := range doc.Fit {
		if !r.Fits {
			continue
		}
		assert.True(t, r.Measured, "%g GiB %s", r.BudgetGiB, r.KVType)
		assert.Empty(t, r.Error, "%g GiB %s", r.BudgetGiB, r.KVType)
		require.True(t, r.PeakVRAMGiB.OK(), r.PeakVRAMGiB.NA)
		assert.LessOrEqual(t, r.PeakVRAMGiB.Value, r.BudgetGiB, "%g GiB %s", r.BudgetGiB, r.KVType)
		assert.True(t, r.DecodeTPS.OK())
		if r.BeyondContext > 0 {
			assert.Equal(t, "refused", r.Beyond, "%g GiB %s at %d tokens", r.BudgetGiB, r.KVType, r.BeyondContext)
		}
		if r.PlannerMaxContext > 0 {
			t.Logf("%g GiB %s: the card held %d tokens, past the planner's %d: the plan is conservative there", r.BudgetGiB, r.KVType, r.MaxContext, r.PlannerMaxContext)
		}
	}
}
