package metrics

import (
	"math"
	"slices"
)

// Stat summarizes repeated measurements of one quantity.
type Stat struct {
	N      int     `json:"n"`
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"` // sample standard deviation (n-1); 0 for one value
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// P10 is the slow tail of a rate (a tenth of the values are lower): per-user tokens/s
	// under load. Results written before it existed read 0 here.
	P10 float64 `json:"p10"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

// Summarize computes a Stat over values; NaNs are left out. The zero Stat comes back for no
// values.
func Summarize(values []float64) Stat {
	v := make([]float64, 0, len(values))
	for _, x := range values {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Stat{}
	}
	slices.Sort(v)
	s := Stat{N: len(v), Min: v[0], Max: v[len(v)-1]}
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	s.Mean = sum / float64(len(v))
	if len(v) > 1 {
		ss := 0.0
		for _, x := range v {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.Stddev = math.Sqrt(ss / float64(len(v)-1))
	}
	s.P10 = Percentile(v, 10)
	s.P50 = Percentile(v, 50)
	s.P90 = Percentile(v, 90)
	s.P99 = Percentile(v, 99)
	return s
}

// CV is the coefficient of variation, stddev / mean; 0 when the mean is 0.
func (s Stat) CV() float64 {
	if s.Mean == 0 {
		return 0
	}
	return s.Stddev / math.Abs(s.Mean)
}

// Percentile returns the p-th percentile (0..100) of sorted values by linear interpolation
// between closest ranks (the method of numpy's default and of most spreadsheets).
func Percentile(sorted []float64, p float64) float64 {
	switch len(sorted) {
	case 0:
		return math.NaN()
	case 1:
		return sorted[0]
	}
	p = math.Max(0, math.Min(100, p))
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := min(lo+1, len(sorted)-1)
	frac := rank - float64(lo)
	return sorted[lo] + frac*(sorted[hi]-sorted[lo])
}
