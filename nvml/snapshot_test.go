package nvml

import (
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSnapshot(t *testing.T) {
	s := newServer(t, 2,
		script{
			used:    []uint64{5 * gib},
			procs:   [][]nvml.ProcessInfo{{proc(10, 3*gib), proc(11, valueNotAvailable)}},
			powerMW: []uint32{312_500},
		},
		script{procsRet: nvml.ERROR_NOT_SUPPORTED, powerRet: nvml.ERROR_NOT_SUPPORTED},
	)
	snaps, err := newClient(t, s).Snapshot()
	require.NoError(t, err)
	require.Len(t, snaps, 2)
	assert.Equal(t, Snapshot{
		Index:      0,
		Name:       "NVIDIA H100 80GB HBM3",
		UsedBytes:  5 * gib,
		TotalBytes: 80 * gib,
		Processes: []Process{
			{PID: 10, UsedBytes: 3 * gib, UsedKnown: true},
			{PID: 11},
		},
		ProcessesKnown: true,
		PowerW:         312.5,
		PowerKnown:     true,
	}, snaps[0])
	assert.Equal(t, Snapshot{Index: 1, Name: "NVIDIA H100 80GB HBM3", TotalBytes: 80 * gib}, snaps[1])
}

func TestSnapshotFails(t *testing.T) {
	lost := nvml.ERROR_GPU_IS_LOST
	tests := []struct {
		name  string
		setup func(*nvmlServer)
		msg   string
	}{
		{"device count", func(s *nvmlServer) {
			s.DeviceGetCountFunc = func() (int, nvml.Return) { return 0, lost }
		}, "get device count"},
		{"name", func(s *nvmlServer) {
			device(s, 0).GetNameFunc = func() (string, nvml.Return) { return "", lost }
		}, "gpu 0: get name"},
		{"memory", func(s *nvmlServer) {
			device(s, 0).GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) { return nvml.Memory{}, lost }
		}, "gpu 0: get memory info"},
		{"processes", func(s *nvmlServer) {
			script{procsRet: lost}.apply(device(s, 0))
		}, "gpu 0: get compute running processes"},
		{"power", func(s *nvmlServer) {
			script{powerRet: lost}.apply(device(s, 0))
		}, "gpu 0: get power usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, 1)
			tt.setup(s)
			snaps, err := newClient(t, s).Snapshot()
			assert.Nil(t, snaps)
			assert.ErrorIs(t, err, lost)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}
