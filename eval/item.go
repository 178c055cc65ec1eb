package eval

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/local-llm-bench/llmbench/data"
)

// Item is one question with its exact numeric answer.
type Item struct {
	// ID is unique within a set: "qa-01", "arith-1-001", "word-1-001".
	ID string `json:"id"`
	// Question is the text put to the model.
	Question string `json:"question"`
	// Answer is the expected value; see [Equal] for how a reply's number is compared with it.
	Answer float64 `json:"answer"`
	// Category says what kind of question it is: "arithmetic", "percentage", "price", "rate",
	// "unit-conversion", "age", "fraction", "geometry", "average" or "signed-numbers".
	Category string `json:"category"`
	// Source names the set: "qa_math_eval" or a generator with its seed ("arithmetic seed=1").
	Source string `json:"source"`
}

// ErrInvalidData reports a dataset that cannot be used: bad JSON, a missing id, question or
// answer, or a repeated id.
var ErrInvalidData = errors.New("invalid data")

// QASource is the Source of the items that [QA] returns.
const QASource = "qa_math_eval"

// QA returns the ten basic math questions of data/qa_math_eval.json, embedded in the binary.
// Each call returns a fresh slice.
func QA() ([]Item, error) {
	items, err := parseItems([]byte(data.QAMathEval))
	if err != nil {
		return nil, fmt.Errorf("read qa_math_eval.json: %w", err)
	}
	for i := range items {
		items[i].Source = QASource
	}
	return items, nil
}

// parseItems decodes a JSON array of items and checks that each is usable.
func parseItems(b []byte) ([]Item, error) {
	// Answer is a pointer so that a missing answer is not read as 0.
	var raw []struct {
		ID       string   `json:"id"`
		Question string   `json:"question"`
		Answer   *float64 `json:"answer"`
		Category string   `json:"category"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidData, err)
	}
	items := make([]Item, len(raw))
	seen := make(map[string]bool, len(raw))
	for i, r := range raw {
		switch {
		case r.ID == "":
			return nil, fmt.Errorf("%w: item %d has no id", ErrInvalidData, i)
		case seen[r.ID]:
			return nil, fmt.Errorf("%w: id %q repeated", ErrInvalidData, r.ID)
		case r.Question == "":
			return nil, fmt.Errorf("%w: item %s has no question", ErrInvalidData, r.ID)
		case r.Answer == nil:
			return nil, fmt.Errorf("%w: item %s has no answer", ErrInvalidData, r.ID)
		}
		seen[r.ID] = true
		items[i] = Item{ID: r.ID, Question: r.Question, Answer: *r.Answer, Category: r.Category}
	}
	return items, nil
}
