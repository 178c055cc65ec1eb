package report

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/eval"
)

// Names of the files WriteFiles writes besides each model's and each chart's.
const (
	SummaryFile  = "summary.json"
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
)

// WriteFiles writes every file of the report into dir, creating it, and returns their paths:
// for each model <model>_metrics.csv (WriteMetricsCSV), when its serving was measured
// <model>_serving.csv (WriteServingCSV), <model>_fit.csv when it has a fit sweep
// (WriteFitCSV), and when it has quality
// <model>_math_logs.csv and <model>_quality.csv (eval.WriteLogsCSV, eval.WriteQualityCSV),
// where <model> is metrics.FileName of the model's name; then summary.json (WriteJSON),
// report.md (WriteMarkdown), the charts as <chart>.png (tokens_per_second, vram, latency,
// quality, radar, efficiency, serving_tokens_per_second and serving_ttft when a model's
// serving was measured, and fit_tokens_per_second for a run with fit sweeps) and
// report.html (WriteHTML). Each file is written atomically
// (metrics.WriteFileAtomic), so that an interrupted write leaves the old file or the new one.
// Two models whose names give the same file name are an error, found before anything is
// written.
func WriteFiles(dir string, run Run) ([]string, error) {
	run.Generated = run.generated() // the same time in every file
	rows := Summarize(run)

	type file struct {
		name string
		data []byte
	}
	var files []file
	add := func(name string, write func(*bytes.Buffer) error) error {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			return fmt.Errorf("report %s: %w", name, err)
		}
		files = append(files, file{name, b.Bytes()})
		return nil
	}

	seen := map[string]string{}
	for _, m := range run.Models {
		stem := metrics.FileName(m.Result.Name)
		if other, ok := seen[stem]; ok {
			return nil, fmt.Errorf("report: models %q and %q have the same file name %q", other, m.Result.Name, stem)
		}
		seen[stem] = m.Result.Name
		if err := add(stem+"_metrics.csv", func(b *bytes.Buffer) error { return WriteMetricsCSV(b, m.Result) }); err != nil {
			return nil, err
		}
		if m.Result.Serving != nil {
			if err := add(stem+"_serving.csv", func(b *bytes.Buffer) error { return WriteServingCSV(b, m.Result) }); err != nil {
				return nil, err
			}
		}
		if m.Result.Fit != nil {
			if err := add(stem+"_fit.csv", func(b *bytes.Buffer) error { return WriteFitCSV(b, m.Result) }); err != nil {
				return nil, err
			}
		}
		if m.Quality == nil {
			continue
		}
		if err := add(stem+"_math_logs.csv", func(b *bytes.Buffer) error { return eval.WriteLogsCSV(b, *m.Quality) }); err != nil {
			return nil, err
		}
		if err := add(stem+"_quality.csv", func(b *bytes.Buffer) error {
			return eval.WriteQualityCSV(b, m.Result.Name, *m.Quality)
		}); err != nil {
			return nil, err
		}
	}
	if err := add(SummaryFile, func(b *bytes.Buffer) error { return writeJSON(b, newDocument(run, rows)) }); err != nil {
		return nil, err
	}
	if err := add(MarkdownFile, func(b *bytes.Buffer) error { return writeMarkdown(b, run, rows) }); err != nil {
		return nil, err
	}
	pngs, err := renderCharts(run, rows)
	if err != nil {
		return nil, err
	}
	for i, c := range reportCharts(run, rows) {
		files = append(files, file{c.name + ".png", pngs[i]})
	}
	if err := add(HTMLFile, func(b *bytes.Buffer) error { return writeHTML(b, run, rows, pngs) }); err != nil {
		return nil, err
	}

	paths := make([]string, 0, len(files))
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := metrics.WriteFileAtomic(p, f.data); err != nil {
			return paths, fmt.Errorf("report: %w", err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
