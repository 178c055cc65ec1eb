#include "helpers.h"

#include <dlfcn.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void llmbLog(int level, char * text, int64_t tid);
extern void llmbAbortMessage(char * text);
extern void llmbTrip(uintptr_t handle);

int64_t llmb_tid(void) {
    return (int64_t) syscall(SYS_gettid);
}

static void llmb_log(enum ggml_log_level level, const char * text, void * user_data) {
    (void) user_data;
    llmbLog((int) level, (char *) text, llmb_tid());
}

void llmb_install_log(void) {
    llama_log_set(llmb_log, NULL);
}

static void llmb_abort_hook(const char * message) {
    llmbAbortMessage((char *) message);
}

void llmb_install_abort_hook(void) {
    ggml_set_abort_callback(llmb_abort_hook);
}

bool llmb_route_loaded_base(const char * soname) {
    void * lib = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
    if (lib == NULL) {
        return false;
    }
    void (*log_set)(ggml_log_callback, void *) = (void (*)(ggml_log_callback, void *)) dlsym(lib, "ggml_log_set");
    ggml_abort_callback_t (*abort_set)(ggml_abort_callback_t) = (ggml_abort_callback_t (*)(ggml_abort_callback_t)) dlsym(lib, "ggml_set_abort_callback");
    if (log_set != NULL) {
        log_set(llmb_log, NULL);
    }
    if (abort_set != NULL) {
        abort_set(llmb_abort_hook);
    }
    dlclose(lib);
    return log_set != NULL;
}

bool llmb_abort_cb(void * data) {
    llmb_abort * a = (llmb_abort *) data;
    const int64_t n = __atomic_add_fetch(&a->polls, 1, __ATOMIC_RELAXED);
    if (a->trip_at != 0 && n == a->trip_at) {
        llmbTrip(a->trip_handle);
        __atomic_store_n(&a->cancel, 1, __ATOMIC_RELAXED);
    }
    return __atomic_load_n(&a->cancel, __ATOMIC_RELAXED) != 0 || __atomic_load_n(&a->closed, __ATOMIC_RELAXED) != 0;
}

int64_t llmb_polls(const llmb_abort * a) {
    return __atomic_load_n(&a->polls, __ATOMIC_RELAXED);
}

#if defined(__AVX2__)
#include <immintrin.h>

// argmax_avx2 keeps, in each lane of four interleaved accumulators, the first largest value
// it has seen and its index; the lanes are then merged, ties going to the smaller index. NaNs
// never win a strict comparison, as in the scalar loop; a NaN first element is handled by the
// caller.
static int32_t argmax_avx2(const float * l, int32_t n) {
    __m256 best[4];
    __m256i bidx[4];
    __m256i idx[4];
    for (int k = 0; k < 4; k++) {
        best[k] = _mm256_set1_ps(l[0]);
        bidx[k] = _mm256_setzero_si256();
        idx[k] = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(8 * k));
    }
    const __m256i step = _mm256_set1_epi32(32);
    int32_t i = 0;
    for (; i + 32 <= n; i += 32) {
        for (int k = 0; k < 4; k++) {
            const __m256 v = _mm256_loadu_ps(l + i + 8 * k);
            const __m256 gt = _mm256_cmp_ps(v, best[k], _CMP_GT_OQ);
            best[k] = _mm256_blendv_ps(best[k], v, gt);
            bidx[k] = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bidx[k]), _mm256_castsi256_ps(idx[k]), gt));
            idx[k] = _mm256_add_epi32(idx[k], step);
        }
    }
    float bv[32];
    int32_t bi[32];
    for (int k = 0; k < 4; k++) {
        _mm256_storeu_ps(bv + 8 * k, best[k]);
        _mm256_storeu_si256((__m256i *) (bi + 8 * k), bidx[k]);
    }
    float max = bv[0];
    int32_t b = bi[0];
    for (int k = 1; k < 32; k++) {
        if (bv[k] > max || (bv[k] == max && bi[k] < b)) {
            max = bv[k];
            b = bi[k];
        }
    }
    for (; i < n; i++) {
        if (l[i] > max) {
            max = l[i];
            b = i;
        }
    }
    return b;
}
#endif

int32_t llmb_argmax_f32(const float * logits, int32_t n) {
    if (logits == NULL || n <= 0) {
        return -1;
    }
    // llama.cpp's greedy sampler keeps the first element unless another is strictly larger.
    if (logits[0] != logits[0]) {
        return 0;
    }
#if defined(__AVX2__)
    return argmax_avx2(logits, n);
#else
    int32_t best = 0;
    float max = logits[0];
    for (int32_t i = 1; i < n; i++) {
        if (logits[i] > max) {
            max = logits[i];
            best = i;
        }
    }
    return best;
#endif
}

int32_t llmb_argmax(struct llama_context * ctx, int32_t idx, int32_t n_vocab) {
    return llmb_argmax_f32(llama_get_logits_ith(ctx, idx), n_vocab);
}

void llmb_batch_fill(struct llama_batch * batch, const int32_t * tokens, int32_t n, int32_t pos0, bool want_logits) {
    for (int32_t i = 0; i < n; i++) {
        batch->token[i] = tokens[i];
        batch->pos[i] = pos0 + i;
        batch->n_seq_id[i] = 1;
        batch->seq_id[i][0] = 0;
        batch->logits[i] = 0;
    }
    if (n > 0 && want_logits) {
        batch->logits[n - 1] = 1;
    }
    batch->n_tokens = n;
}

void llmb_batch_fill_seqs(struct llama_batch * batch, const int32_t * tokens, const int32_t * pos, const int32_t * seq, const int8_t * logits, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        batch->token[i] = tokens[i];
        batch->pos[i] = pos[i];
        batch->n_seq_id[i] = 1;
        batch->seq_id[i][0] = seq[i];
        batch->logits[i] = logits[i];
    }
    batch->n_tokens = n;
}

void llmb_logits_rows(struct llama_context * ctx, const int32_t * idx, float ** out, int32_t n) {
    for (int32_t k = 0; k < n; k++) {
        out[k] = llama_get_logits_ith(ctx, idx[k]);
    }
}

float llmb_top2_margin(struct llama_context * ctx, int32_t idx, int32_t n_vocab) {
    const float * l = llama_get_logits_ith(ctx, idx);
    if (l == NULL || n_vocab < 2) {
        return 0;
    }
    float a = l[0] > l[1] ? l[0] : l[1];
    float b = l[0] > l[1] ? l[1] : l[0];
    for (int32_t i = 2; i < n_vocab; i++) {
        if (l[i] > a) {
            b = a;
            a = l[i];
        } else if (l[i] > b) {
            b = l[i];
        }
    }
    return a - b;
}

void llmb_flag_set(int32_t * flag, int32_t v) {
    __atomic_store_n(flag, v, __ATOMIC_RELAXED);
}

int32_t llmb_flag_get(const int32_t * flag) {
    return __atomic_load_n(flag, __ATOMIC_RELAXED);
}

// The functions the linker's --wrap renames; see llmb_init_context.
void __real_ggml_backend_free(ggml_backend_t backend);
void __real_ggml_backend_sched_free(ggml_backend_sched_t sched);

// The deferred backends are kept per thread: a context is made or freed by one C call on one
// thread, which defers the backends freed meanwhile and frees them once its scheduler is gone,
// so the backends of contexts freed at once on other threads never mix with its own. depth is
// nonzero only inside llmb_init_context and llmb_free_context: elsewhere the wrapped functions
// do what they always do.
#define LLMB_MAX_DEFERRED 64
static __thread ggml_backend_t deferred[LLMB_MAX_DEFERRED];
static __thread int n_deferred;
static __thread int depth;
static int64_t live_contexts;

void __wrap_ggml_backend_free(ggml_backend_t backend) {
    if (backend != NULL && depth > 0 && n_deferred < LLMB_MAX_DEFERRED) {
        deferred[n_deferred++] = backend;
        return;
    }
    __real_ggml_backend_free(backend);
}

static void llmb_free_deferred_backends(void) {
    for (int i = 0; i < n_deferred; i++) {
        __real_ggml_backend_free(deferred[i]);
    }
    n_deferred = 0;
}

void __wrap_ggml_backend_sched_free(ggml_backend_sched_t sched) {
    __real_ggml_backend_sched_free(sched);
    if (depth > 0) {
        llmb_free_deferred_backends();
    }
}

struct llama_context * llmb_init_context(struct llama_model * model, struct llama_context_params params) {
    depth++;
    struct llama_context * ctx = llama_init_from_model(model, params);
    llmb_free_deferred_backends(); // those of a context that failed part way
    depth--;
    if (ctx != NULL) {
        __atomic_add_fetch(&live_contexts, 1, __ATOMIC_RELAXED);
    }
    return ctx;
}

void llmb_free_context(struct llama_context * ctx) {
    if (ctx == NULL) {
        return;
    }
    depth++;
    llama_free(ctx);
    llmb_free_deferred_backends();
    depth--;
    __atomic_sub_fetch(&live_contexts, 1, __ATOMIC_RELAXED);
}

bool llmb_params_fit(const char * path_model, struct llama_model_params * mparams,
                     struct llama_context_params * cparams, float * tensor_split,
                     struct llama_model_tensor_buft_override * tensor_buft_overrides,
                     size_t margin, uint32_t n_ctx_min, enum ggml_log_level log_level) {
    depth++;
    bool ok = llama_params_fit(path_model, mparams, cparams, tensor_split, tensor_buft_overrides, margin, n_ctx_min, log_level);
    llmb_free_deferred_backends();
    depth--;
    llmb_install_log();
    return ok;
}

int64_t llmb_live_contexts(void) {
    return __atomic_load_n(&live_contexts, __ATOMIC_RELAXED);
}

int llmb_free_backend_deferred(bool in_call) {
    ggml_backend_t backend = ggml_backend_init_by_type(GGML_BACKEND_DEVICE_TYPE_CPU, NULL);
    if (backend == NULL) {
        return -1;
    }
    if (in_call) {
        depth++;
    }
    ggml_backend_free(backend);
    const int n = n_deferred;
    if (in_call) {
        llmb_free_deferred_backends();
        depth--;
    }
    return n;
}

// Why: the pinned module's ggml (ollama's patch 0001) leaves deleting a buffer's struct to the
// buffer's own free_buffer, and the dummy buffers ggml makes for zero-size allocations have
// none, so each one leaked. llama.cpp makes one per weight tensor at every load, and the
// leaked pieces fragmented the heap: the resident set grew by about 40 KB a load. free_buffer
// is the first field of struct ggml_backend_buffer (ggml-backend-impl.h); the struct comes
// from new in ggml_backend_buffer_init and is trivially destructible, so buffer_free.cpp
// gives its memory back with operator delete. A buffer whose free_buffer is set is left to
// the real function, so the wrap changes nothing else for any code of the program; a test
// checks the layout against the pinned internal header.
void __real_ggml_backend_buffer_free(ggml_backend_buffer_t buffer);
extern void llmb_delete_buffer(void * buffer);

void __wrap_ggml_backend_buffer_free(ggml_backend_buffer_t buffer) {
    if (buffer != NULL && *(void (**)(ggml_backend_buffer_t)) buffer == NULL) {
        llmb_delete_buffer(buffer);
        return;
    }
    __real_ggml_backend_buffer_free(buffer);
}
