package eval

import (
	"math"
	"math/rand/v2"
)

// rng draws the numbers of the generated sets. It reads only the output of a PCG, whose
// algorithm is fixed, and none of rand.Rand's methods, whose algorithms may change, so that a
// seed gives the same items with every Go version.
type rng struct{ src *rand.PCG }

// Streams keep the generators apart: the same seed gives unrelated arithmetic and word sets.
const (
	streamArithmetic = 0x61726974686d6574 // "arithmet"
	streamWords      = 0x776f726470726f62 // "wordprob"
)

func newRNG(seed, stream uint64) *rng { return &rng{rand.NewPCG(seed, stream)} }

// between returns a uniformly drawn int in [lo, hi].
func (r *rng) between(lo, hi int) int {
	n := uint64(hi - lo + 1)
	// Rejecting the top 2^64 mod n values keeps every result equally likely.
	rem := (math.MaxUint64%n + 1) % n
	for {
		v := r.src.Uint64()
		if rem == 0 || v < -rem {
			return lo + int(v%n)
		}
	}
}

// pick returns a uniformly drawn element of xs.
func pick[T any](r *rng, xs []T) T { return xs[r.between(0, len(xs)-1)] }
