package nvml

import "time"

// Stats is what a Sampler measured between Start and Stop. The embedded Usage holds the totals
// over the sampled GPUs; GPUs holds each one's own.
type Stats struct {
	// Usage is the total over GPUs. Peaks are peaks of the per-sample sums, not sums of the
	// per-GPU peaks.
	Usage
	// GPUs are the sampled GPUs in the order they were given.
	GPUs []GPUStats
	// PID is the process whose memory was tracked.
	PID int
	// Samples counts the readings, the one made by Start and the one made by Stop included.
	Samples int
	// Duration is the time from the first reading to the last.
	Duration time.Duration
	// ActualInterval is the mean time between readings: Duration ÷ (Samples − 1). It exceeds
	// the asked interval when readings take longer than it or the ticker drops ticks.
	ActualInterval time.Duration
	// ReadErrors counts the NVML reads that failed after Start; Stop returns the first.
	ReadErrors int
}

// GPUStats is what a Sampler measured on one GPU.
type GPUStats struct {
	// Index is the GPU's NVML index.
	Index int
	Usage
}

// Usage is memory, power and energy measured over a sampling run.
type Usage struct {
	// PeakProcessBytes is the highest memory the process held, summed over its entries in
	// NVML's compute process list. It means nothing unless ProcessSeen.
	PeakProcessBytes uint64
	// ProcessSeen is false when the process never appeared in NVML's compute process list: it
	// made no CUDA context on these GPUs, or it runs in a pid namespace (a container) whose
	// ids differ from the driver's. Report the per-process peak as unavailable then, never as
	// 0; PeakUsedBytes − BaselineUsedBytes is the device-wide estimate that remains.
	ProcessSeen bool
	// BaselineUsedBytes is the device memory in use at Start, as NVML's GetMemoryInfo counts
	// it: the driver's reserved memory included (about 480 MiB on an idle H100).
	BaselineUsedBytes uint64
	// PeakUsedBytes is the highest device memory in use, by any process, counted the same way.
	PeakUsedBytes uint64
	// EnergyJ is the energy the GPUs used between the first reading and the last, in joules,
	// measured as EnergyMethod says.
	EnergyJ float64
	// EnergyMethod says how EnergyJ was measured.
	EnergyMethod EnergyMethod
	// MeanPowerW is the time-weighted mean of the power readings (their trapezoid integral over
	// the run divided by its length), or EnergyJ over Duration when the GPU reports energy but
	// not power. 0 when neither is reported.
	MeanPowerW float64
	// PeakPowerW is the highest power reading; 0 when the GPU does not report power. NVML
	// averages power over one second on Ampere and newer GPUs (except the A100), so short
	// spikes are smoothed.
	PeakPowerW float64
}

// EnergyMethod says how a Sampler measured energy. The methods are ordered from the least
// precise to the most.
type EnergyMethod int

const (
	// EnergyUnavailable means the GPU reports neither an energy counter nor power; for the
	// totals, that at least one GPU did not, so EnergyJ counts only the others.
	EnergyUnavailable EnergyMethod = iota
	// EnergyIntegrated is the trapezoid integral of the power readings over time, used where
	// the energy counter is not supported. It is as good as the sampling interval is short.
	EnergyIntegrated
	// EnergyCounter is the difference of NVML's total-energy counter (millijoules since the
	// driver loaded, Volta and newer) between the first reading and the last.
	EnergyCounter
)

// String returns "unavailable", "integrated" or "counter".
func (m EnergyMethod) String() string {
	switch m {
	case EnergyIntegrated:
		return "integrated"
	case EnergyCounter:
		return "counter"
	}
	return "unavailable"
}
