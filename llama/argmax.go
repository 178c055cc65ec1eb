package llama

// #include "helpers.h"
import "C"

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// argmax is the greedy pick over logits, as the generation loop makes it; tests compare it
// with a plain loop.
func argmax(logits []float32) int32 {
	if len(logits) == 0 {
		return -1
	}
	return int32(C.llmb_argmax_f32((*C.float)(unsafe.Pointer(&logits[0])), C.int32_t(len(logits))))
}

// A Server step's greedy picks read every stream's row of logits: 32 streams of a model with
// a vocabulary of 256k tokens are 31 MiB. Read on one core, they kept 16.9% of the wall time
// outside llama_decode for the Gemma-2-2B twin on an H200 (examples/servecheck, 32 streams).
// Once a step holds at least argmaxSplitMin logits, the rows are shared out among
// argmaxWorkers goroutines (GOMAXPROCS when 0); llama.cpp's threads are idle then, between
// two decodes.
var (
	argmaxSplitMin atomic.Int64 // 1 << 18 (see init)
	argmaxWorkers  atomic.Int64
	argmaxSplits   atomic.Int64 // steps whose rows were shared out, for tests
)

func init() { argmaxSplitMin.Store(1 << 18) }

// greedyRows writes into picks[k] the argmax of the logits of batch output rows[k] of ctx,
// whose last decode has been synchronized. ptrs is scratch space and is returned, grown.
func greedyRows(ctx *C.struct_llama_context, rows, picks []int32, nVocab int, ptrs []*C.float) []*C.float {
	n := len(rows)
	if cap(ptrs) < n {
		ptrs = make([]*C.float, n)
	}
	ptrs = ptrs[:n]
	// The rows' addresses are taken one after the other: the first call puts llama.cpp's
	// outputs back in batch order, which must not run twice at once.
	C.llmb_logits_rows(ctx, (*C.int32_t)(unsafe.Pointer(&rows[0])), (**C.float)(unsafe.Pointer(&ptrs[0])), C.int32_t(n))
	pick := func(k int) { picks[k] = int32(C.llmb_argmax_f32(ptrs[k], C.int32_t(nVocab))) }
	workers := min(n, int(argmaxWorkers.Load()))
	if workers == 0 {
		workers = min(n, runtime.GOMAXPROCS(0))
	}
	if workers < 2 || int64(n*nVocab) < argmaxSplitMin.Load() {
		for k := range n {
			pick(k)
		}
		return ptrs
	}
	argmaxSplits.Add(1)
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(func() {
			for k := w; k < n; k += workers {
				pick(k)
			}
		})
	}
	for k := 0; k < n; k += workers {
		pick(k)
	}
	wg.Wait()
	return ptrs
}
