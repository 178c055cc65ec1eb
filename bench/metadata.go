package bench

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/local-llm-bench/llmbench/bench/metrics"
	"github.com/local-llm-bench/llmbench/llama"
)

// LlamaCppCommit is the llama.cpp commit that the pinned github.com/ollama/ollama module
// tracks (FETCH_HEAD in its Makefile.sync). A test checks it against the module in use.
const LlamaCppCommit = "ec98e2002"

const llamaModule = "github.com/ollama/ollama"

func collectMetadata(spec metrics.Spec, mon Monitor) metrics.Metadata {
	m := metrics.Metadata{
		Timestamp: time.Now().UTC(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		CPU:       cpuModel(),
		CPUCores:  runtime.NumCPU(),
		Threads:   spec.Threads,
		GoVersion: runtime.Version(),
		LlamaPin:  moduleVersion(llamaModule),
		LlamaCpp:  LlamaCppCommit,
		CPUInfo:   llama.SystemInfo(),
	}
	m.Hostname, _ = os.Hostname()
	if b := llama.CheckCPUBuild(); b.Compiled != nil || b.Unused != nil {
		m.CPUBuild = &metrics.CPUBuild{Compiled: b.Compiled, Unused: b.Unused, Slow: b.Slow, Fix: b.Fix, Warning: b.Warning()}
	}
	if devs, err := llama.Devices(); err == nil {
		for _, d := range devs {
			m.Devices = append(m.Devices, metrics.Device{Name: d.Name, Description: d.Description, Type: string(d.Type), TotalBytes: d.TotalBytes})
		}
	}
	if mon == nil {
		m.GPUUnavailable = "no GPU monitor"
		return m
	}
	gpus, err := mon.GPUs()
	if err != nil {
		m.GPUUnavailable = err.Error()
		return m
	}
	if len(gpus) == 0 {
		m.GPUUnavailable = "no GPU found"
		return m
	}
	m.GPUs = gpus
	m.Driver = gpus[0].DriverVersion
	m.CUDA = gpus[0].CUDAVersion
	return m
}

// moduleVersion reads the version of a module the binary was built with.
func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, d := range info.Deps {
		if d.Path == path {
			if d.Replace != nil {
				return d.Version + " => " + d.Replace.Path + " " + d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
}

// cpuModel reads the CPU's name from /proc/cpuinfo; "" elsewhere.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
