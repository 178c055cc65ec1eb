package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/eval"
)

// The fixtures are results of the three reference models' synthetic twins measured on an
// NVIDIA H200 (testdata/h200), and the same without a GPU monitor (testdata/nomonitor), with
// their calls left out.
var fixtureNames = []string{
	"gemma-2-2b-it.Q4_K_M", "phi-3-mini-4k-instruct.Q4_K_M", "mistral-7b-instruct-v0.2.Q4_K_M",
}

func loadResult(t *testing.T, dir, name string) metrics.Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", dir, name+".json"))
	require.NoError(t, err)
	var r metrics.Result
	require.NoError(t, json.Unmarshal(b, &r))
	return r
}

// quality scores the ten embedded questions, answering the first correct ones right.
func quality(t *testing.T, correct int) *eval.Report {
	t.Helper()
	items, err := eval.QA()
	require.NoError(t, err)
	responses := make([]string, len(items))
	for i, it := range items {
		responses[i] = "I do not know."
		if i < correct {
			responses[i] = "The answer is " + csvFloat(it.Answer) + "."
		}
	}
	r := eval.Score(items, responses)
	return &r
}

// h200Run is the three twins on the H200 with made-up quality, as a finished run.
func h200Run(t *testing.T) Run {
	t.Helper()
	var run Run
	for i, name := range fixtureNames {
		run.Models = append(run.Models, Model{Result: loadResult(t, "h200", name), Quality: quality(t, 7+i)})
	}
	run.Complete = true
	return run
}

// noGPURun is the twins measured without a GPU monitor, the first with quality not
// applicable and the others not measured.
func noGPURun(t *testing.T) Run {
	t.Helper()
	var run Run
	for i, name := range fixtureNames {
		m := Model{Result: loadResult(t, "nomonitor", name)}
		if i == 0 {
			m.QualityNA = "synthetic twin: random weights"
		}
		run.Models = append(run.Models, m)
	}
	run.Complete = true
	return run
}

// cpuResult is a result measured without a GPU: only the chat workload, as on a laptop
// without NVML, with a chat measure whose TTFT and rates come from real prompts.
func cpuResult(name string, decode float64) metrics.Result {
	const why = "NVML unavailable: libnvidia-ml.so.1 not found"
	stat := func(mean, sd float64) metrics.Stat {
		return metrics.Stat{N: 3, Mean: mean, Stddev: sd, Min: mean - sd, Max: mean + sd, P50: mean, P90: mean + sd, P99: mean + sd}
	}
	overhead := 0.04
	return metrics.Result{
		Schema: metrics.Schema, Name: name, Complete: true,
		Spec:  metrics.Spec{Name: name, CPUOnly: true, Threads: 2, Repetitions: 3, Warmup: 1, FlashAttention: "auto", KVCacheType: "f16"},
		Model: metrics.ModelInfo{Name: name, Architecture: "llama", Params: 134515008, FileType: "Q4_1", FileBytes: 98_000_000, LayersTotal: 31, ContextSize: 4096},
		Meta:  metrics.Metadata{OS: "linux", Arch: "amd64", CPU: "Test CPU", CPUCores: 2, Threads: 2, GPUUnavailable: why},
		Load:  metrics.Load{ColdMs: 120, WarmMs: 80},
		Measures: []metrics.Measure{{
			Workload: metrics.WorkloadChat, Label: "chat", Reps: 3,
			PromptTokens: stat(40, 5), Tokens: stat(90, 20),
			TTFTMs: stat(35.5, 2), PromptTPS: stat(1150, 40), DecodeTPS: stat(decode, 1.5),
			E2EMs: stat(700, 50), ITLMs: stat(7.5, 0.4), EngineEvalTPS: stat(decode*1.04, 1),
			HarnessOverhead: &overhead, GPUUnavailable: why,
		}},
	}
}
