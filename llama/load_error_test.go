package llama

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A failed load is out of memory, an invalid model, or another cause told as it is: only what
// llama.cpp says about the file's content makes ErrInvalidModel.
func TestLoadErrorsAreClassifiedByTheirCause(t *testing.T) {
	tests := []struct {
		line string
		want error // nil: neither sentinel
	}{
		{"llama_model_load: error loading model: unable to allocate CUDA0 buffer", ErrOutOfMemory},
		{"alloc_tensor_range: failed to allocate CUDA0 buffer of size 4293976064", ErrOutOfMemory},
		{"llama_model_load: error loading model: error loading model architecture: unknown model architecture: 'mamba9'", ErrInvalidModel},
		{"llama_model_load: error loading model: done_getting_tensors: wrong number of tensors; expected 30, got 29", ErrInvalidModel},
		{"llama_model_load: error loading model: check_tensor_dims: tensor 'output.weight' not found", ErrInvalidModel},
		{"llama_model_load: error loading model: key not found in model: llama.context_length", ErrInvalidModel},
		{"gguf_init_from_file: failed to open GGUF file 'm.gguf' (Permission denied)", nil},
		{"llama_model_load_from_file_impl: no backends are loaded. hint: use ggml_backend_load()", nil},
		{"llama_model_load: error loading model: missing tensor 'output_norm.weight'", ErrInvalidModel},
		{"llama_model_load: error loading model: mmap failed: Resource temporarily unavailable", nil},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			err := loadError([]string{tt.line})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.line)
			for _, s := range []error{ErrOutOfMemory, ErrInvalidModel} {
				assert.Equal(t, s == tt.want, errors.Is(err, s), "is %v", s)
			}
		})
	}
}

// A capture keeps the warnings and errors of the thread that captures, not those other threads
// log meanwhile (other sessions decoding, say), and assembles each thread's pieces apart.
func TestLogCaptureKeepsTheCapturingThreadOnly(t *testing.T) {
	loadMu.Lock()
	defer loadMu.Unlock()
	stop := captureLog()
	me := currentThread()
	other := me + 1_000_000
	logLine(logError, "mine, ", me)
	logLine(logWarn, "another session's warning\n", other)
	logLine(logCont, "in two pieces\n", me)
	logLine(logInfo, "not a warning\n", me)
	logLine(logWarn, "half of another", other)
	logLine(logError, "my second\n", me)
	assert.Equal(t, []string{"mine, in two pieces", "my second"}, stop())
	logLine(logCont, " line\n", other)
}
