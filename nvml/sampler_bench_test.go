package nvml

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// BenchmarkSample measures one reading of the Sampler against the dgxh100 mock: this package's
// own cost per reading, which is what the sampling goroutine adds to the measured run besides
// NVML itself (see BenchmarkSampleNVML for that on a GPU machine).
func BenchmarkSample(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("gpus=%d", n), func(b *testing.B) {
			s := newServer(b, n)
			procs := []nvml.ProcessInfo{proc(7, gib), proc(testPID, 2*gib)}
			for i := range n {
				device(s, i).GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
					return procs, nvml.SUCCESS
				}
			}
			benchmarkSample(b, newClient(b, s), WithPID(testPID), func(c *samplerConfig) {
				c.ticks = make(chan time.Time) // no ticks: the benchmark reads by itself
			})
		})
	}
}

// BenchmarkSampleNVML measures one reading of every GPU through the real NVML, the driver's
// work included. It skips where NVML is unavailable.
func BenchmarkSampleNVML(b *testing.B) {
	c, err := New()
	if errors.Is(err, ErrUnavailable) {
		b.Skipf("no NVML: %v", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := c.Close(); err != nil {
			b.Error(err)
		}
	})
	benchmarkSample(b, c, func(c *samplerConfig) { c.ticks = make(chan time.Time) })
}

func benchmarkSample(b *testing.B, c *Client, opts ...SamplerOption) {
	s, err := c.StartSampler(opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.sample(time.Now(), false)
	}
	b.StopTimer()
	if _, err := s.Stop(); err != nil {
		b.Fatal(err)
	}
}
