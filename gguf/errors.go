package gguf

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched (errors.Is) by every error that reports a malformed GGUF file, as
// opposed to a file that could not be opened or read.
var ErrInvalid = errors.New("invalid gguf file")

// FormatError says where a GGUF file breaks the format or a rule the pinned llama.cpp relies
// on. It matches ErrInvalid.
type FormatError struct {
	// Offset is the byte offset in the file of the field that is wrong.
	Offset int64
	// Field names what was being read, for example `tensor "blk.0.attn_q.weight" type`.
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *FormatError) Error() string {
	return fmt.Sprintf("invalid gguf: %s at offset %d: %s", e.Field, e.Offset, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) true for every FormatError.
func (e *FormatError) Is(target error) bool { return target == ErrInvalid }
