package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/bench/report"
	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
	"github.com/local-llm-bench/llmbench/llama"
)

// serveArgs is a short sweep: two levels, a few requests, one open-loop rate.
var serveArgs = []string{"-quick", "-quality=false", "-serve", "-serve-users", "1,2", "-serve-requests", "3", "-serve-gen", "8",
	"-serve-prompt", "16", "-serve-random", "-slo-ttft", "30s", "-slo-tps", "0.5"}

func TestServeAddsTheSweepToTheReport(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results")
	model := ggufttest.Tiny(t, dir, "tiny-llama")
	var stdout, stderr bytes.Buffer
	code, err := run(context.Background(), append([]string{"-models", model, "-out", out, "-serve-rates", "2"}, serveArgs...), &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Equal(t, 0, code)

	// The progress names the level under way.
	for _, s := range []string{"tiny-llama: serve 1 user warmup", "tiny-llama: serve 2 users warmup", "tiny-llama: serve 2 req/s warmup",
		"tiny-llama: serve 2 users " + bar(3, 3) + " requests"} {
		assert.Contains(t, stderr.String(), s)
	}
	// The capacity in the summary, the tables and the verdict on the terminal.
	memory := "tiny-llama: runs on the CPU in " // the peak RSS, as in the summary
	if llama.HasGPU() {
		memory = "tiny-llama: fits in "
	}
	for _, s := range []string{"users @ target", "Serving: closed loop (N users)", "Serving: open loop (Poisson arrivals)", "Verdict",
		memory, "To serve users at ≥ 0.5 tok/s each with TTFT p99 ≤ 30 s, deploy tiny-llama"} {
		assert.Contains(t, stdout.String(), s)
	}

	res := readResult(t, filepath.Join(out, "tiny-llama.json"))
	require.NotNil(t, res.Serving)
	assert.True(t, res.Complete)
	sv := res.Serving
	require.Len(t, sv.Closed, 2)
	require.Len(t, sv.Open, 1)
	assert.Equal(t, 2.0, sv.Open[0].RateRPS, "the rate asked for")
	assert.Equal(t, metrics.ServeTarget{TTFTP99Ms: 30000, TokensPerSecond: 0.5}, sv.Spec.Target)
	assert.True(t, sv.Spec.RandomPrompts)
	assert.Equal(t, 16, sv.Spec.PromptTokens)
	for _, l := range sv.Closed {
		assert.Equal(t, 3, l.Requests)
		assert.Equal(t, 8.0, l.Tokens.P50)
	}
	assert.Equal(t, metrics.CapacityOf(sv.Closed, sv.Open, sv.Spec.Target), sv.Capacity)

	f, err := os.Open(filepath.Join(out, "tiny-llama_serving.csv"))
	require.NoError(t, err)
	defer f.Close()
	lines, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	assert.Len(t, lines, 1+2+1, "the header, two closed-loop levels, one rate")
	for _, c := range []string{"serving_tokens_per_second.png", "serving_ttft.png"} {
		st, err := os.Stat(filepath.Join(out, c))
		require.NoError(t, err, c)
		assert.Positive(t, st.Size())
	}
	data, err := os.ReadFile(filepath.Join(out, report.SummaryFile))
	require.NoError(t, err)
	var doc report.Document
	require.NoError(t, json.Unmarshal(data, &doc))
	require.NotNil(t, doc.Summary[0].Serving)
	assert.Equal(t, sv.Capacity.Users, doc.Summary[0].Serving.Users)
	assert.Len(t, doc.Verdict.Models, 1)
	md, err := os.ReadFile(filepath.Join(out, report.MarkdownFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "## Verdict")

}

// -resume keeps a result that holds what is asked: its serving, when -serve asks for it.
func TestResumeWithServe(t *testing.T) {
	with := report.Model{Result: metrics.Result{Serving: &metrics.Serving{}}}
	without := report.Model{}
	serve := serveConfig{on: true}
	assert.True(t, serve.covers(with))
	assert.False(t, serve.covers(without), "measured again")
	assert.True(t, serveConfig{}.covers(without), "no -serve: kept")
}

// A stop during the sweep keeps the levels measured and marks the model incomplete.
func TestServeStoppedKeepsTheLevelsMeasured(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results")
	stop := make(chan struct{})
	close(stop)
	c, err := parseFlags(append([]string{"-out", out}, serveArgs...), &bytes.Buffer{})
	require.NoError(t, err)
	var res metrics.Result
	res.Complete = true
	err = serveModel(context.Background(), c, target{name: "tiny", path: ggufttest.Tiny(t, dir, "tiny-llama")}, nil, stop, newProgress(&bytes.Buffer{}), &res)
	require.Error(t, err)
	assert.False(t, res.Complete)
	assert.True(t, strings.HasPrefix(res.Error, "serve: "), res.Error)
	require.NotNil(t, res.Serving, "what was measured is kept")
	assert.Empty(t, res.Serving.Closed)
}

func TestServeFlags(t *testing.T) {
	c, err := parseFlags([]string{"-serve", "-serve-users", "4,1", "-serve-rates", "0.5,2", "-slo-ttft", "250ms", "-slo-tps", "20"}, &bytes.Buffer{})
	require.NoError(t, err)
	s := serveSpecFor(c, target{})
	assert.Equal(t, []int{4, 1}, s.Users)
	assert.Equal(t, []float64{0.5, 2}, s.Rates)
	assert.Equal(t, metrics.ServeTarget{TTFTP99Ms: 250, TokensPerSecond: 20}, s.Target)
	assert.False(t, s.RandomPrompts, "real models get the baseline prompts")
	assert.True(t, serveSpecFor(c, target{synthetic: true}).RandomPrompts, "twins get random ones")

	c, err = parseFlags([]string{"-quick", "-serve"}, &bytes.Buffer{})
	require.NoError(t, err)
	s = serveSpecFor(c, target{})
	assert.Equal(t, metrics.ServeSpec{Users: []int{1, 2, 4}, Requests: 8, PromptTokens: 64, GenTokens: 32, RateFractions: []float64{0.5, 1},
		Target: metrics.ServeTarget{TTFTP99Ms: 1000, TokensPerSecond: 10}}, s)
	assert.Equal(t, time.Second, c.serve.sloTTFT)
	c, err = parseFlags([]string{"-serve", "-serve-rates", "none"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.True(t, serveSpecFor(c, target{}).ClosedOnly, "-serve-rates none: no open loop")

	for name, args := range map[string][]string{
		"users":    {"-serve-users", "1,x"},
		"no users": {"-serve-users", "0"},
		"rates":    {"-serve-rates", "-1"},
		"slo tps":  {"-slo-tps", "0"},
		"slo ttft": {"-slo-ttft", "0s"},
		"requests": {"-serve-requests", "-2"},
	} {
		_, err := parseFlags(args, &bytes.Buffer{})
		assert.Error(t, err, name)
	}
}
