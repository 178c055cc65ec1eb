package report

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
)

func TestSummarizeH200(t *testing.T) {
	run := h200Run(t)
	rows := Summarize(run)
	require.Len(t, rows, 3)
	for i, r := range rows {
		res := run.Models[i].Result
		tg, pp := res.Measure("tg128"), res.Measure("pp512")
		require.NotNil(t, tg)
		require.NotNil(t, pp)
		t.Run(r.Name, func(t *testing.T) {
			assert.Equal(t, res.Name, r.Name)
			assert.Equal(t, "tg128", r.SpeedMeasure)
			assert.Equal(t, "pp512", r.PromptMeasure)
			assert.Equal(t, Num{Value: res.Load.ColdMs}, r.LoadMs)
			assert.Equal(t, Num{Value: tg.DecodeTPS.Mean, SD: tg.DecodeTPS.Stddev}, r.DecodeTPS)
			assert.Equal(t, Num{Value: tg.TTFTMs.Mean, SD: tg.TTFTMs.Stddev}, r.TTFTMs)
			assert.Equal(t, pp.PromptTPS.Mean, r.PromptTPS.Value)
			assert.Equal(t, tg.ITLMs.P99, r.ITLP99Ms.Value)
			assert.Equal(t, tg.GPU.JPerToken.Mean, r.JPerToken.Value)
			assert.Equal(t, tg.GPU.RooflinePct.Mean, r.RooflinePct.Value)
			assert.InDelta(t, 100**tg.HarnessOverhead, r.HarnessOverheadPct.Value, 1e-12)
			assert.Equal(t, max(tg.GPU.PeakProcessMiB.Max, pp.GPU.PeakProcessMiB.Max), r.PeakVRAMMiB.Value)
			q := run.Models[i].Quality
			assert.Equal(t, q.Accuracy, r.Accuracy.Value)
			assert.Equal(t, [2]float64{q.CI95Low, q.CI95High}, [2]float64{r.CI95Low, r.CI95High})
			assert.Equal(t, [3]int{q.Correct, q.Total, q.Found}, [3]int{r.Correct, r.Total, r.Found})
			gb := r.PeakVRAMMiB.Value * (1 << 20) / 1e9
			assert.InDelta(t, q.Accuracy*tg.DecodeTPS.Mean/gb, r.Efficiency.Value, 1e-9)
			assert.Equal(t, RankedByEfficiency, r.RankedBy)
		})
	}
	// The measured figures, as the tables show them.
	assert.InDelta(t, 333.78, rows[0].DecodeTPS.Value, 0.01)
	assert.Equal(t, 3334.0, rows[0].PeakVRAMMiB.Value)
	assert.Equal(t, 4550.0, rows[1].PeakVRAMMiB.Value) // tg128 peaked 2 MiB above pp512
	assert.Equal(t, 5448.0, rows[2].PeakVRAMMiB.Value)
	// gemma is fastest and smallest; its lower accuracy (0.7 vs 0.9) does not make up the gap.
	assert.Equal(t, []int{1, 2, 3}, []int{rows[0].Rank, rows[1].Rank, rows[2].Rank})
}

func TestSummarizeWithoutGPU(t *testing.T) {
	tests := []struct {
		name      string
		run       Run
		noGPU     string
		speedFrom string
	}{
		{"H200 without monitor", noGPURun(t), "no GPU monitor", "tg128"},
		{"CPU only, chat measure", Run{Models: []Model{{Result: cpuResult("smollm2", 95)}}, Complete: true},
			"NVML unavailable: libnvidia-ml.so.1 not found", "chat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range Summarize(tt.run) {
				assert.Equal(t, tt.speedFrom, r.SpeedMeasure)
				assert.True(t, r.DecodeTPS.OK())
				assert.Greater(t, r.DecodeTPS.Value, 0.0)
				for name, n := range map[string]Num{"vram": r.PeakVRAMMiB, "j/token": r.JPerToken, "roofline": r.RooflinePct, "watts": r.MeanPowerW} {
					assert.False(t, n.OK(), name)
					assert.Equal(t, tt.noGPU, n.NA, name)
					assert.Zero(t, n.Value, name)
				}
				assert.False(t, r.VRAMGB().OK())
				assert.False(t, r.Efficiency.OK())
				assert.Equal(t, RankedByTokens, r.RankedBy)
			}
		})
	}
}

func TestSummarizeCPUChat(t *testing.T) {
	r := Summarize(Run{Models: []Model{{Result: cpuResult("smollm2", 95)}}})[0]
	assert.Equal(t, "chat", r.PromptMeasure)
	assert.Equal(t, Num{Value: 1150, SD: 40}, r.PromptTPS)
	assert.Equal(t, Num{Value: 35.5, SD: 2}, r.TTFTMs)
	assert.InDelta(t, 7.9, r.ITLP99Ms.Value, 1e-12)
	assert.InDelta(t, 4.0, r.HarnessOverheadPct.Value, 1e-12)
	assert.Equal(t, Num{NA: "not measured"}, r.Accuracy)
	assert.True(t, r.QualityApplies)
}

func TestSummarizeMissingFigures(t *testing.T) {
	seen := loadResult(t, "h200", fixtureNames[0])
	unseen := loadResult(t, "h200", fixtureNames[0])
	for i := range unseen.Measures {
		unseen.Measures[i].GPU.PeakProcessMiB = nil
		unseen.Measures[i].GPU.RooflinePct = nil
		unseen.Measures[i].GPU.JPerToken = metrics.Stat{}
	}
	empty := metrics.Result{Name: "failed", Error: "load: out of memory", Meta: metrics.Metadata{GPUUnavailable: "no GPU found"}}

	rows := Summarize(Run{Models: []Model{
		{Result: seen, QualityNA: "synthetic twin"},
		{Result: unseen},
		{Result: empty},
	}})
	assert.Equal(t, "not applicable: synthetic twin", rows[0].Accuracy.NA)
	assert.False(t, rows[0].QualityApplies)
	assert.Equal(t, "no quality", rows[0].Efficiency.NA)

	assert.Equal(t, "process not seen by NVML", rows[1].PeakVRAMMiB.NA)
	assert.Equal(t, "no memory-bandwidth figure", rows[1].RooflinePct.NA)
	assert.Equal(t, "energy unavailable", rows[1].JPerToken.NA)
	assert.True(t, rows[1].MeanPowerW.OK())

	e := rows[2]
	assert.False(t, e.Complete)
	assert.Equal(t, "load: out of memory", e.Error)
	assert.Equal(t, "not loaded", e.LoadMs.NA)
	assert.Equal(t, "no generate or chat measure", e.DecodeTPS.NA)
	assert.Equal(t, "no prompt or chat measure", e.PromptTPS.NA)
	assert.Equal(t, "no GPU found", e.PeakVRAMMiB.NA)
	assert.Equal(t, 0, e.Rank)
	assert.Equal(t, "", e.RankedBy)
	assert.Equal(t, []int{1, 2, 0}, []int{rows[0].Rank, rows[1].Rank, rows[2].Rank})
}

func TestRank(t *testing.T) {
	row := func(name string, eff, tps Num) Row { return Row{Name: name, Efficiency: eff, DecodeTPS: tps} }
	tests := []struct {
		name     string
		rows     []Row
		want     []int
		rankedBy []string
	}{
		{"by efficiency", []Row{
			row("a", value(10), value(300)), row("b", value(30), value(100)), row("c", value(20), value(200)),
		}, []int{3, 1, 2}, []string{"efficiency", "efficiency", "efficiency"}},
		{"efficiency before tokens/s", []Row{
			row("fast twin", na("no quality"), value(900)), row("real", value(5), value(50)),
		}, []int{2, 1}, []string{"tokens/s", "efficiency"}},
		{"unranked last", []Row{
			row("failed", na("no tokens/s"), na("no decode rate")), row("twin", na("no quality"), value(10)),
		}, []int{0, 1}, []string{"", "tokens/s"}},
		{"ties keep the run's order", []Row{
			row("a", value(1), value(1)), row("b", value(1), value(1)),
		}, []int{1, 2}, []string{"efficiency", "efficiency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rank(tt.rows)
			var got []int
			var by []string
			for _, r := range tt.rows {
				got = append(got, r.Rank)
				by = append(by, r.RankedBy)
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.rankedBy, by)
		})
	}
}

func TestNumJSON(t *testing.T) {
	tests := []struct {
		n    Num
		json string
	}{
		{Num{Value: 333.5, SD: 3.25}, `{"value":333.5,"sd":3.25}`},
		{Num{Value: 0}, `{"value":0,"sd":0}`},
		{Num{NA: "no GPU monitor"}, `{"value":null,"na":"no GPU monitor"}`},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			b, err := json.Marshal(tt.n)
			require.NoError(t, err)
			assert.JSONEq(t, tt.json, string(b))
			var back Num
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, tt.n, back)
		})
	}
}
