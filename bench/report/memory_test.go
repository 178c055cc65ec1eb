package report

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A model run on the CPU gets its memory column and efficiency from the process's peak
// resident memory, labelled RSS; one on a GPU without a VRAM figure does not (its resident
// memory leaves the GPU's out), and a CPU run without the figure says so.
func TestMemoryOnTheCPUIsRSS(t *testing.T) {
	cpu := cpuResult("smollm2", 95)
	cpu.PeakRSSBytes = 300 << 20
	noRSS := cpuResult("smollm2-no-rss", 90)
	noRSS.RSSUnavailable = "peak resident memory unavailable: resetting VmHWM: permission denied"
	gpuNoMonitor := loadResult(t, "nomonitor", fixtureNames[0])
	gpuNoMonitor.PeakRSSBytes = 3 << 30

	rows := Summarize(Run{Models: []Model{
		{Result: cpu, Quality: quality(t, 4)},
		{Result: noRSS, Quality: quality(t, 4)},
		{Result: gpuNoMonitor, Quality: quality(t, 4)},
	}, Complete: true})

	r := rows[0]
	assert.Equal(t, MemoryRSS, r.MemoryKind)
	assert.Equal(t, Num{Value: 300}, r.PeakRSSMiB)
	gb := 300.0 * (1 << 20) / 1e9
	assert.InDelta(t, gb, r.MemoryGB().Value, 1e-12)
	require.True(t, r.Efficiency.OK())
	assert.InDelta(t, 0.4*95/gb, r.Efficiency.Value, 1e-9)
	assert.Equal(t, RankedByEfficiency, r.RankedBy)

	assert.Equal(t, "smollm2: runs on the CPU in 0.31 GB of memory (peak RSS) for one stream", r.Name+": "+fitClause(r),
		"the verdict speaks of the memory of the summary's column")

	assert.Empty(t, rows[1].MemoryKind)
	assert.Equal(t, "its VRAM was not measured (NVML unavailable: libnvidia-ml.so.1 not found)", fitClause(rows[1]))
	assert.Equal(t, noRSS.RSSUnavailable, rows[1].PeakRSSMiB.NA)
	assert.Equal(t, "no peak resident memory", rows[1].Efficiency.NA)

	assert.Empty(t, rows[2].MemoryKind, "a model on the GPU is not measured by its RSS")
	assert.True(t, rows[2].PeakRSSMiB.OK())
	assert.Equal(t, "no VRAM", rows[2].Efficiency.NA)
	assert.Equal(t, "no GPU monitor", rows[2].MemoryGB().NA)
}

// The summary's memory column says which memory it holds: VRAM GB, RSS GB, or memory GB with
// each cell's kind when a run has both.
func TestMemoryColumnIsLabelled(t *testing.T) {
	cpu := cpuResult("smollm2", 95)
	cpu.PeakRSSBytes = 300 << 20
	summary := func(run Run) ([]string, [][]string, string) {
		var b bytes.Buffer
		require.NoError(t, WriteMarkdown(&b, run))
		md := b.String()
		ts := tables(run, Summarize(run))
		return ts[0].Header, tableRows(t, md, "Summary"), md
	}

	header, rows, md := summary(Run{Models: []Model{{Result: cpu, Quality: quality(t, 4)}}, Complete: true})
	assert.Equal(t, "RSS GB", header[4])
	assert.Equal(t, "0.31", rows[0][4])
	assert.Equal(t, "120.8", rows[0][6], "0.4 × 95 tok/s ÷ 0.3146 GB")
	assert.Contains(t, md, "efficiency = quality × tok/s ÷ RSS GB (10⁹ bytes)")
	assert.Contains(t, md, "the process's peak resident memory (VmHWM")

	header, _, md = summary(h200Run(t))
	assert.Equal(t, "VRAM GB", header[4])
	assert.NotContains(t, md, "RSS GB")

	mixed := h200Run(t)
	mixed.Models = append(mixed.Models, Model{Result: cpu, Quality: quality(t, 4)})
	header, rows, _ = summary(mixed)
	assert.Equal(t, "memory GB", header[4])
	kinds := map[string]string{}
	for _, r := range rows {
		kinds[r[0]] = r[4]
	}
	assert.Equal(t, "0.31 (RSS)", kinds["smollm2"])
	assert.Equal(t, "5.71 (VRAM)", kinds["mistral-7b-instruct-v0.2.Q4_K_M"])
}
