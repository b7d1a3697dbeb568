/* engine/quant.h — tensor types: ggml's block layouts (block_q4_0, block_q8_K...), one traits
 * table indexed by type id (name, block size, bytes, to_float, from_float, vec_dot and the
 * activation type its dot product wants), scalar reference kernels and the SIMD kernels chosen
 * at run time. Pure functions; callable from any thread.
 *
 * How the forward pass uses it (W: a weight tensor of type t, rows of n values):
 *   - activations: tr = quant_traits_get(t); quant_traits_get(tr->vec_dot_type)->from_float(
 *     x, xq, n) once per input vector (Q8_0, Q8_1, Q8_K, F16, BF16 or F32, as ggml);
 *   - one token (matrix x vector): tr->vec_dot(n, &out[r], row r of W, xq) per row;
 *   - a batch of tokens (prompt processing): quant_mat_dot() over a block of rows and all the
 *     batch's quantized columns (4x4 tiles where available);
 *   - F16 KV cache: quant_f32_to_f16_row() to store K/V, quant_f16_dot_f32() for q.k and
 *     quant_f16_axpy() to accumulate softmax-weighted V;
 *   - dequantizing a row (embeddings lookup): tr->to_float(row, y, n). */
#ifndef NATTER_QUANT_H
#define NATTER_QUANT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* ggml's type ids, as stored in GGUF tensor infos (ggml.h). Ids 4, 5 (Q4_2, Q4_3), 31-33
 * (Q4_0_4_4, Q4_0_4_8, Q4_0_8_8) and 36-38 (IQ4_NL_4_4...) were removed from ggml and are not
 * types: a file naming them is malformed. */
enum ggml_type {
    GGML_TYPE_F32 = 0, GGML_TYPE_F16 = 1, GGML_TYPE_Q4_0 = 2, GGML_TYPE_Q4_1 = 3,
    GGML_TYPE_Q5_0 = 6, GGML_TYPE_Q5_1 = 7, GGML_TYPE_Q8_0 = 8, GGML_TYPE_Q8_1 = 9,
    GGML_TYPE_Q2_K = 10, GGML_TYPE_Q3_K = 11, GGML_TYPE_Q4_K = 12, GGML_TYPE_Q5_K = 13,
    GGML_TYPE_Q6_K = 14, GGML_TYPE_Q8_K = 15, GGML_TYPE_IQ2_XXS = 16, GGML_TYPE_IQ2_XS = 17,
    GGML_TYPE_IQ3_XXS = 18, GGML_TYPE_IQ1_S = 19, GGML_TYPE_IQ4_NL = 20, GGML_TYPE_IQ3_S = 21,
    GGML_TYPE_IQ2_S = 22, GGML_TYPE_IQ4_XS = 23, GGML_TYPE_I8 = 24, GGML_TYPE_I16 = 25,
    GGML_TYPE_I32 = 26, GGML_TYPE_I64 = 27, GGML_TYPE_F64 = 28, GGML_TYPE_IQ1_M = 29,
    GGML_TYPE_BF16 = 30, GGML_TYPE_TQ1_0 = 34, GGML_TYPE_TQ2_0 = 35, GGML_TYPE_MXFP4 = 39,
    GGML_TYPE_NVFP4 = 40, GGML_TYPE_Q1_0 = 41, GGML_TYPE_Q2_0 = 42,
    GGML_TYPE_COUNT = 43
};
/* natter's own activation layout, after ggml's ids (never read from a file): Q8_0 with a float
 * scale and the sum of the block's quants, what the repacked Q4_0 kernels want. */
#define QUANT_TYPE_Q8_0S ((uint32_t)GGML_TYPE_COUNT)
#define QUANT_TYPE_COUNT (GGML_TYPE_COUNT + 1)

/* ---- ggml's block layouts (identical bytes; ggml_half is IEEE binary16 bits) ---- */
typedef uint16_t ggml_half;

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK_K 256
#define K_SCALE_SIZE 12
#define QK4_NL 32
#define QK_MXFP4 32
#define QK_NVFP4 64
#define QK1_0 128
#define QK2_0 64

typedef struct { ggml_half d; uint8_t qs[QK4_0 / 2]; } block_q4_0;
typedef struct { ggml_half d, m; uint8_t qs[QK4_1 / 2]; } block_q4_1;
typedef struct { ggml_half d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; } block_q5_0;
typedef struct { ggml_half d, m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; } block_q5_1;
typedef struct { ggml_half d; int8_t qs[QK8_0]; } block_q8_0;
typedef struct { ggml_half d, s; int8_t qs[QK8_1]; } block_q8_1; /* s = d * sum(qs) */
typedef struct {
    uint8_t scales[QK_K / 16]; /* 4-bit scale (low) and min (high) per 16 values */
    uint8_t qs[QK_K / 4];
    ggml_half d, dmin;
} block_q2_K;
typedef struct {
    uint8_t hmask[QK_K / 8];
    uint8_t qs[QK_K / 4];
    uint8_t scales[12]; /* 16 6-bit scales */
    ggml_half d;
} block_q3_K;
typedef struct {
    ggml_half d, dmin;
    uint8_t scales[K_SCALE_SIZE]; /* 8 6-bit scales and 8 6-bit mins */
    uint8_t qs[QK_K / 2];
} block_q4_K;
typedef struct {
    ggml_half d, dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
} block_q5_K;
typedef struct {
    uint8_t ql[QK_K / 2];
    uint8_t qh[QK_K / 4];
    int8_t scales[QK_K / 16];
    ggml_half d;
} block_q6_K;
typedef struct {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16]; /* sum of each 16 qs */
} block_q8_K;
typedef struct { float d; int32_t s; int8_t qs[QK8_0]; } block_q8_0s; /* s = sum(qs) */
typedef struct { ggml_half d; uint8_t qs[QK4_NL / 2]; } block_iq4_nl;
typedef struct {
    ggml_half d;
    uint16_t scales_h;
    uint8_t scales_l[QK_K / 64];
    uint8_t qs[QK_K / 2];
} block_iq4_xs;

/* MXFP4 (OCP microscaling): 32 E2M1 values (their doubles in quant_kvalues_mxfp4), one E8M0
 * scale e: value = kvalues[q] * 2^(e - 128). */
typedef struct { uint8_t e; uint8_t qs[QK_MXFP4 / 2]; } block_mxfp4;
/* Known, not computed with (sizes only): NVFP4 (4 UE4M3 scales per 64), Q1_0, Q2_0. */
typedef struct { uint8_t d[QK_NVFP4 / 16]; uint8_t qs[QK_NVFP4 / 2]; } block_nvfp4;
typedef struct { ggml_half d; uint8_t qs[QK1_0 / 8]; } block_q1_0;
typedef struct { ggml_half d; uint8_t qs[QK2_0 / 4]; } block_q2_0;

/* Ternary (values -1, 0, 1 times d). TQ1_0: 5 values per byte of qs and 4 per byte of qh in
 * base 3 (value = digit of q * 3^k read as (uint8_t)(q * 3^k) * 3 >> 8); TQ2_0: 2 bits each. */
typedef struct {
    uint8_t qs[(QK_K - 4 * QK_K / 64) / 5];
    uint8_t qh[QK_K / 64];
    ggml_half d;
} block_tq1_0;
typedef struct { uint8_t qs[QK_K / 4]; ggml_half d; } block_tq2_0;

/* The i-quants: groups of 8 (IQ2, IQ1) or 4 (IQ3) values are an index into a lattice grid
 * (quant_iq*_grid) plus sign bits; scales per 16 or 32 values. */
typedef struct { ggml_half d; uint16_t qs[QK_K / 8]; } block_iq2_xxs;
typedef struct { ggml_half d; uint16_t qs[QK_K / 8]; uint8_t scales[QK_K / 32]; } block_iq2_xs;
typedef struct {
    ggml_half d;
    uint8_t qs[QK_K / 4];     /* 32 grid index bytes, then 32 sign bytes */
    uint8_t qh[QK_K / 32];    /* the index's bits 8-9 */
    uint8_t scales[QK_K / 32];
} block_iq2_s;
typedef struct { ggml_half d; uint8_t qs[3 * QK_K / 8]; } block_iq3_xxs; /* 64 indices, 8 words */
typedef struct {
    ggml_half d;
    uint8_t qs[QK_K / 4];
    uint8_t qh[QK_K / 32];
    uint8_t signs[QK_K / 8];
    uint8_t scales[QK_K / 64];
} block_iq3_s;
typedef struct { ggml_half d; uint8_t qs[QK_K / 8]; uint16_t qh[QK_K / 32]; } block_iq1_s;
typedef struct {
    uint8_t qs[QK_K / 8];
    uint8_t qh[QK_K / 16];
    uint8_t scales[QK_K / 32]; /* 3-bit scales; the top nibbles of the 4 words: the half d */
} block_iq1_m;

static_assert(sizeof(block_q4_0) == 18, "block_q4_0");
static_assert(sizeof(block_q4_1) == 20, "block_q4_1");
static_assert(sizeof(block_q5_0) == 22, "block_q5_0");
static_assert(sizeof(block_q5_1) == 24, "block_q5_1");
static_assert(sizeof(block_q8_0) == 34, "block_q8_0");
static_assert(sizeof(block_q8_1) == 36, "block_q8_1");
static_assert(sizeof(block_q2_K) == 84, "block_q2_K");
static_assert(sizeof(block_q3_K) == 110, "block_q3_K");
static_assert(sizeof(block_q4_K) == 144, "block_q4_K");
static_assert(sizeof(block_q5_K) == 176, "block_q5_K");
static_assert(sizeof(block_q6_K) == 210, "block_q6_K");
static_assert(sizeof(block_q8_K) == 292, "block_q8_K");
static_assert(sizeof(block_q8_0s) == 40, "block_q8_0s");
static_assert(sizeof(block_iq4_nl) == 18, "block_iq4_nl");
static_assert(sizeof(block_iq4_xs) == 136, "block_iq4_xs");
static_assert(sizeof(block_mxfp4) == 17, "block_mxfp4");
static_assert(sizeof(block_nvfp4) == 36, "block_nvfp4");
static_assert(sizeof(block_q1_0) == 18, "block_q1_0");
static_assert(sizeof(block_q2_0) == 18, "block_q2_0");
static_assert(sizeof(block_tq1_0) == 54, "block_tq1_0");
static_assert(sizeof(block_tq2_0) == 66, "block_tq2_0");
static_assert(sizeof(block_iq2_xxs) == 66, "block_iq2_xxs");
static_assert(sizeof(block_iq2_xs) == 74, "block_iq2_xs");
static_assert(sizeof(block_iq2_s) == 82, "block_iq2_s");
static_assert(sizeof(block_iq3_xxs) == 98, "block_iq3_xxs");
static_assert(sizeof(block_iq3_s) == 110, "block_iq3_s");
static_assert(sizeof(block_iq1_s) == 50, "block_iq1_s");
static_assert(sizeof(block_iq1_m) == 56, "block_iq1_m");

/* The 16 non-linear levels of IQ4_NL / IQ4_XS; the 16 E2M1 values of MXFP4, doubled. */
extern const int8_t quant_kvalues_iq4nl[16];
extern const int8_t quant_kvalues_mxfp4[16];

/* y[i] = dequant(x)[i] for n values (n a multiple of the block size). */
typedef void (*quant_to_float_fn)(const void *x, float *y, int64_t n);
/* Quantizes n floats (multiple of the block size) into blocks. */
typedef void (*quant_from_float_fn)(const float *x, void *y, int64_t n);
/* *s = dot(x, y) over n values; x in this type, y in traits.vec_dot_type. */
typedef void (*quant_vec_dot_fn)(int n, float *s, const void *x, const void *y);
/* Tile kernel: s[c * bs + r] = dot(row r of x, column c of y) for r < nr, c < nc, nr and nc in
 * 1..4; row r of x starts at x + r * bx bytes, column c of y (activations in vec_dot_type) at
 * y + c * by bytes. Loads each weight block once for all nc columns. */
typedef void (*quant_vec_dot_tile_fn)(int n, float *s, size_t bs, const void *x, size_t bx,
                                      const void *y, size_t by, int nr, int nc);

struct quant_traits {
    const char *name;           /* "Q4_K"; NULL for ids that are not types */
    int blck_size;              /* values per block */
    size_t type_size;           /* bytes per block */
    int supported;              /* the engine can compute with it */
    quant_to_float_fn to_float;
    quant_from_float_fn from_float;      /* NULL when the engine cannot quantize to it */
    quant_vec_dot_fn vec_dot;            /* the best kernel for this CPU (chosen at init) */
    quant_vec_dot_fn vec_dot_ref;        /* the scalar reference kernel */
    enum ggml_type vec_dot_type;         /* what the activations must be quantized to */
    quant_vec_dot_tile_fn vec_dot_tile;  /* NULL when there is none: use quant_mat_dot() */
};

/* Traits of type t, or NULL if t is out of range or not a type. Thread-safe (the SIMD choice
 * is made once, on first use). */
const struct quant_traits *quant_traits_get(uint32_t t);
/* Bytes of a row of n values of type t; 0 if n is not a multiple of the block size. */
size_t quant_row_size(uint32_t t, int64_t n);

/* Matrix x matrix (batched prompt processing), for the forward pass:
 *   s[c * bs + r] = dot(row r of x, column c of y)   for r < nr, c < nc (any sizes >= 0)
 * x: nr rows of type t, n values each, row r at x + r * bx bytes; y: nc activation columns
 * already quantized to traits(t)->vec_dot_type, column c at y + c * by bytes; s: floats, bs is
 * the column stride in floats. Uses the tile kernels (each weight block loaded once per 4
 * columns; 4x4 with AVX-512 VNNI, 2x4 with AVX2) for Q4_0, Q5_0, Q8_0, IQ4_NL, Q4_K, Q6_K,
 * MXFP4, vec_dot otherwise; the IQ1/IQ2/IQ3 and TQ types decode each super-block of a row once
 * for all the columns (struct quant_iqd). Results equal vec_dot's up to
 * float summation order (bit for bit for the IQ1/IQ2/IQ3 and TQ types), and each entry's bits
 * do not depend on nr, nc or how rows are split between threads. Pure. */
void quant_mat_dot(uint32_t t, int n, float *s, size_t bs, const void *x, size_t bx,
                   const void *y, size_t by, int nr, int nc);

/* ---- weights repacked at load ----
 * A group holds QUANT_RP_ROWS consecutive rows of a weight, rearranged so that one 32-bit lane
 * of a vector holds one row: one integer dot-product step then serves 16 rows, and the float
 * work of a block (convert, scale, accumulate) is done once per 16 rows instead of once per row
 * and column pair (llama.cpp repacks the same way; the layouts are natter's own, in
 * quant_repack.c). The file's bytes stay untouched; the engine keeps the repacked copy.
 * Every result equals the scalar reference kernel bit for bit (SIMD or not, any column count,
 * any row split), and each row's products are summed block after block as ggml's scalar code. */
#define QUANT_RP_ROWS 16

/* s[c * bs + r] = dot(row r of group g, column c) for r < 16, c < nc (nc >= 0); y: columns in
 * the layout's act_type, column c at y + c * by bytes. */
typedef void (*quant_rp_gemm_fn)(int n, float *s, size_t bs, const void *g, const void *y,
                                 size_t by, int nc);

struct quant_repack {
    const char *name;                  /* "Q4_0x16" */
    uint32_t type;                     /* the weight type it rearranges */
    uint32_t act_type;                 /* what the activations must be quantized to */
    size_t (*group_bytes)(int n);      /* bytes of one group of 16 rows of n values */
    /* 16 rows of n values at x, row stride bx bytes -> one group at g */
    void (*pack)(const void *x, size_t bx, void *g, int n);
    quant_rp_gemm_fn gemm;             /* the best kernel for this CPU (scalar when forced) */
    quant_rp_gemm_fn gemm_ref;         /* the scalar reference */
};

/* The repacked layout for weights of type t when this CPU has a SIMD kernel for it (repacking
 * pays only then), else NULL: use the weights as stored. NATTER_REPACK=0 turns it off. */
const struct quant_repack *quant_repack_get(uint32_t t);
/* The layout for type t whatever the CPU (tests), or NULL. */
const struct quant_repack *quant_repack_find(uint32_t t);

/* Matrix x matrix on repacked weights (prompt processing, and one column for generation):
 * ng groups, group k at x + k * gx bytes, holding rows 16k..16k+15; otherwise as
 * quant_mat_dot: s[c * bs + r] for r < 16 * ng, c < nc. Pure. */
void quant_repack_mat_dot(const struct quant_repack *rp, int n, float *s, size_t bs,
                          const void *x, size_t gx, int ng, const void *y, size_t by, int nc);

/* Half and bfloat16 conversions (scalar, exact rounding as ggml). */
float quant_f16_to_f32(uint16_t h);
uint16_t quant_f32_to_f16(float f);
float quant_bf16_to_f32(uint16_t h);
uint16_t quant_f32_to_bf16(float f);

/* F16 KV-cache attention helpers (SIMD where available; any n >= 0):
 * dot of n halves with n floats, and y[i] += a * x[i]. */
float quant_f16_dot_f32(int n, const uint16_t *x, const float *y);
void quant_f16_axpy(int n, float a, const uint16_t *x, float *y);
/* Row conversions (SIMD where available; any n >= 0). */
void quant_f16_to_f32_row(const uint16_t *x, float *y, int64_t n);
void quant_f32_to_f16_row(const float *x, uint16_t *y, int64_t n);

/* Forces the scalar kernels (tests, benchmarks); returns the previous setting. Not to be called
 * while other threads compute. The environment variable NATTER_SIMD=scalar|avx2|avx512 caps
 * the level chosen at init. */
int quant_force_scalar(int on);
/* "avx512vnni", "avx512", "avx2", "neon" or "scalar": the kernels vec_dot currently uses. */
const char *quant_simd_name(void);
/* 1 if the CPU has F16C (x86 CPUID; 0 elsewhere). For other modules' SIMD dispatch: clang's
 * __builtin_cpu_supports does not know "f16c". */
int quant_cpu_has_f16c(void);

#endif
