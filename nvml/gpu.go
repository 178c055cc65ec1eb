package nvml

import (
	"errors"
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// GPU describes one GPU as NVML sees it. Fields that the GPU or driver does not report are
// zero or empty; the required ones (index, name, UUID, memory) always hold a value.
type GPU struct {
	// Index is NVML's index, ordered by PCI bus id. CUDA may number the same GPUs differently
	// unless CUDA_DEVICE_ORDER=PCI_BUS_ID.
	Index int
	// Name is the product name, for example "NVIDIA H100 80GB HBM3".
	Name string
	// UUID is the GPU's stable identifier, for example "GPU-5c1b...".
	UUID string
	// MemoryTotalBytes is the memory on the device.
	MemoryTotalBytes uint64
	// DriverVersion is the kernel driver's version, for example "550.54.15".
	DriverVersion string
	// CUDADriverVersion is the newest CUDA version the driver supports, for example "12.4".
	CUDADriverVersion string
	// PowerLimitW is the power limit the driver enforces, in watts.
	PowerLimitW float64
	// MaxMemoryClockMHz is the highest memory clock, as NVML reports it.
	MaxMemoryClockMHz uint32
	// MemoryBusWidthBits is the width of the memory bus.
	MemoryBusWidthBits uint32
	// PeakBandwidthBytesPerSec is the peak memory bandwidth, from PeakBandwidth.
	PeakBandwidthBytesPerSec float64
}

// PeakBandwidth returns the peak memory bandwidth in bytes per second of a memory clock of
// clockMHz and a bus busBits wide: clock × 10⁶ × bus width × 2 (double data rate) ÷ 8. NVML's
// memory clock is such that this matches the spec sheets of both GDDR and HBM parts: an
// H100 SXM reports 2619 MHz and 5120 bits, giving 3.35 TB/s (spec: 3.35 TB/s); an RTX 4090
// reports 10501 MHz and 384 bits, giving 1.008 TB/s (spec: 1.008 TB/s).
func PeakBandwidth(clockMHz, busBits uint32) float64 {
	return float64(clockMHz) * 1e6 * float64(busBits) * 2 / 8
}

// GPUs describes every GPU that NVML sees, in index order.
func (c *Client) GPUs() ([]GPU, error) {
	if err := c.acquire(); err != nil {
		return nil, err
	}
	defer c.mu.RUnlock()

	var driver string
	if v, r := c.lib.SystemGetDriverVersion(); r == nvml.SUCCESS {
		driver = v
	} else if err := optional("get driver version", r); err != nil {
		return nil, err
	}
	var cudaVersion string
	if v, r := c.lib.SystemGetCudaDriverVersion(); r == nvml.SUCCESS {
		// NVML encodes 12.4 as 12040.
		cudaVersion = fmt.Sprintf("%d.%d", v/1000, v%1000/10)
	} else if err := optional("get CUDA driver version", r); err != nil {
		return nil, err
	}
	gpus, err := eachGPU(c, describe)
	if err != nil {
		return nil, err
	}
	for i := range gpus {
		gpus[i].DriverVersion, gpus[i].CUDADriverVersion = driver, cudaVersion
	}
	return gpus, nil
}

// describe reads the fields of GPU index that belong to the device.
func describe(index int, d nvml.Device) (GPU, error) {
	g := GPU{Index: index}
	var r nvml.Return
	if g.Name, r = d.GetName(); r != nvml.SUCCESS {
		return GPU{}, &Error{Op: "get name", Return: r}
	}
	if g.UUID, r = d.GetUUID(); r != nvml.SUCCESS {
		return GPU{}, &Error{Op: "get UUID", Return: r}
	}
	mem, r := d.GetMemoryInfo()
	if r != nvml.SUCCESS {
		return GPU{}, &Error{Op: "get memory info", Return: r}
	}
	g.MemoryTotalBytes = mem.Total

	if limit, r := d.GetEnforcedPowerLimit(); r == nvml.SUCCESS {
		g.PowerLimitW = float64(limit) / 1000
	} else if err := optional("get enforced power limit", r); err != nil {
		return GPU{}, err
	}
	if clock, r := d.GetMaxClockInfo(nvml.CLOCK_MEM); r == nvml.SUCCESS {
		g.MaxMemoryClockMHz = clock
	} else if err := optional("get max memory clock", r); err != nil {
		return GPU{}, err
	}
	if width, r := d.GetMemoryBusWidth(); r == nvml.SUCCESS {
		g.MemoryBusWidthBits = width
	} else if err := optional("get memory bus width", r); err != nil {
		return GPU{}, err
	}
	g.PeakBandwidthBytesPerSec = PeakBandwidth(g.MaxMemoryClockMHz, g.MemoryBusWidthBits)
	return g, nil
}

// optional turns r into an error unless the call succeeded or is not supported here, in which
// case the field it fills stays zero.
func optional(op string, r nvml.Return) error {
	err := check(op, r)
	if errors.Is(err, ErrNotSupported) {
		return nil
	}
	return err
}
