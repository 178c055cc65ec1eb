package llama

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// greedyReference is llama.cpp's greedy sampler's rule: the first element unless another is
// strictly larger.
func greedyReference(l []float32) int32 {
	best := 0
	for i := 1; i < len(l); i++ {
		if l[i] > l[best] {
			best = i
		}
	}
	return int32(best)
}

func TestArgmaxMatchesTheGreedySampler(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	nan := float32(math.NaN())
	assert.Equal(t, int32(-1), argmax(nil))
	cases := map[string][]float32{
		"one":           {3},
		"first of ties": {1, 5, 2, 5, 5},
		"nan first":     {nan, 1, 2},
		"nan later":     {1, nan, 0.5},
		"all equal":     make([]float32, 100),
		"negative":      {-3, -1, -2},
		"inf":           {1, float32(math.Inf(1)), 2},
	}
	for name, l := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, greedyReference(l), argmax(l)) })
	}
	// Random lengths around the vector widths, values with many ties, scattered NaNs.
	for trial := 0; trial < 3000; trial++ {
		n := 1 + rng.IntN(300)
		if trial%500 == 0 {
			n = 256000
		}
		l := make([]float32, n)
		for i := range l {
			l[i] = float32(rng.IntN(40)) / 7
			if rng.IntN(50) == 0 {
				l[i] = nan
			}
		}
		if got, want := argmax(l), greedyReference(l); got != want {
			t.Fatalf("n=%d: argmax %d, greedy %d", n, got, want)
		}
	}
}

func BenchmarkArgmax256k(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	l := make([]float32, 256000)
	for i := range l {
		l[i] = rng.Float32()
	}
	for b.Loop() {
		argmax(l)
	}
}
