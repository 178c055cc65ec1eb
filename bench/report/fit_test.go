package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
)

const gib = metrics.GiB

// fitStat is a stat of one value per repetition, around mean.
func fitStat(mean float64) metrics.Stat {
	return metrics.Stat{N: 3, Mean: mean, Stddev: mean / 100, Min: mean * 0.99, Max: mean * 1.01, P50: mean, P90: mean, P99: mean}
}

// fitFixture is a fit sweep of a model of 33 layers at four budgets, in the shape RunFit
// gives: 0.5 GiB holds nothing; 4 GiB holds 21 layers at 4k and no more context; 8 GiB holds
// everything up to 16k; 24 GiB everything up to the training context. Measured, each plan was
// loaded on a 141 GiB GPU with a ballast, at speed tps (scaled by the layers on the GPU), and
// took 0.2 GiB less than planned.
func fitFixture(tps float64, measured bool) *metrics.Fit {
	plan := func(layers int, total float64) *metrics.FitPlan {
		return &metrics.FitPlan{GPULayers: layers, Layers: 33, KVOnGPU: true, ContextSize: 4096, DecidedBy: "estimate",
			GPU:  metrics.FitMemory{Total: uint64(total * gib)},
			Host: metrics.FitMemory{Total: uint64((5 - total) * gib)}}
	}
	load := func(budget uint64, p *metrics.FitPlan, nCtx int, speed float64) *metrics.FitLoad {
		l := &metrics.FitLoad{Context: nCtx, LayersOnGPU: p.GPULayers, PlannedGPUBytes: p.GPU.Total,
			PeakVRAMBytes: p.GPU.Total - gib/5, BallastBytes: 141*gib - budget, PeakRSSBytes: 2 * gib}
		if speed > 0 {
			l.Measures = []metrics.Measure{
				{Workload: metrics.WorkloadPrompt, Label: "pp512", Reps: 3, PromptTPS: fitStat(speed * 40)},
				{Workload: metrics.WorkloadGenerate, Label: "tg128", Reps: 3, DecodeTPS: fitStat(speed), TTFTMs: fitStat(1000 / speed)},
			}
		}
		return l
	}
	refused := func(nCtx int) *metrics.FitLoad {
		return &metrics.FitLoad{Context: nCtx, Error: "session for m: new session: out of memory: a context of 8192 tokens needs about 1.2 GiB", OutOfMemory: true, BallastBytes: 137 * gib}
	}
	f := &metrics.Fit{
		Spec:     metrics.FitSpec{Budgets: []uint64{gib / 2, 4 * gib, 8 * gib, 24 * gib}, KVTypes: []string{"f16"}},
		Measured: measured, Layers: 33, TrainContext: 32768, Context: 4096, GPU: "NVIDIA H200",
		Steps: []metrics.FitStep{
			{BudgetBytes: gib / 2, KVType: "f16", PlanError: "plan m: out of memory: a budget of 512.0 MiB cannot hold even the compute buffers with no layer on the GPU: compute 272.0 MiB and CUDA's own 856.0 MiB, 1.10 GiB in all"},
			{BudgetBytes: 4 * gib, KVType: "f16", Plan: plan(21, 3.9), MaxContext: 4096, Beyond: &metrics.FitBeyond{Context: 8192, PlannedLayers: 18}},
			{BudgetBytes: 8 * gib, KVType: "f16", Plan: plan(33, 5.5), MaxContext: 16384, Beyond: &metrics.FitBeyond{Context: 32768, PlannedLayers: 27}},
			{BudgetBytes: 24 * gib, KVType: "f16", Plan: plan(33, 5.5), MaxContext: 32768, MaxContextCapped: true},
		},
	}
	if !measured {
		f.NotMeasured = "no GPU: planned, not measured"
		return f
	}
	for i := range f.Steps {
		st := &f.Steps[i]
		if st.Plan == nil {
			continue
		}
		st.Load = load(st.BudgetBytes, st.Plan, 4096, tps*float64(st.Plan.GPULayers)/33)
		if st.MaxContext > 4096 {
			big := *st.Plan
			big.GPU.Total += gib
			st.MaxContextLoad = load(st.BudgetBytes, &big, st.MaxContext, 0)
		}
		if st.Beyond != nil {
			st.Beyond.Load = refused(st.Beyond.Context)
		}
	}
	return f
}

// fitRun is the twins' run with a fit sweep for each: Mistral at 100 tok/s, Phi-3 at 150.
func fitRun(t *testing.T, measured bool) Run {
	run := h200Run(t)
	run.Models[1].Result.Fit = fitFixture(150, measured)
	run.Models[2].Result.Fit = fitFixture(100, measured)
	return run
}

// The rows of the "fits on" table carry the plan, the largest context and what was measured:
// margin = budget − the highest peak of the plan's loads, plan error = (planned − measured) ÷
// measured, and what became of the context beyond.
func TestFitRows(t *testing.T) {
	rows := FitRows(fitRun(t, true))
	require.Len(t, rows, 8, "two models with four budgets each; the first has no sweep")
	r := rows[4:]
	assert.Equal(t, "mistral-7b-instruct-v0.2.Q4_K_M", r[0].Model)

	assert.False(t, r[0].Fits)
	assert.Contains(t, r[0].PlanError, "cannot hold even the compute buffers")
	assert.Equal(t, "does not fit", r[0].DecodeTPS.NA)

	four := r[1]
	assert.True(t, four.Fits)
	assert.Equal(t, 4.0, four.BudgetGiB)
	assert.Equal(t, [2]int{21, 33}, [2]int{four.GPULayers, four.Layers})
	assert.Equal(t, 4096, four.MaxContext)
	assert.Equal(t, 8192, four.BeyondContext)
	assert.Equal(t, "refused", four.Beyond)
	assert.InDelta(t, 100*21.0/33, four.DecodeTPS.Value, 1e-9)
	assert.InDelta(t, 3.9-0.2, four.PeakVRAMGiB.Value, 1e-6)
	assert.InDelta(t, 4-3.7, four.MarginGiB.Value, 1e-6)
	assert.InDelta(t, 100*0.2/3.7, four.PlanErrorPct.Value, 1e-6)
	assert.False(t, four.Breach)
	assert.Empty(t, four.Error)

	eight := r[2]
	assert.InDelta(t, 6.5-0.2, eight.PeakVRAMGiB.Value, 1e-6, "the load at the largest context took more")
	assert.InDelta(t, 8-6.3, eight.MarginGiB.Value, 1e-6)
	assert.InDelta(t, 100*0.2/5.3, eight.PlanErrorPct.Value, 1e-6, "the error is that of the plan's own context")
	assert.Equal(t, "32768: refused", fmt.Sprintf("%d: %s", eight.BeyondContext, eight.Beyond))

	top := r[3]
	assert.True(t, top.MaxContextCapped)
	assert.Zero(t, top.BeyondContext)

	planned := FitRows(fitRun(t, false))[5]
	assert.False(t, planned.Measured)
	assert.Equal(t, "no GPU: planned, not measured", planned.NotMeasured)
	assert.Equal(t, "planned 18/33", planned.Beyond)
	assert.Equal(t, planned.NotMeasured, planned.DecodeTPS.NA)
	assert.Equal(t, planned.NotMeasured, planned.MarginGiB.NA)
	assert.InDelta(t, 3.9, planned.PlannedGiB.Value, 1e-6)
}

// The table reads the same in Markdown as the rows: layers, largest and next context, speed,
// memory and margin; the planner's refusal is a note; without a GPU the title says the figures
// are planned.
func TestFitTable(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteMarkdown(&b, fitRun(t, true)))
	md := b.String()
	rows := tableRows(t, md, "Fits on: VRAM budgets")
	require.Len(t, rows, 8)
	assert.Equal(t, []string{"mistral-7b-instruct-v0.2.Q4_K_M", "0.5", "f16", "does not fit", "-", "-", "-", "-", "-", "-", "-", "-", "-"}, rows[4])
	assert.Equal(t, []string{"mistral-7b-instruct-v0.2.Q4_K_M", "8", "f16", "33/33", "16384", "32768: refused",
		"100.0", "4000", "10.00", "5.50", "6.30", "1.70", "+3.8%"}, rows[6])
	assert.Equal(t, "32768 (max)", rows[7][4])
	assert.Equal(t, "-", rows[7][5])
	assert.Contains(t, md, "mistral-7b-instruct-v0.2.Q4_K_M at 0.5 GiB, f16: does not fit: plan m: out of memory")
	assert.Contains(t, md, "GiB = 2³⁰ bytes")
	assert.NotContains(t, md, planFailureText)

	b.Reset()
	require.NoError(t, WriteMarkdown(&b, fitRun(t, false)))
	md = b.String()
	rows = tableRows(t, md, "Fits on: VRAM budgets (planned, not measured)")
	assert.Equal(t, []string{"mistral-7b-instruct-v0.2.Q4_K_M", "4", "f16", "21/33", "4096", "8192: planned 18/33",
		naText, naText, naText, "3.90", naText, naText, naText}, rows[5])
	assert.Contains(t, md, "tok/s, peak VRAM, margin, plan error n/a: no GPU: planned, not measured (all models)")

	var term bytes.Buffer
	require.NoError(t, WriteTerminal(&term, fitRun(t, false)))
	assert.Contains(t, term.String(), "Fits on: VRAM budgets (planned, not measured)")
	assert.Contains(t, term.String(), "8192: planned 18/33")

	b.Reset()
	require.NoError(t, WriteMarkdown(&b, h200Run(t)))
	assert.NotContains(t, b.String(), "Fits on", "no sweep, no table")
}

// A measured peak above the budget, or a planned load refused where a ballast left just the
// budget free, is a breach of the plan: marked in the table, in a banner of every output and
// in the CSV.
func TestFitBreachIsLoud(t *testing.T) {
	run := fitRun(t, true)
	f := run.Models[2].Result.Fit
	f.Steps[1].Load.PeakVRAMBytes = 4*gib + 50<<20
	f.Steps[2].MaxContextLoad.Error = "session for m: new session: out of memory"
	f.Steps[2].MaxContextLoad.OutOfMemory = true

	rows := FitRows(run)[4:]
	assert.True(t, rows[1].Breach)
	assert.Contains(t, rows[1].Error, "at 4096 tokens the process took 4.05 GiB")
	assert.True(t, rows[2].Breach, "the largest context the planner promised was refused")
	assert.Contains(t, rows[2].Error, "the load at the largest context failed")

	var md, term, page bytes.Buffer
	require.NoError(t, WriteMarkdown(&md, run))
	require.NoError(t, WriteTerminal(&term, run))
	require.NoError(t, WriteHTML(&page, run))
	assert.Contains(t, md.String(), "> **PLANNER BREACH**: the planner's placement did not keep to its budget: mistral-7b-instruct-v0.2.Q4_K_M at 4 GiB, f16")
	assert.Contains(t, term.String(), "*** PLANNER BREACH: ")
	assert.Contains(t, page.String(), "<title>llmbench report — PLANNER BREACH</title>")
	assert.Contains(t, page.String(), `<div class="incomplete" id="breach" role="alert"><strong>PLANNER BREACH</strong>`)
	table := tableRows(t, md.String(), "Fits on: VRAM budgets")
	assert.Equal(t, "BREACH -0.05", table[5][11])

	var csvOut bytes.Buffer
	require.NoError(t, WriteFitCSV(&csvOut, run.Models[2].Result))
	recs, err := csv.NewReader(&csvOut).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, "true", recs[2][25], "breach column")
	assert.Equal(t, fmt.Sprint(-50<<20), recs[2][23], "margin_bytes")
}

// Where a card of the budget held contexts past the planner's largest, the row's largest
// context is the last it held, the planner's is kept beside it, the held loads count in the
// peak and the margin, and the next context is the one refused after them.
func TestFitRowsWithContextsHeldPastThePlan(t *testing.T) {
	run := fitRun(t, true)
	st := &run.Models[2].Result.Fit.Steps[1] // 4 GiB: the planner stops at 4096
	held := &metrics.FitLoad{Context: 8192, LayersOnGPU: 21, PeakVRAMBytes: 38 * gib / 10, BallastBytes: 137 * gib}
	st.BeyondHeld = []*metrics.FitLoad{held}
	st.Beyond = &metrics.FitBeyond{Context: 16384, PlannedLayers: 15,
		Load: &metrics.FitLoad{Context: 16384, Error: "session for m: out of memory", OutOfMemory: true, BallastBytes: 137 * gib}}

	r := FitRows(run)[5]
	assert.Equal(t, 8192, r.MaxContext)
	assert.False(t, r.MaxContextCapped)
	assert.Equal(t, 4096, r.PlannerMaxContext)
	assert.Equal(t, "16384: refused", fmt.Sprintf("%d: %s", r.BeyondContext, r.Beyond))
	assert.InDelta(t, 3.8, r.PeakVRAMGiB.Value, 1e-6, "the held load took the most")
	assert.InDelta(t, 0.2, r.MarginGiB.Value, 1e-6)
	assert.InDelta(t, 100*0.2/3.7, r.PlanErrorPct.Value, 1e-6, "the error is that of the plan's own context")
	assert.False(t, r.Breach)
	assert.Zero(t, FitRows(run)[6].PlannerMaxContext, "the planner's largest held no more")

	var md bytes.Buffer
	require.NoError(t, WriteMarkdown(&md, run))
	rows := tableRows(t, md.String(), "Fits on: VRAM budgets")
	assert.Equal(t, []string{"8192 (plan 4096)", "16384: refused"}, rows[5][4:6])
	assert.Equal(t, "16384", rows[6][4])

	var b bytes.Buffer
	require.NoError(t, WriteFitCSV(&b, run.Models[2].Result))
	recs, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	last := len(fitHeader) - 1
	assert.Equal(t, "planner_max_context", recs[0][last])
	assert.Equal(t, "4096", recs[2][last])
	assert.Equal(t, "8192", recs[2][slices.Index(fitHeader, "max_context")])
	assert.Empty(t, recs[3][last])

	held.Context, st.Beyond = 32768, nil
	r = FitRows(run)[5]
	assert.Equal(t, 32768, r.MaxContext)
	assert.True(t, r.MaxContextCapped, "the card held the training context")
	assert.Zero(t, r.BeyondContext)
}

// <model>_fit.csv has the header and one line a step; a figure not measured is empty, never 0.
func TestWriteFitCSV(t *testing.T) {
	var b bytes.Buffer
	run := fitRun(t, true)
	require.NoError(t, WriteFitCSV(&b, run.Models[2].Result))
	recs, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 5)
	assert.Equal(t, fitHeader, recs[0])
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	get := func(row int, name string) string { return recs[row][col[name]] }
	assert.Equal(t, "0.5", get(1, "budget_gib"))
	assert.Equal(t, "false", get(1, "fits"))
	assert.Empty(t, get(1, "gpu_layers"))
	assert.Empty(t, get(1, "decode_tps_mean"))
	assert.Equal(t, "21", get(2, "gpu_layers"))
	assert.Equal(t, "8192", get(2, "beyond_context"))
	assert.Equal(t, "refused", get(2, "beyond"))
	assert.Equal(t, fmt.Sprint(uint64(8*gib)), get(3, "budget_bytes"))
	assert.Equal(t, "16384", get(3, "max_context"))
	assert.Equal(t, "100", get(3, "decode_tps_mean"))
	assert.Equal(t, fmt.Sprint(uint64(6.5*gib)-gib/5), get(3, "peak_vram_bytes"))
	assert.Equal(t, fmt.Sprint(int64(8*gib)-int64(uint64(6.5*gib)-gib/5)), get(3, "margin_bytes"))
	assert.Equal(t, fmt.Sprint(uint64(133*gib)), get(3, "ballast_bytes"))
	assert.Equal(t, "true", get(4, "max_context_capped"))
	assert.Empty(t, get(4, "beyond_context"))

	b.Reset()
	require.NoError(t, WriteFitCSV(&b, fitRun(t, false).Models[2].Result))
	recs, err = csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	for _, name := range []string{"decode_tps_mean", "peak_vram_bytes", "margin_bytes", "plan_error_pct", "peak_rss_bytes"} {
		assert.Empty(t, get(3, name), name)
	}
	assert.Equal(t, "no GPU: planned, not measured", get(3, "not_measured"))
	assert.Equal(t, "planned 27/33", get(3, "beyond"))
}

// WriteFiles adds <model>_fit.csv for each model with a sweep and the sweep's chart; summary.json
// holds the table's rows; the page embeds the chart with the others.
func TestFitFiles(t *testing.T) {
	dir := t.TempDir()
	run := fitRun(t, true)
	_, err := WriteFiles(dir, run)
	require.NoError(t, err)
	for _, f := range []string{"phi-3-mini-4k-instruct.Q4_K_M_fit.csv", "mistral-7b-instruct-v0.2.Q4_K_M_fit.csv", chartFitName + ".png"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	assert.NoFileExists(t, filepath.Join(dir, "gemma-2-2b-it.Q4_K_M_fit.csv"))

	data, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	require.NoError(t, err)
	var doc Document
	require.NoError(t, json.Unmarshal(data, &doc))
	require.Len(t, doc.Fit, 8)
	assert.Equal(t, 33, doc.Fit[6].GPULayers)
	assert.InDelta(t, 100, doc.Fit[6].DecodeTPS.Value, 1e-9)
	assert.Equal(t, "does not fit", doc.Fit[4].DecodeTPS.NA)
	require.NotNil(t, doc.Models[2].Result.Fit)
	assert.Len(t, doc.Models[2].Result.Fit.Steps, 4)

	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	require.NoError(t, err)
	assert.Len(t, imgSrc.FindAllStringSubmatch(string(page), -1), len(charts)+1)
	assert.Contains(t, string(page), `id="chart-`+chartFitName+`"`)
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "("+chartFitName+".png)")
}

// The chart draws a line per model, in the model's colour; without a sweep it says so.
func TestChartFit(t *testing.T) {
	for _, measured := range []bool{true, false} {
		t.Run(fmt.Sprint("measured ", measured), func(t *testing.T) {
			run := fitRun(t, measured)
			b, err := ChartFit(run)
			require.NoError(t, err)
			l := lookAt(t, b)
			assert.Equal(t, [2]int{ChartWidth, ChartHeight}, [2]int{l.width, l.height})
			assert.Greater(t, l.pixels[modelColor(2)], 500, "the line of the last model")
			if measured {
				assert.Greater(t, l.pixels[modelColor(1)], 500, "the line of the second model")
			} else {
				assert.Positive(t, l.pixels[modelColor(1)], "the second model's legend: its planned line lies under the third's")
			}
			assert.Zero(t, l.pixels[modelColor(0)], "the first model has no sweep")
			c, ok := fitChart(run)
			require.True(t, ok)
			assert.Equal(t, measured, strings.HasPrefix(c.title, "Decode tokens/s"), c.title)
		})
	}
	b, err := ChartFit(h200Run(t))
	require.NoError(t, err)
	assert.Less(t, lookAt(t, b).inked, 0.05, "a caption and a title only")
	_, ok := fitChart(h200Run(t))
	assert.False(t, ok)
}

// BestFit states the best placement for a card: the fastest measured plan up to the card's
// size, or, unmeasured, the one with the most layers on the GPU; none where nothing fits.
func TestBestFit(t *testing.T) {
	run := fitRun(t, true)
	mistral := run.Models[2]
	pick, ok := BestFit(mistral, 8*gib)
	require.True(t, ok)
	assert.Equal(t, "on an 8 GiB card: mistral-7b-instruct-v0.2.Q4_K_M, 33/33 layers, 16k context, f16 KV cache, 100.0 tok/s", pick.String())
	pick, ok = BestFit(mistral, 6*gib)
	require.True(t, ok)
	assert.Equal(t, "on a 6 GiB card: mistral-7b-instruct-v0.2.Q4_K_M, 21/33 layers, 4k context, f16 KV cache, 63.6 tok/s", pick.String(),
		"the 4 GiB plan is the best that fits a 6 GiB card")
	pick, ok = BestFit(mistral, 32*gib)
	require.True(t, ok)
	assert.Equal(t, 32768, pick.Row.MaxContext, "as fast as at 8 GiB, with the larger context")

	_, ok = BestFit(mistral, 2*gib)
	assert.False(t, ok, "nothing fits 2 GiB")
	_, ok = BestFit(run.Models[0], 8*gib)
	assert.False(t, ok, "no sweep")

	mistral.Result.Fit.Steps[2].Load.PeakVRAMBytes = 9 * gib // a breach is no answer
	pick, ok = BestFit(mistral, 8*gib)
	require.True(t, ok)
	assert.Equal(t, 4.0, pick.Row.BudgetGiB)

	planned, ok := BestFit(fitRun(t, false).Models[2], 8*gib)
	require.True(t, ok)
	assert.Equal(t, "on an 8 GiB card: mistral-7b-instruct-v0.2.Q4_K_M, 33/33 layers, 16k context, f16 KV cache, no GPU: planned, not measured", planned.String())
}

// A step beyond that fails for another reason than memory is no clean refusal: the row says
// "error" and the note gives the reason, without calling it a breach of the plan.
func TestFitBeyondError(t *testing.T) {
	run := fitRun(t, true)
	b := run.Models[2].Result.Fit.Steps[1].Beyond.Load
	b.OutOfMemory, b.Error = false, "session for m: decode failed"
	r := FitRows(run)[5]
	assert.Equal(t, "error", r.Beyond)
	assert.False(t, r.Breach)
	assert.Equal(t, "one step beyond, at 8192 tokens, the load failed otherwise than for memory: session for m: decode failed", r.Error)
}

// Decode rates within SpeedTie of the fastest are the same speed to BestFit: the longer
// context wins among them, and a slower KV type with a longer context does not.
func TestBestFitTiesGoToTheLongerContext(t *testing.T) {
	run := fitRun(t, true)
	mistral := run.Models[2]
	f := mistral.Result.Fit
	f.Steps = append(f.Steps, f.Steps[2], f.Steps[2]) // two more at 8 GiB: q8_0 and q4_0
	q8, q4 := &f.Steps[4], &f.Steps[5]
	q8.KVType, q8.MaxContext = "q8_0", 32768
	q4.KVType, q4.MaxContext = "q4_0", 32768
	slow := func(st *metrics.FitStep, by float64) {
		l := *st.Load
		l.Measures = slices.Clone(l.Measures)
		l.Measures[1].DecodeTPS = fitStat(100 * by)
		st.Load = &l
	}
	slow(q8, 0.99) // within 2% of f16's 100 tok/s: the same speed, and 32k beats 16k
	slow(q4, 0.95) // 5% slower: not worth its context
	pick, ok := BestFit(mistral, 8*gib)
	require.True(t, ok)
	assert.Equal(t, "q8_0", pick.Row.KVType)
	assert.Equal(t, 32768, pick.Row.MaxContext)

	slow(q8, 0.97)
	pick, ok = BestFit(mistral, 8*gib)
	require.True(t, ok)
	assert.Equal(t, "f16", pick.Row.KVType, "3% slower is slower")
	assert.Equal(t, 16384, pick.Row.MaxContext)
}
