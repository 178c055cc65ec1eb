package report_test

import (
	"fmt"
	"os"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/bench/report"
	"github.com/local-llm-bench/llmbench/eval"
)

func ExampleSummarize() {
	tg := metrics.Measure{
		Workload: metrics.WorkloadGenerate, Label: "tg128", Reps: 2,
		DecodeTPS: metrics.Summarize([]float64{38, 40}),
		TTFTMs:    metrics.Summarize([]float64{25, 27}),
		GPU:       &metrics.GPUMeasure{PeakProcessMiB: &metrics.Stat{N: 2, Mean: 2098, Max: 2098}},
	}
	run := report.Run{
		Models: []report.Model{
			{Result: metrics.Result{Name: "phi-3-mini", Complete: true, Measures: []metrics.Measure{tg}},
				Quality: &eval.Report{Correct: 9, Total: 10, Accuracy: 0.9}},
			{Result: metrics.Result{Name: "phi-3-mini twin", Complete: true, Measures: []metrics.Measure{tg}},
				QualityNA: "synthetic twin: random weights"},
		},
		Complete: true,
	}
	for _, r := range report.Summarize(run) {
		fmt.Printf("%s: %.1f tok/s, %.2f GB, efficiency %s, rank %d by %s\n",
			r.Name, r.DecodeTPS.Value, r.VRAMGB().Value, efficiency(r.Efficiency), r.Rank, r.RankedBy)
	}
	// Output:
	// phi-3-mini: 39.0 tok/s, 2.20 GB, efficiency 15.96, rank 1 by efficiency
	// phi-3-mini twin: 39.0 tok/s, 2.20 GB, efficiency n/a (no quality), rank 2 by tokens/s
}

func efficiency(n report.Num) string {
	if !n.OK() {
		return "n/a (" + n.NA + ")"
	}
	return fmt.Sprintf("%.2f", n.Value)
}

// A program that measured some models prints the tables and writes the files, marking the
// report incomplete when it was interrupted.
func ExampleWriteFiles() {
	var models []report.Model // one per model measured, with its quality when there is one
	run := report.Run{Models: models, Complete: true}
	if err := report.WriteTerminal(os.Stdout, run); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	paths, err := report.WriteFiles("results", run)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	fmt.Println(len(paths), "files written")
}
