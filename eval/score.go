package eval

import (
	"math"
	"time"
)

// Row is one question's outcome: a line of the *_math_logs.csv file.
type Row struct {
	ID       string  `json:"id"`
	Category string  `json:"category"`
	Question string  `json:"question"`
	Expected float64 `json:"expected"`
	// Response is the model's reply as it came.
	Response string `json:"response"`
	// Extracted is the number read from the reply; 0 when Found is false.
	Extracted float64 `json:"extracted"`
	Found     bool    `json:"found"`
	Method    Method  `json:"method"`
	// Correct says whether Extracted equals Expected (see [Equal]).
	Correct bool `json:"correct"`
	// Latency is the time to get the whole reply; 0 when the reply came from elsewhere.
	Latency time.Duration `json:"latency_ns"`
	// Tokens is the number of tokens generated for the reply; 0 when unknown.
	Tokens int `json:"tokens"`
}

// Report is the outcome of a set of questions: the rows and their summary, the
// *_quality.csv file.
type Report struct {
	Rows []Row `json:"rows"`
	// Correct and Total count the rows; Found counts those with a number in the reply.
	Correct int `json:"correct"`
	Total   int `json:"total"`
	Found   int `json:"found"`
	// Accuracy is Correct/Total, 0 when Total is 0.
	Accuracy float64 `json:"accuracy"`
	// CI95Low and CI95High bound the accuracy with a 95% Wilson interval (see [Wilson]).
	CI95Low  float64 `json:"ci95_low"`
	CI95High float64 `json:"ci95_high"`
	// MeanLatency and MeanTokens average the rows' Latency and Tokens.
	MeanLatency time.Duration `json:"mean_latency_ns"`
	MeanTokens  float64       `json:"mean_tokens"`
}

// Grade reads the answer in response to item (see [ExtractFor]) and says whether it is right.
// Latency and Tokens are left for the caller, who measured them.
func Grade(item Item, response string) Row {
	e := ExtractFor(item.Question, response)
	return Row{
		ID:        item.ID,
		Category:  item.Category,
		Question:  item.Question,
		Expected:  item.Answer,
		Response:  response,
		Extracted: e.Value,
		Found:     e.OK,
		Method:    e.Method,
		Correct:   e.OK && Equal(item.Answer, e.Value),
	}
}

// Summarize counts rows into a report, which keeps them.
func Summarize(rows []Row) Report {
	r := Report{Rows: rows, Total: len(rows)}
	var latency time.Duration
	tokens := 0
	for _, row := range rows {
		if row.Correct {
			r.Correct++
		}
		if row.Found {
			r.Found++
		}
		latency += row.Latency
		tokens += row.Tokens
	}
	if r.Total > 0 {
		r.Accuracy = float64(r.Correct) / float64(r.Total)
		r.MeanLatency = latency / time.Duration(r.Total)
		r.MeanTokens = float64(tokens) / float64(r.Total)
	}
	r.CI95Low, r.CI95High = Wilson(r.Correct, r.Total)
	return r
}

// Score grades responses[i] as the reply to items[i] and summarizes them. An item without a
// response counts as unanswered (wrong); responses beyond the items are ignored.
func Score(items []Item, responses []string) Report {
	rows := make([]Row, len(items))
	for i, it := range items {
		resp := ""
		if i < len(responses) {
			resp = responses[i]
		}
		rows[i] = Grade(it, resp)
	}
	return Summarize(rows)
}

// Equal reports whether a reply's number got matches the expected answer: exactly when the
// answer is an integer (an integer is right or wrong, and float64 holds every integer a
// question here has exactly), otherwise within an absolute 1e-9 or a relative 1e-6: enough
// for float64 rounding (0.1 + 0.2 for 0.3), not for a reply that rounds the answer to fewer
// digits (2.3 for 2.25).
func Equal(expected, got float64) bool {
	if expected == math.Trunc(expected) {
		return got == expected
	}
	d := math.Abs(got - expected)
	return d <= 1e-9 || d <= 1e-6*math.Abs(expected)
}
