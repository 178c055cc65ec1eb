package gguf

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEstimateQuantizedSize compares each twin's Q4_K_M size, computed without writing
// anything, with the size of the real model's Q4_K_M file (ARCHITECTURE.md, given to three
// digits). The estimate is the whole file: tensor data with padding plus the header with the
// twin's metadata and vocabulary; the real headers differ by a few kilobytes of metadata.
func TestEstimateQuantizedSize(t *testing.T) {
	for _, c := range []struct {
		id   string
		real float64
	}{
		{"gemma-2-2b-it", 1.71e9},
		{"phi-3-mini-4k-instruct", 2.39e9},
		{"mistral-7b-instruct-v0.2", 4.37e9},
	} {
		t.Run(c.id, func(t *testing.T) {
			s, _ := ReferenceSpec(c.id)
			got, err := EstimateQuantizedSize(s, "Q4_K_M")
			require.NoError(t, err)
			t.Logf("%s: %d bytes, %+.3f%% off %.3g", c.id, got, 100*(float64(got)/c.real-1), c.real)
			assert.InEpsilon(t, c.real, float64(got), 0.01)
		})
	}
}

func TestQuantizedTensorTypes(t *testing.T) {
	count := func(ts []TensorInfo, part string, typ TensorType) int {
		n := 0
		for _, ti := range ts {
			if strings.Contains(ti.Name, part) && ti.Type == typ {
				n++
			}
		}
		return n
	}
	typeOf := func(ts []TensorInfo, name string) TensorType {
		for _, ti := range ts {
			if ti.Name == name {
				return ti.Type
			}
		}
		t.Fatalf("no tensor %s", name)
		return 0
	}

	mistral, _ := ReferenceSpec("mistral-7b-instruct-v0.2")
	ts, err := QuantizedTensors(mistral, "Q4_K_M")
	require.NoError(t, err)
	assert.Equal(t, TypeQ6_K, typeOf(ts, "output.weight"))
	assert.Equal(t, TypeQ4_K, typeOf(ts, "token_embd.weight"))
	// use_more_bits(i, 32): layers 0-3, 28-31 and 6, 9, ..., 27.
	assert.Equal(t, 16, count(ts, "attn_v.weight", TypeQ6_K))
	assert.Equal(t, 16, count(ts, "attn_v.weight", TypeQ4_K))
	assert.Equal(t, 16, count(ts, "ffn_down.weight", TypeQ6_K))
	assert.Equal(t, TypeQ6_K, typeOf(ts, "blk.6.ffn_down.weight"))
	assert.Equal(t, TypeQ4_K, typeOf(ts, "blk.7.ffn_down.weight"))
	assert.Equal(t, 32, count(ts, "attn_q.weight", TypeQ4_K))
	assert.Equal(t, 32, count(ts, "ffn_gate.weight", TypeQ4_K))
	assert.Equal(t, 65, count(ts, "norm.weight", TypeF32))

	gemma, _ := ReferenceSpec("gemma-2-2b-it")
	ts, err = QuantizedTensors(gemma, "Q4_K_M")
	require.NoError(t, err)
	assert.Equal(t, TypeQ6_K, typeOf(ts, "token_embd.weight"), "tied output: token_embd takes the output's type")
	assert.Equal(t, 13, count(ts, "attn_v.weight", TypeQ6_K))

	phi3, _ := ReferenceSpec("phi-3-mini-4k-instruct")
	ts, err = QuantizedTensors(phi3, "Q4_K_M")
	require.NoError(t, err)
	assert.Equal(t, 32, count(ts, "attn_qkv.weight", TypeQ5_K))
	assert.Equal(t, 32, count(ts, "ffn_up.weight", TypeQ4_K))
	assert.Equal(t, 16, count(ts, "ffn_down.weight", TypeQ6_K))

	for _, s := range TinySpecs() {
		ts, err := QuantizedTensors(s, "Q4_K_M")
		require.NoError(t, err)
		for _, ti := range ts {
			assert.Contains(t, []TensorType{TypeF32, TypeQ4_K, TypeQ5_K, TypeQ6_K}, ti.Type, "%s %s: no fallback", s.ID, ti.Name)
		}
	}
}

func TestQuantizedTensorsFallback(t *testing.T) {
	s, _ := TinySpec("tiny-llama")
	s.Embd, s.HeadDim = 320, 80 // rows of 320: whole 32-blocks, not 256-blocks
	ts, err := QuantizedTensors(s, "Q4_K_M")
	require.NoError(t, err)
	types := map[string]TensorType{}
	for _, ti := range ts {
		types[ti.Name] = ti.Type
	}
	assert.Equal(t, TypeQ8_0, types["output.weight"])
	assert.Equal(t, TypeQ5_0, types["token_embd.weight"])
	assert.Equal(t, TypeQ5_0, types["blk.0.attn_q.weight"])
	assert.Equal(t, TypeQ5_0, types["blk.0.attn_v.weight"])
	assert.Equal(t, TypeQ8_0, types["blk.1.attn_v.weight"], "the last layer's Q6_K falls back to Q8_0")
	assert.Equal(t, TypeQ4_K, types["blk.0.ffn_down.weight"], "rows of FF=512 stay K-quants")

	s.Embd, s.HeadDim = 48, 12 // not even whole 32-blocks: llama.cpp cannot quantize output
	_, err = QuantizedTensors(s, "Q4_K_M")
	assert.ErrorContains(t, err, "no fallback")

	p, _ := TinySpec("tiny-phi3")
	p.Embd, p.HeadDim = 320, 80
	ts, err = QuantizedTensors(p, "Q4_K_M")
	require.NoError(t, err)
	assert.Equal(t, TypeQ5_1, ts[2].Type, "%s: Q5_K falls back to Q5_1", ts[2].Name)

	typ, err := fallbackType(TypeQ4_K, 48)
	require.NoError(t, err)
	assert.Equal(t, TypeF16, typ, "neither 256- nor 32-blocks: F16")
}

func TestEstimateQuantizedSizeErrors(t *testing.T) {
	s, _ := TinySpec("tiny-llama")
	_, err := EstimateQuantizedSize(s, "Q8_0")
	assert.ErrorContains(t, err, "only Q4_K_M")
	s.Layers = 0
	_, err = EstimateQuantizedSize(s, "Q4_K_M")
	assert.ErrorContains(t, err, "layers")
}

// The header of a twin's quantized file, computed without writing it, holds the twin's
// metadata and quantized tensors and the file's size; TestPlanTinyTwinsMatchLlamaCpp in
// package llama compares it with the file llama.cpp's quantizer writes.
func TestQuantizedHeader(t *testing.T) {
	for _, s := range ReferenceSpecs() {
		f, err := QuantizedHeader(s, "Q4_K_M")
		require.NoError(t, err)
		assert.Equal(t, s.Arch, f.Architecture())
		v, ok := f.Lookup(s.Arch + ".block_count")
		require.True(t, ok)
		n, _ := v.AsUint()
		assert.Equal(t, uint64(s.Layers), n)
		ft, _ := f.Lookup("general.file_type")
		typ, _ := ft.AsUint()
		assert.Equal(t, uint64(fileTypeQ4_K_M), typ)
		ts, err := QuantizedTensors(s, "Q4_K_M")
		require.NoError(t, err)
		assert.Equal(t, ts, f.Tensors)
		size, err := EstimateQuantizedSize(s, "Q4_K_M")
		require.NoError(t, err)
		assert.Equal(t, size, f.Size)
		last := ts[len(ts)-1]
		assert.Equal(t, f.Size, f.DataOffset+alignUp(last.Offset+last.Bytes(), f.Alignment))
	}
	_, err := QuantizedHeader(ReferenceSpecs()[0], "Q8_0")
	assert.ErrorContains(t, err, "only Q4_K_M")
}
