// Small C helpers for the Go binding: trampolines for callbacks and the greedy fast path.
#ifndef LLMBENCH_HELPERS_H
#define LLMBENCH_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include "llama.h"
#include "ggml-backend.h"

// llmb_install_log routes llama.cpp's and ggml's log lines to the Go side.
void llmb_install_log(void);

// llmb_install_abort_hook makes a fatal ggml assertion say what failed through the Go log
// before the process ends: ggml aborts after the hook returns, nothing can resume it.
void llmb_install_abort_hook(void);

// llmb_abort_cb is llama.cpp's abort callback: it returns true once *data is nonzero.
bool llmb_abort_cb(void * data);

// llmb_argmax returns the id of the largest logit of output idx, or -1 when there are none.
int32_t llmb_argmax(struct llama_context * ctx, int32_t idx, int32_t n_vocab);

// llmb_batch_fill writes n tokens at positions pos0.. into batch for sequence 0, asking for
// logits of the last one only when want_logits is true.
void llmb_batch_fill(struct llama_batch * batch, const int32_t * tokens, int32_t n, int32_t pos0, bool want_logits);

// llmb_flag_set and llmb_flag_get store and load the abort flag atomically.
void llmb_flag_set(int32_t * flag, int32_t v);
int32_t llmb_flag_get(const int32_t * flag);
#endif
