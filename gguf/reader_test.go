package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawKV is one metadata pair in encoded form, for hand-made headers.
type rawKV struct {
	key  string
	typ  ValueType
	data []byte // the encoded value, after the type
}

func le(vs ...any) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		if s, ok := v.(string); ok {
			_ = binary.Write(&b, binary.LittleEndian, uint64(len(s)))
			b.WriteString(s)
			continue
		}
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	return b.Bytes()
}

// header encodes a GGUF header with no tensors.
func header(version uint32, kvs ...rawKV) []byte {
	b := le([]byte(magic), version, uint64(0), uint64(len(kvs)))
	for _, kv := range kvs {
		b = append(b, le(kv.key, uint32(kv.typ))...)
		b = append(b, kv.data...)
	}
	return b
}

func parse(t *testing.T, b []byte) (*File, error) {
	t.Helper()
	return ValidateReader(bytes.NewReader(b), int64(len(b)))
}

func TestValueTypes(t *testing.T) {
	arr := func(elem ValueType, n int, data ...any) []byte {
		return append(le(uint32(elem), uint64(n)), le(data...)...)
	}
	b := header(2,
		rawKV{"u8", ValueUint8, le(uint8(200))},
		rawKV{"i8", ValueInt8, le(int8(-8))},
		rawKV{"u16", ValueUint16, le(uint16(60000))},
		rawKV{"i16", ValueInt16, le(int16(-16))},
		rawKV{"u32", ValueUint32, le(uint32(1 << 31))},
		rawKV{"i32", ValueInt32, le(int32(-32))},
		rawKV{"f32", ValueFloat32, le(float32(1.5))},
		rawKV{"bool", ValueBool, le(uint8(2))}, // any nonzero byte is true, as in gguf.cpp
		rawKV{"str", ValueString, le("héllo")},
		rawKV{"u64", ValueUint64, le(uint64(math.MaxUint64))},
		rawKV{"i64", ValueInt64, le(int64(-64))},
		rawKV{"f64", ValueFloat64, le(2.25)},
		rawKV{"a.u8", ValueArray, arr(ValueUint8, 2, []uint8{1, 2})},
		rawKV{"a.i8", ValueArray, arr(ValueInt8, 2, []int8{-1, 2})},
		rawKV{"a.u16", ValueArray, arr(ValueUint16, 1, []uint16{3})},
		rawKV{"a.i16", ValueArray, arr(ValueInt16, 1, []int16{-3})},
		rawKV{"a.u32", ValueArray, arr(ValueUint32, 1, []uint32{4})},
		rawKV{"a.i32", ValueArray, arr(ValueInt32, 2, []int32{-4, 4})},
		rawKV{"a.f32", ValueArray, arr(ValueFloat32, 2, []float32{0.5, -0.5})},
		rawKV{"a.bool", ValueArray, arr(ValueBool, 2, []uint8{0, 1})},
		rawKV{"a.str", ValueArray, arr(ValueString, 2, "x", "")},
		rawKV{"a.u64", ValueArray, arr(ValueUint64, 1, []uint64{math.MaxUint64})},
		rawKV{"a.i64", ValueArray, arr(ValueInt64, 1, []int64{-6})},
		rawKV{"a.f64", ValueArray, arr(ValueFloat64, 1, []float64{6.5})},
		rawKV{"a.empty", ValueArray, arr(ValueUint32, 0)},
	)
	f, err := parse(t, b)
	require.NoError(t, err)
	assert.Equal(t, uint32(2), f.Version)
	assert.Equal(t, int64(32), f.Alignment, "the default alignment")
	assert.Empty(t, f.Tensors)
	assert.Equal(t, int64(len(b)), f.Size)
	assert.Equal(t, "", f.Architecture())

	get := func(key string) Value {
		v, ok := f.Lookup(key)
		require.True(t, ok, key)
		return v
	}
	raws := map[string]any{
		"u8": uint8(200), "i8": int8(-8), "u16": uint16(60000), "i16": int16(-16), "u32": uint32(1 << 31),
		"i32": int32(-32), "f32": float32(1.5), "bool": true, "str": "héllo", "u64": uint64(math.MaxUint64),
		"i64": int64(-64), "f64": 2.25,
		"a.u8": []uint8{1, 2}, "a.i8": []int8{-1, 2}, "a.u16": []uint16{3}, "a.i16": []int16{-3},
		"a.u32": []uint32{4}, "a.i32": []int32{-4, 4}, "a.f32": []float32{0.5, -0.5}, "a.bool": []bool{false, true},
		"a.str": []string{"x", ""}, "a.u64": []uint64{math.MaxUint64}, "a.i64": []int64{-6}, "a.f64": []float64{6.5},
		"a.empty": []uint32{},
	}
	for key, want := range raws {
		assert.Equal(t, want, get(key).Raw(), key)
	}
	assert.Equal(t, ValueArray, get("a.i32").Type())
	assert.Equal(t, ValueInt32, get("a.i32").ElemType())
	assert.Equal(t, 2, get("a.str").Len())
	assert.Equal(t, 1, get("u8").Len())
	assert.Equal(t, 0, Value{}.Len())

	for _, c := range []struct {
		key  string
		u    uint64
		uok  bool
		i    int64
		iok  bool
		fval float64
		fok  bool
	}{
		{"u8", 200, true, 200, true, 0, false},
		{"i8", 0, false, -8, true, 0, false},
		{"u16", 60000, true, 60000, true, 0, false},
		{"i16", 0, false, -16, true, 0, false},
		{"u32", 1 << 31, true, 1 << 31, true, 0, false},
		{"u64", math.MaxUint64, true, 0, false, 0, false},
		{"i64", 0, false, -64, true, 0, false},
		{"f32", 0, false, 0, false, 1.5, true},
		{"f64", 0, false, 0, false, 2.25, true},
		{"str", 0, false, 0, false, 0, false},
	} {
		v := get(c.key)
		u, uok := v.AsUint()
		i, iok := v.AsInt()
		fv, fok := v.AsFloat()
		assert.Equal(t, []any{c.u, c.uok, c.i, c.iok, c.fval, c.fok}, []any{u, uok, i, iok, fv, fok}, c.key)
	}
	s, ok := get("str").AsString()
	assert.True(t, ok)
	assert.Equal(t, "héllo", s)
	_, ok = get("u8").AsString()
	assert.False(t, ok)
	bv, ok := get("bool").AsBool()
	assert.True(t, ok && bv)

	strs, ok := get("a.str").AsStrings()
	assert.True(t, ok)
	strs[0] = "changed"
	assert.Equal(t, []string{"x", ""}, get("a.str").Raw(), "AsStrings returns a copy")
	us, ok := get("a.u16").AsUints()
	assert.True(t, ok)
	assert.Equal(t, []uint64{3}, us)
	_, ok = get("a.i8").AsUints()
	assert.False(t, ok, "negative elements")
	is, ok := get("a.i8").AsInts()
	assert.True(t, ok)
	assert.Equal(t, []int64{-1, 2}, is)
	_, ok = get("a.u64").AsInts()
	assert.False(t, ok, "too large for int64")
	fs, ok := get("a.f32").AsFloats()
	assert.True(t, ok)
	assert.Equal(t, []float64{0.5, -0.5}, fs)
	_, ok = get("a.str").AsFloats()
	assert.False(t, ok)
	_, ok = get("u8").AsInts()
	assert.False(t, ok, "a scalar is not an array")
	for _, key := range []string{"a.u8", "a.u32", "a.i16", "a.i32", "a.i64", "a.bool"} {
		_, okU := get(key).AsUints()
		_, okF := get(key).AsFloats()
		assert.False(t, okF, key)
		assert.Equal(t, !strings.Contains("a.i16 a.i32 a.i64 a.bool", key), okU, key)
	}
	fs64, ok := get("a.f64").AsFloats()
	assert.True(t, ok)
	assert.Equal(t, []float64{6.5}, fs64)

	_, ok = f.Lookup("missing")
	assert.False(t, ok)
}

func TestValidateHeaderEdges(t *testing.T) {
	u32kv := func(key string, v uint32) rawKV { return rawKV{key, ValueUint32, le(v)} }
	for _, c := range []struct {
		name string
		b    []byte
		want string // "" for valid
	}{
		{"no metadata", header(3), ""},
		{"alignment 64", header(3, u32kv("general.alignment", 64)), ""},
		{"version 0", header(0), "version"},
		{"alignment as array", header(3, rawKV{"general.alignment", ValueArray, le(uint32(ValueUint32), uint64(1), uint32(32))}), "want u32"},
		{"tokens not strings", header(3, rawKV{"tokenizer.ggml.tokens", ValueArray, le(uint32(ValueUint8), uint64(1), uint8(0))}), "want an array of strings"},
		{"merges scalar", header(3, rawKV{"tokenizer.ggml.merges", ValueString, le("a b")}), "want an array of strings"},
		{"token types scalar", header(3,
			rawKV{"tokenizer.ggml.tokens", ValueArray, le(uint32(ValueString), uint64(1), "a")},
			rawKV{"tokenizer.ggml.token_type", ValueInt32, le(int32(1))}), "want an array of i32"},
		{"empty token renamed", header(3,
			rawKV{"tokenizer.ggml.tokens", ValueArray, le(uint32(ValueString), uint64(2), "", "[EMPTY_0]")}), "duplicates token 0"},
		{"array of booleans bounded", header(3, rawKV{"b", ValueArray, le(uint32(ValueBool), uint64(100), uint8(1))}), "array of 100 bool"},
		{"array past end", append(header(3, rawKV{"a", ValueArray, le(uint32(ValueUint32), uint64(2), uint32(1))}), 0, 0), "array of 2 u32"},
		{"truncated in string array", header(3, rawKV{"a", ValueArray, le(uint32(ValueString), uint64(2), "abcdefghij")}), "truncated"},
		{"truncated in scalar", header(3, rawKV{"a", ValueUint64, le(uint32(1))}), "truncated"},
		{"counts together too many", append(le([]byte(magic), uint32(3), uint64(2), uint64(2)), make([]byte, 80)...), "2 tensors and 2 key-value pairs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := parse(t, c.b)
			if c.want == "" {
				require.NoError(t, err)
				assert.NotNil(t, f)
				return
			}
			require.ErrorIs(t, err, ErrInvalid)
			assert.ErrorContains(t, err, c.want)
		})
	}
}

// TestValidateTensorInfos covers tensor shapes the malformed model files do not: 4-D and 1-D
// tensors, every known type's row rule, a header padded with a large alignment, and a data
// section cut short.
func TestValidateTensorInfos(t *testing.T) {
	type tensor struct {
		name string
		dims []int64
		typ  TensorType
		off  uint64
	}
	build := func(align uint32, dataLen int, ts ...tensor) []byte {
		b := le([]byte(magic), uint32(3), uint64(len(ts)), uint64(1), "general.alignment", uint32(ValueUint32), align)
		for _, t := range ts {
			b = append(b, le(t.name, uint32(len(t.dims)))...)
			for _, d := range t.dims {
				b = append(b, le(d)...)
			}
			b = append(b, le(uint32(t.typ), t.off)...)
		}
		for len(b)%int(align) != 0 {
			b = append(b, 0)
		}
		return append(b, make([]byte, dataLen)...)
	}
	f, err := parse(t, build(256, 256+4096,
		tensor{"a", []int64{2, 3, 4, 5}, TypeF32, 0},
		tensor{"b", []int64{256, 2}, TypeQ6_K, 512},
		tensor{"c", []int64{7}, TypeI8, 1024},
	))
	require.NoError(t, err)
	assert.Equal(t, int64(256), f.Alignment)
	assert.Zero(t, f.DataOffset%256)
	a, ok := f.Tensor("a")
	require.True(t, ok)
	assert.Equal(t, int64(120), a.Elements())
	assert.Equal(t, int64(480), a.Bytes())
	b, _ := f.Tensor("b")
	assert.Equal(t, int64(2*210), b.Bytes())
	assert.Equal(t, int64(480+420+7), f.TensorBytes())
	_, ok = f.Tensor("d")
	assert.False(t, ok)

	_, err = parse(t, build(32, 10, tensor{"a", []int64{4}, TypeF32, 0}))
	assert.ErrorContains(t, err, "past the end")
	_, err = parse(t, build(32, 1<<10, tensor{"a", []int64{4}, TypeF32, 1 << 63}))
	assert.ErrorContains(t, err, "past the end")
	_, err = parse(t, build(32, 1<<10, tensor{"a", []int64{1 << 62, 2}, TypeF64, 0}))
	assert.ErrorContains(t, err, "overflows")
	_, err = parse(t, build(32, 1<<10, tensor{"a", []int64{1 << 61}, TypeF64, 0}))
	assert.ErrorContains(t, err, "data size of shape")
	// The header ends inside the padding before the data section: no tensor fits.
	short := build(32, 0, tensor{"a", []int64{4}, TypeF32, 0})
	_, err = parse(t, short[:len(short)-4])
	assert.ErrorContains(t, err, "past the end")

	for typ, tr := range tensorTypes {
		assert.Equal(t, tr.blockSize, typ.BlockSize())
		assert.True(t, typ.Known())
		_, err := parse(t, build(32, 1<<12, tensor{"t", []int64{tr.blockSize * 2}, typ, 0}))
		assert.NoError(t, err, "%s", typ)
		if tr.blockSize > 1 {
			_, err := parse(t, build(32, 1<<12, tensor{"t", []int64{tr.blockSize + 1}, typ, 0}))
			assert.ErrorContains(t, err, "block size", "%s", typ)
		}
	}
}

func TestTypeNames(t *testing.T) {
	assert.Equal(t, "Q4_K", TypeQ4_K.String())
	assert.Equal(t, "type(4)", TensorType(4).String())
	assert.False(t, TensorType(4).Known())
	assert.Zero(t, TensorType(99).BlockSize())
	assert.Zero(t, TensorType(99).TypeSize())
	assert.Zero(t, TensorInfo{Dims: []int64{4}, Type: 99}.Bytes())
	assert.Equal(t, int64(144), TypeQ4_K.TypeSize())
	assert.Equal(t, "u32", ValueUint32.String())
	assert.Equal(t, "arr", ValueArray.String())
	assert.Equal(t, "type(13)", ValueType(13).String())
}

func TestFormatError(t *testing.T) {
	err := error(&FormatError{Offset: 8, Field: "tensor count", Reason: "too many"})
	assert.Equal(t, "invalid gguf: tensor count at offset 8: too many", err.Error())
	assert.ErrorIs(t, err, ErrInvalid)
	assert.ErrorIs(t, errors.Join(errors.New("x"), err), ErrInvalid)
	assert.NotErrorIs(t, errors.New("x"), ErrInvalid)
}

// countingReaderAt records how many bytes the parser asks for.
type countingReaderAt struct {
	r    io.ReaderAt
	read int64
	fail error
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if c.fail != nil {
		return 0, c.fail
	}
	n, err := c.r.ReadAt(p, off)
	c.read += int64(n)
	return n, err
}

func TestValidateReadsOnlyTheHeader(t *testing.T) {
	spec, _ := TinySpec("tiny-phi3")
	path := filepath.Join(t.TempDir(), "m.gguf")
	require.NoError(t, Write(path, spec, WriteOptions{Type: TypeF16}))
	fd, err := os.Open(path)
	require.NoError(t, err)
	defer fd.Close()
	st, err := fd.Stat()
	require.NoError(t, err)

	c := &countingReaderAt{r: fd}
	f, err := ValidateReader(c, st.Size())
	require.NoError(t, err)
	assert.Less(t, c.read, f.DataOffset+64<<10, "reads the header and at most one buffer more")
	assert.Less(t, c.read, st.Size()/4)

	c = &countingReaderAt{r: fd, fail: os.ErrDeadlineExceeded}
	_, err = ValidateReader(c, st.Size())
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.NotErrorIs(t, err, ErrInvalid, "a failing reader is not a malformed file")
}

func TestValidateNotRegular(t *testing.T) {
	_, err := Validate(os.DevNull)
	require.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, "not a regular file")
}
