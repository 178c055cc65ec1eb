package metrics

import (
	"encoding/json"
	"fmt"

	"github.com/local-llm-bench/llmbench/data"
)

// Prompt is one request of the chat workload.
type Prompt struct {
	ID   string `json:"id"`
	Lang string `json:"lang"`
	Text string `json:"text"`
}

// BaselinePrompts returns the project's neutral prompts (data/prompts_baseline.json), in
// English and Portuguese.
func BaselinePrompts() ([]Prompt, error) {
	var f struct {
		Prompts []Prompt `json:"prompts"`
	}
	if err := json.Unmarshal([]byte(data.PromptsBaseline), &f); err != nil {
		return nil, fmt.Errorf("baseline prompts: %w", err)
	}
	if len(f.Prompts) == 0 {
		return nil, fmt.Errorf("baseline prompts: none")
	}
	return f.Prompts, nil
}
