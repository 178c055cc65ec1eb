package ggufttest

import (
	"encoding/binary"
	"fmt"
)

// layout is where each field of a valid GGUF file lies, found by a walker of its own rather
// than by package gguf's parser, so that the cases built on it test that parser independently.
type layout struct {
	kvs       map[string]kvPos
	tensors   []tensorPos
	headerEnd int64 // end of the tensor infos, before the padding
	data      int64 // start of the data section
}

type kvPos struct {
	start int64 // the key's length
	typ   int64 // the value type
	value int64 // the value; for an array, its element type, then length, then elements
}

type tensorPos struct {
	name                 string
	start                int64 // the name's length
	nDims, dims, typ, ot int64 // fields; ot is the data offset field
	offset               int64 // the data offset's value
}

// fixedSize is the encoded size of each GGUF value type; 0 for strings and arrays.
var fixedSize = [...]int64{1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8}

const (
	typeString = 8
	typeArray  = 9
)

func walk(b []byte) (layout, error) {
	w := walker{b: b, off: 24}
	l := layout{kvs: map[string]kvPos{}}
	nTensors := w.u64at(8)
	nKV := w.u64at(16)
	for range nKV {
		p := kvPos{start: w.off}
		key := w.str()
		p.typ = w.off
		typ := w.u32()
		p.value = w.off
		if typ == typeArray {
			elem := w.u32()
			n := w.u64()
			for range n {
				w.skip(elem)
			}
		} else {
			w.skip(typ)
		}
		l.kvs[key] = p
	}
	for range nTensors {
		t := tensorPos{start: w.off}
		t.name = w.str()
		t.nDims = w.off
		n := w.u32()
		t.dims = w.off
		w.off += 8 * int64(n)
		t.typ = w.off
		w.u32()
		t.ot = w.off
		t.offset = int64(w.u64())
		l.tensors = append(l.tensors, t)
	}
	if w.err != nil {
		return layout{}, w.err
	}
	l.headerEnd = w.off
	l.data = (w.off + 31) / 32 * 32
	return l, nil
}

type walker struct {
	b   []byte
	off int64
	err error
}

func (w *walker) need(n int64) bool {
	if w.err == nil && w.off+n > int64(len(w.b)) {
		w.err = fmt.Errorf("walk: %d bytes needed at offset %d of %d", n, w.off, len(w.b))
	}
	return w.err == nil
}

func (w *walker) u64at(off int64) uint64 { return binary.LittleEndian.Uint64(w.b[off:]) }

func (w *walker) u32() uint32 {
	if !w.need(4) {
		return 0
	}
	w.off += 4
	return binary.LittleEndian.Uint32(w.b[w.off-4:])
}

func (w *walker) u64() uint64 {
	if !w.need(8) {
		return 0
	}
	w.off += 8
	return w.u64at(w.off - 8)
}

func (w *walker) str() string {
	n := int64(w.u64())
	if !w.need(n) {
		return ""
	}
	w.off += n
	return string(w.b[w.off-n : w.off])
}

func (w *walker) skip(typ uint32) {
	switch {
	case typ == typeString:
		w.str()
	case int(typ) < len(fixedSize) && fixedSize[typ] > 0:
		w.off += fixedSize[typ]
	default:
		w.err = fmt.Errorf("walk: value type %d at offset %d", typ, w.off)
	}
}
