package gguf

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Validate parses the GGUF header of the file at path and checks everything llama.cpp would
// trust about it: magic, version, counts and lengths against the file size, value and tensor
// types, shapes, alignment, each tensor's data inside the file and packed without overlap, no
// duplicate keys or tensor names, general.alignment a u32 power of two of at least 32, the
// tokenizer arrays that llama.cpp indexes without checking: token strings distinct as it
// reads them (up to a NUL byte), a token for each byte of a SentencePiece vocabulary, f32
// scores and i32 token types at least one per token, string merges; and the hyperparameters
// llama.cpp aborts on: a block count of 0 (or 1 for gemma2) and a norm epsilon that is NaN or
// negative. It reads only the header, through a buffer, so it is cheap for a multi-gigabyte
// model.
//
// A malformed file gives an error matching ErrInvalid (a *FormatError naming the field and
// the problem); a file that cannot be opened or read gives the os error, wrapped.
func Validate(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("validate %s: %w", path, syscall.EISDIR)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("validate %s: %w", path, invalid(0, "file", "not a regular file (%s)", st.Mode().Type()))
	}
	f, err := ValidateReader(fd, st.Size())
	if err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	return f, nil
}

// checkLlama checks the tokenizer metadata that llama.cpp's vocabulary loader indexes without
// bounds or type checks, where a bad file aborts or reads out of bounds instead of failing:
// tokenizer.ggml.tokens must be a string array of tokens distinct as llama.cpp reads them (a
// duplicate trips a GGML_ASSERT) with, for a SentencePiece vocabulary, a token for each byte
// (its tokenizer looks them up with unordered_map::at), tokenizer.ggml.scores an f32 array and
// tokenizer.ggml.token_type an i32 array at least as long (they are read as raw float and int
// pointers), and tokenizer.ggml.merges a string array.
func checkLlama(f *File) error {
	for _, key := range []string{"tokenizer.ggml.tokens", "tokenizer.ggml.merges"} {
		if v, ok := f.Lookup(key); ok && (v.typ != ValueArray || v.elem != ValueString) {
			return f.invalidKV(key, "type is %s, want an array of strings", describe(v))
		}
	}
	tv, ok := f.Lookup("tokenizer.ggml.tokens")
	if !ok {
		return nil
	}
	tokens := tv.v.([]string)
	seen := make(map[string]int, len(tokens))
	for i, t := range tokens {
		// llama.cpp reads a token as a C string, up to its first NUL byte: "<\x00x" is "<".
		if nul := strings.IndexByte(t, 0); nul >= 0 {
			t = t[:nul]
		}
		if t == "" {
			t = "[EMPTY_" + strconv.Itoa(i) + "]" // what llama.cpp renames an empty token to
		}
		if j, dup := seen[t]; dup {
			return f.invalidKV("tokenizer.ggml.tokens", "token %d %q duplicates token %d %q as llama.cpp reads them", i, tokens[i], j, tokens[j])
		}
		seen[t] = i
	}
	// For text it has no piece for, the SentencePiece tokenizer falls back on a token per byte,
	// "<0x7A>" or else "z", and ends the process when neither is there.
	if model, _ := f.Lookup("tokenizer.ggml.model"); model.v == "llama" {
		for b := range 256 {
			hex, raw := fmt.Sprintf("<0x%02X>", b), string([]byte{byte(b)})
			_, hasHex := seen[hex]
			if _, hasRaw := seen[raw]; !hasHex && !hasRaw {
				return f.invalidKV("tokenizer.ggml.tokens", "no token %s or %q for byte %#02x, which the SentencePiece tokenizer falls back on", hex, raw, b)
			}
		}
	}
	for _, a := range []struct {
		key  string
		elem ValueType
	}{{"tokenizer.ggml.scores", ValueFloat32}, {"tokenizer.ggml.token_type", ValueInt32}} {
		v, ok := f.Lookup(a.key)
		if !ok {
			continue
		}
		if v.typ != ValueArray || v.elem != a.elem {
			return f.invalidKV(a.key, "type is %s, want an array of %s", describe(v), a.elem)
		}
		if v.Len() < len(tokens) {
			return f.invalidKV(a.key, "%d entries for %d tokens", v.Len(), len(tokens))
		}
	}
	return nil
}

func describe(v Value) string {
	if v.typ == ValueArray {
		return "an array of " + v.elem.String()
	}
	return v.typ.String()
}

// checkHparams checks the hyperparameters with which the pinned llama.cpp aborts the process
// instead of failing the load: a block count of 0 (it reads layer 0's head count, and
// aborts), a gemma2 of one block (its only layer uses the sliding window, and the first decode
// trips an assertion for the full-attention cache it lacks), and a norm epsilon that is NaN or
// negative (ggml asserts eps >= 0 in the first decode). FuzzLoad in package llama has a seed
// for each.
func checkHparams(f *File) error {
	arch := f.Architecture()
	if arch == "" {
		return nil
	}
	key := arch + ".block_count"
	if v, ok := f.Lookup(key); ok {
		least := uint64(1)
		if arch == "gemma2" {
			least = 2
		}
		if n, ok := v.AsUint(); ok && n < least {
			return f.invalidKV(key, "%d blocks; llama.cpp aborts on fewer than %d for %s", n, least, arch)
		}
	}
	for _, key := range []string{arch + ".attention.layer_norm_rms_epsilon", arch + ".attention.layer_norm_epsilon"} {
		v, ok := f.Lookup(key)
		if !ok {
			continue
		}
		if eps, ok := v.AsFloat(); ok && (math.IsNaN(eps) || eps < 0) {
			return f.invalidKV(key, "epsilon %g; ggml aborts on a NaN or negative one", float32(eps))
		}
	}
	return nil
}

// invalidKV makes the FormatError for the pair of key, which the file holds.
func (f *File) invalidKV(key, format string, args ...any) error {
	return invalid(f.KV[f.keys[key]].Offset, "kv "+strconv.Quote(key), format, args...)
}
