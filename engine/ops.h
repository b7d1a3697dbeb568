/* engine/ops.h — the forward pass's non-matmul operations, computed exactly as llama.cpp
 * computes them on x86 (internal to the engine): ggml's vectorized exp and SiLU, and the
 * attention products over the KV cache with the 16-lane FMA order and reductions of ggml's
 * tiled F16 matmul. Activations are quantized to 8 bits before most matmuls, so a last-bit
 * difference here can flip a rounding downstream; matching bit for bit keeps the engine on
 * llama.cpp's numbers. Scalar versions always; AVX-512 versions chosen at run time give
 * identical results. Pure functions, any thread. */
#ifndef NATTER_OPS_H
#define NATTER_OPS_H

#include <stddef.h>
#include <stdint.h>

/* exp(x) as ggml_v_expf (one lane). */
float ops_expf(float x);

/* y[i] = silu(x[i]) * g[i] over a row of n, as ggml_vec_silu_f32 then ggml_mul (vector
 * lanes for the first n - n % 16 values, libm expf for the tail). y may alias g. */
void ops_silu_mul(int n, const float *x, const float *g, float *y);

/* y[i] = silu(x[i]) over a row of n, as ggml_vec_silu_f32 (vector lanes for the first
 * n - n % 16 values, libm expf for the tail). y may alias x. */
void ops_silu(int n, const float *x, float *y);

/* One token of a recurrent layer's head, in ggml's CPU order (AVX-512 build: dot products as
 * ggml_vec_dot_f32 with 4 accumulators of 16 lanes over the first n - n % 64 values, then one
 * by one; ggml's `a += x * y` leftovers fused as GCC contracts them).
 * ops_gdn_step — gated delta rule (ggml_gated_delta_net), S = d x d, row j = value index:
 * S *= eg; for each row j: delta = (v[j] - S[j] . k) * beta; S[j] += k * delta;
 * o[j] = (S[j] . q) * scale.
 * ops_ssm_step — Mamba-2 scan (ggml_ssm_scan, scalar decay), S = p x n: for each row i:
 * S[i] = S[i] * dA + B * (x[i] * dt); y[i] = S[i] . C + x[i] * D (the skip term, added as
 * ggml's separate add). y may alias x. */
/* The causal depthwise convolution of the recurrent layers (ggml_ssm_conv): y[t * ldy + ch] =
 * sum over k < kw of x[(t + k) * ch_n + ch] * wt[k * ch_n + ch] (k ascending, fused), for t <
 * n_tok; x holds kw - 1 rows of history then the tokens' rows, wt the kernel transposed (kw
 * rows of ch_n). */
void ops_conv_causal(int kw, int ch_n, int n_tok, const float *x, const float *wt, float *y,
                     size_t ldy);
void ops_gdn_step(int d, float *S, const float *q, const float *k, const float *v, float eg,
                  float beta, float scale, float *o);
void ops_ssm_step(int p, int n, float *S, const float *x, float dt, float dA, const float *B,
                  const float *C, float D, float *y);

/* y[i] = gelu(x[i]) as ggml_vec_gelu_f32 (the F16 table below). y may alias x. */
void ops_gelu(int n, const float *x, float *y);

/* y[i] = gelu(x[i]) * g[i] as ggml_vec_geglu_f32: the tanh GELU looked up in an F16 table
 * of x rounded to F16 (0 below -10, x above 10). y may alias g. */
void ops_gelu_mul(int n, const float *x, const float *g, float *y);

/* s[j] = dot(K_j, q) * scale for j < n_pos; K_j = hd values at k + j * stride elements
 * (F16 when f16, else F32). q holds F16-exact values when f16. */
void ops_attn_scores(const void *k, size_t stride, int f16, int n_pos, const float *q, int hd,
                     float scale, float *s);

/* In place: s[j] = softmax(s)[j] for j < n (ggml_vec_soft_max_f32: vector exp, 16-position
 * chunks reduced, chunk sums in double); with f16, each weight rounded to F16 as llama.cpp's
 * V product sees it. */
void ops_softmax(int n, float *s, int f16);
/* The same with an attention sink: a logit that joins the denominator (and the max) but has
 * no value (gpt-oss); sink = -INFINITY is plain ops_softmax. */
void ops_softmax_sink(int n, float *s, int f16, float sink);

/* o[i] = sum_j p[j] * V_j[i] for i < hd, j < n_pos, in the 16-lane order of ggml's tiled
 * matmul (position j feeds lane j % 16). acc: scratch of 16 * hd floats. */
void ops_attn_mix(const void *v, size_t stride, int f16, int n_pos, const float *p, int hd,
                  float *acc, float *o);
/* The same in parts, so that several heads can share a block of V rows while it is in cache:
 * acc[(j % 16) * hd + i] += p[j] * V_j[i] for j0 <= j < j1, position after position (acc zeroed
 * by the caller before the first part; V_j at v + j * stride elements), then
 * ops_attn_mix_reduce sums the 16 lane rows into o. Parts in increasing order give exactly
 * ops_attn_mix's result. */
/* A KV cache's rows to floats: n_rows rows of hd values of ggml type t (F16, or Q8_0 / Q4_0
 * with hd a multiple of 32), row r at src + r * row_bytes, into dst (n_rows x hd). The same
 * bits as the type's to_float (value times its block's scale; F16 converts exactly). */
void ops_kv_dequant(const void *src, size_t row_bytes, uint32_t t, int n_rows, int hd,
                    float *dst);
void ops_attn_mix_acc(const void *v, size_t stride, int f16, int j0, int j1, const float *p,
                      int hd, float *acc);
/* The same for rows whose lanes start elsewhere: row j < n (at v + j * stride elements, weight
 * p[j]) feeds lane (lane0 + j) % 16 — a block of V rows shared by queries whose positions start
 * at different places (sliding windows). ops_attn_mix_acc(v, ..., j0, j1, ...) is this for the
 * rows from j0 with lane0 = j0 % 16. */
void ops_attn_mix_lanes(const void *v, size_t stride, int f16, int n, const float *p, int lane0,
                        int hd, float *acc);
void ops_attn_mix_reduce(const float *acc, int hd, float *o);

/* nq <= OPS_ATTN_NQ queries over the same rows at once (the heads of a KV group): the scores
 * s[i][j] and the lanes acc[i] have exactly ops_attn_scores' and ops_attn_mix_lanes' bits for
 * each query i (over the rows as ops_kv_dequant's floats), and each row is read once for all of
 * them. Rows are row_bytes apart, of ggml type `type`: F32 or F16, or Q8_0 / Q4_0 where
 * ops_attn_reads_in_place says so (AVX-512; otherwise dequantize them first). */
#define OPS_ATTN_NQ 8
int ops_attn_reads_in_place(uint32_t type, int hd);
void ops_attn_scores_n(const void *k, size_t row_bytes, uint32_t type, int n_pos,
                       const float *const *q, int nq, int hd, float scale, float *const *s);
void ops_attn_mix_lanes_n(const void *v, size_t row_bytes, uint32_t type, int n,
                          const float *const *p, int nq, int lane0, int hd, float *const *acc);

/* Mixture-of-experts routing of one token, as llama.cpp's build_moe_ffn: p (n_expert router
 * logits) becomes the probabilities (gating 1: softmax, 2: sigmoid, 3: the logits as they are,
 * softmax over the k chosen); the k largest p + sel_bias (NULL: none; the bias only chooses),
 * best first, ties to the lower id, into sel; their weights (p, unbiased) into w, renormalized
 * to sum 1 when norm (the sum clamped at 6.1e-5), times scale when it is neither 0 nor 1. */
void ops_moe_route(int n_expert, int k, float *p, const float *sel_bias, int gating, int norm,
                   float scale, int *sel, float *w);

#endif
