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
	Devices   []Device  `json:"devices"`
	GPUs      []GPUInfo `json:"gpus,omitempty"`
	Driver    string    `json:"driver,omitempty"`
	CUDA      string    `json:"cuda,omitempty"`
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
