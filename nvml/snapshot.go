package nvml

import "github.com/NVIDIA/go-nvml/pkg/nvml"

// Snapshot is one reading of a GPU: its memory, the compute processes on it and its power.
type Snapshot struct {
	// Index and Name identify the GPU as in GPU.
	Index int
	Name  string
	// UsedBytes and TotalBytes are the device's used and total memory.
	UsedBytes  uint64
	TotalBytes uint64
	// Processes are the compute processes (CUDA contexts) on the GPU; ProcessesKnown is false
	// when the GPU cannot list them.
	Processes      []Process
	ProcessesKnown bool
	// PowerW is the power draw in watts; PowerKnown is false when the GPU does not report it.
	PowerW     float64
	PowerKnown bool
}

// Process is a compute process on a GPU.
type Process struct {
	// PID is the process id in the pid namespace of the driver, which inside a container can
	// differ from the container's own.
	PID int
	// UsedBytes is the GPU memory the process holds on this GPU; UsedKnown is false when NVML
	// does not report it (for example without permission, or under Windows WDDM).
	UsedBytes uint64
	UsedKnown bool
}

// valueNotAvailable is what NVML puts in ProcessInfo.UsedGpuMemory when it cannot tell.
const valueNotAvailable = ^uint64(0)

// Snapshot reads every GPU once, in index order.
func (c *Client) Snapshot() ([]Snapshot, error) {
	if err := c.acquire(); err != nil {
		return nil, err
	}
	defer c.mu.RUnlock()

	return eachGPU(c, snapshot)
}

// snapshot reads GPU index.
func snapshot(index int, d nvml.Device) (Snapshot, error) {
	s := Snapshot{Index: index}
	var r nvml.Return
	if s.Name, r = d.GetName(); r != nvml.SUCCESS {
		return Snapshot{}, &Error{Op: "get name", Return: r}
	}
	mem, r := d.GetMemoryInfo()
	if r != nvml.SUCCESS {
		return Snapshot{}, &Error{Op: "get memory info", Return: r}
	}
	s.UsedBytes, s.TotalBytes = mem.Used, mem.Total

	if procs, r := d.GetComputeRunningProcesses(); r == nvml.SUCCESS {
		s.ProcessesKnown = true
		s.Processes = make([]Process, len(procs))
		for i, p := range procs {
			known := p.UsedGpuMemory != valueNotAvailable
			s.Processes[i] = Process{PID: int(p.Pid), UsedKnown: known}
			if known {
				s.Processes[i].UsedBytes = p.UsedGpuMemory
			}
		}
	} else if err := optional("get compute running processes", r); err != nil {
		return Snapshot{}, err
	}
	if mw, r := d.GetPowerUsage(); r == nvml.SUCCESS {
		s.PowerW, s.PowerKnown = float64(mw)/1000, true
	} else if err := optional("get power usage", r); err != nil {
		return Snapshot{}, err
	}
	return s, nil
}
