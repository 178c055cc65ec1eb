package nvml

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNew runs the real NVML. Whether New must work here is decided apart from NVML: the
// NVIDIA kernel driver, when loaded, shows in /proc/driver/nvidia/version (and a GPU
// container gets /dev/nvidiactl). Without it (CI, this project's CPU machines) New must
// return ErrUnavailable, not panic; with it, New must work.
func TestNew(t *testing.T) {
	c, err := New()
	driver := nvidiaDriver()
	if driver == "" {
		require.ErrorIs(t, err, ErrUnavailable, "no NVIDIA driver here, yet New did not say NVML is unavailable")
		assert.Nil(t, c)
		var nerr *Error
		require.ErrorAs(t, err, &nerr)
		assert.Equal(t, "init", nerr.Op)
		t.Logf("no NVIDIA driver here, and New says so: %v", err)
		return
	}
	require.NoError(t, err, "the NVIDIA driver is loaded (%s exists), so NVML must initialise", driver)
	defer func() { assert.NoError(t, c.Close()) }()
	gpus, err := c.GPUs()
	require.NoError(t, err)
	require.NotEmpty(t, gpus)
	for _, g := range gpus {
		t.Logf("gpu %d: %s, %d MiB, driver %s, CUDA %s, %.0f W, %d MHz × %d bits = %.3g B/s",
			g.Index, g.Name, g.MemoryTotalBytes>>20, g.DriverVersion, g.CUDADriverVersion,
			g.PowerLimitW, g.MaxMemoryClockMHz, g.MemoryBusWidthBits, g.PeakBandwidthBytesPerSec)
		assert.NotEmpty(t, g.Name)
		assert.Positive(t, g.MemoryTotalBytes)
	}
	snaps, err := c.Snapshot()
	require.NoError(t, err)
	require.Len(t, snaps, len(gpus))
	for _, s := range snaps {
		t.Logf("gpu %d: used %d MiB, power %.1f W, processes %+v", s.Index, s.UsedBytes>>20, s.PowerW, s.Processes)
	}
	// No ticks: the readings are Start's and Stop's alone, however long the two calls take.
	s, err := c.StartSampler(newManual().options()...)
	require.NoError(t, err)
	st, err := s.Stop()
	require.NoError(t, err)
	t.Logf("sampler: %+v", st)
	assert.Equal(t, 2, st.Samples)
}

// nvidiaDriver returns a file that shows the NVIDIA kernel driver is loaded here, or "".
func nvidiaDriver() string {
	for _, p := range []string{"/proc/driver/nvidia/version", "/dev/nvidiactl"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// TestNewWithoutLibrary goes through go-nvml's real loader to a library that is not there: what
// New meets on a machine without a driver, checked on every machine.
func TestNewWithoutLibrary(t *testing.T) {
	lib := nvml.New(nvml.WithLibraryPath(filepath.Join(t.TempDir(), "libnvidia-ml.so.1")))
	c, err := NewWithInterface(lib)
	assert.Nil(t, c)
	require.ErrorIs(t, err, ErrUnavailable)
	assert.ErrorIs(t, err, nvml.ERROR_LIBRARY_NOT_FOUND)
	assert.EqualError(t, err, "NVML unavailable: init: ERROR_LIBRARY_NOT_FOUND")
}

func TestNewWithInterface(t *testing.T) {
	t.Run("library missing", func(t *testing.T) {
		s := newServer(t, 1)
		s.InitFunc = func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }
		c, err := NewWithInterface(s)
		assert.Nil(t, c)
		assert.ErrorIs(t, err, ErrUnavailable)
		assert.ErrorIs(t, err, nvml.ERROR_LIBRARY_NOT_FOUND)
		var nerr *Error
		require.ErrorAs(t, err, &nerr)
		assert.Equal(t, "init", nerr.Op)
		assert.EqualError(t, err, "NVML unavailable: init: ERROR_LIBRARY_NOT_FOUND")
	})
	t.Run("init fails otherwise", func(t *testing.T) {
		s := newServer(t, 1)
		s.InitFunc = func() nvml.Return { return nvml.ERROR_UNKNOWN }
		_, err := NewWithInterface(s)
		assert.ErrorIs(t, err, ErrUnavailable)
		assert.ErrorIs(t, err, nvml.ERROR_UNKNOWN)
	})
	t.Run("nil", func(t *testing.T) {
		_, err := NewWithInterface(nil)
		assert.ErrorIs(t, err, ErrUnavailable)
	})
}

func TestClose(t *testing.T) {
	s := newServer(t, 2)
	c, err := NewWithInterface(s)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	assert.Len(t, s.ShutdownCalls(), 1, "Shutdown runs once")

	_, err = c.GPUs()
	assert.ErrorIs(t, err, ErrClosed)
	_, err = c.Snapshot()
	assert.ErrorIs(t, err, ErrClosed)

	var nilClient *Client
	assert.NoError(t, nilClient.Close())
}

func TestCloseShutdownFails(t *testing.T) {
	s := newServer(t, 1)
	s.ShutdownFunc = func() nvml.Return { return nvml.ERROR_UNKNOWN }
	c, err := NewWithInterface(s)
	require.NoError(t, err)
	err = c.Close()
	assert.ErrorIs(t, err, nvml.ERROR_UNKNOWN)
	assert.Contains(t, err.Error(), "shutdown")
	assert.NoError(t, c.Close(), "the second Close does nothing")
}
