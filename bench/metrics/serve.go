package metrics

import (
	"fmt"
	"slices"
)

// Defaults of a ServeSpec.
const (
	DefaultServeRequests     = 128
	DefaultServePromptTokens = 512
	DefaultServeGenTokens    = 128
	// DefaultSLOTTFTMs is the default service target's p99 time to first token: a reply that
	// starts within a second still feels like an answer to what the user just did.
	DefaultSLOTTFTMs = 1000
	// DefaultSLOTokensPerSecond is the default target's per-user rate, at the slow tenth of
	// requests: 10 tokens/s is about 7 to 8 words a second, faster than people read.
	DefaultSLOTokensPerSecond = 10
)

// DefaultServeUsers are the concurrency levels of the closed loop.
var DefaultServeUsers = []int{1, 2, 4, 8, 16, 32, 64}

// DefaultRateFractions place the open loop's arrival rates under and at the closed loop's
// saturation: the highest requests/s it reached.
var DefaultRateFractions = []float64{0.25, 0.5, 0.75, 0.9, 1}

// ServeSpec says how to measure a model serving several users at once (bench.Serve). The zero
// values of its fields mean the defaults; a Serving holds the spec as run.
type ServeSpec struct {
	// Users are the closed loop's levels: that many users each send a request and the next as
	// soon as the reply ends. Default DefaultServeUsers.
	Users []int `json:"users"`
	// Requests measured at each level, after the warmup; default DefaultServeRequests.
	Requests int `json:"requests"`
	// Warmup requests sent at each level before those measured: default one per user in the
	// closed loop and a quarter of Requests in the open loop; -1 for none.
	Warmup int `json:"warmup"`
	// RandomPrompts sends PromptTokens random token ids and generates exactly GenTokens
	// through end of generation (synthetic twins, or fixed-size work); otherwise each request
	// is one of the baseline prompts through the chat template, and its reply ends at end of
	// generation or GenTokens.
	RandomPrompts bool `json:"random_prompts"`
	// PromptTokens of a random prompt (P); default DefaultServePromptTokens.
	PromptTokens int `json:"prompt_tokens"`
	// GenTokens is the most a reply generates (G); default DefaultServeGenTokens.
	GenTokens int `json:"gen_tokens"`
	// Rates are the open loop's arrival rates in requests/s. When empty, they are
	// RateFractions (default DefaultRateFractions) of the closed loop's saturation.
	Rates         []float64 `json:"rates,omitempty"`
	RateFractions []float64 `json:"rate_fractions,omitempty"`
	// ClosedOnly leaves the open loop out.
	ClosedOnly bool `json:"closed_only"`
	// Target is the service target that capacity is measured against.
	Target ServeTarget `json:"target"`
	// Seed of the random prompts and of the arrivals; default 1.
	Seed uint64 `json:"seed"`
}

// WithDefaults returns the spec with every default filled in, or an error for values that
// make no sense.
func (s ServeSpec) WithDefaults() (ServeSpec, error) {
	if s.Users == nil {
		s.Users = DefaultServeUsers
	}
	if len(s.Users) == 0 {
		return s, fmt.Errorf("serve: no user levels")
	}
	s.Users = slices.Clone(s.Users)
	slices.Sort(s.Users)
	s.Users = slices.Compact(s.Users)
	if s.Users[0] < 1 {
		return s, fmt.Errorf("serve: %d users", s.Users[0])
	}
	if s.Requests == 0 {
		s.Requests = DefaultServeRequests
	}
	if s.PromptTokens == 0 {
		s.PromptTokens = DefaultServePromptTokens
	}
	if s.GenTokens == 0 {
		s.GenTokens = DefaultServeGenTokens
	}
	switch {
	case s.Requests < 1:
		return s, fmt.Errorf("serve: %d requests", s.Requests)
	case s.Warmup < -1:
		return s, fmt.Errorf("serve: warmup %d", s.Warmup)
	case s.PromptTokens < 1 || s.GenTokens < 2:
		return s, fmt.Errorf("serve: prompt %d and gen %d tokens: want at least 1 and 2", s.PromptTokens, s.GenTokens)
	}
	if len(s.Rates) == 0 && s.RateFractions == nil {
		s.RateFractions = DefaultRateFractions
	}
	s.Rates = slices.Clone(s.Rates)
	s.RateFractions = slices.Clone(s.RateFractions)
	slices.Sort(s.Rates)
	slices.Sort(s.RateFractions)
	for _, r := range append(slices.Clone(s.Rates), s.RateFractions...) {
		if !(r > 0) {
			return s, fmt.Errorf("serve: rate %v must be positive", r)
		}
	}
	if s.Target.TTFTP99Ms == 0 {
		s.Target.TTFTP99Ms = DefaultSLOTTFTMs
	}
	if s.Target.TokensPerSecond == 0 {
		s.Target.TokensPerSecond = DefaultSLOTokensPerSecond
	}
	if s.Target.TTFTP99Ms < 0 || s.Target.TokensPerSecond < 0 {
		return s, fmt.Errorf("serve: target %s must not be negative", s.Target)
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	return s, nil
}

// ClosedWarmup is the warmup of a closed-loop level of users.
func (s ServeSpec) ClosedWarmup(users int) int { return s.warmup(users) }

// OpenWarmup is the warmup of an open-loop level.
func (s ServeSpec) OpenWarmup() int { return s.warmup(s.Requests / 4) }

func (s ServeSpec) warmup(def int) int {
	switch {
	case s.Warmup < 0:
		return 0
	case s.Warmup > 0:
		return s.Warmup
	}
	return def
}

// ServeTarget is a service target: what each user must get for the service to count as good.
type ServeTarget struct {
	// TTFTP99Ms bounds the 99th percentile of the time to first token, queueing included.
	TTFTP99Ms float64 `json:"ttft_p99_ms"`
	// TokensPerSecond bounds from below the 10th percentile of the per-user decode rate.
	TokensPerSecond float64 `json:"tokens_per_second"`
}

// String writes the target as "≥ 10 tok/s per user (p10), TTFT p99 ≤ 1 s".
func (t ServeTarget) String() string {
	return fmt.Sprintf("≥ %s tok/s per user (p10), TTFT p99 ≤ %s", trimFloat(t.TokensPerSecond), DurationText(t.TTFTP99Ms))
}

// DurationText writes milliseconds as a person reads them: "250 ms", "1 s", "1.5 s".
func DurationText(ms float64) string {
	if ms < 1000 {
		return trimFloat(ms) + " ms"
	}
	return trimFloat(ms/1000) + " s"
}

func trimFloat(v float64) string { return fmt.Sprintf("%.3g", v) }

// Meets reports whether a level met the target: a p99 TTFT no higher than its bound, a p10
// per-user rate no lower than its bound, and no request that failed.
func (t ServeTarget) Meets(l ServeLevel) bool {
	return l.Errors == 0 && l.TTFTMs.N > 0 && l.TTFTMs.P99 <= t.TTFTP99Ms &&
		l.PerUserTPS.N > 0 && l.PerUserTPS.P10 >= t.TokensPerSecond
}

// Serving is what bench.Serve measured: the closed loop's levels, the open loop's, and the
// capacity under the spec's target.
type Serving struct {
	// Spec is the spec as run, with its defaults filled in.
	Spec ServeSpec `json:"spec"`
	// Closed holds a level per number of users, in increasing order; Open a level per
	// arrival rate, in increasing order.
	Closed []ServeLevel `json:"closed"`
	Open   []ServeLevel `json:"open,omitempty"`
	// SaturationRPS is the highest requests/s of the closed loop, and SaturationUsers the level
	// that reached it; the open loop's server has that many sequences, and its rates are
	// fractions of SaturationRPS unless the spec gives them.
	SaturationRPS   float64  `json:"saturation_rps"`
	SaturationUsers int      `json:"saturation_users"`
	Capacity        Capacity `json:"capacity"`
	// Skipped says what was not measured and why (a level whose context does not fit).
	Skipped []string `json:"skipped,omitempty"`
}

// ServeLevel is one level of a sweep: a number of users (closed loop) or an arrival rate
// (open loop). Its figures cover the measured requests, and the window from the send of
// the first of them to the end of the last, during which the other requests keep the load.
type ServeLevel struct {
	// Users is the closed loop's concurrency; RateRPS the open loop's offered arrival rate.
	Users   int     `json:"users,omitempty"`
	RateRPS float64 `json:"rate_rps,omitempty"`
	// Sequences and ContextSize are the server's: streams decoding at once, and the context of
	// all of them.
	Sequences   int `json:"sequences"`
	ContextSize int `json:"context_size"`
	// Requests measured, and Errors among them (a failed request fails the target).
	Requests int `json:"requests"`
	Errors   int `json:"errors"`
	// WindowMs is the measurement window.
	WindowMs float64 `json:"window_ms"`
	// OutputTPS is the tokens handed to any user during the window ÷ the window: aggregate
	// output tokens/s. RequestsPerS is the requests that ended during it ÷ the window.
	OutputTPS    float64 `json:"output_tps"`
	RequestsPerS float64 `json:"requests_per_s"`
	// PerUserTPS is each measured request's decode rate at its callback, (tokens − 1) ÷ the
	// time from its first token to its last: the speed a user reads at.
	PerUserTPS Stat `json:"per_user_tps"`
	// TTFTMs runs from a request's send (its due time in the open loop) to its first token,
	// so that it holds the wait for a sequence. QueuedMs is that wait alone, as the server
	// saw it.
	TTFTMs   Stat `json:"ttft_ms"`
	QueuedMs Stat `json:"queued_ms"`
	// ITLMs pools the intervals between the tokens of the measured requests.
	ITLMs Stat `json:"itl_ms"`
	E2EMs Stat `json:"e2e_ms"`
	// PromptTokens and Tokens are per measured request; Stops counts why their replies ended.
	PromptTokens Stat           `json:"prompt_tokens"`
	Tokens       Stat           `json:"tokens"`
	Stops        map[string]int `json:"stops"`
	// GPU is the monitor's sample over the window, JPerToken its energy ÷ the window's output
	// tokens; GPUUnavailable says why there is none.
	GPU            *GPUSample `json:"gpu,omitempty"`
	JPerToken      *float64   `json:"j_per_token,omitempty"`
	GPUUnavailable string     `json:"gpu_unavailable,omitempty"`
	// Engine is the server's own account of the window.
	Engine ServeEngine `json:"engine"`
	// MeetsTarget says whether the level met the spec's target (ServeTarget.Meets).
	MeetsTarget bool `json:"meets_target"`
}

// Label names the level: "8 users", "2.5 req/s".
func (l ServeLevel) Label() string {
	if l.Users > 0 {
		if l.Users == 1 {
			return "1 user"
		}
		return fmt.Sprintf("%d users", l.Users)
	}
	return fmt.Sprintf("%s req/s", trimFloat(l.RateRPS))
}

// PeakVRAMMiB is the process's peak VRAM during the window; false without a sample that saw
// the process.
func (l ServeLevel) PeakVRAMMiB() (float64, bool) {
	if l.GPU == nil || !l.GPU.ProcessSeen {
		return 0, false
	}
	return float64(l.GPU.PeakProcessBytes) / (1 << 20), true
}

// ServeEngine is the server's account of a window (llama.ServerStats): the time inside
// llama_decode beside llama.cpp's own count of it, and what is left of the wall time.
type ServeEngine struct {
	Steps int `json:"steps"`
	// DecodeMs is the time inside llama_decode, measured around each call; EngineMs is
	// llama.cpp's own timing of the same decodes (llama_perf_context).
	DecodeMs float64 `json:"decode_ms"`
	EngineMs float64 `json:"engine_ms"`
	// WallMs is the window; BusyMs the part of it with at least one stream admitted.
	WallMs float64 `json:"wall_ms"`
	BusyMs float64 `json:"busy_ms"`
	// PromptTokens and GenTokens were decoded during the window.
	PromptTokens int `json:"prompt_tokens"`
	GenTokens    int `json:"gen_tokens"`
	MaxBatch     int `json:"max_batch"`
	MaxActive    int `json:"max_active"`
	// OutsideDecode is 1 − DecodeMs ÷ BusyMs, at least 0: the share of the busy time spent
	// outside llama_decode (scheduling, sampling, handing tokens over). A step under way when
	// the window opens counts whole, so that a short window may show 0. Nil without busy time.
	OutsideDecode *float64 `json:"outside_decode"`
}

// Capacity is what a model serves under a target: the most users, and the highest arrival
// rate, at which the target held at that level and at every level below it.
type Capacity struct {
	Target ServeTarget `json:"target"`
	// Users is the largest closed-loop level that met the target with every smaller one; 0
	// when the first level missed it. UsersAtLeast says that every level met it, so that
	// more users might be served too.
	Users        int  `json:"users"`
	UsersAtLeast bool `json:"users_at_least"`
	// RateRPS is the same over the open loop's rates; OpenMeasured says whether there was an
	// open loop.
	RateRPS      float64 `json:"rate_rps"`
	RateAtLeast  bool    `json:"rate_at_least"`
	OpenMeasured bool    `json:"open_measured"`
}

// CapacityOf finds the capacity of a sweep under t, setting each level's MeetsTarget. The
// levels are taken in the order given, which is increasing load: the first that misses the
// target ends the search, so that noise at a higher level cannot pass for capacity.
func CapacityOf(closed, open []ServeLevel, t ServeTarget) Capacity {
	c := Capacity{Target: t, OpenMeasured: len(open) > 0}
	if i, all := search(closed, t); i >= 0 {
		c.Users, c.UsersAtLeast = closed[i].Users, all
	}
	if i, all := search(open, t); i >= 0 {
		c.RateRPS, c.RateAtLeast = open[i].RateRPS, all
	}
	return c
}

// search marks the levels that meet t and returns the index of the last of the leading run
// that does (-1 for none), and whether that run is every level.
func search(levels []ServeLevel, t ServeTarget) (last int, all bool) {
	last, all = -1, true
	for i := range levels {
		levels[i].MeetsTarget = t.Meets(levels[i])
		all = all && levels[i].MeetsTarget
		if all {
			last = i
		}
	}
	return last, all && len(levels) > 0
}
