/* engine/quant.c — the tensor-type traits table (ggml's ids, names, block sizes, kernels), half
 * and bfloat16 conversions, the run-time choice of SIMD kernels (x86: AVX2/AVX-VNNI/AVX-512/VNNI,
 * aarch64: NEON/dotprod/i8mm, else scalar) and the matrix x matrix driver quant_mat_dot(). The table is filled
 * once (pthread_once); after that every function is pure and callable from any thread, except
 * quant_force_scalar() (tests and benchmarks, while nothing else computes). */
#include <pthread.h>
#include <stdlib.h>

#include "quant_impl.h"

/* ---- half / bfloat16 ---- */

float quant_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    const uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    uint32_t bits;
    if (exp == 0) {
        float f = (float)mant * 0x1p-24f;
        memcpy(&bits, &f, sizeof bits);
        bits |= sign;
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Round to nearest even, overflow to infinity, NaN stays NaN (as F16C's vcvtps2ph). */
uint16_t quant_f32_to_f16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    const uint16_t sign = (uint16_t)((bits >> 16) & 0x8000);
    const uint32_t abs = bits & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) return (uint16_t)(sign | 0x7E00 | ((abs >> 13) & 0x3FF));
    if (abs >= 0x38800000u) { /* normal half range, or overflow */
        uint32_t m = abs + 0x0FFFu + ((abs >> 13) & 1);
        m -= 0x38000000u;
        if (m >= 0x0F800000u) return (uint16_t)(sign | 0x7C00);
        return (uint16_t)(sign | (m >> 13));
    }
    float a;
    memcpy(&a, &abs, sizeof a);
    return (uint16_t)(sign | quant_nearest_int(a * 0x1p24f)); /* subnormal (or 0x400) */
}

float quant_bf16_to_f32(uint16_t h) {
    const uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t quant_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 64); /* quiet NaN */
    return (uint16_t)((u + (0x7FFFu + ((u >> 16) & 1))) >> 16);
}

/* ---- the table ---- */

#define T_REF(id, nm, bs, sz, fn, from, vdt) \
    [id] = {nm, bs, sz, 1, quant_##fn##_to_float, from, quant_##fn##_vec_dot_ref, \
            quant_##fn##_vec_dot_ref, vdt, NULL}
#define T_ACT(id, nm, bs, sz, fn, vdt) \
    [id] = {nm, bs, sz, 0, quant_##fn##_to_float, quant_##fn##_from_float, NULL, NULL, vdt, NULL}
#define T_NONE(id, nm, bs, sz) [id] = {nm, bs, sz, 0, NULL, NULL, NULL, NULL, id, NULL}

static struct quant_traits quant_table[QUANT_TYPE_COUNT] = {
    T_REF(GGML_TYPE_F32, "F32", 1, 4, f32, quant_f32_from_float, GGML_TYPE_F32),
    T_REF(GGML_TYPE_F16, "F16", 1, 2, f16, quant_f16_from_float, GGML_TYPE_F16),
    T_REF(GGML_TYPE_BF16, "BF16", 1, 2, bf16, quant_bf16_from_float, GGML_TYPE_BF16),
    T_REF(GGML_TYPE_Q4_0, "Q4_0", QK4_0, sizeof(block_q4_0), q4_0, quant_q4_0_from_float,
          GGML_TYPE_Q8_0),
    T_REF(GGML_TYPE_Q4_1, "Q4_1", QK4_1, sizeof(block_q4_1), q4_1, NULL, GGML_TYPE_Q8_1),
    T_REF(GGML_TYPE_Q5_0, "Q5_0", QK5_0, sizeof(block_q5_0), q5_0, NULL, GGML_TYPE_Q8_0),
    T_REF(GGML_TYPE_Q5_1, "Q5_1", QK5_1, sizeof(block_q5_1), q5_1, NULL, GGML_TYPE_Q8_1),
    T_REF(GGML_TYPE_Q8_0, "Q8_0", QK8_0, sizeof(block_q8_0), q8_0, quant_q8_0_from_float,
          GGML_TYPE_Q8_0),
    T_ACT(GGML_TYPE_Q8_1, "Q8_1", QK8_1, sizeof(block_q8_1), q8_1, GGML_TYPE_Q8_1),
    T_REF(GGML_TYPE_Q2_K, "Q2_K", QK_K, sizeof(block_q2_K), q2_K, NULL, GGML_TYPE_Q8_K),
    T_REF(GGML_TYPE_Q3_K, "Q3_K", QK_K, sizeof(block_q3_K), q3_K, NULL, GGML_TYPE_Q8_K),
    T_REF(GGML_TYPE_Q4_K, "Q4_K", QK_K, sizeof(block_q4_K), q4_K, quant_q4_K_from_float,
          GGML_TYPE_Q8_K),
    T_REF(GGML_TYPE_Q5_K, "Q5_K", QK_K, sizeof(block_q5_K), q5_K, NULL, GGML_TYPE_Q8_K),
    T_REF(GGML_TYPE_Q6_K, "Q6_K", QK_K, sizeof(block_q6_K), q6_K, quant_q6_K_from_float,
          GGML_TYPE_Q8_K),
    T_ACT(GGML_TYPE_Q8_K, "Q8_K", QK_K, sizeof(block_q8_K), q8_K, GGML_TYPE_Q8_K),
    T_REF(GGML_TYPE_IQ2_XXS, "IQ2_XXS", QK_K, sizeof(block_iq2_xxs), iq2_xxs, NULL,
          GGML_TYPE_Q8_K),
    T_REF(GGML_TYPE_IQ2_XS, "IQ2_XS", QK_K, sizeof(block_iq2_xs), iq2_xs, NULL, GGML_TYPE_Q8_K),
    T_REF(GGML_TYPE_IQ3_XXS, "IQ3_XXS", QK_K, sizeof(block_iq3_xxs), iq3_xxs, NULL,
          GGML_TYPE_Q8_K),
    T_REF(GGML_TYPE_IQ1_S, "IQ1_S", QK_K, sizeof(block_iq1_s), iq1_s, NULL, GGML_TYPE_Q8_K),
    T_REF(GGML_TYPE_IQ4_NL, "IQ4_NL", QK4_NL, sizeof(block_iq4_nl), iq4_nl, NULL, GGML_TYPE_Q8_0),
    T_REF(GGML_TYPE_IQ3_S, "IQ3_S", QK_K, sizeof(block_iq3_s), iq3_s, NULL, GGML_TYPE_Q8_K),
    T_REF(GGML_TYPE_IQ2_S, "IQ2_S", QK_K, sizeof(block_iq2_s), iq2_s, NULL, GGML_TYPE_Q8_K),
    T_REF(GGML_TYPE_IQ4_XS, "IQ4_XS", QK_K, sizeof(block_iq4_xs), iq4_xs, NULL, GGML_TYPE_Q8_K),
    T_NONE(GGML_TYPE_I8, "I8", 1, 1),
    T_NONE(GGML_TYPE_I16, "I16", 1, 2),
    T_NONE(GGML_TYPE_I32, "I32", 1, 4),
    T_NONE(GGML_TYPE_I64, "I64", 1, 8),
    T_NONE(GGML_TYPE_F64, "F64", 1, 8),
    T_REF(GGML_TYPE_IQ1_M, "IQ1_M", QK_K, sizeof(block_iq1_m), iq1_m, NULL, GGML_TYPE_Q8_K),
    T_REF(GGML_TYPE_TQ1_0, "TQ1_0", QK_K, sizeof(block_tq1_0), tq1_0, NULL, GGML_TYPE_Q8_K),
    T_REF(GGML_TYPE_TQ2_0, "TQ2_0", QK_K, sizeof(block_tq2_0), tq2_0, NULL, GGML_TYPE_Q8_K),
    /* MXFP4 against Q8_0, as ggml (its x86 kernel too) */
    T_REF(GGML_TYPE_MXFP4, "MXFP4", QK_MXFP4, sizeof(block_mxfp4), mxfp4, NULL, GGML_TYPE_Q8_0),
    T_NONE(GGML_TYPE_NVFP4, "NVFP4", QK_NVFP4, sizeof(block_nvfp4)),
    T_NONE(GGML_TYPE_Q1_0, "Q1_0", QK1_0, sizeof(block_q1_0)),
    T_NONE(GGML_TYPE_Q2_0, "Q2_0", QK2_0, sizeof(block_q2_0)),
    T_ACT(QUANT_TYPE_Q8_0S, "Q8_0S", QK8_0, sizeof(block_q8_0s), q8_0s, QUANT_TYPE_Q8_0S),
};

/* ---- run-time kernel choice ---- */

static float f16_dot_f32_ref(int n, const uint16_t *x, const float *y) {
    float sum = 0.0f;
    for (int i = 0; i < n; i++) sum += quant_f16_to_f32(x[i]) * y[i];
    return sum;
}

static void f16_axpy_ref(int n, float a, const uint16_t *x, float *y) {
    for (int i = 0; i < n; i++) y[i] += a * quant_f16_to_f32(x[i]);
}

static void f16_to_f32_ref(const uint16_t *x, float *y, int64_t n) {
    quant_f16_to_float(x, y, n);
}

static void f32_to_f16_ref(const float *x, uint16_t *y, int64_t n) {
    quant_f16_from_float(x, y, n);
}

static const struct quant_kernels quant_kernels_scalar = {
    .f16_dot_f32 = f16_dot_f32_ref,
    .f16_axpy = f16_axpy_ref,
    .f16_to_f32 = f16_to_f32_ref,
    .f32_to_f16 = f32_to_f16_ref,
};

static pthread_once_t quant_once = PTHREAD_ONCE_INIT;
static const struct quant_kernels *quant_best;   /* the CPU's best set */
static const struct quant_kernels *quant_active; /* best, or scalar when forced */
static enum quant_level quant_best_level;
static int quant_scalar_forced;

static const char *const quant_level_names[QUANT_LEVEL_COUNT] = {
    [QUANT_SCALAR] = "scalar", [QUANT_AVX2] = "avx2", [QUANT_AVX_VNNI] = "avx_vnni",
    [QUANT_AVX512] = "avx512", [QUANT_AVX512VNNI] = "avx512vnni", [QUANT_NEON] = "neon",
    [QUANT_NEON_DOTPROD] = "neon_dotprod", [QUANT_NEON_I8MM] = "neon_i8mm",
};

const char *quant_level_name(enum quant_level lv) {
    return (unsigned)lv < QUANT_LEVEL_COUNT ? quant_level_names[lv] : "scalar";
}

const struct quant_kernels *quant_kernels_of(enum quant_level lv) {
    if (lv >= QUANT_NEON && lv < QUANT_LEVEL_COUNT) return quant_kernels_neon(lv);
    if (lv != QUANT_SCALAR && lv < QUANT_LEVEL_COUNT) return quant_kernels_x86(lv);
    return NULL;
}

static void quant_apply(const struct quant_kernels *k) {
    quant_active = k ? k : &quant_kernels_scalar;
    for (int t = 0; t < GGML_TYPE_COUNT; t++) {
        struct quant_traits *tr = &quant_table[t];
        if (!tr->name) continue;
        tr->vec_dot = (k && k->vec_dot[t]) ? k->vec_dot[t] : tr->vec_dot_ref;
        tr->vec_dot_tile = k ? k->tile[t] : NULL;
    }
    struct quant_traits *a;
    a = &quant_table[GGML_TYPE_Q8_0];
    a->from_float = (k && k->q8_0_from_float) ? k->q8_0_from_float : quant_q8_0_from_float;
    a = &quant_table[GGML_TYPE_Q8_1];
    a->from_float = (k && k->q8_1_from_float) ? k->q8_1_from_float : quant_q8_1_from_float;
    a = &quant_table[GGML_TYPE_Q8_K];
    a->from_float = (k && k->q8_K_from_float) ? k->q8_K_from_float : quant_q8_K_from_float;
    a = &quant_table[QUANT_TYPE_Q8_0S];
    a->from_float = (k && k->q8_0s_from_float) ? k->q8_0s_from_float : quant_q8_0s_from_float;
    quant_repack_apply(k, quant_best);
}

/* NATTER_SIMD=name caps the level at name's: the best level the CPU supports at or below it in
 * its family (x86 or aarch64); an unknown name or another family's leaves the CPU's best. */
static void quant_init(void) {
    enum quant_level lv = quant_level_detect();
    const char *cap = getenv("NATTER_SIMD");
    if (cap && *cap) {
        int want = -1;
        for (int i = 0; i < QUANT_LEVEL_COUNT; i++)
            if (strcmp(cap, quant_level_names[i]) == 0) want = i;
        const int neon = lv >= QUANT_NEON, want_neon = want >= QUANT_NEON;
        if (want == QUANT_SCALAR) lv = QUANT_SCALAR;
        else if (want > 0 && neon == want_neon && want < (int)lv) {
            const int low = neon ? QUANT_NEON : QUANT_AVX2;
            while (want > low && !quant_kernels_of((enum quant_level)want)) want--;
            lv = (enum quant_level)want;
        }
    }
    quant_best = quant_kernels_of(lv);
    if (!quant_best) lv = QUANT_SCALAR;
    quant_best_level = lv;
    quant_apply(quant_best);
}

const struct quant_traits *quant_traits_get(uint32_t t) {
    if (t >= QUANT_TYPE_COUNT || !quant_table[t].name) return NULL;
    pthread_once(&quant_once, quant_init);
    return &quant_table[t];
}

size_t quant_row_size(uint32_t t, int64_t n) {
    const struct quant_traits *tr = quant_traits_get(t);
    if (!tr || n < 0 || n % tr->blck_size != 0) return 0;
    return (size_t)(n / tr->blck_size) * tr->type_size;
}

int quant_force_scalar(int on) {
    pthread_once(&quant_once, quant_init);
    const int prev = quant_scalar_forced;
    quant_scalar_forced = on != 0;
    quant_apply(quant_scalar_forced ? NULL : quant_best);
    return prev;
}

enum quant_level quant_level_active(void) {
    pthread_once(&quant_once, quant_init);
    return quant_scalar_forced ? QUANT_SCALAR : quant_best_level;
}

const char *quant_simd_name(void) {
    pthread_once(&quant_once, quant_init);
    return quant_level_name(quant_level_active());
}

/* ---- F16 helpers ---- */

float quant_f16_dot_f32(int n, const uint16_t *x, const float *y) {
    pthread_once(&quant_once, quant_init);
    return (quant_active->f16_dot_f32 ? quant_active->f16_dot_f32 : f16_dot_f32_ref)(n, x, y);
}

void quant_f16_axpy(int n, float a, const uint16_t *x, float *y) {
    pthread_once(&quant_once, quant_init);
    (quant_active->f16_axpy ? quant_active->f16_axpy : f16_axpy_ref)(n, a, x, y);
}

void quant_f16_to_f32_row(const uint16_t *x, float *y, int64_t n) {
    pthread_once(&quant_once, quant_init);
    (quant_active->f16_to_f32 ? quant_active->f16_to_f32 : f16_to_f32_ref)(x, y, n);
}

void quant_f32_to_f16_row(const float *x, uint16_t *y, int64_t n) {
    pthread_once(&quant_once, quant_init);
    (quant_active->f32_to_f16 ? quant_active->f32_to_f16 : f32_to_f16_ref)(x, y, n);
}

/* ---- matrix x matrix ---- */

#define QUANT_ROW_BLOCK 16          /* weight rows kept hot in L1 while a column chunk passes */
#define QUANT_COL_BYTES (512 * 1024) /* activation columns kept hot in L2 */

/* The decoded super-block types' constants (struct quant_iqd): u's offset, the factor of a
 * super-block's integer sum (IQ1 values are times 8) and the final one, as the references. */
int quant_iqd_consts(uint32_t t, int *off, float *g, float *f) {
    *g = 1.0f;
    *f = 1.0f;
    *off = 64;
    switch (t) {
    case GGML_TYPE_IQ2_XXS: case GGML_TYPE_IQ2_XS: case GGML_TYPE_IQ2_S: *f = 0.125f; return 1;
    case GGML_TYPE_IQ3_XXS: *f = 0.25f; return 1;
    case GGML_TYPE_IQ3_S: return 1;
    case GGML_TYPE_IQ1_S: case GGML_TYPE_IQ1_M: *off = 16, *g = 0.125f; return 1;
    case GGML_TYPE_TQ1_0: case GGML_TYPE_TQ2_0: *off = 1; return 1;
    default: return 0;
    }
}

/* quant_mat_dot for the types decoded once per super-block (quant_iqd): for each row block
 * of 16, super-block after super-block, the rows decoded then every column of the chunk. */
static void quant_mat_dot_iqd(uint32_t t, int n, float *s, size_t bs, const char *x, size_t bx,
                              const char *y, size_t by, int nr, int nc, int chunk) {
    int off;
    float g, f;
    quant_iqd_consts(t, &off, &g, &f);
    const quant_iqd_dec_fn dec = quant_active->iqd_dec[t];
    struct quant_iqd w[QUANT_ROW_BLOCK];
    for (int c0 = 0; c0 < nc; c0 += chunk) {
        const int mc = nc - c0 < chunk ? nc - c0 : chunk;
        for (int r0 = 0; r0 < nr; r0 += QUANT_ROW_BLOCK) {
            const int mr = nr - r0 < QUANT_ROW_BLOCK ? nr - r0 : QUANT_ROW_BLOCK;
            float *so = s + (size_t)c0 * bs + (size_t)r0;
            for (int c = 0; c < mc; c++)
                for (int r = 0; r < mr; r++) so[(size_t)c * bs + (size_t)r] = 0.0f;
            for (int i = 0; i < n / QK_K; i++) {
                for (int r = 0; r < mr; r++) dec(x + (size_t)(r0 + r) * bx, i, &w[r]);
                quant_active->iqd_gemm(w, mr, y + (size_t)c0 * by, by, i, so, bs, mc, off, g);
            }
            if (f != 1.0f)
                for (int c = 0; c < mc; c++)
                    for (int r = 0; r < mr; r++) so[(size_t)c * bs + (size_t)r] *= f;
        }
    }
}

void quant_mat_dot(uint32_t t, int n, float *s, size_t bs, const void *x, size_t bx,
                   const void *y, size_t by, int nr, int nc) {
    const struct quant_traits *tr = quant_traits_get(t);
    if (!tr || !tr->vec_dot) return;
    const char *xb = x, *yb = y;
    int chunk = by > 0 ? (int)(QUANT_COL_BYTES / by) & ~3 : nc;
    if (chunk < 4) chunk = 4;
    if (t < GGML_TYPE_COUNT && quant_active->iqd_dec[t] && quant_active->iqd_gemm) {
        quant_mat_dot_iqd(t, n, s, bs, xb, bx, yb, by, nr, nc, chunk);
        return;
    }
    for (int c0 = 0; c0 < nc; c0 += chunk) {
        const int c1 = c0 + chunk < nc ? c0 + chunk : nc;
        for (int r0 = 0; r0 < nr; r0 += QUANT_ROW_BLOCK) {
            const int r1 = r0 + QUANT_ROW_BLOCK < nr ? r0 + QUANT_ROW_BLOCK : nr;
            for (int c = c0; c < c1; c += 4) {
                const int mc = c1 - c < 4 ? c1 - c : 4;
                for (int r = r0; r < r1; r += 4) {
                    const int mr = r1 - r < 4 ? r1 - r : 4;
                    if (tr->vec_dot_tile) {
                        tr->vec_dot_tile(n, s + (size_t)c * bs + (size_t)r, bs,
                                         xb + (size_t)r * bx, bx, yb + (size_t)c * by, by, mr, mc);
                        continue;
                    }
                    for (int j = 0; j < mc; j++)
                        for (int i = 0; i < mr; i++)
                            tr->vec_dot(n, s + (size_t)(c + j) * bs + (size_t)(r + i),
                                        xb + (size_t)(r + i) * bx, yb + (size_t)(c + j) * by);
                }
            }
        }
    }
}
