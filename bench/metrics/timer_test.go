package metrics

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// script is a clock that returns the given offsets from a fixed instant, one per reading.
func script(t *testing.T, offsets ...time.Duration) func() time.Time {
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		require.NotEmpty(t, offsets, "the timer read the clock more often than the test expects")
		d := offsets[0]
		offsets = offsets[1:]
		return base.Add(d)
	}
}

const ms = time.Millisecond

func TestTokenTimer(t *testing.T) {
	tests := []struct {
		name    string
		clock   []time.Duration // start, the callbacks, stop
		tokens  int
		ttft    time.Duration
		hasTTFT bool
		decoded int
		span    time.Duration
		tps     float64
		hasTPS  bool
		itl     []float64
		e2e     time.Duration
	}{
		{
			name:  "four tokens",
			clock: []time.Duration{0, 50 * ms, 60 * ms, 80 * ms, 90 * ms, 95 * ms},
			// The first callback at 50 ms ends the TTFT and starts the decode span: 3 tokens
			// in 40 ms.
			tokens: 4, ttft: 50 * ms, hasTTFT: true, decoded: 3, span: 40 * ms, tps: 75, hasTPS: true,
			itl: []float64{10, 20, 10}, e2e: 95 * ms,
		},
		{
			name:   "one token has a TTFT but no decode rate",
			clock:  []time.Duration{0, 30 * ms, 31 * ms},
			tokens: 1, ttft: 30 * ms, hasTTFT: true, e2e: 31 * ms,
		},
		{
			name:  "no token",
			clock: []time.Duration{0, 5 * ms},
			e2e:   5 * ms,
		},
		{
			name:   "callbacks at one instant give no rate rather than an infinite one",
			clock:  []time.Duration{0, 10 * ms, 10 * ms, 12 * ms},
			tokens: 2, ttft: 10 * ms, hasTTFT: true, decoded: 1, itl: []float64{0}, e2e: 12 * ms,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timer := NewTokenTimer(2)
			timer.Clock = script(t, tt.clock...)
			timer.Start()
			for range len(tt.clock) - 2 {
				timer.Token()
			}
			timer.Stop()
			assert.Equal(t, tt.tokens, timer.Tokens())
			ttft, ok := timer.TTFT()
			assert.Equal(t, tt.hasTTFT, ok)
			assert.Equal(t, tt.ttft, ttft)
			n, span := timer.Decode()
			assert.Equal(t, tt.decoded, n)
			assert.Equal(t, tt.span, span)
			tps, ok := timer.DecodeTPS()
			assert.Equal(t, tt.hasTPS, ok)
			assert.InDelta(t, tt.tps, tps, 1e-9)
			assert.Equal(t, tt.itl, timer.ITLMs())
			assert.Equal(t, tt.e2e, timer.E2E())
		})
	}
}

func TestTokenTimerStartForgetsTheLastCall(t *testing.T) {
	timer := &TokenTimer{}
	timer.Clock = script(t, 0, 100*ms, 200*ms, 300*ms, 1000*ms, 1007*ms, 1009*ms, 1010*ms)
	timer.Start()
	timer.Token()
	timer.Token()
	timer.Stop()
	timer.Start()
	timer.Token()
	timer.Token()
	timer.Stop()
	assert.Equal(t, 2, timer.Tokens())
	ttft, _ := timer.TTFT()
	assert.Equal(t, 7*ms, ttft)
	assert.Equal(t, []float64{2}, timer.ITLMs())
	assert.Equal(t, 10*ms, timer.E2E())
}

func TestTokenTimerReadsTheRealClockByDefault(t *testing.T) {
	timer := NewTokenTimer(3)
	timer.Start()
	for range 3 {
		timer.Token()
	}
	timer.Stop()
	ttft, ok := timer.TTFT()
	require.True(t, ok)
	n, span := timer.Decode()
	assert.Equal(t, 2, n)
	// Monotonic readings never go back: each mark is at or after the one before.
	assert.GreaterOrEqual(t, ttft, time.Duration(0))
	assert.GreaterOrEqual(t, span, time.Duration(0))
	assert.GreaterOrEqual(t, timer.E2E(), ttft+span)
}

func TestMillis(t *testing.T) {
	assert.Equal(t, 1.5, Millis(1500*time.Microsecond))
}

// A call sent on a schedule starts when it was due; the window count takes the callbacks
// from its start up to, not including, its end.
func TestTokenTimerStartAtAndWindows(t *testing.T) {
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	timer := NewTokenTimer(4)
	timer.Clock = script(t, 30*ms, 40*ms, 50*ms, 60*ms)
	timer.StartAt(base.Add(10 * ms))
	for range 3 {
		timer.Token()
	}
	assert.True(t, timer.Stopped().IsZero(), "not stopped yet")
	timer.Stop()
	assert.Equal(t, base.Add(10*ms), timer.Started())
	assert.Equal(t, base.Add(60*ms), timer.Stopped())
	ttft, ok := timer.TTFT()
	require.True(t, ok)
	assert.Equal(t, 20*ms, ttft, "from the due time, not from the first reading")
	assert.Equal(t, 3, timer.TokensIn(base, base.Add(time.Second)))
	assert.Equal(t, 2, timer.TokensIn(base.Add(30*ms), base.Add(50*ms)), "30 and 40 ms: the window's end is left out")
	assert.Equal(t, 1, timer.TokensIn(base.Add(50*ms), base.Add(51*ms)))
	assert.Equal(t, 0, timer.TokensIn(base.Add(51*ms), base.Add(time.Second)))
}
