// Package metrics holds what a benchmark measured, as values: the spec of a run, its result
// per model (measures, calls, statistics, metadata, GPU figures, fit sweeps), the token timer
// that every measurement of generated tokens goes through, and the writing of results to
// files. It is
// pure Go, with no cgo below it, so that the report, saved results and their tools build
// with CGO_ENABLED=0; package bench fills these values by running models through llama.
package metrics
