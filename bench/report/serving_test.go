package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
)

// sweep is a made-up closed-loop sweep of one model at 1 to 64 users on a GPU: aggregate
// tok/s, p10 per-user tok/s, TTFT p99 ms and peak VRAM MiB per level.
type sweep struct {
	agg, p10, ttft, vram []float64
}

var fixtureSweeps = map[string]sweep{
	"gemma-2-2b-it.Q4_K_M": {
		agg: []float64{330, 640, 1200, 2100, 3300, 4400, 5000}, p10: []float64{325, 315, 295, 255, 200, 132, 74},
		ttft: []float64{40, 55, 80, 130, 260, 600, 1450}, vram: []float64{3334, 3400, 3500, 3700, 4100, 4900, 6500},
	},
	"phi-3-mini-4k-instruct.Q4_K_M": {
		agg: []float64{300, 580, 1100, 1900, 2900, 3600, 3900}, p10: []float64{296, 285, 262, 226, 170, 105, 55},
		ttft: []float64{50, 70, 110, 200, 520, 1300, 3100}, vram: []float64{4550, 4700, 4900, 5300, 6100, 7700, 10900},
	},
	"mistral-7b-instruct-v0.2.Q4_K_M": {
		agg: []float64{248, 480, 920, 1650, 2700, 3900, 4800}, p10: []float64{245, 236, 222, 198, 160, 117, 71},
		ttft: []float64{70, 95, 140, 240, 450, 900, 1900}, vram: []float64{5448, 5500, 5600, 5800, 6200, 7000, 8600},
	},
}

func fixtureLevel(users int, rate, agg, p10, ttft, vram float64) metrics.ServeLevel {
	stat := func(p10, p50, p90, p99 float64) metrics.Stat {
		return metrics.Stat{N: 32, Mean: p50, Min: p10 * 0.9, Max: p99 * 1.01, P10: p10, P50: p50, P90: p90, P99: p99}
	}
	outside := 0.03
	jpt := 0.25
	return metrics.ServeLevel{
		Users: users, RateRPS: rate, Sequences: max(users, 32), ContextSize: max(users, 32) * 640, Requests: 32,
		WindowMs: 9000, OutputTPS: agg, RequestsPerS: agg / 128,
		PerUserTPS: stat(p10, p10*1.05, p10*1.1, p10*1.12), TTFTMs: stat(ttft/3, ttft/2, ttft*0.8, ttft),
		QueuedMs: stat(0, 0, ttft/4, ttft/3), ITLMs: stat(1000/p10/1.1, 1000/p10, 1000/p10*1.1, 1000/p10*1.3),
		E2EMs: stat(1000, 1200, 1500, 1600), PromptTokens: stat(512, 512, 512, 512), Tokens: stat(128, 128, 128, 128),
		Stops:     map[string]int{"max_tokens": 32},
		GPU:       &metrics.GPUSample{PeakProcessBytes: uint64(vram * (1 << 20)), ProcessSeen: true, EnergyJ: 300, EnergyMethod: "counter"},
		JPerToken: &jpt,
		Engine: metrics.ServeEngine{Steps: 1200, DecodeMs: 8700, EngineMs: 8650, WallMs: 9000, BusyMs: 8970,
			PromptTokens: 16384, GenTokens: 4064, MaxBatch: 544, MaxActive: users, OutsideDecode: &outside},
	}
}

// withServing gives each of run's twins its fixture sweep, closed loop and open loop, with
// the default target.
func withServing(t *testing.T, run Run) Run {
	t.Helper()
	spec, err := metrics.ServeSpec{RandomPrompts: true, Requests: 32}.WithDefaults()
	require.NoError(t, err)
	for i := range run.Models {
		res := &run.Models[i].Result
		sw, ok := fixtureSweeps[res.Name]
		require.True(t, ok, res.Name)
		sv := &metrics.Serving{Spec: spec}
		for j, users := range spec.Users {
			sv.Closed = append(sv.Closed, fixtureLevel(users, 0, sw.agg[j], sw.p10[j], sw.ttft[j], sw.vram[j]))
			if rps := sw.agg[j] / 128; rps > sv.SaturationRPS {
				sv.SaturationRPS, sv.SaturationUsers = rps, users
			}
		}
		for _, f := range spec.RateFractions {
			// Queueing grows as the rate nears saturation.
			l := fixtureLevel(0, f*sv.SaturationRPS, f*sw.agg[6], sw.p10[6], sw.ttft[6]*f*f, sw.vram[6])
			l.Sequences = sv.SaturationUsers
			sv.Open = append(sv.Open, l)
		}
		sv.Capacity = metrics.CapacityOf(sv.Closed, sv.Open, spec.Target)
		res.Serving = sv
	}
	return run
}

func TestServingSummaryAndTables(t *testing.T) {
	run := withServing(t, h200Run(t))
	rows := Summarize(run)
	want := map[string]ServingRow{
		"gemma-2-2b-it.Q4_K_M":            {Users: 32, Missed: "64 users: TTFT p99 1.45 s"},
		"phi-3-mini-4k-instruct.Q4_K_M":   {Users: 16, Missed: "32 users: TTFT p99 1.3 s"},
		"mistral-7b-instruct-v0.2.Q4_K_M": {Users: 32, Missed: "64 users: TTFT p99 1.9 s"},
	}
	for _, r := range rows {
		require.NotNil(t, r.Serving, r.Name)
		w := want[r.Name]
		assert.Equal(t, w.Users, r.Serving.Users, r.Name)
		assert.Equal(t, w.Missed, r.Serving.Missed, r.Name)
		assert.False(t, r.Serving.UsersAtLeast, r.Name)
		assert.True(t, r.Serving.RateRPS.OK(), r.Name)
		assert.Equal(t, metrics.ServeTarget{TTFTP99Ms: 1000, TokensPerSecond: 10}, r.Serving.Target)
	}
	// The capacity level's VRAM and throughput.
	assert.Equal(t, value(4900), rows[0].Serving.PeakVRAMMiB)
	assert.Equal(t, value(4400), rows[0].Serving.OutputTPS)
	assert.Equal(t, value(6100), rows[1].Serving.PeakVRAMMiB)

	var b bytes.Buffer
	require.NoError(t, WriteMarkdown(&b, run))
	md := b.String()
	contains(t, md, "| model | params | type | tok/s | VRAM GB | quality | efficiency | users @ target | req/s @ target | rank |")
	summary := tableRows(t, md, "Summary")
	require.Len(t, summary, 3)
	for _, r := range summary {
		assert.Len(t, r, 10, r[0])
	}
	assert.Equal(t, []string{"32", "29.30"}, summary[0][7:9], "gemma ranks first by efficiency; 0.75 of its 39.06 req/s met the target")
	closed := tableRows(t, md, "Serving: closed loop (N users)")
	require.Len(t, closed, 3*7)
	assert.Equal(t, []string{"gemma-2-2b-it.Q4_K_M", "1", "330.0", "2.58", "341.2", "325.0", "20.0", "32.0", "40.0",
		"3.08", "4.00", "3334", "0.250", "3.0%", "met"}, closed[0])
	assert.Equal(t, "missed", closed[6][14], "gemma at 64 users")
	open := tableRows(t, md, "Serving: open loop (Poisson arrivals)")
	require.Len(t, open, 3*5)
	assert.Equal(t, "9.77", open[0][1], "a quarter of gemma's 39.06 req/s at 64 users")
	assert.Equal(t, "64", open[0][2], "the server of the saturation level")
	for _, s := range []string{
		"target ≥ 10 tok/s per user (p10), TTFT p99 ≤ 1 s",
		"prompts of 512 random tokens, 128 tokens generated through end of generation",
		"32 requests measured per level after a warmup request per user",
		"rates at 0.25, 0.5, 0.75, 0.9, 1 of the closed loop's highest, 39.06 req/s at 64 users",
		"users / req/s @ target: the most users (closed loop) and the highest Poisson arrival rate",
	} {
		contains(t, md, s)
	}
	assert.NotContains(t, md, "peak VRAM, J/token n/a")

	// Without serving, the summary and the tables are as before.
	b.Reset()
	require.NoError(t, WriteMarkdown(&b, h200Run(t)))
	assert.NotContains(t, b.String(), "@ target")
	assert.NotContains(t, b.String(), "Serving:")
}

// A CPU run: serving without GPU figures, and with a level that did not fit.
func TestServingWithoutGPU(t *testing.T) {
	res := cpuResult("smollm2", 120)
	spec, err := metrics.ServeSpec{Users: []int{1, 2, 4}, Requests: 8, ClosedOnly: true}.WithDefaults()
	require.NoError(t, err)
	sv := &metrics.Serving{Spec: spec, Skipped: []string{"4 users: out of memory"}}
	for i, users := range []int{1, 2} {
		l := fixtureLevel(users, 0, float64(100*(i+1)), float64(90-40*i), 300, 0)
		l.GPU, l.JPerToken, l.GPUUnavailable = nil, nil, "no GPU monitor"
		sv.Closed = append(sv.Closed, l)
	}
	sv.Capacity = metrics.CapacityOf(sv.Closed, nil, spec.Target)
	res.Serving = sv
	run := Run{Models: []Model{{Result: res}}, Complete: true}
	var b bytes.Buffer
	require.NoError(t, WriteMarkdown(&b, run))
	md := b.String()
	closed := tableRows(t, md, "Serving: closed loop (N users)")
	require.Len(t, closed, 2)
	assert.Equal(t, []string{naText, naText}, closed[0][11:13], "no VRAM, no J/token")
	assert.NotContains(t, md, "Serving: open loop", "no open loop, no table")
	contains(t, md, "the baseline prompts through the chat template, replies of up to 128 tokens")
	contains(t, md, "peak VRAM, J/token n/a: no GPU monitor")
	contains(t, md, "skipped 4 users: out of memory")
	summary := tableRows(t, md, "Summary")
	assert.Equal(t, []string{"≥ 2", naText}, summary[0][7:9], "both levels measured met it; no open loop")
}

func TestServingCSV(t *testing.T) {
	run := withServing(t, h200Run(t))
	var b bytes.Buffer
	require.NoError(t, WriteServingCSV(&b, run.Models[0].Result))
	lines, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	require.Len(t, lines, 1+7+5)
	assert.Equal(t, servingHeader, lines[0])
	col := map[string]int{}
	for i, h := range servingHeader {
		col[h] = i
	}
	first, open := lines[1], lines[8]
	assert.Equal(t, "closed", first[col["loop"]])
	assert.Equal(t, "1", first[col["users"]])
	assert.Empty(t, first[col["rate_rps"]])
	assert.Equal(t, "330", first[col["output_tps"]])
	assert.Equal(t, "325", first[col["user_tps_p10"]])
	assert.Equal(t, "40", first[col["ttft_ms_p99"]])
	assert.Equal(t, "3334", first[col["peak_vram_mib"]])
	assert.Equal(t, "0.03", first[col["outside_decode"]])
	assert.Equal(t, "8650", first[col["engine_ms"]])
	assert.Equal(t, "true", first[col["meets_target"]])
	assert.Equal(t, "false", lines[7][col["meets_target"]], "64 users")
	assert.Equal(t, "1000", first[col["target_ttft_p99_ms"]])
	assert.Equal(t, "open", open[col["loop"]])
	assert.Empty(t, open[col["users"]])
	assert.NotEmpty(t, open[col["rate_rps"]])

	// Not measured: empty, never 0.
	l := fixtureLevel(1, 0, 10, 5, 100, 0)
	l.GPU, l.JPerToken, l.Engine.OutsideDecode, l.GPUUnavailable = nil, nil, nil, "no GPU monitor"
	l.PerUserTPS = metrics.Stat{}
	line := servingLine("m", "closed", l, metrics.ServeTarget{})
	for _, c := range []string{"user_tps_p10", "peak_vram_mib", "j_per_token", "outside_decode"} {
		assert.Empty(t, line[col[c]], c)
	}
	assert.Equal(t, "no GPU monitor", line[col["gpu_unavailable"]])

	b.Reset()
	require.NoError(t, WriteServingCSV(&b, cpuResult("x", 1)))
	assert.Equal(t, strings.Join(servingHeader, ",")+"\n", b.String(), "no serving: the header alone")
}

func TestServingFilesAndCharts(t *testing.T) {
	run := withServing(t, h200Run(t))
	dir := t.TempDir()
	_, err := WriteFiles(dir, run)
	require.NoError(t, err)
	for _, n := range fixtureNames {
		assert.FileExists(t, filepath.Join(dir, n+"_serving.csv"))
	}
	for _, c := range []string{"serving_tokens_per_second.png", "serving_ttft.png"} {
		b, err := os.ReadFile(filepath.Join(dir, c))
		require.NoError(t, err)
		l := lookAt(t, b)
		assert.Equal(t, [2]int{ChartWidth, ChartHeight}, [2]int{l.width, l.height}, c)
		assert.Greater(t, l.inked, 0.01, c)
		assert.Less(t, l.inked, 0.5, c)
		for i := range fixtureNames {
			assert.Greater(t, l.pixels[modelColor(i)], 200, "%s: the lines of model %d in its colour", c, i)
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	require.NoError(t, err)
	contains(t, string(md), "](serving_ttft.png)")
	html, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	require.NoError(t, err)
	assert.Equal(t, len(charts)+2, strings.Count(string(html), `src="data:image/png;base64,`))

	var doc Document
	data, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &doc))
	require.NotNil(t, doc.Summary[0].Serving)
	assert.Equal(t, 32, doc.Summary[0].Serving.Users)
	assert.Len(t, doc.Verdict.Models, 3)
	require.NotNil(t, doc.Models[0].Result.Serving)
	assert.Len(t, doc.Models[0].Result.Serving.Closed, 7)

	// Serving charts of models with no level, or some models without serving, still draw.
	partial := withServing(t, h200Run(t))
	partial.Models[1].Result.Serving = nil
	partial.Models[2].Result.Serving.Closed = nil
	for _, f := range []func(Run) ([]byte, error){ChartServingTokens, ChartServingTTFT} {
		b, err := f(partial)
		require.NoError(t, err)
		assert.Greater(t, lookAt(t, b).inked, 0.003)
		empty := withServing(t, h200Run(t))
		for i := range empty.Models {
			empty.Models[i].Result.Serving.Closed = nil
		}
		b, err = f(empty)
		require.NoError(t, err)
		assert.Greater(t, lookAt(t, b).inked, 0.003, "says that no level was measured")
	}
}

func TestTicks125(t *testing.T) {
	var labels []string
	for _, tk := range (ticks125{}).Ticks(20, 5000) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	assert.Equal(t, []string{"20", "50", "100", "200", "500", "1000", "2000", "5000"}, labels)
	assert.Equal(t, 20.0, below125(37))
	assert.Equal(t, 50.0, above125(37))
	assert.Equal(t, 100.0, above125(51))
	assert.Equal(t, 1.0, below125(1))
	assert.Equal(t, 0.5, below125(0.7))
}
