// Package ggufttest builds GGUF files for tests: a small valid model and malformed variants of
// it, each broken in one way, so that the validator in package gguf and the llama.cpp loader
// behind it can be fed the same files.
package ggufttest

import (
	"encoding/binary"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/local-llm-bench/llmbench/gguf"
)

// Case is one malformed or unreadable file.
type Case struct {
	// Name says what is broken, for t.Run.
	Name string
	// Path is the file (or directory, or missing path).
	Path string
	// WantErr is what the error must match with errors.Is: gguf.ErrInvalid for a malformed
	// file, fs.ErrNotExist, fs.ErrPermission or syscall.EISDIR for the others.
	WantErr error
	// Reason is a substring of the error message that names the problem.
	Reason string
	// UnsafeForLlama marks files that the pinned llama.cpp, without gguf.Validate in front of
	// it, does not reject cleanly: it aborts the process, reads out of bounds, or loads
	// garbage. Feed them only through a loader that validates first.
	UnsafeForLlama bool
}

// Spec is the valid model the cases are made from: a one-layer llama, 65 KB as F16, that
// llama.cpp loads and runs.
func Spec() gguf.Spec {
	return gguf.Spec{
		ID: "ggufttest", Arch: "llama", Name: "ggufttest",
		Layers: 1, Embd: 32, Heads: 2, KVHeads: 1, HeadDim: 16, FF: 64,
		Context: 128, RopeTheta: 10000, NormEps: 1e-5,
		Vocab: 320, Special: []gguf.SpecialToken{{ID: 0, Text: "<unk>"}, {ID: 1, Text: "<s>"}, {ID: 2, Text: "</s>"}},
		BOS: 1, EOS: 2, EOT: -1, UNK: 0, PAD: -1, AddBOS: true, AddSpacePrefix: true,
	}
}

// Valid writes the valid model of Spec to dir and returns its path.
func Valid(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "valid.gguf")
	if err := gguf.Write(path, Spec(), gguf.WriteOptions{Seed: 1, Type: gguf.TypeF16}); err != nil {
		t.Fatalf("ggufttest: %v", err)
	}
	return path
}

// Malformed writes the malformed files to dir (t.TempDir(), say) and returns them: each is the valid model with
// one fault, in the header, a key-value pair, a tensor info, the data or the tokenizer
// metadata, plus an empty file, a directory, a missing path and, unless the test runs as root
// (which reads any file), a file without read permission.
func Malformed(t testing.TB, dir string) []Case {
	t.Helper()
	base, err := os.ReadFile(Valid(t, dir))
	if err != nil {
		t.Fatalf("ggufttest: %v", err)
	}
	l, err := walk(base)
	if err != nil {
		t.Fatalf("ggufttest: %v", err)
	}
	m := mutator{t: t, dir: dir, base: base, l: l}
	last := l.tensors[len(l.tensors)-1]
	embd := l.tensors[0] // token_embd.weight, 2-D
	norm := l.tensors[1] // blk.0.attn_norm.weight, 1-D
	q, k := m.tensor("blk.0.attn_q.weight"), m.tensor("blk.0.attn_k.weight")
	name, tokens, scores := m.kv("general.name"), m.kv("tokenizer.ggml.tokens"), m.kv("tokenizer.ggml.scores")
	align, eos := m.kv("general.alignment"), m.kv("tokenizer.ggml.eos_token_id")
	token4 := m.stringElem(tokens, 4) // "<0x01>"; token 3 is "<0x00>"
	blocks, eps := m.kv("llama.block_count"), m.kv("llama.attention.layer_norm_rms_epsilon")

	cases := []Case{
		m.bytes("empty file", nil, "empty"),
		m.bytes("truncated in header", base[:12], "truncated"),
		m.bytes("truncated in kv", base[:name.value+10], "truncated"),
		m.bytes("truncated in tensor infos", base[:q.start+5], "truncated"),
		m.bytes("truncated in data", base[:l.data+last.offset+2], "past the end"),
		m.put("wrong magic", 0, []byte("GGML"), "magic"),
		m.u32("version 1", 4, 1, "version 1"),
		m.u32("version 99", 4, 99, "version 99"),
		m.u32("big-endian version", 4, 3<<24, "byte-swapped"),
		m.u64("absurd tensor count", 8, 1<<60, "tensors cannot fit"),
		m.u64("absurd kv count", 16, 1<<60, "pairs cannot fit"),
		m.u64("absurd string length", name.start, 1<<60, "string length"),
		m.u64("string past end", name.value, uint64(len(base)), "string length"),
		m.u64("absurd array length", tokens.value+4, 1<<60, "array of"),
		m.u32("unknown kv type", name.typ, 13, "unknown value type 13"),
		m.u32("unknown array element type", scores.value, 99, "unknown value type 99"),
		m.u32("nested array", scores.value, typeArray, "nested arrays"),
		m.put("duplicate key", eos.start+8, []byte("tokenizer.ggml.bos_token_id"), "duplicate key"),
		m.u32("n_dims 0", norm.nDims, 0, "0 dimensions"),
		m.u32("n_dims 5", norm.nDims, 5, "5 dimensions"),
		m.u64s("dim overflow", embd.dims, []uint64{1 << 40, 1 << 40}, "overflows"),
		m.u64s("negative dim", embd.dims, []uint64{1 << 63}, "must be positive"),
		// 2^62 F32 elements are 2^64 bytes: ggml_nbytes wraps to 0, so gguf.cpp and the loader's
		// bounds check accept it; only the model's shape check for output.weight stops it.
		m.bytes("data size overflow", m.patched(
			edit{last.dims, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1<<62), 1)},
			edit{last.typ, binary.LittleEndian.AppendUint32(nil, uint32(gguf.TypeF32))},
		), "data size of shape"),
		unsafeForLlama(m.u64s("zero dim", embd.dims+8, []uint64{0}, "must be positive")),
		m.u32("unknown tensor type", q.typ, 99, "unknown ggml type 99"),
		m.u32("removed tensor type", q.typ, 4, "unknown ggml type 4"),
		m.u32("row not whole blocks", q.typ, uint32(gguf.TypeQ4_K), "not a multiple of the Q4_K block size"),
		m.u64("offset past end", last.ot, 1<<40, "past the end"),
		m.u64("misaligned offset", k.ot, uint64(k.offset+1), "alignment"),
		m.u64("overlapping tensors", k.ot, uint64(q.offset), "overlaps"),
		m.u64("gap between tensors", k.ot, uint64(k.offset+32), "gap"),
		m.put("duplicate tensor name", k.start+8, []byte(q.name), "duplicate tensor name"),
		m.bytes("tensor name too long", m.spliced(q.start, 8+int64(len(q.name)), gstring(q.name+strings.Repeat("x", 64))), "at most 63"),
		m.u32("alignment 0", align.value, 0, "power of two"),
		m.u32("alignment 3", align.value, 3, "power of two"),
		unsafeForLlama(m.u32("alignment not u32", align.typ, 5, "want u32")),
		unsafeForLlama(m.bytes("empty key", m.spliced(name.start, name.typ-name.start, gstring("")), "empty key")),
		unsafeForLlama(m.put("duplicate token", token4+8, []byte("<0x00>"), "duplicates token")),
		unsafeForLlama(m.bytes("short scores", m.shortScores(scores), "entries for")),
		unsafeForLlama(m.u32("scores not f32", scores.value, 5, "want an array of f32")),
		// Found by fuzzing the load path: each made the pinned llama.cpp abort, at load or at
		// the first decode. llama.cpp reads a token up to a NUL byte, so "<0x23>" with its "0"
		// zeroed is "<", another token; without "<0x7A>" (nor "z"), tokenizing a "z" throws.
		unsafeForLlama(m.put("token with a NUL byte", m.stringElem(tokens, 3+0x23)+8+int64(len("<")), []byte{0}, "duplicates token")),
		unsafeForLlama(m.put("no token for a byte", m.stringElem(tokens, 3+0x7A)+8, []byte("<0x7a>"), "no token <0x7A>")),
		unsafeForLlama(m.u32("alignment 16", align.value, 16, "alignment 16 is below 32")),
		unsafeForLlama(m.u32("no blocks", blocks.value, 0, "0 blocks")),
		unsafeForLlama(m.u32("NaN epsilon", eps.value, math.Float32bits(float32(math.NaN())), "epsilon NaN")),
		unsafeForLlama(m.u32("negative epsilon", eps.value, math.Float32bits(-1e-5), "epsilon -1e-05")),
	}
	subdir := filepath.Join(dir, "directory.gguf")
	if err := os.MkdirAll(subdir, 0o755); err != nil {
		t.Fatalf("ggufttest: %v", err)
	}
	cases = append(cases,
		Case{Name: "directory", Path: subdir, WantErr: syscall.EISDIR, Reason: "is a directory"},
		Case{Name: "missing file", Path: filepath.Join(dir, "missing.gguf"), WantErr: fs.ErrNotExist, Reason: "no such file"},
	)
	if os.Geteuid() != 0 {
		p := filepath.Join(dir, "unreadable.gguf")
		if err := os.WriteFile(p, base, 0o000); err != nil {
			t.Fatalf("ggufttest: %v", err)
		}
		cases = append(cases, Case{Name: "unreadable file", Path: p, WantErr: fs.ErrPermission, Reason: "permission denied"})
	}
	return cases
}

func unsafeForLlama(c Case) Case {
	c.UnsafeForLlama = true
	return c
}

// gstring encodes a GGUF string: its length, then its bytes.
func gstring(s string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, uint64(len(s))), s...)
}

// mutator writes variants of the base file.
type mutator struct {
	t    testing.TB
	dir  string
	base []byte
	l    layout
}

func (m mutator) kv(key string) kvPos {
	p, ok := m.l.kvs[key]
	if !ok {
		m.t.Fatalf("ggufttest: no key %s in the base file", key)
	}
	return p
}

func (m mutator) tensor(name string) tensorPos {
	for _, t := range m.l.tensors {
		if t.name == name {
			return t
		}
	}
	m.t.Fatalf("ggufttest: no tensor %s in the base file", name)
	return tensorPos{}
}

// bytes writes b as the case's file.
func (m mutator) bytes(name string, b []byte, reason string) Case {
	m.t.Helper()
	path := filepath.Join(m.dir, fileName(name))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		m.t.Fatalf("ggufttest: %v", err)
	}
	return Case{Name: name, Path: path, WantErr: gguf.ErrInvalid, Reason: reason}
}

// edit is bytes to write over the base at an offset.
type edit struct {
	off int64
	b   []byte
}

// patched is a copy of the base with the edits applied.
func (m mutator) patched(edits ...edit) []byte {
	out := append([]byte(nil), m.base...)
	for _, e := range edits {
		copy(out[e.off:], e.b)
	}
	return out
}

// put overwrites the base at off with b.
func (m mutator) put(name string, off int64, b []byte, reason string) Case {
	return m.bytes(name, m.patched(edit{off, b}), reason)
}

func (m mutator) u32(name string, off int64, v uint32, reason string) Case {
	return m.put(name, off, binary.LittleEndian.AppendUint32(nil, v), reason)
}

func (m mutator) u64(name string, off int64, v uint64, reason string) Case {
	return m.put(name, off, binary.LittleEndian.AppendUint64(nil, v), reason)
}

func (m mutator) u64s(name string, off int64, vs []uint64, reason string) Case {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return m.put(name, off, b, reason)
}

// stringElem is the offset of element i of the string array whose value starts at kv.value.
func (m mutator) stringElem(kv kvPos, i int) int64 {
	off := kv.value + 12
	for range i {
		off += 8 + int64(binary.LittleEndian.Uint64(m.base[off:]))
	}
	return off
}

// spliced is the base with n bytes at off (inside the header) replaced by b, and the padding
// before the data section redone, so that the data section starts aligned as before and the
// tensor offsets, which count from it, still point at their data.
func (m mutator) spliced(off, n int64, b []byte) []byte {
	out := append([]byte(nil), m.base[:off]...)
	out = append(out, b...)
	out = append(out, m.base[off+n:m.l.headerEnd]...)
	for len(out)%32 != 0 {
		out = append(out, 0)
	}
	return append(out, m.base[m.l.data:]...)
}

// shortScores drops the last entry of tokenizer.ggml.scores, from which llama.cpp would read
// one float past the array.
func (m mutator) shortScores(scores kvPos) []byte {
	n := binary.LittleEndian.Uint64(m.base[scores.value+4:])
	out := m.spliced(scores.value+12+4*int64(n)-4, 4, nil)
	binary.LittleEndian.PutUint64(out[scores.value+4:], n-1)
	return out
}

func fileName(name string) string {
	return strings.ReplaceAll(name, " ", "_") + ".gguf"
}
