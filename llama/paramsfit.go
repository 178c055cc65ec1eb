package llama

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// fitLayers asks llama.cpp's llama_params_fit how many layers of the model at path fit in
// target bytes of the first GPU with a context of cfg: it loads the model and makes the
// context without allocating anything (no_alloc), reads what each of llama.cpp's buffers would
// take on the device, and moves layers off the GPU until they fit. llama.cpp's own reserve
// beyond its buffers (CUDA's context, cuBLAS, the pool) is not in what it measures, so target
// must leave room for it. Where the device has less free memory than target and gpuReserve,
// it fits what is free instead, and says so in the note. It returns llama.cpp's n_gpu_layers
// and the device it measured.
//
// llama_params_fit replaces llama.cpp's global logger while it runs and is not thread-safe: it
// runs under loadMu, like every load and context creation, and the binding's logger is
// installed again afterwards. A machine with no GPU gives an error without calling it; called
// anyway, it loads the model and returns having changed nothing.
func fitLayers(path string, cfg sessionConfig, sh contextShape, target uint64) (n int, dev Device, note string, err error) {
	dev, ok := firstGPU()
	if !ok {
		return 0, Device{}, "", fmt.Errorf("llama_params_fit: no GPU to measure on")
	}
	if dev.FreeBytes <= gpuReserve {
		return 0, dev, "", fmt.Errorf("llama_params_fit: %s has only %s free", dev.Name, formatBytes(dev.FreeBytes))
	}
	if target > dev.FreeBytes-gpuReserve {
		note = fmt.Sprintf("%s has %s free, less than the budget leaves for llama.cpp's buffers (%s) and CUDA's pool: planned for what is free", dev.Name, formatBytes(dev.FreeBytes), formatBytes(target))
		target = dev.FreeBytes - gpuReserve
	}
	n, err = paramsFit(path, cfg, sh, dev.FreeBytes-target)
	return n, dev, note, err
}

// firstGPU is the device llama.cpp places a model on with SplitNone and main GPU 0: the first
// GPU, or the first integrated GPU where there is none.
func firstGPU() (Device, bool) {
	devs, err := Devices()
	if err != nil {
		return Device{}, false
	}
	for _, want := range []DeviceType{DeviceGPU, DeviceIGPU} {
		for _, d := range devs {
			if d.Type == want {
				return d, true
			}
		}
	}
	return Device{}, false
}

// paramsFit calls llama_params_fit for the model at path on the first GPU, leaving margin
// bytes of the device's free memory unused, and returns the n_gpu_layers it chose: llama.cpp's
// default (all of them) where everything fits as it is. The reason llama.cpp gives for a
// failure is the error.
func paramsFit(path string, cfg sessionConfig, sh contextShape, margin uint64) (int, error) {
	if err := ensureBackend(); err != nil {
		return 0, err
	}
	mparams := C.llama_model_default_params()
	if HasGPU() {
		// The first GPU alone, as Plan.ModelOptions loads it. llama.cpp refuses the load where
		// there is no GPU for main_gpu to name.
		mparams.split_mode = C.LLAMA_SPLIT_MODE_NONE
		mparams.main_gpu = 0
	}
	cparams := contextParams(cfg, sh)
	split := (*C.float)(C.calloc(C.llama_max_devices(), C.size_t(unsafe.Sizeof(C.float(0)))))
	defer C.free(unsafe.Pointer(split))
	overrides := (*C.struct_llama_model_tensor_buft_override)(C.calloc(C.llama_max_tensor_buft_overrides(),
		C.size_t(unsafe.Sizeof(C.struct_llama_model_tensor_buft_override{}))))
	defer C.free(unsafe.Pointer(overrides))
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))

	loadMu.Lock()
	stop := captureLog()
	ok := C.llmb_params_fit(cpath, &mparams, &cparams, split, overrides, C.size_t(margin), cparams.n_ctx, C.GGML_LOG_LEVEL_ERROR)
	lines := stop()
	loadMu.Unlock()
	if !ok {
		return 0, fmt.Errorf("llama_params_fit: %s", explain(lines, "it could not fit the model"))
	}
	if overrides.pattern != nil {
		// Parts of layers moved by tensor pattern, as it does for mixtures of experts: a
		// placement that n_gpu_layers alone cannot give.
		return 0, fmt.Errorf("llama_params_fit: it split layers between devices, which a plan does not carry")
	}
	return int(mparams.n_gpu_layers), nil
}
