package llama

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"
)

// Session is one conversation with a model: it owns a llama.cpp context and its KV cache.
// Successive Generate calls continue where the last one ended; Reset starts afresh. A Session
// serves one call at a time: a Generate that overlaps another returns ErrBusy. Close frees it;
// closing its Model closes it too.
type Session struct {
	mu    sync.Mutex // held by Generate, Reset and Close
	busy  atomic.Bool
	model *Model
	c     *C.struct_llama_context
	batch C.struct_llama_batch
	// abort is C memory read by llama.cpp's abort callback during a decode.
	abort *C.int32_t
	cfg   sessionConfig
	nCtx  int
	nBat  int
	nPast int     // tokens in the KV cache
	next  []int32 // sampled but not yet decoded: fed first by the next call
	piece []byte  // scratch space for token text
	self  weak.Pointer[Session]
}

// NewSession creates a context with its KV cache. It returns ErrOutOfMemory when the cache
// cannot fit in the memory it would live in.
func (m *Model) NewSession(opts ...SessionOption) (*Session, error) {
	cfg := defaultSessionConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.c == nil {
		return nil, fmt.Errorf("new session: %w", ErrClosed)
	}
	sh := newContextShape(cfg, m.info.TrainContext)
	fit := fitSession(m.info, m.headDim(), m.feedForward(), sh, cfg.kvOnHost)
	if err := fit.check(); err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}

	params := contextParams(cfg, sh)
	abort := (*C.int32_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.int32_t(0)))))
	params.abort_callback = C.ggml_abort_callback(C.llmb_abort_cb)
	params.abort_callback_data = unsafe.Pointer(abort)

	loadMu.Lock()
	stop := captureLog()
	cctx := C.llmb_init_context(m.c, params)
	lines := stop()
	loadMu.Unlock()
	if cctx == nil {
		C.free(unsafe.Pointer(abort))
		reason := explain(lines, "llama.cpp could not create the context")
		if isOOM(reason) {
			return nil, fmt.Errorf("new session: %w: %s", ErrOutOfMemory, reason)
		}
		return nil, fmt.Errorf("new session: %s", reason)
	}
	s := &Session{
		model: m,
		c:     cctx,
		batch: C.llama_batch_init(C.int32_t(sh.nBatch), 0, 1),
		abort: abort,
		cfg:   cfg,
		nCtx:  int(C.llama_n_ctx_seq(cctx)),
		nBat:  sh.nBatch,
		piece: make([]byte, 128),
	}
	s.self = weak.Make(s)
	m.sessions[s.self] = struct{}{}
	runtime.SetFinalizer(s, func(s *Session) { _ = s.Close() })
	return s, nil
}

// maxSequences is llama.cpp's limit on the sequences of a context (LLAMA_MAX_SEQ).
var maxSequences = int(C.llama_max_parallel_sequences())

// contextParams are llama.cpp's context parameters for a session of cfg, whose shape is sh.
// n_ctx is given as llama.cpp will round it, which it then leaves as it is.
func contextParams(cfg sessionConfig, sh contextShape) C.struct_llama_context_params {
	params := C.llama_context_default_params()
	params.n_ctx = C.uint32_t(sh.nCtx)
	params.n_batch = C.uint32_t(sh.nBatch)
	params.n_ubatch = C.uint32_t(sh.nUBatch)
	params.n_seq_max = C.uint32_t(sh.nSeq)
	params.kv_unified = C.bool(sh.unified)
	params.offload_kqv = C.bool(!cfg.kvOnHost)
	params.n_threads = C.int32_t(cfg.threads)
	params.n_threads_batch = C.int32_t(cfg.threads)
	params.flash_attn_type = C.enum_llama_flash_attn_type(cfg.flash)
	params.type_k = kvGGMLType(cfg.kvType)
	params.type_v = kvGGMLType(cfg.kvType)
	params.no_perf = false
	params.op_offload = C.bool(!cfg.noOffload)
	return params
}

// headDim is the width of one attention head: the GGUF's key_length where given, as for
// gemma2 whose heads are wider than n_embd / n_head.
func (m *Model) headDim() int {
	if v, err := strconv.Atoi(m.meta(m.info.Architecture + ".attention.key_length")); err == nil && v > 0 {
		return v
	}
	if m.info.Heads > 0 {
		return m.info.EmbeddingSize / m.info.Heads
	}
	return 0
}

// feedForward is the width of the feed-forward layers, 0 where the file gives none (or one per
// layer).
func (m *Model) feedForward() int {
	n, _ := strconv.Atoi(m.meta(m.info.Architecture + ".feed_forward_length"))
	return n
}

func kvGGMLType(t KVCacheType) C.enum_ggml_type {
	switch t {
	case KVQ8_0:
		return C.GGML_TYPE_Q8_0
	case KVQ4_0:
		return C.GGML_TYPE_Q4_0
	default:
		return C.GGML_TYPE_F16
	}
}

// ContextSize is the session's context in tokens: the positions its sequence can hold, which
// with several sequences in separate streams (WithSequences) is one stream's share.
func (s *Session) ContextSize() int { return s.nCtx }

// Threads is the number of CPU threads the session computes with.
func (s *Session) Threads() int { return s.cfg.threads }

// Position is the number of tokens the session holds: in its KV cache, plus the last token
// sampled, which the next call decodes first.
func (s *Session) Position() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nPast + len(s.next)
}

// Model returns the model the session belongs to.
func (s *Session) Model() *Model { return s.model }

// Reset clears the KV cache so that the next Generate starts a new conversation.
func (s *Session) Reset() error {
	end, err := s.begin("reset")
	if err != nil {
		return err
	}
	defer end()
	C.llama_memory_clear(C.llama_get_memory(s.c), true)
	s.nPast = 0
	s.next = nil
	return nil
}

// begin starts a call that uses the context: it refuses one that overlaps another (ErrBusy)
// or comes after Close (ErrClosed), and returns the function that ends the call.
func (s *Session) begin(op string) (end func(), err error) {
	if !s.busy.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("%s: %w", op, ErrBusy)
	}
	s.mu.Lock()
	if s.c == nil {
		s.mu.Unlock()
		s.busy.Store(false)
		return nil, fmt.Errorf("%s: %w", op, ErrClosed)
	}
	return func() {
		s.mu.Unlock()
		s.busy.Store(false)
	}, nil
}

// Close frees the context and its KV cache. It is idempotent and safe on a nil Session.
func (s *Session) Close() error {
	if s == nil {
		return nil
	}
	m := s.model
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sessions != nil {
		delete(m.sessions, s.self)
	}
	s.closeFromModel()
	return nil
}

// closeFromModel frees the session; the caller holds the model's lock.
func (s *Session) closeFromModel() {
	// A running Generate sees the abort flag at its next token and returns.
	if s.abort != nil {
		C.llmb_flag_set(s.abort, 1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return
	}
	C.llama_batch_free(s.batch)
	C.llmb_free_context(s.c)
	C.free(unsafe.Pointer(s.abort))
	s.c = nil
	s.abort = nil
	runtime.SetFinalizer(s, nil)
}
