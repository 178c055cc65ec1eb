package gguf

// llama_ftype values written as general.file_type.
const (
	fileTypeF32    = 0
	fileTypeF16    = 1
	fileTypeQ4_K_M = 15
)

func stringValue(s string) Value      { return Value{typ: ValueString, v: s} }
func uint32Value(n int) Value         { return Value{typ: ValueUint32, v: uint32(n)} }
func float32Value(x float32) Value    { return Value{typ: ValueFloat32, v: x} }
func boolValue(b bool) Value          { return Value{typ: ValueBool, v: b} }
func stringsValue(s []string) Value   { return Value{typ: ValueArray, elem: ValueString, v: s} }
func float32sValue(x []float32) Value { return Value{typ: ValueArray, elem: ValueFloat32, v: x} }
func int32sValue(x []int32) Value     { return Value{typ: ValueArray, elem: ValueInt32, v: x} }

// metadata is the key-value list Write writes for the spec. Key spellings are llama-arch.cpp's;
// the value types are the ones llama-model.cpp and llama-vocab.cpp read them as (its loader
// rejects any other type): u32 for sizes and token ids, f32 for epsilon, rope base and
// soft-capping, bool for the add_* flags.
func (s Spec) metadata(fileType int) ([]KV, error) {
	voc, err := s.vocabulary()
	if err != nil {
		return nil, err
	}
	var kvs []KV
	add := func(key string, v Value) { kvs = append(kvs, KV{Key: key, Value: v}) }
	arch := func(key string, v Value) { add(s.Arch+"."+key, v) }

	add("general.architecture", stringValue(s.Arch))
	if s.Name != "" {
		add("general.name", stringValue(s.Name))
	}
	add("general.file_type", uint32Value(fileType))
	add("general.alignment", uint32Value(defaultAlignment))

	arch("context_length", uint32Value(s.Context))
	arch("embedding_length", uint32Value(s.Embd))
	arch("block_count", uint32Value(s.Layers))
	arch("feed_forward_length", uint32Value(s.FF))
	arch("attention.head_count", uint32Value(s.Heads))
	arch("attention.head_count_kv", uint32Value(s.KVHeads))
	arch("attention.key_length", uint32Value(s.HeadDim))
	arch("attention.value_length", uint32Value(s.HeadDim))
	arch("attention.layer_norm_rms_epsilon", float32Value(s.NormEps))
	arch("rope.freq_base", float32Value(s.RopeTheta))
	arch("rope.dimension_count", uint32Value(s.HeadDim))
	arch("vocab_size", uint32Value(s.Vocab))
	if s.SlidingWindow > 0 && (s.Arch == "gemma2" || s.Arch == "phi3") {
		arch("attention.sliding_window", uint32Value(s.SlidingWindow))
	}
	if s.Arch == "gemma2" {
		arch("attn_logit_softcapping", float32Value(s.AttnSoftcap))
		arch("final_logit_softcapping", float32Value(s.FinalSoftcap))
	}

	add("tokenizer.ggml.model", stringValue("llama"))
	add("tokenizer.ggml.tokens", stringsValue(voc.tokens))
	add("tokenizer.ggml.scores", float32sValue(voc.scores))
	add("tokenizer.ggml.token_type", int32sValue(voc.types))
	for _, id := range []struct {
		key string
		id  int
	}{{"bos", s.BOS}, {"eos", s.EOS}, {"eot", s.EOT}, {"unknown", s.UNK}, {"padding", s.PAD}} {
		if id.id >= 0 {
			add("tokenizer.ggml."+id.key+"_token_id", uint32Value(id.id))
		}
	}
	add("tokenizer.ggml.add_bos_token", boolValue(s.AddBOS))
	add("tokenizer.ggml.add_eos_token", boolValue(false))
	add("tokenizer.ggml.add_space_prefix", boolValue(s.AddSpacePrefix))
	if s.ChatTemplate != "" {
		add("tokenizer.chat_template", stringValue(s.ChatTemplate))
	}
	return kvs, nil
}
