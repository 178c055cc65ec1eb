package metrics

import "time"

// TokenTimer times one generation call at its token callback. It holds the project's one
// definition of the first token: the first callback, whatever the token's index or text.
// Start it right before the call, call Token first thing in every callback and Stop as soon
// as the call returns; then
//
//   - TTFT is the time from Start to the first callback;
//   - the decode rate is (tokens − 1) ÷ (last callback − first callback);
//   - the inter-token latencies are the intervals between consecutive callbacks.
//
// Start resets it, so one timer serves call after call, reusing its memory. A TokenTimer is
// not safe for concurrent use.
type TokenTimer struct {
	// Clock reads the time; nil means time.Now, whose monotonic reading the intervals use.
	Clock func() time.Time

	start, end time.Time
	stamps     []time.Time
}

// NewTokenTimer returns a timer with room for n callbacks, so that timing a call of up to n
// tokens allocates nothing.
func NewTokenTimer(n int) *TokenTimer {
	return &TokenTimer{stamps: make([]time.Time, 0, n)}
}

func (t *TokenTimer) now() time.Time {
	if t.Clock != nil {
		return t.Clock()
	}
	return time.Now()
}

// Start forgets the last call and marks the start of the next one.
func (t *TokenTimer) Start() {
	t.stamps = t.stamps[:0]
	t.end = time.Time{}
	t.start = t.now()
}

// StartAt is Start with the start given rather than read: a request sent on a schedule starts
// when it was due, so that a late dispatch counts against its time to first token.
func (t *TokenTimer) StartAt(at time.Time) {
	t.stamps = t.stamps[:0]
	t.end = time.Time{}
	t.start = at
}

// Token marks a token callback.
func (t *TokenTimer) Token() { t.stamps = append(t.stamps, t.now()) }

// Stop marks the end of the call.
func (t *TokenTimer) Stop() { t.end = t.now() }

// Tokens is the number of callbacks since Start.
func (t *TokenTimer) Tokens() int { return len(t.stamps) }

// E2E is the time from Start to Stop.
func (t *TokenTimer) E2E() time.Duration { return t.end.Sub(t.start) }

// Started is the mark of Start, or the time StartAt was given.
func (t *TokenTimer) Started() time.Time { return t.start }

// Stopped is the mark of Stop; zero before it.
func (t *TokenTimer) Stopped() time.Time { return t.end }

// TokensIn counts the callbacks marked at or after from and before to: the share of a call's
// tokens that fell in a measurement window.
func (t *TokenTimer) TokensIn(from, to time.Time) int {
	n := 0
	for _, s := range t.stamps {
		if !s.Before(from) && s.Before(to) {
			n++
		}
	}
	return n
}

// TTFT is the time from Start to the first callback; false when there was none.
func (t *TokenTimer) TTFT() (time.Duration, bool) {
	if len(t.stamps) == 0 {
		return 0, false
	}
	return t.stamps[0].Sub(t.start), true
}

// Decode is what the decode rate divides: the tokens after the first, and the time from the
// first callback to the last. Both are 0 with fewer than two callbacks.
func (t *TokenTimer) Decode() (tokens int, d time.Duration) {
	n := len(t.stamps)
	if n < 2 {
		return 0, 0
	}
	return n - 1, t.stamps[n-1].Sub(t.stamps[0])
}

// DecodeTPS is the decode rate in tokens per second; false with fewer than two callbacks, or
// when they came at the same instant.
func (t *TokenTimer) DecodeTPS() (float64, bool) {
	n, d := t.Decode()
	if n == 0 || d <= 0 {
		return 0, false
	}
	return float64(n) / d.Seconds(), true
}

// ITLMs returns the intervals between consecutive callbacks in milliseconds, in order; nil
// with fewer than two callbacks.
func (t *TokenTimer) ITLMs() []float64 {
	if len(t.stamps) < 2 {
		return nil
	}
	out := make([]float64, len(t.stamps)-1)
	for i := 1; i < len(t.stamps); i++ {
		out[i-1] = Millis(t.stamps[i].Sub(t.stamps[i-1]))
	}
	return out
}

// Millis is d in milliseconds, the unit of a result's times.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
