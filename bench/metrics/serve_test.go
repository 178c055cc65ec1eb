package metrics

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeSpecDefaults(t *testing.T) {
	s, err := ServeSpec{}.WithDefaults()
	require.NoError(t, err)
	assert.Equal(t, DefaultServeUsers, s.Users)
	assert.Equal(t, DefaultServeRequests, s.Requests)
	assert.Equal(t, 512, s.PromptTokens)
	assert.Equal(t, 128, s.GenTokens)
	assert.Equal(t, DefaultRateFractions, s.RateFractions)
	assert.Equal(t, ServeTarget{TTFTP99Ms: 1000, TokensPerSecond: 10}, s.Target)
	assert.Equal(t, uint64(1), s.Seed)
	assert.Equal(t, 8, s.ClosedWarmup(8), "one request per user")
	assert.Equal(t, 32, s.OpenWarmup(), "a quarter of the requests")

	s, err = ServeSpec{Users: []int{4, 1, 4, 2}, Rates: []float64{3, 1}, Warmup: -1}.WithDefaults()
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 4}, s.Users, "sorted, each once")
	assert.Equal(t, []float64{1, 3}, s.Rates)
	assert.Nil(t, s.RateFractions, "explicit rates replace the fractions")
	assert.Zero(t, s.ClosedWarmup(4))
	assert.Zero(t, s.OpenWarmup())
	s, err = ServeSpec{Warmup: 3}.WithDefaults()
	require.NoError(t, err)
	assert.Equal(t, 3, s.ClosedWarmup(64))
	assert.Equal(t, 3, s.OpenWarmup())

	for name, bad := range map[string]ServeSpec{
		"no levels":     {Users: []int{}},
		"zero users":    {Users: []int{0, 1}},
		"requests":      {Requests: -1},
		"warmup":        {Warmup: -2},
		"gen":           {GenTokens: 1},
		"rate":          {Rates: []float64{1, -1}},
		"fraction":      {RateFractions: []float64{0}},
		"target":        {Target: ServeTarget{TTFTP99Ms: -1}},
		"prompt tokens": {PromptTokens: -5},
	} {
		_, err := bad.WithDefaults()
		assert.Error(t, err, name)
	}
}

// level is a level whose p99 TTFT and p10 per-user rate are the given ones.
func level(users int, rate, ttftP99, tpsP10 float64) ServeLevel {
	return ServeLevel{
		Users: users, RateRPS: rate, Requests: 8,
		TTFTMs:     Stat{N: 8, P99: ttftP99},
		PerUserTPS: Stat{N: 8, P10: tpsP10},
	}
}

func TestServeTargetMeets(t *testing.T) {
	target := ServeTarget{TTFTP99Ms: 1000, TokensPerSecond: 10}
	tests := []struct {
		name string
		l    ServeLevel
		want bool
	}{
		{"well inside", level(1, 0, 200, 50), true},
		{"on both bounds", level(1, 0, 1000, 10), true},
		{"first token late", level(1, 0, 1000.5, 50), false},
		{"too slow", level(1, 0, 200, 9.99), false},
		{"no requests measured", ServeLevel{Users: 1}, false},
		{"no decode rate", ServeLevel{Users: 1, TTFTMs: Stat{N: 3, P99: 5}}, false},
		{"a request failed", func() ServeLevel { l := level(1, 0, 200, 50); l.Errors = 1; return l }(), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, target.Meets(tt.l), tt.name)
	}
	assert.Equal(t, "≥ 10 tok/s per user (p10), TTFT p99 ≤ 1 s", target.String())
	assert.Equal(t, "≥ 2.5 tok/s per user (p10), TTFT p99 ≤ 250 ms", ServeTarget{TTFTP99Ms: 250, TokensPerSecond: 2.5}.String())
}

func TestCapacityOf(t *testing.T) {
	target := ServeTarget{TTFTP99Ms: 1000, TokensPerSecond: 10}
	tests := []struct {
		name         string
		closed, open []ServeLevel
		want         Capacity
		meets        []bool // of closed, then open
	}{
		{
			name:   "the last level before the first miss",
			closed: []ServeLevel{level(1, 0, 100, 80), level(2, 0, 150, 60), level(4, 0, 300, 30), level(8, 0, 900, 9), level(16, 0, 2000, 5)},
			want:   Capacity{Users: 4},
			meets:  []bool{true, true, true, false, false},
		},
		{
			name:   "a pass after a miss is noise, not capacity",
			closed: []ServeLevel{level(1, 0, 100, 80), level(2, 0, 1200, 60), level(4, 0, 300, 30)},
			want:   Capacity{Users: 1},
			meets:  []bool{true, false, true},
		},
		{
			name:   "every level met it: at least the largest",
			closed: []ServeLevel{level(1, 0, 100, 80), level(2, 0, 150, 60)},
			open:   []ServeLevel{level(0, 0.5, 100, 80), level(0, 1, 100, 70), level(0, 2, 3000, 70)},
			want:   Capacity{Users: 2, UsersAtLeast: true, RateRPS: 1, OpenMeasured: true},
			meets:  []bool{true, true, true, true, false},
		},
		{
			name:   "the first level missed: none",
			closed: []ServeLevel{level(1, 0, 100, 5), level(2, 0, 100, 50)},
			open:   []ServeLevel{level(0, 0.5, 5000, 80)},
			want:   Capacity{OpenMeasured: true},
			meets:  []bool{false, true, false},
		},
		{
			name:  "nothing measured",
			want:  Capacity{},
			meets: []bool{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CapacityOf(tt.closed, tt.open, target)
			tt.want.Target = target
			assert.Equal(t, tt.want, got)
			meets := []bool{}
			for _, l := range append(tt.closed, tt.open...) {
				meets = append(meets, l.MeetsTarget)
			}
			assert.Equal(t, tt.meets, meets)
		})
	}
}

func TestServeLevelLabelAndVRAM(t *testing.T) {
	assert.Equal(t, "1 user", ServeLevel{Users: 1}.Label())
	assert.Equal(t, "32 users", ServeLevel{Users: 32}.Label())
	assert.Equal(t, "2.25 req/s", ServeLevel{RateRPS: 2.25}.Label())
	_, ok := ServeLevel{}.PeakVRAMMiB()
	assert.False(t, ok)
	_, ok = ServeLevel{GPU: &GPUSample{PeakProcessBytes: 1 << 30}}.PeakVRAMMiB()
	assert.False(t, ok, "NVML never saw the process")
	v, ok := ServeLevel{GPU: &GPUSample{PeakProcessBytes: 3 << 29, ProcessSeen: true}}.PeakVRAMMiB()
	assert.True(t, ok)
	assert.Equal(t, 1536.0, v)
	assert.Equal(t, "999 ms", DurationText(999))
	assert.Equal(t, "1.5 s", DurationText(1500))
}
