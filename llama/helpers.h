// Small C helpers for the Go binding: trampolines for callbacks and the greedy fast path.
#ifndef LLMBENCH_HELPERS_H
#define LLMBENCH_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include "llamacpp.h"

// llmb_install_log routes llama.cpp's and ggml's log lines to the Go side, each with the id of
// the thread that logged it.
void llmb_install_log(void);

// llmb_tid is the calling thread's id, as the log callback reports it.
int64_t llmb_tid(void);

// llmb_install_abort_hook makes a fatal ggml assertion say what failed through the Go log
// before the process ends: ggml aborts after the hook returns, nothing can resume it.
void llmb_install_abort_hook(void);

// llmb_route_loaded_base routes the log and abort message of a second copy of ggml's base
// library, loaded by a GPU backend module (libggml-base.so beside libggml-cuda.so), the way
// llmb_install_log and llmb_install_abort_hook route ours. It returns false when no such
// library is loaded.
bool llmb_route_loaded_base(const char * soname);

// llmb_init_context and llmb_free_context make and free a llama.cpp context. The backends
// freed during either call are freed at its end, after the context's scheduler.
//
// Why: the pinned module patches ggml_backend_sched_free to call each backend's reset, while
// llama_context destroys its backends (the CPU backend too) before its scheduler (member order
// in llama-context.h), so that reset would read freed memory. The binding links with --wrap
// for ggml_backend_free and ggml_backend_sched_free: inside these calls a backend's free waits,
// in a list of the thread's own, until the scheduler is gone or the call ends. Outside them,
// and so for any other code of the program, both functions behave as they always do.
struct llama_context * llmb_init_context(struct llama_model * model, struct llama_context_params params);
void llmb_free_context(struct llama_context * ctx);

// llmb_params_fit is llama_params_fit inside the same deferral of backend frees as
// llmb_init_context (it makes and frees contexts to measure them), with the binding's logger
// installed again afterwards, since llama_params_fit replaces it.
bool llmb_params_fit(const char * path_model, struct llama_model_params * mparams,
                     struct llama_context_params * cparams, float * tensor_split,
                     struct llama_model_tensor_buft_override * tensor_buft_overrides,
                     size_t margin, uint32_t n_ctx_min, enum ggml_log_level log_level);

// llmb_abort is what llama.cpp's abort callback reads during a decode. cancel is raised when
// the call's context is done and lowered when the next call starts; closed is raised by Close
// and never lowered, so a Close that lands before a call starts watching is not lost.
typedef struct llmb_abort {
    int32_t cancel;
    int32_t closed;
    int64_t polls;   // times llama.cpp asked
    int64_t trip_at; // for tests: raise cancel at this poll and tell the Go side; 0: never
    uintptr_t trip_handle;
} llmb_abort;

// llmb_abort_cb is llama.cpp's abort callback over a struct llmb_abort.
bool llmb_abort_cb(void * data);

// llmb_live_contexts is the number of contexts made by llmb_init_context and not yet freed.
int64_t llmb_live_contexts(void);

// llmb_free_backend_deferred makes a CPU backend and frees it as if inside llmb_free_context
// (in_call) or as any other code of the program would, and returns how many frees were
// deferred right after (-1 when no backend could be made); the deferred ones are done before
// it returns. For tests.
int llmb_free_backend_deferred(bool in_call);

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

// llmb_batch_fill_seqs writes n tokens into batch, token i at position pos[i] of sequence
// seq[i], with its logits kept where logits[i] is nonzero.
void llmb_batch_fill_seqs(struct llama_batch * batch, const int32_t * tokens, const int32_t * pos, const int32_t * seq, const int8_t * logits, int32_t n);

// llmb_logits_rows writes into out[k] the logits of batch output idx[k] (NULL where there are
// none), for n outputs, so that the greedy picks of a step's streams can be read in parallel.
void llmb_logits_rows(struct llama_context * ctx, const int32_t * idx, float ** out, int32_t n);

// llmb_top2_margin is the largest logit of output idx minus the second largest: how far the
// greedy pick is from a tie. For tests.
float llmb_top2_margin(struct llama_context * ctx, int32_t idx, int32_t n_vocab);

// llmb_flag_set and llmb_flag_get store and load a flag of struct llmb_abort atomically.
void llmb_flag_set(int32_t * flag, int32_t v);
int32_t llmb_flag_get(const int32_t * flag);
int64_t llmb_polls(const llmb_abort * a);
#endif
