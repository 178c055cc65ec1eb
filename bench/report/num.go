package report

import (
	"encoding/json"

	"github.com/local-llm-bench/llmbench/bench/metrics"
)

// Num is a figure of the summary: a value, or none with the reason (NA). A missing figure is
// never 0; outputs show it as "n/a".
type Num struct {
	Value float64
	// SD is the sample standard deviation over repetitions; 0 where the figure has none.
	SD float64
	// NA says why there is no value; empty when there is one.
	NA string
}

// OK reports whether n has a value.
func (n Num) OK() bool { return n.NA == "" }

func value(v float64) Num { return Num{Value: v} }

func na(why string) Num { return Num{NA: why} }

// fromStat is the stat's mean ± stddev, or n/a for a stat of no values.
func fromStat(s metrics.Stat, why string) Num {
	if s.N == 0 {
		return na(why)
	}
	return Num{Value: s.Mean, SD: s.Stddev}
}

type numJSON struct {
	Value *float64 `json:"value"`
	SD    *float64 `json:"sd,omitempty"`
	NA    string   `json:"na,omitempty"`
}

// MarshalJSON writes {"value": v, "sd": sd}, or {"value": null, "na": why} when n has no value.
func (n Num) MarshalJSON() ([]byte, error) {
	if !n.OK() {
		return json.Marshal(numJSON{NA: n.NA})
	}
	return json.Marshal(numJSON{Value: &n.Value, SD: &n.SD})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (n *Num) UnmarshalJSON(b []byte) error {
	var j numJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*n = Num{NA: j.NA}
	if j.Value != nil {
		n.Value = *j.Value
	} else if n.NA == "" {
		n.NA = notMeasured
	}
	if j.SD != nil {
		n.SD = *j.SD
	}
	return nil
}
