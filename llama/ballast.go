package llama

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"fmt"
	"runtime"
	"sync"
)

// Ballast is GPU memory held and left unused, so that a large GPU stands in for a smaller one:
// with a ballast in place, what is free on the GPU is what a card of the smaller size would
// have free, and a load or a context that would not fit there is refused as it would be there.
// Close gives the memory back; it is idempotent and safe on nil. A Ballast is safe for
// concurrent use.
type Ballast struct {
	mu      sync.Mutex
	buf     C.ggml_backend_buffer_t
	size    uint64
	device  string
	cleanup runtime.Cleanup
}

// NewBallast holds size bytes of the first GPU's memory, the GPU a Plan places a model on. It
// returns ErrNoGPU without a GPU backend, and ErrOutOfMemory when the GPU cannot give that
// much.
func NewBallast(size uint64) (*Ballast, error) {
	if err := ensureBackend(); err != nil {
		return nil, fmt.Errorf("ballast: %w", err)
	}
	return newBallast(size, DeviceGPU, DeviceIGPU)
}

// newBallast allocates on the first device of the first of types that has one; the CPU
// device serves the tests of the allocation itself.
func newBallast(size uint64, types ...DeviceType) (*Ballast, error) {
	backend.mu.Lock()
	dev, name := findDevice(types)
	if dev == nil {
		backend.mu.Unlock()
		return nil, fmt.Errorf("ballast: %w", ErrNoGPU)
	}
	var free0, free1, total C.size_t
	C.ggml_backend_dev_memory(dev, &free0, &total)
	buf := C.ggml_backend_buft_alloc_buffer(C.ggml_backend_dev_buffer_type(dev), C.size_t(size))
	C.ggml_backend_dev_memory(dev, &free1, &total)
	gpu := deviceType(C.ggml_backend_dev_type(dev)) != DeviceCPU
	backend.mu.Unlock()
	if buf == nil {
		return nil, fmt.Errorf("ballast: %w: %s of %s could not be held (%s free)", ErrOutOfMemory, formatBytes(size), name, formatBytes(uint64(free0)))
	}
	// A buffer type can be switched to allocate nothing (while llama.cpp measures a model);
	// a GPU's free memory says whether the ballast is real. Host memory is committed only
	// once touched, so the CPU device is not checked.
	if gpu && size > 0 && uint64(free0) < uint64(free1)+size/2 {
		C.ggml_backend_buffer_free(buf)
		return nil, fmt.Errorf("ballast: %s of %s asked for, but its free memory went from %s to %s", formatBytes(size), name, formatBytes(uint64(free0)), formatBytes(uint64(free1)))
	}
	b := &Ballast{buf: buf, size: size, device: name}
	b.cleanup = runtime.AddCleanup(b, func(buf C.ggml_backend_buffer_t) { C.ggml_backend_buffer_free(buf) }, buf)
	return b, nil
}

// findDevice is the first device of the first of types that has one; the caller holds
// backend.mu.
func findDevice(types []DeviceType) (C.ggml_backend_dev_t, string) {
	n := int(C.ggml_backend_dev_count())
	for _, want := range types {
		for i := 0; i < n; i++ {
			d := C.ggml_backend_dev_get(C.size_t(i))
			if deviceType(C.ggml_backend_dev_type(d)) == want {
				return d, C.GoString(C.ggml_backend_dev_name(d))
			}
		}
	}
	return nil, ""
}

// Size is the memory held, in bytes; 0 once closed.
func (b *Ballast) Size() uint64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.size
}

// Device names the device that holds the ballast.
func (b *Ballast) Device() string {
	if b == nil {
		return ""
	}
	return b.device
}

// Close gives the memory back.
func (b *Ballast) Close() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil {
		return nil
	}
	b.cleanup.Stop()
	C.ggml_backend_buffer_free(b.buf)
	b.buf, b.size = nil, 0
	return nil
}
