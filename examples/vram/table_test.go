package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/nvml"
)

var snaps = []nvml.Snapshot{
	{
		Index: 0, Name: "NVIDIA H100 80GB HBM3", UsedBytes: 5 << 30, TotalBytes: 80 << 30,
		Processes: []nvml.Process{
			{PID: 10, UsedBytes: 3 << 30, UsedKnown: true},
			{PID: 11},
		},
		ProcessesKnown: true, PowerW: 312.4, PowerKnown: true,
	},
	{Index: 1, Name: "NVIDIA H100 80GB HBM3", TotalBytes: 80 << 30},
}

func TestRender(t *testing.T) {
	var b strings.Builder
	require.NoError(t, render(&b, snaps, 0))
	assert.Equal(t, `┌─────┬───────────────────────┬──────────────────┬──────────────┬───────┐
│ GPU │         NAME          │      MEMORY      │  PROCESSES   │ POWER │
├─────┼───────────────────────┼──────────────────┼──────────────┼───────┤
│ 0   │ NVIDIA H100 80GB HBM3 │ 5120 / 81920 MiB │ 10: 3072 MiB │ 312 W │
│     │                       │                  │ 11: n/a      │       │
│ 1   │ NVIDIA H100 80GB HBM3 │ 0 / 81920 MiB    │ n/a          │ n/a   │
└─────┴───────────────────────┴──────────────────┴──────────────┴───────┘
`, b.String())
}

func TestProcesses(t *testing.T) {
	tests := []struct {
		name string
		snap nvml.Snapshot
		pid  int
		want string
	}{
		{"all", snaps[0], 0, "10: 3072 MiB\n11: n/a"},
		{"one pid", snaps[0], 10, "10: 3072 MiB"},
		{"pid absent", snaps[0], 12, "-"},
		{"none", nvml.Snapshot{ProcessesKnown: true}, 0, "-"},
		{"unknown", snaps[1], 0, "n/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, processes(tt.snap, tt.pid))
		})
	}
}
