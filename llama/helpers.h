// Small C helpers for the Go binding: trampolines for callbacks and the greedy fast path.
#ifndef LLMBENCH_HELPERS_H
#define LLMBENCH_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include "llamacpp.h"

// llmb_install_log routes llama.cpp's and ggml's log lines to the Go side.
void llmb_install_log(void);

// llmb_install_abort_hook makes a fatal ggml assertion say what failed through the Go log
// before the process ends: ggml aborts after the hook returns, nothing can resume it.
void llmb_install_abort_hook(void);

// llmb_route_loaded_base routes the log and abort message of a second copy of ggml's base
// library, loaded by a GPU backend module (libggml-base.so beside libggml-cuda.so), the way
// llmb_install_log and llmb_install_abort_hook route ours. It returns false when no such
// library is loaded.
bool llmb_route_loaded_base(const char * soname);

// llmb_init_context and llmb_free_context make and free a llama.cpp context, and then free
// the GPU backends whose ggml_backend_free was deferred on this thread.
//
// Why: the pinned module patches ggml_backend_sched_free to call each backend's reset, while
// llama_context frees its backends before its scheduler; with the CUDA backend that reset then
// runs on freed memory and crashes. The binding links with --wrap for ggml_backend_free and
// ggml_backend_sched_free: a GPU backend's free waits, in a list of the thread's own, until
// the scheduler is gone, or until the end of the call that made or freed the context.
struct llama_context * llmb_init_context(struct llama_model * model, struct llama_context_params params);
void llmb_free_context(struct llama_context * ctx);

// llmb_abort_cb is llama.cpp's abort callback: it returns true once *data is nonzero.
bool llmb_abort_cb(void * data);

// llmb_argmax returns the id of the largest logit of output idx, or -1 when there are none:
// the token llama.cpp's greedy sampler picks (the first of equal maxima; NaNs never win),
// without building its candidate array, which costs about a millisecond a token on a
// 256k-entry vocabulary.
int32_t llmb_argmax(struct llama_context * ctx, int32_t idx, int32_t n_vocab);

// llmb_argmax_f32 is llmb_argmax over an array: vectorized where AVX2 is there.
int32_t llmb_argmax_f32(const float * logits, int32_t n);

// llmb_batch_fill writes n tokens at positions pos0.. into batch for sequence 0, asking for
// logits of the last one only when want_logits is true.
void llmb_batch_fill(struct llama_batch * batch, const int32_t * tokens, int32_t n, int32_t pos0, bool want_logits);

// llmb_flag_set and llmb_flag_get store and load the abort flag atomically.
void llmb_flag_set(int32_t * flag, int32_t v);
int32_t llmb_flag_get(const int32_t * flag);
#endif
