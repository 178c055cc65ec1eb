package nvml

import (
	"errors"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

var (
	// ErrUnavailable reports that NVML cannot be used: libnvidia-ml.so.1 is missing (CI,
	// machines without NVIDIA drivers), the driver is not loaded, or NVML failed to initialise.
	// Callers then report GPU memory as unavailable, never as zero.
	ErrUnavailable = errors.New("NVML unavailable")
	// ErrNotSupported reports a query that this GPU or driver does not support.
	ErrNotSupported = errors.New("not supported")
	// ErrNoPermission reports a query that this user may not make.
	ErrNoPermission = errors.New("no permission")
	// ErrNoGPU reports that NVML found no GPU to sample.
	ErrNoGPU = errors.New("no GPU found")
	// ErrClosed is returned by the methods of a closed Client.
	ErrClosed = errors.New("nvml client closed")
)

// Error is an NVML call that did not succeed. Return is never nvml.SUCCESS: a SUCCESS kept in
// an error would make a non-nil error out of a call that worked.
type Error struct {
	// Op names the call, for example "get power usage".
	Op string
	// Return is NVML's return code.
	Return nvml.Return
}

// Error returns the operation and NVML's description of the return code.
func (e *Error) Error() string {
	return e.Op + ": " + e.Return.Error()
}

// Unwrap returns the sentinel that matches the return code, if any, and the return code
// itself, so that both errors.Is(err, ErrNotSupported) and errors.Is(err,
// nvml.ERROR_GPU_IS_LOST) hold where they should.
func (e *Error) Unwrap() []error {
	if s := sentinel(e.Return); s != nil {
		return []error{s, e.Return}
	}
	return []error{e.Return}
}

// sentinel maps the return codes that callers act on to this package's sentinels.
func sentinel(r nvml.Return) error {
	switch r {
	case nvml.ERROR_NOT_SUPPORTED, nvml.ERROR_FUNCTION_NOT_FOUND:
		// FUNCTION_NOT_FOUND: the installed driver predates the call.
		return ErrNotSupported
	case nvml.ERROR_NO_PERMISSION:
		return ErrNoPermission
	case nvml.ERROR_LIBRARY_NOT_FOUND, nvml.ERROR_DRIVER_NOT_LOADED, nvml.ERROR_UNINITIALIZED,
		nvml.ERROR_LIB_RM_VERSION_MISMATCH:
		return ErrUnavailable
	}
	return nil
}

// unsupported reports whether r says that the GPU or driver cannot answer a query at all.
func unsupported(r nvml.Return) bool {
	return sentinel(r) == ErrNotSupported
}

// check turns a return code into an error: nil for SUCCESS, an *Error otherwise.
func check(op string, r nvml.Return) error {
	if r == nvml.SUCCESS {
		return nil
	}
	return &Error{Op: op, Return: r}
}
