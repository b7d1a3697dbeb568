/* engine/quant_impl.h — private to engine/quant*.c and tests/test_quant.c: the scalar
 * reference kernels (quant_ref.c), the per-ISA kernel tables (quant_x86.c, quant_neon.c) and
 * small helpers they share. Pure functions; callable from any thread. */
#ifndef NATTER_QUANT_IMPL_H
#define NATTER_QUANT_IMPL_H

#include <math.h>
#include <string.h>

#include "quant.h"

/* ggml's half -> float for the scale fields (exact). */
#define QH2F(h) quant_f16_to_f32(h)

/* Round to nearest, ties to even (ggml's nearest_int), for |f| < 2^22. */
static inline int quant_nearest_int(float f) {
    float v = f + 12582912.f;
    int32_t i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

/* The 6-bit scale j and min j of a Q4_K / Q5_K block. */
static inline void quant_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* The 16 signed 6-bit scales of a Q3_K block (stored with +32). */
static inline void quant_q3_K_scales(const uint8_t *in, int8_t out[16]) {
    uint32_t aux[4];
    const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
    memcpy(aux, in, 12);
    const uint32_t tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
    memcpy(out, aux, 16);
    for (int j = 0; j < 16; j++) out[j] = (int8_t)(out[j] - 32);
}

/* The signed scale (6 bits, stored with +32) of the 32-value sub-block ib of an IQ4_XS block. */
static inline int quant_iq4_xs_scale(const block_iq4_xs *b, int ib) {
    return (((b->scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((b->scales_h >> 2 * ib) & 3) << 4)) - 32;
}

/* 2^(e - 128), half the E8M0 scale e, as a float (exact; subnormal for e < 2): what MXFP4's
 * doubled E2M1 values are multiplied by (ggml's ggml_e8m0_to_fp32_half). */
static inline float quant_e8m0_half(uint8_t e) {
    const uint32_t bits = e < 2 ? 0x00200000u << e : (uint32_t)(e - 1) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* The i-quants' lattice grids and sign table (quant_iq_grids.c, ggml's values). */
extern const uint8_t quant_ksigns_iq2xs[128];
extern const uint64_t quant_iq2xxs_grid[256];
extern const uint64_t quant_iq2xs_grid[512];
extern const uint64_t quant_iq2s_grid[1024];
extern const uint32_t quant_iq3xxs_grid[256];
extern const uint32_t quant_iq3s_grid[512];
extern const uint64_t quant_iq1s_grid[2048];
#define IQ1S_DELTA 0.125f
#define IQ1M_DELTA 0.125f

/* The half scale d of an IQ1_M block: the top nibbles of its 4 scale words. */
static inline uint16_t quant_iq1_m_d(const block_iq1_m *b) {
    uint16_t sc[4];
    memcpy(sc, b->scales, sizeof sc);
    return (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) |
                      (sc[3] & 0xf000));
}

/* ---- scalar reference kernels (quant_ref.c; the IQ/TQ/MXFP4 types in quant_iq_ref.c) ---- */
#define QUANT_REF_TYPES(X) \
    X(f32) X(f16) X(bf16) X(q4_0) X(q4_1) X(q5_0) X(q5_1) X(q8_0) X(q2_K) X(q3_K) X(q4_K) \
    X(q5_K) X(q6_K) X(iq4_nl) X(iq4_xs) X(mxfp4) X(tq1_0) X(tq2_0) X(iq2_xxs) X(iq2_xs) \
    X(iq2_s) X(iq3_xxs) X(iq3_s) X(iq1_s) X(iq1_m)

#define X(t) \
    void quant_##t##_to_float(const void *x, float *y, int64_t n); \
    void quant_##t##_vec_dot_ref(int n, float *s, const void *x, const void *y);
QUANT_REF_TYPES(X)
#undef X
void quant_q8_1_to_float(const void *x, float *y, int64_t n);
void quant_q8_K_to_float(const void *x, float *y, int64_t n);

void quant_f32_from_float(const float *x, void *y, int64_t n);
void quant_f16_from_float(const float *x, void *y, int64_t n);
void quant_bf16_from_float(const float *x, void *y, int64_t n);
void quant_q8_0_from_float(const float *x, void *y, int64_t n);
void quant_q8_1_from_float(const float *x, void *y, int64_t n);
void quant_q8_K_from_float(const float *x, void *y, int64_t n);
void quant_q4_0_from_float(const float *x, void *y, int64_t n);
void quant_q4_K_from_float(const float *x, void *y, int64_t n);
void quant_q6_K_from_float(const float *x, void *y, int64_t n);

/* ---- the super-block i-quants and ternary types decoded for batched products ----
 * quant_mat_dot decodes a super-block of a row once for all the batch's columns: u = the
 * value's integer w + OFF (as the SIMD kernels of quant_x86_iq.h do), the 16 scales of its
 * 16-value groups and its half scale as a float; the products then follow the scalar
 * reference's integer sums and float steps, so they equal vec_dot bit for bit. */
struct quant_iqd {
    _Alignas(32) uint8_t u[QK_K];
    int16_t sc[QK_K / 16];
    float d;
};
/* Super-block i of the row at x decoded into o. */
typedef void (*quant_iqd_dec_fn)(const void *x, int i, struct quant_iqd *o);
/* For decoded rows w[0..nr) (nr <= 16) and nc columns of Q8_K at y (column c at y + c * by):
 * s[c * bs + r] += (w[r].d * y_c[i].d) * (g * S), S = sum of (u - off) * scale * y over
 * super-block i (g: 1, or 1/8 for IQ1's values times 8). */
typedef void (*quant_iqd_gemm_fn)(const struct quant_iqd *w, int nr, const void *y, size_t by,
                                  int i, float *s, size_t bs, int nc, int off, float g);
/* Type t's offset off, super-block factor g and final factor f (1 if t decodes so, else 0;
 * quant.c). */
int quant_iqd_consts(uint32_t t, int *off, float *g, float *f);

/* ---- SIMD kernel sets ---- */
/* x86 levels in order of preference, then aarch64's; a CPU need not have every lower level
 * (AVX-512 parts without AVX-VNNI), so a cap (NATTER_SIMD) takes the best supported one below. */
enum quant_level {
    QUANT_SCALAR = 0,
    QUANT_AVX2,         /* AVX2 + FMA + F16C */
    QUANT_AVX_VNNI,     /* + AVX-VNNI: VEX vpdpbusd, 16 ymm registers (Intel client CPUs) */
    QUANT_AVX512,       /* AVX-512 F/BW/VL without VNNI: the AVX2 kernels */
    QUANT_AVX512VNNI,   /* + AVX-512 VNNI */
    QUANT_NEON,         /* aarch64 Advanced SIMD */
    QUANT_NEON_DOTPROD, /* + sdot (Armv8.2 dotprod) */
    QUANT_NEON_I8MM,    /* + smmla (Armv8.6 i8mm) for the repacked layouts */
    QUANT_LEVEL_COUNT
};

/* The tile kernels (quant_vec_dot_tile_fn, at most 4 x 4): one call of FN per (nr, nc) so that
 * its loops unroll with constant bounds (uses the dispatcher's argument names n, s, bs, xc, bx,
 * yc, by, nr, nc). */
#define QUANT_TILE_SWITCH(FN)                                                               \
    switch ((nr - 1) * 4 + (nc - 1)) {                                                      \
    case 0: FN(n, s, bs, xc, bx, yc, by, 1, 1); break;                                      \
    case 1: FN(n, s, bs, xc, bx, yc, by, 1, 2); break;                                      \
    case 2: FN(n, s, bs, xc, bx, yc, by, 1, 3); break;                                      \
    case 3: FN(n, s, bs, xc, bx, yc, by, 1, 4); break;                                      \
    case 4: FN(n, s, bs, xc, bx, yc, by, 2, 1); break;                                      \
    case 5: FN(n, s, bs, xc, bx, yc, by, 2, 2); break;                                      \
    case 6: FN(n, s, bs, xc, bx, yc, by, 2, 3); break;                                      \
    case 7: FN(n, s, bs, xc, bx, yc, by, 2, 4); break;                                      \
    case 8: FN(n, s, bs, xc, bx, yc, by, 3, 1); break;                                      \
    case 9: FN(n, s, bs, xc, bx, yc, by, 3, 2); break;                                      \
    case 10: FN(n, s, bs, xc, bx, yc, by, 3, 3); break;                                     \
    case 11: FN(n, s, bs, xc, bx, yc, by, 3, 4); break;                                     \
    case 12: FN(n, s, bs, xc, bx, yc, by, 4, 1); break;                                     \
    case 13: FN(n, s, bs, xc, bx, yc, by, 4, 2); break;                                     \
    case 14: FN(n, s, bs, xc, bx, yc, by, 4, 3); break;                                     \
    case 15: FN(n, s, bs, xc, bx, yc, by, 4, 4); break;                                     \
    default: break;                                                                         \
    }

struct quant_kernels {
    quant_vec_dot_fn vec_dot[GGML_TYPE_COUNT];
    quant_vec_dot_tile_fn tile[GGML_TYPE_COUNT];
    float (*f16_dot_f32)(int n, const uint16_t *x, const float *y);
    void (*f16_axpy)(int n, float a, const uint16_t *x, float *y);
    void (*f16_to_f32)(const uint16_t *x, float *y, int64_t n);
    void (*f32_to_f16)(const float *x, uint16_t *y, int64_t n);
    quant_from_float_fn q8_0_from_float, q8_1_from_float, q8_K_from_float, q8_0s_from_float;
    quant_rp_gemm_fn rp_gemm[GGML_TYPE_COUNT];   /* repacked weights of each type */
    quant_iqd_dec_fn iqd_dec[GGML_TYPE_COUNT];   /* decoding for quant_mat_dot */
    quant_iqd_gemm_fn iqd_gemm;
};

/* ---- repacked layouts (quant_repack.c; the SIMD kernels in quant_x86*.c, quant_neon_rp.h) ---- */
/* Q4_Kx16: bytes per superblock of 16 rows and the offsets of its parts */
#define Q4KX16_SB (QUANT_RP_ROWS * sizeof(block_q4_K) + 64)
enum { Q4KX16_DMIN = 32, Q4KX16_SC = 64, Q4KX16_MN = 192, Q4KX16_QS = 320 };
static_assert(Q4KX16_QS + QUANT_RP_ROWS * QK_K / 2 == Q4KX16_SB, "Q4_Kx16 layout");
/* Q6_Kx16: the same for its superblocks (the rows' own size) */
#define Q6KX16_SB (QUANT_RP_ROWS * sizeof(block_q6_K))
enum { Q6KX16_SC = 32, Q6KX16_QL = 288, Q6KX16_QH = 288 + 2048 };
static_assert(Q6KX16_QH + QUANT_RP_ROWS * QK_K / 4 == Q6KX16_SB, "Q6_Kx16 layout");

void quant_q8_0s_from_float(const float *x, void *y, int64_t n);
void quant_q8_0s_to_float(const void *x, float *y, int64_t n);
void quant_q4_0x16_gemm_ref(int n, float *s, size_t bs, const void *g, const void *y, size_t by,
                            int nc);
void quant_q8_0x16_gemm_ref(int n, float *s, size_t bs, const void *g, const void *y, size_t by,
                            int nc);
void quant_q6_Kx16_gemm_ref(int n, float *s, size_t bs, const void *g, const void *y, size_t by,
                            int nc);
void quant_mxfp4x16_gemm_ref(int n, float *s, size_t bs, const void *g, const void *y, size_t by,
                             int nc);
void quant_q4_Kx16_gemm_ref(int n, float *s, size_t bs, const void *g, const void *y, size_t by,
                            int nc);
/* Points the layouts' gemm at kernel set k (NULL: the scalar references) and notes which
 * layouts the CPU's best set (best) has kernels for; from quant.c's quant_apply. */
void quant_repack_apply(const struct quant_kernels *k, const struct quant_kernels *best);

/* The kernels of level lv, with NULL for what it lacks; NULL if this build or CPU lacks the
 * level (quant_x86.c / quant_neon.c; quant_kernels_of picks the file). */
const struct quant_kernels *quant_kernels_x86(enum quant_level lv);
const struct quant_kernels *quant_kernels_neon(enum quant_level lv);
const struct quant_kernels *quant_kernels_of(enum quant_level lv);
/* The level the CPU supports best (quant_x86.c on x86-64, quant_neon.c on aarch64). */
enum quant_level quant_level_detect(void);
/* NATTER_SIMD's name of level lv ("avx2", "avx_vnni", "neon_dotprod" ...; quant.c). */
const char *quant_level_name(enum quant_level lv);
/* The level the kernels run at (QUANT_SCALAR while forced scalar): what quant_simd_name names,
 * as a number, for dispatch on every call (ops.c's attention and element-wise kernels). */
enum quant_level quant_level_active(void);

#endif
