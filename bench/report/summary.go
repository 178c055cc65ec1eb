package report

import (
	"cmp"
	"slices"

	"github.com/local-llm-bench/llmbench/bench/metrics"
)

// Row is the summary of one model: the figures that every table, chart and file of a report
// shows, computed once by [Summarize].
type Row struct {
	Name     string `json:"name"`
	Params   uint64 `json:"params"`
	FileType string `json:"file_type"`
	// Complete is the result's; Error says why it is not.
	Complete bool   `json:"complete"`
	Error    string `json:"error,omitempty"`
	// SpeedMeasure labels the measure that TTFT, decode tok/s, ITL, J/token, mean W, roofline
	// and harness overhead come from: the first tg<N> at depth 0, else "chat".
	// PromptMeasure labels that of prompt tok/s: the first pp<N>, else "chat".
	SpeedMeasure  string `json:"speed_measure,omitempty"`
	PromptMeasure string `json:"prompt_measure,omitempty"`

	// LoadMs is the cold load, WarmLoadMs the second one.
	LoadMs     Num `json:"load_ms"`
	WarmLoadMs Num `json:"warm_load_ms"`
	TTFTMs     Num `json:"ttft_ms"`
	PromptTPS  Num `json:"prompt_tps"`
	DecodeTPS  Num `json:"decode_tps"`
	ITLP99Ms   Num `json:"itl_p99_ms"`
	// PeakVRAMMiB is the process's peak over every measure (NVML).
	PeakVRAMMiB Num `json:"peak_vram_mib"`
	JPerToken   Num `json:"j_per_token"`
	MeanPowerW  Num `json:"mean_power_w"`
	RooflinePct Num `json:"roofline_pct"`
	// HarnessOverheadPct is metrics.Measure.HarnessOverhead in percent.
	HarnessOverheadPct Num `json:"harness_overhead_pct"`

	// PeakRSSMiB is the process's peak resident memory from the first load to the end of the
	// workloads (VmHWM).
	PeakRSSMiB Num `json:"peak_rss_mib"`
	// MemoryKind says which of the two the memory column and the efficiency use: MemoryVRAM,
	// MemoryRSS for a model run on the CPU, or "" for neither.
	MemoryKind string `json:"memory_kind,omitempty"`

	// Accuracy is a fraction in [0, 1], within CI95Low..CI95High (Wilson, 95%); Correct,
	// Total and Found (answers with a number) count the questions.
	Accuracy Num     `json:"accuracy"`
	CI95Low  float64 `json:"ci95_low"`
	CI95High float64 `json:"ci95_high"`
	Correct  int     `json:"correct"`
	Total    int     `json:"total"`
	Found    int     `json:"found"`
	// QualityApplies is false for a model whose quality means nothing (a synthetic twin).
	QualityApplies bool `json:"quality_applies"`

	// Efficiency is the seed's: accuracy × decode tok/s ÷ peak VRAM in GB (10⁹ bytes); for a
	// model run on the CPU, ÷ its peak resident memory in GB (MemoryGB).
	Efficiency Num `json:"efficiency"`
	// Rank is 1 for the best model: first those with an efficiency, by efficiency, then those
	// with only a decode rate, by decode tok/s; 0 for a model with neither. RankedBy says
	// which: "efficiency", "tokens/s" or "".
	Rank     int    `json:"rank"`
	RankedBy string `json:"ranked_by"`

	// Serving is the capacity under the serving target; nil when serving was not measured.
	Serving *ServingRow `json:"serving,omitempty"`
	serving *metrics.Serving

	// Card is the best placement of the model's fit sweep on a card of VerdictCard bytes
	// (BestFit); nil when the model has no fit sweep or fits no budget up to that size, which
	// fitSwept tells apart.
	Card     *FitPick `json:"card,omitempty"`
	fitSwept bool
}

// VRAMGB is the peak VRAM in GB (10⁹ bytes), the unit of the seed's efficiency.
func (r Row) VRAMGB() Num {
	if !r.PeakVRAMMiB.OK() {
		return r.PeakVRAMMiB
	}
	return value(r.PeakVRAMMiB.Value * (1 << 20) / 1e9)
}

// Ranking criteria of Row.RankedBy.
const (
	RankedByEfficiency = "efficiency"
	RankedByTokens     = "tokens/s"
)

// Summarize computes the summary row of each model of run, in the run's order, ranked.
func Summarize(run Run) []Row {
	rows := make([]Row, len(run.Models))
	for i, m := range run.Models {
		rows[i] = summarize(m)
	}
	rank(rows)
	return rows
}

func summarize(m Model) Row {
	res := &m.Result
	r := Row{
		Name:       res.Name,
		Params:     res.Model.Params,
		FileType:   res.Model.FileType,
		Complete:   res.Complete,
		Error:      res.Error,
		LoadMs:     positive(res.Load.ColdMs, "not loaded"),
		WarmLoadMs: positive(res.Load.WarmMs, "not loaded twice"),
	}

	if p := promptMeasure(res); p != nil {
		r.PromptMeasure = p.Label
		r.PromptTPS = fromStat(p.PromptTPS, "no prompt rate")
	} else {
		r.PromptTPS = na("no prompt or chat measure")
	}

	s := speedMeasure(res)
	if s == nil {
		why := "no generate or chat measure"
		r.TTFTMs, r.DecodeTPS, r.ITLP99Ms = na(why), na(why), na(why)
		r.JPerToken, r.MeanPowerW, r.RooflinePct, r.HarnessOverheadPct = na(why), na(why), na(why), na(why)
	} else {
		r.SpeedMeasure = s.Label
		r.TTFTMs = fromStat(s.TTFTMs, "no first token")
		r.DecodeTPS = fromStat(s.DecodeTPS, "no decode rate")
		r.ITLP99Ms = na("no inter-token intervals")
		if s.ITLMs.N > 0 {
			r.ITLP99Ms = value(s.ITLMs.P99)
		}
		r.HarnessOverheadPct = na("no llama.cpp timings")
		if s.HarnessOverhead != nil {
			r.HarnessOverheadPct = value(100 * *s.HarnessOverhead)
		}
		r.JPerToken, r.MeanPowerW, r.RooflinePct = gpuFigures(s)
	}
	r.PeakVRAMMiB = peakVRAM(res)
	r.PeakRSSMiB = peakRSS(res)
	r.MemoryKind = memoryKind(res, r.PeakVRAMMiB, r.PeakRSSMiB)

	switch {
	case m.Quality != nil:
		q := m.Quality
		r.QualityApplies = true
		r.Accuracy = value(q.Accuracy)
		r.CI95Low, r.CI95High = q.CI95Low, q.CI95High
		r.Correct, r.Total, r.Found = q.Correct, q.Total, q.Found
		if q.Total == 0 {
			r.Accuracy = na("no questions")
		}
	case m.QualityNA != "":
		r.Accuracy = na(notApplicable + ": " + m.QualityNA)
	default:
		r.QualityApplies = true
		r.Accuracy = na(notMeasured)
	}

	switch {
	case !r.Accuracy.OK():
		r.Efficiency = na("no quality")
	case !r.DecodeTPS.OK():
		r.Efficiency = na("no tokens/s")
	case !r.MemoryGB().OK() || r.MemoryGB().Value <= 0:
		r.Efficiency = na(noMemory(res))
	default:
		r.Efficiency = value(r.Accuracy.Value * r.DecodeTPS.Value / r.MemoryGB().Value)
	}
	r.Serving, r.serving = servingRow(res), res.Serving
	if res.Fit != nil {
		r.fitSwept = true
		if p, ok := BestFit(m, VerdictCard); ok {
			r.Card = &p
		}
	}
	return r
}

func positive(v float64, why string) Num {
	if v <= 0 {
		return na(why)
	}
	return value(v)
}

// speedMeasure is the first generate measure (tg<N> at depth 0) with a decode rate, else the
// chat measure with one.
func speedMeasure(res *metrics.Result) *metrics.Measure {
	return firstMeasure(res, func(m *metrics.Measure) bool { return m.DecodeTPS.N > 0 },
		metrics.WorkloadGenerate, metrics.WorkloadChat)
}

// promptMeasure is the first prompt measure (pp<N>) with a prompt rate, else the chat
// measure with one.
func promptMeasure(res *metrics.Result) *metrics.Measure {
	return firstMeasure(res, func(m *metrics.Measure) bool { return m.PromptTPS.N > 0 },
		metrics.WorkloadPrompt, metrics.WorkloadChat)
}

func firstMeasure(res *metrics.Result, ok func(*metrics.Measure) bool, workloads ...metrics.Workload) *metrics.Measure {
	for _, w := range workloads {
		for i := range res.Measures {
			if m := &res.Measures[i]; m.Workload == w && ok(m) {
				return m
			}
		}
	}
	return nil
}

// gpuFigures are the energy per token, mean power and roofline share of m.
func gpuFigures(m *metrics.Measure) (jpt, watts, roofline Num) {
	g := m.GPU
	if g == nil {
		why := m.GPUUnavailable
		if why == "" {
			why = "no GPU figures"
		}
		return na(why), na(why), na(why)
	}
	jpt = fromStat(g.JPerToken, "energy unavailable")
	watts = fromStat(g.MeanPowerW, "no power samples")
	roofline = na("no memory-bandwidth figure")
	if g.RooflinePct != nil {
		roofline = fromStat(*g.RooflinePct, "no memory-bandwidth figure")
	}
	return jpt, watts, roofline
}

// peakVRAM is the highest per-process peak of any measure; without one, the first reason the
// measures or the metadata give.
func peakVRAM(res *metrics.Result) Num {
	peak, ok := 0.0, false
	why := ""
	for _, m := range res.Measures {
		if v, seen := processPeakMiB(&m); seen {
			peak, ok = max(peak, v), true
			continue
		}
		switch {
		case why != "":
		case m.GPU != nil:
			why = "process not seen by NVML"
		case m.GPUUnavailable != "":
			why = m.GPUUnavailable
		}
	}
	switch {
	case ok:
		return value(peak)
	case why != "":
		return na(why)
	case res.Meta.GPUUnavailable != "":
		return na(res.Meta.GPUUnavailable)
	}
	return na("no measures")
}

// processPeakMiB is the process's peak VRAM over m's calls; false when NVML did not see the
// process or no monitor ran.
func processPeakMiB(m *metrics.Measure) (float64, bool) {
	if g := m.GPU; g != nil && g.PeakProcessMiB != nil && g.PeakProcessMiB.N > 0 {
		return g.PeakProcessMiB.Max, true
	}
	return 0, false
}

// rank sets Rank and RankedBy: models with an efficiency first, by it, then models with a
// decode rate, by it; ties keep the run's order.
func rank(rows []Row) {
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	key := func(r Row) (group int, v float64) {
		switch {
		case r.Efficiency.OK():
			return 0, r.Efficiency.Value
		case r.DecodeTPS.OK():
			return 1, r.DecodeTPS.Value
		}
		return 2, 0
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ga, va := key(rows[a])
		gb, vb := key(rows[b])
		if c := cmp.Compare(ga, gb); c != 0 {
			return c
		}
		return cmp.Compare(vb, va)
	})
	for n, i := range idx {
		switch g, _ := key(rows[i]); g {
		case 0:
			rows[i].Rank, rows[i].RankedBy = n+1, RankedByEfficiency
		case 1:
			rows[i].Rank, rows[i].RankedBy = n+1, RankedByTokens
		}
	}
}

// byRank returns the rows ranked first, in rank order, then the unranked in the run's order.
func byRank(rows []Row) []Row {
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b Row) int {
		if (a.Rank == 0) != (b.Rank == 0) {
			if a.Rank == 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Rank, b.Rank)
	})
	return out
}
