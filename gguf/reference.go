package gguf

import (
	"fmt"
	"slices"
)

// gemmaSpecial are Gemma's control tokens with their real ids: <unused0> to <unused99> sit
// between [@BOS@] and <start_of_turn>, and llama.cpp checks each against every prompt.
func gemmaSpecial() []SpecialToken {
	s := []SpecialToken{{0, "<pad>"}, {1, "<eos>"}, {2, "<bos>"}, {3, "<unk>"}, {4, "<mask>"}, {5, "[@BOS@]"}}
	for i := range 100 {
		s = append(s, SpecialToken{6 + i, fmt.Sprintf("<unused%d>", i)})
	}
	return append(s, SpecialToken{106, "<start_of_turn>"}, SpecialToken{107, "<end_of_turn>"})
}

// llamaSpecial are the three control tokens of the Llama-2 SentencePiece vocabulary that
// Mistral and Phi-3 share.
func llamaSpecial() []SpecialToken {
	return []SpecialToken{{0, "<unk>"}, {1, "<s>"}, {2, "</s>"}}
}

// phi3Special are the Llama tokens plus the tokens Phi-3 adds after them, at base (32000 in
// the real vocabulary) and up, in the real order.
func phi3Special(base int) []SpecialToken {
	added := []string{
		"<|endoftext|>", "<|assistant|>", "<|placeholder1|>", "<|placeholder2|>",
		"<|placeholder3|>", "<|placeholder4|>", "<|system|>", "<|end|>",
		"<|placeholder5|>", "<|placeholder6|>", "<|user|>",
	}
	s := llamaSpecial()
	for i, t := range added {
		s = append(s, SpecialToken{base + i, t})
	}
	return s
}

// phi3EndOfText and phi3End are the offsets of <|endoftext|> and <|end|> in phi3Special.
const (
	phi3EndOfText = 0
	phi3End       = 7
)

// ReferenceSpecs returns the specs of the three reference models, with the shapes, vocabulary
// size, special tokens, names and chat templates of their real GGUF files, for synthetic twins.
func ReferenceSpecs() []Spec {
	return []Spec{
		{
			ID: "gemma-2-2b-it", Arch: "gemma2", Name: "gemma-2-2b-it",
			Layers: 26, Embd: 2304, Heads: 8, KVHeads: 4, HeadDim: 256, FF: 9216,
			Context: 8192, SlidingWindow: 4096, RopeTheta: 10000, NormEps: 1e-6,
			AttnSoftcap: 50, FinalSoftcap: 30,
			Vocab: 256000, Special: gemmaSpecial(),
			BOS: 2, EOS: 1, EOT: 107, UNK: 3, PAD: 0, AddBOS: true, AddSpacePrefix: false,
			ChatTemplate: gemma2Template,
		},
		{
			// general.name "Phi3" as in Microsoft's GGUF: llama.cpp keys its Phi-3 token
			// attributes on a name containing "phi3", which needs <|endoftext|> in the vocab.
			ID: "phi-3-mini-4k-instruct", Arch: "phi3", Name: "Phi3",
			Layers: 32, Embd: 3072, Heads: 32, KVHeads: 32, HeadDim: 96, FF: 8192,
			Context: 4096, SlidingWindow: 2047, RopeTheta: 10000, NormEps: 1e-5,
			Vocab: 32064, Special: phi3Special(32000),
			BOS: 1, EOS: 32000 + phi3EndOfText, EOT: 32000 + phi3End, UNK: 0, PAD: 32000 + phi3EndOfText,
			AddBOS: true, AddSpacePrefix: true,
			ChatTemplate: phi3Template,
		},
		{
			// v0.2 has no [INST] control tokens: [INST] is plain text in its vocabulary.
			ID: "mistral-7b-instruct-v0.2", Arch: "llama", Name: "mistralai_mistral-7b-instruct-v0.2",
			Layers: 32, Embd: 4096, Heads: 32, KVHeads: 8, HeadDim: 128, FF: 14336,
			Context: 32768, RopeTheta: 1e6, NormEps: 1e-5,
			Vocab: 32000, Special: llamaSpecial(),
			BOS: 1, EOS: 2, EOT: -1, UNK: 0, PAD: -1, AddBOS: true, AddSpacePrefix: true,
			ChatTemplate: mistralTemplate,
		},
	}
}

// ReferenceSpec returns the reference spec with the given ID: "gemma-2-2b-it",
// "phi-3-mini-4k-instruct" or "mistral-7b-instruct-v0.2".
func ReferenceSpec(id string) (Spec, bool) {
	return findSpec(ReferenceSpecs(), id)
}

// TinySpecs returns one small model per architecture, "tiny-llama", "tiny-gemma2" and
// "tiny-phi3", for tests: two layers, 256 wide, a vocabulary of 512 or 640 with the special tokens
// and chat template of the matching reference model, about 3 MB as F16. Every weight row is a
// multiple of 256 long, so llama.cpp quantizes them to K-quants (Q4_K_M) without fallbacks.
func TinySpecs() []Spec {
	return []Spec{
		{
			ID: "tiny-llama", Arch: "llama", Name: "tiny-llama",
			Layers: 2, Embd: 256, Heads: 4, KVHeads: 2, HeadDim: 64, FF: 512,
			Context: 512, RopeTheta: 10000, NormEps: 1e-5,
			Vocab: 512, Special: llamaSpecial(),
			BOS: 1, EOS: 2, EOT: -1, UNK: 0, PAD: -1, AddBOS: true, AddSpacePrefix: true,
			ChatTemplate: mistralTemplate,
		},
		{
			// Heads 128 wide, as no real gemma2 has 64: llama.cpp's CUDA flash attention has no
			// kernel for soft-capped attention with 64-wide heads and aborts on one.
			ID: "tiny-gemma2", Arch: "gemma2", Name: "tiny-gemma2",
			Layers: 2, Embd: 256, Heads: 2, KVHeads: 1, HeadDim: 128, FF: 512,
			Context: 512, SlidingWindow: 256, RopeTheta: 10000, NormEps: 1e-6,
			AttnSoftcap: 50, FinalSoftcap: 30,
			// Gemma's 108 leading special tokens need a larger vocabulary for the byte tokens and
			// every "x" and "▁x" piece of printable ASCII.
			Vocab: 640, Special: gemmaSpecial(),
			BOS: 2, EOS: 1, EOT: 107, UNK: 3, PAD: 0, AddBOS: true, AddSpacePrefix: false,
			ChatTemplate: gemma2Template,
		},
		{
			// The name contains "phi3", so llama.cpp applies its Phi-3 token handling here too.
			ID: "tiny-phi3", Arch: "phi3", Name: "tiny-phi3",
			Layers: 2, Embd: 256, Heads: 4, KVHeads: 4, HeadDim: 64, FF: 512,
			Context: 512, SlidingWindow: 256, RopeTheta: 10000, NormEps: 1e-5,
			Vocab: 512, Special: phi3Special(500),
			BOS: 1, EOS: 500 + phi3EndOfText, EOT: 500 + phi3End, UNK: 0, PAD: 500 + phi3EndOfText,
			AddBOS: true, AddSpacePrefix: true,
			ChatTemplate: phi3Template,
		},
	}
}

// TinySpec returns the tiny spec with the given ID.
func TinySpec(id string) (Spec, bool) {
	return findSpec(TinySpecs(), id)
}

func findSpec(specs []Spec, id string) (Spec, bool) {
	i := slices.IndexFunc(specs, func(s Spec) bool { return s.ID == id })
	if i < 0 {
		return Spec{}, false
	}
	return specs[i], true
}
