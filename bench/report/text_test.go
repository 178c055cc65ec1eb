package report

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// textWriters are the outputs a person reads as text.
var textWriters = []struct {
	name  string
	write func(io.Writer, Run) error
}{
	{"terminal", WriteTerminal},
	{"markdown", WriteMarkdown},
}

// generated is a fixed report time, so that outputs compare.
var generated = time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)

func TestTextOutputs(t *testing.T) {
	h200 := h200Run(t)
	h200.Generated = generated
	nogpu := noGPURun(t)
	nogpu.Generated = generated
	tests := []struct {
		name    string
		run     Run
		want    []string
		notWant []string
	}{
		{"H200", h200, []string{
			"gemma-2-2b-it.Q4_K_M", "phi-3-mini-4k-instruct.Q4_K_M", "mistral-7b-instruct-v0.2.Q4_K_M",
			"333.8 ± 3.2", "305.3 ± 2.6", "249.8 ± 1.6", // decode tok/s
			"3334", "4550", "5448", // peak VRAM MiB
			"3.50", "4.77", "5.71", // VRAM GB
			"11.8%", "15.2%", "22.7%", // roofline
			"0.992", "1.190", "1.855", // J/token
			"16760", "1056", "3.06", "3.12", "2.7%",
			"0.70", "0.40–0.89", "0.90", "0.60–0.98",
			"66.8", "51.2", "39.4", // efficiency
			"2.61B", "Q4_K_M", "NVIDIA H200", "580.159.04", "ec98e2002", "measured on tg128",
		}, []string{incompleteText, naText}},
		{"without GPU", nogpu, []string{
			"328.4 ± 0.7", "not applicable", "not measured",
			"peak VRAM, J/token, roofline n/a: no GPU monitor (all models)",
			"quality not applicable: synthetic twin: random weights (gemma-2-2b-it.Q4_K_M)",
			"efficiency n/a: no quality (all models)",
		}, []string{incompleteText}},
	}
	for _, w := range textWriters {
		for _, tt := range tests {
			t.Run(w.name+"/"+tt.name, func(t *testing.T) {
				var b bytes.Buffer
				require.NoError(t, w.write(&b, tt.run))
				out := b.String()
				for _, s := range tt.want {
					contains(t, out, s)
				}
				for _, s := range tt.notWant {
					assert.False(t, strings.Contains(out, s), "unexpected %q", s)
				}
			})
		}
	}
}

// TestNoGPUNeverZero checks that the no-GPU figures read n/a in the tables, not 0.
func TestNoGPUNeverZero(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteMarkdown(&b, noGPURun(t)))
	rows := tableRows(t, b.String(), "Speed and memory")
	require.Len(t, rows, 3)
	for _, r := range rows {
		// model, load, TTFT, prompt, decode, ITL, VRAM, J/token, roofline, overhead
		assert.Equal(t, []string{naText, naText, naText, naText}, []string{r[3], r[6], r[7], r[8]}, r[0])
	}
	rows = tableRows(t, b.String(), "Summary")
	for _, r := range rows {
		assert.Equal(t, naText, r[4], "VRAM GB of "+r[0])
		assert.Equal(t, naText, r[6], "efficiency of "+r[0])
	}
}

// tableRows reads the body of the Markdown table under the heading "## title".
func tableRows(t *testing.T, md, title string) [][]string {
	t.Helper()
	_, after, ok := strings.Cut(md, "## "+title+"\n\n")
	require.True(t, ok, title)
	var rows [][]string
	for i, line := range strings.Split(after, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		if i < 2 { // header and alignment
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		rows = append(rows, cells)
	}
	return rows
}

func TestIncompleteMarked(t *testing.T) {
	interrupted := h200Run(t)
	interrupted.Complete = false
	interrupted.Missing = []string{"mistral-7b-instruct-v0.2.Q4_K_M: quality not measured"}

	failedModel := h200Run(t) // the run finished, one model did not
	failedModel.Models[2].Result.Complete = false
	failedModel.Models[2].Result.Error = "tg128: context canceled"

	tests := []struct {
		name string
		run  Run
		want []string
	}{
		{"interrupted", interrupted, []string{"mistral-7b-instruct-v0.2.Q4_K_M: quality not measured"}},
		{"a model failed", failedModel, []string{
			"mistral-7b-instruct-v0.2.Q4_K_M: incomplete: tg128: context canceled",
			"mistral-7b-instruct-v0.2.Q4_K_M (incomplete)",
		}},
	}
	for _, tt := range tests {
		for name, out := range outputs(t, tt.run) {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				if name == "json" {
					assert.Contains(t, out, `"complete": false`)
				} else {
					assert.Regexp(t, regexp.MustCompile(`(?m)^(\*\*\* |> \*\*|<title>.*)?`+incompleteText), out)
				}
				for _, s := range tt.want {
					if name == "json" && strings.HasSuffix(s, "(incomplete)") {
						continue // a table cell
					}
					contains(t, out, s)
				}
			})
		}
	}
}

// outputs renders run in every format: the text writers', "json" and "html".
func outputs(t *testing.T, run Run) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, w := range textWriters {
		var b bytes.Buffer
		require.NoError(t, w.write(&b, run))
		out[w.name] = b.String()
	}
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, run))
	out["json"] = b.String()
	b.Reset()
	require.NoError(t, WriteHTML(&b, run))
	out["html"] = b.String()
	return out
}

// contains is assert.Contains without printing the whole output on failure.
func contains(t *testing.T, out, s string) {
	t.Helper()
	assert.True(t, strings.Contains(out, s), "missing %q", s)
}

func TestTerminalBannerFirst(t *testing.T) {
	run := noGPURun(t)
	run.Complete = false
	var b bytes.Buffer
	require.NoError(t, WriteTerminal(&b, run))
	first, _, _ := strings.Cut(b.String(), "\n")
	assert.True(t, strings.HasPrefix(first, "*** INCOMPLETE: "), first)
}

func TestMarkdownTables(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteMarkdown(&b, h200Run(t)))
	md := b.String()
	for _, c := range charts {
		contains(t, md, "]("+c.name+".png)")
	}
	for _, title := range []string{"Summary", "Speed and memory", "Quality (math)", "Models"} {
		assert.Len(t, tableRows(t, md, title), 3, title)
	}
	assert.GreaterOrEqual(t, len(tableRows(t, md, "Run")), 10)
	contains(t, md, "| model | load ms | TTFT ms | prompt tok/s | decode tok/s | ITL p99 ms | peak VRAM MiB | J/token | roofline | overhead |")
	contains(t, md, "| gemma-2-2b-it.Q4_K_M | 2.61B | Q4_K_M | 333.8 | 3.50 | 0.70 | 66.8 | 1 |")
	contains(t, md, `CPU : SSE3 = 1 \| SSSE3 = 1`) // a | in a cell does not end it
}
