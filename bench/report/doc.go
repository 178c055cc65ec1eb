// Package report renders the results of a comparison of models for a person to read and for
// programs to load: tables for a terminal, Markdown, one self-contained HTML page, CSV and JSON
// files, and PNG charts (tokens/s, VRAM, latency, quality, a radar of the trade-offs, and
// efficiency). A run with fit sweeps (bench.RunFit) adds the "fits on" table of models ×
// VRAM budgets ([FitRows]), its chart of tok/s against the budget, a <model>_fit.csv per model,
// and [BestFit], the best placement of a model on a card of a given size.
//
// Every output is drawn from the same summary rows ([Summarize]), so that a number reads the
// same everywhere. A figure that was not measured is never shown as 0: it is "n/a", with the
// reason the result gives (no GPU monitor, no GPU samples, a model without quality because it
// is a synthetic twin). A run that stopped early is marked INCOMPLETE in every output, with
// what is missing.
//
// A typical use, after the models were measured:
//
//	run := report.Run{Models: models, Complete: ctx.Err() == nil, Generated: time.Now()}
//	if err := report.WriteTerminal(os.Stdout, run); err != nil { ... }
//	paths, err := report.WriteFiles("results", run)
package report
