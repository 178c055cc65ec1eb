package llama

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unsafe"
)

// BackendDirEnv names the environment variable that points at a folder holding a GPU backend
// module (libggml-cuda.so), for example the build/cuda folder that `make cuda` fills.
const BackendDirEnv = "LLMBENCH_BACKEND_DIR"

// backendLibs are the GPU backend modules looked for in a backend folder, in order.
var backendLibs = []string{"libggml-cuda.so", "libggml-hip.so", "libggml-vulkan.so"}

// backend guards ggml's backend and device registry, a plain vector: adding to it (LoadBackend,
// the first ensureBackend) holds loadMu and mu, in that order; reading it holds one of them:
// mu for Devices, HasGPU and SystemInfo, loadMu for the C calls that enumerate devices (model
// loads, context creation, quantization).
var backend struct {
	mu       sync.Mutex
	loaded   []string // paths of the backend modules loaded so far
	initDone bool
	initErr  error
}

func init() {
	C.llmb_install_log()
	C.llmb_install_abort_hook()
}

// LoadBackend loads a GPU backend module (such as libggml-cuda.so) so that its devices can be
// used. path is the module file or a folder holding one. Call it before the first Load; a
// backend loaded later is used by models loaded after it. It is safe for concurrent use.
func LoadBackend(path string) error {
	loadMu.Lock()
	defer loadMu.Unlock()
	backend.mu.Lock()
	defer backend.mu.Unlock()
	return loadBackendLocked(path)
}

func loadBackendLocked(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("load backend %s: %w: %w", path, ErrBackend, err)
	}
	files := []string{path}
	if st.IsDir() {
		files = files[:0]
		for _, name := range backendLibs {
			if _, err := os.Stat(filepath.Join(path, name)); err == nil {
				files = append(files, filepath.Join(path, name))
			}
		}
		if len(files) == 0 {
			return fmt.Errorf("load backend %s: %w: no %s in the folder", path, ErrBackend, strings.Join(backendLibs, ", "))
		}
	}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return fmt.Errorf("load backend %s: %w: %w", f, ErrBackend, err)
		}
		if slices.Contains(backend.loaded, abs) {
			continue
		}
		stop := captureLog()
		cpath := C.CString(abs)
		reg := C.ggml_backend_load(cpath)
		C.free(unsafe.Pointer(cpath))
		lines := stop()
		if reg == nil {
			return fmt.Errorf("load backend %s: %w: %s", abs, ErrBackend, explain(lines, "the module could not be loaded"))
		}
		backend.loaded = append(backend.loaded, abs)
		// The module brings its own copy of ggml's base library, with its own logger.
		csoname := C.CString("libggml-base.so.0")
		routed := C.llmb_route_loaded_base(csoname)
		C.free(unsafe.Pointer(csoname))
		slog.Debug("llama: backend loaded", "path", abs, "own_ggml_base", bool(routed))
	}
	return nil
}

// ensureBackend initializes llama.cpp once. Unless a GPU backend was loaded already, it looks
// for one in $LLMBENCH_BACKEND_DIR, then build/cuda beside the executable, then build/cuda in
// the module root above the working directory. A folder named by the environment variable
// that fails to load is an error; the others are only tried.
func ensureBackend() error {
	loadMu.Lock()
	defer loadMu.Unlock()
	backend.mu.Lock()
	defer backend.mu.Unlock()
	if backend.initDone {
		return backend.initErr
	}
	backend.initDone = true
	if len(backend.loaded) == 0 {
		if dir := os.Getenv(BackendDirEnv); dir != "" {
			if err := loadBackendLocked(dir); err != nil {
				backend.initErr = fmt.Errorf("%s: %w", BackendDirEnv, err)
				return backend.initErr
			}
		} else {
			for _, dir := range defaultBackendDirs() {
				if _, err := os.Stat(dir); err != nil {
					continue
				}
				if err := loadBackendLocked(dir); err != nil {
					slog.Warn("llama: GPU backend found but not loaded", "dir", dir, "err", err)
					continue
				}
				break
			}
		}
	}
	C.llama_backend_init()
	cpuBuild = checkCPUBuild(C.GoString(C.llama_print_system_info()))
	if !hasGPU() {
		slog.Info("llama: no GPU backend loaded; running on the CPU", "hint", "make cuda, or set "+BackendDirEnv)
	}
	return nil
}

func defaultBackendDirs() []string {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Join(filepath.Dir(exe), "build", "cuda"))
	}
	if root := moduleRoot(); root != "" {
		dirs = append(dirs, filepath.Join(root, "build", "cuda"))
	}
	return dirs
}

// moduleRoot finds this module's root above the working directory, where `make cuda` puts its
// output; "" when the program runs elsewhere.
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/local-llm-bench/llmbench\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// DeviceType says what kind of memory a device computes in.
type DeviceType string

// Device types, as ggml names them.
const (
	DeviceCPU   DeviceType = "CPU"
	DeviceGPU   DeviceType = "GPU"
	DeviceIGPU  DeviceType = "iGPU"
	DeviceAccel DeviceType = "accelerator"
)

// Device is a compute device known to ggml.
type Device struct {
	Index       int
	Name        string
	Description string
	Type        DeviceType
	FreeBytes   uint64
	TotalBytes  uint64
}

// Devices lists the devices llama.cpp can use: the CPU, and the GPUs of any backend loaded.
// Free and total memory are read at the time of the call.
func Devices() ([]Device, error) {
	if err := ensureBackend(); err != nil {
		return nil, err
	}
	backend.mu.Lock()
	defer backend.mu.Unlock()
	n := int(C.ggml_backend_dev_count())
	devs := make([]Device, 0, n)
	for i := 0; i < n; i++ {
		d := C.ggml_backend_dev_get(C.size_t(i))
		var free, total C.size_t
		C.ggml_backend_dev_memory(d, &free, &total)
		devs = append(devs, Device{
			Index:       i,
			Name:        C.GoString(C.ggml_backend_dev_name(d)),
			Description: C.GoString(C.ggml_backend_dev_description(d)),
			Type:        deviceType(C.ggml_backend_dev_type(d)),
			FreeBytes:   uint64(free),
			TotalBytes:  uint64(total),
		})
	}
	return devs, nil
}

func deviceType(t C.enum_ggml_backend_dev_type) DeviceType {
	switch t {
	case C.GGML_BACKEND_DEVICE_TYPE_GPU:
		return DeviceGPU
	case C.GGML_BACKEND_DEVICE_TYPE_IGPU:
		return DeviceIGPU
	case C.GGML_BACKEND_DEVICE_TYPE_ACCEL:
		return DeviceAccel
	default:
		return DeviceCPU
	}
}

// hasGPU reports whether a GPU device is registered. Callers have initialized the backend and
// hold backend.mu.
func hasGPU() bool {
	n := int(C.ggml_backend_dev_count())
	for i := 0; i < n; i++ {
		switch C.ggml_backend_dev_type(C.ggml_backend_dev_get(C.size_t(i))) {
		case C.GGML_BACKEND_DEVICE_TYPE_GPU, C.GGML_BACKEND_DEVICE_TYPE_IGPU:
			return true
		}
	}
	return false
}

// HasGPU reports whether a GPU backend is loaded with at least one device.
func HasGPU() bool {
	if ensureBackend() != nil {
		return false
	}
	backend.mu.Lock()
	defer backend.mu.Unlock()
	return hasGPU()
}

// SystemInfo returns llama.cpp's description of the CPU features it was built with.
func SystemInfo() string {
	if ensureBackend() != nil {
		return ""
	}
	backend.mu.Lock()
	defer backend.mu.Unlock()
	return C.GoString(C.llama_print_system_info())
}

// explain turns the log lines captured during a failed call into one reason, or fallback.
func explain(lines []string, fallback string) string {
	var errs []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l != "" {
			errs = append(errs, l)
		}
	}
	if len(errs) == 0 {
		return fallback
	}
	if len(errs) > 3 {
		errs = errs[len(errs)-3:]
	}
	return strings.Join(errs, "; ")
}
