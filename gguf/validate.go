package gguf

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// Validate parses the GGUF header of the file at path and checks everything llama.cpp would
// trust about it: magic, version, counts and lengths against the file size, value and tensor
// types, shapes, alignment, each tensor's data inside the file and packed without overlap, no
// duplicate keys or tensor names, general.alignment typed u32, and the tokenizer arrays that
// llama.cpp indexes without checking: distinct token strings, f32 scores and i32 token types
// at least one per token, string merges. It reads only the header, through a buffer, so it
// is cheap for a multi-gigabyte model.
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
// tokenizer.ggml.tokens must be a string array of distinct tokens (a duplicate trips a
// GGML_ASSERT), tokenizer.ggml.scores an f32 array and tokenizer.ggml.token_type an i32 array
// at least as long (they are read as raw float and int pointers), and tokenizer.ggml.merges a
// string array.
func checkLlama(f *File) error {
	kvErr := func(key, format string, args ...any) error {
		return invalid(f.KV[f.keys[key]].Offset, "kv "+strconv.Quote(key), format, args...)
	}
	for _, key := range []string{"tokenizer.ggml.tokens", "tokenizer.ggml.merges"} {
		if v, ok := f.Lookup(key); ok && (v.typ != ValueArray || v.elem != ValueString) {
			return kvErr(key, "type is %s, want an array of strings", describe(v))
		}
	}
	tv, ok := f.Lookup("tokenizer.ggml.tokens")
	if !ok {
		return nil
	}
	tokens := tv.v.([]string)
	seen := make(map[string]int, len(tokens))
	for i, t := range tokens {
		if t == "" {
			t = "[EMPTY_" + strconv.Itoa(i) + "]" // what llama.cpp renames an empty token to
		}
		if j, dup := seen[t]; dup {
			return kvErr("tokenizer.ggml.tokens", "token %d %q duplicates token %d", i, t, j)
		}
		seen[t] = i
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
			return kvErr(a.key, "type is %s, want an array of %s", describe(v), a.elem)
		}
		if v.Len() < len(tokens) {
			return kvErr(a.key, "%d entries for %d tokens", v.Len(), len(tokens))
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
