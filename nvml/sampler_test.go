package nvml

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oneRun is a scripted run of four readings (Start, two ticks, Stop) 10 ms apart.
var oneRun = script{
	used: []uint64{1 * gib, 3 * gib, 5 * gib, 2 * gib},
	procs: [][]nvml.ProcessInfo{
		{proc(7, 512*mib)},
		{proc(7, 512*mib), proc(testPID, 2*gib)},
		// Two entries of the same pid (one per CUDA context) add up; NVML's "not available"
		// entries count for nothing.
		{proc(testPID, 3*gib), proc(testPID, 1*gib), proc(testPID, valueNotAvailable)},
		{proc(testPID, 1*gib)},
	},
	powerMW:  []uint32{100_000, 200_000, 300_000, 100_000},
	energyMJ: []uint64{1_000, 5_000},
}

func TestSamplerPeakAndBaseline(t *testing.T) {
	c := newClient(t, newServer(t, 1, oneRun))
	st, err := sampleRun(t, c, 2)
	require.NoError(t, err)

	want := Usage{
		PeakProcessBytes:  4 * gib,
		ProcessSeen:       true,
		BaselineUsedBytes: 1 * gib,
		PeakUsedBytes:     5 * gib,
		EnergyJ:           4,
		EnergyMethod:      EnergyCounter,
		// Trapezoids over 10 ms steps: (150 + 250 + 200) W × 10 ms = 6 J over 30 ms.
		MeanPowerW: 200,
		PeakPowerW: 300,
	}
	assertUsage(t, want, st.Usage)
	require.Len(t, st.GPUs, 1)
	assert.Equal(t, 0, st.GPUs[0].Index)
	assertUsage(t, want, st.GPUs[0].Usage)
	assert.Equal(t, testPID, st.PID)
	assert.Equal(t, 4, st.Samples)
	assert.Equal(t, 30*time.Millisecond, st.Duration)
	assert.Equal(t, 10*time.Millisecond, st.ActualInterval)
	assert.Zero(t, st.ReadErrors)
}

// assertUsage compares usages with a tolerance on the floating-point fields.
func assertUsage(t *testing.T, want, got Usage) {
	t.Helper()
	assert.InDelta(t, want.EnergyJ, got.EnergyJ, 1e-9, "EnergyJ")
	assert.InDelta(t, want.MeanPowerW, got.MeanPowerW, 1e-9, "MeanPowerW")
	assert.InDelta(t, want.PeakPowerW, got.PeakPowerW, 1e-9, "PeakPowerW")
	want.EnergyJ, want.MeanPowerW, want.PeakPowerW = 0, 0, 0
	got.EnergyJ, got.MeanPowerW, got.PeakPowerW = 0, 0, 0
	assert.Equal(t, want, got)
}

func TestSamplerShortRun(t *testing.T) {
	// Stopped before the first tick: Start's and Stop's readings still give values.
	c := newClient(t, newServer(t, 1, oneRun))
	st, err := sampleRun(t, c, 0)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Samples)
	assert.Equal(t, 1*gib, st.BaselineUsedBytes)
	assert.Equal(t, 3*gib, st.PeakUsedBytes)
	assert.Equal(t, 2*gib, st.PeakProcessBytes)
	assert.True(t, st.ProcessSeen)
	assert.InDelta(t, 150, st.MeanPowerW, 1e-9)
	assert.Equal(t, 10*time.Millisecond, st.ActualInterval)
}

func TestSamplerProcessAbsent(t *testing.T) {
	for name, sc := range map[string]script{
		// Another pid namespace (a container) or no CUDA context: the pid is never listed.
		"not listed": {procs: [][]nvml.ProcessInfo{{proc(7, gib)}, {proc(8, gib)}}},
		// Listed, but NVML cannot tell its memory.
		"memory not available": {procs: [][]nvml.ProcessInfo{{proc(testPID, valueNotAvailable)}}},
		"not supported":        {procsRet: nvml.ERROR_NOT_SUPPORTED},
	} {
		t.Run(name, func(t *testing.T) {
			sc.used = []uint64{gib, 2 * gib}
			c := newClient(t, newServer(t, 1, sc))
			st, err := sampleRun(t, c, 3)
			require.NoError(t, err)
			assert.False(t, st.ProcessSeen)
			assert.False(t, st.GPUs[0].ProcessSeen)
			assert.Zero(t, st.PeakProcessBytes)
			// Device memory is still measured.
			assert.Equal(t, gib, st.BaselineUsedBytes)
			assert.Equal(t, 2*gib, st.PeakUsedBytes)
		})
	}
}

func TestSamplerEnergy(t *testing.T) {
	power := []uint32{100_000, 200_000, 300_000, 100_000}
	tests := []struct {
		name   string
		script script
		method EnergyMethod
		energy float64
		mean   float64
		peak   float64
	}{
		{"counter", script{powerMW: power, energyMJ: []uint64{10_000, 17_500}}, EnergyCounter, 7.5, 200, 300},
		{"counter unsupported", script{powerMW: power, energyRet: nvml.ERROR_NOT_SUPPORTED}, EnergyIntegrated, 6, 200, 300},
		{"counter missing from driver", script{powerMW: power, energyRet: nvml.ERROR_FUNCTION_NOT_FOUND}, EnergyIntegrated, 6, 200, 300},
		// The driver reloaded during the run.
		{"counter went back", script{powerMW: power, energyMJ: []uint64{10_000, 2_000}}, EnergyIntegrated, 6, 200, 300},
		// Mean power from the counter over the 30 ms run; no peak without power readings.
		{"power unsupported", script{powerRet: nvml.ERROR_NOT_SUPPORTED, energyMJ: []uint64{0, 9_000}}, EnergyCounter, 9, 300, 0},
		{"nothing supported", script{powerRet: nvml.ERROR_NOT_SUPPORTED, energyRet: nvml.ERROR_NOT_SUPPORTED}, EnergyUnavailable, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, newServer(t, 1, tt.script))
			st, err := sampleRun(t, c, 2)
			require.NoError(t, err)
			for _, u := range []Usage{st.Usage, st.GPUs[0].Usage} {
				assert.Equal(t, tt.method, u.EnergyMethod)
				assert.InDelta(t, tt.energy, u.EnergyJ, 1e-9)
				assert.InDelta(t, tt.mean, u.MeanPowerW, 1e-9)
				assert.InDelta(t, tt.peak, u.PeakPowerW, 1e-9)
			}
		})
	}
}

func TestSamplerMultipleGPUs(t *testing.T) {
	// GPU 1 peaks at the first tick, GPU 3 at the second: the total's peak is the peak of the
	// sums, below the sum of the peaks.
	s := newServer(t, 8)
	script{
		used:     []uint64{1 * gib, 4 * gib, 2 * gib, 2 * gib},
		procs:    [][]nvml.ProcessInfo{{}, {proc(testPID, 3*gib)}, {proc(testPID, 1*gib)}, {}},
		powerMW:  []uint32{100_000, 400_000, 100_000, 100_000},
		energyMJ: []uint64{0, 3_000},
	}.apply(device(s, 1))
	script{
		used:      []uint64{1 * gib, 1 * gib, 6 * gib, 1 * gib},
		procs:     [][]nvml.ProcessInfo{{}, {}, {proc(testPID, 5*gib)}, {}},
		powerMW:   []uint32{100_000, 100_000, 500_000, 100_000},
		energyRet: nvml.ERROR_NOT_SUPPORTED,
	}.apply(device(s, 3))
	c := newClient(t, s)

	st, err := sampleRun(t, c, 2, WithGPUs(1, 3))
	require.NoError(t, err)

	require.Len(t, st.GPUs, 2)
	g1, g3 := st.GPUs[0], st.GPUs[1]
	assert.Equal(t, 1, g1.Index)
	assert.Equal(t, 3, g3.Index)
	assert.Equal(t, 3*gib, g1.PeakProcessBytes)
	assert.Equal(t, 5*gib, g3.PeakProcessBytes)
	assert.Equal(t, 4*gib, g1.PeakUsedBytes)
	assert.Equal(t, 6*gib, g3.PeakUsedBytes)
	assert.Equal(t, EnergyCounter, g1.EnergyMethod)
	assert.Equal(t, EnergyIntegrated, g3.EnergyMethod)
	// (100 + 300 + 300) W × 10 ms
	assert.InDelta(t, 7, g3.EnergyJ, 1e-9)

	assert.True(t, st.ProcessSeen)
	assert.Equal(t, 6*gib, st.PeakProcessBytes) // 1 + 5 at the second tick
	assert.Equal(t, 2*gib, st.BaselineUsedBytes)
	assert.Equal(t, 8*gib, st.PeakUsedBytes) // 2 + 6
	assert.InDelta(t, 600, st.PeakPowerW, 1e-9)
	assert.InDelta(t, 10, st.EnergyJ, 1e-9)
	assert.Equal(t, EnergyIntegrated, st.EnergyMethod, "the totals take the less precise method")
	assert.InDelta(t, g1.MeanPowerW+g3.MeanPowerW, st.MeanPowerW, 1e-9)

	// The GPUs left out were never read.
	for _, i := range []int{0, 2, 4, 5, 6, 7} {
		assert.Empty(t, device(s, i).GetMemoryInfoCalls(), "gpu %d", i)
	}
}

func TestSamplerAllGPUsByDefault(t *testing.T) {
	c := newClient(t, newServer(t, 8))
	st, err := sampleRun(t, c, 1)
	require.NoError(t, err)
	require.Len(t, st.GPUs, 8)
	for i, g := range st.GPUs {
		assert.Equal(t, i, g.Index)
	}
	assert.InDelta(t, 8*70, st.PeakPowerW, 1e-9)
}

func TestSamplerStopTwice(t *testing.T) {
	c := newClient(t, newServer(t, 1, oneRun))
	m := newManual()
	s, err := c.StartSampler(append(m.options(), WithPID(testPID))...)
	require.NoError(t, err)
	m.tick(2)

	first, err := s.Stop()
	require.NoError(t, err)
	first.GPUs[0].PeakUsedBytes = 0 // a caller's change does not reach later calls
	second, err := s.Stop()
	require.NoError(t, err)
	assert.Equal(t, 5*gib, second.GPUs[0].PeakUsedBytes)
	first.GPUs[0].PeakUsedBytes = second.GPUs[0].PeakUsedBytes
	assert.Equal(t, first, second)
	assert.Equal(t, 4, second.Samples, "the second Stop does not read again")
}

func TestSamplerStopConcurrent(t *testing.T) {
	c := newClient(t, newServer(t, 2))
	s, err := c.StartSampler(WithInterval(time.Millisecond))
	require.NoError(t, err)
	var wg sync.WaitGroup
	results := make([]Stats, 4)
	for i := range results {
		wg.Go(func() {
			st, err := s.Stop()
			assert.NoError(t, err)
			results[i] = st
		})
	}
	wg.Wait()
	for _, st := range results[1:] {
		assert.Equal(t, results[0], st)
	}
}

func TestSamplerTicker(t *testing.T) {
	// The real ticker: the test waits for the readings it makes rather than sleeping, so a
	// loaded machine only makes it slower.
	srv := newServer(t, 1)
	readings := make(chan struct{}, 64)
	device(srv, 0).GetPowerUsageFunc = func() (uint32, nvml.Return) {
		select {
		case readings <- struct{}{}:
		default:
		}
		return 70_000, nvml.SUCCESS
	}
	c := newClient(t, srv)
	s, err := c.StartSampler(WithInterval(time.Millisecond))
	require.NoError(t, err)
	for range 3 { // Start's reading, then two of the ticker's
		<-readings
	}
	st, err := s.Stop()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, st.Samples, 4, "Start, two ticks and Stop")
	assert.Positive(t, st.ActualInterval)
	assert.InDelta(t, 70, st.MeanPowerW, 1e-9)
}

func TestSamplerDefaultPID(t *testing.T) {
	c := newClient(t, newServer(t, 1))
	s, err := c.StartSampler()
	require.NoError(t, err)
	st, err := s.Stop()
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), st.PID)
}

func TestSamplerReadErrors(t *testing.T) {
	t.Run("memory fails mid-run", func(t *testing.T) {
		s := newServer(t, 1)
		mem := &seq[nvml.Return]{vals: []nvml.Return{nvml.SUCCESS, nvml.ERROR_GPU_IS_LOST, nvml.SUCCESS}}
		used := &seq[uint64]{vals: []uint64{gib, 9 * gib, 3 * gib}}
		device(s, 0).GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) {
			return nvml.Memory{Used: used.next()}, mem.next()
		}
		st, err := sampleRun(t, newClient(t, s), 2)
		var nerr *Error
		require.ErrorAs(t, err, &nerr)
		assert.Equal(t, "get memory info", nerr.Op)
		assert.ErrorIs(t, err, nvml.ERROR_GPU_IS_LOST)
		assert.Contains(t, err.Error(), "gpu 0")
		assert.Equal(t, 1, st.ReadErrors)
		assert.Equal(t, 4, st.Samples)
		assert.Equal(t, 3*gib, st.PeakUsedBytes, "the failed reading is left out")
	})
	t.Run("every metric fails after start", func(t *testing.T) {
		s := newServer(t, 1)
		d := device(s, 0)
		fail := func(r nvml.Return) nvml.Return {
			if len(d.GetMemoryInfoCalls()) > 1 {
				return nvml.ERROR_UNKNOWN
			}
			return r
		}
		d.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) { return nvml.Memory{}, fail(nvml.SUCCESS) }
		d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) { return nil, fail(nvml.SUCCESS) }
		d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 50_000, fail(nvml.SUCCESS) }
		d.GetTotalEnergyConsumptionFunc = func() (uint64, nvml.Return) { return 0, fail(nvml.SUCCESS) }
		st, err := sampleRun(t, newClient(t, s), 1)
		require.Error(t, err)
		assert.Equal(t, 2*4-1, st.ReadErrors, "two readings of memory, processes and power, one of energy")
		// The energy counter's last reading failed: the power readings stand in.
		assert.Equal(t, EnergyIntegrated, st.EnergyMethod)
		assert.InDelta(t, 50, st.MeanPowerW, 1e-9)
	})
}

func TestStartSamplerFails(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*testing.T) *Client
		opts  []SamplerOption
		is    error
		msg   string
	}{
		{name: "interval", opts: []SamplerOption{WithInterval(0)}, msg: "interval 0s is not positive"},
		{name: "pid", opts: []SamplerOption{WithPID(-1)}, msg: "pid -1 out of range"},
		{name: "gpu twice", opts: []SamplerOption{WithGPUs(1, 1)}, msg: "gpu 1 given twice"},
		{name: "no such gpu", opts: []SamplerOption{WithGPUs(8)}, is: nvml.ERROR_INVALID_ARGUMENT, msg: "gpu 8: get device handle"},
		{
			name: "no gpu",
			setup: func(t *testing.T) *Client {
				return newClient(t, newServer(t, 0))
			},
			is: ErrNoGPU,
		},
		{
			name: "device count",
			setup: func(t *testing.T) *Client {
				s := newServer(t, 1)
				s.DeviceGetCountFunc = func() (int, nvml.Return) { return 0, nvml.ERROR_UNKNOWN }
				return newClient(t, s)
			},
			is: nvml.ERROR_UNKNOWN, msg: "get device count",
		},
		{
			name: "memory at start",
			setup: func(t *testing.T) *Client {
				s := newServer(t, 1)
				device(s, 0).GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) { return nvml.Memory{}, nvml.ERROR_GPU_IS_LOST }
				return newClient(t, s)
			},
			is: nvml.ERROR_GPU_IS_LOST, msg: "start sampler: gpu 0: get memory info",
		},
		{
			name: "power not permitted",
			setup: func(t *testing.T) *Client {
				return newClient(t, newServer(t, 1, script{powerRet: nvml.ERROR_NO_PERMISSION}))
			},
			is: ErrNoPermission, msg: "get power usage",
		},
		{
			name: "closed",
			setup: func(t *testing.T) *Client {
				c, err := NewWithInterface(newServer(t, 1))
				require.NoError(t, err)
				require.NoError(t, c.Close())
				return c
			},
			is: ErrClosed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *Client
			if tt.setup != nil {
				c = tt.setup(t)
			} else {
				c = newClient(t, newServer(t, 8))
			}
			s, err := c.StartSampler(tt.opts...)
			require.Error(t, err)
			assert.Nil(t, s)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			assert.Contains(t, err.Error(), tt.msg)
			c.samplersMu.Lock()
			defer c.samplersMu.Unlock()
			assert.Empty(t, c.samplers)
		})
	}
}

func TestCloseStopsSamplers(t *testing.T) {
	s := newServer(t, 1, oneRun)
	c, err := NewWithInterface(s)
	require.NoError(t, err)
	m := newManual()
	smp, err := c.StartSampler(append(m.options(), WithPID(testPID))...)
	require.NoError(t, err)
	m.tick(1)

	require.NoError(t, c.Close())
	shutdowns := len(s.ShutdownCalls())
	// The sampler read a last time before NVML shut down, and keeps its stats.
	st, err := smp.Stop()
	require.NoError(t, err)
	assert.Equal(t, 3, st.Samples)
	assert.Equal(t, 5*gib, st.PeakUsedBytes)
	assert.Len(t, device(s, 0).GetMemoryInfoCalls(), 3, "no reading after Close")
	assert.Equal(t, 1, shutdowns)
}

func TestEnergyMethodString(t *testing.T) {
	assert.Equal(t, "counter", EnergyCounter.String())
	assert.Equal(t, "integrated", EnergyIntegrated.String())
	assert.Equal(t, "unavailable", EnergyUnavailable.String())
	assert.Equal(t, "unavailable", EnergyMethod(9).String())
}

func TestProcessBytes(t *testing.T) {
	b, found := processBytes(nil, testPID)
	assert.False(t, found)
	assert.Zero(t, b)
	b, found = processBytes([]nvml.ProcessInfo{proc(testPID, 0)}, testPID)
	assert.True(t, found, "a process listed with 0 bytes is seen")
	assert.Zero(t, b)
}
