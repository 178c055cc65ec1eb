package llama

import (
	"log/slog"
	"runtime"
	"strings"

	"golang.org/x/sys/cpu"
)

// CPUBuild compares the instruction-set extensions that llama.cpp's CPU kernels were compiled
// with against those of the CPU the program runs on. The kernels get only what CGO_CFLAGS and
// CGO_CXXFLAGS ask the compiler for: without flags, the compiler's baseline (SSE2 on x86-64),
// and prompts and generation on the CPU run several times slower than the machine can.
type CPUBuild struct {
	// Compiled lists the extensions the kernels were compiled with, as llama.cpp's system
	// information names them ("AVX2", "FMA", ...).
	Compiled []string
	// Unused lists the extensions this CPU offers that the kernels were not compiled with.
	Unused []string
	// Slow says that Unused holds the vector extensions the kernels are written for (those of
	// x86-64-v3 on x86-64, DOTPROD on arm64), not only the wider ones that -march=native adds.
	Slow bool
	// Fix is the environment that compiles the kernels with what Unused lists (the first build
	// after it recompiles llama.cpp, some minutes); "" when nothing is unused.
	Fix string
}

// Warning is the one-paragraph warning of a slow build, naming what is unused and the fix;
// "" when the build is not slow.
func (b CPUBuild) Warning() string {
	if !b.Slow {
		return ""
	}
	return "SLOW CPU BUILD: llama.cpp's CPU kernels were compiled without " + strings.Join(b.Unused, " ") +
		", which this CPU has, so what runs on the CPU runs several times slower than it can. Build with " +
		b.Fix + " in the environment of go build, go test or go run (llama.cpp then compiles again, once)."
}

// cpuBuild is the comparison made when llama.cpp was initialized.
var cpuBuild CPUBuild

// CheckCPUBuild returns the comparison of the kernels' build with this CPU, made once per
// process when llama.cpp is initialized (by the first Load), which also logs Warning through
// slog when the build is slow. It returns the zero CPUBuild when llama.cpp could not be
// initialized.
func CheckCPUBuild() CPUBuild {
	if ensureBackend() != nil {
		return CPUBuild{}
	}
	return cpuBuild
}

// checkCPUBuild compares llama.cpp's system information with this CPU and warns when the build
// is slow; ensureBackend calls it once.
func checkCPUBuild(systemInfo string) CPUBuild {
	b := compareCPUBuild(runtime.GOARCH, compiledFeatures(systemInfo), hostFeatures(runtime.GOARCH))
	if w := b.Warning(); w != "" {
		slog.Warn("llama: " + w)
	}
	return b
}

// isaFeature is an instruction-set extension as llama.cpp's system information names it.
type isaFeature struct {
	name string
	// core marks the extensions the kernels are written for; the others (AVX-512, AMX, SVE,
	// ...) add less, and a portable build leaves them out on purpose.
	core bool
}

// isaFeatures are the extensions compared, per GOARCH, in the order llama.cpp lists them. On
// x86-64 the core ones are those of x86-64-v3 that llama.cpp reports.
var isaFeatures = map[string][]isaFeature{
	"amd64": {
		{"SSE3", true}, {"SSSE3", true}, {"AVX", true}, {"AVX_VNNI", false}, {"AVX2", true},
		{"F16C", true}, {"FMA", true}, {"BMI2", true}, {"AVX512", false}, {"AVX512_VBMI", false},
		{"AVX512_VNNI", false}, {"AVX512_BF16", false}, {"AMX_INT8", false},
	},
	"arm64": {
		{"NEON", true}, {"ARM_FMA", true}, {"FP16_VA", false}, {"MATMUL_INT8", false},
		{"SVE", false}, {"DOTPROD", true},
	},
}

// compileFix is the environment that compiles for a target: x86-64-v3 where the CPU has all of
// it (binaries that run on any x86 CPU since about 2015), else this CPU alone.
func compileFix(arch string, offered map[string]bool) string {
	march := "-march=native"
	switch arch {
	case "amd64":
		v3 := true
		for _, f := range isaFeatures[arch] {
			v3 = v3 && (!f.core || offered[f.name])
		}
		if v3 {
			march = "-march=x86-64-v3"
		}
	case "arm64":
		march = "-mcpu=native"
	}
	return `CGO_CFLAGS="-O3 ` + march + `" CGO_CXXFLAGS="-O3 ` + march + `"`
}

// compareCPUBuild compares the extensions compiled in with those offered, both named as
// llama.cpp names them.
func compareCPUBuild(arch string, compiled, offered map[string]bool) CPUBuild {
	var b CPUBuild
	for _, f := range isaFeatures[arch] {
		switch {
		case compiled[f.name]:
			b.Compiled = append(b.Compiled, f.name)
		case offered[f.name]:
			b.Unused = append(b.Unused, f.name)
			b.Slow = b.Slow || f.core
		}
	}
	if len(b.Unused) > 0 {
		b.Fix = compileFix(arch, offered)
	}
	return b
}

// compiledFeatures reads the CPU backend's part of llama_print_system_info, such as
// "CPU : SSE3 = 1 | AVX2 = 1 | ... | CUDA : ARCHS = 900 | ...", into the names set to a value
// other than 0.
func compiledFeatures(systemInfo string) map[string]bool {
	out := map[string]bool{}
	section := ""
	for _, item := range strings.Split(systemInfo, "|") {
		if s, rest, ok := strings.Cut(item, " : "); ok {
			section, item = strings.TrimSpace(s), rest
		}
		name, value, ok := strings.Cut(item, "=")
		if !ok || section != "CPU" {
			continue
		}
		if v := strings.TrimSpace(value); v != "" && v != "0" {
			out[strings.TrimSpace(name)] = true
		}
	}
	return out
}

// hostFeatures are the extensions this CPU offers, named as llama.cpp names them.
func hostFeatures(arch string) map[string]bool {
	switch arch {
	case "amd64":
		x := cpu.X86
		return map[string]bool{
			"SSE3": x.HasSSE3, "SSSE3": x.HasSSSE3, "AVX": x.HasAVX, "AVX_VNNI": x.HasAVXVNNI,
			"AVX2": x.HasAVX2,
			// x/sys/cpu has no F16C bit; every CPU with AVX2 has F16C (x86-64-v3 holds both).
			"F16C": x.HasAVX2, "FMA": x.HasFMA, "BMI2": x.HasBMI2, "AVX512": x.HasAVX512F,
			"AVX512_VBMI": x.HasAVX512VBMI, "AVX512_VNNI": x.HasAVX512VNNI,
			"AVX512_BF16": x.HasAVX512BF16, "AMX_INT8": x.HasAMXInt8,
		}
	case "arm64":
		a := cpu.ARM64
		return map[string]bool{
			"NEON": a.HasASIMD, "ARM_FMA": a.HasFP, "FP16_VA": a.HasASIMDHP,
			"MATMUL_INT8": a.HasI8MM, "SVE": a.HasSVE, "DOTPROD": a.HasASIMDDP,
		}
	}
	return nil
}
