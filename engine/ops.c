/* engine/ops.c — exp, SiLU, softmax and the attention products over the KV cache, in
 * llama.cpp's exact order of operations (see ops.h for why). Each operation has a scalar
 * version (lane-by-lane emulation with fmaf) and, on x86-64, an AVX-512 version chosen at run
 * time that gives bit-identical results (the attention products, softmax and SiLU an AVX2 one
 * too; on aarch64 the attention products a NEON one). Pure functions; any thread. */
#include "ops.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "quant.h"
#include "quant_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define OPS_X86 1
#elif defined(__aarch64__)
#include <arm_neon.h>
#define OPS_NEON 1
#endif

/* ---- scalar ---- */

float ops_expf(float x) {
    const float r = 0x1.8p23f;
    float z = fmaf(x, 0x1.715476p+0f, r);
    float n = z - r;
    float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    float u = b * b;
    float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                        fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                   u, fmaf(0x1.ffffecp-1f, b, 1.0f));
    if (n != n)
        return n;                 /* NaN in, NaN out (as the vector version) */
    if (fabsf(n) > 192.0f)
        return n <= 0 ? 0.0f : INFINITY;
    return ldexpf(j, (int)n);
}

/* The sum of 16 lanes in _mm512_reduce_add_ps's order. */
static float ops_reduce16(const float *a) {
    float t8[8], t4[4];
    for (int i = 0; i < 8; i++)
        t8[i] = a[i + 8] + a[i];
    for (int i = 0; i < 4; i++)
        t4[i] = t8[i + 4] + t8[i];
    return (t4[0] + t4[2]) + (t4[1] + t4[3]);
}

static float ops_f16_round(float x) { return quant_f16_to_f32(quant_f32_to_f16(x)); }

static float ops_kv_at(const void *base, size_t idx, int f16) {
    return f16 ? quant_f16_to_f32(((const uint16_t *)base)[idx]) : ((const float *)base)[idx];
}

static void silu_mul_ref(int n, const float *x, const float *g, float *y) {
    int nv = n - n % 16;
    for (int i = 0; i < nv; i++)
        y[i] = x[i] / (1.0f + ops_expf(-x[i])) * g[i];
    for (int i = nv; i < n; i++)
        y[i] = x[i] / (1.0f + expf(-x[i])) * g[i];
}

static void silu_ref(int n, const float *x, float *y) {
    int nv = n - n % 16;
    for (int i = 0; i < nv; i++)
        y[i] = x[i] / (1.0f + ops_expf(-x[i]));
    for (int i = nv; i < n; i++)
        y[i] = x[i] / (1.0f + expf(-x[i]));
}

/* ggml's reduction of its 4 accumulators: (a0 + a2) + (a1 + a3), then the 16 lanes. */
static float ops_reduce4x16(const float acc[4][16]) {
    float r[16];
    for (int l = 0; l < 16; l++)
        r[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
    return ops_reduce16(r);
}

static float dot_ref(int n, const float *x, const float *y) {
    const int np = n & ~63;
    float acc[4][16] = {{0}};
    for (int i = 0; i < np; i += 64)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 16; l++)
                acc[j][l] = fmaf(x[i + 16 * j + l], y[i + 16 * j + l], acc[j][l]);
    float sum = ops_reduce4x16(acc);
    for (int i = np; i < n; i++)
        sum = fmaf(x[i], y[i], sum);
    return sum;
}

static void mad_ref(int n, float *y, const float *x, float v) {
    for (int i = 0; i < n; i++)
        y[i] = fmaf(x[i], v, y[i]);
}

static float ssm_update_ref(int n, float *s, float dA, const float *B, float xdt,
                            const float *C) {
    const int np = n & ~63;
    float acc[4][16] = {{0}};
    for (int i = 0; i < np; i += 64)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 16; l++) {
                const int e = i + 16 * j + l;
                s[e] = fmaf(s[e], dA, B[e] * xdt);
                acc[j][l] = fmaf(s[e], C[e], acc[j][l]);
            }
    float sum = ops_reduce4x16(acc);
    for (int i = np; i < n; i++) {
        s[i] = fmaf(s[i], dA, B[i] * xdt);
        sum = fmaf(s[i], C[i], sum);
    }
    return sum;
}

static void conv_causal_ref(int kw, int ch_n, int n_tok, const float *x, const float *wt,
                            float *y, size_t ldy) {
    for (int t = 0; t < n_tok; t++)
        for (int ch = 0; ch < ch_n; ch++) {
            float sum = 0.0f;
            for (int k = 0; k < kw; k++)
                sum = fmaf(x[(size_t)(t + k) * ch_n + ch], wt[(size_t)k * ch_n + ch], sum);
            y[(size_t)t * ldy + ch] = sum;
        }
}

static void gdn_step_ref(int d, float *S, const float *q, const float *k, const float *v,
                         float eg, float beta, float scale, float *o) {
    for (int i = 0; i < d * d; i++)
        S[i] *= eg;
    for (int j = 0; j < d; j++) {   /* rows are independent: ggml's three passes, row by row */
        float *row = S + (size_t)j * d;
        const float delta = (v[j] - dot_ref(d, row, k)) * beta;
        mad_ref(d, row, k, delta);
        o[j] = dot_ref(d, row, q) * scale;
    }
}

static void ssm_step_ref(int p, int n, float *S, const float *x, float dt, float dA,
                         const float *B, const float *C, float D, float *y) {
    for (int i = 0; i < p; i++) {
        const float xi = x[i];
        y[i] = ssm_update_ref(n, S + (size_t)i * n, dA, B, xi * dt, C) + xi * D;
    }
}

static void scores_ref(const void *k, size_t stride, int f16, int n_pos, const float *q, int hd,
                       float scale, float *s) {
    for (int j = 0; j < n_pos; j++) {
        size_t row = (size_t)j * stride;
        if (hd % 16 == 0) {
            float acc[16] = {0};
            for (int d = 0; d < hd; d += 16)
                for (int l = 0; l < 16; l++)
                    acc[l] = fmaf(ops_kv_at(k, row + d + l, f16), q[d + l], acc[l]);
            s[j] = ops_reduce16(acc) * scale;
        } else {
            double sum = 0;
            for (int d = 0; d < hd; d++)
                sum += (double)(ops_kv_at(k, row + d, f16) * q[d]);
            s[j] = (float)sum * scale;
        }
    }
}

static void softmax_ref(int n, float *s, int f16, float sink) {
    float mx = sink;
    for (int j = 0; j < n; j++)
        if (s[j] > mx)
            mx = s[j];
    double sum = 0;
    for (int j0 = 0; j0 < n; j0 += 16) {
        float lane[16] = {0};
        for (int l = 0; l < 16 && j0 + l < n; l++)
            lane[l] = s[j0 + l] = ops_expf(s[j0 + l] - mx);
        sum += ops_reduce16(lane);
    }
    if (sink > -INFINITY)   /* an attention sink: in the denominator only (llama.cpp's soft_max) */
        sum += (double)expf(sink - mx);
    float inv = (float)(1.0 / sum);
    for (int j = 0; j < n; j++)
        s[j] = f16 ? ops_f16_round(s[j] * inv) : s[j] * inv;
}

/* acc is lane-major: acc[l * hd + i] accumulates the positions j with j % 16 == l. */
static void lanes_reduce_ref(const float *acc, int hd, float *o) {
    float a[16];
    for (int i = 0; i < hd; i++) {
        for (int l = 0; l < 16; l++)
            a[l] = acc[l * hd + i];
        o[i] = ops_reduce16(a);
    }
}

static void mix_lanes_ref(const void *v, size_t stride, int f16, int n, const float *p,
                          int lane0, int hd, float *acc) {
    for (int j = 0; j < n; j++) {
        float *row = acc + (size_t)((lane0 + j) & 15) * hd;
        for (int i = 0; i < hd; i++)
            row[i] = fmaf(ops_kv_at(v, (size_t)j * stride + i, f16), p[j], row[i]);
    }
}

/* The cache's rows are the attention's first read of them, from memory, with compute between
 * blocks: the hardware prefetcher alone left one core reading them at ~6 GB/s (a plain read
 * loop: 13); asking for the line KV_PREFETCH bytes ahead of each row's lines took a core's
 * conversion loop to ~10 and a token at depth 4096 from 24 to 21 ms of attention (Xeon,
 * AVX-512: a microbenchmark, and the engine at 2 threads). Past the end of a
 * head's rows it touches the next ones: a hint, never a fault. */
#define KV_PREFETCH 2048
static inline void kv_row_prefetch(const char *row, size_t row_bytes) {
    for (size_t i = 0; i < row_bytes; i += 64)
        __builtin_prefetch(row + KV_PREFETCH + i, 0, 3);
}

/* A cache read in place by several heads: row j's twin in the next block of n rows (the next
 * rows of the head, which the caller reads next), asked for while this block computes. */
static inline void kv_row_prefetch_next(const void *rows, size_t row_bytes, int j, int n) {
    const char *r = (const char *)rows + ((size_t)j + (size_t)n) * row_bytes;
    for (size_t i = 0; i < row_bytes; i += 64)
        __builtin_prefetch(r + i, 0, 3);
}

static void kv_dequant_ref(const void *src, size_t row_bytes, uint32_t t, int n_rows, int hd,
                           float *dst) {
    const struct quant_traits *tr = quant_traits_get(t);
    for (int r = 0; r < n_rows; r++) {
        kv_row_prefetch((const char *)src + (size_t)r * row_bytes, row_bytes);
        tr->to_float((const char *)src + (size_t)r * row_bytes, dst + (size_t)r * hd, hd);
    }
}

/* F16 rows: quant_f16_to_f32_row (F16C where the CPU has it; exact either way). */
static void kv_dequant_f16(const void *src, size_t row_bytes, int n_rows, int hd, float *dst) {
    for (int r = 0; r < n_rows; r++) {
        kv_row_prefetch((const char *)src + (size_t)r * row_bytes, row_bytes);
        quant_f16_to_f32_row((const uint16_t *)((const char *)src + (size_t)r * row_bytes),
                             dst + (size_t)r * hd, hd);
    }
}

/* ---- AVX-512 (same operations, 16 lanes at a time) ---- */
#ifdef OPS_X86
#define OPS_TARGET __attribute__((target("avx512f,f16c,fma")))

OPS_TARGET static inline __m512 v_expf(__m512 x) {
    const __m512 r = _mm512_set1_ps(0x1.8p23f);
    const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), r);
    const __m512 n = _mm512_sub_ps(z, r);
    const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                      _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
    const __mmask16 d = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192), _CMP_GT_OQ);
    const __m512 u = _mm512_mul_ps(b, b);
    const __m512 j = _mm512_fmadd_ps(
        _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b,
                                        _mm512_set1_ps(0x1.573e2ep-5f)),
                        u,
                        _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b,
                                        _mm512_set1_ps(0x1.fffdb6p-2f))),
        u, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f)));
    const __m512 res = _mm512_scalef_ps(j, n);
    if (!d)
        return res;
    const __mmask16 le = _mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_LE_OQ);
    const __m512 alt = _mm512_mask_blend_ps(le, _mm512_set1_ps(INFINITY), _mm512_setzero_ps());
    return _mm512_mask_blend_ps(d, res, alt);
}

OPS_TARGET static inline __m512 load16(const void *base, size_t idx, int f16) {
    if (f16)
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)base + idx)));
    return _mm512_loadu_ps((const float *)base + idx);
}

OPS_TARGET static void silu_mul_avx512(int n, const float *x, const float *g, float *y) {
    int i = 0;
    for (; i + 15 < n; i += 16) {
        __m512 xv = _mm512_loadu_ps(x + i);
        __m512 e = v_expf(_mm512_sub_ps(_mm512_setzero_ps(), xv));
        __m512 sv = _mm512_div_ps(xv, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
        _mm512_storeu_ps(y + i, _mm512_mul_ps(sv, _mm512_loadu_ps(g + i)));
    }
    for (; i < n; i++)
        y[i] = x[i] / (1.0f + expf(-x[i])) * g[i];
}

OPS_TARGET static void silu_avx512(int n, const float *x, float *y) {
    int i = 0;
    for (; i + 15 < n; i += 16) {
        __m512 xv = _mm512_loadu_ps(x + i);
        __m512 e = v_expf(_mm512_sub_ps(_mm512_setzero_ps(), xv));
        _mm512_storeu_ps(y + i, _mm512_div_ps(xv, _mm512_add_ps(_mm512_set1_ps(1.0f), e)));
    }
    for (; i < n; i++)
        y[i] = x[i] / (1.0f + expf(-x[i]));
}

OPS_TARGET static void mad_avx512(int n, float *y, const float *x, float v) {
    const __m512 vv = _mm512_set1_ps(v);
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(_mm512_loadu_ps(x + i), vv,
                                                _mm512_loadu_ps(y + i)));
    for (; i < n; i++)
        y[i] = fmaf(x[i], v, y[i]);
}


/* Lane l of the result: the sum of the 16 lanes of a[l], each reduced in
 * _mm512_reduce_add_ps's order (ops_reduce16): 16 reductions for 15 adds and 30 shuffles. */
#define OPS_UNROLL _Pragma("GCC unroll 16")
/* Keeps a vector loaded once in a register: without it the compiler folds the load into each
 * of its uses (one load per FMA), and scores_n_avx512_kv was bound by the load ports (hot
 * microbenchmark, 8 heads over F16 rows: 16.8 -> 23.6 and 15.4 -> 18.4 GFMA/s, two rounds). */
#define OPS_IN_REG(x) __asm__("" : "+v"(x))

OPS_TARGET static inline __attribute__((always_inline)) __m512 reduce16x16(const __m512 a[16]) {
    /* level k pairs vectors so that the result's lane 4q + e comes from input 4e + q */
    static const int perm[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};
    __m512 b[8], c[4], e[2];
    OPS_UNROLL for (int p = 0; p < 8; p++) {     /* lanes i + 8 and i */
        const __m512 x = a[perm[2 * p]], y = a[perm[2 * p + 1]];
        b[p] = _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0xEE), _mm512_shuffle_f32x4(x, y, 0x44));
    }
    OPS_UNROLL for (int m = 0; m < 4; m++) {     /* i + 4 and i */
        const __m512 x = b[2 * m], y = b[2 * m + 1];
        c[m] = _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0xDD), _mm512_shuffle_f32x4(x, y, 0x88));
    }
    OPS_UNROLL for (int k = 0; k < 2; k++) {     /* t0 + t2, t1 + t3 */
        const __m512 x = c[2 * k], y = c[2 * k + 1];
        e[k] = _mm512_add_ps(_mm512_shuffle_ps(x, y, 0x44), _mm512_shuffle_ps(x, y, 0xEE));
    }
    return _mm512_add_ps(_mm512_shuffle_ps(e[0], e[1], 0x88), _mm512_shuffle_ps(e[0], e[1], 0xDD));
}

OPS_TARGET static void conv_causal_avx512(int kw, int ch_n, int n_tok, const float *x,
                                          const float *wt, float *y, size_t ldy) {
    for (int t = 0; t < n_tok; t++) {
        int ch = 0;
        for (; ch + 16 <= ch_n; ch += 16) {
            __m512 sum = _mm512_setzero_ps();
            for (int k = 0; k < kw; k++)
                sum = _mm512_fmadd_ps(_mm512_loadu_ps(x + (size_t)(t + k) * ch_n + ch),
                                      _mm512_loadu_ps(wt + (size_t)k * ch_n + ch), sum);
            _mm512_storeu_ps(y + (size_t)t * ldy + ch, sum);
        }
        for (; ch < ch_n; ch++) {
            float sum = 0.0f;
            for (int k = 0; k < kw; k++)
                sum = fmaf(x[(size_t)(t + k) * ch_n + ch], wt[(size_t)k * ch_n + ch], sum);
            y[(size_t)t * ldy + ch] = sum;
        }
    }
}

/* The vector part of ggml_vec_dot_f32 over the first n & ~63 values: its 4 accumulators summed
 * as (a0 + a2) + (a1 + a3), before the lanes' reduction. */
OPS_TARGET static inline __attribute__((always_inline)) __m512 dot_lanes(int np, const float *x,
                                                                          const float *y) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int i = 0; i < np; i += 64) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), _mm512_loadu_ps(y + i + 32), a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), _mm512_loadu_ps(y + i + 48), a3);
    }
    return _mm512_add_ps(_mm512_add_ps(a0, a2), _mm512_add_ps(a1, a3));
}

/* 16 rows' dot products with y at once: each row's lanes as dot_lanes, one transposing
 * reduction for the 16 (rows past nb are zero), then each row's leftovers. */
OPS_TARGET static inline __attribute__((always_inline)) void dot_rows16(
    int n, int nb, const float *rows, size_t stride, const float *y, float out[16]) {
    const int np = n & ~63;
    __m512 a[16];
    OPS_UNROLL for (int l = 0; l < 16; l++)
        a[l] = l < nb ? dot_lanes(np, rows + (size_t)l * stride, y) : _mm512_setzero_ps();
    _mm512_storeu_ps(out, reduce16x16(a));
    for (int l = 0; l < nb; l++) {
        const float *x = rows + (size_t)l * stride;
        float sum = out[l];
        for (int i = np; i < n; i++)
            sum = fmaf(x[i], y[i], sum);
        out[l] = sum;
    }
}

/* The delta rule 16 rows at a time (rows are independent: each row's arithmetic is the one-row
 * loop's). */
OPS_TARGET static void gdn_step_avx512(int d, float *S, const float *q, const float *k,
                                       const float *v, float eg, float beta, float scale,
                                       float *o) {
    const __m512 ve = _mm512_set1_ps(eg);
    int i = 0;
    for (; i + 16 <= d * d; i += 16)
        _mm512_storeu_ps(S + i, _mm512_mul_ps(_mm512_loadu_ps(S + i), ve));
    for (; i < d * d; i++)
        S[i] *= eg;
    float sk[16], sq[16];
    for (int j0 = 0; j0 < d; j0 += 16) {
        const int nb = d - j0 < 16 ? d - j0 : 16;
        float *rows = S + (size_t)j0 * d;
        dot_rows16(d, nb, rows, (size_t)d, k, sk);
        for (int l = 0; l < nb; l++)
            mad_avx512(d, rows + (size_t)l * d, k, (v[j0 + l] - sk[l]) * beta);
        dot_rows16(d, nb, rows, (size_t)d, q, sq);
        for (int l = 0; l < nb; l++)
            o[j0 + l] = sq[l] * scale;
    }
}

/* Mamba-2's scan 16 rows at a time: each row's state update and lanes as ssm_update_ref,
 * one transposing reduction, then each row's leftovers. */
OPS_TARGET static void ssm_step_avx512(int p, int n, float *S, const float *x, float dt,
                                       float dA, const float *B, const float *C, float D,
                                       float *y) {
    const int np = n & ~63;
    const __m512 vdA = _mm512_set1_ps(dA);
    for (int i0 = 0; i0 < p; i0 += 16) {
        const int nb = p - i0 < 16 ? p - i0 : 16;
        __m512 a[16];
        float xs[16], sum[16];
        for (int l = 0; l < nb; l++)
            xs[l] = x[i0 + l];
        OPS_UNROLL for (int l = 0; l < 16; l++) {
            if (l >= nb) {
                a[l] = _mm512_setzero_ps();
                continue;
            }
            float *s = S + (size_t)(i0 + l) * n;
            const __m512 vxdt = _mm512_set1_ps(xs[l] * dt);
            __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                             _mm512_setzero_ps()};
            for (int e0 = 0; e0 < np; e0 += 64)
                for (int j = 0; j < 4; j++) {
                    const int e = e0 + 16 * j;
                    const __m512 st = _mm512_fmadd_ps(_mm512_loadu_ps(s + e), vdA,
                                                      _mm512_mul_ps(_mm512_loadu_ps(B + e), vxdt));
                    _mm512_storeu_ps(s + e, st);
                    acc[j] = _mm512_fmadd_ps(st, _mm512_loadu_ps(C + e), acc[j]);
                }
            a[l] = _mm512_add_ps(_mm512_add_ps(acc[0], acc[2]), _mm512_add_ps(acc[1], acc[3]));
        }
        _mm512_storeu_ps(sum, reduce16x16(a));
        for (int l = 0; l < nb; l++) {
            float *s = S + (size_t)(i0 + l) * n;
            const float xdt = xs[l] * dt;
            float t = sum[l];
            for (int e = np; e < n; e++) {
                s[e] = fmaf(s[e], dA, B[e] * xdt);
                t = fmaf(s[e], C[e], t);
            }
            y[i0 + l] = t + xs[l] * D;
        }
    }
}

/* 16 positions at a time: q's vector d meets the 16 rows' vector d, then one transposing
 * reduction; each score's operations are those of the one-position loop. F16: a constant. */
OPS_TARGET static inline __attribute__((always_inline)) void scores_avx512_kv(
    const void *k, size_t stride, const int F16, int n_pos, const float *q, int hd, float scale,
    float *s) {
    int j = 0;
    for (; j + 16 <= n_pos; j += 16) {
        __m512 a[16];
        OPS_UNROLL for (int l = 0; l < 16; l++)
            a[l] = _mm512_setzero_ps();
        for (int d = 0; d < hd; d += 16) {
            const __m512 qv = _mm512_loadu_ps(q + d);
            OPS_UNROLL for (int l = 0; l < 16; l++)
                a[l] = _mm512_fmadd_ps(load16(k, (size_t)(j + l) * stride + d, F16), qv, a[l]);
        }
        _mm512_storeu_ps(s + j, _mm512_mul_ps(reduce16x16(a), _mm512_set1_ps(scale)));
    }
    for (; j < n_pos; j++) {
        size_t row = (size_t)j * stride;
        __m512 acc = _mm512_setzero_ps();
        for (int d = 0; d < hd; d += 16)
            acc = _mm512_fmadd_ps(load16(k, row + d, F16), _mm512_loadu_ps(q + d), acc);
        s[j] = _mm512_reduce_add_ps(acc) * scale;
    }
}

OPS_TARGET static void scores_avx512(const void *k, size_t stride, int f16, int n_pos,
                                     const float *q, int hd, float scale, float *s) {
    if (f16)
        scores_avx512_kv(k, stride, 1, n_pos, q, hd, scale, s);
    else
        scores_avx512_kv(k, stride, 0, n_pos, q, hd, scale, s);
}

/* The cache kinds the AVX-512 attention kernels read (kv_load16). */
enum { KV_F32, KV_F16, KV_Q8_0, KV_Q4_0 };
/* The kind of cache the AVX-512 kernels read in place, or -1 (hd a multiple of 16; 32 for the
 * blocks). */
static int attn_kind(uint32_t type, int hd) {
    if (type == GGML_TYPE_F32 || type == GGML_TYPE_F16)
        return hd % 16 == 0 ? (type == GGML_TYPE_F16 ? KV_F16 : KV_F32) : -1;
    if (type == GGML_TYPE_Q8_0 || type == GGML_TYPE_Q4_0)
        return hd % 32 == 0 ? (type == GGML_TYPE_Q8_0 ? KV_Q8_0 : KV_Q4_0) : -1;
    return -1;
}

/* A block's F16 scale in every lane, converted in registers (exact, as quant_f16_to_f32: a call
 * there would make the kernels spill their accumulators around it). */
OPS_TARGET static inline __m512 kv_scale16(uint16_t d) {
    return _mm512_broadcastss_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(d)));
}

/* Values d..d+15 of row j (rows row_bytes apart) of a cache of kind K: 0 F32, 1 F16, 2 Q8_0,
 * 3 Q4_0 (d a multiple of 16; a block's half) — the bits of ops_kv_dequant's floats. */
OPS_TARGET static inline __attribute__((always_inline)) __m512 kv_load16(const void *rows,
                                                                        size_t row_bytes,
                                                                        const int K, size_t j,
                                                                        int d) {
    const char *r = (const char *)rows + j * row_bytes;
    if (K == KV_F32)
        return _mm512_loadu_ps((const float *)(const void *)r + d);
    if (K == KV_F16)
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(r + 2 * d)));
    if (K == KV_Q8_0) {
        const block_q8_0 *b = (const block_q8_0 *)(const void *)r + d / QK8_0;
        const __m128i q = _mm_loadu_si128((const __m128i *)(const void *)(b->qs + d % QK8_0));
        return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), kv_scale16(b->d));
    }
    const block_q4_0 *b = (const block_q4_0 *)(const void *)r + d / QK4_0;
    __m128i q = _mm_loadu_si128((const __m128i *)(const void *)b->qs);
    if (d % QK4_0)   /* high nibbles: values 16..31 */
        q = _mm_srli_epi16(q, 4);
    q = _mm_sub_epi8(_mm_and_si128(q, _mm_set1_epi8(0x0F)), _mm_set1_epi8(8));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), kv_scale16(b->d));
}

/* Lanes 4m..4m+3 of the reduction: query m's 4 scores (QN 4), or queries 2m's and 2m + 1's 2. */
OPS_TARGET static inline __attribute__((always_inline)) void scores_n_store(
    __m128 c, int m, const int QN, int nq, float *const *s, int j) {
    if (QN == 4 && m < nq)
        _mm_storeu_ps(s[m] + j, c);
    if (QN == 8 && 2 * m < nq)
        _mm_storel_pi((__m64 *)(void *)(s[2 * m] + j), c);
    if (QN == 8 && 2 * m + 1 < nq)
        _mm_storeh_pi((__m64 *)(void *)(s[2 * m + 1] + j), c);
}

/* Up to QN (4 or 8) queries over the same rows, P = 16 / QN positions at a time: accumulator
 * P * i + r is query i's product with row j + r (its d-vectors in order, as scores_avx512_kv's),
 * then one transposing reduction for the 16 — each score's operations are the one-query
 * kernel's, and each row is loaded once for all the queries instead of once for each. Slots past
 * nq compute query 0 again and are not stored. */
OPS_TARGET static inline __attribute__((always_inline)) void scores_n_avx512_kv(
    const void *k, size_t rb, const int K, const int QN, int n_pos, const float *const *q,
    int nq, int hd, float scale, float *const *s) {
    const int P = 16 / QN;
    const float *qq[8];
    for (int i = 0; i < QN; i++)
        qq[i] = q[i < nq ? i : 0];
    const __m512 vs = _mm512_set1_ps(scale);
    int j = 0;
    for (; j + P <= n_pos; j += P) {
        __m512 a[16];
        OPS_UNROLL for (int l = 0; l < 16; l++)
            a[l] = _mm512_setzero_ps();
        if (K != KV_F32)
            OPS_UNROLL for (int r = 0; r < P; r++)
                kv_row_prefetch_next(k, rb, j + r, n_pos);
        for (int d = 0; d < hd; d += 16) {
            __m512 kv[4];
            OPS_UNROLL for (int r = 0; r < P; r++)
                kv[r] = kv_load16(k, rb, K, (size_t)(j + r), d);
            OPS_UNROLL for (int i = 0; i < QN; i++) {
                __m512 qv = _mm512_loadu_ps(qq[i] + d);
                OPS_IN_REG(qv);
                OPS_UNROLL for (int r = 0; r < P; r++)
                    a[P * i + r] = _mm512_fmadd_ps(kv[r], qv, a[P * i + r]);
            }
        }
        const __m512 o = _mm512_mul_ps(reduce16x16(a), vs);
        scores_n_store(_mm512_castps512_ps128(o), 0, QN, nq, s, j);
        scores_n_store(_mm512_extractf32x4_ps(o, 1), 1, QN, nq, s, j);
        scores_n_store(_mm512_extractf32x4_ps(o, 2), 2, QN, nq, s, j);
        scores_n_store(_mm512_extractf32x4_ps(o, 3), 3, QN, nq, s, j);
    }
    for (; j < n_pos; j++)
        for (int i = 0; i < nq; i++) {
            __m512 acc = _mm512_setzero_ps();
            for (int d = 0; d < hd; d += 16)
                acc = _mm512_fmadd_ps(kv_load16(k, rb, K, (size_t)j, d),
                                      _mm512_loadu_ps(qq[i] + d), acc);
            s[i][j] = _mm512_reduce_add_ps(acc) * scale;
        }
}

OPS_TARGET static void scores_n_avx512(const void *k, size_t rb, int kind, int n_pos,
                                       const float *const *q, int nq, int hd, float scale,
                                       float *const *s) {
#define SCORES_N_KIND(KIND)                                                                  \
    case KIND:                                                                               \
        if (nq <= 4)                                                                         \
            scores_n_avx512_kv(k, rb, KIND, 4, n_pos, q, nq, hd, scale, s);                  \
        else                                                                                 \
            scores_n_avx512_kv(k, rb, KIND, 8, n_pos, q, nq, hd, scale, s);                  \
        break;
    switch (kind) {
        SCORES_N_KIND(KV_F32)
        SCORES_N_KIND(KV_F16)
        SCORES_N_KIND(KV_Q8_0)
        SCORES_N_KIND(KV_Q4_0)
    }
#undef SCORES_N_KIND
}

/* The max of sink and s[0..n) as softmax_ref finds it: NaN scores are skipped (vmaxps returns
 * its second operand when one is NaN; a NaN sink stays NaN), and which zero is the max does not
 * matter (exp(x - max) is the same for both). */
OPS_TARGET static float softmax_max_avx512(int n, const float *s, float sink) {
    __m512 vm = _mm512_set1_ps(sink);
    int j = 0;
    for (; j + 16 <= n; j += 16)
        vm = _mm512_max_ps(_mm512_loadu_ps(s + j), vm);
    float lane[16], mx = sink;
    _mm512_storeu_ps(lane, vm);
    for (int l = 0; l < 16; l++)
        if (lane[l] > mx)
            mx = lane[l];
    for (; j < n; j++)
        if (s[j] > mx)
            mx = s[j];
    return mx;
}

OPS_TARGET static void softmax_avx512(int n, float *s, int f16, float sink) {
    const float mx = softmax_max_avx512(n, s, sink);
    const __m512 vmx = _mm512_set1_ps(mx);
    double sum = 0;
    int j0 = 0;
    /* 16 chunks at a time: their sums by one transposing reduction, added in order */
    for (; j0 + 256 <= n; j0 += 256) {
        __m512 e[16];
        float cs[16];
        OPS_UNROLL for (int l = 0; l < 16; l++) {
            e[l] = v_expf(_mm512_sub_ps(_mm512_loadu_ps(s + j0 + 16 * l), vmx));
            _mm512_storeu_ps(s + j0 + 16 * l, e[l]);
        }
        _mm512_storeu_ps(cs, reduce16x16(e));
        for (int l = 0; l < 16; l++)
            sum += cs[l];
    }
    for (; j0 < n; j0 += 16) {
        __mmask16 m = n - j0 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j0)) - 1);
        __m512 x = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), m, s + j0);
        __m512 e = v_expf(_mm512_sub_ps(x, vmx));
        _mm512_mask_storeu_ps(s + j0, m, e);
        sum += _mm512_reduce_add_ps(e);
    }
    if (sink > -INFINITY)
        sum += (double)expf(sink - mx);
    const __m512 inv = _mm512_set1_ps((float)(1.0 / sum));
    for (j0 = 0; j0 < n; j0 += 16) {
        __mmask16 m = n - j0 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j0)) - 1);
        __m512 p = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, s + j0), inv);
        if (f16)
            p = _mm512_cvtph_ps(_mm512_cvtps_ph(p, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        _mm512_mask_storeu_ps(s + j0, m, p);
    }
}

/* NQ queries' lanes over the same rows (each lane l's rows in order, the lane's values in
 * registers), NV vectors of each row (16 * NV values; NQ * NV <= 16 accumulators) loaded once for
 * all NQ, then the rest 16 values at a time. */
OPS_TARGET static inline __attribute__((always_inline)) void mix_rows_n_avx512_kv(
    const void *v, size_t rb, const int K, const int NQ, int n, const float *const *p,
    int lane0, int hd, float *const *acc) {
    const int NV = NQ <= 4 ? 4 : 2;
    for (int l = 0; l < 16; l++) {
        const int first = (l - lane0) & 15;
        if (first >= n)
            continue;
        int i = 0;
        for (; i + 16 * NV <= hd; i += 16 * NV) {
            __m512 r[8][4];
            OPS_UNROLL for (int e = 0; e < NQ; e++)
                OPS_UNROLL for (int t = 0; t < NV; t++)
                    r[e][t] = _mm512_loadu_ps(acc[e] + (size_t)l * hd + i + 16 * t);
            for (int jj = first; jj < n; jj += 16) {
                if (K != KV_F32 && i == 0)
                    kv_row_prefetch_next(v, rb, jj, n);
                __m512 x[4];
                OPS_UNROLL for (int t = 0; t < NV; t++)
                    x[t] = kv_load16(v, rb, K, (size_t)jj, i + 16 * t);
                OPS_UNROLL for (int e = 0; e < NQ; e++) {
                    const __m512 pj = _mm512_set1_ps(p[e][jj]);
                    OPS_UNROLL for (int t = 0; t < NV; t++)
                        r[e][t] = _mm512_fmadd_ps(x[t], pj, r[e][t]);
                }
            }
            OPS_UNROLL for (int e = 0; e < NQ; e++)
                OPS_UNROLL for (int t = 0; t < NV; t++)
                    _mm512_storeu_ps(acc[e] + (size_t)l * hd + i + 16 * t, r[e][t]);
        }
        for (; i < hd; i += 16) {
            __m512 r[8];
            OPS_UNROLL for (int e = 0; e < NQ; e++)
                r[e] = _mm512_loadu_ps(acc[e] + (size_t)l * hd + i);
            for (int jj = first; jj < n; jj += 16) {
                const __m512 x = kv_load16(v, rb, K, (size_t)jj, i);
                OPS_UNROLL for (int e = 0; e < NQ; e++)
                    r[e] = _mm512_fmadd_ps(x, _mm512_set1_ps(p[e][jj]), r[e]);
            }
            OPS_UNROLL for (int e = 0; e < NQ; e++)
                _mm512_storeu_ps(acc[e] + (size_t)l * hd + i, r[e]);
        }
    }
}

OPS_TARGET static void mix_lanes_n_avx512(const void *v, size_t rb, int kind, int n,
                                          const float *const *p, int nq, int lane0, int hd,
                                          float *const *acc) {
#define MIX_N_CASE(NQ)                                                                       \
    case NQ:                                                                                 \
        if (kind == KV_F32)                                                                  \
            mix_rows_n_avx512_kv(v, rb, KV_F32, NQ, n, p, lane0, hd, acc);                   \
        else if (kind == KV_F16)                                                             \
            mix_rows_n_avx512_kv(v, rb, KV_F16, NQ, n, p, lane0, hd, acc);                   \
        else if (kind == KV_Q8_0)                                                            \
            mix_rows_n_avx512_kv(v, rb, KV_Q8_0, NQ, n, p, lane0, hd, acc);                  \
        else                                                                                 \
            mix_rows_n_avx512_kv(v, rb, KV_Q4_0, NQ, n, p, lane0, hd, acc);                  \
        break;
    switch (nq) {
        MIX_N_CASE(1)
        MIX_N_CASE(2)
        MIX_N_CASE(3)
        MIX_N_CASE(4)
        MIX_N_CASE(5)
        MIX_N_CASE(6)
        MIX_N_CASE(7)
        MIX_N_CASE(8)
    }
#undef MIX_N_CASE
}

OPS_TARGET static void mix_lanes_avx512(const void *v, size_t stride, int f16, int n,
                                        const float *p, int lane0, int hd, float *acc) {
    mix_lanes_n_avx512(v, stride * (f16 ? 2 : 4), f16 ? KV_F16 : KV_F32, n, &p, 1, lane0, hd,
                       &acc);
}

OPS_TARGET static void mix_reduce_avx512(const float *acc, int hd, float *o) {
    for (int i = 0; i < hd; i += 16) {
        __m512 a[16], t8[8], t4[4];
        for (int l = 0; l < 16; l++)
            a[l] = _mm512_loadu_ps(acc + (size_t)l * hd + i);
        for (int l = 0; l < 8; l++)
            t8[l] = _mm512_add_ps(a[l + 8], a[l]);
        for (int l = 0; l < 4; l++)
            t4[l] = _mm512_add_ps(t8[l + 4], t8[l]);
        _mm512_storeu_ps(o + i, _mm512_add_ps(_mm512_add_ps(t4[0], t4[2]),
                                              _mm512_add_ps(t4[1], t4[3])));
    }
}

/* ---- AVX2 for the attention products, softmax and SiLU (the scalar ones' 16 lanes as two
 * 8-lane halves, each lane's operations the same; CPUs without AVX-512 spent half of a prompt's
 * time in the scalar versions' fmaf calls) ---- */
#define OPS_AVX2 __attribute__((target("avx2,f16c,fma")))

OPS_AVX2 static inline __m256 load8(const void *base, size_t idx, int f16) {
    if (f16)
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)base + idx)));
    return _mm256_loadu_ps((const float *)base + idx);
}

/* ops_expf of 8 lanes: the same fma steps, and j * 2^n by one multiply, which is ldexpf's
 * result while 2^n is a normal float (|n| <= 126); other lanes (and NaN) go through ops_expf. */
OPS_AVX2 static inline __m256 v8_expf(__m256 x) {
    const __m256 r = _mm256_set1_ps(0x1.8p23f);
    const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
    const __m256 n = _mm256_sub_ps(z, r);
    const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                      _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    const __m256 u = _mm256_mul_ps(b, b);
    const __m256 j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b,
                                        _mm256_set1_ps(0x1.573e2ep-5f)),
                        u,
                        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b,
                                        _mm256_set1_ps(0x1.fffdb6p-2f))),
        u, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0f)));
    const __m256 an = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), n);
    /* not (|n| <= 126): true for NaN too */
    if (_mm256_movemask_ps(_mm256_cmp_ps(an, _mm256_set1_ps(126.0f), _CMP_NLE_UQ))) {
        float in[8], out[8];
        _mm256_storeu_ps(in, x);
        for (int l = 0; l < 8; l++) out[l] = ops_expf(in[l]);
        return _mm256_loadu_ps(out);
    }
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(j, _mm256_castsi256_ps(e));
}

/* n % 16 lanes of the tail as the scalar version (expf) */
OPS_AVX2 static void silu_mul_avx2(int n, const float *x, const float *g, float *y) {
    const int nv = n - n % 16;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int i = 0; i < nv; i += 8) {
        const __m256 xv = _mm256_loadu_ps(x + i);
        const __m256 e = v8_expf(_mm256_sub_ps(_mm256_setzero_ps(), xv));
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_div_ps(xv, _mm256_add_ps(one, e)),
                                              _mm256_loadu_ps(g + i)));
    }
    for (int i = nv; i < n; i++)
        y[i] = x[i] / (1.0f + expf(-x[i])) * g[i];
}

OPS_AVX2 static void silu_avx2(int n, const float *x, float *y) {
    const int nv = n - n % 16;
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int i = 0; i < nv; i += 8) {
        const __m256 xv = _mm256_loadu_ps(x + i);
        const __m256 e = v8_expf(_mm256_sub_ps(_mm256_setzero_ps(), xv));
        _mm256_storeu_ps(y + i, _mm256_div_ps(xv, _mm256_add_ps(one, e)));
    }
    for (int i = nv; i < n; i++)
        y[i] = x[i] / (1.0f + expf(-x[i]));
}

/* softmax_ref with the exponentials of whole 16-lane chunks 8 at a time */
OPS_AVX2 static void softmax_avx2(int n, float *s, int f16, float sink) {
    float mx = sink;
    for (int j = 0; j < n; j++)
        if (s[j] > mx)
            mx = s[j];
    const __m256 mv = _mm256_set1_ps(mx);
    double sum = 0;
    for (int j0 = 0; j0 < n; j0 += 16) {
        float lane[16] = {0};
        if (j0 + 16 <= n) {
            const __m256 e0 = v8_expf(_mm256_sub_ps(_mm256_loadu_ps(s + j0), mv));
            const __m256 e1 = v8_expf(_mm256_sub_ps(_mm256_loadu_ps(s + j0 + 8), mv));
            _mm256_storeu_ps(s + j0, e0);
            _mm256_storeu_ps(s + j0 + 8, e1);
            _mm256_storeu_ps(lane, e0);
            _mm256_storeu_ps(lane + 8, e1);
        } else {
            for (int l = 0; l < 16 && j0 + l < n; l++)
                lane[l] = s[j0 + l] = ops_expf(s[j0 + l] - mx);
        }
        sum += ops_reduce16(lane);
    }
    if (sink > -INFINITY)
        sum += (double)expf(sink - mx);
    const float inv = (float)(1.0 / sum);
    for (int j = 0; j < n; j++)
        s[j] = f16 ? ops_f16_round(s[j] * inv) : s[j] * inv;
}

/* hd % 16 == 0 */
OPS_AVX2 static void scores_avx2(const void *k, size_t stride, int f16, int n_pos, const float *q,
                                 int hd, float scale, float *s) {
    for (int j = 0; j < n_pos; j++) {
        const size_t row = (size_t)j * stride;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        for (int d = 0; d < hd; d += 16) {
            a0 = _mm256_fmadd_ps(load8(k, row + d, f16), _mm256_loadu_ps(q + d), a0);
            a1 = _mm256_fmadd_ps(load8(k, row + d + 8, f16), _mm256_loadu_ps(q + d + 8), a1);
        }
        /* ops_reduce16 in registers: t8 = a[l + 8] + a[l], t4 = t8[l + 4] + t8[l], then
         * (t4[0] + t4[2]) + (t4[1] + t4[3]) */
        const __m256 t8 = _mm256_add_ps(a1, a0);
        const __m128 t4 = _mm_add_ps(_mm256_extractf128_ps(t8, 1), _mm256_castps256_ps128(t8));
        const __m128 t2 = _mm_add_ps(_mm_movehl_ps(t4, t4), t4);
        s[j] = _mm_cvtss_f32(_mm_add_ss(t2, _mm_shuffle_ps(t2, t2, 1))) * scale;
    }
}

/* hd % 8 == 0 */
OPS_AVX2 static void mix_lanes_avx2(const void *v, size_t stride, int f16, int n,
                                    const float *p, int lane0, int hd, float *acc) {
    for (int j = 0; j < n; j++) {
        float *row = acc + (size_t)((lane0 + j) & 15) * hd;
        const __m256 pj = _mm256_set1_ps(p[j]);
        for (int i = 0; i < hd; i += 8)
            _mm256_storeu_ps(row + i, _mm256_fmadd_ps(load8(v, (size_t)j * stride + i, f16), pj,
                                                      _mm256_loadu_ps(row + i)));
    }
}
#endif

/* ---- NEON for the attention products (aarch64: the scalar ones' 16 lanes as four vectors;
 * vfmaq_f32 is fmaf, an F16 value converts exactly) ---- */
#ifdef OPS_NEON
static inline float32x4_t load4(const void *base, size_t idx, int f16) {
    if (f16)
        return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)base + idx)));
    return vld1q_f32((const float *)base + idx);
}

/* hd % 16 == 0; ops_reduce16: t8 = a[l + 8] + a[l], t4 = t8[l + 4] + t8[l], then
 * (t4[0] + t4[2]) + (t4[1] + t4[3]) */
static void scores_neon(const void *k, size_t stride, int f16, int n_pos, const float *q, int hd,
                        float scale, float *s) {
    for (int j = 0; j < n_pos; j++) {
        const size_t row = (size_t)j * stride;
        float32x4_t a0 = vdupq_n_f32(0), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < hd; d += 16) {
            a0 = vfmaq_f32(a0, load4(k, row + d, f16), vld1q_f32(q + d));
            a1 = vfmaq_f32(a1, load4(k, row + d + 4, f16), vld1q_f32(q + d + 4));
            a2 = vfmaq_f32(a2, load4(k, row + d + 8, f16), vld1q_f32(q + d + 8));
            a3 = vfmaq_f32(a3, load4(k, row + d + 12, f16), vld1q_f32(q + d + 12));
        }
        const float32x4_t t4 = vaddq_f32(vaddq_f32(a3, a1), vaddq_f32(a2, a0));
        s[j] = ((vgetq_lane_f32(t4, 0) + vgetq_lane_f32(t4, 2)) +
                (vgetq_lane_f32(t4, 1) + vgetq_lane_f32(t4, 3))) * scale;
    }
}

/* hd % 4 == 0 */
static void mix_lanes_neon(const void *v, size_t stride, int f16, int n, const float *p,
                           int lane0, int hd, float *acc) {
    for (int j = 0; j < n; j++) {
        float *row = acc + (size_t)((lane0 + j) & 15) * hd;
        const float32x4_t pj = vdupq_n_f32(p[j]);
        for (int i = 0; i < hd; i += 4)
            vst1q_f32(row + i, vfmaq_f32(vld1q_f32(row + i), load4(v, (size_t)j * stride + i, f16),
                                         pj));
    }
}

/* NEON unless the kernels are forced scalar. */
static int ops_use_neon(void) { return quant_level_active() != QUANT_SCALAR; }
#endif

/* ---- dispatch ---- */

#ifdef OPS_X86
static pthread_once_t ops_once = PTHREAD_ONCE_INIT;
static int ops_have_avx512, ops_have_avx2;

static void ops_detect(void) {
    __builtin_cpu_init();
    ops_have_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma") &&
                      quant_cpu_has_f16c();
    ops_have_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    quant_cpu_has_f16c();
}

/* AVX2 for what has no AVX-512 path in use, unless the kernels are forced scalar. */
static int ops_use_avx2(void) {
    pthread_once(&ops_once, ops_detect);
    return ops_have_avx2 && quant_level_active() != QUANT_SCALAR;
}

/* AVX-512 unless the CPU lacks it or the kernels run below it (NATTER_SIMD=avx2 measures an
 * AVX2 machine; scalar when forced, tests). */
static int ops_use_avx512(void) {
    pthread_once(&ops_once, ops_detect);
    const enum quant_level lv = quant_level_active();
    return ops_have_avx512 && (lv == QUANT_AVX512 || lv == QUANT_AVX512VNNI);
}
#endif

/* ggml's GELU table (GGML_GELU_FP16): gelu (tanh form) of every F16 value, rounded to F16. */
static uint16_t gelu_table[1 << 16];
static pthread_once_t gelu_once = PTHREAD_ONCE_INIT;

static void gelu_table_init(void) {
    for (int i = 0; i < 1 << 16; i++) {
        const float x = quant_f16_to_f32((uint16_t)i);
        const float y = 0.5f * x *
                        (1.0f + tanhf(0.79788456080286535587989211986876f * x *
                                      (1.0f + 0.044715f * x * x)));
        gelu_table[i] = quant_f32_to_f16(y);
    }
}

void ops_gelu(int n, const float *x, float *y) {
    pthread_once(&gelu_once, gelu_table_init);
    for (int i = 0; i < n; i++) {
        const float xi = x[i];
        y[i] = xi <= -10.0f ? 0.0f
             : xi >= 10.0f  ? xi
                            : quant_f16_to_f32(gelu_table[quant_f32_to_f16(xi)]);
    }
}

void ops_gelu_mul(int n, const float *x, const float *g, float *y) {
    pthread_once(&gelu_once, gelu_table_init);
    for (int i = 0; i < n; i++) {
        const float xi = x[i];
        if (xi <= -10.0f)
            y[i] = 0.0f;
        else if (xi >= 10.0f)
            y[i] = xi * g[i];
        else
            y[i] = quant_f16_to_f32(gelu_table[quant_f32_to_f16(xi)]) * g[i];
    }
}

void ops_silu_mul(int n, const float *x, const float *g, float *y) {
#ifdef OPS_X86
    if (ops_use_avx512()) {
        silu_mul_avx512(n, x, g, y);
        return;
    }
    if (ops_use_avx2()) {
        silu_mul_avx2(n, x, g, y);
        return;
    }
#endif
    silu_mul_ref(n, x, g, y);
}

void ops_silu(int n, const float *x, float *y) {
#ifdef OPS_X86
    if (ops_use_avx512()) {
        silu_avx512(n, x, y);
        return;
    }
    if (ops_use_avx2()) {
        silu_avx2(n, x, y);
        return;
    }
#endif
    silu_ref(n, x, y);
}

void ops_conv_causal(int kw, int ch_n, int n_tok, const float *x, const float *wt, float *y,
                     size_t ldy) {
#ifdef OPS_X86
    if (ops_use_avx512()) {
        conv_causal_avx512(kw, ch_n, n_tok, x, wt, y, ldy);
        return;
    }
#endif
    conv_causal_ref(kw, ch_n, n_tok, x, wt, y, ldy);
}

void ops_gdn_step(int d, float *S, const float *q, const float *k, const float *v, float eg,
                  float beta, float scale, float *o) {
#ifdef OPS_X86
    if (ops_use_avx512()) {
        gdn_step_avx512(d, S, q, k, v, eg, beta, scale, o);
        return;
    }
#endif
    gdn_step_ref(d, S, q, k, v, eg, beta, scale, o);
}

void ops_ssm_step(int p, int n, float *S, const float *x, float dt, float dA, const float *B,
                  const float *C, float D, float *y) {
#ifdef OPS_X86
    if (ops_use_avx512()) {
        ssm_step_avx512(p, n, S, x, dt, dA, B, C, D, y);
        return;
    }
#endif
    ssm_step_ref(p, n, S, x, dt, dA, B, C, D, y);
}

#ifdef OPS_X86
/* 32 values of a block: q (16 in each half) times d, as the scalar value * d */
/* kv_load16's values of each row, stored: the tile's floats are the in-place kernels' bits. */
OPS_TARGET static inline __attribute__((always_inline)) void kv_dequant_avx512_kind(
    const void *src, size_t row_bytes, const int K, int n_rows, int hd, float *dst) {
    for (int r = 0; r < n_rows; r++) {
        kv_row_prefetch((const char *)src + (size_t)r * row_bytes, row_bytes);
        for (int d = 0; d < hd; d += 16)
            _mm512_storeu_ps(dst + (size_t)r * hd + d, kv_load16(src, row_bytes, K, (size_t)r, d));
    }
}

OPS_TARGET static void kv_dequant_avx512(const void *src, size_t row_bytes, int kind, int n_rows,
                                         int hd, float *dst) {
    if (kind == KV_F16)
        kv_dequant_avx512_kind(src, row_bytes, KV_F16, n_rows, hd, dst);
    else if (kind == KV_Q8_0)
        kv_dequant_avx512_kind(src, row_bytes, KV_Q8_0, n_rows, hd, dst);
    else
        kv_dequant_avx512_kind(src, row_bytes, KV_Q4_0, n_rows, hd, dst);
}
#endif

void ops_kv_dequant(const void *src, size_t row_bytes, uint32_t t, int n_rows, int hd,
                    float *dst) {
#ifdef OPS_X86
    const int kind = attn_kind(t, hd);
    if (kind > KV_F32 && ops_use_avx512()) {
        kv_dequant_avx512(src, row_bytes, kind, n_rows, hd, dst);
        return;
    }
#endif
    if (t == GGML_TYPE_F16) {
        kv_dequant_f16(src, row_bytes, n_rows, hd, dst);
        return;
    }
    kv_dequant_ref(src, row_bytes, t, n_rows, hd, dst);
}

void ops_attn_scores(const void *k, size_t stride, int f16, int n_pos, const float *q, int hd,
                     float scale, float *s) {
#ifdef OPS_X86
    if (hd % 16 == 0 && ops_use_avx512()) {
        scores_avx512(k, stride, f16, n_pos, q, hd, scale, s);
        return;
    }
    if (hd % 16 == 0 && ops_use_avx2()) {
        scores_avx2(k, stride, f16, n_pos, q, hd, scale, s);
        return;
    }
#elif defined(OPS_NEON)
    if (hd % 16 == 0 && ops_use_neon()) {
        scores_neon(k, stride, f16, n_pos, q, hd, scale, s);
        return;
    }
#endif
    scores_ref(k, stride, f16, n_pos, q, hd, scale, s);
}

void ops_softmax_sink(int n, float *s, int f16, float sink) {
#ifdef OPS_X86
    if (ops_use_avx512()) {
        softmax_avx512(n, s, f16, sink);
        return;
    }
    if (ops_use_avx2()) {
        softmax_avx2(n, s, f16, sink);
        return;
    }
#endif
    softmax_ref(n, s, f16, sink);
}

void ops_softmax(int n, float *s, int f16) { ops_softmax_sink(n, s, f16, -INFINITY); }

void ops_attn_mix_lanes(const void *v, size_t stride, int f16, int n, const float *p, int lane0,
                        int hd, float *acc) {
#ifdef OPS_X86
    if (hd % 16 == 0 && ops_use_avx512()) {
        mix_lanes_avx512(v, stride, f16, n, p, lane0, hd, acc);
        return;
    }
    if (hd % 8 == 0 && ops_use_avx2()) {
        mix_lanes_avx2(v, stride, f16, n, p, lane0, hd, acc);
        return;
    }
#elif defined(OPS_NEON)
    if (hd % 4 == 0 && ops_use_neon()) {
        mix_lanes_neon(v, stride, f16, n, p, lane0, hd, acc);
        return;
    }
#endif
    mix_lanes_ref(v, stride, f16, n, p, lane0, hd, acc);
}


int ops_attn_reads_in_place(uint32_t type, int hd) {
#ifdef OPS_X86
    if (ops_use_avx512() && attn_kind(type, hd) >= 0)
        return 1;
#endif
    (void)hd;
    return type == GGML_TYPE_F32 || type == GGML_TYPE_F16;
}

void ops_attn_scores_n(const void *k, size_t row_bytes, uint32_t type, int n_pos,
                       const float *const *q, int nq, int hd, float scale, float *const *s) {
#ifdef OPS_X86
    const int kind = attn_kind(type, hd);
    if (kind >= 0 && nq <= OPS_ATTN_NQ && (nq > 1 || kind > KV_F16) && ops_use_avx512()) {
        scores_n_avx512(k, row_bytes, kind, n_pos, q, nq, hd, scale, s);
        return;
    }
#endif
    const int f16 = type == GGML_TYPE_F16;   /* F32 or F16 here (ops_attn_reads_in_place) */
    for (int i = 0; i < nq; i++)
        ops_attn_scores(k, row_bytes / (f16 ? 2 : 4), f16, n_pos, q[i], hd, scale, s[i]);
}

void ops_attn_mix_lanes_n(const void *v, size_t row_bytes, uint32_t type, int n,
                          const float *const *p, int nq, int lane0, int hd, float *const *acc) {
#ifdef OPS_X86
    const int kind = attn_kind(type, hd);
    if (kind >= 0 && nq <= OPS_ATTN_NQ && ops_use_avx512()) {
        mix_lanes_n_avx512(v, row_bytes, kind, n, p, nq, lane0, hd, acc);
        return;
    }
#endif
    const int f16 = type == GGML_TYPE_F16;
    for (int i = 0; i < nq; i++)
        ops_attn_mix_lanes(v, row_bytes / (f16 ? 2 : 4), f16, n, p[i], lane0, hd, acc[i]);
}

void ops_attn_mix_acc(const void *v, size_t stride, int f16, int j0, int j1, const float *p,
                      int hd, float *acc) {
    if (j1 > j0)
        ops_attn_mix_lanes((const char *)v + (size_t)j0 * stride * (f16 ? 2 : 4), stride, f16,
                           j1 - j0, p + j0, j0 & 15, hd, acc);
}

void ops_attn_mix_reduce(const float *acc, int hd, float *o) {
#ifdef OPS_X86
    if (hd % 16 == 0 && ops_use_avx512()) {
        mix_reduce_avx512(acc, hd, o);
        return;
    }
#endif
    lanes_reduce_ref(acc, hd, o);
}

void ops_attn_mix(const void *v, size_t stride, int f16, int n_pos, const float *p, int hd,
                  float *acc, float *o) {
    memset(acc, 0, (size_t)16 * hd * sizeof *acc);
    ops_attn_mix_acc(v, stride, f16, 0, n_pos, p, hd, acc);
    ops_attn_mix_reduce(acc, hd, o);
}

void ops_moe_route(int n_expert, int k, float *p, const float *sel_bias, int gating, int norm,
                   float scale, int *sel, float *w) {
    if (gating == 1)
        ops_softmax(n_expert, p, 0);
    else if (gating == 2)
        for (int e = 0; e < n_expert; e++)
            p[e] = 1.0f / (1.0f + expf(-p[e]));
    /* the k largest (with the selection bias, which the weights do not see), best first; ties
     * go to the lower id */
    for (int j = 0; j < k; j++) {
        int best = -1;
        float bv = 0;
        for (int e = 0; e < n_expert; e++) {
            int taken = 0;
            for (int q = 0; q < j && !taken; q++)
                taken = sel[q] == e;
            const float v = sel_bias ? p[e] + sel_bias[e] : p[e];
            if (!taken && (best < 0 || v > bv))
                best = e, bv = v;
        }
        sel[j] = best;
        w[j] = p[best];
    }
    if (gating == 3)
        ops_softmax(k, w, 0);
    if (norm) {   /* as llama.cpp: the sum clamped to F16's smallest normal */
        float sum = 0;
        for (int j = 0; j < k; j++)
            sum += w[j];
        if (sum < 6.103515625e-5f)
            sum = 6.103515625e-5f;
        for (int j = 0; j < k; j++)
            w[j] /= sum;
    }
    if (scale != 0.0f && scale != 1.0f)
        for (int j = 0; j < k; j++)
            w[j] *= scale;
}
