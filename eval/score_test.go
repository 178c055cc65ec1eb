package eval

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEqual(t *testing.T) {
	tests := []struct {
		name          string
		expected, got float64
		want          bool
	}{
		{"integer exact", 42, 42, true},
		{"integer off by a hair", 42, 42.0000001, false},
		{"integer off by one", 42, 41, false},
		{"negative integer", -4, -4, true},
		{"decimal exact", 15.2, 15.2, true},
		{"decimal float rounding", 0.3, 0.1 + 0.2, true},
		{"decimal relative", 1234.56, 1234.56 * (1 + 5e-7), true},
		{"decimal outside relative", 1234.56, 1234.56 * (1 + 5e-6), false},
		{"decimal rounded by the model", 2.25, 2.3, false},
		{"small decimal absolute", 1e-10, 5e-10, true},
		{"zero", 0, 0, true},
		{"nan", math.NaN(), math.NaN(), false},
		{"nan got", 1.5, math.NaN(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Equal(tc.expected, tc.got))
		})
	}
}

var scoreItems = []Item{
	{ID: "a", Question: "What is 6 × 7?", Answer: 42, Category: "arithmetic"},
	{ID: "b", Question: "What is 10% of 50?", Answer: 5, Category: "percentage"},
	{ID: "c", Question: "How many hours is 135 minutes?", Answer: 2.25, Category: "unit-conversion"},
	{ID: "d", Question: "What is 2 + 2?", Answer: 4, Category: "arithmetic"},
}

func TestScore(t *testing.T) {
	r := Score(scoreItems, []string{
		"6 × 7 = 42",
		"The answer is 6.",
		"135 minutes is **2.25 hours**.",
		"I don't know.",
	})
	require.Len(t, r.Rows, 4)
	assert.Equal(t, 2, r.Correct)
	assert.Equal(t, 4, r.Total)
	assert.Equal(t, 3, r.Found)
	assert.InDelta(t, 0.5, r.Accuracy, 1e-15)
	low, high := Wilson(2, 4)
	assert.InDelta(t, low, r.CI95Low, 1e-15)
	assert.InDelta(t, high, r.CI95High, 1e-15)

	want := []Row{
		{ID: "a", Category: "arithmetic", Question: "What is 6 × 7?", Expected: 42, Response: "6 × 7 = 42", Extracted: 42, Found: true, Method: MethodEquals, Correct: true},
		{ID: "b", Category: "percentage", Question: "What is 10% of 50?", Expected: 5, Response: "The answer is 6.", Extracted: 6, Found: true, Method: MethodAnswerIs},
		{ID: "c", Category: "unit-conversion", Question: "How many hours is 135 minutes?", Expected: 2.25, Response: "135 minutes is **2.25 hours**.", Extracted: 2.25, Found: true, Method: MethodBold, Correct: true},
		{ID: "d", Category: "arithmetic", Question: "What is 2 + 2?", Expected: 4, Response: "I don't know.", Method: MethodNone},
	}
	assert.Equal(t, want, r.Rows)
}

func TestScoreMismatchedLengths(t *testing.T) {
	r := Score(scoreItems[:2], []string{"42"})
	require.Len(t, r.Rows, 2)
	assert.Equal(t, 1, r.Correct)
	assert.Equal(t, MethodNone, r.Rows[1].Method, "a missing response is unanswered")

	r = Score(scoreItems[:1], []string{"42", "extra"})
	assert.Len(t, r.Rows, 1)
}

func TestSummarize(t *testing.T) {
	empty := Summarize(nil)
	assert.Zero(t, empty.Total)
	assert.Zero(t, empty.Accuracy)
	assert.Zero(t, empty.MeanLatency)
	assert.Zero(t, empty.CI95Low)
	assert.Equal(t, 1.0, empty.CI95High)

	// Ten rows: the first seven right, the first nine with a number found; row i took
	// (i+1) × 100 ms and 3(i+1) tokens.
	rows := make([]Row, 10)
	for i := range rows {
		rows[i] = Row{ID: fmt.Sprint(i), Correct: i < 7, Found: i < 9,
			Latency: time.Duration(i+1) * 100 * time.Millisecond, Tokens: 3 * (i + 1)}
	}
	r := Summarize(rows)
	assert.Equal(t, rows, r.Rows)
	assert.Equal(t, 7, r.Correct)
	assert.Equal(t, 10, r.Total)
	assert.Equal(t, 9, r.Found)
	assert.InDelta(t, 0.7, r.Accuracy, 1e-15)
	// 7/10 solved by hand from the quadratic (p̂-p)² = z²p(1-p)/n, z = 1.959964:
	// 1.384146 p² − 1.784146 p + 0.49 = 0 gives p = 0.396778 and 0.892209.
	assert.InDelta(t, 0.396778, r.CI95Low, 5e-7)
	assert.InDelta(t, 0.892209, r.CI95High, 5e-7)
	assert.Equal(t, 550*time.Millisecond, r.MeanLatency, "(100 + 200 + … + 1000 ms) / 10")
	assert.InDelta(t, 16.5, r.MeanTokens, 1e-15, "(3 + 6 + … + 30) / 10")
}

func TestReportJSON(t *testing.T) {
	r := Score(scoreItems[:1], []string{"The answer is 42."})
	r.Rows[0].Latency = 1500 * time.Millisecond
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"rows", "correct", "total", "found", "accuracy", "ci95_low", "ci95_high", "mean_latency_ns", "mean_tokens"} {
		assert.Contains(t, m, k)
	}
	row := m["rows"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "category", "question", "expected", "response", "extracted", "found", "method", "correct", "latency_ns", "tokens"} {
		assert.Contains(t, row, k)
	}
	assert.Equal(t, "answer-is", row["method"])
	assert.InDelta(t, 1.5e9, row["latency_ns"], 0)
}

func TestWriteLogsCSV(t *testing.T) {
	r := Score(scoreItems, []string{"6 × 7 = 42", "The answer is 6.", "**2.25**", "no idea, \"sorry\",\nreally"})
	r.Rows[0].Latency, r.Rows[0].Tokens = 1250*time.Millisecond, 17
	var buf bytes.Buffer
	require.NoError(t, WriteLogsCSV(&buf, r))
	recs, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 5)
	assert.Equal(t, []string{"id", "category", "question", "expected", "response", "extracted", "found", "method", "correct", "latency_s", "tokens"}, recs[0])
	assert.Equal(t, []string{"a", "arithmetic", "What is 6 × 7?", "42", "6 × 7 = 42", "42", "true", "equals", "true", "1.25", "17"}, recs[1])
	assert.Equal(t, []string{"c", "unit-conversion", "How many hours is 135 minutes?", "2.25", "**2.25**", "2.25", "true", "bold", "true", "0", "0"}, recs[3])
	assert.Equal(t, []string{"d", "arithmetic", "What is 2 + 2?", "4", "no idea, \"sorry\",\nreally", "", "false", "none", "false", "0", "0"}, recs[4])
}

func TestWriteQualityCSV(t *testing.T) {
	r := Score(scoreItems, []string{"42", "5", "2.25", "3"})
	r.MeanLatency, r.MeanTokens = 2*time.Second, 12.5
	var buf bytes.Buffer
	require.NoError(t, WriteQualityCSV(&buf, "phi-3-mini", r))
	recs, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{
		{"model", "correct", "total", "accuracy", "ci95_low", "ci95_high", "found", "mean_latency_s", "mean_tokens"},
		{"phi-3-mini", "3", "4", "0.75", "0.300642", "0.954413", "4", "2", "12.5"},
	}, recs)
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

var errWrite = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errWrite
	}
	w.n -= len(p)
	return len(p), nil
}

func TestCSVWriteErrors(t *testing.T) {
	r := Score(scoreItems, []string{"42"})
	require.ErrorIs(t, WriteLogsCSV(&failWriter{}, r), errWrite)
	require.ErrorIs(t, WriteQualityCSV(&failWriter{}, "m", r), errWrite)
}
