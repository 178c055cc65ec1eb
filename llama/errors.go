package llama

import "errors"

var (
	// ErrInvalidModel means the file is not a model llama.cpp can load: malformed, truncated,
	// of an unknown architecture, or missing tensors.
	ErrInvalidModel = errors.New("invalid model")
	// ErrClosed means the Model or Session was used after Close.
	ErrClosed = errors.New("closed")
	// ErrContextFull means the prompt and the tokens asked for do not fit in the context.
	// It is returned before anything is decoded.
	ErrContextFull = errors.New("context full")
	// ErrOutOfMemory means a buffer for weights, KV cache or compute could not be allocated,
	// or would not fit in the memory available.
	ErrOutOfMemory = errors.New("out of memory")
	// ErrBusy means another Generate is running on the same Session. A Session serves one
	// call at a time; use one Session per goroutine.
	ErrBusy = errors.New("session busy")
	// ErrReentrant means a call was made from a token callback and would have to wait for the
	// call that runs the callback: a Generate, Prefill or Reset of the same session, or a Close
	// of the session or of its model. Return false from the callback to stop the call instead.
	ErrReentrant = errors.New("called from the token callback of the call it would wait for")
	// ErrNoChatTemplate means the model carries no chat template and none was given.
	ErrNoChatTemplate = errors.New("no chat template")
	// ErrBackend means a backend module could not be loaded.
	ErrBackend = errors.New("backend")
	// ErrNoGPU means a call needs a GPU and no GPU backend is loaded.
	ErrNoGPU = errors.New("no GPU backend loaded")
	// ErrDecode means llama.cpp failed to decode a batch.
	ErrDecode = errors.New("decode failed")
)
