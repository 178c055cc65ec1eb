package llama

// #include "helpers.h"
import "C"

import "unsafe"

// argmax is the greedy pick over logits, as the generation loop makes it; tests compare it
// with a plain loop.
func argmax(logits []float32) int32 {
	if len(logits) == 0 {
		return -1
	}
	return int32(C.llmb_argmax_f32((*C.float)(unsafe.Pointer(&logits[0])), C.int32_t(len(logits))))
}
