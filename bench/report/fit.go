package report

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/local-llm-bench/llmbench/bench/metrics"
)

// FitRow is one model × budget × KV cache type of the "fits on" table: the placement the
// planner chose, the largest context it holds, and what a load of it measured. Memory is in
// GiB (2³⁰ bytes), the unit of the budgets: a card sold as "8 GB" has 8 GiB.
type FitRow struct {
	Model       string  `json:"model"`
	BudgetBytes uint64  `json:"budget_bytes"`
	BudgetGiB   float64 `json:"budget_gib"`
	KVType      string  `json:"kv_type"`
	// Fits is false where the planner refused the budget; PlanError says why.
	Fits      bool   `json:"fits"`
	PlanError string `json:"plan_error,omitempty"`
	// GPULayers of Layers are on the GPU (the output layer counts as one).
	GPULayers int  `json:"gpu_layers"`
	Layers    int  `json:"layers"`
	KVOnGPU   bool `json:"kv_on_gpu"`
	// Context is the context of the plan and its measured load; MaxContext the largest that
	// holds the placement, the training context where MaxContextCapped. PlannerMaxContext is
	// the planner's largest where a card of the budget held more (metrics.FitStep.BeyondHeld),
	// else 0.
	Context           int  `json:"context"`
	MaxContext        int  `json:"max_context"`
	MaxContextCapped  bool `json:"max_context_capped"`
	PlannerMaxContext int  `json:"planner_max_context,omitempty"`
	// BeyondContext is the context after MaxContext (0 when capped), and Beyond what became of
	// it: "refused" (a real load with the placement held gave ErrOutOfMemory), "loaded",
	// "error", or, unmeasured, the planner's layers there ("planned 27/33").
	BeyondContext int    `json:"beyond_context,omitempty"`
	Beyond        string `json:"beyond,omitempty"`
	// Measured says the plan was loaded; NotMeasured says why not.
	Measured    bool   `json:"measured"`
	NotMeasured string `json:"not_measured,omitempty"`
	DecodeTPS   Num    `json:"decode_tps"`
	PromptTPS   Num    `json:"prompt_tps"`
	TTFTMs      Num    `json:"ttft_ms"`
	PlannedGiB  Num    `json:"planned_gib"`
	// PeakVRAMGiB is the highest measured peak of the placement's loads, MarginGiB the budget
	// less it, and PlanErrorPct (planned − measured) ÷ measured at the plan's context.
	PeakVRAMGiB  Num `json:"peak_vram_gib"`
	MarginGiB    Num `json:"margin_gib"`
	PlanErrorPct Num `json:"plan_error_pct"`
	// Breach says a measured peak exceeded the budget, or a planned load was refused on a card
	// of its budget: a failure of the planner, which Error details.
	Breach     bool   `json:"breach"`
	PeakRSSGiB Num    `json:"peak_rss_gib"`
	DecidedBy  string `json:"decided_by,omitempty"`
	Error      string `json:"error,omitempty"`
}

// FitRows are the rows of the "fits on" table: each model's fit sweep, step by step, in the
// run's order; none for a run without one.
func FitRows(run Run) []FitRow {
	var rows []FitRow
	for _, m := range run.Models {
		if f := m.Result.Fit; f != nil {
			for _, st := range f.Steps {
				rows = append(rows, fitRow(m.Result.Name, f, st))
			}
		}
	}
	return rows
}

func gibOf(b uint64) float64 { return float64(b) / metrics.GiB }

func fitRow(name string, f *metrics.Fit, st metrics.FitStep) FitRow {
	r := FitRow{Model: name, BudgetBytes: st.BudgetBytes, BudgetGiB: gibOf(st.BudgetBytes), KVType: st.KVType}
	r.Measured = st.Load != nil
	switch {
	case f.NotMeasured != "":
		r.NotMeasured = f.NotMeasured
	case !r.Measured && st.Plan != nil:
		r.NotMeasured = "not loaded"
	}
	missing := na(cmp.Or(r.NotMeasured, "does not fit"))
	r.DecodeTPS, r.PromptTPS, r.TTFTMs = missing, missing, missing
	r.PlannedGiB, r.PeakVRAMGiB, r.MarginGiB, r.PlanErrorPct, r.PeakRSSGiB = missing, missing, missing, missing, missing
	p := st.Plan
	if p == nil {
		r.PlanError = st.PlanError
		return r
	}
	r.Fits = true
	r.GPULayers, r.Layers, r.KVOnGPU, r.Context, r.DecidedBy = p.GPULayers, p.Layers, p.KVOnGPU, p.ContextSize, p.DecidedBy
	r.MaxContext, r.MaxContextCapped = st.LargestContext()
	if len(st.BeyondHeld) > 0 {
		r.PlannerMaxContext = st.MaxContext
	}
	r.PlannedGiB = value(gibOf(p.GPU.Total))
	if b := st.Beyond; b != nil {
		r.BeyondContext = b.Context
		r.Beyond = beyondText(b, p.Layers)
	}
	l := st.Load
	if l == nil {
		return r
	}
	if l.Error != "" {
		r.DecodeTPS, r.PromptTPS, r.TTFTMs = na("load failed"), na("load failed"), na("load failed")
	}
	for _, m := range l.Measures {
		switch m.Workload {
		case metrics.WorkloadGenerate:
			r.DecodeTPS = fromStat(m.DecodeTPS, "no decode rate")
			r.TTFTMs = fromStat(m.TTFTMs, "no first token")
		case metrics.WorkloadPrompt:
			r.PromptTPS = fromStat(m.PromptTPS, "no prompt rate")
		}
	}
	if peak, ok := st.PeakVRAMBytes(); ok {
		margin, _ := st.MarginBytes()
		r.PeakVRAMGiB, r.MarginGiB = value(gibOf(peak)), value(float64(margin)/metrics.GiB)
	} else {
		why := na(cmp.Or(l.VRAMUnavailable, "no VRAM figure"))
		r.PeakVRAMGiB, r.MarginGiB = why, why
	}
	r.PlanErrorPct = r.PeakVRAMGiB
	if pct, ok := l.PlanErrorPct(); ok {
		r.PlanErrorPct = value(pct)
	}
	r.PeakRSSGiB = na(cmp.Or(l.RSSUnavailable, "no RSS figure"))
	if l.RSSUnavailable == "" && l.PeakRSSBytes > 0 {
		r.PeakRSSGiB = value(gibOf(l.PeakRSSBytes))
	}

	// What went wrong, worst first. A planned load refused where a ballast left exactly the
	// budget free is the planner's failure too: the card of that size would refuse it.
	var errs []string
	for _, b := range st.Breaches() {
		r.Breach = true
		errs = append(errs, fmt.Sprintf("at %d tokens the process took %.2f GiB", b.Context, gibOf(b.PeakVRAMBytes)))
	}
	for _, x := range []struct {
		what string
		l    *metrics.FitLoad
	}{{"the planned load", l}, {"the load at the largest context", st.MaxContextLoad}} {
		if x.l == nil || x.l.Error == "" {
			continue
		}
		r.Breach = r.Breach || (x.l.OutOfMemory && x.l.BallastBytes > 0)
		errs = append(errs, x.what+" failed: "+x.l.Error)
	}
	if b := st.Beyond; b != nil && b.Load != nil && b.Load.Error != "" && !b.Load.OutOfMemory {
		errs = append(errs, fmt.Sprintf("one step beyond, at %d tokens, the load failed otherwise than for memory: %s", b.Context, b.Load.Error))
	}
	r.Error = strings.Join(errs, "; ")
	return r
}

// beyondText says what became of the context one step beyond a placement's largest.
func beyondText(b *metrics.FitBeyond, layers int) string {
	l := b.Load
	switch {
	case l == nil && b.PlanError != "":
		return "planner refuses"
	case l == nil:
		return fmt.Sprintf("planned %d/%d", b.PlannedLayers, layers)
	case l.OutOfMemory:
		return "refused"
	case l.Error != "":
		return "error"
	case l.BallastBytes == 0:
		return "loaded (no ballast)"
	}
	return "loaded"
}

// fitCell is how a figure of a fit row reads: "-" for a budget the model does not fit.
func fitCell(r FitRow, n Num, format string) string {
	if !r.Fits {
		return "-"
	}
	return cell(n, format)
}

// contextText is a context in tokens, "(max)" where it is the training context.
func contextText(n int, capped bool) string {
	s := strconv.Itoa(n)
	if capped {
		s += " (max)"
	}
	return s
}

// largestText is a row's largest context: "16384 (plan 8192)" where a card of the budget held
// more than the planner placed.
func largestText(r FitRow) string {
	s := contextText(r.MaxContext, r.MaxContextCapped)
	if r.PlannerMaxContext > 0 {
		s += fmt.Sprintf(" (plan %d)", r.PlannerMaxContext)
	}
	return s
}

// breachText marks a breach in the margin column.
const breachText = "BREACH"

func fitTable(run Run, rows []FitRow) table {
	t := table{
		ID:      "fit",
		Numeric: true,
		Title:   "Fits on: VRAM budgets",
		Header: []string{"model", "budget GiB", "KV", "GPU layers", "largest context", "next context",
			"decode tok/s", "prompt tok/s", "TTFT ms", "planned GiB", "peak VRAM GiB", "margin GiB", "plan error"},
	}
	measured := false
	for _, r := range rows {
		measured = measured || r.Measured
		if !r.Fits {
			t.Rows = append(t.Rows, []string{r.Model, fmt.Sprintf("%g", r.BudgetGiB), r.KVType, "does not fit",
				"-", "-", "-", "-", "-", "-", "-", "-", "-"})
			continue
		}
		layers := fmt.Sprintf("%d/%d", r.GPULayers, r.Layers)
		if !r.KVOnGPU && r.GPULayers > 0 {
			layers += " (KV on host)"
		}
		next := "-"
		if r.BeyondContext > 0 {
			next = fmt.Sprintf("%d: %s", r.BeyondContext, r.Beyond)
		}
		margin := fitCell(r, r.MarginGiB, "%.2f")
		if r.Breach {
			margin = breachText + " " + margin
		}
		t.Rows = append(t.Rows, []string{
			r.Model, fmt.Sprintf("%g", r.BudgetGiB), r.KVType, layers, largestText(r), next,
			fitCell(r, r.DecodeTPS, "%.1f"), fitCell(r, r.PromptTPS, "%.0f"), fitCell(r, r.TTFTMs, "%.2f"),
			fitCell(r, r.PlannedGiB, "%.2f"), fitCell(r, r.PeakVRAMGiB, "%.2f"), margin, fitCell(r, r.PlanErrorPct, "%+.1f%%"),
		})
	}
	if !measured {
		t.Title += " (planned, not measured)"
	}
	t.Notes = append(t.Notes,
		"GiB = 2³⁰ bytes, the unit of the budgets: a card sold as 8 GB has 8 GiB; budgets count the process's GPU memory as NVML does, CUDA's own share included",
		fmt.Sprintf("largest context: doubling from the plan's context while the planner keeps as many layers on the GPU and the KV cache where it was, up to the training context (max); next context: the one beyond, %s; where that card held it all the same, the doubling went on with real loads until one was refused, and (plan N) is the planner's largest",
			"loaded with the placement held on a GPU standing in for a card of the budget, where it must be refused (ErrOutOfMemory), else what the planner keeps there"))
	if measured {
		t.Notes = append(t.Notes, "peak VRAM: the process's (NVML), less the ballast holding the rest of the GPU, from before each load to the end of its last call, at the plan's context and at the largest; margin = budget − peak VRAM; plan error = (planned − measured) ÷ measured")
	}
	t.Notes = append(t.Notes, notMeasuredNotes(run)...)
	for _, r := range rows {
		switch {
		case !r.Fits:
			t.Notes = append(t.Notes, fmt.Sprintf("%s at %g GiB, %s: does not fit: %s", r.Model, r.BudgetGiB, r.KVType, r.PlanError))
		case r.Breach:
			t.Notes = append(t.Notes, fmt.Sprintf("%s: %s at %g GiB, %s: %s", breachText, r.Model, r.BudgetGiB, r.KVType, r.Error))
		case r.Error != "":
			t.Notes = append(t.Notes, fmt.Sprintf("%s at %g GiB, %s: %s", r.Model, r.BudgetGiB, r.KVType, r.Error))
		}
	}
	return t
}

// notMeasuredNotes say why sweeps were not measured, naming the models: "... n/a: no GPU:
// planned, not measured (all models)".
func notMeasuredNotes(run Run) []string {
	var swept []Row
	for _, m := range run.Models {
		if f := m.Result.Fit; f != nil {
			swept = append(swept, Row{Name: m.Result.Name, Error: f.NotMeasured})
		}
	}
	return groupNotes(swept, func(r Row) string {
		if r.Error == "" {
			return ""
		}
		return "tok/s, peak VRAM, margin, plan error " + naText + ": " + r.Error
	})
}

// fitAlarm is the banner of a run in which a plan failed: a measured peak above its budget, or
// a planned load refused on a card of its budget; "" when none did.
func fitAlarm(rows []FitRow) string {
	var parts []string
	for _, r := range rows {
		if r.Breach {
			parts = append(parts, fmt.Sprintf("%s at %g GiB, %s: %s", r.Model, r.BudgetGiB, r.KVType, r.Error))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return planFailureText + ": the planner's placement did not keep to its budget: " + strings.Join(parts, "; ")
}

// planFailureText marks a report in which a plan broke its budget.
const planFailureText = "PLANNER BREACH"

// fitHeader is the <model>_fit.csv file's header; it is part of the file format and only grows
// at the end.
var fitHeader = []string{
	"model", "budget_gib", "budget_bytes", "kv_type", "fits", "plan_error", "gpu_layers", "layers", "kv_on_gpu",
	"context", "max_context", "max_context_capped", "beyond_context", "beyond", "measured", "not_measured",
	"decode_tps_mean", "decode_tps_sd", "prompt_tps_mean", "ttft_ms_mean", "planned_gpu_bytes", "planned_host_bytes",
	"peak_vram_bytes", "margin_bytes", "plan_error_pct", "breach", "peak_rss_bytes", "ballast_bytes", "decided_by", "error",
	"planner_max_context",
}

// WriteFitCSV writes a result's fit sweep as CSV, the <model>_fit.csv file: this header and
// one line per budget and KV cache type, in the order planned.
//
//	model,budget_gib,budget_bytes,kv_type,fits,plan_error,gpu_layers,layers,kv_on_gpu,context,
//	max_context,max_context_capped,beyond_context,beyond,measured,not_measured,decode_tps_mean,
//	decode_tps_sd,prompt_tps_mean,ttft_ms_mean,planned_gpu_bytes,planned_host_bytes,
//	peak_vram_bytes,margin_bytes,plan_error_pct,breach,peak_rss_bytes,ballast_bytes,decided_by,
//	error,planner_max_context
//
// budget_gib is budget_bytes in GiB (2³⁰ bytes); the memory columns are bytes. fits is false
// where the planner refused the budget (plan_error says why); beyond is what became of the
// context after max_context (see FitRow.Beyond); planner_max_context is the planner's largest
// context where a card of the budget held a larger one (max_context), else empty;
// peak_vram_bytes is the highest peak of the placement's loads less the ballast, margin_bytes
// the budget less it (negative for a breach), plan_error_pct (planned − measured) ÷ measured;
// peak_rss_bytes and ballast_bytes are those of the load at the plan's context. A figure that
// was not measured is an empty cell, never 0. A result without a fit sweep gives the header
// alone.
func WriteFitCSV(w io.Writer, r metrics.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(fitHeader); err != nil {
		return err
	}
	if r.Fit == nil {
		cw.Flush()
		return cw.Error()
	}
	for _, st := range r.Fit.Steps {
		row := fitRow(r.Name, r.Fit, st)
		var plannedGPU, plannedHost, rss, ballast, peak, margin string
		if p := st.Plan; p != nil {
			plannedGPU, plannedHost = strconv.FormatUint(p.GPU.Total, 10), strconv.FormatUint(p.Host.Total, 10)
		}
		if b, ok := st.PeakVRAMBytes(); ok {
			peak = strconv.FormatUint(b, 10)
			m, _ := st.MarginBytes()
			margin = strconv.FormatInt(m, 10)
		}
		if l := st.Load; l != nil {
			if l.PeakRSSBytes > 0 {
				rss = strconv.FormatUint(l.PeakRSSBytes, 10)
			}
			ballast = strconv.FormatUint(l.BallastBytes, 10)
		}
		decodeSD := ""
		if row.DecodeTPS.OK() {
			decodeSD = csvFloat(row.DecodeTPS.SD)
		}
		plannerMax := ""
		if row.PlannerMaxContext > 0 {
			plannerMax = strconv.Itoa(row.PlannerMaxContext)
		}
		beyond := ""
		if row.BeyondContext > 0 {
			beyond = strconv.Itoa(row.BeyondContext)
		}
		ints := func(n int) string {
			if !row.Fits {
				return ""
			}
			return strconv.Itoa(n)
		}
		if err := cw.Write([]string{
			row.Model, csvFloat(row.BudgetGiB), strconv.FormatUint(row.BudgetBytes, 10), row.KVType,
			strconv.FormatBool(row.Fits), row.PlanError, ints(row.GPULayers), ints(row.Layers), strconv.FormatBool(row.KVOnGPU),
			ints(row.Context), ints(row.MaxContext), strconv.FormatBool(row.MaxContextCapped), beyond, row.Beyond,
			strconv.FormatBool(row.Measured), row.NotMeasured,
			csvNum(row.DecodeTPS), decodeSD, csvNum(row.PromptTPS), csvNum(row.TTFTMs), plannedGPU, plannedHost,
			peak, margin, csvNum(row.PlanErrorPct), strconv.FormatBool(row.Breach), rss, ballast, row.DecidedBy, row.Error,
			plannerMax,
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// FitPick is the best placement of one model on a card of a given size, from its fit sweep.
type FitPick struct {
	CardBytes uint64
	Row       FitRow
}

// String states the pick in a line: "on an 8 GiB card: mistral-7b, 33/33 layers, 16k context,
// f16 KV cache, 95.2 tok/s", or "..., planned, not measured: no GPU" for a sweep without a
// GPU.
func (p FitPick) String() string {
	r := p.Row
	s := fmt.Sprintf("on %s: %s, %d/%d layers, %s context, %s KV cache", cardWords(p.CardBytes),
		r.Model, r.GPULayers, r.Layers, contextWords(r.MaxContext), r.KVType)
	if r.DecodeTPS.OK() {
		return s + fmt.Sprintf(", %.1f tok/s", r.DecodeTPS.Value)
	}
	return s + ", " + r.NotMeasured
}

// cardWords names a card by its memory: "an 8 GiB card", "a 24 GiB card".
func cardWords(card uint64) string {
	article := "a"
	if s := fmt.Sprintf("%g", gibOf(card)); s[0] == '8' || strings.HasPrefix(s, "11") || strings.HasPrefix(s, "18") {
		article = "an"
	}
	return fmt.Sprintf("%s %g GiB card", article, gibOf(card))
}

// contextWords is a context as people say it: "16k", else the tokens.
func contextWords(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%dk", n/1024)
	}
	return fmt.Sprintf("%d tokens", n)
}

// BestFit picks, from m's fit sweep, the best placement on a card of card bytes: among the
// budgets up to the card's size whose plan fits and kept to its budget, those within
// SpeedTie of the fastest measured (decode tok/s), and of them the one with the larger
// context, then the larger budget; where nothing was measured, the plan with the most layers
// on the GPU, then the larger context. False where the model fits no budget up to that size,
// or has no fit sweep.
func BestFit(m Model, card uint64) (FitPick, bool) {
	f := m.Result.Fit
	if f == nil {
		return FitPick{}, false
	}
	var cands []FitRow
	for _, st := range f.Steps {
		r := fitRow(m.Result.Name, f, st)
		if r.Fits && r.BudgetBytes <= card && !r.Breach && (r.Error == "" || !r.Measured) {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		return FitPick{}, false
	}
	if fastest := slices.MaxFunc(cands, func(a, b FitRow) int { return cmp.Compare(rate(a), rate(b)) }); rate(fastest) > 0 {
		cands = slices.DeleteFunc(cands, func(r FitRow) bool { return rate(r) < (1-SpeedTie)*rate(fastest) })
	} else {
		most := slices.MaxFunc(cands, func(a, b FitRow) int { return cmp.Compare(a.GPULayers, b.GPULayers) })
		cands = slices.DeleteFunc(cands, func(r FitRow) bool { return r.GPULayers < most.GPULayers })
	}
	best := slices.MaxFunc(cands, func(a, b FitRow) int {
		if c := cmp.Compare(a.MaxContext, b.MaxContext); c != 0 {
			return c
		}
		return cmp.Compare(a.BudgetBytes, b.BudgetBytes)
	})
	return FitPick{CardBytes: card, Row: best}, true
}

// SpeedTie is how close two decode rates of a fit sweep are taken as the same speed when
// BestFit picks a placement: 2%, about the spread of one decode measurement on the GPU, so
// that a longer context is not given up for noise.
const SpeedTie = 0.02

func rate(r FitRow) float64 {
	if !r.DecodeTPS.OK() {
		return -1
	}
	return r.DecodeTPS.Value
}

// chartFitName is the file name stem of the fit sweep's chart.
const chartFitName = "fit_tokens_per_second"

// fitChart is the chart of the run's fit sweeps, false for a run without one: decode tok/s
// against the budget, a line per model and KV cache type; where nothing was measured, the
// layers the planner puts on the GPU instead.
func fitChart(run Run) (chart, bool) {
	rows := FitRows(run)
	if len(rows) == 0 {
		return chart{}, false
	}
	measured := slices.ContainsFunc(rows, func(r FitRow) bool { return r.DecodeTPS.OK() })
	title := "Decode tokens/s by VRAM budget"
	if !measured {
		title = "Layers on the GPU by VRAM budget (planned, not measured)"
	}
	// Each model keeps its colour of the other charts: that of its place in the run.
	var names []string
	for _, m := range run.Models {
		names = append(names, m.Result.Name)
	}
	return chart{name: chartFitName, title: title, draw: func(p *plot.Plot, _ []Row) error {
		return drawFit(p, rows, measured, func(model string) color.Color { return modelColor(slices.Index(names, model)) })
	}}, true
}

// ChartFit draws the run's fit sweeps (see FitRows) as a PNG: decode tok/s against the VRAM
// budget, one line per model (dashed for a quantized KV cache); the planned layers on the GPU
// where nothing was measured. A run without a sweep gives a chart that says so.
func ChartFit(run Run) ([]byte, error) {
	c, ok := fitChart(run)
	if !ok {
		c = chart{name: chartFitName, title: "VRAM budgets", draw: func(p *plot.Plot, _ []Row) error {
			p.HideAxes()
			p.Add(caption{text: "no fit sweep (compare -budgets)", middle: true})
			return nil
		}}
	}
	return renderChart(c, run, Summarize(run))
}

func drawFit(p *plot.Plot, rows []FitRow, measured bool, colorOf func(model string) color.Color) error {
	type series struct {
		name, model string
		kv          string
		xys         plotter.XYs
	}
	var all []*series
	index := map[string]*series{}
	budgets := map[float64]bool{}
	top := 0.0
	for _, r := range rows {
		y, ok := float64(r.GPULayers), r.Fits
		if measured {
			y, ok = r.DecodeTPS.Value, r.DecodeTPS.OK()
		}
		budgets[r.BudgetGiB] = true
		if !ok {
			continue
		}
		name := chartName(r.Model)
		if r.KVType != "f16" {
			name += " (KV " + r.KVType + ")"
		}
		s := index[name]
		if s == nil {
			s = &series{name: name, model: r.Model, kv: r.KVType}
			index[name] = s
			all = append(all, s)
		}
		s.xys = append(s.xys, plotter.XY{X: r.BudgetGiB, Y: y})
		top = max(top, y)
	}
	for _, s := range all {
		slices.SortFunc(s.xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		line, points, err := plotter.NewLinePoints(s.xys)
		if err != nil {
			return err
		}
		c := colorOf(s.model)
		line.Color, points.Color = c, c
		line.Width = vg.Points(1.5)
		points.Shape = draw.CircleGlyph{}
		points.Radius = vg.Points(2.5)
		if s.kv != "f16" {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(line, points)
		p.Legend.Add(s.name, line, points)
	}
	var ticks []plot.Tick
	for b := range budgets {
		ticks = append(ticks, plot.Tick{Value: b, Label: fmt.Sprintf("%g", b)})
	}
	slices.SortFunc(ticks, func(a, b plot.Tick) int { return cmp.Compare(a.Value, b.Value) })
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Label.Text = "VRAM budget (GiB)"
	p.X.Min, p.X.Max = 0, ticks[len(ticks)-1].Value*1.05
	p.Y.Min, p.Y.Max = 0, max(top*1.25, 1)
	p.Y.Label.Text = "decode tokens/s"
	if !measured {
		p.Y.Label.Text = "layers on the GPU"
	}
	p.Legend.Top, p.Legend.Left = true, true
	grid := plotter.NewGrid()
	p.Add(grid)
	if len(all) == 0 {
		p.Add(caption{text: "nothing fits any budget", middle: true})
	}
	return nil
}
