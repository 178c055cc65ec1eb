package gguf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// microSpec is the smallest model the writer makes, about 15 KB: a fuzzing seed small enough
// to mutate quickly that still has every kind of field a real model has.
func microSpec() Spec {
	return Spec{
		ID: "micro", Arch: "llama", Name: "micro",
		Layers: 1, Embd: 8, Heads: 2, KVHeads: 1, HeadDim: 4, FF: 16,
		Context: 16, RopeTheta: 10000, NormEps: 1e-5,
		Vocab: 262, Special: []SpecialToken{{0, "<unk>"}, {1, "<s>"}, {2, "</s>"}},
		BOS: 1, EOS: 2, EOT: -1, UNK: 0, PAD: -1, AddBOS: true, AddSpacePrefix: true,
		ChatTemplate: mistralTemplate,
	}
}

// smallFile is a valid GGUF of a few hundred bytes with metadata of several types and three
// tensors, the quickest seed to mutate.
func smallFile() []byte {
	kvs := []KV{
		{Key: "general.architecture", Value: stringValue("llama")},
		{Key: "general.alignment", Value: uint32Value(32)},
		{Key: "tokenizer.ggml.tokens", Value: stringsValue([]string{"<unk>", "<s>", "a"})},
		{Key: "tokenizer.ggml.scores", Value: float32sValue([]float32{0, 0, -1})},
		{Key: "tokenizer.ggml.token_type", Value: int32sValue([]int32{2, 3, 1})},
		{Key: "tokenizer.ggml.add_bos_token", Value: boolValue(true)},
	}
	ts := []TensorInfo{
		{Name: "norm.weight", Dims: []int64{4}, Type: TypeF32},
		{Name: "w.weight", Dims: []int64{8, 2}, Type: TypeF16},
		{Name: "q.weight", Dims: []int64{32, 1, 1, 1}, Type: TypeQ4_0},
	}
	data := layout(ts, defaultAlignment)
	var buf bytes.Buffer
	e := &encoder{w: &buf}
	e.header(kvs, ts, defaultAlignment)
	e.write(make([]byte, data))
	return buf.Bytes()
}

// FuzzValidate feeds arbitrary bytes to the validator: it must never panic or hang, every
// error must be ErrInvalid (a bytes.Reader cannot fail otherwise), and whatever it accepts
// must hold together: tensors aligned, packed, of a size that does not overflow, and inside
// the file. testdata/fuzz/FuzzValidate holds small seeds and the input of a bug found while
// writing it (nbytes-overflow: a tensor whose byte size wrapped to zero was accepted).
func FuzzValidate(f *testing.F) {
	path := filepath.Join(f.TempDir(), "micro.gguf")
	if err := Write(path, microSpec(), WriteOptions{Seed: 1, Type: TypeF16}); err != nil {
		f.Fatal(err)
	}
	micro, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(micro)
	f.Add(smallFile())
	f.Add(header(3))
	f.Add(header(3, rawKV{"general.alignment", ValueUint32, le(uint32(64))},
		rawKV{"a", ValueArray, le(uint32(ValueString), uint64(2), "x", "y")}))

	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := ValidateReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not match ErrInvalid: %v", err)
			}
			return
		}
		if file.Alignment <= 0 || file.Alignment&(file.Alignment-1) != 0 {
			t.Fatalf("alignment %d", file.Alignment)
		}
		if file.DataOffset%file.Alignment != 0 {
			t.Fatalf("data offset %d not aligned to %d", file.DataOffset, file.Alignment)
		}
		var next int64
		for _, ti := range file.Tensors {
			if ti.Offset != next {
				t.Fatalf("%s at %d, want %d", ti.Name, ti.Offset, next)
			}
			// The size in floating point, which cannot wrap around as integer arithmetic can.
			size := float64(ti.Type.TypeSize()) / float64(ti.Type.BlockSize())
			for _, d := range ti.Dims {
				size *= float64(d)
			}
			if size > float64(int64(len(b))-file.DataOffset-ti.Offset) {
				t.Fatalf("%s: %g bytes of data accepted in a %d-byte file", ti.Name, size, len(b))
			}
			if end := file.DataOffset + ti.Offset + ti.Bytes(); end > int64(len(b)) || end < file.DataOffset {
				t.Fatalf("%s ends at %d of %d", ti.Name, end, len(b))
			}
			next = alignUp(ti.Offset+ti.Bytes(), file.Alignment)
		}
	})
}
