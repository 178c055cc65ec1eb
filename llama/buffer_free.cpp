// Deletes what ggml_backend_buffer_init made with new, for the wrapper in helpers.c.

#include <new>

extern "C" void llmb_delete_buffer(void * buffer) {
    ::operator delete(buffer);
}
