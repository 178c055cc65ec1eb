package data

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFilesAreJSON(t *testing.T) {
	for name, content := range map[string]string{
		"qa_math_eval.json":     QAMathEval,
		"prompts_baseline.json": PromptsBaseline,
	} {
		t.Run(name, func(t *testing.T) {
			assert.NotEmpty(t, content)
			assert.True(t, json.Valid([]byte(content)), "%s is valid JSON", name)
		})
	}
}
