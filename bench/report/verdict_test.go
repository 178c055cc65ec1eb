package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
)

func TestVerdictWithQualityAndServing(t *testing.T) {
	v := verdict(Summarize(withServing(t, h200Run(t))))
	assert.Equal(t, []string{
		"gemma-2-2b-it.Q4_K_M: fits in 3.50 GB of VRAM for one stream, serves 32 users at ≥ 10 tok/s each with TTFT p99 ≤ 1 s " +
			"(5.14 GB at that load; Poisson arrivals up to 29.30 req/s; 64 users: TTFT p99 1.45 s), and scores 7/10 on math (95% CI 0.40–0.89).",
		"phi-3-mini-4k-instruct.Q4_K_M: fits in 4.77 GB of VRAM for one stream, serves 16 users at ≥ 10 tok/s each with TTFT p99 ≤ 1 s " +
			"(6.40 GB at that load; Poisson arrivals up to 15.23 req/s; 32 users: TTFT p99 1.3 s), and scores 8/10 on math (95% CI 0.49–0.94).",
		"mistral-7b-instruct-v0.2.Q4_K_M: fits in 5.71 GB of VRAM for one stream, serves 32 users at ≥ 10 tok/s each with TTFT p99 ≤ 1 s " +
			"(7.34 GB at that load; Poisson arrivals up to 18.75 req/s; 64 users: TTFT p99 1.9 s), and scores 9/10 on math (95% CI 0.60–0.98).",
	}, v.Models)
	// Quality first, then users, then VRAM; a lead inside the intervals is said to be one.
	assert.Equal(t, "To serve users at ≥ 10 tok/s each with TTFT p99 ≤ 1 s, deploy mistral-7b-instruct-v0.2.Q4_K_M: "+
		"the best math score (9/10), serving 32 users in 7.34 GB; its lead over phi-3-mini-4k-instruct.Q4_K_M in math is within "+
		"the 95% intervals. Then: phi-3-mini-4k-instruct.Q4_K_M (16 users in 6.40 GB), gemma-2-2b-it.Q4_K_M (32 users in 5.14 GB).",
		v.Recommendation)
}

// twins gives the run's models the quality of synthetic twins: none.
func twins(run Run) Run {
	for i := range run.Models {
		run.Models[i].Quality = nil
		run.Models[i].QualityNA = "synthetic twin: random weights"
	}
	return run
}

func TestVerdictOfTwinsRanksByCapacity(t *testing.T) {
	v := verdict(Summarize(twins(withServing(t, h200Run(t)))))
	assert.True(t, strings.HasSuffix(v.Models[0], ", and its quality does not apply (synthetic twin: random weights)."), v.Models[0])
	// gemma and mistral both serve 32 users: the one that needs less VRAM for it comes first.
	assert.Equal(t, "To serve users at ≥ 10 tok/s each with TTFT p99 ≤ 1 s, deploy gemma-2-2b-it.Q4_K_M: it serves 32 users in 5.14 GB. "+
		"Quality does not apply to these models (synthetic twin: random weights), so the models are ranked by users served, then VRAM. "+
		"Then: mistral-7b-instruct-v0.2.Q4_K_M (32 users in 7.34 GB), phi-3-mini-4k-instruct.Q4_K_M (16 users in 6.40 GB).",
		v.Recommendation)
}

func TestVerdictCases(t *testing.T) {
	t.Run("serving not measured", func(t *testing.T) {
		v := verdict(Summarize(noGPURun(t)))
		assert.Equal(t, "gemma-2-2b-it.Q4_K_M: its VRAM was not measured (no GPU monitor), its serving was not measured, "+
			"and its quality does not apply (synthetic twin: random weights).", v.Models[0])
		assert.Equal(t, "phi-3-mini-4k-instruct.Q4_K_M: its VRAM was not measured (no GPU monitor), its serving was not measured, "+
			"and its math score was not measured.", v.Models[1])
		assert.Equal(t, "No recommendation under a serving target: serving was not measured.", v.Recommendation)
	})
	t.Run("one serves nobody, one has no quality", func(t *testing.T) {
		run := withServing(t, h200Run(t))
		sv := run.Models[0].Result.Serving // gemma: too slow from the first user on
		for i := range sv.Closed {
			sv.Closed[i].PerUserTPS.P10 = 8
		}
		sv.Capacity = metrics.CapacityOf(sv.Closed, sv.Open, sv.Spec.Target)
		run.Models[2].Quality = nil // mistral
		v := verdict(Summarize(run))
		assert.Contains(t, v.Models[0], "serves no user at ≥ 10 tok/s each with TTFT p99 ≤ 1 s (1 user: p10 8.0 tok/s)")
		assert.Equal(t, "To serve users at ≥ 10 tok/s each with TTFT p99 ≤ 1 s, deploy mistral-7b-instruct-v0.2.Q4_K_M: "+
			"it serves 32 users in 7.34 GB. Quality was not measured for mistral-7b-instruct-v0.2.Q4_K_M, so the models are ranked "+
			"by users served, then VRAM. Then: phi-3-mini-4k-instruct.Q4_K_M (16 users in 6.40 GB). gemma-2-2b-it.Q4_K_M serves no user so.",
			v.Recommendation)
	})
	t.Run("nobody served", func(t *testing.T) {
		run := withServing(t, h200Run(t))
		for i := range run.Models {
			sv := run.Models[i].Result.Serving
			sv.Spec.Target.TokensPerSecond = 1e6
			sv.Capacity = metrics.CapacityOf(sv.Closed, sv.Open, sv.Spec.Target)
		}
		v := verdict(Summarize(run))
		assert.Equal(t, "None of these models serves one user at ≥ 1e+06 tok/s each with TTFT p99 ≤ 1 s.", v.Recommendation)
	})
	t.Run("every level met: at least", func(t *testing.T) {
		run := withServing(t, h200Run(t))
		sv := run.Models[1].Result.Serving
		sv.Closed = sv.Closed[:3]
		sv.Capacity = metrics.CapacityOf(sv.Closed, sv.Open, sv.Spec.Target)
		assert.Contains(t, verdict(Summarize(run)).Models[1], "serves at least 4 users (the most measured) at ≥ 10 tok/s")
	})
}

func TestJoinAnd(t *testing.T) {
	assert.Equal(t, "nothing was measured", joinAnd(nil))
	assert.Equal(t, "a", joinAnd([]string{"a"}))
	assert.Equal(t, "a and b", joinAnd([]string{"a", "b"}))
	assert.Equal(t, "a, b, and c", joinAnd([]string{"a", "b", "c"}))
}

// A clause added to the list speaks in every sentence, in its place.
func TestVerdictClausesExtend(t *testing.T) {
	saved := verdictClauses
	defer func() { verdictClauses = saved }()
	verdictClauses = append(verdictClauses, func(r Row) string { return "runs on an 8 GB card" })
	v := verdict(Summarize(h200Run(t)))
	assert.True(t, strings.HasSuffix(v.Models[0], "(95% CI 0.40–0.89), and runs on an 8 GB card."), v.Models[0])
}

// The verdict ends the report in every output, and summary.json holds it.
func TestVerdictInEveryOutput(t *testing.T) {
	run := withServing(t, h200Run(t))
	v := verdict(Summarize(run))
	for name, out := range outputs(t, run) {
		t.Run(name, func(t *testing.T) {
			switch name {
			case "terminal":
				assert.True(t, strings.HasSuffix(out, "  "+v.Recommendation+"\n"), "the terminal report ends with it")
				contains(t, out, "\nVerdict\n  - "+v.Models[0]+"\n")
			case "markdown":
				assert.True(t, strings.HasSuffix(out, "**Recommendation.** "+v.Recommendation+"\n"))
				contains(t, out, "## Verdict\n\n- "+v.Models[0]+"\n")
			case "html":
				contains(t, out, `<h2 id="verdict">Verdict</h2>`)
				contains(t, out, "<li>mistral-7b-instruct-v0.2.Q4_K_M: fits in 5.71 GB")
				contains(t, out, "its lead over phi-3-mini-4k-instruct.Q4_K_M in math is within the 95% intervals.")
			case "json":
				contains(t, out, `"verdict": {`)
				contains(t, out, `"recommendation": "To serve users at ≥ 10 tok/s each`)
			}
		})
	}
	var b bytes.Buffer
	require.NoError(t, WriteMarkdown(&b, run))
	assert.Less(t, strings.Index(b.String(), "## Run"), strings.Index(b.String(), "## Verdict"), "after the last table")
}

// With fit sweeps, each sentence says how the model runs on an 8 GiB card, from its best
// placement there; a model that fits no budget up to that size says so, and a model without a
// sweep says nothing of it.
func TestVerdictOnACard(t *testing.T) {
	run := fitRun(t, true)
	run.Models[1].Result.Fit.Steps = run.Models[1].Result.Fit.Steps[:2] // phi-3: 0.5 and 4 GiB
	run.Models[1].Result.Fit.Steps[1].Plan = nil                        // and 4 GiB refused
	v := verdict(Summarize(run))
	assert.NotContains(t, v.Models[0], "card", "gemma has no fit sweep")
	assert.Contains(t, v.Models[1], ", fits no budget of its fit sweep up to an 8 GiB card, ")
	assert.Contains(t, v.Models[2], "fits in 5.71 GB of VRAM for one stream, on an 8 GiB card runs 33/33 layers on the GPU "+
		"with a 16k context and f16 KV cache at 100.0 tok/s, ")

	planned := verdict(Summarize(fitRun(t, false)))
	assert.Contains(t, planned.Models[2], "on an 8 GiB card runs 33/33 layers on the GPU with a 16k context and f16 KV cache "+
		"(no GPU: planned, not measured), ")
	rows := Summarize(run)
	require.NotNil(t, rows[2].Card)
	assert.Equal(t, uint64(VerdictCard), rows[2].Card.CardBytes)
}
