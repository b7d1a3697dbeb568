/* engine/model.h — the engine's internal model: architecture switches (one struct arch table),
 * hyper-parameters, tensors bound into the GGUF mapping, and the error helper the engine's
 * modules share. Internal to engine/; a loaded model is read-only and may be shared by threads. */
#ifndef NATTER_MODEL_H
#define NATTER_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "gguf.h"
#include "quant.h"

/* What distinguishes one architecture's forward pass from another's: data, not code. */
struct arch {
    const char *name;       /* general.architecture */
    int rope_neox;          /* rotate (x[i], x[i + n_rot/2]) instead of adjacent pairs */
    int qkv_bias;           /* attn_q/k/v.bias are required */
    int fused_qkv;          /* one attn_qkv.weight of n_embd + 2 * n_embd_kv rows */
    int fused_gate_up;      /* ffn_up.weight holds gate (first n_ff rows) then up */
    int q_prescale;         /* q is scaled by 1/sqrt(head_dim) before q.k (not the scores) */
};

/* A weight bound into the mapping: ne0 values per row, ne1 rows. */
struct tensor {
    const void *data;          /* the file's rows, or the repacked groups when rp is set */
    uint32_t type;
    int64_t ne0, ne1;
    size_t row_bytes;
    const struct quant_traits *tr;
    const struct quant_repack *rp; /* repacked at load (quant.h): data holds ne1 / 16 groups */
};

struct layer {
    struct tensor attn_norm, wq, wk, wv, wqkv, bq, bk, bv, wo;
    struct tensor ffn_norm, w_gate, w_up, w_down;   /* w_up is gate+up when fused */
};

struct hparams {
    int n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_ff;
    int head_dim, n_embd_q, n_embd_kv, n_rot;  /* n_embd_q = n_head * head_dim */
    float rope_base, rope_freq_scale, rms_eps;
    int n_ctx_orig;            /* rope.scaling.original_context_length, else n_ctx_train */
};

struct vocab; /* engine/tokenizer.h */

struct eng_model {
    gguf *g;
    const struct arch *arch;
    struct hparams hp;
    struct tensor tok_embd, output_norm, output;  /* output = tok_embd when tied */
    struct tensor rope_freqs;  /* optional (n_rot / 2) frequency divisors (Llama 3.1+) */
    struct tensor rope_long, rope_short; /* optional divisors for contexts longer / not longer
                                            than n_ctx_orig (Phi-3 LongRoPE) */
    struct layer *layers;
    struct vocab *vocab;
    char *meta_arena;          /* NUL-terminated copies of the string metadata */
    const char **meta_keys;    /* NUL-terminated keys, parallel to meta_vals */
    const char **meta_vals;
    int n_meta;
    struct eng_model_info info;
    void *rp_mem;              /* the repacked weights (one allocation), or NULL */
};

/* Sets the calling thread's eng_last_error() text (printf-style) and returns rc. */
int eng_error(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The tokenizer of m (NULL until the tokenizer is loaded). */
const struct vocab *eng_model_vocab(const eng_model *m);
/* The GGUF file of m (borrowed). */
const gguf *eng_model_gguf(const eng_model *m);
/* The weight matrices the forward pass multiplies by: index 0 the output (the embeddings when
 * tied), then each layer's wq, wk, wv, wqkv, wo, w_gate, w_up, w_down (absent ones have no
 * data). For the engine's buffer sizes and the repacking at load. */
int model_n_matrices(const eng_model *m);
struct tensor *model_matrix(eng_model *m, int i);

#endif
