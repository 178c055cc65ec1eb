// Package eval measures how well a model answers math questions with objective numeric
// answers: datasets (the ten embedded questions of data/qa_math_eval.json and reproducible
// generated sets), extraction of the final number from a free-form reply, scoring with a 95%
// Wilson interval, per-question logs as CSV, and a runner that asks the questions through a
// small [Chatter] interface, so that the package needs no cgo and is tested in pure Go.
//
// A typical run:
//
//	items, err := eval.QA()
//	// handle err
//	items = append(items, eval.WordProblems(100, 1)...)
//	report, err := eval.Run(ctx, chatter, items, eval.RunOptions{})
//	// handle err, then eval.WriteLogsCSV and eval.WriteQualityCSV
package eval
