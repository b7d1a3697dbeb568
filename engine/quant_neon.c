/* engine/quant_neon.c — aarch64 NEON kernels (compiled only on aarch64): dot products for
 * F32, F16, Q4_0, Q8_0, Q4_K, Q6_K (sdot when the compiler targets +dotprod, widening
 * multiplies otherwise) and the F16 helpers; the other types keep the scalar kernels. Never run
 * on the x86-64 development machine (only syntax-checked with clang --target=aarch64), so the
 * SIMD-vs-scalar tests in tests/test_quant.c are what vouch for it on ARM. Pure; any thread. */
#include "quant_impl.h"

#if defined(__aarch64__)

#include <arm_neon.h>

#if defined(__ARM_FEATURE_DOTPROD)
#define NDOT(acc, a, b) vdotq_s32((acc), (a), (b))
#else
static inline int32x4_t neon_dot_fallback(int32x4_t acc, int8x16_t a, int8x16_t b) {
    const int16x8_t p0 = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t p1 = vmull_high_s8(a, b);
    return vaddq_s32(acc, vaddq_s32(vpaddlq_s16(p0), vpaddlq_s16(p1)));
}
#define NDOT(acc, a, b) neon_dot_fallback((acc), (a), (b))
#endif

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

static void q8_0_vec_dot_neon(int n, float *s, const void *vx, const void *vy) {
    const block_q8_0 *x = vx;
    const block_q8_0 *y = vy;
    float32x4_t acc = vdupq_n_f32(0);
    for (int i = 0; i < n / QK8_0; i++) {
        int32x4_t p = vdupq_n_s32(0);
        p = NDOT(p, vld1q_s8(x[i].qs), vld1q_s8(y[i].qs));
        p = NDOT(p, vld1q_s8(x[i].qs + 16), vld1q_s8(y[i].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), QH2F(x[i].d) * QH2F(y[i].d));
    }
    *s = vaddvq_f32(acc);
}

static void q4_0_vec_dot_neon(int n, float *s, const void *vx, const void *vy) {
    const block_q4_0 *x = vx;
    const block_q8_0 *y = vy;
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int8x16_t s8 = vdupq_n_s8(8);
    float32x4_t acc = vdupq_n_f32(0);
    for (int i = 0; i < n / QK4_0; i++) {
        const uint8x16_t b = vld1q_u8(x[i].qs);
        const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(b, m4)), s8);
        const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(b, 4)), s8);
        int32x4_t p = vdupq_n_s32(0);
        p = NDOT(p, lo, vld1q_s8(y[i].qs));
        p = NDOT(p, hi, vld1q_s8(y[i].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), QH2F(x[i].d) * QH2F(y[i].d));
    }
    *s = vaddvq_f32(acc);
}

static void q4_K_vec_dot_neon(int n, float *s, const void *vx, const void *vy) {
    const block_q4_K *x = vx;
    const block_q8_K *y = vy;
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        int isum = 0, summ = 0;
        for (int j = 0; j < 4; j++) {
            uint8_t sc0, m0, sc1, m1;
            quant_scale_min_k4(2 * j, x[i].scales, &sc0, &m0);
            quant_scale_min_k4(2 * j + 1, x[i].scales, &sc1, &m1);
            summ += m0 * (y[i].bsums[4 * j] + y[i].bsums[4 * j + 1]) +
                    m1 * (y[i].bsums[4 * j + 2] + y[i].bsums[4 * j + 3]);
            const uint8x16_t q0 = vld1q_u8(x[i].qs + 32 * j);
            const uint8x16_t q1 = vld1q_u8(x[i].qs + 32 * j + 16);
            const int8_t *q8 = y[i].qs + 64 * j;
            int32x4_t p0 = vdupq_n_s32(0), p1 = vdupq_n_s32(0);
            p0 = NDOT(p0, vreinterpretq_s8_u8(vandq_u8(q0, m4)), vld1q_s8(q8));
            p0 = NDOT(p0, vreinterpretq_s8_u8(vandq_u8(q1, m4)), vld1q_s8(q8 + 16));
            p1 = NDOT(p1, vreinterpretq_s8_u8(vshrq_n_u8(q0, 4)), vld1q_s8(q8 + 32));
            p1 = NDOT(p1, vreinterpretq_s8_u8(vshrq_n_u8(q1, 4)), vld1q_s8(q8 + 48));
            isum += sc0 * vaddvq_s32(p0) + sc1 * vaddvq_s32(p1);
        }
        sumf += y[i].d * QH2F(x[i].d) * (float)isum - y[i].d * QH2F(x[i].dmin) * (float)summ;
    }
    *s = sumf;
}

static void q6_K_vec_dot_neon(int n, float *s, const void *vx, const void *vy) {
    const block_q6_K *x = vx;
    const block_q8_K *y = vy;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m30 = vdupq_n_u8(0x30);
    const int8x16_t s32 = vdupq_n_s8(32);
    float sumf = 0.0f;
    for (int i = 0; i < n / QK_K; i++) {
        int isum = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = x[i].ql + 64 * h, *qh = x[i].qh + 32 * h;
            for (int k = 0; k < 2; k++) { /* the 16-byte halves of each 32-value group */
                const uint8x16_t l0 = vld1q_u8(ql + 16 * k), l1 = vld1q_u8(ql + 32 + 16 * k);
                const uint8x16_t hb = vld1q_u8(qh + 16 * k);
                uint8x16_t q[4];
                q[0] = vorrq_u8(vandq_u8(l0, m4), vandq_u8(vshlq_n_u8(hb, 4), m30));
                q[1] = vorrq_u8(vandq_u8(l1, m4), vandq_u8(vshlq_n_u8(hb, 2), m30));
                q[2] = vorrq_u8(vshrq_n_u8(l0, 4), vandq_u8(hb, m30));
                q[3] = vorrq_u8(vshrq_n_u8(l1, 4), vandq_u8(vshrq_n_u8(hb, 2), m30));
                for (int g = 0; g < 4; g++) {
                    const int8x16_t v = vsubq_s8(vreinterpretq_s8_u8(q[g]), s32);
                    const int8x16_t yv = vld1q_s8(y[i].qs + 128 * h + 32 * g + 16 * k);
                    const int32x4_t p = NDOT(vdupq_n_s32(0), v, yv);
                    isum += x[i].scales[8 * h + 2 * g + k] * vaddvq_s32(p);
                }
            }
        }
        sumf += QH2F(x[i].d) * y[i].d * (float)isum;
    }
    *s = sumf;
}

static const struct quant_kernels quant_kernels_neon_set = {
    .vec_dot = {
        [GGML_TYPE_F32] = f32_vec_dot_neon, [GGML_TYPE_F16] = f16_vec_dot_neon,
        [GGML_TYPE_Q4_0] = q4_0_vec_dot_neon, [GGML_TYPE_Q8_0] = q8_0_vec_dot_neon,
        [GGML_TYPE_Q4_K] = q4_K_vec_dot_neon, [GGML_TYPE_Q6_K] = q6_K_vec_dot_neon,
    },
    .f16_dot_f32 = f16_dot_f32_neon,
    .f16_axpy = f16_axpy_neon,
    .f16_to_f32 = f16_to_f32_neon,
    .f32_to_f16 = f32_to_f16_neon,
};

const struct quant_kernels *quant_kernels_neon(void) {
    return &quant_kernels_neon_set;
}

#else

const struct quant_kernels *quant_kernels_neon(void) {
    return NULL;
}

#endif
