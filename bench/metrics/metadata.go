package metrics

import "time"

// Metadata is what a result needs to be reproduced and compared: the machine, the software
// and the devices.
type Metadata struct {
	Timestamp time.Time `json:"timestamp"`
	Hostname  string    `json:"hostname"`
	OS        string    `json:"os"`
	Arch      string    `json:"arch"`
	CPU       string    `json:"cpu"`
	CPUCores  int       `json:"cpu_cores"`
	Threads   int       `json:"threads"`
	GoVersion string    `json:"go_version"`
	LlamaPin  string    `json:"llama_pin"` // the github.com/ollama/ollama module version
	LlamaCpp  string    `json:"llama_cpp_commit"`
	CPUInfo   string    `json:"llama_system_info"`
	// CPUBuild compares llama.cpp's CPU kernels with this CPU; nil in results made before
	// the comparison existed, or where llama.cpp could not be initialized.
	CPUBuild *CPUBuild `json:"cpu_build,omitempty"`
	Devices  []Device  `json:"devices"`
	GPUs     []GPUInfo `json:"gpus,omitempty"`
	Driver   string    `json:"driver,omitempty"`
	CUDA     string    `json:"cuda,omitempty"`
	// GPUUnavailable says why there are no GPU figures, when there are none.
	GPUUnavailable string `json:"gpu_unavailable,omitempty"`
}

// Device is a compute device llama.cpp sees.
type Device struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Type        string `json:"type"`
	TotalBytes  uint64 `json:"total_bytes"`
}

// CPUBuild says which instruction-set extensions llama.cpp's CPU kernels were compiled with,
// beside those of the CPU (see llama.CPUBuild).
type CPUBuild struct {
	Compiled []string `json:"compiled"`
	// Unused lists what the CPU offers and the kernels were not compiled with.
	Unused []string `json:"unused,omitempty"`
	// Slow says that the kernels miss the vector extensions they are written for: what runs
	// on the CPU ran several times slower than the machine can. Warning says so, with the fix.
	Slow    bool   `json:"slow"`
	Fix     string `json:"fix,omitempty"`
	Warning string `json:"warning,omitempty"`
}
