package gguf

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteRoundTrip(t *testing.T) {
	for _, spec := range TinySpecs() {
		for _, typ := range []TensorType{TypeF16, TypeF32} {
			t.Run(spec.ID+"/"+typ.String(), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), spec.ID+".gguf")
				opts := WriteOptions{Seed: 7, Type: typ}
				require.NoError(t, Write(path, spec, opts))

				f, err := Validate(path)
				require.NoError(t, err)
				want, err := spec.FileSize(opts)
				require.NoError(t, err)
				assert.Equal(t, want, f.Size)
				if typ == TypeF16 {
					assert.Less(t, f.Size, int64(5<<20), "tiny models stay small")
				}
				assert.Equal(t, uint32(3), f.Version)
				assert.Equal(t, int64(32), f.Alignment)
				assert.Zero(t, f.DataOffset%f.Alignment)

				tensors := spec.tensors(typ)
				require.Len(t, f.Tensors, len(tensors))
				for i, got := range f.Tensors {
					assert.Equal(t, tensors[i], got)
					assert.Zero(t, got.Offset%f.Alignment, got.Name)
				}

				assertMetadata(t, f, spec, typ)
				assertWeights(t, path, f)
			})
		}
	}
}

func assertMetadata(t *testing.T, f *File, spec Spec, typ TensorType) {
	t.Helper()
	u := func(key string) uint64 {
		v, ok := f.Lookup(key)
		require.True(t, ok, key)
		require.Equal(t, ValueUint32, v.Type(), key)
		n, _ := v.AsUint()
		return n
	}
	fl := func(key string) float64 {
		v, ok := f.Lookup(key)
		require.True(t, ok, key)
		require.Equal(t, ValueFloat32, v.Type(), key)
		x, _ := v.AsFloat()
		return x
	}
	b := func(key string) bool {
		v, ok := f.Lookup(key)
		require.True(t, ok, key)
		x, ok := v.AsBool()
		require.True(t, ok, key)
		return x
	}
	arch := spec.Arch + "."
	assert.Equal(t, spec.Arch, f.Architecture())
	name, _ := f.Lookup("general.name")
	assert.Equal(t, spec.Name, name.Raw())
	wantFileType := uint64(fileTypeF32)
	if typ == TypeF16 {
		wantFileType = fileTypeF16
	}
	assert.Equal(t, wantFileType, u("general.file_type"))
	for key, want := range map[string]int{
		"context_length": spec.Context, "embedding_length": spec.Embd, "block_count": spec.Layers,
		"feed_forward_length": spec.FF, "attention.head_count": spec.Heads,
		"attention.head_count_kv": spec.KVHeads, "attention.key_length": spec.HeadDim,
		"attention.value_length": spec.HeadDim, "rope.dimension_count": spec.HeadDim,
		"vocab_size": spec.Vocab,
	} {
		assert.Equal(t, uint64(want), u(arch+key), key)
	}
	assert.InDelta(t, spec.NormEps, fl(arch+"attention.layer_norm_rms_epsilon"), 1e-12)
	assert.Equal(t, float64(spec.RopeTheta), fl(arch+"rope.freq_base"))
	if spec.SlidingWindow > 0 {
		assert.Equal(t, uint64(spec.SlidingWindow), u(arch+"attention.sliding_window"))
	}
	if spec.Arch == "gemma2" {
		assert.Equal(t, float64(spec.AttnSoftcap), fl(arch+"attn_logit_softcapping"))
		assert.Equal(t, float64(spec.FinalSoftcap), fl(arch+"final_logit_softcapping"))
	}

	model, _ := f.Lookup("tokenizer.ggml.model")
	assert.Equal(t, "llama", model.Raw())
	tv, _ := f.Lookup("tokenizer.ggml.tokens")
	tokens, ok := tv.AsStrings()
	require.True(t, ok)
	require.Len(t, tokens, spec.Vocab)
	for _, s := range spec.Special {
		assert.Equal(t, s.Text, tokens[s.ID])
	}
	sv, _ := f.Lookup("tokenizer.ggml.scores")
	assert.Equal(t, ValueFloat32, sv.ElemType())
	assert.Equal(t, spec.Vocab, sv.Len())
	types, ok := mustLookup(t, f, "tokenizer.ggml.token_type").AsInts()
	require.True(t, ok)
	require.Len(t, types, spec.Vocab)
	for id, tok := range tokens {
		if len(tok) == 6 && tok[:3] == "<0x" {
			assert.Equal(t, int64(tokenByte), types[id], tok)
		}
	}
	for key, want := range map[string]int{"bos": spec.BOS, "eos": spec.EOS, "eot": spec.EOT, "unknown": spec.UNK, "padding": spec.PAD} {
		v, ok := f.Lookup("tokenizer.ggml." + key + "_token_id")
		if want < 0 {
			assert.False(t, ok, key)
			continue
		}
		assert.Equal(t, uint32(want), v.Raw(), key)
	}
	assert.Equal(t, int64(tokenUnknown), types[spec.UNK])
	assert.Equal(t, int64(tokenControl), types[spec.BOS])
	assert.Equal(t, spec.AddBOS, b("tokenizer.ggml.add_bos_token"))
	assert.False(t, b("tokenizer.ggml.add_eos_token"))
	assert.Equal(t, spec.AddSpacePrefix, b("tokenizer.ggml.add_space_prefix"))
	tmpl, _ := f.Lookup("tokenizer.chat_template")
	assert.Equal(t, spec.ChatTemplate, tmpl.Raw())
}

func mustLookup(t *testing.T, f *File, key string) Value {
	t.Helper()
	v, ok := f.Lookup(key)
	require.True(t, ok, key)
	return v
}

// assertWeights reads the data back: norms are exactly 1, weights finite, small and centred.
func assertWeights(t *testing.T, path string, f *File) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, ti := range f.Tensors {
		b := data[f.DataOffset+ti.Offset:][:ti.Bytes()]
		vals := decodeFloats(b, ti.Type)
		if len(ti.Dims) == 1 {
			for _, v := range vals {
				if v != 1 {
					t.Fatalf("%s: norm weight %g, want 1", ti.Name, v)
				}
			}
			continue
		}
		var sum, sq float64
		for _, v := range vals {
			if !(math.Abs(float64(v)) < 0.1) { // false for NaN too
				t.Fatalf("%s: weight %g, want a small finite value", ti.Name, v)
			}
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
		n := float64(len(vals))
		assert.InDelta(t, 0, sum/n, 0.002, ti.Name)
		assert.InDelta(t, weightStd, math.Sqrt(sq/n), 0.002, ti.Name)
	}
}

func decodeFloats(b []byte, typ TensorType) []float32 {
	var out []float32
	if typ == TypeF16 {
		for i := 0; i < len(b); i += 2 {
			out = append(out, f16ToF32(binary.LittleEndian.Uint16(b[i:])))
		}
		return out
	}
	for i := 0; i < len(b); i += 4 {
		out = append(out, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
	}
	return out
}

// f16ToF32 is the test's own decoder, the inverse check of f32ToF16.
func f16ToF32(h uint16) float32 {
	sign := float32(1)
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * float32(math.Ldexp(mant, -24))
	case 0x1f:
		if mant != 0 {
			return float32(math.NaN())
		}
		return sign * float32(math.Inf(1))
	}
	return sign * float32(math.Ldexp(1024+mant, exp-25))
}

func TestF32ToF16(t *testing.T) {
	for _, c := range []struct {
		in   float32
		want uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{0.5, 0x3800},
		{65504, 0x7bff},
		{65520, 0x7c00}, // rounds up to infinity
		{1e6, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{6.103515625e-05, 0x0400},       // smallest normal
		{5.960464477539063e-08, 0x0001}, // smallest subnormal
		{2.98e-08, 0x0000},              // below half the smallest subnormal
		{1.0009765625, 0x3c01},
		{1.00048828125, 0x3c00}, // tie, rounds to even
		{1.00146484375, 0x3c02}, // tie, rounds to even
	} {
		assert.Equal(t, c.want, f32ToF16(c.in), "%g", c.in)
	}
	assert.Equal(t, uint16(0x7e00), f32ToF16(float32(math.NaN())))
	for i := range uint32(0x7c00) { // every finite half round-trips
		h := uint16(i)
		require.Equal(t, h, f32ToF16(f16ToF32(h)), "%#04x", h)
	}
}

func TestWriteDeterministic(t *testing.T) {
	spec, _ := TinySpec("tiny-llama")
	dir := t.TempDir()
	sum := func(name string, seed int64) [32]byte {
		path := filepath.Join(dir, name)
		require.NoError(t, Write(path, spec, WriteOptions{Seed: seed, Type: TypeF16}))
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return sha256.Sum256(b)
	}
	a, b, c := sum("a.gguf", 1), sum("b.gguf", 1), sum("c.gguf", 2)
	assert.Equal(t, a, b, "same seed, same file")
	assert.NotEqual(t, a, c, "another seed, other weights")
}

func TestWriteProgressAndCleanup(t *testing.T) {
	spec, _ := TinySpec("tiny-gemma2")
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	var last, total int64
	calls := 0
	err := Write(path, spec, WriteOptions{Type: TypeF16, Progress: func(w, tot int64) {
		assert.GreaterOrEqual(t, w, last)
		last, total = w, tot
		calls++
	}})
	require.NoError(t, err)
	assert.Positive(t, calls)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, st.Size(), total)
	assert.Equal(t, total, last)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestWriteErrors(t *testing.T) {
	good, _ := TinySpec("tiny-llama")
	bad := good
	bad.Heads = 3
	dir := t.TempDir()
	for _, c := range []struct {
		name, path string
		spec       Spec
		opts       WriteOptions
		want       string
	}{
		{"invalid spec", filepath.Join(dir, "a.gguf"), bad, WriteOptions{}, "do not divide"},
		{"quantized weights", filepath.Join(dir, "b.gguf"), good, WriteOptions{Type: TypeQ4_K}, "want F32 or F16"},
		{"missing directory", filepath.Join(dir, "nope", "c.gguf"), good, WriteOptions{}, "no such file"},
		{"path is a directory", dir, good, WriteOptions{Type: TypeF16}, "is a directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Write(c.path, c.spec, c.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "failed writes leave nothing behind")
}

func TestWriteToFailingWriter(t *testing.T) {
	spec, _ := TinySpec("tiny-llama")
	p, err := spec.plan(WriteOptions{Type: TypeF16})
	require.NoError(t, err)
	err = p.writeTo(&limitedWriter{n: 100 << 10}, WriteOptions{})
	assert.ErrorIs(t, err, errDiskFull)
}

var errDiskFull = errors.New("disk full")

// limitedWriter fails once n bytes are written, like a full disk.
type limitedWriter struct{ n int }

func (w *limitedWriter) Write(b []byte) (int, error) {
	if len(b) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(b)
	return len(b), nil
}

// BenchmarkFill measures weight generation, which must outrun a disk for multi-gigabyte twins.
func BenchmarkFill(b *testing.B) {
	for _, typ := range []TensorType{TypeF16, TypeF32} {
		b.Run(typ.String(), func(b *testing.B) {
			buf := make([]byte, chunkSize)
			r := newRNG(1)
			b.SetBytes(chunkSize)
			for b.Loop() {
				r.fill(buf, typ)
			}
		})
	}
}
