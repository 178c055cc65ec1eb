package eval

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWilson(t *testing.T) {
	// 8/10, 0/10 and 10/10 were solved by hand from the quadratic (p̂-p)² = z²p(1-p)/n; the
	// others are Newcombe (1998), Statistics in Medicine 17:857, Table I, method 3.
	tests := []struct {
		correct, total int
		low, high      float64
	}{
		{8, 10, 0.4902, 0.9433},
		{0, 10, 0, 0.2775},
		{10, 10, 0.7225, 1},
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0, 0.1611},
		{1, 29, 0.0061, 0.1718},
		{85, 100, 0.7672, 0.9069},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d of %d", tc.correct, tc.total), func(t *testing.T) {
			low, high := Wilson(tc.correct, tc.total)
			assert.InDelta(t, tc.low, low, 0.00005)
			assert.InDelta(t, tc.high, high, 0.00005)
			assert.GreaterOrEqual(t, low, 0.0)
			assert.LessOrEqual(t, high, 1.0)
		})
	}
	t.Run("extremes are exact", func(t *testing.T) {
		low, _ := Wilson(0, 7)
		_, high := Wilson(7, 7)
		assert.Zero(t, low)
		assert.Equal(t, 1.0, high)
	})
	t.Run("no trials", func(t *testing.T) {
		low, high := Wilson(0, 0)
		assert.Zero(t, low)
		assert.Equal(t, 1.0, high)
	})
}
