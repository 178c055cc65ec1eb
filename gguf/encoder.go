package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// encoder writes GGUF's little-endian encoding, counting bytes and keeping the first error so
// that callers check once at the end.
type encoder struct {
	w   io.Writer
	n   int64
	err error
	buf [8]byte
}

func (e *encoder) write(b []byte) {
	if e.err != nil {
		return
	}
	n, err := e.w.Write(b)
	e.n += int64(n)
	e.err = err
}

func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.write(e.buf[:4])
}

func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:8], v)
	e.write(e.buf[:8])
}

func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	if e.err == nil {
		n, err := io.WriteString(e.w, s)
		e.n += int64(n)
		e.err = err
	}
}

// pad writes zeros up to the next multiple of align.
func (e *encoder) pad(align int64) {
	var zeros [64]byte
	for n := alignUp(e.n, align) - e.n; n > 0; n -= int64(len(zeros)) {
		e.write(zeros[:min(n, int64(len(zeros)))])
	}
}

// header writes everything before the data section, padded to the alignment.
func (e *encoder) header(kvs []KV, tensors []TensorInfo, align int64) {
	e.write([]byte(magic))
	e.u32(3)
	e.u64(uint64(len(tensors)))
	e.u64(uint64(len(kvs)))
	for _, kv := range kvs {
		e.str(kv.Key)
		e.value(kv.Value)
	}
	for _, t := range tensors {
		e.str(t.Name)
		e.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			e.u64(uint64(d))
		}
		e.u32(uint32(t.Type))
		e.u64(uint64(t.Offset))
	}
	e.pad(align)
}

func (e *encoder) value(v Value) {
	e.u32(uint32(v.typ))
	if v.typ == ValueArray {
		e.u32(uint32(v.elem))
		e.u64(uint64(v.Len()))
	}
	switch x := v.v.(type) {
	case string:
		e.str(x)
	case []string:
		for _, s := range x {
			e.str(s)
		}
	case uint32:
		e.u32(x)
	case float32:
		e.u32(math.Float32bits(x))
	case bool:
		e.scalar(x)
	case []float32:
		e.scalar(x)
	case []int32:
		e.scalar(x)
	default:
		// The writer builds its values with the constructors in metadata.go.
		e.err = fmt.Errorf("encode %T: unsupported value", x)
	}
}

// scalar writes fixed-size data with encoding/binary, which lays bools out as one byte.
func (e *encoder) scalar(x any) {
	if e.err == nil {
		e.err = binary.Write(countingWriter{e}, binary.LittleEndian, x)
	}
}

// countingWriter routes binary.Write through the encoder's byte count.
type countingWriter struct{ e *encoder }

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.e.w.Write(b)
	c.e.n += int64(n)
	return n, err
}
