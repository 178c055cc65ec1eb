package report

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/eval"
)

func TestCells(t *testing.T) {
	tests := []struct{ got, want string }{
		{params(0), "n/a"},
		{params(134_515_008), "135M"},
		{params(7_241_732_096), "7.24B"},
		{params(999), "999"},
		{cell(na("x"), "%.1f"), "n/a"},
		{cell(value(0), "%.1f"), "0.0"}, // a measured 0 is a 0
		{cellSD(na("x"), "%.1f"), "n/a"},
		{cellSD(Num{Value: 12.345, SD: 0.5}, "%.1f"), "12.3 ± 0.5"},
		{qualityCell(Row{Accuracy: na("no questions"), QualityApplies: true}), "n/a"},
		{qualityCell(Row{Accuracy: na("not measured"), QualityApplies: true}), "not measured"},
		{qualityCell(Row{Accuracy: na("not applicable: twin")}), "not applicable"},
		{qualityCell(Row{Accuracy: value(0.875)}), "0.88"},
		{chartName("mistral-7b-instruct-v0.2.Q4_K_M"), "mistral-7b-instruct-v0.2.Q4_K_M"},
		{chartName("Meta-Llama-3.1-8B-Instruct-abliterated-uncensored.Q4_K_M"), "Meta-Llama-3.1-8B…-uncensored.Q4_K_M"},
		{options(metrics.Spec{Repetitions: 5, Warmup: 1, Threads: 2, FlashAttention: "on", KVCacheType: "q8_0", CPUOnly: true}),
			"reps 5, warmup 1, threads 2, flash on, kv q8_0, cpu only"},
		{options(metrics.Spec{Repetitions: 1, GPULayers: 12}), "reps 1, warmup 0, threads 0, flash , kv , gpu layers 12"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) { assert.Equal(t, tt.want, tt.got) })
	}
}

func TestNoQuestions(t *testing.T) {
	r := Summarize(Run{Models: []Model{{Result: cpuResult("m", 10), Quality: &eval.Report{}}}})[0]
	assert.Equal(t, "no questions", r.Accuracy.NA)
	assert.Equal(t, "no quality", r.Efficiency.NA)
}

func TestByRank(t *testing.T) {
	rows := []Row{{Name: "unranked"}, {Name: "second", Rank: 2}, {Name: "first", Rank: 1}, {Name: "also unranked"}}
	var names []string
	for _, r := range byRank(rows) {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"first", "second", "unranked", "also unranked"}, names)
	assert.Equal(t, "unranked", rows[0].Name, "the rows are left as they were")
}

func TestRunMeta(t *testing.T) {
	run := h200Run(t)
	assert.Equal(t, "NVIDIA H200", run.meta().GPUs[0].Name, "the first model's")
	run.Meta = metrics.Metadata{Timestamp: time.Unix(0, 0), Hostname: "laptop"}
	assert.Equal(t, "laptop", run.meta().Hostname)
	meta := metaTable(run)
	assert.Contains(t, meta.Rows, []string{"host", "laptop"})
	assert.Contains(t, meta.Rows, []string{"status", "complete"})
}
