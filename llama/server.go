package llama

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Server serves many generation streams at once through one llama.cpp context: continuous
// batching. Every step is one llama_decode that carries the next token of each stream that is
// generating and chunks of the prompts of streams just admitted; a stream that ends clears its
// sequence from the KV cache, and the next request waiting takes it.
//
// Each call of Generate is one stream with its own prompt, options, callback, cancellation and
// Result; it blocks until its reply ends. A Server is safe for concurrent use: call Generate
// from as many goroutines as there are users. Requests beyond the number of sequences wait in
// order of arrival. Close ends every stream with ErrClosed; closing the Model closes its
// Servers too.
//
// A stream's callback runs on the goroutine that called Generate, not in the decoding loop, so
// a slow callback holds back its own stream only; the tokens it has not taken yet wait for it.
// Returning false stops the stream at the next step, and tokens decoded meanwhile are dropped.
// A callback may call any method of the Server or its Model, Close included.
type Server struct {
	*serverState
	cleanup runtime.Cleanup
}

// serverState is the Server without the handle its users hold, so that the decoding loop, which
// keeps it, does not keep a dropped Server from its cleanup.
type serverState struct {
	core   *sessionCore
	model  *Model
	vocab  *C.struct_llama_vocab
	info   Info
	nSeq   int // streams decoding at once
	nCtx   int // of the context, all sequences together
	perSeq int // tokens a stream may hold: prompt and generated
	nBatch int

	mu      sync.Mutex
	queue   []*stream // waiting for a sequence, in order of arrival
	stopped bool      // the loop has ended: no request is taken any more
	held    int       // Hold calls not yet released: nothing is admitted while positive
	notify  chan struct{}
	done    chan struct{} // closed when the loop has ended

	stats serverCounters
}

// ServerStats are a Server's counters since it was made or since ResetStats: what an
// application serving N users needs to know about the engine under it.
type ServerStats struct {
	// Steps is the number of llama_decode calls; DecodeTime their time, each measured until its
	// logits were ready. Wall is the time the counters cover: Wall − DecodeTime is spent
	// outside llama.cpp (scheduling, sampling, handing tokens over) or idle.
	Steps      int
	DecodeTime time.Duration
	Wall       time.Duration
	// BusyWall is the part of Wall during which at least one stream was admitted.
	BusyWall time.Duration
	// PromptTokens and GenTokens are the tokens decoded for prompts and generated.
	PromptTokens int
	GenTokens    int
	// MaxBatch is the largest number of tokens a step carried; MaxActive the most streams
	// admitted at once.
	MaxBatch  int
	MaxActive int
	// Requests counts the streams that were admitted and ended, whatever the reason.
	Requests int
	// Perf is llama.cpp's own timing of the same decodes (llama_perf_context): batches of
	// several tokens count as prompt evaluation there, single tokens as evaluation.
	Perf Perf
}

type serverCounters struct {
	mu        sync.Mutex
	since     time.Time
	busySince time.Time // zero when idle
	s         ServerStats
	// perf is llama.cpp's count since the context was made, and perfBase its value at the last
	// reset: the context is the loop's alone, so a reset from another goroutine cannot touch it.
	perf, perfBase Perf
}

// stream is one request: what the caller asked, and what the loop has made of it.
type stream struct {
	ctx    context.Context
	tokens []int32 // the prompt, BOS included where the model wants it
	opts   GenerateOptions
	stop   atomic.Bool // the caller wants no more tokens
	posted time.Time

	// Owned by the loop.
	seq        int
	fed        int   // prompt tokens decoded so far
	next       int32 // sampled, decoded at the next step; -1 for none
	pos        int
	batchIdx   int // index of this stream's logits in the step's batch; -1 for none
	smpl       *C.struct_llama_sampler
	text       strings.Builder
	gen        int
	admitted   time.Time
	firstToken time.Duration // from admission; 0 until a token is sampled
	ended      bool

	// Handed to the caller.
	mu       sync.Mutex
	out      []Token
	ready    chan struct{} // signalled when out grows or the stream ends
	finished bool
	res      Result
	err      error
}

// defaultServerSequences is how many streams a Server decodes at once unless WithSequences
// says otherwise.
const defaultServerSequences = 4

// NewServer makes a context for several streams and starts its decoding loop. It takes the
// options of NewSession: WithSequences sets how many streams decode at once (default 4 here),
// WithContextSize the context of all of them together (default DefaultContextSize, capped by
// the training context, for each), WithKVUnified one KV buffer for all of them instead of one
// each. Either way a stream may hold the context ÷ the sequences. The KV cache and the compute
// buffer are checked against the memory they would live in first, as for NewSession.
func (m *Model) NewServer(opts ...SessionOption) (*Server, error) {
	cfg := defaultSessionConfig()
	cfg.sequences = defaultServerSequences
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.c == nil || m.closing {
		return nil, fmt.Errorf("new server: %w", ErrClosed)
	}
	if cfg.contextSize == 0 {
		cfg.contextSize = cfg.contextTokens(m.info.TrainContext) * cfg.sequences
	}
	sh := newContextShape(cfg, m.info.TrainContext)
	// Every stream of a step may be generating: the batch holds at least one token of each.
	sh.nBatch = max(sh.nBatch, sh.nSeq)
	sh.nUBatch = min(sh.nUBatch, sh.nBatch)
	if err := m.checkContextFits(sh, cfg.kvOnHost); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	cctx, abort, err := m.newContext(contextParams(cfg, sh))
	if err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	nBat := sh.nBatch
	core := &sessionCore{c: cctx, batch: C.llama_batch_init(C.int32_t(nBat), 0, 1), abort: abort, wake: make(chan struct{}, 1)}
	st := &serverState{
		core:   core,
		model:  m,
		vocab:  m.vocab,
		info:   m.info,
		nSeq:   sh.nSeq,
		nCtx:   int(C.llama_n_ctx(cctx)),
		perSeq: int(C.llama_n_ctx(cctx)) / sh.nSeq,
		nBatch: nBat,
		notify: core.wake,
		done:   make(chan struct{}),
	}
	st.stats.since = time.Now()
	m.cores[core] = struct{}{}
	started := make(chan struct{})
	go st.loop(started)
	<-started
	sv := &Server{serverState: st}
	sv.cleanup = runtime.AddCleanup(sv, func(st *serverState) { _ = st.close() }, st)
	return sv, nil
}

// Hold stops the server from admitting requests until release is called: requests sent
// meanwhile wait in order, and are admitted together at the first step after the last release,
// as many as there are free sequences. A measurement that must start N streams at once sends
// them under a hold and releases it once Waiting says they are all there; without one, a
// short stream may end before the next is sent. The streams already admitted go on. release
// may be called more than once; it counts once.
func (sv *Server) Hold() (release func()) {
	sv.mu.Lock()
	sv.held++
	sv.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			sv.mu.Lock()
			sv.held--
			sv.mu.Unlock()
			sv.poke()
		})
	}
}

// Waiting is the number of requests sent and not yet admitted to a sequence.
func (sv *Server) Waiting() int {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return len(sv.queue)
}

// Sequences is how many streams decode at once.
func (sv *Server) Sequences() int { return sv.nSeq }

// ContextSize is the context of all sequences together, in tokens.
func (sv *Server) ContextSize() int { return sv.nCtx }

// SequenceContext is how many tokens one stream may hold: its prompt and what it generates.
func (sv *Server) SequenceContext() int { return sv.perSeq }

// Model returns the model the server belongs to.
func (sv *Server) Model() *Model { return sv.model }

// Close ends every stream, queued or decoding, with ErrClosed, waits for the decoding loop to
// stop and frees the context. It is idempotent and safe on a nil Server.
func (sv *Server) Close() error {
	if sv == nil {
		return nil
	}
	if err := sv.close(); err != nil {
		return err
	}
	sv.cleanup.Stop()
	return nil
}

func (st *serverState) close() error {
	if err := st.core.close("close server"); err != nil {
		return err
	}
	st.model.forget(st.core)
	return nil
}

// Stats returns the counters since the server was made or since the last ResetStats.
func (sv *Server) Stats() ServerStats {
	c := &sv.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.s
	s.Perf = Perf{
		PromptEvalMs:     c.perf.PromptEvalMs - c.perfBase.PromptEvalMs,
		PromptEvalTokens: c.perf.PromptEvalTokens - c.perfBase.PromptEvalTokens,
		EvalMs:           c.perf.EvalMs - c.perfBase.EvalMs,
		EvalTokens:       c.perf.EvalTokens - c.perfBase.EvalTokens,
	}
	now := time.Now()
	s.Wall = now.Sub(c.since)
	if !c.busySince.IsZero() {
		s.BusyWall += now.Sub(c.busySince)
	}
	return s
}

// ResetStats starts the counters afresh, llama.cpp's included.
func (sv *Server) ResetStats() {
	c := &sv.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.since = now
	if !c.busySince.IsZero() {
		c.busySince = now
	}
	c.s = ServerStats{}
	c.perfBase = c.perf
}

// Generate runs one stream: it tokenizes prompt as Session.Generate does for a new
// conversation (control tokens only where the Prompt says), waits for a free sequence, and calls
// fn with every token of the reply as it comes, on the calling goroutine; fn returning false
// stops the stream. A prompt and MaxTokens that do not fit in one stream's share of the context
// give ErrContextFull before anything is queued. Cancelling ctx stops this stream only, at the
// next step (or while it waits), and returns what it had with ctx's error. Result.Queued is the
// time it waited for a sequence; Result.PromptTime runs from its admission to its first token.
// Perf is left empty: the decodes are shared, see Stats.
func (sv *Server) Generate(ctx context.Context, prompt Prompt, opts GenerateOptions, fn func(Token) bool) (Result, error) {
	if sv.core.closed.Load() {
		return Result{}, fmt.Errorf("generate: %w", ErrClosed)
	}
	// Through the model's lock: the model may be closing meanwhile.
	toks, err := sv.model.TokenizePrompt(prompt, true)
	if err != nil {
		return Result{}, fmt.Errorf("generate: %w", err)
	}
	return sv.GenerateTokens(ctx, toks, opts, fn)
}

// GenerateTokens is Generate on token ids, taken as they are: nothing is added.
func (sv *Server) GenerateTokens(ctx context.Context, tokens []int32, opts GenerateOptions, fn func(Token) bool) (Result, error) {
	if opts.MaxTokens < 0 {
		return Result{}, fmt.Errorf("generate: MaxTokens %d is negative", opts.MaxTokens)
	}
	if len(tokens) == 0 {
		return Result{}, fmt.Errorf("generate: empty prompt")
	}
	for _, t := range tokens {
		if t < 0 || int(t) >= sv.info.VocabSize {
			return Result{}, fmt.Errorf("generate: %w: token %d outside the vocabulary of %d", ErrDecode, t, sv.info.VocabSize)
		}
	}
	if room := sv.perSeq - len(tokens); room < 1 || opts.MaxTokens > room {
		return Result{}, fmt.Errorf("generate: %w: %d prompt + %d to generate > %d tokens of a sequence",
			ErrContextFull, len(tokens), opts.MaxTokens, sv.perSeq)
	}
	if err := ctx.Err(); err != nil {
		return Result{Stop: StopCancelled}, fmt.Errorf("generate: %w", err)
	}
	st := &stream{ctx: ctx, tokens: append([]int32(nil), tokens...), opts: opts, posted: time.Now(), ready: make(chan struct{}, 1), next: -1, batchIdx: -1}
	sv.mu.Lock()
	if sv.stopped {
		sv.mu.Unlock()
		return Result{}, fmt.Errorf("generate: %w", ErrClosed)
	}
	sv.queue = append(sv.queue, st)
	sv.mu.Unlock()
	sv.poke()
	return st.wait(fn)
}

// poke wakes the decoding loop.
func (st *serverState) poke() {
	select {
	case st.notify <- struct{}{}:
	default:
	}
}

// wait hands the stream's tokens to fn as they come, and returns its result once it ended.
func (s *stream) wait(fn func(Token) bool) (Result, error) {
	delivered := 0
	var text strings.Builder
	cancelled := s.ctx.Done()
	for {
		select {
		case <-s.ready:
		case <-cancelled:
			s.stop.Store(true)
			cancelled = nil // the loop drops the stream at its next step, and says so
		}
		s.mu.Lock()
		toks := s.out[delivered:]
		finished := s.finished
		s.mu.Unlock()
		for _, tok := range toks {
			if s.ctx.Err() != nil {
				s.stop.Store(true) // cancelled, perhaps by fn itself: nothing more is handed over
			}
			if s.stop.Load() {
				break
			}
			delivered++
			text.WriteString(tok.Text)
			if fn != nil && !fn(tok) {
				s.stop.Store(true)
			}
		}
		if !finished {
			continue
		}
		s.mu.Lock()
		res, err := s.res, s.err
		total := len(s.out)
		s.mu.Unlock()
		if delivered < total {
			// The caller stopped before taking them all: the result is what it took.
			res.Tokens, res.Text = delivered, text.String()
			switch {
			case s.ctx.Err() != nil:
				res.Stop, err = StopCancelled, fmt.Errorf("generate: %w", s.ctx.Err())
			case res.Stop != StopCancelled:
				res.Stop, err = StopCallback, nil
			}
		}
		return res, err
	}
}

// post hands tokens and, when the stream has ended, its result to the caller.
func (s *stream) post(tok *Token, end bool, res Result, err error) {
	s.mu.Lock()
	if tok != nil {
		s.out = append(s.out, *tok)
	}
	if end {
		s.finished, s.res, s.err = true, res, err
	}
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// loop is the decoding loop. It owns the context for the server's whole life: it holds the
// core's lock until the server closes, so that Close waits for it, as for a Session's call.
func (st *serverState) loop(started chan<- struct{}) {
	c := st.core
	c.mu.Lock()
	c.owner.Store(goid())
	close(started)
	defer func() {
		c.owner.Store(0)
		c.mu.Unlock()
		close(st.done)
	}()
	defer st.stopAccepting()

	var active []*stream
	free := make([]int, st.nSeq)
	for i := range free {
		free[i] = st.nSeq - 1 - i
	}
	nVocab := st.info.VocabSize
	var (
		toks, pos, seqs []int32
		logits          []int8
		rows, picks     []int32
		ptrs            []*C.float
		rowOwner, bySeq []*stream
	)
	end := func(s *stream, stop StopReason, err error) {
		s.ended = true
		C.llama_memory_seq_rm(C.llama_get_memory(c.c), C.llama_seq_id(s.seq), -1, -1)
		if s.smpl != nil {
			C.llama_sampler_free(s.smpl)
			s.smpl = nil
		}
		free = append(free, s.seq)
		res := Result{PromptTokens: len(s.tokens), Tokens: s.gen, Text: s.text.String(), Stop: stop, Queued: s.admitted.Sub(s.posted)}
		res.PromptTime = s.firstToken
		if err != nil {
			err = fmt.Errorf("generate: %w", err)
		}
		// Counted before the caller learns of the end, so that Stats, read once every
		// Generate has returned, holds every request.
		st.stats.mu.Lock()
		st.stats.s.Requests++
		st.stats.mu.Unlock()
		s.post(nil, true, res, err)
	}
	for {
		if c.closed.Load() {
			for _, s := range active {
				end(s, StopCancelled, ErrClosed)
			}
			return
		}
		// Drop the streams whose caller has gone or stopped taking tokens.
		kept := active[:0]
		for _, s := range active {
			switch {
			case s.ctx.Err() != nil:
				end(s, StopCancelled, s.ctx.Err())
			case s.stop.Load():
				end(s, StopCallback, nil)
			default:
				kept = append(kept, s)
			}
		}
		active = kept
		// Admit waiting requests while sequences are free.
		st.mu.Lock()
		for st.held == 0 && len(free) > 0 && len(st.queue) > 0 {
			s := st.queue[0]
			st.queue = st.queue[1:]
			if err := s.ctx.Err(); err != nil {
				s.post(nil, true, Result{Stop: StopCancelled, Queued: time.Since(s.posted)}, fmt.Errorf("generate: %w", err))
				continue
			}
			// The lowest free sequence, so that those in use stay as few runs of
			// consecutive ids as the streams' ends allow (see the step below).
			low := slices.Index(free, slices.Min(free))
			s.seq = free[low]
			free = slices.Delete(free, low, low+1)
			s.admitted = time.Now()
			if s.opts.Temperature > 0 {
				s.smpl = newSamplerChain(s.opts)
			}
			active = append(active, s)
		}
		st.mu.Unlock()
		st.busy(len(active) > 0)
		if len(active) == 0 {
			<-st.notify // a request came, or Close
			continue
		}

		// One step: the next token of every generating stream, then prompt chunks.
		toks, pos, seqs, logits = toks[:0], pos[:0], seqs[:0], logits[:0]
		rowOwner = rowOwner[:0]
		add := func(s *stream, tok int32, want bool) {
			if want {
				s.batchIdx = len(toks)
				rowOwner = append(rowOwner, s)
			}
			toks = append(toks, tok)
			pos = append(pos, int32(s.pos))
			seqs = append(seqs, int32(s.seq))
			logits = append(logits, b2i8(want))
			s.pos++
		}
		// With one KV buffer per sequence, llama.cpp splits a batch into ubatches of
		// sequences whose ids follow each other in the batch's order (split_equal), one
		// weight pass each: the next tokens go in ascending sequence order, so that a step
		// is one pass over the weights for all of them, not one per stream.
		gen, prompt := 0, 0
		bySeq = append(bySeq[:0], active...)
		slices.SortFunc(bySeq, func(a, b *stream) int { return a.seq - b.seq })
		for _, s := range bySeq {
			if s.next >= 0 {
				add(s, s.next, true)
				s.next = -1
				gen++
			}
		}
		for _, s := range active {
			if s.fed == len(s.tokens) {
				continue
			}
			budget := st.nBatch - len(toks)
			if budget <= 0 {
				break
			}
			n := min(budget, len(s.tokens)-s.fed)
			for i := 0; i < n; i++ {
				s.fed++
				add(s, s.tokens[s.fed-1], s.fed == len(s.tokens))
			}
			prompt += n
		}
		if testHookStep != nil {
			testHookStep(seqs, gen)
		}
		t0 := time.Now()
		C.llmb_batch_fill_seqs(&c.batch, (*C.int32_t)(unsafe.Pointer(&toks[0])), (*C.int32_t)(unsafe.Pointer(&pos[0])),
			(*C.int32_t)(unsafe.Pointer(&seqs[0])), (*C.int8_t)(unsafe.Pointer(&logits[0])), C.int32_t(len(toks)))
		rc := int(C.llama_decode(c.c, c.batch))
		if rc == 0 {
			C.llama_synchronize(c.c)
		}
		took := time.Since(t0)
		st.count(took, prompt, gen, len(toks), len(active))
		if rc != 0 {
			err := decodeError(rc, len(toks), 0)
			if rc == 2 && c.closed.Load() {
				err = ErrClosed
			}
			// The step's positions are gone from the cache with its failure: every stream
			// in it ends, since its cache no longer holds what it decoded.
			for _, s := range active {
				end(s, StopCancelled, err)
			}
			active = active[:0]
			continue
		}

		// Sample every stream that has logits in this step: greedy ones in one call.
		rows, picks = rows[:0], picks[:0]
		for _, s := range rowOwner {
			if s.smpl == nil {
				rows = append(rows, int32(s.batchIdx))
			}
		}
		if len(rows) > 0 {
			picks = append(picks, make([]int32, len(rows))...)
			ptrs = greedyRows(c.c, rows, picks, nVocab, ptrs)
		}
		g := 0
		for _, s := range rowOwner {
			var tok int32
			if s.smpl != nil {
				tok = int32(C.llama_sampler_sample(s.smpl, c.c, C.int32_t(s.batchIdx)))
			} else {
				tok = picks[g]
				g++
			}
			s.batchIdx = -1
			if stop, err, done := st.take(s, tok); done {
				end(s, stop, err)
			}
		}
		kept = active[:0]
		for _, s := range active {
			if !s.ended {
				kept = append(kept, s)
			}
		}
		active = kept
	}
}

// take records a stream's sampled token and hands it over, and says whether the stream ends:
// the same rules as Session.Generate.
func (st *serverState) take(s *stream, tok int32) (StopReason, error, bool) {
	if s.gen == 0 {
		s.firstToken = time.Since(s.admitted)
	}
	if tok < 0 {
		return StopCancelled, fmt.Errorf("%w: no logits", ErrDecode), true
	}
	if !s.opts.IgnoreEOG && bool(C.llama_vocab_is_eog(st.vocab, C.llama_token(tok))) {
		return StopEOG, nil, true
	}
	piece := tokenPiece(st.vocab, tok, make([]byte, 64))
	s.text.WriteString(piece)
	s.gen++
	s.post(&Token{ID: tok, Text: piece, Index: s.gen - 1}, false, Result{}, nil)
	if cut, ok := stopAt(s.text.String(), piece, s.opts.Stop); ok {
		text := s.text.String()[:cut]
		s.text.Reset()
		s.text.WriteString(text)
		return StopString, nil, true
	}
	maxTokens := s.opts.MaxTokens
	full := StopMaxTokens
	if maxTokens == 0 {
		maxTokens, full = st.perSeq-len(s.tokens), StopContextFull
	}
	if s.gen >= maxTokens {
		return full, nil, true
	}
	s.next = tok
	return "", nil, false
}

// stopAccepting refuses new requests and ends the waiting ones with ErrClosed.
func (st *serverState) stopAccepting() {
	st.mu.Lock()
	st.stopped = true
	queue := st.queue
	st.queue = nil
	st.mu.Unlock()
	for _, s := range queue {
		s.post(nil, true, Result{Stop: StopCancelled, Queued: time.Since(s.posted)}, fmt.Errorf("generate: %w", ErrClosed))
	}
}

// busy marks when streams are admitted, for BusyWall.
func (st *serverState) busy(on bool) {
	c := &st.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case on && c.busySince.IsZero():
		c.busySince = time.Now()
	case !on && !c.busySince.IsZero():
		c.s.BusyWall += time.Since(c.busySince)
		c.busySince = time.Time{}
	}
}

func (st *serverState) count(took time.Duration, prompt, gen, batch, active int) {
	perf := contextPerf(st.core.c)
	c := &st.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s.Steps++
	c.s.DecodeTime += took
	c.s.PromptTokens += prompt
	c.s.GenTokens += gen
	c.s.MaxBatch = max(c.s.MaxBatch, batch)
	c.s.MaxActive = max(c.s.MaxActive, active)
	c.perf = perf
}

func b2i8(b bool) int8 {
	if b {
		return 1
	}
	return 0
}
