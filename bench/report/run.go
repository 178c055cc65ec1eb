package report

import (
	"fmt"
	"time"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/eval"
)

// Model is one model's results as the report shows them.
type Model struct {
	Result metrics.Result `json:"result"`
	// Quality is the model's math evaluation; nil when there is none.
	Quality *eval.Report `json:"quality,omitempty"`
	// QualityNA says why quality does not apply to the model ("synthetic twin: random
	// weights"), when Quality is nil. Empty with a nil Quality means it was not measured.
	QualityNA string `json:"quality_na,omitempty"`
}

// Run is what a report covers: the models in the order measured, and whether the run
// finished.
type Run struct {
	Models []Model
	// Complete is false when the run stopped early (Ctrl-C, a failure); the report is then
	// marked INCOMPLETE. It is marked so too when any model's result is incomplete.
	Complete bool
	// Missing lists what was not measured, for the reader ("mistral-7b: not started").
	Missing []string
	// Meta describes the machine; when its Timestamp is zero, the first model's is used.
	Meta metrics.Metadata
	// Generated is when the report was made; zero means now.
	Generated time.Time
}

// complete reports whether the run and every model's result finished.
func (r Run) complete() bool {
	if !r.Complete {
		return false
	}
	for _, m := range r.Models {
		if !m.Result.Complete {
			return false
		}
	}
	return true
}

// Unfinished lists what the run did not finish: Missing, then each incomplete result with its
// error.
func (r Run) Unfinished() []string {
	out := append([]string(nil), r.Missing...)
	for _, m := range r.Models {
		if m.Result.Complete {
			continue
		}
		why := m.Result.Error
		if why == "" {
			why = "stopped before the end"
		}
		out = append(out, fmt.Sprintf("%s: incomplete: %s", m.Result.Name, why))
	}
	return out
}

func (r Run) meta() metrics.Metadata {
	if r.Meta.Timestamp.IsZero() && len(r.Models) > 0 {
		return r.Models[0].Result.Meta
	}
	return r.Meta
}

// timeLayout is how the report writes a time.
const timeLayout = "2006-01-02 15:04:05 MST"

// generated is Generated, or now when it is zero; a writer that shows it more than once pins
// it first (run.Generated = run.generated()), so that the page shows one time.
func (r Run) generated() time.Time {
	if r.Generated.IsZero() {
		return time.Now().UTC()
	}
	return r.Generated
}
