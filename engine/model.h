/* engine/model.h — the engine's internal model: architecture switches (one struct arch table),
 * hyper-parameters (per layer where the metadata has arrays), tensors bound into the GGUF
 * mapping, and the error helper the engine's modules share. Internal to engine/; a loaded model
 * is read-only and may be shared by threads. */
#ifndef NATTER_MODEL_H
#define NATTER_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "gguf.h"
#include "quant.h"

enum arch_act { ACT_SILU = 0, ACT_GELU = 1,           /* the gated FFN's activation */
                ACT_SWIGLU_OAI = 2 };                  /* gpt-oss: clamped, x sigmoid(1.702 x) */
enum arch_gating { GATE_SOFTMAX = 1, GATE_SIGMOID = 2, /* expert probabilities from the router's */
                   GATE_SOFTMAX_WEIGHT = 3 };          /* logits (llama.cpp's numbering); the
                                                        * last: top-k of the raw logits, softmax
                                                        * over the k chosen (gpt-oss) */
enum layer_kind {  /* what a layer's first block is (the FFN follows in every kind) */
    LAYER_ATTN = 0,        /* softmax attention over the KV cache */
    LAYER_SHORTCONV,       /* LFM2's gated short convolution (recurrent state: the last inputs) */
    LAYER_DELTANET,        /* gated DeltaNet linear attention (Qwen3.5): conv state + a d_k x d_k
                            * matrix per value head */
    LAYER_MAMBA2,          /* Mamba2 selective state space (Granite 4.0-H): conv state + a P x N
                            * matrix per head */
};
enum arch_shexp { SHEXP_PLAIN = 0, SHEXP_GATED = 1 };  /* a shared expert added as it is, or
                                                        * x sigmoid(ffn_gate_inp_shexp . v) */
enum arch_qk_norm { QKN_NONE = 0, QKN_HEAD, QKN_FULL }; /* RMSNorm of q and k: per head, or over
                                                          * the whole q (k) vector (OLMo 2) */
enum arch_swa_rope {  /* RoPE on sliding-window layers */
    SWA_ROPE_SAME = 0,    /* the global layers' base, scale and YaRN */
    SWA_ROPE_UNSCALED,    /* freq_scale 1 (rope.freq_base_swa or the default base below) */
    SWA_ROPE_PLAIN,       /* freq_scale 1, no YaRN ramp, magnitude 1 (OLMo 3) */
};

/* What distinguishes one architecture's forward pass from another's: data, not code. Every
 * value is what llama.cpp's loader and graph for the architecture do (src/models/ARCH.cpp),
 * read by the one loader (model.c) and the one forward pass (engine.c). */
struct arch {
    const char *name;        /* general.architecture */
    unsigned rope_neox : 1;  /* rotate (x[i], x[i + n_rot/2]) instead of adjacent pairs */
    unsigned pre_norm : 1;   /* attn_norm / ffn_norm before the blocks (else raw residual) */
    unsigned post_norm : 1;  /* post_attention_norm / post_ffw_norm on the blocks' outputs */
    unsigned q_prescale : 1; /* q *= attention scale before q.k (kq scale 1), as gemma/phi3 */
    unsigned emb_sqrt : 1;   /* embeddings * sqrt(n_embd) (gemma) */
    unsigned tied_always : 1;/* the output matrix is token_embd even if output.weight exists */
    unsigned need_output : 1;/* output.weight is required (no tied embeddings) */
    unsigned granite : 1;    /* reads embedding/residual/attention/logit scales and
                              * rope.scaling.finetuned (false: no RoPE at all) */
    unsigned logit_opt : 1;  /* granite: logit_scale may be absent or 0 (no scaling) */
    unsigned yarn_keys : 1;  /* reads rope.scaling.yarn_beta_fast/slow, yarn_log_multiplier */
    unsigned temp_scale : 1; /* reads attention.temperature_scale (Llama 4 / Mistral 3) */
    unsigned attn_softcap : 1;  /* reads attn_logit_softcapping */
    unsigned final_softcap : 1; /* reads final_logit_softcapping */
    unsigned swa_nope_global : 1; /* with a sliding window, the global layers skip RoPE */
    unsigned moe_norm : 1;   /* the chosen experts' weights are renormalized to sum 1 */
    unsigned moe_gating_key : 1; /* reads expert_gating_func (else moe_gating) */
    unsigned ffn_norm_post : 1;  /* the FFN's pre-norm is named post_attention_norm (gpt-oss) */
    unsigned char moe_gating;    /* enum arch_gating */
    unsigned char recr_kind;     /* a layer whose head_count_kv entry is 0 is this kind of
                                  * recurrent layer (enum layer_kind; 0: not allowed) */
    unsigned swa_all_attn : 1;   /* with a window, every attention layer is local (LFM2) */
    unsigned recr_interval : 1;  /* the recurrent layers are attention.recurrent_layers, else
                                  * every layer but each full_attention_interval-th (Qwen3.5);
                                  * head_count_kv does not decide */
    unsigned attn_gate : 1;      /* attn_q gives [q | gate] per head; the attention's output is
                                  * multiplied by sigmoid(gate) before attn_output (Qwen3.5) */
    unsigned imrope : 1;         /* rope.dimension_sections (required): interleaved M-RoPE, with
                                  * text positions NEOX on the first n_rot dims except the
                                  * pairs of the 4th section (position 0) */
    /* Gemma 4 */
    unsigned swa_arr_required : 1; /* attention.sliding_window_pattern (a bool array) and
                                    * attention.sliding_window are required */
    unsigned kv_share : 1;       /* attention.shared_kv_layers: the last N layers compute only q
                                  * and read the K/V cache of the last own-cache layer of their
                                  * kind (sliding: n_layer - N - 2, full: n_layer - N - 1) */
    unsigned v_norm : 1;         /* V is RMS-normed per head, without a weight */
    unsigned v_optional : 1;     /* a layer without attn_v uses the raw K projection as V */
    unsigned attn_scale_one : 1; /* attention scores are not scaled (q/k norms do it) */
    unsigned ple : 1;            /* per-layer embeddings (embedding_length_per_layer_input) */
    unsigned out_scale : 1;      /* blk.N.layer_output_scale multiplies the whole residual */
    unsigned ff_full_only : 1;   /* rope_freqs divides the full layers' frequencies only */
    unsigned moe_unsupported : 1;/* this architecture's expert layers are refused */
    unsigned shexp_default : 1;  /* the shared expert is always there, feed_forward_length wide
                                  * without its key; experts feed_forward_length /
                                  * expert_used_count without theirs (Qwen3.5-MoE) */
    const char *out_norm;        /* the output norm's name when not output_norm (LFM2) */
    unsigned char shexp;         /* enum arch_shexp */
    unsigned char act;       /* enum arch_act */
    unsigned char qk_norm;   /* enum arch_qk_norm */
    unsigned char swa_rope;  /* enum arch_swa_rope */
    unsigned char nope_step; /* layer il has no RoPE when (il + 1) % nope_step == 0 (SmolLM3) */
    /* Sliding window: swa_pattern is the default period when the file has no
     * attention.sliding_window_pattern (0: the architecture has no sliding window). The window
     * is attention.sliding_window, else swa_window_default (0: no window without the key);
     * swa_n_layer > 0: only models of that depth have one (EXAONE 4: 64). */
    unsigned char swa_pattern;
    int swa_window_default, swa_n_layer;
    float swa_base_default;  /* rope base of local layers without rope.freq_base_swa (0: the
                              * global base) */
    int q_scale_alt_layers;  /* a model of this depth scales q by 1/sqrt(n_embd / n_head)
                              * instead of 1/sqrt(head_dim) (Gemma 2 27B: 46, Gemma 3 27B: 62) */
};

/* A weight bound into the mapping: ne0 values per row, ne1 rows (per expert: ne2 experts of
 * ne1 rows each for a 3-D expert tensor, ne2 = 1 otherwise). */
struct tensor {
    const void *data;          /* the file's rows, or the repacked groups when rp is set */
    uint32_t type;
    int64_t ne0, ne1, ne2;
    size_t row_bytes;
    const struct quant_traits *tr;
    const struct quant_repack *rp; /* repacked at load (quant.h): data holds ne1 / 16 groups */
};

/* RoPE of one kind of layer (global, local), as ggml_rope_ext's arguments. */
struct rope_cfg {
    int n_rot;                 /* dims rotated (rope.dimension_count, _swa for local layers) */
    float base, freq_scale, ext_factor, attn_factor;
    float corr[2];             /* YaRN correction dims (ggml_rope_yarn_corr_dims) */
};

/* One layer's hyper-parameters (per layer: the metadata may give arrays). */
struct layer_hp {
    int n_head, n_head_kv, n_ff;
    int n_expert, n_expert_used;   /* a mixture-of-experts FFN when n_expert > 0 */
    int n_ff_exp, n_ff_shexp;      /* an expert's and the shared expert's FFN width */
    int head_dim, n_rot;       /* this layer's head size and rotated dims (the _swa keys on
                                * sliding-window layers) */
    int n_embd_q, n_embd_kv;   /* n_head * head_dim, n_head_kv * head_dim */
    int kv_shared;             /* reads an earlier layer's K/V cache (kv_off, n_embd_kv and
                                * n_head_kv are that layer's) and stores none */
    int kind;                  /* enum layer_kind */
    int swa;                   /* attends to the last n_swa positions only */
    size_t rs_off, n_rs;       /* this layer's recurrent state in a context: floats at rs_off
                                * (the convolution's last inputs first, then the SSM/DeltaNet
                                * matrices) */
    int rope;                  /* index into hparams.rope[], -1: no RoPE (NoPE layer) */
    size_t kv_off;             /* this layer's first value in a context's K (V) cache, per
                                * context position: sum of the previous layers' n_embd_kv */
};

struct hparams {
    int n_vocab, n_ctx_train, n_embd, n_layer;
    int n_layer_all;           /* block_count: n_layer + the nextn_predict_layers (multi-token
                                * prediction blocks, not run; per-layer arrays cover them) */
    int head_dim, n_rot;       /* full-attention layers' head size and rotated dims */
    int head_dim_swa, n_rot_swa; /* sliding-window layers' (attention.key_length_swa,
                                  * rope.dimension_count_swa; default: the above) */
    int max_head_dim;
    int n_pl;                  /* per-layer embeddings: values per layer and token (0: none) */
    float rms_eps;
    int n_ctx_orig;            /* rope.scaling.original_context_length, else n_ctx_train */
    struct rope_cfg rope[2];   /* [0] global layers, [1] sliding-window layers */
    int n_swa;                 /* window of the local layers (0: none) */
    float q_scale;             /* q_prescale: q *= q_scale, scores * 1 */
    float kq_scale;            /* else scores * kq_scale */
    float attn_softcap, final_softcap;  /* 0: off; s = cap * tanh(s / cap) */
    float emb_scale, res_scale, logit_scale; /* 1, 1 (0: none), 1 when unused */
    float temp_scale;          /* q *= 1 + temp_scale * ln(floor(pos / n_ctx_orig) + 1) */
    int n_kv_total;            /* sum of the layers' n_embd_kv (values per cache position) */
    size_t n_rs_total;         /* recurrent state floats of all layers (0: none) */
    int shortconv_l;           /* LFM2: the short convolution's kernel length */
    /* DeltaNet / Mamba2 layers (ssm.*): the causal convolution's kernel length and channels,
     * the state size (DeltaNet: the head size d_k = d_v; Mamba2: N), the value (DeltaNet) or
     * SSM (Mamba2) heads, the key heads (DeltaNet) or B/C groups (Mamba2), the inner width
     * (heads x head size) */
    struct {
        int d_conv, d_inner, d_state, n_head, n_group;
        int n_chan;            /* the convolution's channels: DeltaNet q|k|v = 2 n_group d_state
                                * + d_inner; Mamba2 x|B|C = d_inner + 2 n_group d_state */
        int n_in;              /* the in-projection's outputs this engine gathers per token */
    } ssm;
    int rope_sections[4];      /* imrope: rope.dimension_sections */
    int max_q, max_kv, max_ff, max_head; /* the largest per-layer widths, for buffer sizes
                                          * (max_ff covers experts and shared experts) */
    int max_expert, max_expert_used;
    int gating;                /* enum arch_gating */
    float expert_w_scale;      /* the experts' weights times this (0 or 1: none) */
    struct layer_hp *l;        /* (n_layer) */
};

struct layer {
    struct tensor attn_norm, wq, wk, wv, wqkv, bq, bk, bv, bqkv, wo, bo;
    struct tensor q_norm, k_norm, post_attn_norm;
    struct tensor sinks;       /* (n_head) attention sink logits (gpt-oss), optional */
    struct tensor sc_in, sc_conv, sc_out; /* short convolution: in_proj (n_embd x 3 n_embd: B, C,
                                           * X), the kernel (L x n_embd, F32), out_proj */
    /* DeltaNet (the in-projection is wqkv: q|k|v channels) and Mamba2 (ssm_in: z|xBC|dt): the
     * output gate z (DeltaNet), beta and alpha projections (DeltaNet), the causal convolution's
     * kernel (d_conv x channels, F32) and bias (Mamba2, optional), dt bias, A (negative; per
     * head), D (Mamba2), the gated norm's weight (per head: d_v; Mamba2: d_inner / groups x
     * groups) and the output projection */
    struct tensor ssm_in, ssm_gate, ssm_beta, ssm_alpha, ssm_conv, ssm_conv_b, ssm_dt_b, ssm_a,
        ssm_d, ssm_norm, ssm_out;
    struct tensor ffn_norm, w_gate, w_up, w_down, b_gate, b_up, b_down; /* w_up is gate+up
                                                                          * when w_gate is absent */
    struct tensor post_ffn_norm;
    struct tensor out_scale;   /* (1) layer_output_scale, optional */
    struct tensor pl_gate, pl_proj, pl_norm; /* per-layer embedding: inp_gate (n_embd x n_pl),
                                              * proj (n_pl x n_embd), post_norm */
    /* mixture of experts: router (n_embd x n_expert) with optional bias, 3-D experts (gate and
     * up apart or fused, gate rows first), per-expert biases (n_ff_exp or n_embd x n_expert),
     * the shared expert and its gate */
    struct tensor router, b_router, gate_exps, up_exps, gate_up_exps, down_exps;
    struct tensor exp_probs_b; /* (n_expert) added to the probabilities for the choice only */
    struct tensor b_gate_exps, b_up_exps, b_down_exps;
    struct tensor gate_shexp, up_shexp, down_shexp, gate_inp_shexp;
};

/* Expert e of a 3-D expert tensor as a 2-D weight (ne1 rows). */
struct tensor tensor_expert(const struct tensor *t, int e);

struct vocab; /* engine/tokenizer.h */

struct eng_model {
    gguf *g;
    const struct arch *arch;
    struct hparams hp;
    struct tensor tok_embd, output_norm, output;  /* output = tok_embd when tied */
    struct tensor rope_freqs;  /* optional (n_rot / 2) frequency divisors (Llama 3.1+) */
    struct tensor rope_long, rope_short; /* optional divisors for contexts longer / not longer
                                            than n_ctx_orig (Phi-3 LongRoPE) */
    struct tensor pl_tok_embd, pl_model_proj, pl_proj_norm; /* per-layer embeddings: per token
                                            * (n_layer x n_pl), the projection of the scaled
                                            * embedding (n_embd -> n_layer x n_pl), its norm */
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
 * tied), 1 the per-layer embeddings' projection, then each layer's wq, wk, wv, wqkv, wo, w_gate, w_up, w_down, the router, the expert
 * tensors, the shared expert's and the recurrent layers' projections (absent ones have no
 * data). For the engine's buffer sizes and the repacking at load. */
int model_n_matrices(const eng_model *m);
struct tensor *model_matrix(eng_model *m, int i);

#endif
