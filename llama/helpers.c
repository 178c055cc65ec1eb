#include "helpers.h"

#include <string.h>

extern void llmbLog(int level, char * text);
extern void llmbAbortMessage(char * text);

static void llmb_log(enum ggml_log_level level, const char * text, void * user_data) {
    (void) user_data;
    llmbLog((int) level, (char *) text);
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

bool llmb_abort_cb(void * data) {
    return __atomic_load_n((const int32_t *) data, __ATOMIC_RELAXED) != 0;
}

int32_t llmb_argmax(struct llama_context * ctx, int32_t idx, int32_t n_vocab) {
    const float * logits = llama_get_logits_ith(ctx, idx);
    if (logits == NULL || n_vocab <= 0) {
        return -1;
    }
    int32_t best = 0;
    float max = logits[0];
    for (int32_t i = 1; i < n_vocab; i++) {
        if (logits[i] > max) {
            max = logits[i];
            best = i;
        }
    }
    return best;
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

void llmb_flag_set(int32_t * flag, int32_t v) {
    __atomic_store_n(flag, v, __ATOMIC_RELAXED);
}

int32_t llmb_flag_get(const int32_t * flag) {
    return __atomic_load_n(flag, __ATOMIC_RELAXED);
}
