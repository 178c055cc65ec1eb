package nvml

import (
	"errors"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/stretchr/testify/assert"
)

func TestCheck(t *testing.T) {
	assert.NoError(t, check("init", nvml.SUCCESS))
	err := check("get power usage", nvml.ERROR_NOT_SUPPORTED)
	assert.EqualError(t, err, "get power usage: ERROR_NOT_SUPPORTED")
}

func TestErrorUnwrap(t *testing.T) {
	tests := []struct {
		ret      nvml.Return
		sentinel error
	}{
		{nvml.ERROR_NOT_SUPPORTED, ErrNotSupported},
		{nvml.ERROR_FUNCTION_NOT_FOUND, ErrNotSupported},
		{nvml.ERROR_NO_PERMISSION, ErrNoPermission},
		{nvml.ERROR_LIBRARY_NOT_FOUND, ErrUnavailable},
		{nvml.ERROR_DRIVER_NOT_LOADED, ErrUnavailable},
		{nvml.ERROR_UNINITIALIZED, ErrUnavailable},
		{nvml.ERROR_LIB_RM_VERSION_MISMATCH, ErrUnavailable},
		{nvml.ERROR_GPU_IS_LOST, nil},
		{nvml.ERROR_UNKNOWN, nil},
	}
	for _, tt := range tests {
		t.Run(tt.ret.String(), func(t *testing.T) {
			err := error(&Error{Op: "op", Return: tt.ret})
			assert.ErrorIs(t, err, tt.ret)
			for _, s := range []error{ErrNotSupported, ErrNoPermission, ErrUnavailable} {
				assert.Equal(t, s == tt.sentinel, errors.Is(err, s), "errors.Is(%v, %v)", err, s)
			}
			var e *Error
			assert.ErrorAs(t, err, &e)
			assert.Equal(t, tt.ret, e.Return)
		})
	}
}
