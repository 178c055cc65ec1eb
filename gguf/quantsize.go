package gguf

import (
	"fmt"
	"strings"
)

// QuantizedTensors returns the spec's tensors with the types llama.cpp's quantizer
// (llama_tensor_get_type in llama-quant.cpp) gives them for ftype, and their offsets in the
// quantized file. Only "Q4_K_M" is supported: Q4_K by default; Q6_K for output.weight, or for
// token_embd.weight when the output is tied to it; Q6_K for attn_v and ffn_down in the layers
// where use_more_bits picks them (the first and last eighth and every third between), Q4_K in
// the others; Q5_K for a fused attn_qkv; norms and other 1-D tensors stay F32. A row length
// that is not a multiple of 256 falls back as llama.cpp does (Q4_K to Q5_0, Q5_K to Q5_1, Q6_K
// to Q8_0, then F16).
func QuantizedTensors(spec Spec, ftype string) ([]TensorInfo, error) {
	if ftype != "Q4_K_M" {
		return nil, fmt.Errorf("quantized tensors of %s: only Q4_K_M is supported", ftype)
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	ts := spec.tensors(TypeF16)
	nAttnV, hasOutput := 0, false
	for _, t := range ts {
		if strings.Contains(t.Name, "attn_v.weight") || strings.Contains(t.Name, "attn_qkv.weight") {
			nAttnV++
		}
		hasOutput = hasOutput || t.Name == "output.weight"
	}
	// Like llama.cpp, count attn_v and ffn_down in layer order to find each one's layer.
	iAttnV, iFFNDown := 0, 0
	for i := range ts {
		t := &ts[i]
		if len(t.Dims) < 2 || strings.Contains(t.Name, "_norm.weight") {
			continue
		}
		typ := TypeQ4_K
		switch {
		case t.Name == "output.weight" || !hasOutput && t.Name == "token_embd.weight":
			typ = TypeQ6_K
			if t.Dims[0]%TypeQ4_K.BlockSize() != 0 {
				typ = TypeQ8_0
			}
		case t.Name == "token_embd.weight":
		case strings.Contains(t.Name, "attn_v.weight"):
			if useMoreBits(iAttnV, nAttnV) {
				typ = TypeQ6_K
			}
			iAttnV++
		case strings.Contains(t.Name, "ffn_down"):
			if useMoreBits(iFFNDown, spec.Layers) {
				typ = TypeQ6_K
			}
			iFFNDown++
		case strings.Contains(t.Name, "attn_qkv.weight"):
			typ = TypeQ5_K
		}
		typ, err := fallbackType(typ, t.Dims[0])
		if err != nil {
			return nil, fmt.Errorf("quantize %s: %w", t.Name, err)
		}
		t.Type = typ
	}
	layout(ts, defaultAlignment)
	return ts, nil
}

// useMoreBits is llama-quant.cpp's choice of the layers that get more bits.
func useMoreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// fallbackType is the type llama.cpp uses when a row of ne0 elements does not fill whole
// blocks of typ.
func fallbackType(typ TensorType, ne0 int64) (TensorType, error) {
	if ne0%typ.BlockSize() == 0 {
		return typ, nil
	}
	switch typ {
	case TypeQ4_K:
		typ = TypeQ5_0
	case TypeQ5_K:
		typ = TypeQ5_1
	case TypeQ6_K:
		typ = TypeQ8_0
	default:
		return 0, fmt.Errorf("llama.cpp has no fallback for %s with rows of %d", typ, ne0)
	}
	if ne0%typ.BlockSize() != 0 {
		typ = TypeF16
	}
	return typ, nil
}

// EstimateQuantizedSize is the size in bytes of the file llama.cpp's quantizer makes from the
// spec's twin at ftype ("Q4_K_M" only): tensor data with its alignment padding plus the header,
// which carries the same metadata and vocabulary Write writes, with general.file_type and
// general.quantization_version as the quantizer sets them.
func EstimateQuantizedSize(spec Spec, ftype string) (int64, error) {
	f, err := QuantizedHeader(spec, ftype)
	if err != nil {
		return 0, err
	}
	return f.Size, nil
}

// QuantizedHeader is the header of the file llama.cpp's quantizer makes from the spec's twin at
// ftype ("Q4_K_M" only), as Validate would read it from that file: metadata, tensors with their
// quantized types and offsets, and the size of the whole file. Nothing is written, so a
// multi-gigabyte twin can be inspected (its memory needs planned, say) in a test.
func QuantizedHeader(spec Spec, ftype string) (*File, error) {
	ts, err := QuantizedTensors(spec, ftype)
	if err != nil {
		return nil, err
	}
	kvs, err := spec.metadata(fileTypeQ4_K_M)
	if err != nil {
		return nil, err
	}
	kvs = append(kvs, KV{Key: "general.quantization_version", Value: uint32Value(2)})
	header, err := headerSize(kvs, ts)
	if err != nil {
		return nil, err
	}
	f := &File{Version: 3, KV: kvs, Tensors: ts, Alignment: defaultAlignment, DataOffset: header, keys: make(map[string]int, len(kvs))}
	for i, kv := range kvs {
		f.keys[kv.Key] = i
	}
	f.Size = header + layout(ts, defaultAlignment)
	return f, nil
}
