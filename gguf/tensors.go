package gguf

import "fmt"

// Tensors lists the tensors of the model in the order Write writes them, with their shapes in
// ggml order, the weight matrices as F16 and the norms as F32, and the offsets Write gives
// them. The lists follow create_tensors in llama-model.cpp for each architecture, leaving out
// the optional tensors (biases, rope factors). It returns nil for an unknown architecture; call
// Validate first for anything else.
func (s Spec) Tensors() []TensorInfo {
	return s.tensors(TypeF16)
}

// tensors lists the tensors with the weight matrices of type weights.
func (s Spec) tensors(weights TensorType) []TensorInfo {
	embd, vocab, ff := int64(s.Embd), int64(s.Vocab), int64(s.FF)
	qDim := int64(s.Heads * s.HeadDim)
	kvDim := int64(s.KVHeads * s.HeadDim)

	var ts []TensorInfo
	add := func(name string, dims ...int64) {
		typ := weights
		if len(dims) == 1 {
			typ = TypeF32 // norms: llama.cpp keeps 1-D tensors in F32
		}
		ts = append(ts, TensorInfo{Name: name, Dims: dims, Type: typ})
	}

	switch s.Arch {
	case "llama", "gemma2", "phi3":
	default:
		return nil
	}
	add("token_embd.weight", embd, vocab)
	for i := range s.Layers {
		blk := func(n string) string { return fmt.Sprintf("blk.%d.%s.weight", i, n) }
		add(blk("attn_norm"), embd)
		switch s.Arch {
		case "phi3":
			add(blk("attn_qkv"), embd, qDim+2*kvDim)
			add(blk("attn_output"), qDim, embd)
			add(blk("ffn_norm"), embd)
			add(blk("ffn_up"), embd, 2*ff) // gate and up, fused
			add(blk("ffn_down"), ff, embd)
		default:
			add(blk("attn_q"), embd, qDim)
			add(blk("attn_k"), embd, kvDim)
			add(blk("attn_v"), embd, kvDim)
			add(blk("attn_output"), qDim, embd)
			if s.Arch == "gemma2" {
				add(blk("post_attention_norm"), embd)
			}
			add(blk("ffn_norm"), embd)
			add(blk("ffn_gate"), embd, ff)
			add(blk("ffn_up"), embd, ff)
			add(blk("ffn_down"), ff, embd)
			if s.Arch == "gemma2" {
				add(blk("post_ffw_norm"), embd)
			}
		}
	}
	add("output_norm.weight", embd)
	if s.Arch != "gemma2" { // gemma2 ties the output to token_embd
		add("output.weight", embd, vocab)
	}
	layout(ts, defaultAlignment)
	return ts
}

// layout sets each tensor's offset: packed in order, each start aligned, as gguf.cpp requires.
func layout(ts []TensorInfo, align int64) int64 {
	var off int64
	for i := range ts {
		ts[i].Offset = off
		off = alignUp(off+ts[i].Bytes(), align)
	}
	return off
}
