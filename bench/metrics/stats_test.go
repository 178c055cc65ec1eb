package metrics

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want Stat
	}{
		{"empty", nil, Stat{}},
		{"one", []float64{4}, Stat{N: 1, Mean: 4, Min: 4, Max: 4, P10: 4, P50: 4, P90: 4, P99: 4}},
		// Mean 5, sample variance 32/7 for this classic set.
		{"eight", []float64{2, 4, 4, 4, 5, 5, 7, 9}, Stat{N: 8, Mean: 5, Stddev: math.Sqrt(32.0 / 7), Min: 2, Max: 9, P10: 3.4, P50: 4.5, P90: 7.6, P99: 8.86}},
		{"nan left out", []float64{1, math.NaN(), 3}, Stat{N: 2, Mean: 2, Stddev: math.Sqrt2, Min: 1, Max: 3, P10: 1.2, P50: 2, P90: 2.8, P99: 2.98}},
		{"unsorted", []float64{10, 0, 5}, Stat{N: 3, Mean: 5, Stddev: 5, Min: 0, Max: 10, P10: 1, P50: 5, P90: 9, P99: 9.9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.in)
			assert.Equal(t, tt.want.N, got.N)
			for name, pair := range map[string][2]float64{
				"mean": {tt.want.Mean, got.Mean}, "stddev": {tt.want.Stddev, got.Stddev},
				"min": {tt.want.Min, got.Min}, "max": {tt.want.Max, got.Max},
				"p10": {tt.want.P10, got.P10}, "p50": {tt.want.P50, got.P50}, "p90": {tt.want.P90, got.P90}, "p99": {tt.want.P99, got.P99},
			} {
				assert.InDelta(t, pair[0], pair[1], 1e-9, name)
			}
		})
	}
}

func TestCV(t *testing.T) {
	assert.InDelta(t, 0.1, Stat{Mean: 100, Stddev: 10}.CV(), 1e-12)
	assert.Equal(t, 0.0, Stat{}.CV())
}

func TestPercentileEdges(t *testing.T) {
	assert.True(t, math.IsNaN(Percentile(nil, 50)))
	v := []float64{1, 2, 3, 4}
	assert.Equal(t, 1.0, Percentile(v, -5))
	assert.Equal(t, 4.0, Percentile(v, 150))
	assert.Equal(t, 2.5, Percentile(v, 50))
}
