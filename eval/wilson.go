package eval

import "math"

// z95 is the standard normal quantile for a two-sided 95% interval.
const z95 = 1.959964

// Wilson returns the 95% Wilson score interval for correct successes out of total trials.
// Unlike the normal approximation it stays inside [0, 1] and is useful for the small counts
// and extreme proportions of a math quiz: 8/10 gives [0.4902, 0.9433], 10/10 [0.7225, 1].
// With no trials it returns [0, 1]: nothing is known.
func Wilson(correct, total int) (low, high float64) {
	if total <= 0 {
		return 0, 1
	}
	n := float64(total)
	p := float64(correct) / n
	z2 := z95 * z95
	denom := 1 + z2/n
	center := (p + z2/(2*n)) / denom
	half := z95 / denom * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	low, high = max(0, center-half), min(1, center+half)
	// The bounds are exact at the extremes; rounding would leave them a hair inside.
	if correct <= 0 {
		low = 0
	}
	if correct >= total {
		high = 1
	}
	return low, high
}
