package llama

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/local-llm-bench/llmbench/gguf"
)

// modelShape is what the planner knows of a model from its GGUF header alone: the
// hyperparameters that size its KV cache and compute graph, and the bytes of its weights by
// the layer llama.cpp assigns them to.
type modelShape struct {
	info    Info // Architecture, Name, TrainContext, Layers, EmbeddingSize, Heads, KVHeads, SlidingWindow, VocabSize
	headDim int
	ff      int
	// input is the token embedding, which llama.cpp keeps on the CPU whatever the placement.
	input uint64
	// layers are the repeating blocks, blk.N.*; the last ones go to the GPU first.
	layers []layerWeights
	// output is the output layer (norm and matrix), placed on the GPU only when every
	// repeating layer is. Where the file has no output.weight, the matrix is the token
	// embedding, tied bytes of it: a copy on the GPU, the same memory on the CPU.
	output layerWeights
	tied   uint64
}

// layerWeights are a layer's weight bytes, and its largest matrix: what llama.cpp copies to
// the GPU to compute a large batch there when the layer stays on the CPU (op offload).
type layerWeights struct {
	bytes, largest uint64
}

func (w *layerWeights) add(t gguf.TensorInfo) {
	b := uint64(t.Bytes())
	w.bytes += b
	if len(t.Dims) >= 2 {
		w.largest = max(w.largest, b)
	}
}

var blockTensor = regexp.MustCompile(`^blk\.(\d+)\.`)

// shapeOf reads a model's shape from its header. It needs the architecture's block count,
// embedding length and head count; a header without them gives ErrInvalidModel.
func shapeOf(f *gguf.File) (modelShape, error) {
	arch := f.Architecture()
	if arch == "" {
		return modelShape{}, fmt.Errorf("%w: no general.architecture", ErrInvalidModel)
	}
	num := func(key string, required bool) (int, error) {
		v, ok := f.Lookup(arch + "." + key)
		if !ok {
			if required {
				return 0, fmt.Errorf("%w: no %s.%s", ErrInvalidModel, arch, key)
			}
			return 0, nil
		}
		if n, ok := v.AsUint(); ok && n <= 1<<31 {
			return int(n), nil
		}
		// Per-layer values, as some models give head_count_kv or feed_forward_length: the
		// largest sizes the buffers.
		if ns, ok := v.AsUints(); ok && len(ns) > 0 && slices.Max(ns) <= 1<<31 {
			return int(slices.Max(ns)), nil
		}
		return 0, fmt.Errorf("%w: %s.%s is not a size", ErrInvalidModel, arch, key)
	}
	ms := modelShape{info: Info{Architecture: arch}}
	if v, ok := f.Lookup("general.name"); ok {
		ms.info.Name, _ = v.AsString()
	}
	var err error
	fields := []struct {
		key      string
		dst      *int
		required bool
	}{
		{"block_count", &ms.info.Layers, true},
		{"embedding_length", &ms.info.EmbeddingSize, true},
		{"attention.head_count", &ms.info.Heads, true},
		{"attention.head_count_kv", &ms.info.KVHeads, false},
		{"attention.key_length", &ms.headDim, false},
		{"attention.sliding_window", &ms.info.SlidingWindow, false},
		{"feed_forward_length", &ms.ff, false},
		{"context_length", &ms.info.TrainContext, false},
		{"vocab_size", &ms.info.VocabSize, false},
	}
	for _, fl := range fields {
		if *fl.dst, err = num(fl.key, fl.required); err != nil {
			return modelShape{}, err
		}
	}
	if ms.info.Layers < 1 || ms.info.Heads < 1 || ms.info.EmbeddingSize < 1 {
		return modelShape{}, fmt.Errorf("%w: %d layers, %d heads, embedding %d", ErrInvalidModel, ms.info.Layers, ms.info.Heads, ms.info.EmbeddingSize)
	}
	if ms.info.KVHeads == 0 {
		ms.info.KVHeads = ms.info.Heads // llama.cpp's default: no grouped-query attention
	}
	if ms.headDim == 0 {
		ms.headDim = ms.info.EmbeddingSize / ms.info.Heads
	}
	if ms.info.VocabSize == 0 {
		if v, ok := f.Lookup("tokenizer.ggml.tokens"); ok {
			ms.info.VocabSize = v.Len()
		}
	}

	ms.layers = make([]layerWeights, ms.info.Layers)
	var embd gguf.TensorInfo
	hasOutput := false
	for _, t := range f.Tensors {
		switch m := blockTensor.FindStringSubmatch(t.Name); {
		case m != nil:
			i, err := strconv.Atoi(m[1])
			if err != nil || i >= ms.info.Layers {
				return modelShape{}, fmt.Errorf("%w: tensor %s outside the %d blocks", ErrInvalidModel, t.Name, ms.info.Layers)
			}
			ms.layers[i].add(t)
		case t.Name == "token_embd.weight":
			embd = t
			ms.input += uint64(t.Bytes())
		case t.Name == "token_embd_norm.weight" || t.Name == "position_embd.weight" || t.Name == "token_types.weight":
			ms.input += uint64(t.Bytes()) // llama.cpp's other input-layer tensors
		default:
			ms.output.add(t)
			hasOutput = hasOutput || t.Name == "output.weight"
		}
	}
	if !hasOutput && embd.Name != "" {
		// Without output.weight llama.cpp computes the logits with the token embedding.
		ms.tied = uint64(embd.Bytes())
		ms.output.add(embd)
	}
	if ms.info.VocabSize == 0 && len(embd.Dims) == 2 {
		ms.info.VocabSize = int(embd.Dims[1])
	}
	return ms, nil
}

// weightBytes is the size of all the weights as loaded in one place: the tied output matrix
// counted once.
func (ms modelShape) weightBytes() uint64 {
	b := ms.input + ms.output.bytes - ms.tied
	for _, l := range ms.layers {
		b += l.bytes
	}
	return b
}
