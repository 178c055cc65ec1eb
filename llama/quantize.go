package llama

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"fmt"
	"os"
	"unsafe"
)

// Quantize writes a copy of the model at in to out with its weights quantized to t (for
// example FileTypeQ4_K_M), using llama.cpp's own quantizer and its per-tensor type choices,
// on DefaultThreads threads. out is written in place by llama.cpp; on failure it is removed.
func Quantize(in, out string, t FileType) error {
	if _, err := validateModel(in); err != nil {
		return fmt.Errorf("quantize %s: %w", in, err)
	}
	if err := ensureBackend(); err != nil {
		return fmt.Errorf("quantize %s: %w", in, err)
	}
	params := C.llama_model_quantize_default_params()
	params.nthread = C.int32_t(DefaultThreads())
	params.ftype = C.enum_llama_ftype(t)
	cin := C.CString(in)
	defer C.free(unsafe.Pointer(cin))
	cout := C.CString(out)
	defer C.free(unsafe.Pointer(cout))

	loadMu.Lock()
	stop := captureLog()
	rc := C.llama_model_quantize(cin, cout, &params)
	lines := stop()
	loadMu.Unlock()
	if rc != 0 {
		_ = os.Remove(out)
		return fmt.Errorf("quantize %s to %s: %s", in, t, explain(lines, fmt.Sprintf("llama_model_quantize returned %d", int(rc))))
	}
	return nil
}
