/* engine/quant.h — tensor types: ggml's block layouts (block_q4_0, block_q8_K...), one traits
 * table indexed by type id (name, block size, bytes, to_float, from_float, vec_dot and the
 * activation type its dot product wants), scalar reference kernels and the SIMD kernels chosen
 * at run time. Pure functions; callable from any thread. */
#ifndef NATTER_QUANT_H
#define NATTER_QUANT_H

#include <stddef.h>
#include <stdint.h>

/* ggml's type ids, as stored in GGUF tensor infos. */
enum ggml_type {
    GGML_TYPE_F32 = 0, GGML_TYPE_F16 = 1, GGML_TYPE_Q4_0 = 2, GGML_TYPE_Q4_1 = 3,
    GGML_TYPE_Q5_0 = 6, GGML_TYPE_Q5_1 = 7, GGML_TYPE_Q8_0 = 8, GGML_TYPE_Q8_1 = 9,
    GGML_TYPE_Q2_K = 10, GGML_TYPE_Q3_K = 11, GGML_TYPE_Q4_K = 12, GGML_TYPE_Q5_K = 13,
    GGML_TYPE_Q6_K = 14, GGML_TYPE_Q8_K = 15, GGML_TYPE_IQ2_XXS = 16, GGML_TYPE_IQ2_XS = 17,
    GGML_TYPE_IQ3_XXS = 18, GGML_TYPE_IQ1_S = 19, GGML_TYPE_IQ4_NL = 20, GGML_TYPE_IQ3_S = 21,
    GGML_TYPE_IQ2_S = 22, GGML_TYPE_IQ4_XS = 23, GGML_TYPE_I8 = 24, GGML_TYPE_I16 = 25,
    GGML_TYPE_I32 = 26, GGML_TYPE_I64 = 27, GGML_TYPE_F64 = 28, GGML_TYPE_IQ1_M = 29,
    GGML_TYPE_BF16 = 30, GGML_TYPE_TQ1_0 = 34, GGML_TYPE_TQ2_0 = 35,
    GGML_TYPE_COUNT = 39
};

/* y[i] = dequant(x)[i] for n values (n a multiple of the block size). */
typedef void (*quant_to_float_fn)(const void *x, float *y, int64_t n);
/* Quantizes n floats (multiple of the block size) into blocks. */
typedef void (*quant_from_float_fn)(const float *x, void *y, int64_t n);
/* *s = dot(x, y) over n values; x in this type, y in traits.vec_dot_type. */
typedef void (*quant_vec_dot_fn)(int n, float *s, const void *x, const void *y);

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
};

/* Traits of type t, or NULL if t is out of range or not a type. Thread-safe (the SIMD choice
 * is made once, on first use). */
const struct quant_traits *quant_traits_get(uint32_t t);
/* Bytes of a row of n values of type t; 0 if n is not a multiple of the block size. */
size_t quant_row_size(uint32_t t, int64_t n);

/* Half and bfloat16 conversions (scalar, exact rounding as ggml). */
float quant_f16_to_f32(uint16_t h);
uint16_t quant_f32_to_f16(float f);
float quant_bf16_to_f32(uint16_t h);
uint16_t quant_f32_to_bf16(float f);

/* Forces the scalar kernels (tests, benchmarks); returns the previous setting. */
int quant_force_scalar(int on);
const char *quant_simd_name(void);

#endif
