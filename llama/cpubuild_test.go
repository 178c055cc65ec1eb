package llama

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// set turns names into the sets the comparison takes.
func set(names string) map[string]bool {
	out := map[string]bool{}
	for _, n := range strings.Fields(names) {
		out[n] = true
	}
	return out
}

const (
	v3Fix     = `CGO_CFLAGS="-O3 -march=x86-64-v3" CGO_CXXFLAGS="-O3 -march=x86-64-v3"`
	nativeFix = `CGO_CFLAGS="-O3 -march=native" CGO_CXXFLAGS="-O3 -march=native"`
)

func TestCompareCPUBuild(t *testing.T) {
	const (
		zen3    = "SSE3 SSSE3 AVX AVX2 F16C FMA BMI2"
		zen4    = zen3 + " AVX512 AVX512_VBMI AVX512_VNNI AVX512_BF16"
		v3Build = "SSE3 SSSE3 AVX AVX2 F16C FMA BMI2"
	)
	tests := []struct {
		name     string
		arch     string
		compiled string
		offered  string
		want     CPUBuild
	}{
		{
			name: "baseline build on an AVX2 CPU is slow", arch: "amd64", compiled: "", offered: zen3,
			want: CPUBuild{Unused: strings.Fields(zen3), Slow: true, Fix: v3Fix},
		},
		{
			name: "x86-64-v3 build on an AVX2 CPU uses it all", arch: "amd64", compiled: v3Build, offered: zen3,
			want: CPUBuild{Compiled: strings.Fields(v3Build)},
		},
		{
			name: "x86-64-v3 build on an AVX-512 CPU is not slow; native would add AVX-512", arch: "amd64",
			compiled: v3Build, offered: zen4,
			want: CPUBuild{Compiled: strings.Fields(v3Build), Unused: strings.Fields("AVX512 AVX512_VBMI AVX512_VNNI AVX512_BF16"), Fix: v3Fix},
		},
		{
			name: "SSSE3 build on an AVX2 CPU is slow", arch: "amd64", compiled: "SSE3 SSSE3", offered: zen3,
			want: CPUBuild{Compiled: []string{"SSE3", "SSSE3"}, Unused: strings.Fields("AVX AVX2 F16C FMA BMI2"), Slow: true, Fix: v3Fix},
		},
		{
			// A CPU with AVX but no AVX2 cannot run x86-64-v3 code: the fix is this CPU alone.
			name: "baseline build on an AVX-only CPU asks for native", arch: "amd64", compiled: "",
			offered: "SSE3 SSSE3 AVX",
			want:    CPUBuild{Unused: []string{"SSE3", "SSSE3", "AVX"}, Slow: true, Fix: nativeFix},
		},
		{
			name: "baseline build on a CPU with nothing more is fine", arch: "amd64", compiled: "", offered: "",
			want: CPUBuild{},
		},
		{
			name: "arm64 without dot products is slow", arch: "arm64", compiled: "NEON ARM_FMA",
			offered: "NEON ARM_FMA DOTPROD FP16_VA",
			want: CPUBuild{Compiled: []string{"NEON", "ARM_FMA"}, Unused: []string{"FP16_VA", "DOTPROD"}, Slow: true,
				Fix: `CGO_CFLAGS="-O3 -mcpu=native" CGO_CXXFLAGS="-O3 -mcpu=native"`},
		},
		{
			name: "an architecture without a table compares nothing", arch: "riscv64", compiled: "RISCV_V", offered: "RISCV_V",
			want: CPUBuild{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := compareCPUBuild(tt.arch, set(tt.compiled), set(tt.offered))
			assert.Equal(t, tt.want, got)
			if got.Slow {
				w := got.Warning()
				assert.Contains(t, w, "SLOW CPU BUILD")
				assert.Contains(t, w, strings.Join(got.Unused, " "))
				assert.Contains(t, w, got.Fix)
			} else {
				assert.Empty(t, got.Warning())
			}
		})
	}
}

func TestCompiledFeatures(t *testing.T) {
	info := "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | LLAMAFILE = 1 | OPENMP = 0 | REPACK = 1 | " +
		"CUDA : ARCHS = 900 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 | "
	got := compiledFeatures(info)
	assert.Equal(t, set("SSE3 SSSE3 AVX AVX2 F16C FMA BMI2 LLAMAFILE REPACK"), got,
		"the CPU section only, without the features set to 0")
	assert.Empty(t, compiledFeatures("CPU : LLAMAFILE = 1 | REPACK = 1 |")["AVX2"])
	assert.Empty(t, compiledFeatures(""))
}

func TestCheckCPUBuildMatchesThisBinary(t *testing.T) {
	b := CheckCPUBuild()
	compiled := compiledFeatures(SystemInfo())
	require.NotEmpty(t, compiled, "llama.cpp's system information names the CPU's features: %q", SystemInfo())
	for _, f := range b.Compiled {
		assert.True(t, compiled[f], f)
	}
	assert.Equal(t, compareCPUBuild(runtime.GOARCH, compiled, hostFeatures(runtime.GOARCH)), b)
}
