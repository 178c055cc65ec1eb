package bench

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/eval"
	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
	"github.com/local-llm-bench/llmbench/llama"
	"github.com/local-llm-bench/llmbench/models"
)

func defaultModel(t testing.TB) string {
	t.Helper()
	p := models.DefaultModelPath()
	if _, err := os.Stat(p); err != nil {
		t.Skipf("default model %s not present (make models fetches it): %v", p, err)
	}
	return p
}

func TestRunOnTinyModel(t *testing.T) {
	spec := metrics.Spec{Model: ggufttest.Tiny(t, t.TempDir(), "tiny-gemma2"), Repetitions: 2, PromptTokens: 64, GenTokens: 16, Depths: []int{0, 128, 100000}, ChatPrompts: 2, ChatMaxTokens: 8}
	res, err := Run(context.Background(), spec, Options{})
	require.NoError(t, err)
	assert.True(t, res.Complete)
	assert.Equal(t, "gemma2", res.Model.Architecture)
	assert.Len(t, res.Model.SHA256, 64)
	assert.Positive(t, res.Load.ColdMs)
	assert.Positive(t, res.Load.WarmMs)
	assert.Equal(t, 512, res.Model.ContextSize, "the training context caps the session")
	assert.Contains(t, res.Skipped[0], "depth 100000")
	if res.RSSUnavailable == "" {
		assert.Greater(t, res.PeakRSSBytes, uint64(res.Model.FileBytes), "the model's file is mapped and read")
	} else {
		t.Logf("no peak resident memory on this system: %s", res.RSSUnavailable)
	}

	for _, label := range []string{"pp64", "tg16", "tg16@d128", "chat"} {
		m := res.Measure(label)
		require.NotNil(t, m, label)
		assert.Equal(t, label == "chat", m.Reps == 4, label)
		assert.Equal(t, "no GPU monitor", m.GPUUnavailable)
	}
	pp := res.Measure("pp64")
	assert.Equal(t, 64.0, pp.PromptTokens.Mean)
	assert.Positive(t, pp.PromptTPS.Mean)
	assert.Positive(t, pp.EnginePromptTPS.Mean)
	require.NotNil(t, pp.PromptOverhead)

	tg := res.Measure("tg16")
	assert.Equal(t, 16.0, tg.Tokens.Mean)
	assert.Positive(t, tg.DecodeTPS.Mean)
	assert.Positive(t, tg.EngineEvalTPS.Mean)
	assert.Positive(t, tg.TTFTMs.Mean)
	require.NotNil(t, tg.HarnessOverhead)
	assert.Less(t, *tg.HarnessOverhead, 1.0)
	assert.Equal(t, 2*15, tg.ITLMs.N)
	assert.Equal(t, 1.0, res.Measure("tg16@d128").PromptTokens.P50, "one token after the prefilled depth")
}

func TestChatterAnswersTheMathQuestionsOnTheDefaultModel(t *testing.T) {
	m, err := LoadLlama(defaultModel(t))
	require.NoError(t, err)
	defer m.Close()
	s, err := m.NewSession(llama.WithContextSize(2048))
	require.NoError(t, err)
	defer s.Close()
	items, err := eval.QA()
	require.NoError(t, err)
	require.Len(t, items, 10)
	rep, err := eval.Run(context.Background(), Chatter(m, s), items, eval.RunOptions{MaxTokens: 192})
	require.NoError(t, err)
	// The score itself is the model's (SmolLM2-135M may get none right); the summary's
	// arithmetic is checked on known rows in package eval. What is checked here is the Chatter.
	assert.Equal(t, 10, rep.Total)
	require.Len(t, rep.Rows, 10)
	for i, row := range rep.Rows {
		assert.Equal(t, items[i].ID, row.ID)
		assert.NotEmpty(t, row.Response, row.ID)
		assert.Positive(t, row.Tokens, row.ID)
		assert.LessOrEqual(t, row.Tokens, 192, "%s: the reply keeps to MaxTokens", row.ID)
		assert.Positive(t, row.Latency, row.ID)
		assert.NotEmpty(t, row.Method, row.ID)
	}
	// Greedy decoding after a reset: the first question asked again, after nine other chats on
	// the same session, gets the same reply.
	again, err := eval.Run(context.Background(), Chatter(m, s), items[:1], eval.RunOptions{MaxTokens: 192})
	require.NoError(t, err)
	require.Len(t, again.Rows, 1)
	assert.Equal(t, rep.Rows[0].Response, again.Rows[0].Response)
	assert.Equal(t, rep.Rows[0].Tokens, again.Rows[0].Tokens)
	t.Logf("SmolLM2-135M on the 10 questions: %d/10 correct, 95%% CI [%.2f, %.2f]", rep.Correct, rep.CI95Low, rep.CI95High)
}

// The serving sweep on the default model, small: two closed-loop levels and one arrival rate,
// with the baseline prompts through the chat template. Each level decodes its users together,
// and the server's account of the window agrees with what the users got.
func TestServeOnTheDefaultModel(t *testing.T) {
	spec := metrics.Spec{Model: defaultModel(t), Threads: 1}
	sv := metrics.ServeSpec{Users: []int{1, 2}, Requests: 3, GenTokens: 8, Rates: []float64{4},
		Target: metrics.ServeTarget{TTFTP99Ms: 60000, TokensPerSecond: 0.1}}
	out, err := Serve(context.Background(), spec, sv, Options{})
	require.NoError(t, err)
	require.Len(t, out.Closed, 2)
	require.Len(t, out.Open, 1)
	for _, l := range append(slices.Clone(out.Closed), out.Open...) {
		assert.Equal(t, 3, l.Requests, l.Label())
		assert.Zero(t, l.Errors, l.Label())
		assert.Greater(t, l.PromptTokens.Min, 10.0, "%s: the chat template wraps each prompt", l.Label())
		assert.LessOrEqual(t, l.Tokens.Max, 8.0, l.Label())
		assert.Greater(t, l.OutputTPS, 0.0, l.Label())
		assert.Greater(t, l.Engine.Steps, 0, l.Label())
		assert.Greater(t, l.Engine.DecodeMs, 0.0, l.Label())
		if assert.NotNil(t, l.Engine.OutsideDecode, l.Label()) {
			assert.GreaterOrEqual(t, *l.Engine.OutsideDecode, 0.0, l.Label())
			assert.Less(t, *l.Engine.OutsideDecode, 1.0, l.Label())
		}
	}
	for _, l := range out.Closed {
		assert.Equal(t, l.Users, l.Sequences, l.Label())
		assert.LessOrEqual(t, l.Engine.MaxActive, l.Users, l.Label())
	}
	assert.Equal(t, 4.0, out.Open[0].RateRPS)
	assert.Equal(t, 2, out.Capacity.Users, "a target this loose is met at every level")
}
