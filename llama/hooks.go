package llama

// #include "helpers.h"
import "C"

import "runtime/cgo"

// The functions below let the package's tests look inside the binding: how many contexts are
// alive, whether a backend free was deferred, and a clock made of llama.cpp's own progress
// (the polls of the abort callback), so that a test can act at a known point of a decode
// instead of after a wall-clock delay.

// testHookAfterBegin, when set, runs in Generate right after the call has begun and before it
// watches its context.
var testHookAfterBegin func(*Session)

// testHookStep, when set, sees the sequence id of every token of each Server step just before
// it is decoded; the first gen are the next tokens of generating streams, the rest prompt.
var testHookStep func(seqs []int32, gen int)

// liveContexts is the number of llama.cpp contexts made and not yet freed.
func liveContexts() int64 { return int64(C.llmb_live_contexts()) }

// deferredBackendFrees frees a CPU backend inside the binding's context calls (inCall) or as
// other code would, and says how many frees were deferred then.
func deferredBackendFrees(inCall bool) (int, error) {
	if err := ensureBackend(); err != nil {
		return 0, err
	}
	return int(C.llmb_free_backend_deferred(C.bool(inCall))), nil
}

// tripAt makes the session's abort callback run fn and then raise the cancel flag at its n-th
// poll during the next call. The returned function undoes it.
func (s *Session) tripAt(n int64, fn func()) (undo func()) {
	h := cgo.NewHandle(fn)
	s.flagMu.Lock()
	s.abort.polls = 0
	s.abort.trip_handle = C.uintptr_t(h)
	s.abort.trip_at = C.int64_t(n)
	s.flagMu.Unlock()
	return func() {
		s.flagMu.Lock()
		if s.abort != nil {
			s.abort.trip_at = 0
		}
		s.flagMu.Unlock()
		h.Delete()
	}
}

// abortPolls is how many times llama.cpp polled the abort callback since the last tripAt.
func (s *Session) abortPolls() int64 {
	s.flagMu.Lock()
	defer s.flagMu.Unlock()
	if s.abort == nil {
		return 0
	}
	return int64(C.llmb_polls(s.abort))
}

// cancelRaised reports whether the cancel flag is up, as llama.cpp would read it.
func (s *Session) cancelRaised() bool {
	s.flagMu.Lock()
	defer s.flagMu.Unlock()
	return s.abort != nil && C.llmb_flag_get(&s.abort.cancel) != 0
}

// currentThread is the id of the thread the caller runs on, as the log callback reports it.
func currentThread() int64 { return int64(C.llmb_tid()) }

// lastMargin is the gap between the two largest logits of the last token decoded: how far the
// greedy pick was from a tie. Callable from a token callback.
func (s *Session) lastMargin() float32 {
	return float32(C.llmb_top2_margin(s.c, -1, C.int32_t(s.model.info.VocabSize)))
}
