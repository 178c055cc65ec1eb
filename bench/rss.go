package bench

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// rssMeter measures the process's peak resident memory as the kernel keeps it: VmHWM in
// /proc/self/status, the high-water mark of the resident set, which writing 5 to
// /proc/self/clear_refs resets (Linux 4.0 and later). The mark is exact where a sampler of the
// resident set would miss what lives less than its interval (a compute buffer during one
// prompt), and it costs nothing while a model runs, where a sampler's goroutine would take
// time from ggml's threads. The mark is the process's: one span at a time.
type rssMeter struct {
	proc string // /proc/self, or a test's folder
}

var selfRSS = rssMeter{proc: "/proc/self"}

// start resets the mark and returns the function that reads the peak since: in bytes, or 0
// and why there is none.
func (m rssMeter) start() (peak func() (uint64, string)) {
	if err := os.WriteFile(filepath.Join(m.proc, "clear_refs"), []byte("5"), 0); err != nil {
		why := "peak resident memory unavailable: resetting VmHWM: " + err.Error()
		return func() (uint64, string) { return 0, why }
	}
	return func() (uint64, string) {
		b, err := m.peak()
		if err != nil {
			return 0, "peak resident memory unavailable: " + err.Error()
		}
		return b, ""
	}
}

// peak reads VmHWM, in bytes.
func (m rssMeter) peak() (uint64, error) {
	f, err := os.Open(filepath.Join(m.proc, "status"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != "VmHWM" {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("VmHWM: unexpected %q", strings.TrimSpace(v))
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmHWM: %w", err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmHWM in %s", f.Name())
}
