package llama

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Without a GPU a ballast is refused with ErrNoGPU; on a GPU it holds the memory asked for,
// which the GPU's free memory shows, until Close gives it back.
func TestBallast(t *testing.T) {
	if !HasGPU() {
		_, err := NewBallast(1 << 20)
		require.ErrorIs(t, err, ErrNoGPU)
		t.Log("no GPU backend loaded: only the refusal is checked here; TestBallastAllocation covers the allocation on the CPU device")
		return
	}
	gpu, ok := firstGPU()
	require.True(t, ok)
	const size = 1 << 30
	b, err := NewBallast(size)
	require.NoError(t, err)
	assert.Equal(t, uint64(size), b.Size())
	assert.Equal(t, gpu.Name, b.Device())
	held, _ := firstGPU()
	assert.GreaterOrEqual(t, gpu.FreeBytes-held.FreeBytes, uint64(size), "the GPU's free memory fell by the ballast")
	require.NoError(t, b.Close())
	back, _ := firstGPU()
	assert.Greater(t, back.FreeBytes, held.FreeBytes+size/2, "Close gave it back")

	_, err = NewBallast(gpu.TotalBytes * 2)
	assert.ErrorIs(t, err, ErrOutOfMemory)
}

// The allocation and its release, on the CPU device (checked under AddressSanitizer by make
// test-asan): Close is idempotent and safe on nil.
func TestBallastAllocation(t *testing.T) {
	require.NoError(t, ensureBackend())
	b, err := newBallast(64<<20, DeviceCPU)
	require.NoError(t, err)
	assert.Equal(t, uint64(64<<20), b.Size())
	assert.Equal(t, "CPU", b.Device())
	require.NoError(t, b.Close())
	require.NoError(t, b.Close())
	assert.Zero(t, b.Size())
	var none *Ballast
	assert.NoError(t, none.Close())
	assert.Zero(t, none.Size())
	_, err = newBallast(1<<20, DeviceAccel)
	assert.ErrorIs(t, err, ErrNoGPU, "no device of the type")
}
