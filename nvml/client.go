package nvml

import (
	"fmt"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// Client is an initialised NVML. It is safe for concurrent use. Close shuts it down, after
// stopping the samplers it started.
type Client struct {
	lib nvml.Interface

	// mu is held for reading around the client's NVML calls and for writing by Close, so that
	// Shutdown never runs under a call in flight. Sampler goroutines do not take it: Close
	// stops them before Shutdown.
	mu     sync.RWMutex
	closed bool

	samplersMu sync.Mutex
	samplers   map[*Sampler]struct{}
}

// New loads libnvidia-ml.so.1 and initialises NVML. The library is opened here, not when the
// program starts, so a program importing this package runs on machines without a driver; there
// New returns an error wrapping ErrUnavailable.
func New() (*Client, error) {
	return NewWithInterface(nvml.New())
}

// NewWithInterface initialises lib and returns a Client that uses it. Tests pass go-nvml's
// mocks (github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100). Any failure of Init is returned
// wrapping ErrUnavailable and the *Error that describes it.
func NewWithInterface(lib nvml.Interface) (*Client, error) {
	if lib == nil {
		return nil, fmt.Errorf("%w: no NVML interface", ErrUnavailable)
	}
	if err := check("init", lib.Init()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return &Client{lib: lib, samplers: make(map[*Sampler]struct{})}, nil
}

// Close stops the samplers that are still running (their Stop then returns the stats taken at
// that moment) and shuts NVML down. It is idempotent and safe on a nil Client; only the first
// call shuts down.
func (c *Client) Close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()

	c.samplersMu.Lock()
	running := make([]*Sampler, 0, len(c.samplers))
	for s := range c.samplers {
		running = append(running, s)
	}
	c.samplersMu.Unlock()
	for _, s := range running {
		// A failed read here is kept in the sampler and returned by its owner's Stop.
		_, _ = s.Stop()
	}
	return check("shutdown", c.lib.Shutdown())
}

// acquire holds the client open for an NVML call; release with c.mu.RUnlock.
func (c *Client) acquire() error {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// devices returns the handles of the GPUs with the given NVML indices, or of every GPU when
// indices is empty.
func (c *Client) devices(indices []int) ([]int, []nvml.Device, error) {
	if len(indices) == 0 {
		n, r := c.lib.DeviceGetCount()
		if err := check("get device count", r); err != nil {
			return nil, nil, err
		}
		if n == 0 {
			return nil, nil, ErrNoGPU
		}
		indices = make([]int, n)
		for i := range indices {
			indices[i] = i
		}
	}
	devs := make([]nvml.Device, len(indices))
	for i, index := range indices {
		d, r := c.lib.DeviceGetHandleByIndex(index)
		if err := check("get device handle", r); err != nil {
			return nil, nil, fmt.Errorf("gpu %d: %w", index, err)
		}
		devs[i] = d
	}
	return indices, devs, nil
}

// eachGPU reads every GPU with read, in index order. The caller holds the client open.
func eachGPU[T any](c *Client, read func(index int, d nvml.Device) (T, error)) ([]T, error) {
	indices, devs, err := c.devices(nil)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(devs))
	for i, d := range devs {
		if out[i], err = read(indices[i], d); err != nil {
			return nil, fmt.Errorf("gpu %d: %w", indices[i], err)
		}
	}
	return out, nil
}
