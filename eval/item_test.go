package eval

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQA(t *testing.T) {
	items, err := QA()
	require.NoError(t, err)
	require.Len(t, items, 10)
	for _, it := range items {
		assert.NotEmpty(t, it.ID)
		assert.NotEmpty(t, it.Question)
		assert.NotEmpty(t, it.Category)
		assert.Equal(t, QASource, it.Source)
	}
	items[0].Question = "changed"
	again, err := QA()
	require.NoError(t, err)
	assert.NotEqual(t, "changed", again[0].Question, "each call returns a fresh slice")
}

// TestQAAnswers solves the ten questions again, one by one, from their wording.
func TestQAAnswers(t *testing.T) {
	items, err := QA()
	require.NoError(t, err)
	want := map[string]float64{
		"qa-01": 17*24 - 96/8,
		"qa-02": 80 - 80*15/100.0,
		"qa-03": 156 * 3 / 4,
		"qa-04": 3.5 * 60,
		"qa-05": 72 * (2 + 15/60.0),
		"qa-06": 40, // s = son: 4s + 20 = 2(s + 20) gives s = 10, Marta 4s
		"qa-07": 4*2.75 + 3*1.40,
		"qa-08": 12 * 7.5,
		"qa-09": (14 + 22 + 37 + 51) / 4.0,
		"qa-10": -7 + 12 - 9,
	}
	require.Len(t, items, len(want))
	for _, it := range items {
		t.Run(it.ID, func(t *testing.T) {
			w, ok := want[it.ID]
			require.True(t, ok)
			assert.True(t, Equal(it.Answer, w), "%s: %v, want %v", it.Question, it.Answer, w)
		})
	}
	s := 10.0
	assert.Equal(t, 4*s+20, 2*(s+20), "qa-06's son is 10")
}

// TestShotsAreNotItems keeps the worked examples apart from every question they prompt for.
func TestShotsAreNotItems(t *testing.T) {
	items, err := QA()
	require.NoError(t, err)
	items = append(items, Arithmetic(200, 1)...)
	items = append(items, WordProblems(200, 1)...)
	for _, s := range DefaultShots() {
		for _, it := range items {
			assert.NotEqual(t, it.Question, s.Question)
		}
		e := Extract(s.Reply)
		assert.Equal(t, MethodAnswerIs, e.Method, "a shot shows the form the instruction asks for")
	}
}

func TestParseItems(t *testing.T) {
	tests := []struct {
		name, json string
		err        string
	}{
		{"ok", `[{"id":"a","question":"q?","answer":0.5,"category":"c"}]`, ""},
		{"not json", `{`, "invalid data"},
		{"no id", `[{"question":"q?","answer":1}]`, "item 0 has no id"},
		{"repeated id", `[{"id":"a","question":"q?","answer":1},{"id":"a","question":"r?","answer":2}]`, `id "a" repeated`},
		{"no question", `[{"id":"a","answer":1}]`, "item a has no question"},
		{"no answer", `[{"id":"a","question":"q?"}]`, "item a has no answer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, err := parseItems([]byte(tc.json))
			if tc.err == "" {
				require.NoError(t, err)
				assert.Equal(t, []Item{{ID: "a", Question: "q?", Answer: 0.5, Category: "c"}}, items)
				return
			}
			require.ErrorIs(t, err, ErrInvalidData)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}
