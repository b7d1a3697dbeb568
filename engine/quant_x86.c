/* engine/quant_x86.c — x86-64 SIMD kernels: AVX2+FMA, AVX-512 (F/BW/VL) and AVX-512 VNNI
 * variants of the dot products, tile kernels and F16 helpers (the bodies in quant_x86_kern.h,
 * the i-quants', ternary types' and MXFP4's in quant_x86_iq.h, both compiled once per ISA),
 * the 512-bit kernels, the repacked layouts' (512-bit here, 256-bit for AVX2 and AVX-VNNI in
 * quant_x86_rp.h), each function compiled for its ISA with
 * __attribute__((target)) (no global -m flags) and chosen at run time with
 * __builtin_cpu_supports. Pure; any thread. */
#include "quant_impl.h"

#if defined(__x86_64__) && defined(__GNUC__)

#include <cpuid.h>

/* F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports does not know "f16c"
 * (and the fuzz build, make fuzz, uses clang). */
int quant_cpu_has_f16c(void) {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
}

/* AVX-VNNI from CPUID leaf 7 subleaf 1 (EAX bit 4), for the same reason. */
static int quant_cpu_has_avx_vnni(void) {
    unsigned a, b, c, d;
    return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 4));
}

/* Whether the CPU runs level lv's kernels. */
static int quant_x86_supports(enum quant_level lv) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") || !quant_cpu_has_f16c())
        return 0;
    const int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                       __builtin_cpu_supports("avx512vl");
    switch (lv) {
    case QUANT_AVX2: return 1;
    case QUANT_AVX_VNNI: return quant_cpu_has_avx_vnni();
    case QUANT_AVX512: return avx512;
    case QUANT_AVX512VNNI: return avx512 && __builtin_cpu_supports("avx512vnni");
    default: return 0;
    }
}

enum quant_level quant_level_detect(void) {
    for (int lv = QUANT_AVX512VNNI; lv >= QUANT_AVX2; lv--)
        if (quant_x86_supports((enum quant_level)lv)) return (enum quant_level)lv;
    return QUANT_SCALAR;
}

#include <immintrin.h>
#include <pthread.h>

/* ---- AVX2 + FMA + F16C ---- */
#define KSUF(name) name##_avx2
#define KATTR static __attribute__((target("avx2,fma,f16c")))
#define DPB(acc, u, s) \
    _mm256_add_epi32((acc), _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), _mm256_set1_epi16(1)))
#define KTILES 1
#define KTILE_MAX_NR 2
#include "quant_x86_kern.h"
#undef KTILES
#undef KTILE_MAX_NR
#undef KSUF
#undef KATTR
#undef DPB

/* ---- AVX-VNNI: the AVX2 kernels with the VEX vpdpbusd (16 ymm registers, as AVX2) ---- */
#define KSUF(name) name##_avxvnni
#define KATTR static __attribute__((target("avx2,fma,f16c,avxvnni")))
#define DPB(acc, u, s) _mm256_dpbusd_avx_epi32((acc), (u), (s))
#define KTILES 1
#define KTILE_MAX_NR 2
#include "quant_x86_kern.h"
#undef KTILES
#undef KTILE_MAX_NR
#undef KSUF
#undef KATTR
#undef DPB

/* ---- AVX-512 VL + VNNI (256-bit vectors, 32 registers) ---- */
#define KSUF(name) name##_vnni
#define KATTR static __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define DPB(acc, u, s) _mm256_dpbusd_epi32((acc), (u), (s))
#define KTILES 1
#define KTILE_MAX_NR 4
#define KTILE_WIDE_U8 1
#define KAVX512 1
#include "quant_x86_kern.h"
#undef KTILES
#undef KTILE_MAX_NR
#undef KTILE_WIDE_U8
#undef KAVX512
#undef KSUF
#undef KATTR
#undef DPB

/* ---- AVX-512 (512-bit) vec_dot for the formats that dominate generation: two blocks of 32 per
 * vector, four per iteration. Lanes 0-7 hold block i, lanes 8-15 block i + 1. ---- */
#define Z512 static __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

/* dx * dy of four consecutive blocks (halves at byte stride xs / ys). */
Z512 inline __m128 z_dxy4(const uint8_t *xd, size_t xs, const uint8_t *yd, size_t ys) {
    uint64_t hx = 0, hy = 0;
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        uint16_t a, b;
        memcpy(&a, xd + k * xs, 2);
        memcpy(&b, yd + k * ys, 2);
        hx |= (uint64_t)a << (16 * k);
        hy |= (uint64_t)b << (16 * k);
    }
    const __m256 f = _mm256_cvtph_ps(_mm_set_epi64x((long long)hy, (long long)hx));
    return _mm_mul_ps(_mm256_castps256_ps128(f), _mm256_extractf128_ps(f, 1));
}

/* The Q8_0 quants of blocks y[0] and y[1]. */
Z512 inline __m512i z_y_pair(const block_q8_0 *y) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)y[0].qs)),
                              _mm256_loadu_si256((const __m256i *)y[1].qs), 1);
}

/* [lo nibbles of the 16 bytes at q0, high of q0, lo of q1, high of q1]: broadcasts from memory
 * and a per-lane variable shift, no cross-lane shuffles. */
Z512 inline __m512i z_nib_pair(const uint8_t *q0, const uint8_t *q1) {
    __m512i t = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)q0));
    t = _mm512_mask_broadcast_i32x4(t, 0xFF00, _mm_loadu_si128((const __m128i *)q1));
    t = _mm512_srlv_epi32(t, _mm512_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4, 0, 0, 0, 0, 4, 4, 4, 4));
    return _mm512_and_si512(t, _mm512_set1_epi8(0x0F));
}

Z512 inline __m512i z_q4_0_pair(const block_q4_0 *b) {
    return z_nib_pair(b[0].qs, b[1].qs);
}

Z512 inline __m512i z_q8_0_pair(const block_q8_0 *b) {
    return _mm512_xor_si512(z_y_pair(b), _mm512_set1_epi8((char)0x80));
}

/* ggml's 8 i32 lanes of a super-block from a 512-bit sum: lane k of the low half plus lane k of
 * the high half (the K-quant and IQ4_XS kernels' integer sums before their float step). */
Z512 inline __m256 z_halves8(__m512i v) {
    return _mm256_cvtepi32_ps(_mm256_add_epi32(_mm512_castsi512_si256(v),
                                               _mm512_extracti64x4_epi64(v, 1)));
}

/* The tile entry for NAME##_tile_z512_n (QUANT_TILE_SWITCH: nr, nc up to 4 each). */
#define Z_TILE_DISPATCH(NAME)                                                               \
    Z512 void NAME##_tile_z512(int n, float *s, size_t bs, const void *x, size_t bx,        \
                               const void *y, size_t by, int nr, int nc) {                  \
        const char *xc = x, *yc = y;                                                        \
        QUANT_TILE_SWITCH(NAME##_tile_z512_n)                                               \
    }

#define Z_VEC_DOT32(NAME, XT, PAIR, K)                                                      \
    Z512 void NAME##_vec_dot_z512(int n, float *s, const void *vx, const void *vy) {       \
        const XT *x = vx;                                                                   \
        const block_q8_0 *y = vy;                                                           \
        const int nb = n / 32;                                                              \
        const __m512i kk = _mm512_set1_epi8((char)(K));                                     \
        const __m512i i01 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1); \
        const __m512i i23 = _mm512_add_epi32(i01, _mm512_set1_epi32(2));                    \
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();                          \
        int i = 0;                                                                          \
        for (; i + 4 <= nb; i += 4) {                                                       \
            const __m128 d4 = z_dxy4((const uint8_t *)&x[i].d, sizeof(XT),                  \
                                     (const uint8_t *)&y[i].d, sizeof(block_q8_0));         \
            const __m512 d512 = _mm512_castps128_ps512(d4);                                 \
            const __m512i y0 = z_y_pair(y + i), y1 = z_y_pair(y + i + 2);                   \
            __m512i p0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), PAIR(x + i), y0);      \
            __m512i p1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), PAIR(x + i + 2), y1);  \
            p0 = _mm512_sub_epi32(p0, _mm512_dpbusd_epi32(_mm512_setzero_si512(), kk, y0));  \
            p1 = _mm512_sub_epi32(p1, _mm512_dpbusd_epi32(_mm512_setzero_si512(), kk, y1));  \
            a0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(i01, d512), _mm512_cvtepi32_ps(p0), a0); \
            a1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(i23, d512), _mm512_cvtepi32_ps(p1), a1); \
        }                                                                                   \
        __m256 t = _mm256_setzero_ps();                                                     \
        for (; i < nb; i++) t = fma_blk_vnni(NAME##_blk_vnni(x + i, y + i), x[i].d, y[i].d, t); \
        *s = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)) + hsum8_vnni(t);                   \
    }

Z_VEC_DOT32(q4_0, block_q4_0, z_q4_0_pair, 8)
Z_VEC_DOT32(q8_0, block_q8_0, z_q8_0_pair, 128)

/* Q4_K: 64 values (two sub-blocks) per vector: [low nibbles, high nibbles] of 32 bytes. */
Z512 void q4_K_vec_dot_z512(int n, float *s, const void *vx, const void *vy) {
    const block_q4_K *x = vx;
    const block_q8_K *y = vy;
    const int nb = n / QK_K;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i shift = _mm512_setr_epi64(0, 0, 0, 0, 4, 4, 4, 4);
    __m512i idx[4];
    for (int j = 0; j < 4; j++)
        idx[j] = _mm512_inserti64x4(_mm512_set1_epi16((short)(0x0100 + 0x0202 * (2 * j))),
                                    _mm256_set1_epi16((short)(0x0100 + 0x0202 * (2 * j + 1))), 1);
    __m256 acc = _mm256_setzero_ps();
    __m128 accm = _mm_setzero_ps();
    for (int i = 0; i < nb; i++) {
        const float d = y[i].d * _cvtsh_ss(x[i].d), dmin = y[i].d * _cvtsh_ss(x[i].dmin);
        const __m256i ms = k4_scales16_vnni(x[i].scales);
        const __m128i prod = k4_mins_vnni(y[i].bsums, _mm256_extracti128_si256(ms, 1));
        accm = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod), accm);
        const __m512i sc = _mm512_broadcast_i32x4(_mm256_castsi256_si128(ms));
        __m512i sumi = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * j)));
            const __m512i xv = _mm512_and_si512(_mm512_srlv_epi64(q, shift), m4);
            const __m512i yv = _mm512_loadu_si512((const void *)(y[i].qs + 64 * j));
            const __m512i p = _mm512_madd_epi16(_mm512_maddubs_epi16(xv, yv),
                                                _mm512_shuffle_epi8(sc, idx[j]));
            sumi = _mm512_add_epi32(sumi, p);
        }
        /* ggml's 8 lanes: sub-block 2j's lane k plus sub-block 2j+1's lane k */
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), z_halves8(sumi), acc);
    }
    __m128 m = _mm_add_ps(accm, _mm_movehl_ps(accm, accm));
    m = _mm_add_ss(m, _mm_movehdup_ps(m));
    *s = hsum8_vnni(acc) - _mm_cvtss_f32(m);
}

/* Q6_K: 64 values per vector; the 6-bit values of a 128-value half come from one 64-byte load
 * of ql and a broadcast of 32 bytes of qh. */
Z512 void q6_K_vec_dot_z512(int n, float *s, const void *vx, const void *vy) {
    const block_q6_K *x = vx;
    const block_q8_K *y = vy;
    const int nb = n / QK_K;
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    const __m512i m32s = _mm512_set1_epi8(32);
    const __m512i sh01 = _mm512_setr_epi64(4, 4, 4, 4, 2, 2, 2, 2);
    const __m512i sh23 = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
    __m512i idx[4];
    for (int k = 0; k < 4; k++) /* i16 lane groups of 8 take scales 4k .. 4k + 3 */
        idx[k] = _mm512_add_epi16(_mm512_set1_epi16((short)(4 * k)),
                                  _mm512_setr_epi64(0, 0, 0x0001000100010001LL, 0x0001000100010001LL,
                                                    0x0002000200020002LL, 0x0002000200020002LL,
                                                    0x0003000300030003LL, 0x0003000300030003LL));
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < nb; i++) {
        const __m512i sc = _mm512_castsi256_si512(
            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x[i].scales)));
        __m512i sumi = _mm512_setzero_si512();
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m512i l = _mm512_loadu_si512((const void *)(x[i].ql + 64 * h));
            const __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * h)));
            const __m512i q01 = _mm512_or_si512(_mm512_and_si512(l, m4),
                                                _mm512_and_si512(_mm512_sllv_epi64(hb, sh01), m30));
            const __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi64(l, 4), m4),
                                                _mm512_and_si512(_mm512_srlv_epi64(hb, sh23), m30));
            const __m512i y01 = _mm512_loadu_si512((const void *)(y[i].qs + 128 * h));
            const __m512i y23 = _mm512_loadu_si512((const void *)(y[i].qs + 128 * h + 64));
            /* the -32 offset per pair of products, as ggml */
            const __m512i p01 = _mm512_sub_epi16(_mm512_maddubs_epi16(q01, y01),
                                                 _mm512_maddubs_epi16(m32s, y01));
            const __m512i p23 = _mm512_sub_epi16(_mm512_maddubs_epi16(q23, y23),
                                                 _mm512_maddubs_epi16(m32s, y23));
            sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(p01, _mm512_permutexvar_epi16(idx[2 * h], sc)));
            sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(p23, _mm512_permutexvar_epi16(idx[2 * h + 1], sc)));
        }
        /* ggml's 8 lanes: lane k of every 32-value group */
        const float d = y[i].d * _cvtsh_ss(x[i].d);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), z_halves8(sumi), acc);
    }
    *s = hsum8_vnni(acc);
}

/* ---- 512-bit 4x4 tiles for Q4_0 / Q8_0 (prompt processing): two blocks per vector; each
 * (r, c) computed the same way whatever nr and nc are. ---- */

/* [d(b[0]) x 8, d(b[1]) x 8] for the two halves at p and p + stride. */
Z512 inline __m512 z_d_pair(const uint8_t *p, size_t stride) {
    uint16_t a, b;
    memcpy(&a, p, 2);
    memcpy(&b, p + stride, 2);
    const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128((int)(a | ((uint32_t)b << 16))));
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                                 _mm512_castps128_ps512(f));
}

#define Z_TILE32(NAME, XT, PAIR, K)                                                         \
    Z512 inline __attribute__((always_inline)) void NAME##_tile_z512_n(                    \
        int n, float *s, size_t bs, const char *x, size_t bx, const char *y, size_t by,     \
        const int NR, const int NC) {                                                       \
        __m512 acc[4][4];                                                                   \
        KUNROLL for (int r = 0; r < NR; r++) KUNROLL for (int c = 0; c < NC; c++)           \
            acc[r][c] = _mm512_setzero_ps();                                                \
        const __m512i kk = _mm512_set1_epi8((char)(K));                                     \
        const int nb = n / 32;                                                              \
        int i = 0;                                                                          \
        for (; i + 2 <= nb; i += 2) {                                                       \
            __m512i xu[4];                                                                  \
            __m512 dx[4];                                                                   \
            KUNROLL for (int r = 0; r < NR; r++) {                                          \
                const XT *xb = (const XT *)(x + (size_t)r * bx) + i;                        \
                xu[r] = PAIR(xb);                                                           \
                dx[r] = z_d_pair((const uint8_t *)&xb->d, sizeof(XT));                      \
            }                                                                               \
            KUNROLL for (int c = 0; c < NC; c++) {                                          \
                const block_q8_0 *yb = (const block_q8_0 *)(y + (size_t)c * by) + i;        \
                const __m512i yv = z_y_pair(yb);                                            \
                const __m512i off = _mm512_sub_epi32(_mm512_setzero_si512(),                \
                    _mm512_dpbusd_epi32(_mm512_setzero_si512(), kk, yv));                   \
                const __m512 dy = z_d_pair((const uint8_t *)&yb->d, sizeof(block_q8_0));    \
                KUNROLL for (int r = 0; r < NR; r++) {                                      \
                    const __m512i p = _mm512_dpbusd_epi32(off, xu[r], yv);                  \
                    acc[r][c] = _mm512_fmadd_ps(_mm512_mul_ps(dx[r], dy),                   \
                                                _mm512_cvtepi32_ps(p), acc[r][c]);          \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        if (i < nb) { /* an odd last block: 256-bit */                                      \
            KUNROLL for (int c = 0; c < NC; c++) {                                          \
                const block_q8_0 *yb = (const block_q8_0 *)(y + (size_t)c * by) + i;        \
                KUNROLL for (int r = 0; r < NR; r++) {                                      \
                    const XT *xb = (const XT *)(x + (size_t)r * bx) + i;                    \
                    const __m256 t = fma_blk_vnni(NAME##_blk_vnni(xb, yb), xb->d, yb->d,    \
                                                  _mm256_setzero_ps());                     \
                    acc[r][c] = _mm512_add_ps(acc[r][c], _mm512_zextps256_ps512(t));       \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
        KUNROLL for (int c = 0; c < NC; c++) KUNROLL for (int r = 0; r < NR; r++)           \
            s[(size_t)c * bs + (size_t)r] = _mm512_reduce_add_ps(acc[r][c]);                \
    }                                                                                       \
    Z_TILE_DISPATCH(NAME)

Z_TILE32(q4_0, block_q4_0, z_q4_0_pair, 8)
Z_TILE32(q8_0, block_q8_0, z_q8_0_pair, 128)

/* Q4_K 4x4 tile, 64 values (sub-blocks 2j and 2j + 1: [low nibbles, high nibbles]) per vector;
 * the scale multiply and the add in one vpdpwssd. The two 256-bit halves are added before the
 * float step, so every (r, c) gets the same integers and float operations as the 256-bit tile
 * (quant_x86_kern.h), whatever nr and nc are. */
Z512 inline __attribute__((always_inline)) void q4_K_tile_z512_n(
    int n, float *s, size_t bs, const char *x, size_t bx, const char *y, size_t by,
    const int NR, const int NC) {
    __m256 acc[4][4];
    __m128 accm[4][4]; /* the mins, apart (as ggml) */
    KUNROLL for (int r = 0; r < NR; r++) KUNROLL for (int c = 0; c < NC; c++) {
        acc[r][c] = _mm256_setzero_ps();
        accm[r][c] = _mm_setzero_ps();
    }
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i shift = _mm512_setr_epi64(0, 0, 0, 0, 4, 4, 4, 4);
    for (int i = 0; i < n / QK_K; i++) {
        float d[4], yd[4];
        __m512i sumi[4][4], sc[4];
        __m128i pairs[4];
        KUNROLL for (int c = 0; c < NC; c++) {
            const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
            yd[c] = yb->d;
            pairs[c] = q8k_sums32_vnni(yb->bsums);
        }
        KUNROLL for (int r = 0; r < NR; r++) {
            const block_q4_K *xb = (const block_q4_K *)(x + (size_t)r * bx) + i;
            const __m256i ms = k4_scales16_vnni(xb->scales);
            const __m128i mins = _mm256_extracti128_si256(ms, 1);
            sc[r] = _mm512_broadcast_i32x4(_mm256_castsi256_si128(ms));
            d[r] = _cvtsh_ss(xb->d);
            const float dmin = _cvtsh_ss(xb->dmin);
            KUNROLL for (int c = 0; c < NC; c++) {
                const __m128 mm = _mm_cvtepi32_ps(_mm_madd_epi16(mins, pairs[c]));
                accm[r][c] = _mm_fmadd_ps(_mm_set1_ps(dmin * yd[c]), mm, accm[r][c]);
                sumi[r][c] = _mm512_setzero_si512();
            }
        }
        KUNROLL for (int j = 0; j < 4; j++) {
            /* i16 lanes of the first half: scale 2j, of the second: scale 2j + 1 */
            const __m512i idx = _mm512_inserti64x4(
                _mm512_set1_epi16((short)(0x0100 + 0x0202 * (2 * j))),
                _mm256_set1_epi16((short)(0x0100 + 0x0202 * (2 * j + 1))), 1);
            __m512i xv[4], scj[4];
            KUNROLL for (int r = 0; r < NR; r++) {
                const block_q4_K *xb = (const block_q4_K *)(x + (size_t)r * bx) + i;
                const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(xb->qs + 32 * j)));
                xv[r] = _mm512_and_si512(_mm512_srlv_epi64(q, shift), m4);
                scj[r] = _mm512_shuffle_epi8(sc[r], idx);
            }
            KUNROLL for (int c = 0; c < NC; c++) {
                const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
                const __m512i yv = _mm512_loadu_si512((const void *)(yb->qs + 64 * j));
                KUNROLL for (int r = 0; r < NR; r++)
                    sumi[r][c] = _mm512_dpwssd_epi32(sumi[r][c], _mm512_maddubs_epi16(xv[r], yv), scj[r]);
            }
        }
        KUNROLL for (int c = 0; c < NC; c++) KUNROLL for (int r = 0; r < NR; r++)
            acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(d[r] * yd[c]), z_halves8(sumi[r][c]), acc[r][c]);
    }
    KUNROLL for (int c = 0; c < NC; c++) KUNROLL for (int r = 0; r < NR; r++) {
        __m128 m = _mm_add_ps(accm[r][c], _mm_movehl_ps(accm[r][c], accm[r][c]));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        s[(size_t)c * bs + (size_t)r] = hsum8_vnni(acc[r][c]) - _mm_cvtss_f32(m);
    }
}

Z_TILE_DISPATCH(q4_K)

/* Q6_K 4x4 tile, two 32-value groups per vector (as q6_K_vec_dot_z512); the -32 offset once
 * per column and vector, shared by the rows. Same integers and float steps as the 256-bit tile. */
Z512 inline __attribute__((always_inline)) void q6_K_tile_z512_n(
    int n, float *s, size_t bs, const char *x, size_t bx, const char *y, size_t by,
    const int NR, const int NC) {
    __m256 acc[4][4];
    KUNROLL for (int r = 0; r < NR; r++) KUNROLL for (int c = 0; c < NC; c++)
        acc[r][c] = _mm256_setzero_ps();
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    const __m512i m32s = _mm512_set1_epi8(32);
    const __m512i sh01 = _mm512_setr_epi64(4, 4, 4, 4, 2, 2, 2, 2);
    const __m512i sh23 = _mm512_setr_epi64(0, 0, 0, 0, 2, 2, 2, 2);
    const __m512i grp = _mm512_setr_epi64(0, 0, 0x0001000100010001LL, 0x0001000100010001LL,
                                          0x0002000200020002LL, 0x0002000200020002LL,
                                          0x0003000300030003LL, 0x0003000300030003LL);
    for (int i = 0; i < n / QK_K; i++) {
        __m512i sumi[4][4], sc[4];
        float d[4];
        KUNROLL for (int r = 0; r < NR; r++) {
            const block_q6_K *xb = (const block_q6_K *)(x + (size_t)r * bx) + i;
            d[r] = _cvtsh_ss(xb->d);
            sc[r] = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)xb->scales)));
            KUNROLL for (int c = 0; c < NC; c++) sumi[r][c] = _mm512_setzero_si512();
        }
        for (int k = 0; k < 4; k++) { /* values 64k .. 64k + 63 */
            const int h = k >> 1;
            /* i16 lane groups of 8 take scales 4k .. 4k + 3 */
            const __m512i idx = _mm512_add_epi16(_mm512_set1_epi16((short)(4 * k)), grp);
            __m512i q[4], scv[4];
            KUNROLL for (int r = 0; r < NR; r++) {
                const block_q6_K *xb = (const block_q6_K *)(x + (size_t)r * bx) + i;
                const __m512i l = _mm512_loadu_si512((const void *)(xb->ql + 64 * h));
                const __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(xb->qh + 32 * h)));
                q[r] = (k & 1) ? _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi64(l, 4), m4),
                                                 _mm512_and_si512(_mm512_srlv_epi64(hb, sh23), m30))
                               : _mm512_or_si512(_mm512_and_si512(l, m4),
                                                 _mm512_and_si512(_mm512_sllv_epi64(hb, sh01), m30));
                scv[r] = _mm512_permutexvar_epi16(idx, sc[r]);
            }
            KUNROLL for (int c = 0; c < NC; c++) {
                const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
                const __m512i yv = _mm512_loadu_si512((const void *)(yb->qs + 64 * k));
                const __m512i q8s = _mm512_maddubs_epi16(m32s, yv);
                KUNROLL for (int r = 0; r < NR; r++)
                    sumi[r][c] = _mm512_dpwssd_epi32(
                        sumi[r][c], _mm512_sub_epi16(_mm512_maddubs_epi16(q[r], yv), q8s), scv[r]);
            }
        }
        KUNROLL for (int c = 0; c < NC; c++) {
            const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
            KUNROLL for (int r = 0; r < NR; r++)
                acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(d[r] * yb->d), z_halves8(sumi[r][c]), acc[r][c]);
        }
    }
    KUNROLL for (int c = 0; c < NC; c++) KUNROLL for (int r = 0; r < NR; r++)
        s[(size_t)c * bs + (size_t)r] = hsum8_vnni(acc[r][c]);
}

Z_TILE_DISPATCH(q6_K)

/* IQ4_XS 4x4 tile, two 32-value sub-blocks per vector (2j in the low half, 2j + 1 in the high);
 * AVX-512 has no vpsignb: |w| and y negated where w < 0 (a mask), the scale and the add in one
 * vpdpwssd. The halves are added before the float step: every (r, c) gets the 8 i32 lanes and
 * the float steps of iq4_xs_vec_dot_vnni, whatever nr and nc are. */
Z512 inline __attribute__((always_inline)) void iq4_xs_tile_z512_n(
    int n, float *s, size_t bs, const char *x, size_t bx, const char *y, size_t by,
    const int NR, const int NC) {
    __m256 acc[4][4];
    KUNROLL for (int r = 0; r < NR; r++) KUNROLL for (int c = 0; c < NC; c++)
        acc[r][c] = _mm256_setzero_ps();
    const __m512i kv = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)quant_kvalues_iq4nl));
    for (int i = 0; i < n / QK_K; i++) {
        __m512i sumi[4][4];
        float d[4];
        KUNROLL for (int r = 0; r < NR; r++) {
            d[r] = _cvtsh_ss(((const block_iq4_xs *)(x + (size_t)r * bx) + i)->d);
            KUNROLL for (int c = 0; c < NC; c++) sumi[r][c] = _mm512_setzero_si512();
        }
        for (int j = 0; j < QK_K / 64; j++) {
            __m512i ax[4], sc[4];
            __mmask64 neg[4];
            KUNROLL for (int r = 0; r < NR; r++) {
                const block_iq4_xs *xb = (const block_iq4_xs *)(x + (size_t)r * bx) + i;
                const __m512i xv = _mm512_shuffle_epi8(kv, z_nib_pair(xb->qs + 32 * j, xb->qs + 32 * j + 16));
                ax[r] = _mm512_abs_epi8(xv);
                neg[r] = _mm512_movepi8_mask(xv);
                sc[r] = _mm512_inserti64x4(_mm512_set1_epi16((short)quant_iq4_xs_scale(xb, 2 * j)),
                                           _mm256_set1_epi16((short)quant_iq4_xs_scale(xb, 2 * j + 1)), 1);
            }
            KUNROLL for (int c = 0; c < NC; c++) {
                const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
                const __m512i yv = _mm512_loadu_si512((const void *)(yb->qs + 64 * j));
                KUNROLL for (int r = 0; r < NR; r++) {
                    const __m512i sy = _mm512_mask_sub_epi8(yv, neg[r], _mm512_setzero_si512(), yv);
                    sumi[r][c] = _mm512_dpwssd_epi32(sumi[r][c], _mm512_maddubs_epi16(ax[r], sy), sc[r]);
                }
            }
        }
        KUNROLL for (int c = 0; c < NC; c++) {
            const float yd = ((const block_q8_K *)(y + (size_t)c * by) + i)->d;
            KUNROLL for (int r = 0; r < NR; r++)
                acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(yd * d[r]), z_halves8(sumi[r][c]), acc[r][c]);
        }
    }
    KUNROLL for (int c = 0; c < NC; c++) KUNROLL for (int r = 0; r < NR; r++)
        s[(size_t)c * bs + (size_t)r] = hsum8_vnni(acc[r][c]);
}

Z_TILE_DISPATCH(iq4_xs)

/* ---- repacked weights (quant_repack.c): one row per 32-bit lane, 16 rows per vector. The
 * activations' 4 bytes of a step are broadcast to every lane (vpdpbusd's memory operand); the
 * integer sums are exact, the float steps those of the scalar references, in the same order. ---- */

#define KUNROLL8 _Pragma("GCC unroll 8")
/* Bytes ahead of the weights being read that the one-column (generation) kernels prefetch. */
#define Z_RP_PREFETCH 4096

Z512 inline int32_t z_ld32(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Q4_0x16 / Q8_0x16 x nc Q8_0S columns, NC <= 8 at a time (8 float accumulators; the 8
 * weight vectors of a block, as unsigned bytes, shared by the NC columns); K: the offset of
 * the unsigned quants (8 or 128), QB: bytes of quants per block of 16 rows. */
Z512 inline __attribute__((always_inline)) void rp32_gemm_z512_n(
    const int K, const int QB, int nb, float *s, size_t bs, const uint8_t *g, const uint8_t *y,
    size_t by, const int NC) {
    const uint8_t *qs = g + (size_t)nb * QUANT_RP_ROWS * 2;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc[8];
    KUNROLL8 for (int c = 0; c < NC; c++) acc[c] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const __m512 dx = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(g + (size_t)b * 32)));
        const uint8_t *q = qs + (size_t)b * QB;
        __m512i w[8];
        KUNROLL8 for (int m = 0; m < QB / 64; m++) {
            const __m512i v = _mm512_loadu_si512((const void *)(q + 64 * m));
            if (NC == 1) /* generation: the weights stream from memory once */
                _mm_prefetch((const char *)(q + 64 * m + Z_RP_PREFETCH), _MM_HINT_T0);
            if (QB == 256) { /* nibbles: values 4m.. low, 16 + 4m.. high */
                w[m] = _mm512_and_si512(v, m4);
                w[m + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
            } else {
                w[m] = v;
            }
        }
        KUNROLL8 for (int c = 0; c < NC; c++) {
            const block_q8_0s *yb = (const block_q8_0s *)(y + (size_t)c * by) + b;
            __m512i ia = _mm512_set1_epi32(-K * yb->s);
            KUNROLL8 for (int m = 0; m < 8; m++)
                ia = _mm512_dpbusd_epi32(ia, w[m], _mm512_set1_epi32(z_ld32(yb->qs + 4 * m)));
            acc[c] = _mm512_fmadd_ps(_mm512_mul_ps(dx, _mm512_set1_ps(yb->d)),
                                     _mm512_cvtepi32_ps(ia), acc[c]);
        }
    }
    KUNROLL8 for (int c = 0; c < NC; c++) _mm512_storeu_ps(s + (size_t)c * bs, acc[c]);
}

/* Calls F(..., NC) for nc columns in steps of at most 8, NC a constant in each call. */
#define Z_RP_COLS(F, ...)                                                                   \
    for (int c = 0; c < nc; c += 8) {                                                       \
        float *sc = s + (size_t)c * bs;                                                     \
        const uint8_t *yc = (const uint8_t *)vy + (size_t)c * by;                           \
        switch (nc - c < 8 ? nc - c : 8) {                                                  \
        case 1: F(__VA_ARGS__, sc, bs, g, yc, by, 1); break;                                \
        case 2: F(__VA_ARGS__, sc, bs, g, yc, by, 2); break;                                \
        case 3: F(__VA_ARGS__, sc, bs, g, yc, by, 3); break;                                \
        case 4: F(__VA_ARGS__, sc, bs, g, yc, by, 4); break;                                \
        case 5: F(__VA_ARGS__, sc, bs, g, yc, by, 5); break;                                \
        case 6: F(__VA_ARGS__, sc, bs, g, yc, by, 6); break;                                \
        case 7: F(__VA_ARGS__, sc, bs, g, yc, by, 7); break;                                \
        default: F(__VA_ARGS__, sc, bs, g, yc, by, 8); break;                               \
        }                                                                                   \
    }

Z512 void q4_0x16_gemm_z512(int n, float *s, size_t bs, const void *vg, const void *vy,
                            size_t by, int nc) {
    const uint8_t *g = vg;
    Z_RP_COLS(rp32_gemm_z512_n, 8, 256, n / QK4_0)
}

Z512 void q8_0x16_gemm_z512(int n, float *s, size_t bs, const void *vg, const void *vy,
                            size_t by, int nc) {
    const uint8_t *g = vg;
    Z_RP_COLS(rp32_gemm_z512_n, 128, 512, n / QK8_0)
}

/* 2^(e - 128) for the 16 E8M0 scale bytes at e (quant_e8m0_half; subnormal for e < 2). */
Z512 inline __m512 z_e8m0_half16(const uint8_t *e) {
    const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)e));
    const __m512i normal = _mm512_slli_epi32(_mm512_sub_epi32(v, _mm512_set1_epi32(1)), 23);
    const __m512i sub = _mm512_sllv_epi32(_mm512_set1_epi32(0x00200000), v);
    return _mm512_castsi512_ps(_mm512_mask_blend_epi32(
        _mm512_cmplt_epu32_mask(v, _mm512_set1_epi32(2)), normal, sub));
}

/* MXFP4x16 x NC <= 8 Q8_0S columns, as Q4_0x16: the nibbles through a table of the values
 * + 128 (vpshufb), the offset from the block sums. */
Z512 inline __attribute__((always_inline)) void mxfp4x16_gemm_z512_n(
    int nb, float *s, size_t bs, const uint8_t *g, const uint8_t *y, size_t by, const int NC) {
    const uint8_t *qs = g + (size_t)nb * QUANT_RP_ROWS;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i tbl = _mm512_broadcast_i32x4(_mm_xor_si128(
        _mm_loadu_si128((const __m128i *)quant_kvalues_mxfp4), _mm_set1_epi8((char)0x80)));
    __m512 acc[8];
    KUNROLL8 for (int c = 0; c < NC; c++) acc[c] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const __m512 dx = z_e8m0_half16(g + (size_t)b * QUANT_RP_ROWS);
        const uint8_t *q = qs + (size_t)b * 256;
        __m512i w[8];
        KUNROLL8 for (int m = 0; m < 4; m++) {
            const __m512i v = _mm512_loadu_si512((const void *)(q + 64 * m));
            if (NC == 1) /* generation: the weights stream from memory once */
                _mm_prefetch((const char *)(q + 64 * m + Z_RP_PREFETCH), _MM_HINT_T0);
            w[m] = _mm512_shuffle_epi8(tbl, _mm512_and_si512(v, m4));
            w[m + 4] = _mm512_shuffle_epi8(tbl, _mm512_and_si512(_mm512_srli_epi16(v, 4), m4));
        }
        KUNROLL8 for (int c = 0; c < NC; c++) {
            const block_q8_0s *yb = (const block_q8_0s *)(y + (size_t)c * by) + b;
            __m512i ia = _mm512_set1_epi32(-128 * yb->s);
            KUNROLL8 for (int m = 0; m < 8; m++)
                ia = _mm512_dpbusd_epi32(ia, w[m], _mm512_set1_epi32(z_ld32(yb->qs + 4 * m)));
            acc[c] = _mm512_fmadd_ps(_mm512_mul_ps(dx, _mm512_set1_ps(yb->d)),
                                     _mm512_cvtepi32_ps(ia), acc[c]);
        }
    }
    KUNROLL8 for (int c = 0; c < NC; c++) _mm512_storeu_ps(s + (size_t)c * bs, acc[c]);
}

Z512 void mxfp4x16_gemm_z512(int n, float *s, size_t bs, const void *vg, const void *vy,
                             size_t by, int nc) {
    const uint8_t *g = vg;
    Z_RP_COLS(mxfp4x16_gemm_z512_n, n / QK_MXFP4)
}

/* Q4_Kx16 x nc Q8_K columns, NC <= 4 at a time: per sub-block the 8 decoded weight vectors
 * are shared by the NC columns; each column's 8 dot steps give the sub-block's sum per row,
 * times the row's scale (vpmulld), summed over the superblock; the mins against the column's
 * 32-value sums in 4 vpdpwssd. */
Z512 inline __attribute__((always_inline)) void q4_Kx16_gemm_z512_n(
    int nsb, float *s, size_t bs, const uint8_t *g, const uint8_t *y, size_t by, const int NC) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc[4], accm[4];
    KUNROLL8 for (int c = 0; c < NC; c++) acc[c] = accm[c] = _mm512_setzero_ps();
    for (int i = 0; i < nsb; i++, g += Q4KX16_SB) {
        __m512i isum[4];
        KUNROLL8 for (int c = 0; c < NC; c++) isum[c] = _mm512_setzero_si512();
        for (int j = 0; j < 8; j++) {
            const __m512i sc = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(g + Q4KX16_SC + 16 * j)));
            const uint8_t *q = g + Q4KX16_QS + 512 * (j / 2);
            __m512i w[8];
            KUNROLL8 for (int m = 0; m < 8; m++) {
                __m512i v = _mm512_loadu_si512((const void *)(q + 64 * m));
                if (NC == 1 && !(j & 1))
                    _mm_prefetch((const char *)(q + 64 * m + Z_RP_PREFETCH), _MM_HINT_T0);
                if (j & 1) v = _mm512_srli_epi16(v, 4);
                w[m] = _mm512_and_si512(v, m4);
            }
            KUNROLL8 for (int c = 0; c < NC; c++) {
                const int8_t *yq = ((const block_q8_K *)(y + (size_t)c * by) + i)->qs + 32 * j;
                __m512i t = _mm512_setzero_si512();
                KUNROLL8 for (int m = 0; m < 8; m++)
                    t = _mm512_dpbusd_epi32(t, w[m], _mm512_set1_epi32(z_ld32(yq + 4 * m)));
                isum[c] = _mm512_add_epi32(isum[c], _mm512_mullo_epi32(t, sc));
            }
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)g));
        const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(g + Q4KX16_DMIN)));
        KUNROLL8 for (int c = 0; c < NC; c++) {
            const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
            /* the 8 sums of 32 values, as 4 pairs of halves (sub-blocks 2k, 2k + 1) */
            const __m512i pairs512 = _mm512_castsi128_si512(q8k_sums32_vnni(yb->bsums));
            __m512i imin = _mm512_setzero_si512();
            KUNROLL8 for (int k = 0; k < 4; k++) {
                const __m512i mn = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(g + Q4KX16_MN + 32 * k)));
                imin = _mm512_dpwssd_epi32(imin, mn, _mm512_permutexvar_epi32(
                                                         _mm512_set1_epi32(k), pairs512));
            }
            const __m512 yd = _mm512_set1_ps(yb->d);
            acc[c] = _mm512_fmadd_ps(_mm512_mul_ps(d, yd), _mm512_cvtepi32_ps(isum[c]), acc[c]);
            accm[c] = _mm512_fmadd_ps(_mm512_mul_ps(dmin, yd), _mm512_cvtepi32_ps(imin), accm[c]);
        }
    }
    KUNROLL8 for (int c = 0; c < NC; c++)
        _mm512_storeu_ps(s + (size_t)c * bs, _mm512_sub_ps(acc[c], accm[c]));
}

/* Calls F(..., NC) for nc columns in steps of at most 4, NC a constant in each call. */
#define Z_RP_COLS4(F, ...)                                                                  \
    for (int c = 0; c < nc; c += 4) {                                                       \
        float *sc = s + (size_t)c * bs;                                                     \
        const uint8_t *yc = (const uint8_t *)vy + (size_t)c * by;                           \
        switch (nc - c < 4 ? nc - c : 4) {                                                  \
        case 1: F(__VA_ARGS__, sc, bs, vg, yc, by, 1); break;                               \
        case 2: F(__VA_ARGS__, sc, bs, vg, yc, by, 2); break;                               \
        case 3: F(__VA_ARGS__, sc, bs, vg, yc, by, 3); break;                               \
        default: F(__VA_ARGS__, sc, bs, vg, yc, by, 4); break;                              \
        }                                                                                   \
    }

Z512 void q4_Kx16_gemm_z512(int n, float *s, size_t bs, const void *vg, const void *vy,
                            size_t by, int nc) {
    Z_RP_COLS4(q4_Kx16_gemm_z512_n, n / QK_K)
}

/* Q6_Kx16 x nc Q8_K columns, NC <= 4 at a time: per 32 values of a half (k) the 8 decoded
 * 6-bit weight vectors are shared by the NC columns; each 16-value group's sum starts at
 * -32 * (the column's sum of the group) so it is the signed product, then is multiplied by the
 * rows' scales (vpmulld) and summed over the superblock. */
Z512 inline __attribute__((always_inline)) void q6_Kx16_gemm_z512_n(
    int nsb, float *s, size_t bs, const uint8_t *g, const uint8_t *y, size_t by, const int NC) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    __m512 acc[4];
    KUNROLL8 for (int c = 0; c < NC; c++) acc[c] = _mm512_setzero_ps();
    for (int i = 0; i < nsb; i++, g += Q6KX16_SB) {
        __m512i isum[4];
        KUNROLL8 for (int c = 0; c < NC; c++) isum[c] = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = g + Q6KX16_QL + 1024 * h, *qh = g + Q6KX16_QH + 512 * h;
            if (NC == 1) { /* generation: the weights stream from memory once */
                KUNROLL8 for (int m = 0; m < 16; m++)
                    _mm_prefetch((const char *)(ql + 64 * m + Z_RP_PREFETCH), _MM_HINT_T0);
                KUNROLL8 for (int m = 0; m < 8; m++)
                    _mm_prefetch((const char *)(qh + 64 * m + Z_RP_PREFETCH), _MM_HINT_T0);
            }
            KUNROLL8 for (int k = 0; k < 4; k++) {
                const int k16 = 8 * h + 2 * k; /* the first of the two 16-value groups */
                const __m512i sc0 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(g + Q6KX16_SC + 16 * k16)));
                const __m512i sc1 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(g + Q6KX16_SC + 16 * k16 + 16)));
                __m512i w[8];
                KUNROLL8 for (int j = 0; j < 8; j++) {
                    __m512i lo = _mm512_loadu_si512((const void *)(ql + 64 * (j + 8 * (k & 1))));
                    __m512i hi = _mm512_loadu_si512((const void *)(qh + 64 * j));
                    lo = k >= 2 ? _mm512_srli_epi16(lo, 4) : lo;
                    hi = k == 0 ? _mm512_slli_epi16(hi, 4)
                       : k == 1 ? _mm512_slli_epi16(hi, 2)
                       : k == 2 ? hi : _mm512_srli_epi16(hi, 2);
                    /* (lo & 0x0F) | (hi & 0x30) */
                    w[j] = _mm512_ternarylogic_epi32(_mm512_and_si512(lo, m4), hi, m30, 0xF8);
                }
                KUNROLL8 for (int c = 0; c < NC; c++) {
                    const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
                    const int8_t *yq = yb->qs + 128 * h + 32 * k;
                    __m512i t0 = _mm512_set1_epi32(-32 * yb->bsums[k16]);
                    __m512i t1 = _mm512_set1_epi32(-32 * yb->bsums[k16 + 1]);
                    KUNROLL8 for (int j = 0; j < 4; j++) {
                        t0 = _mm512_dpbusd_epi32(t0, w[j], _mm512_set1_epi32(z_ld32(yq + 4 * j)));
                        t1 = _mm512_dpbusd_epi32(t1, w[j + 4], _mm512_set1_epi32(z_ld32(yq + 16 + 4 * j)));
                    }
                    isum[c] = _mm512_add_epi32(isum[c], _mm512_add_epi32(_mm512_mullo_epi32(t0, sc0),
                                                                         _mm512_mullo_epi32(t1, sc1)));
                }
            }
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)g));
        KUNROLL8 for (int c = 0; c < NC; c++) {
            const block_q8_K *yb = (const block_q8_K *)(y + (size_t)c * by) + i;
            acc[c] = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(yb->d)),
                                     _mm512_cvtepi32_ps(isum[c]), acc[c]);
        }
    }
    KUNROLL8 for (int c = 0; c < NC; c++) _mm512_storeu_ps(s + (size_t)c * bs, acc[c]);
}

Z512 void q6_Kx16_gemm_z512(int n, float *s, size_t bs, const void *vg, const void *vy,
                            size_t by, int nc) {
    Z_RP_COLS4(q6_Kx16_gemm_z512_n, n / QK_K)
}

/* ---- the same repacked layouts with 256-bit vectors and 16 registers: AVX2 (vpmaddubsw +
 * vpmaddwd) and AVX-VNNI (VEX vpdpbusd) ---- */
#define KSUF(name) name##_avx2
#define KATTR static __attribute__((target("avx2,fma,f16c")))
#define KRP_VNNI 0
#include "quant_x86_rp.h"
#undef KSUF
#undef KATTR
#undef KRP_VNNI

#define KSUF(name) name##_avxvnni
#define KATTR static __attribute__((target("avx2,fma,f16c,avxvnni")))
#define KRP_VNNI 1
#include "quant_x86_rp.h"
#undef KSUF
#undef KATTR
#undef KRP_VNNI

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
            [GGML_TYPE_IQ4_XS] = iq4_xs_vec_dot_##sfx, [GGML_TYPE_MXFP4] = mxfp4_vec_dot_##sfx, \
            [GGML_TYPE_TQ1_0] = tq1_0_vec_dot_##sfx, [GGML_TYPE_TQ2_0] = tq2_0_vec_dot_##sfx, \
            [GGML_TYPE_IQ2_XXS] = iq2_xxs_vec_dot_##sfx, [GGML_TYPE_IQ2_XS] = iq2_xs_vec_dot_##sfx, \
            [GGML_TYPE_IQ2_S] = iq2_s_vec_dot_##sfx, [GGML_TYPE_IQ3_XXS] = iq3_xxs_vec_dot_##sfx, \
            [GGML_TYPE_IQ3_S] = iq3_s_vec_dot_##sfx, [GGML_TYPE_IQ1_S] = iq1_s_vec_dot_##sfx, \
            [GGML_TYPE_IQ1_M] = iq1_m_vec_dot_##sfx,                                        \
        },                                                                                  \
        .tile = {[GGML_TYPE_MXFP4] = mxfp4_tile_##sfx},                                    \
        .iqd_dec = {                                                                        \
            [GGML_TYPE_TQ1_0] = tq1_0_iqd_##sfx, [GGML_TYPE_TQ2_0] = tq2_0_iqd_##sfx,       \
            [GGML_TYPE_IQ2_XXS] = iq2_xxs_iqd_##sfx, [GGML_TYPE_IQ2_XS] = iq2_xs_iqd_##sfx, \
            [GGML_TYPE_IQ2_S] = iq2_s_iqd_##sfx, [GGML_TYPE_IQ3_XXS] = iq3_xxs_iqd_##sfx,   \
            [GGML_TYPE_IQ3_S] = iq3_s_iqd_##sfx, [GGML_TYPE_IQ1_S] = iq1_s_iqd_##sfx,       \
            [GGML_TYPE_IQ1_M] = iq1_m_iqd_##sfx,                                            \
        },                                                                                  \
        .iqd_gemm = iqd_gemm_##sfx,                                                         \
        .f16_dot_f32 = f16_dot_f32_##sfx, .f16_axpy = f16_axpy_##sfx,                       \
        .f16_to_f32 = f16_to_f32_##sfx, .f32_to_f16 = f32_to_f16_##sfx,                     \
        .q8_0_from_float = q8_0_from_float_##sfx, .q8_1_from_float = q8_1_from_float_##sfx, \
        .q8_K_from_float = q8_K_from_float_##sfx, .q8_0s_from_float = q8_0s_from_float_##sfx, \
    }

static const struct quant_kernels quant_kernels_avx2_base = KSET(avx2);
static const struct quant_kernels quant_kernels_avxvnni_base = KSET(avxvnni);
static const struct quant_kernels quant_kernels_vnni_base = KSET(vnni);
static struct quant_kernels quant_kernels_avx2, quant_kernels_avxvnni, quant_kernels_vnni;
static pthread_once_t quant_x86_once = PTHREAD_ONCE_INIT;

/* The 256-bit tiles of quant_x86_kern.h and the repacked-layout kernels of quant_x86_rp.h
 * with 16 registers (AVX2, AVX-VNNI). */
#define KSET_TILES16(k, sfx)                                     \
    do {                                                         \
        (k).tile[GGML_TYPE_Q4_0] = q4_0_tile_##sfx;              \
        (k).tile[GGML_TYPE_Q8_0] = q8_0_tile_##sfx;              \
        (k).tile[GGML_TYPE_Q5_0] = q5_0_tile_##sfx;              \
        (k).tile[GGML_TYPE_IQ4_NL] = iq4_nl_tile_##sfx;          \
        (k).tile[GGML_TYPE_IQ4_XS] = iq4_xs_tile_##sfx;          \
        (k).tile[GGML_TYPE_Q4_K] = q4_K_tile_##sfx;              \
        (k).tile[GGML_TYPE_Q6_K] = q6_K_tile_##sfx;              \
        (k).rp_gemm[GGML_TYPE_Q4_0] = q4_0x16_gemm_##sfx;        \
        (k).rp_gemm[GGML_TYPE_Q8_0] = q8_0x16_gemm_##sfx;        \
        (k).rp_gemm[GGML_TYPE_Q4_K] = q4_Kx16_gemm_##sfx;        \
        (k).rp_gemm[GGML_TYPE_Q6_K] = q6_Kx16_gemm_##sfx;        \
        (k).rp_gemm[GGML_TYPE_MXFP4] = mxfp4x16_gemm_##sfx;      \
    } while (0)

/* The sets plus what only one ISA has (512-bit kernels, tiles). */
static void quant_x86_init(void) {
    quant_kernels_avx2 = quant_kernels_avx2_base;
    KSET_TILES16(quant_kernels_avx2, avx2);
    quant_kernels_avxvnni = quant_kernels_avxvnni_base;
    KSET_TILES16(quant_kernels_avxvnni, avxvnni);

    quant_kernels_vnni = quant_kernels_vnni_base;
    quant_kernels_vnni.vec_dot[GGML_TYPE_Q4_0] = q4_0_vec_dot_z512;
    quant_kernels_vnni.vec_dot[GGML_TYPE_Q8_0] = q8_0_vec_dot_z512;
    quant_kernels_vnni.vec_dot[GGML_TYPE_Q4_K] = q4_K_vec_dot_z512;
    quant_kernels_vnni.vec_dot[GGML_TYPE_Q6_K] = q6_K_vec_dot_z512;
    quant_kernels_vnni.tile[GGML_TYPE_Q4_0] = q4_0_tile_z512;
    quant_kernels_vnni.tile[GGML_TYPE_Q8_0] = q8_0_tile_z512;
    quant_kernels_vnni.tile[GGML_TYPE_Q5_0] = q5_0_tile_vnni;
    quant_kernels_vnni.tile[GGML_TYPE_IQ4_NL] = iq4_nl_tile_vnni;
    quant_kernels_vnni.tile[GGML_TYPE_IQ4_XS] = iq4_xs_tile_z512;
    quant_kernels_vnni.tile[GGML_TYPE_Q4_K] = q4_K_tile_z512;
    quant_kernels_vnni.tile[GGML_TYPE_Q6_K] = q6_K_tile_z512;
    quant_kernels_vnni.rp_gemm[GGML_TYPE_Q4_0] = q4_0x16_gemm_z512;
    quant_kernels_vnni.rp_gemm[GGML_TYPE_Q8_0] = q8_0x16_gemm_z512;
    quant_kernels_vnni.rp_gemm[GGML_TYPE_Q4_K] = q4_Kx16_gemm_z512;
    quant_kernels_vnni.rp_gemm[GGML_TYPE_Q6_K] = q6_Kx16_gemm_z512;
    quant_kernels_vnni.rp_gemm[GGML_TYPE_MXFP4] = mxfp4x16_gemm_z512;
}

const struct quant_kernels *quant_kernels_x86(enum quant_level lv) {
    if (!quant_x86_supports(lv)) return NULL;
    pthread_once(&quant_x86_once, quant_x86_init);
    if (lv == QUANT_AVX512VNNI) return &quant_kernels_vnni;
    if (lv == QUANT_AVX_VNNI) return &quant_kernels_avxvnni;
    return &quant_kernels_avx2; /* AVX-512 without VNNI: the AVX2 kernels */
}

#else

int quant_cpu_has_f16c(void) {
    return 0;
}

#if !defined(__aarch64__) /* aarch64's is in quant_neon.c */
enum quant_level quant_level_detect(void) {
    return QUANT_SCALAR;
}
#endif

const struct quant_kernels *quant_kernels_x86(enum quant_level lv) {
    (void)lv;
    return NULL;
}

#endif
