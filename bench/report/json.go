package report

import (
	"encoding/json"
	"io"
	"time"

	"github.com/local-llm-bench/llmbench/bench/metrics"
)

// DocumentSchema identifies the layout of Document in JSON; it changes when a field changes
// meaning.
const DocumentSchema = "llmbench/report/v1"

// Document is the content of summary.json: the summary rows, the run's state and metadata,
// the verdict, and every model's full result and quality report.
type Document struct {
	Schema    string           `json:"schema"`
	Generated time.Time        `json:"generated"`
	Complete  bool             `json:"complete"`
	Missing   []string         `json:"missing,omitempty"`
	Meta      metrics.Metadata `json:"meta"`
	Summary   []Row            `json:"summary"`
	Verdict   Verdict          `json:"verdict"`
	Models    []Model          `json:"models"`
	// Fit is the "fits on" table: every model's fit sweep, step by step (FitRows).
	Fit []FitRow `json:"fit,omitempty"`
}

func newDocument(run Run, rows []Row) Document {
	return Document{
		Schema:    DocumentSchema,
		Generated: run.generated(),
		Complete:  run.complete(),
		Missing:   run.Unfinished(),
		Meta:      run.meta(),
		Summary:   rows,
		Verdict:   verdict(rows),
		Models:    run.Models,
		Fit:       FitRows(run),
	}
}

// WriteJSON writes the run's Document as indented JSON, the summary.json file.
func WriteJSON(w io.Writer, run Run) error {
	return writeJSON(w, newDocument(run, Summarize(run)))
}

func writeJSON(w io.Writer, d Document) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}
