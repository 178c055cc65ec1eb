package gguf

import (
	"math"
	"reflect"
	"slices"
)

// File is the parsed header of a valid GGUF file: its metadata and where each tensor's data
// lies. It holds no tensor data, so it stays small for multi-gigabyte models. It is safe for
// concurrent reads.
type File struct {
	// Version is the GGUF version, 2 or 3.
	Version uint32
	// KV holds the metadata pairs in file order.
	KV []KV
	// Tensors holds the tensor infos in file order.
	Tensors []TensorInfo
	// Alignment is general.alignment, or 32 when the file does not set it.
	Alignment int64
	// DataOffset is where the data section starts; tensor offsets count from here.
	DataOffset int64
	// Size is the size of the whole file in bytes.
	Size int64

	keys map[string]int
}

// Lookup returns the value of the metadata key.
func (f *File) Lookup(key string) (Value, bool) {
	i, ok := f.keys[key]
	if !ok {
		return Value{}, false
	}
	return f.KV[i].Value, true
}

// Architecture returns general.architecture ("llama", "gemma2", ...), or "" when it is missing
// or not a string. Most per-model keys are prefixed with it.
func (f *File) Architecture() string {
	v, _ := f.Lookup("general.architecture")
	s, _ := v.AsString()
	return s
}

// Tensor returns the info of the named tensor.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return TensorInfo{}, false
}

// TensorBytes is the number of bytes of tensor data, without alignment padding: roughly the
// memory the weights take once loaded.
func (f *File) TensorBytes() int64 {
	var n int64
	for _, t := range f.Tensors {
		n += t.Bytes()
	}
	return n
}

// KV is one metadata pair.
type KV struct {
	Key   string
	Value Value
	// Offset is where the pair starts in the file; zero for pairs that were not read from one.
	Offset int64
}

// Value is a typed metadata value: a scalar of one of the GGUF value types, or an array of
// scalars. The As* accessors convert where no information is lost and report false otherwise.
type Value struct {
	typ  ValueType
	elem ValueType
	v    any // the exact Go type: uint8 ... float64, bool, string, or a slice of one of them
}

// Type is the value's type; ValueArray for arrays.
func (v Value) Type() ValueType { return v.typ }

// ElemType is the type of an array's elements; meaningless for scalars.
func (v Value) ElemType() ValueType { return v.elem }

// Raw returns the value as stored: a uint8, int8, uint16, int16, uint32, int32, float32, bool,
// string, uint64, int64 or float64, or a slice of one of them for an array. It is nil for the
// zero Value.
func (v Value) Raw() any { return v.v }

// Len is the number of elements of an array, 1 for a scalar and 0 for the zero Value.
func (v Value) Len() int {
	if v.v == nil {
		return 0
	}
	if v.typ != ValueArray {
		return 1
	}
	return reflect.ValueOf(v.v).Len()
}

// AsString returns a string scalar.
func (v Value) AsString() (string, bool) {
	s, ok := v.v.(string)
	return s, ok
}

// AsBool returns a bool scalar.
func (v Value) AsBool() (bool, bool) {
	b, ok := v.v.(bool)
	return b, ok
}

// AsUint returns an integer scalar of any width that is not negative.
func (v Value) AsUint() (uint64, bool) { return toUint(v.v) }

// AsInt returns an integer scalar of any width that fits in an int64.
func (v Value) AsInt() (int64, bool) { return toInt(v.v) }

// AsFloat returns a float32 or float64 scalar.
func (v Value) AsFloat() (float64, bool) { return toFloat(v.v) }

// AsStrings returns a copy of a string array.
func (v Value) AsStrings() ([]string, bool) {
	s, ok := v.v.([]string)
	return slices.Clone(s), ok
}

// AsUints returns an integer array whose elements are all non-negative.
func (v Value) AsUints() ([]uint64, bool) { return convertArray(v.v, toUint) }

// AsInts returns an integer array whose elements all fit in an int64.
func (v Value) AsInts() ([]int64, bool) { return convertArray(v.v, toInt) }

// AsFloats returns a float32 or float64 array.
func (v Value) AsFloats() ([]float64, bool) { return convertArray(v.v, toFloat) }

func toUint(x any) (uint64, bool) {
	switch n := x.(type) {
	case uint8:
		return uint64(n), true
	case uint16:
		return uint64(n), true
	case uint32:
		return uint64(n), true
	case uint64:
		return n, true
	}
	if i, ok := toInt(x); ok && i >= 0 {
		return uint64(i), true
	}
	return 0, false
}

func toInt(x any) (int64, bool) {
	switch n := x.(type) {
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		if n <= math.MaxInt64 {
			return int64(n), true
		}
	}
	return 0, false
}

func toFloat(x any) (float64, bool) {
	switch n := x.(type) {
	case float32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// convertArray applies conv to each element of a numeric array, failing if any element fails.
func convertArray[T any](arr any, conv func(any) (T, bool)) ([]T, bool) {
	rv := reflect.ValueOf(arr)
	if rv.Kind() != reflect.Slice {
		return nil, false
	}
	out := make([]T, rv.Len())
	for i := range out {
		var ok bool
		if out[i], ok = conv(rv.Index(i).Interface()); !ok {
			return nil, false
		}
	}
	return out, true
}

// TensorInfo describes one tensor: its name, shape, type and where its data lies.
type TensorInfo struct {
	Name string
	// Dims is the shape in ggml order: Dims[0] (ne0) is the row length, the input dimension of
	// a weight matrix; Dims[1] is its output dimension.
	Dims []int64
	Type TensorType
	// Offset is where the data starts, counted from the file's data section.
	Offset int64
}

// Elements is the number of elements, the product of Dims.
func (t TensorInfo) Elements() int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Bytes is the size of the tensor's data (ggml_nbytes), 0 for an unknown type.
func (t TensorInfo) Bytes() int64 {
	bs := t.Type.BlockSize()
	if bs == 0 {
		return 0
	}
	return t.Elements() / bs * t.Type.TypeSize()
}
