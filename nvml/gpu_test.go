package nvml

import (
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPeakBandwidth(t *testing.T) {
	tests := []struct {
		name    string
		clock   uint32
		bus     uint32
		want    float64 // bytes/s, from the spec sheet
		percent float64
	}{
		{"H100 SXM (HBM3)", 2619, 5120, 3.35e12, 0.1},
		{"RTX 4090 (GDDR6X)", 10501, 384, 1.008e12, 0.1},
		{"unknown", 0, 5120, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PeakBandwidth(tt.clock, tt.bus)
			assert.InDelta(t, tt.want, got, tt.want*tt.percent/100)
		})
	}
}

func TestGPUs(t *testing.T) {
	s := newServer(t, 8)
	c := newClient(t, s)
	gpus, err := c.GPUs()
	require.NoError(t, err)
	require.Len(t, gpus, 8)
	for i, g := range gpus {
		assert.Equal(t, i, g.Index)
		assert.Equal(t, "NVIDIA H100 80GB HBM3", g.Name)
		assert.Equal(t, device(s, i).UUID, g.UUID)
		assert.Equal(t, 80*gib, g.MemoryTotalBytes)
		assert.Equal(t, "550.54.15", g.DriverVersion)
		assert.Equal(t, "12.4", g.CUDADriverVersion)
		assert.InDelta(t, 700, g.PowerLimitW, 1e-9)
		assert.Equal(t, uint32(2619), g.MaxMemoryClockMHz)
		assert.Equal(t, uint32(5120), g.MemoryBusWidthBits)
		// 2619 MHz × 5120 bits × 2 ÷ 8 = 3.352 TB/s; the H100 SXM spec sheet says 3.35 TB/s.
		assert.InDelta(t, 3.35232e12, g.PeakBandwidthBytesPerSec, 1)
	}
}

func TestGPUsOptionalFields(t *testing.T) {
	s := newServer(t, 1)
	s.SystemGetDriverVersionFunc = func() (string, nvml.Return) { return "", nvml.ERROR_NOT_SUPPORTED }
	s.SystemGetCudaDriverVersionFunc = func() (int, nvml.Return) { return 0, nvml.ERROR_FUNCTION_NOT_FOUND }
	d := device(s, 0)
	d.GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) { return 1, nvml.ERROR_NOT_SUPPORTED }
	d.GetMaxClockInfoFunc = func(nvml.ClockType) (uint32, nvml.Return) { return 1, nvml.ERROR_NOT_SUPPORTED }
	d.GetMemoryBusWidthFunc = func() (uint32, nvml.Return) { return 1, nvml.ERROR_NOT_SUPPORTED }
	gpus, err := newClient(t, s).GPUs()
	require.NoError(t, err)
	require.Len(t, gpus, 1)
	g := gpus[0]
	assert.NotEmpty(t, g.Name)
	assert.Empty(t, g.DriverVersion)
	assert.Empty(t, g.CUDADriverVersion)
	assert.Zero(t, g.PowerLimitW)
	assert.Zero(t, g.MaxMemoryClockMHz)
	assert.Zero(t, g.MemoryBusWidthBits)
	assert.Zero(t, g.PeakBandwidthBytesPerSec)
}

func TestGPUsFails(t *testing.T) {
	lost := nvml.ERROR_GPU_IS_LOST
	tests := []struct {
		name  string
		setup func(*nvmlServer)
		msg   string
	}{
		{"driver version", func(s *nvmlServer) {
			s.SystemGetDriverVersionFunc = func() (string, nvml.Return) { return "", lost }
		}, "get driver version"},
		{"CUDA version", func(s *nvmlServer) {
			s.SystemGetCudaDriverVersionFunc = func() (int, nvml.Return) { return 0, lost }
		}, "get CUDA driver version"},
		{"device count", func(s *nvmlServer) {
			s.DeviceGetCountFunc = func() (int, nvml.Return) { return 0, lost }
		}, "get device count"},
		{"name", func(s *nvmlServer) {
			device(s, 1).GetNameFunc = func() (string, nvml.Return) { return "", lost }
		}, "gpu 1: get name"},
		{"UUID", func(s *nvmlServer) {
			device(s, 0).GetUUIDFunc = func() (string, nvml.Return) { return "", lost }
		}, "gpu 0: get UUID"},
		{"memory", func(s *nvmlServer) {
			device(s, 0).GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) { return nvml.Memory{}, lost }
		}, "gpu 0: get memory info"},
		{"power limit", func(s *nvmlServer) {
			device(s, 0).GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) { return 0, lost }
		}, "gpu 0: get enforced power limit"},
		{"memory clock", func(s *nvmlServer) {
			device(s, 0).GetMaxClockInfoFunc = func(nvml.ClockType) (uint32, nvml.Return) { return 0, lost }
		}, "gpu 0: get max memory clock"},
		{"bus width", func(s *nvmlServer) {
			device(s, 0).GetMemoryBusWidthFunc = func() (uint32, nvml.Return) { return 0, lost }
		}, "gpu 0: get memory bus width"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, 2)
			tt.setup(s)
			gpus, err := newClient(t, s).GPUs()
			assert.Nil(t, gpus)
			assert.ErrorIs(t, err, lost)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}
