/* engine/quant_neon.c — aarch64 kernels (compiled only on aarch64) at three levels chosen at
 * run time from the hwcaps: NEON (Armv8.0, widening multiplies), NEON + dotprod (sdot, the
 * functions compiled for armv8.2-a+dotprod) and + i8mm (smmla, HWCAP2_I8MM). Dot products for
 * F32, F16, Q4_0, Q8_0, Q4_K, Q6_K, IQ4_NL, IQ4_XS, MXFP4 (the integer ones in
 * quant_neon_kern.h, once per level; i8mm uses dotprod's) and the F16 helpers; the batched
 * kernels of the repacked Q4_0x16, Q8_0x16, MXFP4x16, Q4_Kx16 and Q6_Kx16 layouts (quant_neon_rp.h:
 * lane dots, smmla at i8mm), so ARM repacks those types at load; the tiles of IQ4_NL (2x4),
 * IQ4_XS and MXFP4 (4x4: the batches of the matrices not repacked, each (r, c) the vec_dot's
 * bits); the other types keep the scalar kernels. Tested against the scalar references by make
 * test-arm (cross-built, run under qemu-user with CPUs with and without dotprod).
 * Pure; any thread. */
#include "quant_impl.h"

#if defined(__aarch64__)

#include <arm_neon.h>
#if defined(__linux__)
#include <sys/auxv.h>
#endif

/* A half as a float by the FPU's conversion (exact; as x86's kernels use F16C's): the kernels'
 * QH2F, an inline instruction where quant_f16_to_f32 is a call, around which the tiles' vector
 * accumulators would be spilled (the caller-saved registers). */
static inline float neon_h2f(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}
#undef QH2F
#define QH2F(h) neon_h2f(h)

/* The 32 values of 16 bytes of 4-bit indices through the table kv: lo (low nibbles, values
 * 0..15) and hi (high nibbles, 16..31). */
static inline void neon_tbl4(int8x16_t kv, const uint8_t *qs, int8x16_t *lo, int8x16_t *hi) {
    const uint8x16_t b = vld1q_u8(qs);
    *lo = vqtbl1q_s8(kv, vandq_u8(b, vdupq_n_u8(0x0F)));
    *hi = vqtbl1q_s8(kv, vshrq_n_u8(b, 4));
}

/* The sum of 8 float lanes a (0..3) and b (4..7) in x86's hsum8 order:
 * ((a0 + b0) + (a2 + b2)) + ((a1 + b1) + (a3 + b3)). */
static inline float neon_hsum8(float32x4_t a, float32x4_t b) {
    const float32x4_t t = vaddq_f32(a, b);
    const float32x2_t u = vadd_f32(vget_low_f32(t), vget_high_f32(t));
    return vget_lane_f32(u, 0) + vget_lane_f32(u, 1);
}

/* acc's lane i += the dot of w's bytes 4i..4i+3 with b's same bytes (lane-exact, unlike
 * neon_dot_widen's sums, for the repacked layouts' one row per lane and IQ4_NL's lanes) */
static inline int32x4_t neon_dot4_widen(int32x4_t acc, int8x16_t w, int8x16_t b) {
    const int32x4_t p0 = vpaddlq_s16(vmull_s8(vget_low_s8(w), vget_low_s8(b)));
    const int32x4_t p1 = vpaddlq_s16(vmull_high_s8(w, b));
    return vaddq_s32(acc, vpaddq_s32(p0, p1));
}

/* The 4-bit table types' block parts for tbl4_tile_n (quant_neon_kern.h; K: MXFP4 against
 * Q8_0 or IQ4_XS against Q8_K, constant where inlined): values per block, the table, block i's
 * 16 bytes of sub-block ib, its integer scale and float scale, the column's. */
static inline int ntbl4_block(int K) { return K == GGML_TYPE_IQ4_XS ? QK_K : QK_MXFP4; }
static inline const int8_t *ntbl4_values(int K) {
    return K == GGML_TYPE_MXFP4 ? quant_kvalues_mxfp4 : quant_kvalues_iq4nl;
}
static inline const uint8_t *ntbl4_qs(const char *x, int K, int i, int ib) {
    return K == GGML_TYPE_IQ4_XS ? ((const block_iq4_xs *)x)[i].qs + 16 * ib
                                 : ((const block_mxfp4 *)x)[i].qs;
}
static inline int ntbl4_scale(const char *x, int K, int i, int ib) {
    return K == GGML_TYPE_IQ4_XS ? quant_iq4_xs_scale((const block_iq4_xs *)x + i, ib) : 1;
}
static inline float ntbl4_d(const char *x, int K, int i) {
    return K == GGML_TYPE_IQ4_XS ? QH2F(((const block_iq4_xs *)x)[i].d)
                                 : quant_e8m0_half(((const block_mxfp4 *)x)[i].e);
}
static inline const int8_t *ntbl4_y_qs(const char *y, int K, int i) {
    return K == GGML_TYPE_IQ4_XS ? ((const block_q8_K *)y)[i].qs : ((const block_q8_0 *)y)[i].qs;
}
static inline float ntbl4_y_d(const char *y, int K, int i) {
    return K == GGML_TYPE_IQ4_XS ? ((const block_q8_K *)y)[i].d
                                 : QH2F(((const block_q8_0 *)y)[i].d);
}

static void f32_vec_dot_neon(int n, float *s, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    float32x4_t a0 = vdupq_n_f32(0), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = vfmaq_f32(a0, vld1q_f32(x + i), vld1q_f32(y + i));
        a1 = vfmaq_f32(a1, vld1q_f32(x + i + 4), vld1q_f32(y + i + 4));
        a2 = vfmaq_f32(a2, vld1q_f32(x + i + 8), vld1q_f32(y + i + 8));
        a3 = vfmaq_f32(a3, vld1q_f32(x + i + 12), vld1q_f32(y + i + 12));
    }
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
    for (; i < n; i++) sum += x[i] * y[i];
    *s = sum;
}

static inline float32x4_t neon_ld_f16(const uint16_t *p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

static void f16_vec_dot_neon(int n, float *s, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    float32x4_t a0 = vdupq_n_f32(0), a1 = a0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 = vfmaq_f32(a0, neon_ld_f16(x + i), neon_ld_f16(y + i));
        a1 = vfmaq_f32(a1, neon_ld_f16(x + i + 4), neon_ld_f16(y + i + 4));
    }
    float sum = vaddvq_f32(vaddq_f32(a0, a1));
    for (; i < n; i++) sum += quant_f16_to_f32(x[i]) * quant_f16_to_f32(y[i]);
    *s = sum;
}

static float f16_dot_f32_neon(int n, const uint16_t *x, const float *y) {
    float32x4_t a0 = vdupq_n_f32(0), a1 = a0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 = vfmaq_f32(a0, neon_ld_f16(x + i), vld1q_f32(y + i));
        a1 = vfmaq_f32(a1, neon_ld_f16(x + i + 4), vld1q_f32(y + i + 4));
    }
    float sum = vaddvq_f32(vaddq_f32(a0, a1));
    for (; i < n; i++) sum += quant_f16_to_f32(x[i]) * y[i];
    return sum;
}

static void f16_axpy_neon(int n, float a, const uint16_t *x, float *y) {
    int i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), neon_ld_f16(x + i), a));
    for (; i < n; i++) y[i] = fmaf(a, quant_f16_to_f32(x[i]), y[i]);
}

static void f16_to_f32_neon(const uint16_t *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, neon_ld_f16(x + i));
    for (; i < n; i++) y[i] = quant_f16_to_f32(x[i]);
}

static void f32_to_f16_neon(const float *x, uint16_t *y, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1_u16(y + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(x + i))));
    for (; i < n; i++) y[i] = quant_f32_to_f16(x[i]);
}

/* ---- Armv8.0 NEON: the 4-byte dots with widening multiplies ---- */
static inline int32x4_t neon_dot_widen(int32x4_t acc, int8x16_t a, int8x16_t b) {
    const int16x8_t p0 = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t p1 = vmull_high_s8(a, b);
    return vaddq_s32(acc, vaddq_s32(vpaddlq_s16(p0), vpaddlq_s16(p1)));
}
#define NSUF(name) name##_neon
#define NATTR static
#define NDOT(acc, a, b) neon_dot_widen((acc), (a), (b))
#define NDOT4(acc, a, b) neon_dot4_widen((acc), (a), (b))
#include "quant_neon_kern.h"
#undef NDOT
#undef NDOT4
#define NMMLA 0
#define NLANE(acc, w, y, l) \
    neon_dot4_widen((acc), (w), vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(y), (l))))
#define NLANE_ROLLED 1
#include "quant_neon_rp.h"
#undef NLANE_ROLLED
#undef NSUF
#undef NATTR
#undef NLANE

/* ---- Armv8.2 dotprod: sdot (arm_neon.h defines it under its own target pragma) ---- */
#define NSUF(name) name##_dot
#define NATTR static __attribute__((target("arch=armv8.2-a+dotprod")))
#define NDOT(acc, a, b) vdotq_s32((acc), (a), (b))
#define NDOT4(acc, a, b) vdotq_s32((acc), (a), (b))
#include "quant_neon_kern.h"
#undef NDOT
#undef NDOT4
#define NLANE(acc, w, y, l) vdotq_laneq_s32((acc), (w), (y), (l))
#include "quant_neon_rp.h"
#undef NSUF
#undef NATTR
#undef NLANE
#undef NMMLA

/* ---- Armv8.6 i8mm: smmla (2 rows x 2 columns x 8 values) for the repacked layouts ---- */
#define NSUF(name) name##_i8mm
#define NATTR static __attribute__((target("arch=armv8.2-a+dotprod+i8mm")))
#define NMMLA 1
#include "quant_neon_rp.h"
#undef NSUF
#undef NATTR
#undef NMMLA

#define NSET(sfx, rp)                                                                      \
    {                                                                                      \
        .vec_dot = {                                                                       \
            [GGML_TYPE_F32] = f32_vec_dot_neon, [GGML_TYPE_F16] = f16_vec_dot_neon,        \
            [GGML_TYPE_Q4_0] = q4_0_vec_dot_##sfx, [GGML_TYPE_Q8_0] = q8_0_vec_dot_##sfx,  \
            [GGML_TYPE_Q4_K] = q4_K_vec_dot_##sfx, [GGML_TYPE_Q6_K] = q6_K_vec_dot_##sfx,  \
            [GGML_TYPE_IQ4_NL] = iq4_nl_vec_dot_##sfx,                                     \
            [GGML_TYPE_IQ4_XS] = iq4_xs_vec_dot_##sfx,                                     \
            [GGML_TYPE_MXFP4] = mxfp4_vec_dot_##sfx,                                       \
        },                                                                                 \
        .tile = {                                                                          \
            [GGML_TYPE_IQ4_NL] = iq4_nl_tile_##sfx, [GGML_TYPE_IQ4_XS] = iq4_xs_tile_##sfx, \
            [GGML_TYPE_MXFP4] = mxfp4_tile_##sfx,                                          \
        },                                                                                 \
        .f16_dot_f32 = f16_dot_f32_neon, .f16_axpy = f16_axpy_neon,                        \
        .f16_to_f32 = f16_to_f32_neon, .f32_to_f16 = f32_to_f16_neon,                      \
        .rp_gemm = {                                                                       \
            [GGML_TYPE_Q4_0] = q4_0x16_gemm_##rp, [GGML_TYPE_Q8_0] = q8_0x16_gemm_##rp,    \
            [GGML_TYPE_MXFP4] = mxfp4x16_gemm_##rp, [GGML_TYPE_Q4_K] = q4_Kx16_gemm_##rp,  \
            [GGML_TYPE_Q6_K] = q6_Kx16_gemm_##rp,                                          \
        },                                                                                 \
    }

static const struct quant_kernels quant_kernels_neon_set = NSET(neon, neon);
static const struct quant_kernels quant_kernels_dot_set = NSET(dot, dot);
static const struct quant_kernels quant_kernels_i8mm_set = NSET(dot, i8mm);

/* sdot from the kernel's hwcaps (HWCAP_ASIMDDP, bit 20 of AT_HWCAP on aarch64 Linux). */
static int quant_neon_has_dotprod(void) {
#if defined(__linux__)
    return (getauxval(AT_HWCAP) & (1ul << 20)) != 0;
#else
    return 0;
#endif
}

/* smmla from HWCAP2_I8MM (bit 13 of AT_HWCAP2); the level wants dotprod too. */
static int quant_neon_has_i8mm(void) {
#if defined(__linux__)
    return quant_neon_has_dotprod() && (getauxval(AT_HWCAP2) & (1ul << 13)) != 0;
#else
    return 0;
#endif
}

enum quant_level quant_level_detect(void) {
    if (quant_neon_has_i8mm()) return QUANT_NEON_I8MM;
    return quant_neon_has_dotprod() ? QUANT_NEON_DOTPROD : QUANT_NEON;
}

const struct quant_kernels *quant_kernels_neon(enum quant_level lv) {
    if (lv == QUANT_NEON) return &quant_kernels_neon_set;
    if (lv == QUANT_NEON_DOTPROD && quant_neon_has_dotprod()) return &quant_kernels_dot_set;
    if (lv == QUANT_NEON_I8MM && quant_neon_has_i8mm()) return &quant_kernels_i8mm_set;
    return NULL;
}

#else

const struct quant_kernels *quant_kernels_neon(enum quant_level lv) {
    (void)lv;
    return NULL;
}

#endif
