package report

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/local-llm-bench/llmbench/bench/metrics"
)

// ServingRow is a model's capacity under its serving target, as the summary shows it.
type ServingRow struct {
	Target metrics.ServeTarget `json:"target"`
	// Users is the most users served under the target (the closed loop), RateRPS the highest
	// Poisson arrival rate (n/a without an open loop); the AtLeast flags say that every level
	// measured met the target, so that the model may serve more.
	Users        int  `json:"users"`
	UsersAtLeast bool `json:"users_at_least"`
	RateRPS      Num  `json:"rate_rps"`
	RateAtLeast  bool `json:"rate_at_least"`
	// PeakVRAMMiB and OutputTPS are those of the closed-loop level of Users: what serving
	// that many takes, and the aggregate output tokens/s it gives.
	PeakVRAMMiB Num `json:"peak_vram_mib"`
	OutputTPS   Num `json:"output_tps"`
	// Missed says how the first closed-loop level that missed the target missed it; "" when
	// every level met it.
	Missed string `json:"missed,omitempty"`
}

// VRAMGB is PeakVRAMMiB in GB (10⁹ bytes).
func (s ServingRow) VRAMGB() Num { return Row{PeakVRAMMiB: s.PeakVRAMMiB}.VRAMGB() }

// servingRow summarizes a result's serving; nil when serving was not measured.
func servingRow(res *metrics.Result) *ServingRow {
	sv := res.Serving
	if sv == nil {
		return nil
	}
	c := sv.Capacity
	s := &ServingRow{Target: c.Target, Users: c.Users, UsersAtLeast: c.UsersAtLeast, RateAtLeast: c.RateAtLeast,
		RateRPS: value(c.RateRPS), PeakVRAMMiB: na("serves no user under the target"), OutputTPS: na("serves no user under the target")}
	if !c.OpenMeasured {
		s.RateRPS = na("no open loop")
	}
	for _, l := range sv.Closed {
		if l.Users == c.Users && c.Users > 0 {
			s.OutputTPS = value(l.OutputTPS)
			s.PeakVRAMMiB = na(cmp.Or(l.GPUUnavailable, "process not seen by NVML"))
			if v, ok := l.PeakVRAMMiB(); ok {
				s.PeakVRAMMiB = value(v)
			}
		}
		if !l.MeetsTarget && s.Missed == "" {
			s.Missed = missed(l, c.Target)
		}
	}
	return s
}

// missed says how a level missed the target: "8 users: p10 7.9 tok/s, TTFT p99 1.4 s".
func missed(l metrics.ServeLevel, t metrics.ServeTarget) string {
	var why []string
	if l.Errors > 0 {
		why = append(why, fmt.Sprintf("%d failed requests", l.Errors))
	}
	switch {
	case l.PerUserTPS.N == 0:
		why = append(why, "no per-user rate")
	case l.PerUserTPS.P10 < t.TokensPerSecond:
		why = append(why, fmt.Sprintf("p10 %.1f tok/s", l.PerUserTPS.P10))
	}
	switch {
	case l.TTFTMs.N == 0:
		why = append(why, "no first token")
	case l.TTFTMs.P99 > t.TTFTP99Ms:
		why = append(why, "TTFT p99 "+metrics.DurationText(l.TTFTMs.P99))
	}
	return l.Label() + ": " + strings.Join(why, ", ")
}

// hasServing reports whether any model's serving was measured.
func hasServing(rows []Row) bool {
	return slices.ContainsFunc(rows, func(r Row) bool { return r.Serving != nil })
}

// usersCell is "32", "≥ 64" (every level met the target), or "not measured".
func usersCell(r Row) string {
	s := r.Serving
	if s == nil {
		return notMeasured
	}
	return atLeast(fmt.Sprint(s.Users), s.UsersAtLeast)
}

func rateCell(r Row) string {
	s := r.Serving
	switch {
	case s == nil:
		return notMeasured
	case !s.RateRPS.OK():
		return naText
	}
	return atLeast(fmt.Sprintf("%.2f", s.RateRPS.Value), s.RateAtLeast)
}

func atLeast(v string, ok bool) string {
	if ok {
		return "≥ " + v
	}
	return v
}

// withCapacity adds to the summary table the capacity under the serving target, before the
// rank, when any model's serving was measured.
func withCapacity(t table, rows []Row) table {
	if !hasServing(rows) {
		return t
	}
	at := len(t.Header) - 1
	t.Header = slices.Insert(slices.Clone(t.Header), at, "users @ target", "req/s @ target")
	for i, r := range byRank(rows) {
		t.Rows[i] = slices.Insert(slices.Clone(t.Rows[i]), at, usersCell(r), rateCell(r))
	}
	t.Notes = append(t.Notes, groupNotes(rows, func(r Row) string {
		if r.Serving == nil {
			return ""
		}
		return "users / req/s @ target: the most users (closed loop) and the highest Poisson arrival rate " +
			"at which that level and every one below it met " + r.Serving.Target.String() + "; ≥: every level measured met it"
	})...)
	return t
}

// servingTables are the closed and the open loop's tables, for the models whose serving was
// measured; none when no model's was.
func servingTables(run Run) []table {
	var withServing []metrics.Result
	for _, m := range run.Models {
		if m.Result.Serving != nil {
			withServing = append(withServing, m.Result)
		}
	}
	if len(withServing) == 0 {
		return nil
	}
	closed := table{
		ID: "serving", Numeric: true, Title: "Serving: closed loop (N users)",
		Header: []string{"model", "users", "tok/s", "req/s", "user tok/s p50", "user tok/s p10", "TTFT p50 ms", "TTFT p90 ms",
			"TTFT p99 ms", "ITL p50 ms", "ITL p99 ms", "peak VRAM MiB", "J/token", "outside decode", "target"},
	}
	open := table{
		ID: "serving-open", Numeric: true, Title: "Serving: open loop (Poisson arrivals)",
		Header: []string{"model", "req/s offered", "sequences", "tok/s", "req/s", "user tok/s p50", "user tok/s p10", "TTFT p50 ms",
			"TTFT p90 ms", "TTFT p99 ms", "queued p99 ms", "ITL p99 ms", "peak VRAM MiB", "J/token", "target"},
	}
	for _, res := range withServing {
		sv := res.Serving
		for _, l := range sv.Closed {
			closed.Rows = append(closed.Rows, append([]string{res.Name, fmt.Sprint(l.Users), f1(l.OutputTPS), f2(l.RequestsPerS)},
				levelCells(l, true)...))
		}
		for _, l := range sv.Open {
			open.Rows = append(open.Rows, append([]string{res.Name, fmt.Sprintf("%.2f", l.RateRPS), fmt.Sprint(l.Sequences),
				f1(l.OutputTPS), f2(l.RequestsPerS)}, levelCells(l, false)...))
		}
	}
	closed.Notes = servingNotes(withServing, false)
	open.Notes = servingNotes(withServing, true)
	if len(open.Rows) == 0 {
		return []table{closed}
	}
	return []table{closed, open}
}

// levelCells are the cells of a level after its load and rates.
func levelCells(l metrics.ServeLevel, closed bool) []string {
	cells := []string{statCell(l.PerUserTPS, l.PerUserTPS.P50, "%.1f"), statCell(l.PerUserTPS, l.PerUserTPS.P10, "%.1f"),
		statCell(l.TTFTMs, l.TTFTMs.P50, "%.1f"), statCell(l.TTFTMs, l.TTFTMs.P90, "%.1f"), statCell(l.TTFTMs, l.TTFTMs.P99, "%.1f")}
	if closed {
		cells = append(cells, statCell(l.ITLMs, l.ITLMs.P50, "%.2f"))
	} else {
		cells = append(cells, statCell(l.QueuedMs, l.QueuedMs.P99, "%.1f"))
	}
	cells = append(cells, statCell(l.ITLMs, l.ITLMs.P99, "%.2f"))
	vram := naText
	if v, ok := l.PeakVRAMMiB(); ok {
		vram = fmt.Sprintf("%.0f", v)
	}
	jpt := naText
	if l.JPerToken != nil {
		jpt = fmt.Sprintf("%.3f", *l.JPerToken)
	}
	cells = append(cells, vram, jpt)
	if closed {
		outside := naText
		if o := l.Engine.OutsideDecode; o != nil {
			outside = fmt.Sprintf("%.1f%%", 100**o)
		}
		cells = append(cells, outside)
	}
	met := "missed"
	if l.MeetsTarget {
		met = "met"
	}
	return append(cells, met)
}

func statCell(s metrics.Stat, v float64, format string) string {
	if s.N == 0 {
		return naText
	}
	return fmt.Sprintf(format, v)
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }

// servingNotes say what the serving tables' figures are, what each model's requests were,
// and what was skipped.
func servingNotes(results []metrics.Result, open bool) []string {
	var notes []string
	if open {
		notes = append(notes, "Poisson arrivals, seeded; TTFT from each request's due time, so that it holds the wait "+
			"for a sequence (queued: that wait alone, as the server saw it)")
	} else {
		notes = append(notes, "each user sends the next request as soon as the reply ends; TTFT from the send to the first token; "+
			"user tok/s: each request's decode rate at its callback; tok/s and req/s: every token and reply of the window "+
			"(the first measured request's send to the last one's end); outside decode: the server's busy time outside "+
			"llama_decode (scheduling, sampling, handing tokens over)")
	}
	for _, res := range results {
		sv := res.Serving
		s := sv.Spec
		var parts []string
		if !open {
			if s.RandomPrompts {
				parts = append(parts, fmt.Sprintf("prompts of %d random tokens, %d tokens generated through end of generation", s.PromptTokens, s.GenTokens))
			} else {
				parts = append(parts, fmt.Sprintf("the baseline prompts through the chat template, replies of up to %d tokens", s.GenTokens))
			}
			parts = append(parts, fmt.Sprintf("%d requests measured per level after %s", s.Requests, closedWarmupText(s)))
			parts = append(parts, "target "+s.Target.String())
			if l := firstVRAMReason(sv.Closed); l != "" {
				parts = append(parts, "peak VRAM, J/token n/a: "+l)
			}
			for _, sk := range sv.Skipped {
				parts = append(parts, "skipped "+sk)
			}
		} else {
			if len(sv.Open) == 0 {
				continue
			}
			if len(s.Rates) > 0 {
				parts = append(parts, "rates as asked")
			} else {
				parts = append(parts, fmt.Sprintf("rates at %s of the closed loop's highest, %.2f req/s at %d users", fractions(s.RateFractions),
					sv.SaturationRPS, sv.SaturationUsers))
			}
			parts = append(parts, fmt.Sprintf("a server of %d sequences; %d requests measured per rate after %s", sv.SaturationUsers,
				s.Requests, warmupText(s.OpenWarmup())))
		}
		notes = append(notes, res.Name+": "+strings.Join(parts, "; "))
	}
	return notes
}

// closedWarmupText says what the closed loop's levels ran before measuring.
func closedWarmupText(s metrics.ServeSpec) string {
	if s.Warmup == 0 {
		return "a warmup request per user"
	}
	return warmupText(s.ClosedWarmup(0))
}

func warmupText(n int) string {
	switch n {
	case 0:
		return "no warmup"
	case 1:
		return "1 warmup request"
	}
	return fmt.Sprintf("%d warmup requests", n)
}

func fractions(fs []float64) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strings.Join(parts, ", ")
}

// firstVRAMReason is why the first level without a VRAM figure has none; "" when every
// level has one.
func firstVRAMReason(levels []metrics.ServeLevel) string {
	for _, l := range levels {
		if _, ok := l.PeakVRAMMiB(); !ok {
			return cmp.Or(l.GPUUnavailable, "process not seen by NVML")
		}
	}
	return ""
}

// servingHeader is the <model>_serving.csv file's header; it only grows at the end.
var servingHeader = []string{
	"model", "loop", "users", "rate_rps", "sequences", "context_size", "requests", "errors", "window_ms",
	"output_tps", "requests_per_s", "user_tps_mean", "user_tps_p50", "user_tps_p10",
	"ttft_ms_p50", "ttft_ms_p90", "ttft_ms_p99", "queued_ms_p50", "queued_ms_p99", "itl_ms_p50", "itl_ms_p99",
	"e2e_ms_p50", "prompt_tokens_mean", "tokens_mean", "peak_vram_mib", "j_per_token", "gpu_unavailable",
	"steps", "decode_ms", "engine_ms", "wall_ms", "busy_ms", "outside_decode", "max_batch", "max_active",
	"engine_prompt_tokens", "engine_gen_tokens", "meets_target", "target_ttft_p99_ms", "target_tps",
}

// WriteServingCSV writes a result's serving sweep as CSV, the <model>_serving.csv file: this
// header, then a line per closed-loop level (loop "closed", users set) and per open-loop
// level (loop "open", rate_rps set), in the order measured.
//
//	model,loop,users,rate_rps,sequences,context_size,requests,errors,window_ms,output_tps,
//	requests_per_s,user_tps_mean,user_tps_p50,user_tps_p10,ttft_ms_p50,ttft_ms_p90,ttft_ms_p99,
//	queued_ms_p50,queued_ms_p99,itl_ms_p50,itl_ms_p99,e2e_ms_p50,prompt_tokens_mean,tokens_mean,
//	peak_vram_mib,j_per_token,gpu_unavailable,steps,decode_ms,engine_ms,wall_ms,busy_ms,
//	outside_decode,max_batch,max_active,engine_prompt_tokens,engine_gen_tokens,meets_target,
//	target_ttft_p99_ms,target_tps
//
// The figures are those of metrics.ServeLevel: output_tps and requests_per_s over the window,
// user_tps over the measured requests' decode rates, ttft from each request's send, queued its
// wait for a sequence; steps to engine_gen_tokens are the server's counters over the window,
// engine_ms llama.cpp's own time of its decodes, outside_decode a fraction. A figure that was
// not measured is an empty cell, never 0. A result without serving gives the header alone.
func WriteServingCSV(w io.Writer, r metrics.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(servingHeader); err != nil {
		return err
	}
	if sv := r.Serving; sv != nil {
		for _, loop := range []struct {
			name   string
			levels []metrics.ServeLevel
		}{{"closed", sv.Closed}, {"open", sv.Open}} {
			for _, l := range loop.levels {
				if err := cw.Write(servingLine(r.Name, loop.name, l, sv.Spec.Target)); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func servingLine(name, loop string, l metrics.ServeLevel, t metrics.ServeTarget) []string {
	users, rate := "", ""
	if l.Users > 0 {
		users = strconv.Itoa(l.Users)
	} else {
		rate = csvFloat(l.RateRPS)
	}
	vram, jpt, outside := "", "", ""
	if v, ok := l.PeakVRAMMiB(); ok {
		vram = csvFloat(v)
	}
	if l.JPerToken != nil {
		jpt = csvFloat(*l.JPerToken)
	}
	e := l.Engine
	if e.OutsideDecode != nil {
		outside = csvFloat(*e.OutsideDecode)
	}
	return []string{
		name, loop, users, rate, strconv.Itoa(l.Sequences), strconv.Itoa(l.ContextSize), strconv.Itoa(l.Requests),
		strconv.Itoa(l.Errors), csvFloat(l.WindowMs), csvFloat(l.OutputTPS), csvFloat(l.RequestsPerS),
		mean(l.PerUserTPS), stat(l.PerUserTPS, l.PerUserTPS.P50), stat(l.PerUserTPS, l.PerUserTPS.P10),
		stat(l.TTFTMs, l.TTFTMs.P50), stat(l.TTFTMs, l.TTFTMs.P90), stat(l.TTFTMs, l.TTFTMs.P99),
		stat(l.QueuedMs, l.QueuedMs.P50), stat(l.QueuedMs, l.QueuedMs.P99),
		stat(l.ITLMs, l.ITLMs.P50), stat(l.ITLMs, l.ITLMs.P99), stat(l.E2EMs, l.E2EMs.P50),
		mean(l.PromptTokens), mean(l.Tokens), vram, jpt, l.GPUUnavailable,
		strconv.Itoa(e.Steps), csvFloat(e.DecodeMs), csvFloat(e.EngineMs), csvFloat(e.WallMs), csvFloat(e.BusyMs), outside,
		strconv.Itoa(e.MaxBatch), strconv.Itoa(e.MaxActive), strconv.Itoa(e.PromptTokens), strconv.Itoa(e.GenTokens),
		strconv.FormatBool(l.MeetsTarget), csvFloat(t.TTFTP99Ms), csvFloat(t.TokensPerSecond),
	}
}
