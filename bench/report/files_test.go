package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteFiles(t *testing.T) {
	chartFiles := []string{"efficiency.png", "latency.png", "quality.png", "radar.png", "tokens_per_second.png", "vram.png"}
	reportFiles := []string{HTMLFile, MarkdownFile, SummaryFile}
	perModel := func(suffixes ...string) []string {
		var out []string
		for _, n := range fixtureNames {
			for _, s := range suffixes {
				out = append(out, n+s)
			}
		}
		return out
	}
	interrupted := h200Run(t)
	interrupted.Complete = false
	tests := []struct {
		name  string
		run   Run
		files []string
	}{
		{"with quality", h200Run(t), perModel("_math_logs.csv", "_metrics.csv", "_quality.csv")},
		{"without quality", noGPURun(t), perModel("_metrics.csv")},
		{"interrupted", interrupted, perModel("_math_logs.csv", "_metrics.csv", "_quality.csv")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "results") // created by WriteFiles
			paths, err := WriteFiles(dir, tt.run)
			require.NoError(t, err)

			want := slices.Concat(tt.files, chartFiles, reportFiles)
			slices.Sort(want)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			var got []string
			for _, e := range entries {
				got = append(got, e.Name()) // a temporary file left behind would show here
			}
			assert.Equal(t, want, got)
			assert.Len(t, paths, len(want))
			for _, p := range paths {
				assert.Equal(t, dir, filepath.Dir(p))
				info, err := os.Stat(p)
				require.NoError(t, err)
				assert.Greater(t, info.Size(), int64(0), p)
			}

			var doc Document
			b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &doc))
			assert.Equal(t, DocumentSchema, doc.Schema)
			assert.Equal(t, tt.run.complete(), doc.Complete)
			assert.Equal(t, Summarize(tt.run), doc.Summary, "the rows survive JSON")
			require.Len(t, doc.Models, 3)
			assert.Equal(t, tt.run.Models[0].Result.Measures, doc.Models[0].Result.Measures)
			assert.Equal(t, "NVIDIA H200", doc.Meta.Devices[1].Description)

			for _, name := range tt.files {
				if strings.HasSuffix(name, "_quality.csv") {
					b, err := os.ReadFile(filepath.Join(dir, name))
					require.NoError(t, err)
					assert.Len(t, readCSV(t, string(b)), 1)
				}
				if strings.HasSuffix(name, "_math_logs.csv") {
					b, err := os.ReadFile(filepath.Join(dir, name))
					require.NoError(t, err)
					assert.Len(t, readCSV(t, string(b)), 10, "one row per question")
				}
			}
		})
	}
}

func TestWriteFilesOverwrites(t *testing.T) {
	dir := t.TempDir()
	run := h200Run(t)
	run.Complete = false
	_, err := WriteFiles(dir, run)
	require.NoError(t, err)
	run.Complete = true
	_, err = WriteFiles(dir, run)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	require.NoError(t, err)
	assert.NotContains(t, string(b), incompleteText)
}

func TestWriteFilesSameFileName(t *testing.T) {
	dir := t.TempDir()
	_, err := WriteFiles(dir, Run{Models: []Model{{Result: cpuResult("a/b", 1)}, {Result: cpuResult("a b", 1)}}})
	require.ErrorContains(t, err, `same file name "a_b"`)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing is written")
}

func TestWriteFilesUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err := WriteFiles(filepath.Join(file, "results"), h200Run(t))
	require.Error(t, err)
}
