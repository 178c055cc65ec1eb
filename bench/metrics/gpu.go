package metrics

// GPUInfo describes a GPU in a result's metadata.
type GPUInfo struct {
	Index                    int     `json:"index"`
	Name                     string  `json:"name"`
	UUID                     string  `json:"uuid"`
	MemoryTotalBytes         uint64  `json:"memory_total_bytes"`
	DriverVersion            string  `json:"driver_version"`
	CUDAVersion              string  `json:"cuda_version"`
	PowerLimitW              float64 `json:"power_limit_w"`
	PeakBandwidthBytesPerSec float64 `json:"peak_bandwidth_bytes_per_sec"`
}

// GPUSample is what a GPU monitor measured during one call.
type GPUSample struct {
	PeakProcessBytes  uint64  `json:"peak_process_bytes"`
	ProcessSeen       bool    `json:"process_seen"`
	BaselineUsedBytes uint64  `json:"baseline_used_bytes"`
	PeakUsedBytes     uint64  `json:"peak_used_bytes"`
	EnergyJ           float64 `json:"energy_j"`
	EnergyMethod      string  `json:"energy_method"`
	MeanPowerW        float64 `json:"mean_power_w"`
	PeakPowerW        float64 `json:"peak_power_w"`
	Samples           int     `json:"samples"`
	IntervalMs        float64 `json:"interval_ms"`
}
