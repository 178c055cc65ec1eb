package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/local-llm-bench/llmbench/bench/metrics"
)

func TestSlowCPUBuildMarked(t *testing.T) {
	const warning = "SLOW CPU BUILD: llama.cpp's CPU kernels were compiled without AVX AVX2 F16C FMA, which this CPU has, " +
		`so what runs on the CPU runs several times slower than it can. Build with CGO_CFLAGS="-O3 -march=x86-64-v3" ...`
	slow := &metrics.CPUBuild{Unused: []string{"AVX", "AVX2", "F16C", "FMA"}, Slow: true,
		Fix: `CGO_CFLAGS="-O3 -march=x86-64-v3"`, Warning: warning}
	fast := &metrics.CPUBuild{Compiled: []string{"AVX", "AVX2", "F16C", "FMA"}, Unused: []string{"AVX512"},
		Fix: `CGO_CFLAGS="-O3 -march=native"`}

	all := noGPURun(t)
	for i := range all.Models {
		all.Models[i].Result.Meta.CPUBuild = slow
	}
	one := noGPURun(t) // one model of a resumed run was measured with a slow build
	one.Models[1].Result.Meta.CPUBuild = slow
	none := noGPURun(t)
	for i := range none.Models {
		none.Models[i].Result.Meta.CPUBuild = fast
	}

	tests := []struct {
		name string
		run  Run
		slow bool
		want []string
	}{
		{"every model", all, true, []string{"| cpu kernels | SLOW CPU BUILD: compiled with the compiler's baseline; unused: AVX AVX2 F16C FMA"}},
		{"one model", one, true, []string{"Measured with it: " + one.Models[1].Result.Name + "."}},
		{"a portable build", none, false, []string{"| cpu kernels | compiled with AVX AVX2 F16C FMA; unused: AVX512 (CGO_CFLAGS=\"-O3 -march=native\")"}},
	}
	for _, tt := range tests {
		for name, out := range outputs(t, tt.run) {
			if name == "json" {
				continue // TestSlowCPUBuildInJSON
			}
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				// The mark comes before the first table, where it cannot be missed.
				before, _, _ := strings.Cut(out, "Summary")
				marks := map[string]string{
					"terminal": "*** " + warning,
					"markdown": "> **SLOW CPU BUILD**: llama.cpp's CPU kernels were compiled without AVX AVX2 F16C FMA",
					"html":     `<div class="slowbuild" id="slow-build" role="alert"><strong>SLOW CPU BUILD</strong> — llama.cpp&#39;s CPU kernels`,
				}
				assert.Equal(t, tt.slow, strings.Contains(before, marks[name]), "the mark before the tables")
				if name == "html" {
					assert.Equal(t, tt.slow, strings.Contains(out, "<title>llmbench report — SLOW CPU BUILD</title>"))
				}
				if name == "markdown" { // the table's cells, unwrapped and unescaped
					for _, s := range tt.want {
						contains(t, out, s)
					}
				}
			})
		}
	}
}

func TestSlowCPUBuildInJSON(t *testing.T) {
	run := noGPURun(t)
	run.Models[0].Result.Meta.CPUBuild = &metrics.CPUBuild{Unused: []string{"AVX2"}, Slow: true, Fix: "x", Warning: "SLOW CPU BUILD: y"}
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, run))
	contains(t, b.String(), `"cpu_build": {`)
	contains(t, b.String(), `"slow": true`)
	contains(t, b.String(), `"warning": "SLOW CPU BUILD: y"`)
}
