package bench

import (
	"errors"
	"time"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/nvml"
)

// Monitor samples GPU memory and energy around each measured call. NVMLMonitor is the real
// one; Run works without any, and then says the GPU figures are unavailable.
type Monitor interface {
	// GPUs describes the GPUs watched, for the metadata and the roofline.
	GPUs() ([]metrics.GPUInfo, error)
	// Start begins sampling; the probe's Stop ends it.
	Start() (Probe, error)
}

// Probe is one sampling run.
type Probe interface {
	Stop() (metrics.GPUSample, error)
}

// NVMLMonitor watches the GPUs through NVML, tracking this process's memory, every interval
// (nvml.DefaultInterval when 0). It returns an error wrapping nvml.ErrUnavailable on machines
// without an NVIDIA driver. Close releases NVML.
type NVMLMonitor struct {
	client   *nvml.Client
	interval time.Duration
}

// NewNVMLMonitor opens NVML.
func NewNVMLMonitor(interval time.Duration) (*NVMLMonitor, error) {
	c, err := nvml.New()
	if err != nil {
		return nil, err
	}
	if interval <= 0 {
		interval = nvml.DefaultInterval
	}
	return &NVMLMonitor{client: c, interval: interval}, nil
}

// Close shuts NVML down; it is idempotent and safe on nil.
func (m *NVMLMonitor) Close() error {
	if m == nil {
		return nil
	}
	return m.client.Close()
}

// GPUs implements Monitor.
func (m *NVMLMonitor) GPUs() ([]metrics.GPUInfo, error) {
	gpus, err := m.client.GPUs()
	if err != nil {
		return nil, err
	}
	out := make([]metrics.GPUInfo, len(gpus))
	for i, g := range gpus {
		out[i] = metrics.GPUInfo{
			Index: g.Index, Name: g.Name, UUID: g.UUID, MemoryTotalBytes: g.MemoryTotalBytes,
			DriverVersion: g.DriverVersion, CUDAVersion: g.CUDADriverVersion, PowerLimitW: g.PowerLimitW,
			PeakBandwidthBytesPerSec: g.PeakBandwidthBytesPerSec,
		}
	}
	return out, nil
}

// Start implements Monitor.
func (m *NVMLMonitor) Start() (Probe, error) {
	s, err := m.client.StartSampler(nvml.WithInterval(m.interval))
	if err != nil {
		return nil, err
	}
	return nvmlProbe{s}, nil
}

type nvmlProbe struct{ s *nvml.Sampler }

func (p nvmlProbe) Stop() (metrics.GPUSample, error) {
	st, err := p.s.Stop()
	if err != nil && st.Samples == 0 {
		return metrics.GPUSample{}, err
	}
	return metrics.GPUSample{
		PeakProcessBytes:  st.PeakProcessBytes,
		ProcessSeen:       st.ProcessSeen,
		BaselineUsedBytes: st.BaselineUsedBytes,
		PeakUsedBytes:     st.PeakUsedBytes,
		EnergyJ:           st.EnergyJ,
		EnergyMethod:      st.EnergyMethod.String(),
		MeanPowerW:        st.MeanPowerW,
		PeakPowerW:        st.PeakPowerW,
		Samples:           st.Samples,
		IntervalMs:        float64(st.ActualInterval) / float64(time.Millisecond),
	}, nil
}

// IsUnavailable reports whether err means there is no GPU to monitor.
func IsUnavailable(err error) bool {
	return errors.Is(err, nvml.ErrUnavailable) || errors.Is(err, nvml.ErrNoGPU)
}
