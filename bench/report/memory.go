package report

import (
	"github.com/local-llm-bench/llmbench/bench/metrics"
)

// What Row.MemoryKind says the memory column and the efficiency use.
const (
	// MemoryVRAM is the process's peak GPU memory (NVML): a model on a GPU.
	MemoryVRAM = "VRAM"
	// MemoryRSS is the process's peak resident memory (VmHWM): a model on the CPU, whose
	// weights, KV cache and compute buffers live in host memory.
	MemoryRSS = "RSS"
)

// memoryKind says which memory a model's efficiency divides by: its peak VRAM where NVML
// measured one, else its peak resident memory where it ran on the CPU alone and that was read;
// "" when neither applies (a model on a GPU without a VRAM figure: its resident memory leaves
// the GPU's out).
func memoryKind(res *metrics.Result, vram, rss Num) string {
	switch {
	case vram.OK():
		return MemoryVRAM
	case onCPU(res) && rss.OK():
		return MemoryRSS
	}
	return ""
}

// onCPU reports whether the result's model was loaded with no layer on a GPU.
func onCPU(res *metrics.Result) bool { return res.Model.LayersTotal > 0 && res.Model.LayersOnGPU == 0 }

// noMemory says why a row has no memory figure for its efficiency.
func noMemory(res *metrics.Result) string {
	if onCPU(res) {
		return "no peak resident memory"
	}
	return "no VRAM"
}

// peakRSS is the result's peak resident memory in MiB, or why there is none.
func peakRSS(res *metrics.Result) Num {
	switch {
	case res.PeakRSSBytes > 0:
		return value(float64(res.PeakRSSBytes) / (1 << 20))
	case res.RSSUnavailable != "":
		return na(res.RSSUnavailable)
	}
	return na("peak resident memory not measured")
}

// MemoryGB is the memory the efficiency divides by, in GB (10⁹ bytes): the peak VRAM, or the
// peak resident memory of a model that ran on the CPU (MemoryKind says which).
func (r Row) MemoryGB() Num {
	switch r.MemoryKind {
	case MemoryVRAM:
		return r.VRAMGB()
	case MemoryRSS:
		return value(r.PeakRSSMiB.Value * (1 << 20) / 1e9)
	}
	if !r.PeakVRAMMiB.OK() {
		return r.PeakVRAMMiB
	}
	return na("no memory figure")
}

// memoryHeader is the memory column's heading: "VRAM GB" or "RSS GB" where the rows with a
// figure all have the one kind, else "memory GB", whose cells then say their kind.
func memoryHeader(rows []Row) (header string, mixed bool) {
	kinds := map[string]bool{}
	for _, r := range rows {
		if r.MemoryKind != "" {
			kinds[r.MemoryKind] = true
		}
	}
	switch {
	case len(kinds) > 1:
		return "memory GB", true
	case kinds[MemoryRSS]:
		return MemoryRSS + " GB", false
	}
	return MemoryVRAM + " GB", false
}

// memoryNote says what the memory column holds, where it is not VRAM alone.
func memoryNote(rows []Row) string {
	for _, r := range rows {
		if r.MemoryKind == MemoryRSS {
			return "RSS GB: the process's peak resident memory (VmHWM, from the first load to the end of the workloads) " +
				"of a model run on the CPU, in place of VRAM; efficiency divides by it there"
		}
	}
	return ""
}
