package gguf

import (
	"errors"
	"fmt"
	"math"
)

// Spec describes the architecture of a synthetic model: enough to write a GGUF file that
// llama.cpp loads and runs with the same tensor shapes, vocabulary size and special tokens as
// the model it stands in for. Weight values are random; the work done per token is not.
type Spec struct {
	// ID is a short stable identifier, for example "gemma-2-2b-it" or "tiny-llama".
	ID string
	// Arch is the llama.cpp architecture name: "llama", "gemma2" or "phi3".
	Arch string
	// Name is written as general.name. llama.cpp keys some vocabulary handling on it.
	Name string

	Layers        int     // block_count
	Embd          int     // embedding_length
	Heads         int     // attention.head_count
	KVHeads       int     // attention.head_count_kv
	HeadDim       int     // attention.key_length and value_length
	FF            int     // feed_forward_length
	Context       int     // context_length (training context)
	SlidingWindow int     // attention.sliding_window; 0 when the model has none
	RopeTheta     float32 // rope.freq_base
	NormEps       float32 // attention.layer_norm_rms_epsilon

	// AttnSoftcap and FinalSoftcap are gemma2's logit soft-capping values; 0 elsewhere.
	AttnSoftcap  float32
	FinalSoftcap float32

	// Vocab is the vocabulary size. Tokens not named in Special are filler pieces.
	Vocab int
	// Special lists the control tokens with their real ids, so that a chat prompt tokenizes
	// the way it does for the real model.
	Special []SpecialToken
	// BOS, EOS, EOT, UNK and PAD are token ids; -1 when the model has no such token.
	BOS, EOS, EOT, UNK, PAD int
	// AddBOS says whether the tokenizer prepends BOS.
	AddBOS bool
	// AddSpacePrefix is written as tokenizer.ggml.add_space_prefix: whether the SentencePiece
	// tokenizer puts "▁" before the text. The Llama family does; Gemma does not.
	AddSpacePrefix bool

	// ChatTemplate is the Jinja chat template written as tokenizer.chat_template; empty for none.
	ChatTemplate string
}

// SpecialToken is a control token of a vocabulary.
type SpecialToken struct {
	ID   int
	Text string
}

// Limits on a Spec's sizes: far above any model the library benchmarks, low enough that no
// tensor's element count can overflow.
const (
	maxSpecDim    = 1 << 24
	maxSpecLayers = 1 << 16
)

// Validate reports what is wrong with a spec that could not make a loadable model: an unknown
// architecture, sizes out of range, heads that do not divide, special tokens that collide or
// fall outside the vocabulary, or a vocabulary too small for the 256 byte tokens.
func (s Spec) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("spec %q: %w", s.ID, err)
	}
	return nil
}

func (s Spec) validate() error {
	switch s.Arch {
	case "llama", "gemma2", "phi3":
	default:
		return fmt.Errorf("unknown architecture %q (want llama, gemma2 or phi3)", s.Arch)
	}
	if s.Layers < 1 || s.Layers > maxSpecLayers {
		return fmt.Errorf("layers %d out of range [1, %d]", s.Layers, maxSpecLayers)
	}
	for _, d := range []struct {
		name string
		v    int
	}{{"embd", s.Embd}, {"heads", s.Heads}, {"kv heads", s.KVHeads}, {"head dim", s.HeadDim},
		{"ff", s.FF}, {"context", s.Context}, {"vocab", s.Vocab}, {"q dim", s.Heads * s.HeadDim}} {
		if d.v < 1 || d.v > maxSpecDim {
			return fmt.Errorf("%s %d out of range [1, %d]", d.name, d.v, maxSpecDim)
		}
	}
	if s.Heads%s.KVHeads != 0 {
		return fmt.Errorf("%d heads do not divide into %d kv heads", s.Heads, s.KVHeads)
	}
	if s.Arch == "phi3" && s.Heads*s.HeadDim != s.Embd {
		// llama.cpp's phi3 shapes attn_output as [embd, embd] and slices the fused qkv by embd.
		return fmt.Errorf("phi3 needs heads*head dim (%d) = embd (%d)", s.Heads*s.HeadDim, s.Embd)
	}
	if s.SlidingWindow < 0 || s.SlidingWindow > maxSpecDim {
		return fmt.Errorf("sliding window %d out of range [0, %d]", s.SlidingWindow, maxSpecDim)
	}
	if s.Arch == "gemma2" && s.SlidingWindow == 0 {
		return errors.New("gemma2 needs a sliding window")
	}
	for _, f := range []struct {
		name string
		v    float32
		zero bool // zero allowed
	}{{"rope theta", s.RopeTheta, false}, {"norm eps", s.NormEps, false},
		{"attn softcap", s.AttnSoftcap, true}, {"final softcap", s.FinalSoftcap, true}} {
		v := float64(f.v)
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("%s %g must be finite and not negative", f.name, v)
		}
		if v == 0 && !f.zero {
			return fmt.Errorf("%s must be positive", f.name)
		}
	}
	if s.Arch == "gemma2" && (s.AttnSoftcap == 0 || s.FinalSoftcap == 0) {
		// llama.cpp always soft-caps gemma2: a zero cap divides by zero.
		return errors.New("gemma2 needs both logit soft-caps")
	}
	if s.Arch != "gemma2" && (s.AttnSoftcap != 0 || s.FinalSoftcap != 0) {
		return fmt.Errorf("logit soft-capping is gemma2's; %s would ignore it", s.Arch)
	}
	if err := s.validateSpecial(); err != nil {
		return err
	}
	if _, err := s.byteBase(); err != nil {
		return err
	}
	return nil
}

func (s Spec) validateSpecial() error {
	ids := map[int]bool{}
	texts := map[string]bool{}
	for _, t := range s.Special {
		switch {
		case t.ID < 0 || t.ID >= s.Vocab:
			return fmt.Errorf("special token %q id %d outside the vocabulary of %d", t.Text, t.ID, s.Vocab)
		case t.Text == "":
			return fmt.Errorf("special token %d has no text", t.ID)
		case isByteToken(t.Text):
			return fmt.Errorf("special token %q looks like a byte token", t.Text)
		case ids[t.ID]:
			return fmt.Errorf("special token id %d given twice", t.ID)
		case texts[t.Text]:
			return fmt.Errorf("special token %q given twice", t.Text)
		}
		ids[t.ID], texts[t.Text] = true, true
	}
	for _, id := range []struct {
		name string
		v    int
	}{{"bos", s.BOS}, {"eos", s.EOS}, {"eot", s.EOT}, {"unk", s.UNK}, {"pad", s.PAD}} {
		if id.v != -1 && !ids[id.v] {
			return fmt.Errorf("%s id %d is neither -1 nor a special token", id.name, id.v)
		}
	}
	if s.AddBOS && s.BOS < 0 {
		return errors.New("add bos without a bos token")
	}
	return nil
}
