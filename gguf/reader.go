package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"reflect"
)

const (
	magic            = "GGUF"
	defaultAlignment = 32
	// maxDims is GGML_MAX_DIMS.
	maxDims = 4
	// maxNameLen is GGML_MAX_NAME: ggml keeps names in a 64-byte array with a terminating NUL.
	maxNameLen = 64
	// minKVSize is the smallest pair: a one-byte key, its length, a type and a one-byte value.
	minKVSize = 8 + 1 + 4 + 1
	// minTensorInfoSize is the smallest tensor info: an empty name, n_dims, one dim, type, offset.
	minTensorInfoSize = 8 + 4 + 8 + 4 + 8
	// readAhead caps what is allocated up front for a count read from the file, so that memory
	// grows only as values are actually read.
	readAhead = 1 << 12
)

// parser reads a GGUF header sequentially through a buffered reader, never past size.
type parser struct {
	r    *bufio.Reader
	off  int64
	size int64
	buf  [8]byte
}

// ValidateReader parses and checks the GGUF header of the size bytes in r, as Validate does for
// a file. Every count and length in the header is checked against the bytes left before
// anything is allocated for it.
func ValidateReader(r io.ReaderAt, size int64) (*File, error) {
	if size <= 0 {
		return nil, invalid(0, "file", "file is empty")
	}
	p := &parser{r: bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 1<<16), size: size}
	f, offsetFields, err := p.header()
	if err != nil {
		return nil, err
	}
	if err := checkData(f, offsetFields); err != nil {
		return nil, err
	}
	if err := checkLlama(f); err != nil {
		return nil, err
	}
	if err := checkHparams(f); err != nil {
		return nil, err
	}
	return f, nil
}

// invalid makes the FormatError for the field at off.
func invalid(off int64, field, format string, args ...any) error {
	return &FormatError{Offset: off, Field: field, Reason: fmt.Sprintf(format, args...)}
}

func (p *parser) left() int64 { return p.size - p.off }

// read fills b; a short read is a truncated file, any other error is the reader's.
func (p *parser) read(b []byte, field string) error {
	start := p.off
	n, err := io.ReadFull(p.r, b)
	p.off += int64(n)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalid(start, field, "file ends after %d bytes, inside this field (truncated)", p.size)
	}
	if err != nil {
		return fmt.Errorf("read %s at offset %d: %w", field, start, err)
	}
	return nil
}

func (p *parser) u32(field string) (uint32, error) {
	if err := p.read(p.buf[:4], field); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(p.buf[:4]), nil
}

func (p *parser) u64(field string) (uint64, error) {
	if err := p.read(p.buf[:8], field); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(p.buf[:8]), nil
}

func (p *parser) str(field string) (string, error) {
	start := p.off
	n, err := p.u64(field + " length")
	if err != nil {
		return "", err
	}
	if n > uint64(p.left()) {
		return "", invalid(start, field, "string length %d exceeds the %d bytes left in the file", n, p.left())
	}
	b := make([]byte, n)
	if err := p.read(b, field); err != nil {
		return "", err
	}
	return string(b), nil
}

// header parses everything before the data section. It also returns where each tensor's
// offset field lies, for the errors of checkData.
func (p *parser) header() (*File, []int64, error) {
	if err := p.read(p.buf[:4], "magic"); err != nil {
		return nil, nil, err
	}
	if string(p.buf[:4]) != magic {
		return nil, nil, invalid(0, "magic", "got %q, want %q: not a GGUF file", p.buf[:4], magic)
	}
	f := &File{Size: p.size, Alignment: defaultAlignment, keys: map[string]int{}}
	var err error
	if f.Version, err = p.u32("version"); err != nil {
		return nil, nil, err
	}
	switch {
	case f.Version == 0:
		return nil, nil, invalid(4, "version", "version 0 is invalid")
	case f.Version == 1:
		return nil, nil, invalid(4, "version", "GGUF version 1 is no longer supported by llama.cpp")
	case f.Version&0xFFFF == 0:
		return nil, nil, invalid(4, "version", "version %#x looks byte-swapped: a big-endian file?", f.Version)
	case f.Version != 2 && f.Version != 3:
		return nil, nil, invalid(4, "version", "unsupported GGUF version %d (want 2 or 3)", f.Version)
	}
	nTensors, err := p.u64("tensor count")
	if err != nil {
		return nil, nil, err
	}
	nKV, err := p.u64("kv count")
	if err != nil {
		return nil, nil, err
	}
	room := uint64(p.left())
	if nTensors > room/minTensorInfoSize {
		return nil, nil, invalid(8, "tensor count", "%d tensors cannot fit in a %d-byte file (corrupt or truncated)", nTensors, p.size)
	}
	if nKV > room/minKVSize {
		return nil, nil, invalid(16, "kv count", "%d key-value pairs cannot fit in a %d-byte file (corrupt or truncated)", nKV, p.size)
	}
	if nTensors*minTensorInfoSize+nKV*minKVSize > room {
		return nil, nil, invalid(8, "tensor count", "%d tensors and %d key-value pairs cannot fit in a %d-byte file (corrupt or truncated)", nTensors, nKV, p.size)
	}

	f.KV = make([]KV, 0, min(nKV, readAhead))
	for i := range nKV {
		kv, err := p.kv(i)
		if err != nil {
			return nil, nil, err
		}
		if j, dup := f.keys[kv.Key]; dup {
			return nil, nil, invalid(kv.Offset, fmt.Sprintf("kv %q", kv.Key), "duplicate key (first at offset %d)", f.KV[j].Offset)
		}
		f.keys[kv.Key] = len(f.KV)
		f.KV = append(f.KV, kv)
	}
	if err := f.readAlignment(); err != nil {
		return nil, nil, err
	}

	f.Tensors = make([]TensorInfo, 0, min(nTensors, readAhead))
	offsetFields := make([]int64, 0, min(nTensors, readAhead))
	names := make(map[string]int64, min(nTensors, readAhead))
	for i := range nTensors {
		start := p.off
		t, offField, err := p.tensorInfo(i)
		if err != nil {
			return nil, nil, err
		}
		if first, dup := names[t.Name]; dup {
			return nil, nil, invalid(start, fmt.Sprintf("tensor %q", t.Name), "duplicate tensor name (first at offset %d)", first)
		}
		names[t.Name] = start
		f.Tensors = append(f.Tensors, t)
		offsetFields = append(offsetFields, offField)
	}
	f.DataOffset = alignUp(p.off, f.Alignment)
	return f, offsetFields, nil
}

func (p *parser) kv(i uint64) (KV, error) {
	kv := KV{Offset: p.off}
	var err error
	if kv.Key, err = p.str(fmt.Sprintf("kv[%d] key", i)); err != nil {
		return kv, err
	}
	field := fmt.Sprintf("kv %q", kv.Key)
	if kv.Key == "" {
		// gguf.cpp asserts on an empty key, which aborts the process.
		return kv, invalid(kv.Offset, fmt.Sprintf("kv[%d] key", i), "empty key")
	}
	typeOff := p.off
	t, err := p.u32(field + " type")
	if err != nil {
		return kv, err
	}
	typ := ValueType(t)
	if !typ.known() {
		return kv, invalid(typeOff, field+" type", "unknown value type %d", t)
	}
	if typ != ValueArray {
		kv.Value, err = p.scalar(typ, field)
		return kv, err
	}
	kv.Value, err = p.array(field)
	return kv, err
}

func (p *parser) scalar(typ ValueType, field string) (Value, error) {
	v := Value{typ: typ}
	if typ == ValueString {
		s, err := p.str(field)
		v.v = s
		return v, err
	}
	arr, err := p.numbers(typ, 1, field)
	if err != nil {
		return v, err
	}
	v.v = reflect.ValueOf(arr).Index(0).Interface()
	return v, nil
}

func (p *parser) array(field string) (Value, error) {
	v := Value{typ: ValueArray}
	elemOff := p.off
	t, err := p.u32(field + " element type")
	if err != nil {
		return v, err
	}
	v.elem = ValueType(t)
	switch {
	case v.elem == ValueArray:
		// gguf.cpp rejects arrays of arrays, so there is no nesting to bound.
		return v, invalid(elemOff, field+" element type", "nested arrays are not supported by llama.cpp")
	case !v.elem.known():
		return v, invalid(elemOff, field+" element type", "unknown value type %d", t)
	}
	lenOff := p.off
	n, err := p.u64(field + " length")
	if err != nil {
		return v, err
	}
	if n > uint64(p.left())/uint64(v.elem.minSize()) {
		return v, invalid(lenOff, field+" length", "array of %d %s needs at least %d bytes per element but %d bytes are left",
			n, v.elem, v.elem.minSize(), p.left())
	}
	if v.elem == ValueString {
		s := make([]string, 0, min(n, readAhead))
		for i := range n {
			e, err := p.str(fmt.Sprintf("%s[%d]", field, i))
			if err != nil {
				return v, err
			}
			s = append(s, e)
		}
		v.v = s
		return v, nil
	}
	v.v, err = p.numbers(v.elem, n, field)
	return v, err
}

// numbers reads n fixed-size elements of typ into a slice of their Go type.
func (p *parser) numbers(typ ValueType, n uint64, field string) (any, error) {
	le := binary.LittleEndian
	switch typ {
	case ValueUint8:
		return readArray(p, n, 1, field, func(b []byte) uint8 { return b[0] })
	case ValueInt8:
		return readArray(p, n, 1, field, func(b []byte) int8 { return int8(b[0]) })
	case ValueUint16:
		return readArray(p, n, 2, field, le.Uint16)
	case ValueInt16:
		return readArray(p, n, 2, field, func(b []byte) int16 { return int16(le.Uint16(b)) })
	case ValueUint32:
		return readArray(p, n, 4, field, le.Uint32)
	case ValueInt32:
		return readArray(p, n, 4, field, func(b []byte) int32 { return int32(le.Uint32(b)) })
	case ValueFloat32:
		return readArray(p, n, 4, field, func(b []byte) float32 { return math.Float32frombits(le.Uint32(b)) })
	case ValueBool:
		return readArray(p, n, 1, field, func(b []byte) bool { return b[0] != 0 }) // as gguf.cpp reads it
	case ValueUint64:
		return readArray(p, n, 8, field, le.Uint64)
	case ValueInt64:
		return readArray(p, n, 8, field, func(b []byte) int64 { return int64(le.Uint64(b)) })
	case ValueFloat64:
		return readArray(p, n, 8, field, func(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) })
	}
	return nil, fmt.Errorf("read %s: %s is not a fixed-size type", field, typ)
}

// readArray reads n elements of size bytes in chunks, so that an array costs no more memory
// than it has bytes in the file, whatever its length field says. The caller has checked that
// n*size fits in the bytes left.
func readArray[T any](p *parser, n, size uint64, field string, decode func([]byte) T) (any, error) {
	out := make([]T, 0, min(n, readAhead))
	chunk := make([]byte, min(n*size, readAhead*8))
	for uint64(len(out)) < n {
		b := chunk[:min(n-uint64(len(out)), uint64(len(chunk))/size)*size]
		if err := p.read(b, field); err != nil {
			return nil, err
		}
		for i := 0; i < len(b); i += int(size) {
			out = append(out, decode(b[i:]))
		}
	}
	return out, nil
}

// readAlignment applies general.alignment, which gguf.cpp reads with gguf_get_val_u32: any
// other type trips an assertion there and aborts the process. Below 32 (ggml's
// TENSOR_ALIGNMENT), weights that llama.cpp maps in place may start misaligned, and it aborts.
func (f *File) readAlignment() error {
	i, ok := f.keys["general.alignment"]
	if !ok {
		return nil
	}
	kv := f.KV[i]
	a, isU32 := kv.Value.v.(uint32)
	switch {
	case !isU32:
		return invalid(kv.Offset, `kv "general.alignment"`, "type is %s, want u32", kv.Value.typ)
	case a == 0 || a&(a-1) != 0:
		return invalid(kv.Offset, `kv "general.alignment"`, "alignment %d is not a nonzero power of two", a)
	case a < defaultAlignment:
		return invalid(kv.Offset, `kv "general.alignment"`, "alignment %d is below %d: llama.cpp maps the weights in place and aborts unless they are %d-byte aligned", a, defaultAlignment, defaultAlignment)
	}
	f.Alignment = int64(a)
	return nil
}

func (p *parser) tensorInfo(i uint64) (TensorInfo, int64, error) {
	var t TensorInfo
	start := p.off
	var err error
	if t.Name, err = p.str(fmt.Sprintf("tensor[%d] name", i)); err != nil {
		return t, 0, err
	}
	field := fmt.Sprintf("tensor %q", t.Name)
	if len(t.Name) >= maxNameLen {
		return t, 0, invalid(start, field+" name", "name is %d bytes; ggml allows at most %d", len(t.Name), maxNameLen-1)
	}
	dimsOff := p.off
	nDims, err := p.u32(field + " n_dims")
	if err != nil {
		return t, 0, err
	}
	if nDims < 1 || nDims > maxDims {
		return t, 0, invalid(dimsOff, field+" n_dims", "%d dimensions, want 1 to %d", nDims, maxDims)
	}
	t.Dims = make([]int64, nDims)
	elems := int64(1)
	for j := range t.Dims {
		off := p.off
		d, err := p.u64(fmt.Sprintf("%s dim %d", field, j))
		if err != nil {
			return t, 0, err
		}
		// gguf.cpp divides by each dim, so a zero there is a crash, not an error.
		if d == 0 || d > math.MaxInt64 {
			return t, 0, invalid(off, fmt.Sprintf("%s dim %d", field, j), "dimension %d must be positive", int64(d))
		}
		if elems > math.MaxInt64/int64(d) {
			return t, 0, invalid(off, fmt.Sprintf("%s dim %d", field, j), "element count overflows int64 (shape %v...)", append(t.Dims[:j:j], int64(d)))
		}
		t.Dims[j] = int64(d)
		elems *= int64(d)
	}
	typeOff := p.off
	typ, err := p.u32(field + " type")
	if err != nil {
		return t, 0, err
	}
	t.Type = TensorType(typ)
	if !t.Type.Known() {
		return t, 0, invalid(typeOff, field+" type", "unknown ggml type %d", typ)
	}
	if t.Dims[0]%t.Type.BlockSize() != 0 {
		return t, 0, invalid(typeOff, field+" type", "row of %d elements is not a multiple of the %s block size %d",
			t.Dims[0], t.Type, t.Type.BlockSize())
	}
	offOff := p.off
	o, err := p.u64(field + " offset")
	if err != nil {
		return t, 0, err
	}
	if o > math.MaxInt64 {
		return t, 0, invalid(offOff, field+" offset", "offset %d is past the end of the file", o)
	}
	t.Offset = int64(o)
	return t, offOff, nil
}

// checkData checks each tensor's data against the alignment, the file's end and its
// neighbours. gguf.cpp requires the tensors packed in info order, each at the previous one's
// end rounded up to the alignment; anything else is rejected there, so it is rejected here.
func checkData(f *File, offsetFields []int64) error {
	var want int64 // where the next tensor must start, relative to the data section
	prev := "the start of the data section"
	for i, t := range f.Tensors {
		field := fmt.Sprintf("tensor %q offset", t.Name)
		off := offsetFields[i]
		nbytes, ok := tensorBytes(t)
		if !ok {
			return invalid(off, field, "data size of shape %v as %s overflows", t.Dims, t.Type)
		}
		switch {
		case t.Offset%f.Alignment != 0:
			return invalid(off, field, "data offset %d is not a multiple of the alignment %d", t.Offset, f.Alignment)
		case t.Offset > f.Size-f.DataOffset || nbytes > f.Size-f.DataOffset-t.Offset:
			return invalid(off, field, "data [%d, +%d) ends past the end of the file (%d bytes of data section)",
				t.Offset, nbytes, max(f.Size-f.DataOffset, 0))
		case t.Offset < want:
			return invalid(off, field, "data at %d overlaps %s, which ends at %d", t.Offset, prev, want)
		case t.Offset > want:
			return invalid(off, field, "data at %d leaves a gap after %s: llama.cpp requires tensors packed in order, this one at %d", t.Offset, prev, want)
		}
		want = alignUp(t.Offset+nbytes, f.Alignment)
		prev = fmt.Sprintf("tensor %q", t.Name)
	}
	return nil
}

// tensorBytes is ggml_nbytes with overflow detection.
func tensorBytes(t TensorInfo) (int64, bool) {
	n := uint64(t.Type.TypeSize())
	for i, d := range t.Dims {
		if i == 0 {
			d /= t.Type.BlockSize()
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		n = lo
	}
	return int64(n), true
}

func alignUp(n, align int64) int64 {
	return (n + align - 1) / align * align
}
