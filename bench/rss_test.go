package bench

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// VmHWM is read in bytes from a status file; a missing or malformed line, or a mark that cannot
// be reset, gives no figure and says why.
func TestRSSMeterReadsVmHWM(t *testing.T) {
	dir := t.TempDir()
	status := filepath.Join(dir, "status")
	clear := filepath.Join(dir, "clear_refs")
	require.NoError(t, os.WriteFile(clear, nil, 0o644))
	m := rssMeter{proc: dir}

	require.NoError(t, os.WriteFile(status, []byte("Name:\tx\nVmPeak:\t  999 kB\nVmHWM:\t  2048 kB\nVmRSS:\t 1024 kB\n"), 0o644))
	peak := m.start()
	got, why := peak()
	assert.Empty(t, why)
	assert.Equal(t, uint64(2048<<10), got)
	b, err := os.ReadFile(clear)
	require.NoError(t, err)
	assert.Equal(t, "5", string(b), "the mark is reset by writing 5")

	for name, content := range map[string]string{
		"no line":   "Name:\tx\nVmRSS:\t 1024 kB\n",
		"bad unit":  "VmHWM:\t 12 MB\n",
		"bad value": "VmHWM:\t x kB\n",
	} {
		require.NoError(t, os.WriteFile(status, []byte(content), 0o644))
		got, why := m.start()()
		assert.Zero(t, got, name)
		assert.Contains(t, why, "peak resident memory unavailable", name)
	}

	got, why = rssMeter{proc: filepath.Join(dir, "none")}.start()()
	assert.Zero(t, got)
	assert.Contains(t, why, "resetting VmHWM")
}

// On Linux the mark follows what the process touches and the reset brings it down to what is
// resident now: 64 MiB touched raise it by about as much; once they are returned to the OS, a
// reset takes it below that peak.
func TestRSSMeterOnThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmHWM and clear_refs are Linux's")
	}
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("this kernel or sandbox refuses to reset VmHWM: %v", err)
	}
	const size = 64 << 20
	debug.FreeOSMemory() // so that the scavenger has nothing to give back during the test
	base, why := selfRSS.start()()
	require.Empty(t, why)
	peak := selfRSS.start()
	buf := make([]byte, size)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	high, why := peak()
	require.Empty(t, why)
	runtime.KeepAlive(buf)
	assert.Greater(t, high, base+size*9/10, "64 MiB touched")

	buf = nil
	debug.FreeOSMemory()
	low, why := selfRSS.start()()
	require.Empty(t, why)
	assert.Less(t, low, high-size/2, "the reset forgets the peak")
}
