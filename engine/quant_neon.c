/* engine/quant_neon.c — aarch64 NEON kernels (compiled only on aarch64; never run on the x86
 * development machine). Pure; any thread. */
#include "quant_impl.h"

#if defined(__aarch64__)

const struct quant_kernels *quant_kernels_neon(void) {
    return NULL;
}

#else

const struct quant_kernels *quant_kernels_neon(void) {
    return NULL;
}

#endif
