package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/bench/report"
	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
)

// TestMain lets the test binary double as the program: with COMPARE_MAIN set it runs compare
// with the arguments after "--"; with COMPARE_INTERRUPT_AT set it does so too, interrupting
// itself at the progress line that starts with that text (see interrupter), so that a test can
// stop a real process at a known point.
func TestMain(m *testing.M) {
	at := os.Getenv("COMPARE_INTERRUPT_AT")
	if at == "" && os.Getenv("COMPARE_MAIN") == "" {
		os.Exit(m.Run())
	}
	for i, a := range os.Args {
		if a == "--" {
			os.Args = append([]string{"compare"}, os.Args[i+1:]...)
			break
		}
	}
	if at == "" {
		main()
		return
	}
	stderr := &interrupter{w: os.Stderr, at: at, handled: make(chan struct{})}
	code, err := run(context.Background(), os.Args[1:], os.Stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "compare:", err)
	}
	os.Exit(code)
}

// interrupter passes what compare writes to stderr on to w. The write of the first line that
// starts with at (a progress line, written just before a measurement starts) sends this
// process SIGINT and returns only once compare has taken the signal, which it says in a line
// of its own. The signal thus lands while that measurement is under way, however fast the
// machine.
type interrupter struct {
	w       io.Writer
	at      string
	sent    atomic.Bool
	handled chan struct{}
	once    sync.Once
}

func (i *interrupter) Write(p []byte) (int, error) {
	n, err := i.w.Write(p)
	line := string(p)
	if strings.Contains(line, "stopping after the measurement under way") {
		i.once.Do(func() { close(i.handled) })
	}
	if strings.HasPrefix(line, i.at) && i.sent.CompareAndSwap(false, true) {
		self, ferr := os.FindProcess(os.Getpid())
		if ferr == nil {
			ferr = self.Signal(os.Interrupt)
		}
		if ferr != nil {
			return n, ferr
		}
		<-i.handled
	}
	return n, err
}

func TestQuickRunWritesTheWholeReport(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results")
	models := ggufttest.Tiny(t, dir, "tiny-llama") + "," + ggufttest.Tiny(t, dir, "tiny-gemma2")
	var stdout, stderr bytes.Buffer
	code, err := run(context.Background(), []string{"-models", models, "-quick", "-out", out}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Equal(t, 0, code)
	for _, want := range []string{"Summary", "Speed and memory", "Quality (math)", "tiny-llama", "tiny-gemma2", "report.html"} {
		assert.Contains(t, stdout.String(), want)
	}
	for _, f := range []string{"report.html", "report.md", "summary.json", "tokens_per_second.png", "vram.png", "latency.png",
		"quality.png", "radar.png", "efficiency.png", "tiny-llama_metrics.csv", "tiny-llama_math_logs.csv",
		"tiny-llama_quality.csv", "tiny-gemma2_metrics.csv", "tiny-llama.json", "tiny-gemma2.json"} {
		st, err := os.Stat(filepath.Join(out, f))
		if assert.NoError(t, err, f) {
			assert.Positive(t, st.Size(), f)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	assert.NotContains(t, string(md), "INCOMPLETE")

	// -resume keeps both models instead of measuring them again.
	stdout.Reset()
	stderr.Reset()
	code, err = run(context.Background(), []string{"-models", models, "-quick", "-out", out, "-resume"}, &stdout, &stderr)
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Equal(t, 2, strings.Count(stderr.String(), "kept from"), stderr.String())
	assert.NotContains(t, stderr.String(), "loading")
}

func TestCatalogModelsMissingAreDownloaded(t *testing.T) {
	dir := t.TempDir()
	model, err := os.ReadFile(ggufttest.Tiny(t, dir, "tiny-gemma2"))
	require.NoError(t, err)
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		if r.Header.Get("Authorization") != "Bearer test-token" {
			http.Error(w, "gated", http.StatusUnauthorized)
			return
		}
		http.ServeContent(w, r, "m.gguf", time.Time{}, bytes.NewReader(model))
	}))
	defer srv.Close()
	t.Setenv("HF_ENDPOINT", srv.URL)
	t.Setenv("HF_TOKEN", "test-token")
	t.Setenv("LLMBENCH_MODELS", filepath.Join(dir, "models"))
	out := filepath.Join(dir, "results")
	var stdout, stderr bytes.Buffer
	code, err := run(context.Background(), []string{"-models", "gemma-2-2b-it", "-quick", "-quality=false", "-out", out}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Equal(t, 0, code)
	assert.Equal(t, []string{"/bartowski/gemma-2-2b-it-GGUF/resolve/main/gemma-2-2b-it-Q4_K_M.gguf"}, paths)
	assert.FileExists(t, filepath.Join(dir, "models", "gemma-2-2b-it-Q4_K_M.gguf"))
	assert.FileExists(t, filepath.Join(out, "gemma-2-2b-it_metrics.csv"))
	assert.Contains(t, stderr.String(), "downloading")
	assert.NotContains(t, stdout.String()+stderr.String(), "test-token")
}

func TestInterruptKeepsFinishedModelsAndMarksTheReport(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results")
	models := strings.Join([]string{ggufttest.Tiny(t, dir, "tiny-phi3"), ggufttest.Tiny(t, dir, "tiny-llama"), ggufttest.Tiny(t, dir, "tiny-gemma2")}, ",")
	// SIGINT lands during the first timed prompt run of the second model.
	at := "tiny-llama: pp128 " + bar(1, 2)
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "-models", models, "-quick", "-out", out, "-quality=false")
	cmd.Env = append(os.Environ(), "COMPARE_INTERRUPT_AT="+at)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, stderr.String())
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, stderr.String(), at)
	assert.Contains(t, stderr.String(), "stopping after the measurement under way")
	assert.Contains(t, stderr.String(), "incomplete")

	// The model measured before the signal is kept whole.
	first := readResult(t, filepath.Join(out, "tiny-phi3.json"))
	assert.True(t, first.Complete)
	assert.Equal(t, []string{"pp128", "tg32", "chat"}, labels(first))
	// The one under way keeps the measurement that was running, and nothing after it.
	second := readResult(t, filepath.Join(out, "tiny-llama.json"))
	assert.False(t, second.Complete)
	assert.Equal(t, []string{"pp128"}, labels(second))
	assert.Equal(t, 1, second.Measure("pp128").Reps)
	assert.Contains(t, second.Skipped, "pp128: stopped after 1 of 2 repetitions")
	// The next one never starts.
	assert.NoFileExists(t, filepath.Join(out, "tiny-gemma2.json"))
	assert.Contains(t, stderr.String(), "tiny-gemma2: not started")
	assert.NotContains(t, stderr.String(), "tiny-gemma2: loading")

	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "INCOMPLETE")
	for _, f := range []string{"tiny-phi3_metrics.csv", "report.html", "summary.json"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasSuffix(e.Name(), ".tmp"), "half-written file left: %s", e.Name())
	}
	assert.Contains(t, stdout.String(), "INCOMPLETE")
}

func TestAFailingModelIsRecordedAndTheNextOneRuns(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "results")
	bad := filepath.Join(dir, "broken.gguf")
	require.NoError(t, os.WriteFile(bad, []byte("GGUF but not much else"), 0o644))
	models := ggufttest.Tiny(t, dir, "tiny-llama") + "," + bad + "," + ggufttest.Tiny(t, dir, "tiny-gemma2")
	var stdout, stderr bytes.Buffer
	code, err := run(context.Background(), []string{"-models", models, "-quick", "-quality=false", "-out", out}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	require.ErrorContains(t, err, "broken: incomplete")
	assert.Contains(t, stderr.String(), "compare: broken: ")
	for name, complete := range map[string]bool{"tiny-llama": true, "broken": false, "tiny-gemma2": true} {
		data, err := os.ReadFile(filepath.Join(out, name+".json"))
		require.NoError(t, err, name)
		var m report.Model
		require.NoError(t, json.Unmarshal(data, &m), name)
		assert.Equal(t, complete, m.Result.Complete, name)
		assert.Equal(t, complete, m.Result.Error == "", name)
	}
	assert.FileExists(t, filepath.Join(out, "tiny-gemma2_metrics.csv"), "the model after the failure was measured")
}

// readResult reads the results of one model that compare wrote.
func readResult(t *testing.T, path string) metrics.Result {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var m report.Model
	require.NoError(t, json.Unmarshal(data, &m))
	return m.Result
}

// labels lists the labels of res's measures, in order.
func labels(res metrics.Result) []string {
	var out []string
	for _, m := range res.Measures {
		out = append(out, m.Label)
	}
	return out
}

func TestFlagErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"both sets":     {"-synthetic", "-models", "x"},
		"negative reps": {"-reps", "-1"},
		"stray":         {"stray"},
		"missing model": {"-models", filepath.Join(t.TempDir(), "none.gguf")},
		"unknown id":    {"-models", "gpt-5"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code, err := run(context.Background(), args, &stdout, &stderr)
			assert.Equal(t, 1, code)
			assert.Error(t, err)
		})
	}
}
