package llama

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"
)

// Token is one generated token as the callback receives it.
type Token struct {
	ID    int32
	Text  string // the token's text; it may end or begin in the middle of a UTF-8 sequence
	Index int    // 0 for the first generated token
}

// GenerateOptions says how to sample and when to stop. The zero value decodes greedily until
// end of generation or the end of the context.
type GenerateOptions struct {
	// MaxTokens caps the generated tokens; 0 means until end of generation or a full context.
	MaxTokens int
	// Temperature 0 (the default) is greedy decoding: the most likely token, as llama.cpp's
	// greedy sampler picks it, computed straight over the logits. Above 0 the tokens come from
	// llama.cpp's sampler chain: top-k, top-p, min-p, temperature, then a seeded draw.
	Temperature float32
	TopK        int
	TopP        float32
	MinP        float32
	Seed        uint32
	// Stop ends generation when the text produced contains one of these strings; the result's
	// text ends before it.
	Stop []string
	// IgnoreEOG keeps generating through end-of-generation tokens, for fixed-length runs.
	IgnoreEOG bool
}

// StopReason says why generation ended.
type StopReason string

// Why generation ended.
const (
	StopEOG         StopReason = "eog"          // the model produced an end-of-generation token
	StopMaxTokens   StopReason = "max_tokens"   // MaxTokens were generated
	StopString      StopReason = "stop_string"  // a stop string appeared
	StopCallback    StopReason = "callback"     // the callback returned false
	StopCancelled   StopReason = "cancelled"    // the context was cancelled or the session closed
	StopContextFull StopReason = "context_full" // with MaxTokens 0, the context filled up
	StopPromptOnly  StopReason = "prompt_only"  // Prefill: nothing was to be generated
)

// Perf holds llama.cpp's own timings of a call (llama_perf_context), beside which the
// caller's clock can be checked.
type Perf struct {
	PromptEvalMs     float64 // time llama.cpp spent on batches of more than one token
	PromptEvalTokens int
	EvalMs           float64 // time llama.cpp spent on single-token batches
	EvalTokens       int
}

// PromptTokensPerSecond is llama.cpp's prompt processing rate; 0 without data.
func (p Perf) PromptTokensPerSecond() float64 { return rate(p.PromptEvalTokens, p.PromptEvalMs) }

// EvalTokensPerSecond is llama.cpp's generation rate; 0 without data.
func (p Perf) EvalTokensPerSecond() float64 { return rate(p.EvalTokens, p.EvalMs) }

func rate(n int, ms float64) float64 {
	if n <= 0 || ms <= 0 {
		return 0
	}
	return float64(n) / (ms / 1000)
}

// Result is what a Generate call did.
type Result struct {
	PromptTokens int // tokens decoded before the first generated one
	Tokens       int // generated tokens handed to the callback
	Text         string
	Stop         StopReason
	// PromptTime is the wall time from the first prompt batch to the first token sampled.
	PromptTime time.Duration
	// Queued is the time a Server's stream waited for a free sequence; 0 for a Session.
	Queued time.Duration
	Perf   Perf
}

// Generate tokenizes prompt (recognizing control tokens only where the prompt does: in the
// template's text of a ChatPrompt, everywhere in a RawPrompt, nowhere in Text; adding BOS at
// the start of a conversation where the model wants it), decodes it after whatever the session
// holds, and generates, calling fn with every token as soon as it is sampled; fn returning
// false stops. Cancelling ctx stops within one token (during a long prompt, within one batch
// on the CPU) and returns the partial result with ctx's error. The prompt and MaxTokens must
// fit in the context, else ErrContextFull comes before anything is decoded. fn may be nil; it
// runs on the calling goroutine, and what it may call is said at Session.
func (s *Session) Generate(ctx context.Context, prompt Prompt, opts GenerateOptions, fn func(Token) bool) (Result, error) {
	end, err := s.begin("generate")
	if err != nil {
		return Result{}, err
	}
	defer end()
	if testHookAfterBegin != nil {
		testHookAfterBegin(s)
	}
	toks, err := s.model.tokenizePrompt(prompt)
	if err != nil {
		return Result{}, fmt.Errorf("generate: %w", err)
	}
	if s.nPast == 0 && len(s.next) == 0 {
		toks = s.model.withBOS(toks)
	}
	return s.run(ctx, toks, opts, fn)
}

// GenerateTokens is Generate on token ids, taken as they are: nothing is added.
func (s *Session) GenerateTokens(ctx context.Context, tokens []int32, opts GenerateOptions, fn func(Token) bool) (Result, error) {
	end, err := s.begin("generate")
	if err != nil {
		return Result{}, err
	}
	defer end()
	return s.run(ctx, tokens, opts, fn)
}

// Prefill decodes tokens into the KV cache without generating, for example to measure
// generation at a given context depth.
func (s *Session) Prefill(ctx context.Context, tokens []int32) (Result, error) {
	end, err := s.begin("prefill")
	if err != nil {
		return Result{}, err
	}
	defer end()
	input := append(append([]int32(nil), s.next...), tokens...)
	if s.nPast+len(input) > s.nCtx {
		return Result{}, fmt.Errorf("prefill: %w: %d tokens held + %d new > context %d", ErrContextFull, s.nPast, len(input), s.nCtx)
	}
	defer s.watch(ctx)()
	C.llama_perf_context_reset(s.c)
	start := time.Now()
	res := Result{PromptTokens: len(input), Stop: StopPromptOnly}
	if err := s.decodePrompt(ctx, input, false); err != nil {
		res.Stop = StopCancelled
		return res, fmt.Errorf("prefill: %w", err)
	}
	res.PromptTime = time.Since(start)
	s.next = nil
	res.Perf = s.perf()
	return res, nil
}

// watch lowers the cancel flag and raises it when ctx is cancelled, so that llama.cpp stops
// inside a long decode. The returned function ends the watch and waits for a raise under way,
// so the flag is never touched after the call that owns it returns.
func (s *Session) watch(ctx context.Context) (release func()) {
	C.llmb_flag_set(&s.abort.cancel, 0)
	raised := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		C.llmb_flag_set(&s.abort.cancel, 1)
		close(raised)
	})
	return func() {
		if !stop() {
			<-raised
		}
	}
}

func (s *Session) run(ctx context.Context, tokens []int32, opts GenerateOptions, fn func(Token) bool) (Result, error) {
	if opts.MaxTokens < 0 {
		return Result{}, fmt.Errorf("generate: MaxTokens %d is negative", opts.MaxTokens)
	}
	input := append(append([]int32(nil), s.next...), tokens...)
	if len(input) == 0 {
		return Result{}, fmt.Errorf("generate: empty prompt")
	}
	maxTokens := opts.MaxTokens
	room := s.nCtx - s.nPast - len(input)
	if room < 1 || maxTokens > room {
		return Result{}, fmt.Errorf("generate: %w: %d tokens held + %d prompt + %d to generate > context %d",
			ErrContextFull, s.nPast, len(input), maxTokens, s.nCtx)
	}
	if err := ctx.Err(); err != nil {
		return Result{Stop: StopCancelled}, fmt.Errorf("generate: %w", err)
	}
	fullStop := StopMaxTokens
	if maxTokens == 0 {
		maxTokens, fullStop = room, StopContextFull
	}

	var smpl *C.struct_llama_sampler
	if opts.Temperature > 0 {
		smpl = newSamplerChain(opts)
		defer C.llama_sampler_free(smpl)
	}

	defer s.watch(ctx)()
	C.llama_perf_context_reset(s.c)

	res := Result{PromptTokens: len(input)}
	var text strings.Builder
	start := time.Now()
	if err := s.decodePrompt(ctx, input, true); err != nil {
		res.Stop = StopCancelled
		res.Perf = s.perf()
		return res, fmt.Errorf("generate: %w", err)
	}
	s.next = nil
	nVocab := C.int32_t(C.llama_vocab_n_tokens(s.vocab))
	for {
		var tok int32
		if smpl != nil {
			tok = int32(C.llama_sampler_sample(smpl, s.c, -1))
		} else {
			tok = int32(C.llmb_argmax(s.c, -1, nVocab))
		}
		if res.Tokens == 0 {
			res.PromptTime = time.Since(start)
		}
		if tok < 0 {
			res.Perf = s.perf()
			return res, fmt.Errorf("generate: %w: no logits", ErrDecode)
		}
		// The sampled token enters the cache at the start of the next decode.
		s.next = []int32{tok}
		if !opts.IgnoreEOG && bool(C.llama_vocab_is_eog(s.vocab, C.llama_token(tok))) {
			res.Stop = StopEOG
			break
		}
		piece := s.tokenText(tok)
		text.WriteString(piece)
		res.Tokens++
		s.setPosition()
		if fn != nil && !fn(Token{ID: tok, Text: piece, Index: res.Tokens - 1}) {
			res.Stop = StopCallback
			break
		}
		if cut, ok := stopAt(text.String(), piece, opts.Stop); ok {
			res.Stop = StopString
			res.Text = text.String()[:cut]
			res.Perf = s.perf()
			return res, nil
		}
		if res.Tokens >= maxTokens {
			res.Stop = fullStop
			break
		}
		if err := s.cancelled(ctx); err != nil {
			res.Stop = StopCancelled
			res.Text = text.String()
			res.Perf = s.perf()
			return res, fmt.Errorf("generate: %w", err)
		}
		if err := s.decode(s.next, s.nPast, true); err != nil {
			res.Stop = StopCancelled
			res.Text = text.String()
			res.Perf = s.perf()
			if errors.Is(err, errAborted) {
				err = s.abortCause(ctx)
			}
			return res, fmt.Errorf("generate: %w", err)
		}
		s.nPast++
		s.next = nil
	}
	res.Text = text.String()
	res.Perf = s.perf()
	return res, nil
}

// stopAt looks for a stop string in text, only where the newest piece can have completed one,
// and returns the length of text before it.
func stopAt(text, piece string, stops []string) (int, bool) {
	for _, st := range stops {
		if st == "" {
			continue
		}
		from := max(0, len(text)-len(piece)-len(st)+1)
		if i := strings.Index(text[from:], st); i >= 0 {
			return from + i, true
		}
	}
	return 0, false
}

var errAborted = errors.New("aborted")

// cancelled returns why the call must stop: the context's error, or ErrClosed once Close has
// begun.
func (s *Session) cancelled(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

func (s *Session) abortCause(ctx context.Context) error {
	if err := s.cancelled(ctx); err != nil {
		return err
	}
	return ErrDecode
}

// decodePrompt decodes input in batches of at most n_batch tokens, checking for cancellation
// between them; logits are kept for the last token only, when wantLogits. A failure leaves
// the session as it was before the call.
func (s *Session) decodePrompt(ctx context.Context, input []int32, wantLogits bool) error {
	start := s.nPast
	for off := 0; off < len(input); off += s.nBat {
		end := min(off+s.nBat, len(input))
		err := s.cancelled(ctx)
		if err == nil {
			err = s.decode(input[off:end], s.nPast, wantLogits && end == len(input))
		}
		if err != nil {
			C.llama_memory_seq_rm(C.llama_get_memory(s.c), 0, C.llama_pos(start), -1)
			s.nPast = start
			if errors.Is(err, errAborted) {
				err = s.abortCause(ctx)
			}
			return err
		}
		s.nPast += end - off
	}
	// A GPU decodes asynchronously: wait for it, so that the caller's clock and llama.cpp's
	// prompt timing (taken when it synchronizes) both cover the whole prompt.
	C.llama_synchronize(s.c)
	return nil
}

// decode runs llama_decode on tokens placed at pos. On failure the positions it may have
// filled are removed from the cache, so the session stays usable.
func (s *Session) decode(tokens []int32, pos int, wantLogits bool) error {
	C.llmb_batch_fill(&s.batch, (*C.int32_t)(unsafe.Pointer(&tokens[0])), C.int32_t(len(tokens)), C.int32_t(pos), C.bool(wantLogits))
	rc := int(C.llama_decode(s.c, s.batch))
	if rc == 0 {
		return nil
	}
	C.llama_memory_seq_rm(C.llama_get_memory(s.c), 0, C.llama_pos(pos), -1)
	return decodeError(rc, len(tokens), pos)
}

// decodeError turns llama_decode's return code for a batch of n tokens into an error.
func decodeError(rc, n, pos int) error {
	switch rc {
	case 1:
		return fmt.Errorf("%w: no KV cache slot for %d tokens at position %d", ErrContextFull, n, pos)
	case 2:
		return errAborted
	case -2:
		return fmt.Errorf("%w: llama_decode could not allocate its compute buffers", ErrOutOfMemory)
	default:
		return fmt.Errorf("%w: llama_decode returned %d", ErrDecode, rc)
	}
}

func (s *Session) tokenText(tok int32) string {
	n := int(C.llama_token_to_piece(s.vocab, C.llama_token(tok), (*C.char)(unsafe.Pointer(&s.piece[0])), C.int32_t(len(s.piece)), 0, false))
	if n < 0 {
		s.piece = make([]byte, -n)
		return s.tokenText(tok)
	}
	return string(s.piece[:n])
}

func (s *Session) perf() Perf { return contextPerf(s.c) }

// contextPerf reads llama.cpp's own timings of a context.
func contextPerf(c *C.struct_llama_context) Perf {
	d := C.llama_perf_context(c)
	return Perf{
		PromptEvalMs:     float64(d.t_p_eval_ms),
		PromptEvalTokens: int(d.n_p_eval),
		EvalMs:           float64(d.t_eval_ms),
		EvalTokens:       int(d.n_eval),
	}
}

func newSamplerChain(o GenerateOptions) *C.struct_llama_sampler {
	params := C.llama_sampler_chain_default_params()
	params.no_perf = true
	chain := C.llama_sampler_chain_init(params)
	if o.TopK > 0 {
		C.llama_sampler_chain_add(chain, C.llama_sampler_init_top_k(C.int32_t(o.TopK)))
	}
	if o.TopP > 0 && o.TopP < 1 {
		C.llama_sampler_chain_add(chain, C.llama_sampler_init_top_p(C.float(o.TopP), 1))
	}
	if o.MinP > 0 {
		C.llama_sampler_chain_add(chain, C.llama_sampler_init_min_p(C.float(o.MinP), 1))
	}
	C.llama_sampler_chain_add(chain, C.llama_sampler_init_temp(C.float(o.Temperature)))
	C.llama_sampler_chain_add(chain, C.llama_sampler_init_dist(C.uint32_t(o.Seed)))
	return chain
}
