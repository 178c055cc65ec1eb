// Package data holds the prompts and math questions written for this project, embedded so that
// programs and tests find them without a path on disk. Each file is one exported string; the
// packages that use a file parse it (eval.QA reads QAMathEval).
package data

import _ "embed" // for the //go:embed directives below

// QAMathEval is the content of qa_math_eval.json: the ten basic math questions with objective
// numeric answers that measure a model's quality. It is a JSON array of objects with the keys
// "id", "question", "answer" (a number) and "category".
//
//go:embed qa_math_eval.json
var QAMathEval string

// PromptsBaseline is the content of prompts_baseline.json: neutral everyday prompts in English
// and Portuguese for the chat workload. It is a JSON object whose "prompts" array holds objects
// with the keys "id", "lang" and "text".
//
//go:embed prompts_baseline.json
var PromptsBaseline string
