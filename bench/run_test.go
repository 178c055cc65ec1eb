package bench

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/eval"
)

func quickSpec(model string) metrics.Spec {
	return metrics.Spec{Model: model, Repetitions: 3, Warmup: 1, PromptTokens: 64, GenTokens: 16, Depths: []int{0, 1024, 4096}, ChatPrompts: 2, ChatMaxTokens: 32, SkipHash: true}
}

func TestRunWithFakeEngine(t *testing.T) {
	m := newFakeModel()
	mon := &fakeMonitor{gpus: []metrics.GPUInfo{{Index: 0, Name: "Fake H100", DriverVersion: "580", CUDAVersion: "13.0", PeakBandwidthBytesPerSec: 4 << 30}}}
	var events []Event
	res, err := Run(context.Background(), quickSpec("fake.gguf"), Options{Loader: fakeLoader(m), Monitor: mon, Progress: func(e Event) { events = append(events, e) }})
	require.NoError(t, err)
	assert.True(t, res.Complete)
	assert.Equal(t, metrics.Schema, res.Schema)
	assert.Equal(t, "fake", res.Name)
	assert.Equal(t, 2, m.closed, "the cold load is closed, then the warm one at the end")
	require.Len(t, m.sessions, 1)
	s := m.sessions[0]
	assert.True(t, s.closed)

	labels := []string{}
	for _, me := range res.Measures {
		labels = append(labels, me.Label)
	}
	assert.Equal(t, []string{"pp64", "tg16", "tg16@d1024", "chat"}, labels)
	assert.Len(t, res.Skipped, 1, "depth 4096 does not fit in a 2048 context")
	assert.Contains(t, res.Skipped[0], "depth 4096")

	// 1 warmup + 3 repetitions of each, every call after a reset.
	pp := res.Measure("pp64")
	require.NotNil(t, pp)
	assert.Equal(t, 3, pp.Reps)
	assert.Len(t, pp.Calls, 3)
	assert.Equal(t, 64.0, pp.PromptTokens.Mean)
	assert.InDelta(t, 800, pp.PromptTPS.Mean, 1e-6)
	assert.InDelta(t, 1000, pp.EnginePromptTPS.Mean, 1e-6)
	require.NotNil(t, pp.PromptOverhead)
	assert.InDelta(t, 0.2, *pp.PromptOverhead, 1e-9)
	assert.Nil(t, pp.GPU.RooflinePct, "prompt processing has no bandwidth roofline")
	assert.InDelta(t, 1.0, pp.GPU.JPerToken.Mean, 1e-9, "64 J over 64 prompt tokens")

	tg := res.Measure("tg16")
	require.NotNil(t, tg)
	assert.Equal(t, 16.0, tg.Tokens.Mean)
	assert.InDelta(t, 500, tg.EngineEvalTPS.Mean, 1e-6, "15 evals in 30 ms")
	assert.Positive(t, tg.DecodeTPS.Mean)
	require.NotNil(t, tg.HarnessOverhead)
	assert.Equal(t, 15*3, tg.ITLMs.N, "the intervals of all repetitions are pooled")
	assert.Equal(t, 15, tg.Calls[0].ITL.N)
	require.NotNil(t, tg.GPU)
	require.NotNil(t, tg.GPU.PeakProcessMiB)
	assert.Equal(t, 3, tg.GPU.PeakProcessMiB.N)
	assert.InDelta(t, 4.0, tg.GPU.JPerToken.Mean, 1e-9, "64 J over 16 tokens")
	require.NotNil(t, tg.GPU.RooflinePct)
	var roof []float64
	for _, c := range tg.Calls {
		roof = append(roof, 100*float64(1<<30)*c.DecodeTPS/float64(4<<30))
	}
	assert.InDelta(t, metrics.Summarize(roof).Mean, tg.GPU.RooflinePct.Mean, 1e-9)
	assert.Equal(t, "counter", tg.GPU.EnergyMethod)

	d := res.Measure("tg16@d1024")
	require.NotNil(t, d)
	assert.Equal(t, 1024, d.Depth)
	assert.Equal(t, metrics.WorkloadDepth, d.Workload)

	chat := res.Measure("chat")
	require.NotNil(t, chat)
	assert.Equal(t, 2*3, chat.Reps, "two prompts, three repetitions")
	require.Len(t, res.Chat, 2)
	assert.Equal(t, "en-hash-table", res.Chat[0].ID)
	assert.Equal(t, 3, res.Chat[0].E2EMs.N)
	assert.NotEmpty(t, res.Chat[0].Reply)
	assert.Equal(t, map[string]int{"eog": 3}, res.Chat[0].Stops)

	// Monitored: every measured call, never a warmup.
	assert.Equal(t, 3*3+2*3, mon.probes)
	// Resets: every call of every workload, warmups included (chat warms up on one prompt).
	assert.Equal(t, 4+4+4+(1+6), s.resets)
	assert.Equal(t, []int{64, 64, 64, 64, 1024, 1024, 1024, 1024}, s.prefills)

	assert.Equal(t, "Fake H100", res.Meta.GPUs[0].Name)
	assert.Equal(t, "580", res.Meta.Driver)
	assert.NotEmpty(t, res.Meta.GoVersion)
	assert.NotEmpty(t, events)
	assert.Equal(t, "load", events[0].Label)

	// JSON round trip: no NaN or Inf can sneak in.
	data, err := json.Marshal(res)
	require.NoError(t, err)
	var back metrics.Result
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, res.Measures[1].DecodeTPS, back.Measures[1].DecodeTPS)
}

func TestRunWithoutMonitorSaysGPUUnavailable(t *testing.T) {
	m := newFakeModel()
	spec := quickSpec("fake.gguf")
	spec.Workloads = []metrics.Workload{metrics.WorkloadGenerate}
	res, err := Run(context.Background(), spec, Options{Loader: fakeLoader(m)})
	require.NoError(t, err)
	tg := res.Measure("tg16")
	require.NotNil(t, tg)
	assert.Nil(t, tg.GPU)
	assert.Equal(t, "no GPU monitor", tg.GPUUnavailable)

	m.info.GPU = false
	res, err = Run(context.Background(), spec, Options{Loader: fakeLoader(m), Monitor: &fakeMonitor{gpus: []metrics.GPUInfo{{Name: "x"}}}})
	require.NoError(t, err)
	assert.Equal(t, "the model runs on the CPU", res.Measure("tg16").GPUUnavailable)

	res, err = Run(context.Background(), spec, Options{Loader: fakeLoader(m), Monitor: &fakeMonitor{err: os.ErrNotExist}})
	require.NoError(t, err)
	assert.Contains(t, res.Measure("tg16").GPUUnavailable, "not exist")
}

func TestRunCancelledKeepsWhatFinished(t *testing.T) {
	m := newFakeModel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m.cancel, m.cancelAt = cancel, 3
	res, err := Run(ctx, quickSpec("fake.gguf"), Options{Loader: fakeLoader(m)})
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, res.Complete)
	assert.NotEmpty(t, res.Error)
	assert.NotNil(t, res.Measure("tg16"), "finished workloads are kept")
	assert.Nil(t, res.Measure("chat"))
	assert.Equal(t, 2, m.closed, "the model is closed on the way out")
}

func TestStopFinishesTheCallUnderWay(t *testing.T) {
	m := newFakeModel()
	stop := make(chan struct{})
	calls := 0
	progress := func(e Event) {
		if e.Label == "tg16" {
			calls++
			if calls == 2 {
				close(stop) // during the second call of tg16: it finishes, no third starts
			}
		}
	}
	spec := quickSpec("fake.gguf")
	spec.Workloads = []metrics.Workload{metrics.WorkloadPrompt, metrics.WorkloadGenerate, metrics.WorkloadChat}
	res, err := Run(context.Background(), spec, Options{Loader: fakeLoader(m), Progress: progress, Stop: stop})
	require.ErrorIs(t, err, ErrStopped)
	assert.False(t, res.Complete)
	assert.NotNil(t, res.Measure("pp64"))
	tg := res.Measure("tg16")
	require.NotNil(t, tg, "the repetitions done are kept")
	assert.Equal(t, 1, tg.Reps, "the warmup, then the repetition under way when Stop closed, which finished")
	assert.Contains(t, res.Skipped, "tg16: stopped after 1 of 3 repetitions")
	assert.Equal(t, 2, calls)
	assert.Equal(t, 2, m.closed)
}

func TestRunErrors(t *testing.T) {
	m := newFakeModel()
	_, err := Run(context.Background(), metrics.Spec{}, Options{Loader: fakeLoader(m)})
	require.ErrorContains(t, err, "no model")
	_, err = Run(context.Background(), metrics.Spec{Model: "missing.gguf"}, Options{Loader: fakeLoader(m)})
	require.ErrorContains(t, err, "no such file")
	for name, spec := range map[string]metrics.Spec{
		"workload":    {Model: "x", Workloads: []metrics.Workload{"dance"}},
		"repetitions": {Model: "x", Repetitions: -1},
		"gen tokens":  {Model: "x", GenTokens: 1},
		"flash":       {Model: "x", FlashAttention: "sometimes"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Run(context.Background(), spec, Options{Loader: fakeLoader(m)})
			require.Error(t, err)
		})
	}
	m.failChatAt = 2
	spec := quickSpec("fake.gguf")
	spec.Workloads = []metrics.Workload{metrics.WorkloadChat}
	res, err := Run(context.Background(), spec, Options{Loader: fakeLoader(m)})
	require.ErrorContains(t, err, "scripted failure")
	assert.False(t, res.Complete)
}

func TestSpecContext(t *testing.T) {
	s, err := withDefaults(metrics.Spec{Model: "m"})
	require.NoError(t, err)
	assert.Equal(t, 4096+128+1, contextFor(s, 32768))
	assert.Equal(t, 4096, contextFor(s, 4096))
	s.ContextSize = 1000
	assert.Equal(t, 1000, contextFor(s, 4096))
	s, err = withDefaults(metrics.Spec{Model: "m", Workloads: []metrics.Workload{metrics.WorkloadChat}})
	require.NoError(t, err)
	assert.Equal(t, 4096, contextFor(s, 0))
	assert.Equal(t, 1, s.Warmup)
	s, err = withDefaults(metrics.Spec{Model: "m", Warmup: -1})
	require.NoError(t, err)
	assert.Equal(t, 0, s.Warmup)
}

func TestPlainChatForBaseModels(t *testing.T) {
	got := plainChat([]eval.Message{
		{Role: eval.RoleSystem, Content: "Be brief."},
		{Role: eval.RoleUser, Content: "1+1?"},
		{Role: eval.RoleAssistant, Content: "The answer is 2."},
		{Role: eval.RoleUser, Content: "2+2?"},
	})
	assert.Equal(t, "Be brief.\n\nQuestion: 1+1?\nAnswer: The answer is 2.\n\nQuestion: 2+2?\nAnswer:", got)
}
