package bench

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
)

// The serving sweep through llama.Server on a tiny model: random prompts, both loops.
func TestServeOnTinyModel(t *testing.T) {
	spec := metrics.Spec{Model: ggufttest.Tiny(t, t.TempDir(), "tiny-llama"), Threads: 1}
	sv := metrics.ServeSpec{Users: []int{1, 3}, Requests: 4, PromptTokens: 16, GenTokens: 8, RandomPrompts: true, RateFractions: []float64{1}}
	out, err := Serve(context.Background(), spec, sv, Options{})
	require.NoError(t, err)
	require.Len(t, out.Closed, 2)
	require.Len(t, out.Open, 1)
	for _, l := range append(out.Closed, out.Open...) {
		name := l.Label()
		assert.Equal(t, 4, l.Requests, name)
		assert.Zero(t, l.Errors, name)
		assert.Equal(t, map[string]int{"max_tokens": 4}, l.Stops, name)
		assert.Equal(t, 16.0, l.PromptTokens.Mean, name)
		assert.Equal(t, 8.0, l.Tokens.Min, name)
		assert.Equal(t, 4, l.TTFTMs.N, name)
		assert.Equal(t, 4, l.PerUserTPS.N, name)
		assert.Equal(t, 4*7, l.ITLMs.N, name)
		assert.Positive(t, l.OutputTPS, name)
		assert.Positive(t, l.RequestsPerS, name)
		assert.GreaterOrEqual(t, l.TTFTMs.Min, l.QueuedMs.Min, "%s: TTFT holds the wait for a sequence", name)
		assert.Equal(t, "no GPU monitor", l.GPUUnavailable)
		e := l.Engine
		assert.Positive(t, e.Steps, name)
		assert.Positive(t, e.DecodeMs, name)
		assert.Positive(t, e.EngineMs, name)
		require.NotNil(t, e.OutsideDecode, name)
		assert.GreaterOrEqual(t, *e.OutsideDecode, 0.0, name)
		assert.Less(t, *e.OutsideDecode, 1.0, name)
		assert.LessOrEqual(t, e.MaxActive, l.Sequences, name)
		assert.GreaterOrEqual(t, l.ContextSize, l.Sequences*(16+8), "%s: every sequence holds a whole request", name)
	}
	assert.Equal(t, 1, out.Closed[0].Sequences)
	assert.Equal(t, 3, out.Closed[1].Sequences)
	assert.Equal(t, out.SaturationUsers, out.Open[0].Sequences)
	assert.InDelta(t, out.SaturationRPS, out.Open[0].RateRPS, 1e-12)
	assert.Equal(t, metrics.CapacityOf(out.Closed, out.Open, out.Spec.Target), out.Capacity)
}

// The default model, real weights: the baseline prompts through its chat template.
func TestServeRealPromptsOnTheDefaultModel(t *testing.T) {
	spec := metrics.Spec{Model: defaultModel(t), Threads: 1}
	sv := metrics.ServeSpec{Users: []int{2}, Requests: 3, GenTokens: 12, ClosedOnly: true}
	out, err := Serve(context.Background(), spec, sv, Options{})
	require.NoError(t, err)
	require.Len(t, out.Closed, 1)
	l := out.Closed[0]
	assert.Equal(t, 3, l.Requests)
	assert.Zero(t, l.Errors)
	assert.Greater(t, l.PromptTokens.Min, 20.0, "a templated baseline prompt")
	assert.LessOrEqual(t, l.Tokens.Max, 12.0)
	assert.Empty(t, out.Skipped)
	assert.Empty(t, out.Open)
}
