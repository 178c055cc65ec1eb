package nvml

import (
	"sync"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/gpus"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
	"github.com/stretchr/testify/require"
)

const (
	mib = uint64(1) << 20
	gib = uint64(1) << 30
	// testPID is the process the scripted tests track.
	testPID = 4242
)

// seq returns its values one per call; the last one repeats.
type seq[T any] struct {
	mu   sync.Mutex
	vals []T
	n    int
}

func (s *seq[T]) next() T {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vals[min(s.n, len(s.vals)-1)]
	s.n++
	return v
}

// script is what one mock GPU reports, one value per call. A nil slice keeps h100's default; a
// Return other than SUCCESS makes every call of that method fail with it.
type script struct {
	used      []uint64
	procs     [][]nvml.ProcessInfo
	powerMW   []uint32
	energyMJ  []uint64
	procsRet  nvml.Return
	powerRet  nvml.Return
	energyRet nvml.Return
}

// newServer returns the dgxh100 mock with n H100s, each given the methods that the mock leaves
// out (see h100) and then its script.
func newServer(t testing.TB, n int, scripts ...script) *server.Server {
	t.Helper()
	require.LessOrEqual(t, len(scripts), n)
	s := dgxh100.NewWithGPUs(gpus.Multiple(n, gpus.H100_SXM5_80GB)...)
	for i, d := range s.Devices {
		dev := d.(*server.Device)
		h100(dev)
		if i < len(scripts) {
			scripts[i].apply(dev)
		}
	}
	return s
}

// h100 fills in the methods the dgxh100 mock leaves nil with the values a real idle H100 SXM
// reports: 2619 MHz memory clock, 5120-bit bus, 700 W limit, 70 W draw, no processes.
func h100(d *server.Device) {
	d.GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) { return 700_000, nvml.SUCCESS }
	d.GetMaxClockInfoFunc = func(c nvml.ClockType) (uint32, nvml.Return) {
		if c == nvml.CLOCK_MEM {
			return 2619, nvml.SUCCESS
		}
		return 1980, nvml.SUCCESS
	}
	d.GetMemoryBusWidthFunc = func() (uint32, nvml.Return) { return 5120, nvml.SUCCESS }
	d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 70_000, nvml.SUCCESS }
	d.GetTotalEnergyConsumptionFunc = func() (uint64, nvml.Return) { return 0, nvml.SUCCESS }
	d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) { return nil, nvml.SUCCESS }
}

func (sc script) apply(d *server.Device) {
	if sc.used != nil {
		used := &seq[uint64]{vals: sc.used}
		total := d.MemoryInfo.Total
		d.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) {
			u := used.next()
			return nvml.Memory{Total: total, Used: u, Free: total - u}, nvml.SUCCESS
		}
	}
	if sc.procs != nil {
		procs := &seq[[]nvml.ProcessInfo]{vals: sc.procs}
		d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
			return procs.next(), nvml.SUCCESS
		}
	}
	if sc.powerMW != nil {
		power := &seq[uint32]{vals: sc.powerMW}
		d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return power.next(), nvml.SUCCESS }
	}
	if sc.energyMJ != nil {
		energy := &seq[uint64]{vals: sc.energyMJ}
		d.GetTotalEnergyConsumptionFunc = func() (uint64, nvml.Return) { return energy.next(), nvml.SUCCESS }
	}
	if r := sc.procsRet; r != nvml.SUCCESS {
		d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) { return nil, r }
	}
	if r := sc.powerRet; r != nvml.SUCCESS {
		d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 0, r }
	}
	if r := sc.energyRet; r != nvml.SUCCESS {
		d.GetTotalEnergyConsumptionFunc = func() (uint64, nvml.Return) { return 0, r }
	}
}

// nvmlServer is the dgxh100 mock.
type nvmlServer = server.Server

// device returns mock GPU i of s.
func device(s *server.Server, i int) *server.Device {
	return s.Devices[i].(*server.Device)
}

// proc is a compute process entry.
func proc(pid uint32, used uint64) nvml.ProcessInfo {
	return nvml.ProcessInfo{Pid: pid, UsedGpuMemory: used}
}

// newClient returns a Client on s, closed when the test ends.
func newClient(t testing.TB, s *server.Server) *Client {
	t.Helper()
	c, err := NewWithInterface(s)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

// manual drives a Sampler by hand: ticks are sent one at a time, and the clock moves by step
// at every reading, so results do not depend on the machine's timing.
type manual struct {
	ticks chan time.Time
	mu    sync.Mutex
	t     time.Time
	step  time.Duration
}

func newManual() *manual {
	return &manual{ticks: make(chan time.Time), t: time.Unix(1_700_000_000, 0), step: 10 * time.Millisecond}
}

// options makes the sampler use m's ticks and clock.
func (m *manual) options() []SamplerOption {
	return []SamplerOption{
		func(c *samplerConfig) { c.ticks = m.ticks },
		func(c *samplerConfig) { c.now = m.now },
	}
}

func (m *manual) now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.t
	m.t = m.t.Add(m.step)
	return t
}

// tick makes the sampler take n readings. Each send returns once the goroutine has taken the
// tick, and it takes the next only after finishing the reading, so readings never overlap.
func (m *manual) tick(n int) {
	for range n {
		m.ticks <- time.Time{}
	}
}

// sampleRun starts a sampler on c for testPID, lets it take ticks readings and stops it: the
// readings are Start's, the ticks' and Stop's.
func sampleRun(t *testing.T, c *Client, ticks int, opts ...SamplerOption) (Stats, error) {
	t.Helper()
	m := newManual()
	s, err := c.StartSampler(append(append([]SamplerOption{WithPID(testPID)}, m.options()...), opts...)...)
	require.NoError(t, err)
	m.tick(ticks)
	return s.Stop()
}
