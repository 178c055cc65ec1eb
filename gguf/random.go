package gguf

import (
	"encoding/binary"
	"math"
	"sync"
)

// weightStd is the standard deviation of the random weights: the scale of a trained model's
// initialisation, small enough that activations stay finite through any depth in F16.
const weightStd = 0.02

// normalTables holds 65536 quantiles of N(0, weightStd²), as F16 bits and as float32. Sixteen
// random bits pick one, so four weights come from each 64-bit draw: generating is a table
// lookup, far faster than the disk that takes the 14.5 GB of a 7B model. Every entry is finite
// and below 5σ.
var normalTables = sync.OnceValues(func() (*[1 << 16]uint16, *[1 << 16]float32) {
	var h [1 << 16]uint16
	var f [1 << 16]float32
	for i := range f {
		p := (float64(i) + 0.5) / (1 << 16)
		f[i] = float32(math.Sqrt2 * math.Erfinv(2*p-1) * weightStd)
		h[i] = f32ToF16(f[i])
	}
	return &h, &f
})

// rng is xorshift64*: tiny state, fast, and plenty random for weights no one trains.
type rng struct{ s uint64 }

func newRNG(seed int64) *rng {
	// splitmix64 spreads any seed, 0 included, into a nonzero state.
	z := uint64(seed) + 0x9E3779B97F4A7C15
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	z ^= z >> 31
	if z == 0 {
		z = 1
	}
	return &rng{s: z}
}

func (r *rng) next() uint64 {
	r.s ^= r.s >> 12
	r.s ^= r.s << 25
	r.s ^= r.s >> 27
	return r.s * 0x2545F4914F6CDD1D
}

// fill writes random weights of type typ (TypeF16 or TypeF32) into b, whose length is a
// multiple of the element size.
func (r *rng) fill(b []byte, typ TensorType) {
	h, f := normalTables()
	le := binary.LittleEndian
	i := 0
	if typ == TypeF16 {
		for ; i+8 <= len(b); i += 8 {
			x := r.next()
			le.PutUint64(b[i:], uint64(h[uint16(x)])|uint64(h[uint16(x>>16)])<<16|
				uint64(h[uint16(x>>32)])<<32|uint64(h[uint16(x>>48)])<<48)
		}
		for x := r.next(); i < len(b); i, x = i+2, x>>16 {
			le.PutUint16(b[i:], h[uint16(x)])
		}
		return
	}
	bits := func(x uint64) uint64 { return uint64(math.Float32bits(f[uint16(x)])) }
	for ; i+16 <= len(b); i += 16 {
		x := r.next()
		le.PutUint64(b[i:], bits(x)|bits(x>>16)<<32)
		le.PutUint64(b[i+8:], bits(x>>32)|bits(x>>48)<<32)
	}
	for x := r.next(); i < len(b); i, x = i+4, x>>16 {
		le.PutUint32(b[i:], math.Float32bits(f[uint16(x)]))
	}
}

// fillOnes writes float32 1.0 into b: the norm weights, which leave activations as RMS-norm
// makes them. (Gemma's converter already stores its norms as 1 + w, so 1 is right there too.)
func fillOnes(b []byte) {
	for i := 0; i+4 <= len(b); i += 4 {
		binary.LittleEndian.PutUint32(b[i:], math.Float32bits(1))
	}
}

// f32ToF16 converts to IEEE half precision, rounding to nearest even, with subnormals,
// infinities and NaN.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case b>>23&0xff == 0xff:
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp >= 0x1f:
		return sign | 0x7c00
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint(14 - exp)
		half := mant >> shift
		rem := mant & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || rem == mid && half&1 == 1 {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || rem == 0x1000 && half&1 == 1 {
		half++ // a carry into the exponent is still the right rounding, up to infinity
	}
	return sign | uint16(half)
}
