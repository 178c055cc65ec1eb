package nvml

import "time"

// DefaultInterval is how often a Sampler reads the GPUs unless WithInterval says otherwise.
const DefaultInterval = 10 * time.Millisecond

// SamplerOption configures Client.StartSampler.
type SamplerOption func(*samplerConfig)

// samplerConfig is what the options set.
type samplerConfig struct {
	pid      int
	gpus     []int
	interval time.Duration

	// ticks and now replace the ticker and the clock in tests.
	ticks <-chan time.Time
	now   func() time.Time
}

// WithPID tracks the GPU memory of process pid instead of this process's.
func WithPID(pid int) SamplerOption {
	return func(c *samplerConfig) { c.pid = pid }
}

// WithGPUs samples the GPUs with these NVML indices instead of all of them.
func WithGPUs(indices ...int) SamplerOption {
	return func(c *samplerConfig) { c.gpus = append([]int(nil), indices...) }
}

// WithInterval sets the time between readings; it must be positive. Default: DefaultInterval.
func WithInterval(d time.Duration) SamplerOption {
	return func(c *samplerConfig) { c.interval = d }
}
