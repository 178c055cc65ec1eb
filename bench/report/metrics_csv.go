package report

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/local-llm-bench/llmbench/bench/metrics"
)

// metricsHeader is the <model>_metrics.csv file's header; it is part of the file format and
// only grows at the end.
var metricsHeader = []string{
	"model", "label", "workload", "depth", "reps", "prompt_tokens", "tokens",
	"ttft_ms_mean", "ttft_ms_sd", "prompt_tps_mean", "prompt_tps_sd",
	"decode_tps_mean", "decode_tps_sd", "decode_tps_min", "decode_tps_max", "decode_tps_p50",
	"e2e_ms_mean", "itl_ms_p50", "itl_ms_p90", "itl_ms_p99",
	"engine_prompt_tps", "engine_eval_tps", "harness_overhead",
	"peak_vram_mib", "j_per_token", "mean_power_w", "roofline_pct", "gpu_unavailable",
	"load_cold_ms", "load_warm_ms",
}

// WriteMetricsCSV writes a result's measures as CSV, the <model>_metrics.csv file: this
// header and one line per measure, in the order measured.
//
//	model,label,workload,depth,reps,prompt_tokens,tokens,ttft_ms_mean,ttft_ms_sd,
//	prompt_tps_mean,prompt_tps_sd,decode_tps_mean,decode_tps_sd,decode_tps_min,decode_tps_max,
//	decode_tps_p50,e2e_ms_mean,itl_ms_p50,itl_ms_p90,itl_ms_p99,engine_prompt_tps,
//	engine_eval_tps,harness_overhead,peak_vram_mib,j_per_token,mean_power_w,roofline_pct,
//	gpu_unavailable,load_cold_ms,load_warm_ms
//
// label is the measure's ("pp512", "tg128", "tg128@d1024", "chat"); prompt_tokens and tokens
// are means per call; *_sd are sample standard deviations over repetitions; engine_* are
// llama.cpp's own means; harness_overhead is a fraction (see metrics.Measure.HarnessOverhead);
// peak_vram_mib is the process's highest peak; j_per_token and mean_power_w are means;
// gpu_unavailable says why the GPU columns are empty; the load columns repeat the model's on
// every line. A figure that was not measured is an empty cell, never 0. Numbers are written in
// full, without exponent.
func WriteMetricsCSV(w io.Writer, r metrics.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(metricsHeader); err != nil {
		return err
	}
	for _, m := range r.Measures {
		vram := ""
		if v, ok := processPeakMiB(&m); ok {
			vram = csvFloat(v)
		}
		jpt, watts, roof := gpuFigures(&m)
		overhead := ""
		if m.HarnessOverhead != nil {
			overhead = csvFloat(*m.HarnessOverhead)
		}
		if err := cw.Write([]string{
			r.Name, m.Label, string(m.Workload), strconv.Itoa(m.Depth), strconv.Itoa(m.Reps),
			mean(m.PromptTokens), mean(m.Tokens),
			mean(m.TTFTMs), sd(m.TTFTMs), mean(m.PromptTPS), sd(m.PromptTPS),
			mean(m.DecodeTPS), sd(m.DecodeTPS), stat(m.DecodeTPS, m.DecodeTPS.Min),
			stat(m.DecodeTPS, m.DecodeTPS.Max), stat(m.DecodeTPS, m.DecodeTPS.P50),
			mean(m.E2EMs), stat(m.ITLMs, m.ITLMs.P50), stat(m.ITLMs, m.ITLMs.P90), stat(m.ITLMs, m.ITLMs.P99),
			mean(m.EnginePromptTPS), mean(m.EngineEvalTPS), overhead,
			vram, csvNum(jpt), csvNum(watts), csvNum(roof), m.GPUUnavailable,
			csvNum(positive(r.Load.ColdMs, "not loaded")), csvNum(positive(r.Load.WarmMs, "not loaded twice")),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// csvNum is n's value, or empty when n has none.
func csvNum(n Num) string {
	if !n.OK() {
		return ""
	}
	return csvFloat(n.Value)
}

// stat is v, a figure of s, or empty when s has no values.
func stat(s metrics.Stat, v float64) string {
	if s.N == 0 {
		return ""
	}
	return csvFloat(v)
}

func mean(s metrics.Stat) string { return stat(s, s.Mean) }

func sd(s metrics.Stat) string { return stat(s, s.Stddev) }
