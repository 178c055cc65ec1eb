// Package nvml samples GPU memory, power and energy through NVIDIA's NVML, by way of
// github.com/NVIDIA/go-nvml.
//
// A [Client] made by [New] opens libnvidia-ml.so.1 at run time, so programs that import this
// package build and start on machines without an NVIDIA driver; there New returns an error
// wrapping [ErrUnavailable], and callers report VRAM as unavailable, never as zero.
// [NewWithInterface] takes any nvml.Interface, which is how the tests run against go-nvml's
// mocks (mock/dgxh100).
//
// [Client.GPUs] describes the GPUs (name, memory, driver, power limit, peak memory bandwidth),
// [Client.Snapshot] reads their memory, compute processes and power once, and
// [Client.StartSampler] starts a [Sampler]: one goroutine that polls the GPUs every 10 ms by
// default and, at [Sampler.Stop], returns the peak memory of one process, the baseline and peak
// memory of the devices, energy, and mean and peak power as [Stats].
//
// NVML's return codes become errors at this package's boundary: an [*Error] naming the
// operation, which unwraps to [ErrNotSupported], [ErrNoPermission] or [ErrUnavailable] where
// one fits. Sizes are in bytes, power in watts, energy in joules.
package nvml
