package llama

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Session is one conversation with a model: it owns a llama.cpp context and its KV cache.
// Successive Generate calls continue where the last one ended; Reset starts afresh. A Session
// serves one call at a time: a Generate that overlaps another returns ErrBusy. Close frees it;
// closing its Model closes it too.
//
// The token callback of a call runs on the goroutine that made the call, and may use the
// Model and other Sessions. From inside it, Position, ContextSize and the other accessors
// work; a call that would use this session's context (Generate, Prefill, Reset) returns
// ErrReentrant; Close of this session or of its Model returns ErrReentrant, since it would
// wait for the call it is made from (return false from the callback to stop, then Close). A
// Close that would wait, through other Closes made from callbacks, for a call that waits for
// it returns ErrReentrant too, instead of blocking forever.
type Session struct {
	*sessionCore
	busy    atomic.Bool
	model   *Model
	vocab   *C.struct_llama_vocab
	cfg     sessionConfig
	nCtx    int
	nBat    int
	nPast   int          // tokens in the KV cache
	next    []int32      // sampled but not yet decoded: fed first by the next call
	pos     atomic.Int64 // nPast + len(next), for Position
	piece   []byte       // scratch space for token text
	cleanup runtime.Cleanup
}

// sessionCore is the part of a Session that holds C memory. The Model keeps its sessions'
// cores, not the Sessions: a Session that is no longer referenced can be collected, and the
// Model still frees its context before its own weights, whether or not the Session's cleanup
// has run by then.
type sessionCore struct {
	mu     sync.Mutex   // held by a call that uses the context, and while closing
	owner  atomic.Int64 // the goroutine whose call holds mu; 0 for none
	closed atomic.Bool
	flagMu sync.Mutex // guards abort's memory against its free; never held while waiting
	c      *C.struct_llama_context
	batch  C.struct_llama_batch
	// abort is C memory read by llama.cpp's abort callback during a decode.
	abort *C.llmb_abort
	// wake, when set, is poked once the closed flag is up: a Server's loop waits on it.
	wake chan struct{}
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
	if m.c == nil || m.closing {
		return nil, fmt.Errorf("new session: %w", ErrClosed)
	}
	sh := newContextShape(cfg, m.info.TrainContext)
	if err := m.checkContextFits(sh, cfg.kvOnHost); err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	cctx, abort, err := m.newContext(contextParams(cfg, sh))
	if err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	core := &sessionCore{c: cctx, batch: C.llama_batch_init(C.int32_t(sh.nBatch), 0, 1), abort: abort}
	s := &Session{
		sessionCore: core,
		model:       m,
		vocab:       m.vocab,
		cfg:         cfg,
		nCtx:        int(C.llama_n_ctx_seq(cctx)),
		nBat:        sh.nBatch,
		piece:       make([]byte, 128),
	}
	m.cores[core] = struct{}{}
	s.cleanup = runtime.AddCleanup(s, func(o owned) { o.close() }, owned{core, m})
	return s, nil
}

// checkContextFits measures a context of shape sh against the memory of the devices it would
// live on; the caller holds m.mu.
func (m *Model) checkContextFits(sh contextShape, kvOnHost bool) error {
	var gpus []gpuShare
	if m.info.GPU {
		devs, err := Devices()
		if err != nil {
			return err
		}
		gpus = placedGPUs(devs, m.placement)
	}
	for _, fit := range fitSession(m.info, gpus, m.headDim(), m.feedForward(), sh, kvOnHost) {
		if err := fit.check(); err != nil {
			return err
		}
	}
	return nil
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

// newContext makes a context with an abort flag of its own; the caller holds m.mu.
func (m *Model) newContext(params C.struct_llama_context_params) (*C.struct_llama_context, *C.llmb_abort, error) {
	abort := (*C.llmb_abort)(C.calloc(1, C.size_t(unsafe.Sizeof(C.llmb_abort{}))))
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
			return nil, nil, fmt.Errorf("%w: %s", ErrOutOfMemory, reason)
		}
		return nil, nil, errors.New(reason)
	}
	return cctx, abort, nil
}

// owned is a session's core with its model, which a Session's cleanup closes and forgets.
type owned struct {
	core  *sessionCore
	model *Model
}

func (o owned) close() {
	if o.core.close("close session") == nil {
		o.model.forget(o.core)
	}
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
func (s *Session) Position() int { return int(s.pos.Load()) }

// setPosition publishes nPast and next to Position; the caller holds the call.
func (s *Session) setPosition() { s.pos.Store(int64(s.nPast + len(s.next))) }

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
	s.setPosition()
	return nil
}

// begin starts a call that uses the context: it refuses one that overlaps another (ErrBusy),
// one made from the token callback of the call under way (ErrReentrant) and one after Close
// (ErrClosed), and returns the function that ends the call.
func (s *Session) begin(op string) (end func(), err error) {
	g := goid()
	if !s.busy.CompareAndSwap(false, true) {
		if s.owner.Load() == g {
			return nil, fmt.Errorf("%s: %w", op, ErrReentrant)
		}
		return nil, fmt.Errorf("%s: %w", op, ErrBusy)
	}
	s.mu.Lock()
	if s.c == nil || s.closed.Load() {
		s.mu.Unlock()
		s.busy.Store(false)
		return nil, fmt.Errorf("%s: %w", op, ErrClosed)
	}
	s.owner.Store(g)
	return func() {
		s.setPosition()
		s.owner.Store(0)
		s.mu.Unlock()
		s.busy.Store(false)
	}, nil
}

// Close frees the context and its KV cache, once a call under way has stopped (at its next
// token). It is idempotent and safe on a nil Session. From inside the token callback of this
// session's call it returns ErrReentrant and closes nothing.
func (s *Session) Close() error {
	if s == nil {
		return nil
	}
	if err := s.close("close session"); err != nil {
		return err
	}
	s.cleanup.Stop()
	s.model.forget(s.sessionCore)
	return nil
}

// close waits for the call under way, which the closed flag makes stop at its next token or
// inside its decode, and frees the context. The flag is raised only once the wait is known not
// to be on the calling goroutine itself, so a refused Close changes nothing.
func (c *sessionCore) close(op string) error {
	g := goid()
	waits.mu.Lock()
	if c.waitsFor(g) {
		waits.mu.Unlock()
		return fmt.Errorf("%s: %w", op, ErrReentrant)
	}
	waits.on[g] = c
	waits.mu.Unlock()

	c.closed.Store(true)
	c.flagMu.Lock()
	if c.abort != nil {
		C.llmb_flag_set(&c.abort.closed, 1)
	}
	c.flagMu.Unlock()
	if c.wake != nil {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	c.mu.Lock()
	waits.mu.Lock()
	delete(waits.on, g)
	waits.mu.Unlock()
	defer c.mu.Unlock()
	if c.c == nil {
		return nil
	}
	C.llama_batch_free(c.batch)
	C.llmb_free_context(c.c)
	c.c = nil
	c.flagMu.Lock()
	C.free(unsafe.Pointer(c.abort))
	c.abort = nil
	c.flagMu.Unlock()
	return nil
}

// waits records, for each goroutine blocked in a Close, the session core it waits for: a Close
// that would wait, directly or through a chain of other Closes, for the call it is made from
// returns ErrReentrant instead of blocking forever.
var waits = struct {
	mu sync.Mutex
	on map[int64]*sessionCore
}{on: map[int64]*sessionCore{}}

// waitsFor reports whether taking c's lock would wait for goroutine g: g owns the call that
// holds it, or the owner is itself waiting, in a Close, for a core that waits for g. The caller
// holds waits.mu.
func (c *sessionCore) waitsFor(g int64) bool {
	x := c
	for range len(waits.on) + 1 {
		o := x.owner.Load()
		if o == 0 {
			return false
		}
		if o == g {
			return true
		}
		if x = waits.on[o]; x == nil {
			return false
		}
	}
	return false
}

// goid is the calling goroutine's id, read from the header of its stack trace: Go exposes it no
// other way, and the binding needs it only to tell a call from its own callback.
func goid() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseInt(string(b), 10, 64)
	return id
}
