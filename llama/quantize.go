package llama

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"
)

// Quantize writes a copy of the model at in to out with its weights quantized to t (for
// example FileTypeQ4_K_M), using llama.cpp's own quantizer and its per-tensor type choices,
// on DefaultThreads threads. llama.cpp writes a temporary file beside out, which replaces out
// only once it is complete: on failure out is as it was, and it is never the input itself.
func Quantize(in, out string, t FileType) error {
	if _, err := validateModel(in); err != nil {
		return fmt.Errorf("quantize %s: %w", in, err)
	}
	if sameFile(in, out) {
		return fmt.Errorf("quantize %s: the output %s is the input itself", in, out)
	}
	if err := ensureBackend(); err != nil {
		return fmt.Errorf("quantize %s: %w", in, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.partial")
	if err != nil {
		return fmt.Errorf("quantize %s: %w", in, err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(tmpPath)
		}
	}()

	params := C.llama_model_quantize_default_params()
	params.nthread = C.int32_t(DefaultThreads())
	params.ftype = C.enum_llama_ftype(t)
	cin := C.CString(in)
	defer C.free(unsafe.Pointer(cin))
	cout := C.CString(tmpPath)
	defer C.free(unsafe.Pointer(cout))

	loadMu.Lock()
	stop := captureLog()
	rc := C.llama_model_quantize(cin, cout, &params)
	lines := stop()
	loadMu.Unlock()
	if rc != 0 {
		return fmt.Errorf("quantize %s to %s: %s", in, t, explain(lines, fmt.Sprintf("llama_model_quantize returned %d", int(rc))))
	}
	// CreateTemp made the file private; a model file is not.
	if err := os.Chmod(tmpPath, 0o644); err != nil {
		return fmt.Errorf("quantize %s: %w", in, err)
	}
	if err := os.Rename(tmpPath, out); err != nil {
		return fmt.Errorf("quantize %s: %w", in, err)
	}
	done = true
	return nil
}

// sameFile reports whether a and b name one file (through links, or two spellings of a path).
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(sa, sb)
}
