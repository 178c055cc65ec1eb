package llama

// #include <stdint.h>
import "C"

import "runtime/cgo"

// llmbTrip runs the function a test set to run at a given poll of the abort callback (see
// struct llmb_abort's trip_at): a clock made of llama.cpp's own progress, for tests that must
// cancel at a known point of a decode.
//
//export llmbTrip
func llmbTrip(h C.uintptr_t) {
	cgo.Handle(h).Value().(func())()
}
