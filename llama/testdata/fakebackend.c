// A ggml backend module with one accelerator device that does nothing, for the registry test
// of package llama: every call of ggml_backend_init registers a new device, and while the
// second one is being registered, ggml_backend_reg_dev_get waits until a reader of the
// registry shows up (or about two seconds pass). Each device's description says whether a
// registration was under way when it was read.
#include <stdio.h>
#include <unistd.h>

#include "ggml-backend-impl.h"

#define MAX_REGS 8

static volatile int registering;
static volatile int overlap;
static int n_regs;
static struct ggml_backend_reg regs[MAX_REGS];
static struct ggml_backend_device devs[MAX_REGS];
static char desc[64];

static const char * dev_name(ggml_backend_dev_t dev) { (void) dev; return "FAKE"; }

static const char * dev_description(ggml_backend_dev_t dev) {
    (void) dev;
    if (registering) {
        overlap = 1;
    }
    snprintf(desc, sizeof desc, "read while registering: %s", registering ? "yes" : "no");
    return desc;
}

static void dev_memory(ggml_backend_dev_t dev, size_t * free, size_t * total) {
    (void) dev;
    *free = 1 << 20;
    *total = 1 << 20;
}

static enum ggml_backend_dev_type dev_type(ggml_backend_dev_t dev) {
    (void) dev;
    return GGML_BACKEND_DEVICE_TYPE_ACCEL;
}

static const char * reg_name(ggml_backend_reg_t reg) { (void) reg; return "FAKE"; }

static size_t reg_dev_count(ggml_backend_reg_t reg) { (void) reg; return 1; }

static ggml_backend_dev_t reg_dev_get(ggml_backend_reg_t reg, size_t index) {
    (void) index;
    int i = (int) (reg - regs);
    if (i == 1 && !registering && !overlap) {
        registering = 1;
        for (int waited = 0; waited < 2000 && !overlap; waited++) {
            usleep(1000);
        }
        registering = 0;
    }
    return &devs[i];
}

ggml_backend_reg_t ggml_backend_init(void) {
    if (n_regs == MAX_REGS) {
        return NULL;
    }
    int i = n_regs++;
    devs[i].iface.get_name = dev_name;
    devs[i].iface.get_description = dev_description;
    devs[i].iface.get_memory = dev_memory;
    devs[i].iface.get_type = dev_type;
    devs[i].reg = &regs[i];
    regs[i].api_version = GGML_BACKEND_API_VERSION;
    regs[i].iface.get_name = reg_name;
    regs[i].iface.get_device_count = reg_dev_count;
    regs[i].iface.get_device = reg_dev_get;
    return &regs[i];
}
