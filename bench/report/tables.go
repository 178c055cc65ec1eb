package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/local-llm-bench/llmbench/bench/metrics"
)

// table is one table of a report, rendered the same way for a terminal, Markdown and HTML.
type table struct {
	ID     string // HTML id and anchor
	Title  string
	Header []string
	Rows   [][]string
	// Numeric right-aligns every column but the first.
	Numeric bool
	// Notes explain the table's n/a cells and where its figures come from.
	Notes []string
}

// headed reports whether t has a header to show: the Run table's is blank.
func (t table) headed() bool {
	return slices.ContainsFunc(t.Header, func(h string) bool { return h != "" })
}

// tables are the report's tables in the order shown: the seed's summary, speed and memory,
// quality, serving when it was measured, what fits on which VRAM budget (for a run with fit
// sweeps), the models, and the run's metadata.
func tables(run Run, rows []Row) []table {
	ts := []table{withCapacity(summaryTable(rows), rows), speedTable(rows), qualityTable(rows)}
	ts = append(ts, servingTables(run)...)
	if fit := FitRows(run); len(fit) > 0 {
		ts = append(ts, fitTable(run, fit))
	}
	return append(ts, modelsTable(run), metaTable(run))
}

// naText is how a missing figure reads in a table.
const naText = "n/a"

// Why quality is missing, as a Num's NA (notApplicable with its reason after a colon) and as a
// table cell.
const (
	notMeasured   = "not measured"
	notApplicable = "not applicable"
)

func cell(n Num, format string) string {
	if !n.OK() {
		return naText
	}
	return fmt.Sprintf(format, n.Value)
}

func cellSD(n Num, format string) string {
	if !n.OK() {
		return naText
	}
	return fmt.Sprintf(format+" ± "+format, n.Value, n.SD)
}

func modelCell(r Row) string {
	if !r.Complete {
		return r.Name + " (incomplete)"
	}
	return r.Name
}

// qualityCell is the accuracy, or why there is none: "not applicable" (a synthetic twin)
// reads differently from "not measured".
func qualityCell(r Row) string {
	switch {
	case r.Accuracy.OK():
		return fmt.Sprintf("%.2f", r.Accuracy.Value)
	case !r.QualityApplies:
		return notApplicable
	case r.Accuracy.NA == notMeasured:
		return notMeasured
	}
	return naText
}

// params formats a parameter count: "2.61B", "135M".
func params(n uint64) string {
	switch {
	case n == 0:
		return naText
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.0fM", float64(n)/1e6)
	}
	return fmt.Sprintf("%d", n)
}

func summaryTable(rows []Row) table {
	t := table{
		ID:      "summary",
		Numeric: true,
		Title:   "Summary",
		Header:  []string{"model", "params", "type", "tok/s", "VRAM GB", "quality", "efficiency", "rank"},
	}
	mem, mixed := memoryHeader(rows)
	t.Header[4] = mem
	for _, r := range byRank(rows) {
		rk := "-"
		if r.Rank > 0 {
			rk = fmt.Sprint(r.Rank)
		}
		m := cell(r.MemoryGB(), "%.2f")
		if mixed && r.MemoryKind != "" {
			m += " (" + r.MemoryKind + ")"
		}
		t.Rows = append(t.Rows, []string{
			modelCell(r), params(r.Params), r.FileType, cell(r.DecodeTPS, "%.1f"),
			m, qualityCell(r), cell(r.Efficiency, "%.1f"), rk,
		})
	}
	t.Notes = append(t.Notes,
		"efficiency = quality × tok/s ÷ "+mem+" (10⁹ bytes); tok/s is decode tok/s",
		"rank: models with an efficiency by efficiency, then the others by tok/s")
	if n := memoryNote(rows); n != "" {
		t.Notes = append(t.Notes, n)
	}
	t.Notes = append(t.Notes, naNotes(rows, []field{{"efficiency", func(r Row) Num { return r.Efficiency }}})...)
	return t
}

// speedFields are the speed table's figures that may be n/a, for its notes.
var speedFields = []field{
	{"load", func(r Row) Num { return r.LoadMs }},
	{"TTFT", func(r Row) Num { return r.TTFTMs }},
	{"prompt tok/s", func(r Row) Num { return r.PromptTPS }},
	{"decode tok/s", func(r Row) Num { return r.DecodeTPS }},
	{"ITL p99", func(r Row) Num { return r.ITLP99Ms }},
	{"peak VRAM", func(r Row) Num { return r.PeakVRAMMiB }},
	{"J/token", func(r Row) Num { return r.JPerToken }},
	{"roofline", func(r Row) Num { return r.RooflinePct }},
	{"overhead", func(r Row) Num { return r.HarnessOverheadPct }},
}

func speedTable(rows []Row) table {
	t := table{
		ID:      "speed",
		Numeric: true,
		Title:   "Speed and memory",
		Header: []string{"model", "load ms", "TTFT ms", "prompt tok/s", "decode tok/s", "ITL p99 ms",
			"peak VRAM MiB", "J/token", "roofline", "overhead"},
	}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{
			modelCell(r), cell(r.LoadMs, "%.0f"), cell(r.TTFTMs, "%.2f"), cell(r.PromptTPS, "%.0f"),
			cellSD(r.DecodeTPS, "%.1f"), cell(r.ITLP99Ms, "%.2f"), cell(r.PeakVRAMMiB, "%.0f"),
			cell(r.JPerToken, "%.3f"), cell(r.RooflinePct, "%.1f%%"), cell(r.HarnessOverheadPct, "%.1f%%"),
		})
	}
	t.Notes = append(t.Notes, sourceNotes(rows)...)
	t.Notes = append(t.Notes,
		"load: cold, the first in the process; decode tok/s: mean ± sd over repetitions; "+
			"roofline: weights × decode tok/s ÷ peak memory bandwidth; "+
			"overhead: decode time outside llama.cpp (sampling, binding, callback)")
	t.Notes = append(t.Notes, naNotes(rows, speedFields)...)
	return t
}

// sourceNotes say which measure the speed figures come from, grouped by measure.
func sourceNotes(rows []Row) []string {
	var notes []string
	notes = append(notes, groupNotes(rows, func(r Row) string {
		if r.SpeedMeasure == "" {
			return ""
		}
		return "TTFT, decode tok/s, ITL, J/token, roofline, overhead measured on " + r.SpeedMeasure
	})...)
	notes = append(notes, groupNotes(rows, func(r Row) string {
		if r.PromptMeasure == "" {
			return ""
		}
		return "prompt tok/s measured on " + r.PromptMeasure
	})...)
	return notes
}

func qualityTable(rows []Row) table {
	t := table{
		ID:      "quality",
		Numeric: true,
		Title:   "Quality (math)",
		Header:  []string{"model", "accuracy", "95% CI", "correct", "n", "answered"},
	}
	for _, r := range rows {
		if !r.Accuracy.OK() {
			t.Rows = append(t.Rows, []string{modelCell(r), qualityCell(r), "-", "-", "-", "-"})
			continue
		}
		t.Rows = append(t.Rows, []string{
			modelCell(r), qualityCell(r), fmt.Sprintf("%.2f–%.2f", r.CI95Low, r.CI95High),
			fmt.Sprint(r.Correct), fmt.Sprint(r.Total), fmt.Sprint(r.Found),
		})
	}
	t.Notes = append(t.Notes, "95% CI: Wilson interval; answered: replies with a number in them")
	t.Notes = append(t.Notes, naNotes(rows, []field{{"quality", func(r Row) Num { return r.Accuracy }}})...)
	return t
}

func modelsTable(run Run) table {
	t := table{
		ID:     "models",
		Title:  "Models",
		Header: []string{"model", "architecture", "file", "GB", "layers on GPU", "context", "sha256", "options"},
	}
	for _, m := range run.Models {
		res := m.Result
		sha := res.Model.SHA256
		switch {
		case sha == "":
			sha = "not hashed"
		case len(sha) > 12:
			sha = sha[:12]
		}
		t.Rows = append(t.Rows, []string{
			res.Name, res.Model.Architecture, res.Model.Description,
			fmt.Sprintf("%.2f", float64(res.Model.FileBytes)/1e9),
			fmt.Sprintf("%d / %d", res.Model.LayersOnGPU, res.Model.LayersTotal),
			fmt.Sprint(res.Model.ContextSize), sha, options(res.Spec),
		})
	}
	return t
}

// options are the spec's settings that change the figures.
func options(s metrics.Spec) string {
	parts := []string{
		fmt.Sprintf("reps %d", s.Repetitions), fmt.Sprintf("warmup %d", s.Warmup),
		fmt.Sprintf("threads %d", s.Threads), "flash " + s.FlashAttention, "kv " + s.KVCacheType,
	}
	switch {
	case s.CPUOnly:
		parts = append(parts, "cpu only")
	case s.GPULayers > 0:
		parts = append(parts, fmt.Sprintf("gpu layers %d", s.GPULayers))
	}
	return strings.Join(parts, ", ")
}

func metaTable(run Run) table {
	m := run.meta()
	t := table{ID: "meta", Title: "Run", Header: []string{"", ""}}
	add := func(k, v string) {
		if v != "" {
			t.Rows = append(t.Rows, []string{k, v})
		}
	}
	status := "complete"
	if !run.complete() {
		status = incompleteText
	}
	add("status", status)
	add("generated", run.generated().UTC().Format(timeLayout))
	if !m.Timestamp.IsZero() {
		add("measured", m.Timestamp.UTC().Format(timeLayout))
	}
	add("host", m.Hostname)
	add("os", strings.Trim(m.OS+"/"+m.Arch, "/"))
	add("cpu", fmt.Sprintf("%s (%d cores, %d threads)", m.CPU, m.CPUCores, m.Threads))
	for _, g := range m.GPUs {
		add(fmt.Sprintf("gpu %d", g.Index), fmt.Sprintf("%s, %.0f GiB, %.0f GB/s, %.0f W limit",
			g.Name, float64(g.MemoryTotalBytes)/(1<<30), g.PeakBandwidthBytesPerSec/1e9, g.PowerLimitW))
	}
	add("driver", m.Driver)
	add("cuda", m.CUDA)
	if m.GPUUnavailable != "" {
		add("gpu figures", naText+": "+m.GPUUnavailable)
	}
	add("go", m.GoVersion)
	add("llama.cpp", strings.TrimSpace(m.LlamaCpp+" (github.com/ollama/ollama "+m.LlamaPin+")"))
	add("llama.cpp system", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m.CPUInfo), "|")))
	if b := m.CPUBuild; b != nil {
		v := "compiled with " + strings.Join(b.Compiled, " ")
		if len(b.Compiled) == 0 {
			v = "compiled with the compiler's baseline"
		}
		if len(b.Unused) > 0 {
			v += "; unused: " + strings.Join(b.Unused, " ") + " (" + b.Fix + ")"
		}
		if b.Slow {
			v = slowBuildText + ": " + v
		}
		add("cpu kernels", v)
	}
	var devs []string
	for _, d := range m.Devices {
		devs = append(devs, fmt.Sprintf("%s (%s, %s)", d.Name, d.Type, d.Description))
	}
	add("devices", strings.Join(devs, "; "))
	return t
}

// field names a figure of a Row for the notes.
type field struct {
	name string
	get  func(Row) Num
}

// naNotes explain the n/a cells: "peak VRAM, J/token: no GPU monitor (all models)".
func naNotes(rows []Row, fields []field) []string {
	return groupNotes(rows, func(r Row) string {
		byWhy := map[string][]string{}
		var whys []string
		for _, f := range fields {
			n := f.get(r)
			if n.OK() {
				continue
			}
			if byWhy[n.NA] == nil {
				whys = append(whys, n.NA)
			}
			byWhy[n.NA] = append(byWhy[n.NA], f.name)
		}
		var parts []string
		for _, why := range whys {
			sep := " " + naText + ": "
			if strings.HasPrefix(why, "not ") { // "not applicable: ...", "not measured"
				sep = " "
			}
			parts = append(parts, strings.Join(byWhy[why], ", ")+sep+why)
		}
		return strings.Join(parts, "; ")
	})
}

// groupNotes turns each row's note into a line naming the models that share it, in the order
// first seen; a note every model shares says "all models".
func groupNotes(rows []Row, note func(Row) string) []string {
	var order []string
	models := map[string][]string{}
	for _, r := range rows {
		n := note(r)
		if n == "" {
			continue
		}
		if models[n] == nil {
			order = append(order, n)
		}
		models[n] = append(models[n], r.Name)
	}
	out := make([]string, 0, len(order))
	for _, n := range order {
		who := strings.Join(models[n], ", ")
		if len(models[n]) == len(rows) && len(rows) > 1 {
			who = "all models"
		}
		out = append(out, fmt.Sprintf("%s (%s)", n, who))
	}
	return out
}

// incompleteText marks a report of a run that stopped early.
const incompleteText = "INCOMPLETE"

// banner is the line that marks an incomplete run, with what is missing; "" for a complete one.
func banner(run Run) string {
	if run.complete() {
		return ""
	}
	s := incompleteText + ": the run stopped before every measurement finished; these figures cover what did"
	if miss := run.Unfinished(); len(miss) > 0 {
		s += ". Missing: " + strings.Join(miss, "; ")
	}
	return s
}

// slowBuildText marks a report of figures measured with llama.cpp's CPU kernels compiled
// without the vector extensions of the CPU (llama.CPUBuild.Warning starts with it).
const slowBuildText = "SLOW CPU BUILD"

// slowBuild is the warning of a run whose results say that llama.cpp's CPU kernels left the
// CPU's vector extensions unused, naming the models measured so when not all were; "" when
// none was.
func slowBuild(run Run) string {
	var warning string
	var slow []string
	for _, m := range run.Models {
		if b := m.Result.Meta.CPUBuild; b != nil && b.Slow {
			warning = cmp.Or(warning, buildWarning(b))
			slow = append(slow, m.Result.Name)
		}
	}
	if b := run.meta().CPUBuild; warning == "" && b != nil && b.Slow {
		warning = buildWarning(b)
	}
	if len(slow) > 0 && len(slow) < len(run.Models) {
		warning += " Measured with it: " + strings.Join(slow, ", ") + "."
	}
	return warning
}

// buildWarning is the warning a slow build recorded, or one made of its fields.
func buildWarning(b *metrics.CPUBuild) string {
	if b.Warning != "" {
		return b.Warning
	}
	return slowBuildText + ": llama.cpp's CPU kernels were compiled without " + strings.Join(b.Unused, " ") +
		", which the CPU has. Build with " + b.Fix + "."
}
