package gguf

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// WriteOptions controls Write.
type WriteOptions struct {
	// Seed picks the random weights; the same seed writes the same file.
	Seed int64
	// Type is the type of the weight matrices: TypeF32 (the zero value) or TypeF16, which
	// halves the file and is what llama.cpp's quantizer usually starts from. Norms are F32
	// either way.
	Type TensorType
	// Progress, when set, is called as data is written with the bytes written so far and the
	// file's total size. A 7B model is 14.5 GB as F16: minutes of writing.
	Progress func(written, total int64)
}

// chunkSize is how much tensor data is generated and written at a time.
const chunkSize = 1 << 20

// plan is what Write lays out for a spec, before any byte is written.
type plan struct {
	kvs        []KV
	tensors    []TensorInfo
	headerSize int64
	size       int64
}

func (s Spec) plan(opts WriteOptions) (plan, error) {
	if err := s.Validate(); err != nil {
		return plan{}, err
	}
	fileType := fileTypeF32
	switch opts.Type {
	case TypeF32:
	case TypeF16:
		fileType = fileTypeF16
	default:
		return plan{}, fmt.Errorf("weight type %s: want F32 or F16", opts.Type)
	}
	kvs, err := s.metadata(fileType)
	if err != nil {
		return plan{}, err
	}
	p := plan{kvs: kvs, tensors: s.tensors(opts.Type)}
	p.headerSize, err = headerSize(kvs, p.tensors)
	if err != nil {
		return plan{}, err
	}
	p.size = p.headerSize + layout(p.tensors, defaultAlignment)
	return p, nil
}

// headerSize is the size of the encoded header, padded to the alignment.
func headerSize(kvs []KV, tensors []TensorInfo) (int64, error) {
	e := &encoder{w: io.Discard}
	e.header(kvs, tensors, defaultAlignment)
	return e.n, e.err
}

// FileSize is the exact size of the file Write would write, header and padding included.
func (s Spec) FileSize(opts WriteOptions) (int64, error) {
	p, err := s.plan(opts)
	return p.size, err
}

// Write writes a GGUF v3 model of the spec's shapes with random weights to path: N(0, 0.02)
// values in the weight matrices, 1.0 in the norms, and the metadata and vocabulary llama.cpp
// needs to load and run it. Data is generated and streamed a chunk at a time, so memory stays
// small for any model size. It writes to a temporary file in the same directory and renames it
// into place, so path never holds a partial model.
func Write(path string, spec Spec, opts WriteOptions) (err error) {
	p, err := spec.plan(opts)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Fail before generating gigabytes that the final rename could not place.
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("write %s: %w", path, syscall.EISDIR)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if err := p.writeTo(tmp, opts); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func (p plan) writeTo(w io.Writer, opts WriteOptions) error {
	bw := bufio.NewWriterSize(w, chunkSize)
	e := &encoder{w: bw}
	e.header(p.kvs, p.tensors, defaultAlignment)
	r := newRNG(opts.Seed)
	chunk := make([]byte, chunkSize)
	for _, t := range p.tensors {
		for left := t.Bytes(); left > 0 && e.err == nil; {
			b := chunk[:min(left, chunkSize)]
			if len(t.Dims) == 1 {
				fillOnes(b)
			} else {
				r.fill(b, t.Type)
			}
			e.write(b)
			left -= int64(len(b))
			if opts.Progress != nil {
				opts.Progress(e.n, p.size)
			}
		}
		e.pad(defaultAlignment)
	}
	if e.err != nil {
		return e.err
	}
	if e.n != p.size {
		return fmt.Errorf("wrote %d bytes, planned %d", e.n, p.size)
	}
	return bw.Flush()
}
