package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/gguf/ggufttest"
)

// The whole check on two tiny models on the CPU: it runs, says what ran it, and its exit
// status follows its targets.
func TestServecheckOnTinyModels(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	models := ggufttest.Tiny(t, dir, "tiny-llama") + "," + ggufttest.Tiny(t, dir, "tiny-gemma2")
	var stdout, stderr bytes.Buffer
	code, err := run(context.Background(), []string{"-models", models, "-streams", "3,2", "-prompt", "16", "-gen", "8", "-threads", "1", "-out", out}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	failed := false
	for _, id := range []string{"tiny-llama", "tiny-gemma2"} {
		data, err := os.ReadFile(filepath.Join(out, id+"_servecheck.json"))
		require.NoError(t, err)
		var ch Check
		require.NoError(t, json.Unmarshal(data, &ch))
		assert.Equal(t, id, ch.Model)
		assert.Contains(t, ch.Device, "CPU", "no GPU here")
		require.Len(t, ch.Agreement, 2)
		for i, a := range ch.Agreement {
			assert.Equal(t, []int{2, 3}[i], a.Streams)
			assert.Equal(t, a.Streams, a.Match+len(a.FirstDiff), "every stream matches or differs somewhere")
			for _, d := range a.FirstDiff {
				assert.GreaterOrEqual(t, d, 0)
				assert.LessOrEqual(t, d, 8)
			}
		}
		assert.Equal(t, 3, ch.Streams)
		assert.Positive(t, ch.OneStreamTPS)
		// The aggregate rate is timed at the callbacks, over the span in which every stream
		// had tokens; on a loaded machine a stream's tokens may all reach its caller after
		// another's last, and the span is empty (0). The streams decoded together regardless.
		assert.GreaterOrEqual(t, ch.BatchTPS, 0.0)
		assert.InDelta(t, ch.BatchTPS/ch.OneStreamTPS, ch.Speedup, 1e-9)
		assert.GreaterOrEqual(t, ch.Outside, 0.0)
		assert.Less(t, ch.Outside, 1.0)
		assert.Equal(t, 3, ch.Stats.Requests)
		assert.Equal(t, 3, ch.Stats.MaxActive)
		wantFail := ch.Speedup < 6 || ch.Outside > 0.05
		assert.Equal(t, wantFail, len(ch.Failures) > 0, "%v", ch.Failures)
		failed = failed || wantFail
		assert.Contains(t, stdout.String(), id)
	}
	assert.Equal(t, map[bool]int{false: 0, true: 2}[failed], code)
	assert.Contains(t, stdout.String(), "no GPU: these are not GPU figures")
	assert.Contains(t, stdout.String(), "targets: N streams ≥ 6× one stream's decode tok/s; outside llama_decode ≤ 5.0% at N = 3")
}

func TestFirstDiffAndAgreement(t *testing.T) {
	assert.Equal(t, -1, firstDiff([]int32{1, 2, 3}, []int32{1, 2, 3}))
	assert.Equal(t, 1, firstDiff([]int32{1, 2, 3}, []int32{1, 5, 3}))
	assert.Equal(t, 2, firstDiff([]int32{1, 2, 3}, []int32{1, 2}), "one ended first")
	a := agreement([][]int32{{1, 2}, {3, 4}, {5, 6}}, [][]int32{{1, 2}, {3, 9}, {7, 6}})
	assert.Equal(t, Agreement{Streams: 3, Match: 1, FirstDiff: []int{0, 1}}, a)
}

// timer returns a timer that started at 0 and saw tokens at the given milliseconds.
func timer(stamps ...int) *metrics.TokenTimer {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	tm := metrics.NewTokenTimer(len(stamps))
	tm.Clock = func() time.Time {
		d := stamps[len(stamps)-1] + 1
		if i < len(stamps) {
			d = stamps[i]
		}
		i++
		return base.Add(time.Duration(d) * time.Millisecond)
	}
	tm.StartAt(base)
	for range stamps {
		tm.Token()
	}
	tm.Stop()
	return tm
}

func TestDecodeTPS(t *testing.T) {
	// One stream: 4 intervals in 40 ms.
	assert.InDelta(t, 100, decodeTPS([]*metrics.TokenTimer{timer(10, 20, 30, 40, 50)}), 1e-9)
	// Two streams: all of them decode from 30 ms (the second's first token) to 60 ms (the
	// first's last); in [30, 60) the first got 30, 40, 50 and the second 30, 40, 50: 6 in 30 ms.
	assert.InDelta(t, 200, decodeTPS([]*metrics.TokenTimer{timer(10, 20, 30, 40, 50, 60), timer(30, 40, 50, 60, 70)}), 1e-9)
	// No overlap, or a stream without a decode rate: none.
	assert.Zero(t, decodeTPS([]*metrics.TokenTimer{timer(10, 20), timer(30, 40)}))
	assert.Zero(t, decodeTPS([]*metrics.TokenTimer{timer(10, 20), timer(15)}))
}

func TestFlagErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no models":  {},
		"one stream": {"-models", "x", "-streams", "1"},
		"bad list":   {"-models", "x", "-streams", "2,y"},
		"gen":        {"-models", "x", "-gen", "1"},
		"stray":      {"-models", "x", "y"},
	} {
		_, err := parseFlags(args, &bytes.Buffer{})
		assert.Error(t, err, name)
	}
	var stderr bytes.Buffer
	code, err := run(context.Background(), []string{"-models", filepath.Join(t.TempDir(), "none.gguf"), "-streams", "2"}, &bytes.Buffer{}, &stderr)
	assert.Equal(t, 1, code)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "none.gguf"), err.Error())
}
