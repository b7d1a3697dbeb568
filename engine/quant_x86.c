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

#include <immintrin.h>
#include <pthread.h>

/* ---- AVX2 + FMA + F16C ---- */
#define KSUF(name) name##_avx2
#define KATTR static __attribute__((target("avx2,fma,f16c")))
#define DPB(acc, u, s) \
    _mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), _mm256_set1_epi16(1)))
#include "quant_x86_kern.h"
#undef KSUF
#undef KATTR
#undef DPB

/* ---- AVX-512 VL + VNNI (256-bit vectors, 32 registers) ---- */
#define KSUF(name) name##_vnni
#define KATTR static __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define DPB(acc, u, s) _mm256_dpbusd_epi32((acc), (u), (s))
#define KTILES 1
#include "quant_x86_kern.h"
#undef KTILES
#undef KSUF
#undef KATTR
#undef DPB

#define KSET(sfx)                                                                           \
    {                                                                                       \
        .vec_dot = {                                                                        \
            [GGML_TYPE_F32] = f32_vec_dot_##sfx, [GGML_TYPE_F16] = f16_vec_dot_##sfx,       \
            [GGML_TYPE_BF16] = bf16_vec_dot_##sfx, [GGML_TYPE_Q4_0] = q4_0_vec_dot_##sfx,   \
            [GGML_TYPE_Q4_1] = q4_1_vec_dot_##sfx, [GGML_TYPE_Q5_0] = q5_0_vec_dot_##sfx,   \
            [GGML_TYPE_Q5_1] = q5_1_vec_dot_##sfx, [GGML_TYPE_Q8_0] = q8_0_vec_dot_##sfx,   \
            [GGML_TYPE_Q2_K] = q2_K_vec_dot_##sfx, [GGML_TYPE_Q3_K] = q3_K_vec_dot_##sfx,   \
            [GGML_TYPE_Q4_K] = q4_K_vec_dot_##sfx, [GGML_TYPE_Q5_K] = q5_K_vec_dot_##sfx,   \
            [GGML_TYPE_Q6_K] = q6_K_vec_dot_##sfx, [GGML_TYPE_IQ4_NL] = iq4_nl_vec_dot_##sfx, \
            [GGML_TYPE_IQ4_XS] = iq4_xs_vec_dot_##sfx,                                      \
        },                                                                                  \
        .f16_dot_f32 = f16_dot_f32_##sfx, .f16_axpy = f16_axpy_##sfx,                       \
        .f16_to_f32 = f16_to_f32_##sfx, .f32_to_f16 = f32_to_f16_##sfx,                     \
        .q8_0_from_float = q8_0_from_float_##sfx, .q8_1_from_float = q8_1_from_float_##sfx, \
    }

static const struct quant_kernels quant_kernels_avx2 = KSET(avx2);
static const struct quant_kernels quant_kernels_vnni_base = KSET(vnni);
static struct quant_kernels quant_kernels_vnni;
static pthread_once_t quant_vnni_once = PTHREAD_ONCE_INIT;

static void quant_vnni_init(void) {
    quant_kernels_vnni = quant_kernels_vnni_base;
    quant_kernels_vnni.tile[GGML_TYPE_Q4_0] = q4_0_tile_vnni;
    quant_kernels_vnni.tile[GGML_TYPE_Q8_0] = q8_0_tile_vnni;
    quant_kernels_vnni.tile[GGML_TYPE_Q5_0] = q5_0_tile_vnni;
    quant_kernels_vnni.tile[GGML_TYPE_IQ4_NL] = iq4_nl_tile_vnni;
    quant_kernels_vnni.tile[GGML_TYPE_Q4_K] = q4_K_tile_vnni;
    quant_kernels_vnni.tile[GGML_TYPE_Q6_K] = q6_K_tile_vnni;
}

const struct quant_kernels *quant_kernels_x86(enum quant_level lv) {
    const enum quant_level have = quant_level_detect();
    if (lv == QUANT_SCALAR || lv == QUANT_NEON || lv > have) return NULL;
    if (lv == QUANT_AVX512VNNI) {
        pthread_once(&quant_vnni_once, quant_vnni_init);
        return &quant_kernels_vnni;
    }
    return &quant_kernels_avx2; /* AVX-512 without VNNI: the AVX2 kernels */
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
