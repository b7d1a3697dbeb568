/* engine/engine.c — contexts and the forward pass: the KV cache (F16 or F32) and every
 * activation buffer allocated at eng_ctx_new (nothing per token), eng_decode over batches
 * (RMSNorm, RoPE normal/NEOX, GQA causal attention, SwiGLU, as the model's struct arch says),
 * matmuls split into fixed 64-row units handed out to the pool's threads (any thread count
 * gives the same numbers), logits. A context is used by one thread at a time. */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model.h"
#include "ops.h"
#include "pool.h"
#include "state.h"
#include "sysmem.h"

/* Checkpoints of the recurrent state kept per context (the most recent prompt ends). */
#define ENG_RS_CKPT 4

/* Positions per pass: the pass's K (or V) rows of one KV head, as floats, stay in L1/L2 while
 * each query of the task goes over them. */
#define ATTN_POS_BLOCK 128
/* Query tokens per attention task at most (they share each block of K/V rows read), and the
 * per-thread scratch that bounds them on long contexts (each query keeps its n_ctx weights). */
#define ATTN_TOK_TILE 16
#define ATTN_SCRATCH_BYTES (8u << 20)

struct eng_ctx {
    eng_model *m;
    pool *pool;
    int n_ctx, n_batch, n_threads, kv_type;
    void *k_cache, *v_cache;   /* per layer (n_ctx, its n_embd_kv), at n_ctx * kv_off values
                                * (kv_bytes: where a value index starts) */
    float *kv_tile;            /* per thread, a block of positions of one KV head as floats
                                * (ATTN_POS_BLOCK x head_dim); not for an F32 cache */
    int32_t *tokens;           /* (n_ctx) the tokens in the cache */
    int n_past;
    float *x;                  /* (n_batch, n_embd) residual stream */
    float *xb;                 /* (n_batch, n_embd) normed input of a block */
    float *xb2;                /* (n_batch, max_q) attention output */
    float *q;                  /* (n_batch, max_q) */
    float *k, *v;              /* (n_batch, max_kv) */
    float *hb;                 /* (n_batch, max(2 max_ff, max_q + 2 max_kv)) */
    float *hb2;                /* (n_batch, max(max_ff, n_embd)) */
    float *rope[2];            /* (n_batch, n_rot) cos, sin pairs: global, local layers */
    const float *rope_ff;      /* the frequency divisors this context uses, or NULL */
    float *att;                /* (n_threads, att_stride) attention scratch (attn_worker):
                                * att_q queries of (n_ctx + 17 head_dim) floats */
    size_t att_stride;
    int att_q;
    uint8_t *xq;               /* (n_batch, bytes of the largest quantized activation row) */
    size_t xq_row;
    const float *xq_src;       /* what xq holds: source, type, tokens, row length */
    int xq_type, xq_ntok;
    int64_t xq_ne0;
    float *moe_lg;             /* (n_batch, max_expert) router logits, then probabilities */
    int *moe_sel;              /* (n_batch, max_expert_used) the chosen experts, best first */
    float *moe_w;              /* (n_batch, max_expert_used) their weights */
    int *moe_row;              /* (n_batch) token * max_expert_used + slot of a gathered row */
    float *moe_in;             /* (n_batch, n_embd) an expert's input rows, gathered */
    float *moe_out;            /* (n_batch * max_expert_used, n_embd) each slot's output */
    float *rs;                 /* (n_rs_total) the recurrent layers' state after n_past tokens */
    struct { int pos; float *data; } ckpt[ENG_RS_CKPT]; /* saved states (pos -1: unused) */
    float *conv;               /* (kernel - 1 + n_batch, channels) a causal convolution's
                                * inputs: the state's rows then the batch's */
    float *conv_wt;            /* (d_conv, n_chan) a DeltaNet/Mamba2 kernel, transposed */
    float *rs_in;              /* (n_batch, ssm.n_in) a DeltaNet/Mamba2 in-projection */
    float *rs_y;               /* (n_batch, ssm.n_chan) its convolution's output, then the
                                * heads' outputs */
    float *pl;                 /* (n_batch, n_layer x n_pl) per-layer embedding inputs */
    float *qg;                 /* (n_batch, 2 max_q) gated attention: q and gate per head */
    float *gate;               /* (n_batch, max_q) the gate */
    float *logits;             /* (n_logits_cap, n_vocab) */
    int n_logits_cap;
    int n_logits, logits_all;  /* of the last eng_decode */
    int n_decoded;             /* tokens of the last eng_decode */
    const volatile int *cancel;
};

struct eng_ctx_params eng_ctx_default_params(void) {
    struct eng_ctx_params p = {0, 0, 0, ENG_KV_F16};
    return p;
}

eng_model *eng_ctx_model(const eng_ctx *c) { return c->m; }
int eng_ctx_n_ctx(const eng_ctx *c) { return c->n_ctx; }
int eng_ctx_n_past(const eng_ctx *c) { return c->n_past; }
const int32_t *eng_ctx_tokens(const eng_ctx *c) { return c->tokens; }
void eng_ctx_set_cancel(eng_ctx *c, const volatile int *flag) { c->cancel = flag; }

/* Bytes of n cached values of type t (n a multiple of 32 for the block types), which is also
 * where value index n starts. */
size_t ctx_kv_bytes(int t, size_t n) {
    switch (t) {
    case ENG_KV_F32: return n * 4;
    case ENG_KV_Q8_0: return n / QK8_0 * sizeof(block_q8_0);
    case ENG_KV_Q4_0: return n / QK4_0 * sizeof(block_q4_0);
    default: return n * 2;
    }
}

/* The ggml type of a block cache (GGML_TYPE_COUNT for F16/F32). */
static uint32_t kv_ggml_type(int t) {
    return t == ENG_KV_Q8_0 ? GGML_TYPE_Q8_0 : t == ENG_KV_Q4_0 ? GGML_TYPE_Q4_0
                                                                : GGML_TYPE_COUNT;
}

static const char *const kv_type_names[] = {"f16", "f32", "q8_0", "q4_0"};

const char *eng_kv_type_name(int t) {
    return t >= 0 && t < (int)(sizeof kv_type_names / sizeof *kv_type_names) ? kv_type_names[t]
                                                                             : NULL;
}

int eng_kv_type_parse(const char *name) {
    for (int t = 0; name && t < (int)(sizeof kv_type_names / sizeof *kv_type_names); t++)
        if (!strcasecmp(name, kv_type_names[t]))
            return t;
    return -1;
}

size_t eng_ctx_kv_bytes(const eng_ctx *c) {
    const struct hparams *hp = &c->m->hp;
    return 2 * ctx_kv_bytes(c->kv_type, (size_t)hp->n_kv_total * (size_t)c->n_ctx);
}

size_t eng_ctx_rs_bytes(const eng_ctx *c, int *n_checkpoints) {
    const size_t n = c->m->hp.n_rs_total;
    if (n_checkpoints)
        *n_checkpoints = n ? ENG_RS_CKPT : 0;
    return n * sizeof(float);
}

void eng_ctx_checkpoint(eng_ctx *c) {
    const size_t n = c->m->hp.n_rs_total;
    if (!n || c->n_past == 0)
        return;
    int slot = 0;
    for (int i = 0; i < ENG_RS_CKPT; i++) {
        if (c->ckpt[i].pos == c->n_past)   /* already there */
            return;
        if (c->ckpt[i].pos < c->ckpt[slot].pos)
            slot = i;   /* unused (-1) first, else the oldest position */
    }
    c->ckpt[slot].pos = c->n_past;
    memcpy(c->ckpt[slot].data, c->rs, n * sizeof(float));
}

/* A recurrent state cannot be rewound: back to the latest checkpoint at or before n_past (the
 * start when there is none); the later ones belong to the history being dropped. */
static void rs_rewind(eng_ctx *c, int n_past) {
    const size_t n = c->m->hp.n_rs_total;
    int best = -1;
    for (int i = 0; i < ENG_RS_CKPT; i++) {
        if (c->ckpt[i].pos > n_past)
            c->ckpt[i].pos = -1;
        else if (c->ckpt[i].pos >= 0 && (best < 0 || c->ckpt[i].pos > c->ckpt[best].pos))
            best = i;
    }
    if (best >= 0) {
        memcpy(c->rs, c->ckpt[best].data, n * sizeof(float));
        c->n_past = c->ckpt[best].pos;
    } else {
        memset(c->rs, 0, n * sizeof(float));
        c->n_past = 0;
    }
}

void eng_ctx_truncate(eng_ctx *c, int n_past) {
    if (n_past < 0)
        n_past = 0;
    if (n_past >= c->n_past)
        return;
    if (!c->m->hp.n_rs_total) {
        c->n_past = n_past;
        return;
    }
    rs_rewind(c, n_past);
}

void eng_ctx_free(eng_ctx *c) {
    if (!c)
        return;
    pool_free(c->pool);
    free(c->k_cache);
    free(c->v_cache);
    free(c->kv_tile);
    free(c->tokens);
    free(c->x);
    free(c->xb);
    free(c->xb2);
    free(c->q);
    free(c->k);
    free(c->v);
    free(c->hb);
    free(c->hb2);
    free(c->rope[0]);
    free(c->rope[1]);
    free(c->att);
    free(c->xq);
    free(c->rs);
    for (int i = 0; i < ENG_RS_CKPT; i++)
        free(c->ckpt[i].data);
    free(c->conv);
    free(c->conv_wt);
    free(c->rs_in);
    free(c->rs_y);
    free(c->qg);
    free(c->gate);
    free(c->pl);
    free(c->moe_lg);
    free(c->moe_sel);
    free(c->moe_w);
    free(c->moe_row);
    free(c->moe_in);
    free(c->moe_out);
    free(c->logits);
    free(c);
}

/* What tensor t's kernels want the activations quantized to. */
static uint32_t act_type(const struct tensor *t) {
    return t->rp ? t->rp->act_type : (uint32_t)t->tr->vec_dot_type;
}

/* Bytes of one activation row of n values quantized for tensor t's dot product. */
static size_t act_row_bytes(const struct tensor *t) {
    if (!t->data)
        return 0;
    return quant_row_size(act_type(t), t->ne0);
}

static size_t max_act_row(eng_model *m) {
    size_t mx = 0;
    for (int i = 0; i < model_n_matrices(m); i++) {
        const size_t b = act_row_bytes(model_matrix(m, i));
        if (b > mx)
            mx = b;
    }
    return mx;
}

int eng_ctx_new(eng_model *m, const struct eng_ctx_params *p, eng_ctx **out) {
    struct eng_ctx_params def = eng_ctx_default_params();
    if (!m || !out)
        return eng_error(ENG_E_ARG, "eng_ctx_new: NULL argument");
    *out = NULL;
    if (!m->layers)
        return eng_error(ENG_E_ARG, "eng_ctx_new: the model was loaded vocab-only");
    if (!p)
        p = &def;
    const struct hparams *hp = &m->hp;
    eng_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return eng_error(ENG_E_NOMEM, "out of memory");
    c->m = m;
    c->n_ctx = p->n_ctx > 0 ? p->n_ctx : (hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096);
    if (c->n_ctx > (1 << 22)) {
        free(c);
        return eng_error(ENG_E_ARG, "context of %d tokens is too large", p->n_ctx);
    }
    c->n_batch = p->n_batch > 0 ? p->n_batch : 512;
    if (c->n_batch > c->n_ctx)
        c->n_batch = c->n_ctx;
    c->n_threads = p->n_threads > 0 ? p->n_threads : eng_cpu_physical_cores();
    if (c->n_threads > 256)
        c->n_threads = 256;
    if (!eng_kv_type_name(p->kv_type)) {
        free(c);
        return eng_error(ENG_E_ARG, "unknown KV cache type %d", p->kv_type);
    }
    c->kv_type = p->kv_type;
    for (int il = 0; kv_ggml_type(c->kv_type) != GGML_TYPE_COUNT && il < hp->n_layer; il++)
        if (hp->l[il].n_embd_kv && (hp->l[il].head_dim % 32 || hp->l[il].n_embd_kv % 32)) {
            free(c);
            return eng_error(ENG_E_ARG, "a %s KV cache needs head sizes that are multiples of "
                             "32 (layer %d: %d)", eng_kv_type_name(p->kv_type), il,
                             hp->l[il].head_dim);
        }
    size_t B = (size_t)c->n_batch, E = (size_t)hp->n_embd, KV = (size_t)hp->max_kv;
    size_t Q = (size_t)hp->max_q;
    size_t F = (size_t)hp->max_ff;
    const int gated = m->arch->attn_gate;
    size_t hbw = 2 * F > (gated ? 2 : 1) * Q + 2 * KV ? 2 * F : (gated ? 2 : 1) * Q + 2 * KV;
    if (hp->shortconv_l && hbw < 3 * E)   /* a short convolution's B, C, X */
        hbw = 3 * E;
    if (hbw < (size_t)hp->n_pl)           /* a per-layer embedding's gate */
        hbw = (size_t)hp->n_pl;
    size_t kv_n = (size_t)hp->n_kv_total * (size_t)c->n_ctx;
    c->xq_row = max_act_row(m);
    /* a causal convolution's rows (LFM2: n_embd channels; DeltaNet/Mamba2: ssm.n_chan) */
    const size_t SC = (size_t)hp->ssm.n_chan, SI = (size_t)hp->ssm.n_in;
    size_t conv_rows = 0, conv_w = 0;
    if (hp->shortconv_l)
        conv_rows = (size_t)hp->shortconv_l - 1 + B, conv_w = E;
    if (SC) {
        if ((size_t)hp->ssm.d_conv - 1 + B > conv_rows)
            conv_rows = (size_t)hp->ssm.d_conv - 1 + B;
        if (SC > conv_w)
            conv_w = SC;
    }
    /* the KV cache, the recurrent state and its checkpoints, the batch activations: refused
     * up front rather than OOM-killed on use */
    char merr[160], what[64];
    snprintf(what, sizeof what, "a context of %d tokens", c->n_ctx);
    if (sysmem_check(2 * (uint64_t)ctx_kv_bytes(c->kv_type, kv_n) +
                         (uint64_t)(1 + ENG_RS_CKPT) * hp->n_rs_total * sizeof(float) +
                         (uint64_t)B * (3 * E + 2 * Q + 2 * KV + hbw + F + SI + SC) *
                             sizeof(float) +
                         (uint64_t)conv_rows * conv_w * sizeof(float),
                     what, merr, sizeof merr)) {
        free(c);
        return eng_error(ENG_E_NOMEM, "%s", merr);
    }
    /* (a model may have no attention layer at all: no cache, no q; nothing is allocated empty) */
    /* attention streams the cache from memory once per token, as the weights (huge pages) */
    c->k_cache = kv_n ? sysmem_alloc_stream(ctx_kv_bytes(c->kv_type, kv_n)) : malloc(1);
    c->v_cache = kv_n ? sysmem_alloc_stream(ctx_kv_bytes(c->kv_type, kv_n)) : malloc(1);
    c->tokens = malloc((size_t)c->n_ctx * sizeof *c->tokens);
    c->x = malloc(B * E * sizeof(float));
    c->xb = malloc(B * E * sizeof(float));
    c->xb2 = malloc(B * (Q ? Q : 1) * sizeof(float));
    c->q = malloc(B * (Q ? Q : 1) * sizeof(float));
    c->k = malloc(B * (KV ? KV : 1) * sizeof(float));
    c->v = malloc(B * (KV ? KV : 1) * sizeof(float));
    c->hb = malloc(B * hbw * sizeof(float));
    c->hb2 = malloc(B * (F > E ? F : E) * sizeof(float));   /* a convolution's y is n_embd */
    c->rope[0] = malloc(B * (size_t)hp->rope[0].n_rot * sizeof(float));
    c->rope[1] = malloc(B * (size_t)hp->rope[1].n_rot * sizeof(float));
    /* as llama.cpp: Llama 3.1's divisors always; Phi-3's long ones for a context longer than
     * the original one, else its short ones */
    c->rope_ff = m->rope_freqs.data;
    if (!c->rope_ff)
        c->rope_ff = m->rope_long.data && c->n_ctx > hp->n_ctx_orig ? m->rope_long.data
                                                                    : m->rope_short.data;
    /* attn_worker's scratch: up to a KV head's group of query heads per task */
    int max_group = 1;
    for (int il = 0; il < hp->n_layer; il++)
        if (hp->l[il].n_head_kv && hp->l[il].n_head / hp->l[il].n_head_kv > max_group)
            max_group = hp->l[il].n_head / hp->l[il].n_head_kv;
    const size_t hd_max = (size_t)(hp->max_head_dim > 0 ? hp->max_head_dim : hp->head_dim);
    const size_t per_q = (size_t)c->n_ctx + 17 * hd_max;
    size_t att_q = ATTN_SCRATCH_BYTES / (per_q * sizeof(float));
    if (att_q > (size_t)ATTN_TOK_TILE * max_group)
        att_q = (size_t)ATTN_TOK_TILE * max_group;
    c->att_q = att_q > (size_t)max_group ? (int)att_q : max_group;
    c->att_stride = (size_t)c->att_q * per_q;
    c->att = malloc((size_t)c->n_threads * c->att_stride * sizeof(float));
    if (c->kv_type != ENG_KV_F32 &&
        !(c->kv_tile = malloc((size_t)c->n_threads * ATTN_POS_BLOCK * hd_max * sizeof(float)))) {
        eng_ctx_free(c);
        return eng_error(ENG_E_NOMEM, "out of memory for a context of %d tokens", c->n_ctx);
    }
    c->xq = malloc(B * c->xq_row + 64);
    c->n_logits_cap = 1;   /* grows when a caller asks for every row (teacher forcing) */
    c->logits = malloc((size_t)c->n_logits_cap * (size_t)hp->n_vocab * sizeof(float));
    if (!c->k_cache || !c->v_cache || !c->tokens || !c->x || !c->xb || !c->xb2 || !c->q ||
        !c->k || !c->v || !c->hb || !c->hb2 || !c->rope[0] || !c->rope[1] || !c->att || !c->xq ||
        !c->logits) {
        eng_ctx_free(c);
        return eng_error(ENG_E_NOMEM, "out of memory for a context of %d tokens", c->n_ctx);
    }
    if (hp->n_rs_total) {   /* recurrent state, its checkpoints, the convolution's scratch */
        c->rs = calloc(hp->n_rs_total, sizeof(float));
        int ok = c->rs != NULL;
        for (int i = 0; i < ENG_RS_CKPT; i++) {
            c->ckpt[i].pos = -1;
            ok = ok && (c->ckpt[i].data = malloc(hp->n_rs_total * sizeof(float)));
        }
        c->conv = malloc(conv_rows * conv_w * sizeof(float));
        if (SC) {
            c->conv_wt = malloc((size_t)hp->ssm.d_conv * SC * sizeof(float));
            c->rs_in = malloc(B * SI * sizeof(float));
            c->rs_y = malloc(B * SC * sizeof(float));
            ok = ok && c->conv_wt && c->rs_in && c->rs_y;
        }
        if (!ok || !c->conv) {
            eng_ctx_free(c);
            return eng_error(ENG_E_NOMEM, "out of memory for a context of %d tokens", c->n_ctx);
        }
    }
    if (hp->n_pl) {   /* the batch's rows, then one row of per-token embeddings */
        c->pl = malloc((B + 1) * (size_t)hp->n_layer * (size_t)hp->n_pl * sizeof(float));
        if (!c->pl) {
            eng_ctx_free(c);
            return eng_error(ENG_E_NOMEM, "out of memory for a context of %d tokens", c->n_ctx);
        }
    }
    if (gated && Q) {
        c->qg = malloc(B * 2 * Q * sizeof(float));
        c->gate = malloc(B * Q * sizeof(float));
        if (!c->qg || !c->gate) {
            eng_ctx_free(c);
            return eng_error(ENG_E_NOMEM, "out of memory for a context of %d tokens", c->n_ctx);
        }
    }
    if (hp->max_expert > 0) {
        const size_t X = (size_t)hp->max_expert, K = (size_t)hp->max_expert_used;
        c->moe_lg = malloc(B * X * sizeof(float));
        c->moe_sel = malloc(B * K * sizeof(int));
        c->moe_w = malloc(B * K * sizeof(float));
        c->moe_row = malloc(B * sizeof(int));
        c->moe_in = malloc(B * E * sizeof(float));
        c->moe_out = malloc(B * K * E * sizeof(float));
        if (!c->moe_lg || !c->moe_sel || !c->moe_w || !c->moe_row || !c->moe_in || !c->moe_out) {
            eng_ctx_free(c);
            return eng_error(ENG_E_NOMEM, "out of memory for a context of %d tokens", c->n_ctx);
        }
    }
    int prc = pool_new(c->n_threads, &c->pool);
    if (prc != 0) {
        int n = c->n_threads;
        eng_ctx_free(c);
        if (prc == -ENOMEM)
            return eng_error(ENG_E_NOMEM, "out of memory for a pool of %d threads", n);
        return eng_error(ENG_E_THREAD, "cannot start %d threads: %s", n, strerror(-prc));
    }
    *out = c;
    return ENG_OK;
}

/* ---- kernels ---- */

/* y = x / rms(x) * w, for one row of n (ggml's order: sum in double, scale, then weight; w
 * NULL: no weight). */
static void rmsnorm(float *y, const float *x, const float *w, int n, float eps) {
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)(x[i] * x[i]);
    float scale = 1.0f / sqrtf((float)(sum / n) + eps);
    if (!w) {   /* ggml_rms_norm alone */
        for (int i = 0; i < n; i++)
            y[i] = x[i] * scale;
        return;
    }
    for (int i = 0; i < n; i++)
        y[i] = (x[i] * scale) * w[i];
}

/* One weight times the batch: out[t * ld + r] for row r of w, token t. */
struct matmul_job {
    const struct tensor *w;
    float *out;
    int ld;
};

struct matmul_args {
    struct matmul_job job[3];  /* up to 3 weights sharing one input (q/k/v, gate/up) */
    int n_job;
    const uint8_t *xq;         /* n_tok activation rows in the weights' vec_dot_type */
    size_t xq_stride;
    int n_tok;
    int64_t unit0[4];          /* first unit (MM_ROW_BLOCK rows) of each job; unit0[n_job]: all */
    atomic_llong next;         /* next unit to hand out (units below nth: thread ith's first) */
};

/* Rows per unit of work: the block's weights stay in cache while every column (token) of the
 * batch passes over them, and a unit is small enough that a thread the OS stalls leaves little
 * for the others to wait on. */
#define MM_ROW_BLOCK 64

/* Bytes ahead of the row being read that matrix x vector prefetches: the weights are read
 * once per token, from memory, and the hardware prefetchers alone leave the stream waiting
 * (tg32 on the 1.1B-shaped Q4_0 file, 2 threads, shared machine: ~3.5 -> ~4.5 t/s). */
#define MV_PREFETCH 4096

/* Batches of at most this many tokens compute every row of a matrix that is not repacked with
 * the one-token dot product (repacked matrices use one kernel for any batch), so each token's
 * logits are the bits decoding it alone gives: speculative decoding verifies its drafts in
 * such a batch and stays exact (ENG_DRAFT_MAX + 1 tokens at most). */
#define MM_EXACT_TOK 16
_Static_assert(ENG_DRAFT_MAX + 1 <= MM_EXACT_TOK, "a verification batch is computed exactly");

/* Prefetches the n bytes from address a, one cache line at a time (integer addresses: the
 * range may run past the weights, which a prefetch never faults on). */
static void prefetch_range(uintptr_t a, size_t n) {
    for (size_t o = 0; o < n; o += 64)
        __builtin_prefetch((const void *)(a + o), 0, 3);
}

/* Units are handed out dynamically (each thread starts with unit ith, then takes the next free
 * one), so a thread that runs late is not waited for. Units always cover the same rows and
 * every row is computed the same way whoever runs it: any thread count gives the same bits. */
static void matmul_worker(void *ud, int ith, int nth) {
    struct matmul_args *a = ud;
    int64_t n_units = a->unit0[a->n_job];
    (void)nth;
    for (int64_t u = ith; u < n_units; u = atomic_fetch_add(&a->next, 1)) {
        int j = 0;
        while (u >= a->unit0[j + 1])
            j++;
        const struct tensor *w = a->job[j].w;
        float *out = a->job[j].out;
        int64_t rb = (u - a->unit0[j]) * MM_ROW_BLOCK;
        int nr = (int)(w->ne1 - rb < MM_ROW_BLOCK ? w->ne1 - rb : MM_ROW_BLOCK);
        if (w->rp) {   /* repacked: groups of 16 rows (ne1 is a multiple of 16) */
            const size_t gb = w->rp->group_bytes((int)w->ne0);
            const uint8_t *gd = (const uint8_t *)w->data + (size_t)(rb / QUANT_RP_ROWS) * gb;
            if (a->n_tok == 1)
                prefetch_range((uintptr_t)gd, MV_PREFETCH);
            quant_repack_mat_dot(w->rp, (int)w->ne0, out + rb, (size_t)a->job[j].ld, gd,
                                 gb, nr / QUANT_RP_ROWS, a->xq, a->xq_stride, a->n_tok);
            continue;
        }
        const uint8_t *wd = (const uint8_t *)w->data + (size_t)rb * w->row_bytes;
        if (a->n_tok <= MM_EXACT_TOK) {   /* matrix x vector: one dot product per row+token */
            quant_vec_dot_fn dot = w->tr->vec_dot;
            const size_t ld = (size_t)a->job[j].ld;
            size_t head = (size_t)nr * w->row_bytes;   /* a unit's start: nobody read ahead */
            prefetch_range((uintptr_t)wd, head < MV_PREFETCH ? head : MV_PREFETCH);
            for (int r = 0; r < nr; r++) {
                const uint8_t *row = wd + (size_t)r * w->row_bytes;
                prefetch_range((uintptr_t)row + MV_PREFETCH, w->row_bytes);
                for (int t = 0; t < a->n_tok; t++)   /* the row stays in L1 for every token */
                    dot((int)w->ne0, &out[(size_t)t * ld + rb + r], row,
                        a->xq + (size_t)t * a->xq_stride);
            }
            continue;
        }
        quant_mat_dot(w->type, (int)w->ne0, out + rb, (size_t)a->job[j].ld, wd, w->row_bytes,
                      a->xq, a->xq_stride, nr, a->n_tok);
    }
}

struct quantize_args {
    const struct quant_traits *qt;
    const float *x;
    uint8_t *xq;
    size_t stride;
    int64_t ne0;
    int n_tok;
};

static void quantize_worker(void *ud, int ith, int nth) {
    const struct quantize_args *a = ud;
    int t0 = (int)((int64_t)a->n_tok * ith / nth), t1 = (int)((int64_t)a->n_tok * (ith + 1) / nth);
    for (int t = t0; t < t1; t++)
        a->qt->from_float(a->x + (size_t)t * (size_t)a->ne0, a->xq + (size_t)t * a->stride, a->ne0);
}

/* For each job: out (n_tok, w->ne1; row stride ld) = x (n_tok, w->ne0) times w transposed.
 * The activations are quantized once to the weights' vec_dot_type (over the threads), then
 * each weight's rows are split over the threads in one pool run. Weights that want another
 * activation type or row length than the first are run on their own. reuse: x has not changed
 * since the previous call, whose quantized copy is kept when its type and shape match. */
static void matmul_n(eng_ctx *c, const struct matmul_job *jobs, int n_job, const float *x,
                     int n_tok, int reuse) {
    const struct tensor *w = jobs[0].w;
    const uint32_t vt = act_type(w);
    struct matmul_args a = {{jobs[0]}, 1, NULL, 0, n_tok, {0}, 0};
    if (!reuse)
        c->xq_src = NULL;   /* x may have changed since xq was made from it */
    for (int j = 1; j < n_job; j++) {
        if (act_type(jobs[j].w) == vt && jobs[j].w->ne0 == w->ne0)
            a.job[a.n_job++] = jobs[j];
    }
    if (vt == GGML_TYPE_F32) {
        a.xq = (const uint8_t *)x;
        a.xq_stride = (size_t)w->ne0 * sizeof(float);
    } else {
        a.xq = c->xq;
        a.xq_stride = quant_row_size(vt, w->ne0);
        if (!(reuse && c->xq_src == x && c->xq_type == (int)vt && c->xq_ntok == n_tok &&
              c->xq_ne0 == w->ne0)) {
            struct quantize_args qa = {quant_traits_get(vt), x, c->xq, a.xq_stride, w->ne0,
                                       n_tok};
            if (n_tok >= 4)
                pool_run(c->pool, quantize_worker, &qa);
            else
                quantize_worker(&qa, 0, 1);
            c->xq_src = x;
            c->xq_type = (int)vt;
            c->xq_ntok = n_tok;
            c->xq_ne0 = w->ne0;
        }
    }
    a.unit0[0] = 0;
    for (int j = 0; j < a.n_job; j++)
        a.unit0[j + 1] = a.unit0[j] + (a.job[j].w->ne1 + MM_ROW_BLOCK - 1) / MM_ROW_BLOCK;
    atomic_init(&a.next, pool_n_threads(c->pool));
    pool_run(c->pool, matmul_worker, &a);
    for (int j = 1; j < n_job; j++)   /* the ones that did not fit the shared run */
        if (!(act_type(jobs[j].w) == vt && jobs[j].w->ne0 == w->ne0))
            matmul_n(c, &jobs[j], 1, x, n_tok, 1);
}

static void matmul(eng_ctx *c, float *out, int ld, const struct tensor *w, const float *x,
                   int n_tok) {
    struct matmul_job j = {w, out, ld};
    matmul_n(c, &j, 1, x, n_tok, 0);
}

static void add_bias(float *x, const struct tensor *b, int n_tok, int n) {
    if (!b->data)
        return;
    const float *bd = b->data;
    for (int t = 0; t < n_tok; t++)
        for (int i = 0; i < n; i++)
            x[(size_t)t * n + i] += bd[i];
}

/* cos/sin for each token's position as ggml_rope_cache_init + rope_yarn: theta_i = p *
 * base^(-2i/n) (ggml's recurrence) divided by the context's frequency factors, blended between
 * interpolation (x freq_scale) and extrapolation by the YaRN ramp when ext_factor is set, and
 * the magnitude (attn_factor, x (1 + 0.1 ln(1/freq_scale)) under YaRN) on cos and sin. */
static void rope_tables(eng_ctx *c, const struct rope_cfg *rc, float *out, int pos0, int n_tok) {
    const struct hparams *hp = &c->m->hp;
    const int n_rot = rc->n_rot;
    /* Gemma 4: the frequency divisors are the full layers' only */
    const float *ff = c->m->arch->ff_full_only && rc != &hp->rope[0] ? NULL : c->rope_ff;
    const float theta_scale = powf(rc->base, -2.0f / (float)n_rot);
    float mscale = rc->attn_factor;
    if (rc->ext_factor != 0.0f)
        mscale *= 1.0f + 0.1f * logf(1.0f / rc->freq_scale);
    /* interleaved M-RoPE (Qwen3.5) with text positions: the time, height and width sections
     * all see the position, the 4th section position 0 (ggml_mrope_cache_init) */
    const int *sec = hp->rope_sections;
    const int sect_dims = c->m->arch->imrope ? sec[0] + sec[1] + sec[2] + sec[3] : 0;
    for (int t = 0; t < n_tok; t++) {
        float theta = (float)(pos0 + t);
        float *r = out + (size_t)t * n_rot;
        for (int i = 0; i < n_rot; i += 2) {
            float extrap = ff ? theta / ff[i / 2] : theta;
            if (sect_dims) {
                const int sector = (i / 2) % sect_dims;
                if (!((sector % 3 == 1 && sector < 3 * sec[1]) ||
                      (sector % 3 == 2 && sector < 3 * sec[2]) ||
                      (sector % 3 == 0 && sector < 3 * sec[0])))
                    extrap = 0.0f;   /* theta_e = 0 * theta_scale^i */
            }
            const float interp = rc->freq_scale * extrap;
            float th = interp;
            if (rc->ext_factor != 0.0f) {
                float y = ((float)(i / 2) - rc->corr[0]) /
                          (rc->corr[1] - rc->corr[0] > 0.001f ? rc->corr[1] - rc->corr[0] : 0.001f);
                float ramp = 1 - (y < 0 ? 0 : y > 1 ? 1 : y);
                float mix = ramp * rc->ext_factor;
                th = interp * (1 - mix) + extrap * mix;
            }
            r[i] = cosf(th) * mscale;
            r[i + 1] = sinf(th) * mscale;
            theta *= theta_scale;
        }
    }
}

/* Rotates n_heads heads of head_dim in x (one token) with the table r. */
static void rope_apply(float *x, int n_heads, int head_dim, int n_rot, const float *r,
                       int neox) {
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        for (int i = 0; i < n_rot; i += 2) {
            float cs = r[i], sn = r[i + 1];
            int i0 = neox ? i / 2 : i, i1 = neox ? i / 2 + n_rot / 2 : i + 1;
            float x0 = v[i0], x1 = v[i1];
            v[i0] = x0 * cs - x1 * sn;
            v[i1] = x0 * sn + x1 * cs;
        }
    }
}

/* Where position pos of KV head h of layer il starts in a cache (in values): a layer's cache is
 * head-major, each KV head's n_ctx rows of head_dim values one after the other, so attention
 * streams one head's K (V) rows from memory sequentially (position-major rows interleave the
 * heads, and reading one head's 128 bytes every n_embd_kv values left the loads waiting on
 * memory: 2.3x longer to read a head's rows at depth 4096). */
size_t ctx_kv_index(size_t kv_off, int n_ctx, int head_dim, int h, int pos) {
    return kv_off * (size_t)n_ctx + ((size_t)h * (size_t)n_ctx + (size_t)pos) * (size_t)head_dim;
}

static size_t kv_index(const eng_ctx *c, int il, int h, int pos) {
    const struct layer_hp *lh = &c->m->hp.l[il];
    return ctx_kv_index(lh->kv_off, c->n_ctx, lh->head_dim, h, pos);
}

/* Stores position pos's K (V) values of layer `layer` (its n_head_kv heads' head_dim each). */
static void kv_store(eng_ctx *c, void *cache, int layer, int pos, const float *src) {
    const struct layer_hp *lh = &c->m->hp.l[layer];
    const int hd = lh->head_dim;
    for (int h = 0; h < lh->n_head_kv; h++) {
        char *dst = (char *)cache + ctx_kv_bytes(c->kv_type, kv_index(c, layer, h, pos));
        const float *x = src + (size_t)h * hd;
        if (c->kv_type == ENG_KV_F32)
            memcpy(dst, x, (size_t)hd * sizeof(float));
        else if (c->kv_type == ENG_KV_F16)
            quant_f32_to_f16_row(x, (uint16_t *)dst, hd);
        else   /* as ggml's copy into a q8_0/q4_0 cache: its reference quantization */
            quant_traits_get(kv_ggml_type(c->kv_type))->from_float(x, dst, hd);
    }
}

struct attn_args {
    eng_ctx *c;
    int layer, pos0, n_tok;
    int heads;         /* query heads per task, all of one KV head */
    int tile;          /* query tokens per task */
    atomic_int next;   /* next task (as matmul_worker's units) */
};

/* Query heads per attention task: a KV head's whole group (its K and V rows then come from
 * memory once for all of them), split only when there would be fewer tasks than threads. */
static int attn_task_heads(const struct layer_hp *lh, int n_tok, int n_threads) {
    const int group = lh->n_head / lh->n_head_kv;
    for (int split = 1; split < group; split++)
        if (group % split == 0 && n_tok * lh->n_head_kv * split >= n_threads)
            return group / split;
    return 1;
}

/* Query tokens per task: as many as the scratch holds (up to ATTN_TOK_TILE), halved while
 * there would be fewer than two tasks per thread (the causal tiles differ in length). */
static int attn_task_tile(const eng_ctx *c, const struct layer_hp *lh, int n_tok, int heads) {
    const int per_tile = lh->n_head / heads;
    int tile = c->att_q / heads;
    if (tile > n_tok)
        tile = n_tok;
    while (tile > 1 && (n_tok + tile - 1) / tile * per_tile < 2 * c->n_threads)
        tile = (tile + 1) / 2;
    return tile < 1 ? 1 : tile;
}

/* The first position token pos sees on layer lh: 0, or the start of its sliding window. */
static int attn_first(const struct hparams *hp, const struct layer_hp *lh, int pos) {
    return lh->swa && hp->n_swa && pos - hp->n_swa + 1 > 0 ? pos - hp->n_swa + 1 : 0;
}

/* Causal attention (over the last n_swa positions on sliding-window layers); a task is (a tile
 * of query tokens, KV head, `heads` of its query heads), tasks handed out dynamically, the
 * longest tiles first. The task goes over the K rows its queries see once, a block of
 * ATTN_POS_BLOCK positions at a time (a block cache, or an F16 one read by many queries, is
 * converted to floats once per block for all of them), up to OPS_ATTN_NQ heads of a token per
 * pass over the block's rows, then, after each query's softmax, over the V rows the same way. Per thread scratch (att_stride floats): for each query its weights
 * (n_ctx), q (head_dim) and 16 lanes per output value (16 * head_dim). Each query's arithmetic
 * is llama.cpp's (engine/ops.c) whatever the tiling: a score is one position's product
 * (soft-capped as ggml's flash attention does: cap * tanh(s * scale / cap)), and the mix adds
 * the query's positions to its lanes in order (position - first to lane (position - first) %
 * 16), so a token's result has the same bits in a batch of any size, with any thread count. */
static void attn_worker(void *ud, int ith, int nth) {
    struct attn_args *a = ud;
    eng_ctx *c = a->c;
    const struct hparams *hp = &c->m->hp;
    const struct layer_hp *lh = &hp->l[a->layer];
    int hd = lh->head_dim, group = lh->n_head / lh->n_head_kv;
    const float cap = hp->attn_softcap;
    const float scale = cap > 0 ? hp->kq_scale / cap : hp->kq_scale;
    const size_t per_q = (size_t)c->n_ctx + 17 * (size_t)hd;
    float *scratch = c->att + (size_t)ith * c->att_stride;
    const int per_t = lh->n_head / a->heads, n_tiles = (a->n_tok + a->tile - 1) / a->tile;
    const int n_task = n_tiles * per_t;
    (void)nth;
    int f16 = c->kv_type == ENG_KV_F16;
    const uint32_t qt = kv_ggml_type(c->kv_type);
    const uint32_t cache_t = qt != GGML_TYPE_COUNT ? qt : f16 ? GGML_TYPE_F16 : GGML_TYPE_F32;
    const size_t row_b = ctx_kv_bytes(c->kv_type, (size_t)hd);   /* one head's row */
    const float *sk = c->m->layers[a->layer].sinks.data;
    for (int task = ith; task < n_task; task = atomic_fetch_add(&a->next, 1)) {
        const int t0 = (n_tiles - 1 - task / per_t) * a->tile;
        const int nt = a->n_tok - t0 < a->tile ? a->n_tok - t0 : a->tile;
        const int h0 = task % per_t * a->heads, kvh = h0 / group, nq = nt * a->heads;
        /* query i = (token t0 + i / heads, head h0 + i % heads) */
        const int lo = attn_first(hp, lh, a->pos0 + t0), hi = a->pos0 + t0 + nt;
        /* One or two groups of heads (a generated token's KV group) read the cache's rows in
         * place, the kernels asking for the next block's rows while they compute (at depth
         * 4096 the rows' first read from memory was the conversion's stall, then half the
         * attention's time); more (a prompt's tiles of tokens), or a block cache the CPU's
         * kernels cannot read in place, go through kv_tile: each block converted to floats
         * once for all of them. The same bits either way. */
        const int in_place = cache_t == GGML_TYPE_F32 ||
                             (nq <= 2 * OPS_ATTN_NQ && ops_attn_reads_in_place(cache_t, hd));
        float *tile = in_place ? NULL : c->kv_tile + (size_t)ith * ATTN_POS_BLOCK * hd;
        /* what the score and mix kernels read */
        const uint32_t rows_t = tile ? GGML_TYPE_F32 : cache_t;
        const size_t rows_b = tile ? (size_t)hd * sizeof(float) : row_b;
        const size_t off = ctx_kv_bytes(c->kv_type, kv_index(c, a->layer, kvh, 0));
        const char *k = (const char *)c->k_cache + off, *v = (const char *)c->v_cache + off;
        for (int i = 0; i < nq; i++) {
            float *att = scratch + i * per_q, *qh = att + c->n_ctx, *acc = qh + hd;
            const int t = t0 + i / a->heads, h = h0 + i % a->heads;
            memcpy(qh, c->q + (size_t)t * lh->n_embd_q + (size_t)h * hd, (size_t)hd * sizeof *qh);
            if (f16) {   /* as llama.cpp: with an F16 cache, q meets K (and the weights V) as F16 */
                uint16_t *q16 = (uint16_t *)acc;   /* free until the mix */
                quant_f32_to_f16_row(qh, q16, hd);
                quant_f16_to_f32_row(q16, qh, hd);
            }
        }
        for (int pass = 0; pass < 2; pass++) {   /* the scores over K, then the mix of V */
            const char *src = pass ? v : k;
            for (int b0 = lo; b0 < hi; b0 += ATTN_POS_BLOCK) {
                const int b1 = hi - b0 < ATTN_POS_BLOCK ? hi : b0 + ATTN_POS_BLOCK;
                if (tile)   /* this block's rows of the head, as floats */
                    ops_kv_dequant(src + (size_t)b0 * row_b, row_b, cache_t, b1 - b0, hd, tile);
                /* the heads of one token together (they see the same positions): each row
                 * read once for up to OPS_ATTN_NQ of them */
                for (int i = 0, g; i < nq; i += g) {
                    g = a->heads - i % a->heads < OPS_ATTN_NQ ? a->heads - i % a->heads
                                                              : OPS_ATTN_NQ;
                    const int p = a->pos0 + t0 + i / a->heads, first = attn_first(hp, lh, p);
                    const int j0 = b0 > first ? b0 : first, j1 = b1 < p + 1 ? b1 : p + 1;
                    if (j0 >= j1)
                        continue;
                    const void *rows = tile ? (const void *)(tile + (size_t)(j0 - b0) * hd)
                                            : (const void *)(src + (size_t)j0 * row_b);
                    const float *in[OPS_ATTN_NQ];   /* each head's q, or its weights */
                    float *out[OPS_ATTN_NQ];        /* each head's scores, or its lanes */
                    for (int e = 0; e < g; e++) {
                        float *att = scratch + (i + e) * per_q;
                        in[e] = pass ? att + (j0 - first) : att + c->n_ctx;
                        out[e] = pass ? att + c->n_ctx + hd : att + (j0 - first);
                    }
                    if (pass)
                        ops_attn_mix_lanes_n(rows, rows_b, rows_t, j1 - j0, in, g,
                                             (j0 - first) & 15, hd, out);
                    else
                        ops_attn_scores_n(rows, rows_b, rows_t, j1 - j0, in, g, hd, scale, out);
                }
            }
            if (pass)
                break;
            for (int i = 0; i < nq; i++) {
                const int p = a->pos0 + t0 + i / a->heads, n_pos = p + 1 - attn_first(hp, lh, p);
                float *att = scratch + i * per_q;
                if (cap > 0)
                    for (int j = 0; j < n_pos; j++)
                        att[j] = cap * tanhf(att[j]);
                ops_softmax_sink(n_pos, att, f16, sk ? sk[h0 + i % a->heads] : -INFINITY);
                memset(att + c->n_ctx + hd, 0, 16 * (size_t)hd * sizeof(float));
            }
        }
        for (int i = 0; i < nq; i++) {
            const int t = t0 + i / a->heads, h = h0 + i % a->heads;
            ops_attn_mix_reduce(scratch + i * per_q + c->n_ctx + hd, hd,
                                c->xb2 + (size_t)t * lh->n_embd_q + (size_t)h * hd);
        }
    }
}

static int cancelled(const eng_ctx *c) { return c->cancel && *c->cancel; }

/* RMSNorm of each token's n_groups groups of n values in x (row stride ld) with weight w
 * (n values, shared by the groups), in place. */
static void rmsnorm_groups(float *x, int n_tok, int ld, int n_groups, int n, const float *w,
                           float eps) {
    for (int t = 0; t < n_tok; t++)
        for (int g = 0; g < n_groups; g++) {
            float *r = x + (size_t)t * ld + (size_t)g * n;
            rmsnorm(r, r, w, n, eps);
        }
}

/* x[t] += s * y[t] over n_tok rows of n (s = 1: a plain residual add, as ggml_add). */
static void add_scaled(float *x, const float *y, size_t n, float s) {
    if (s == 1.0f)
        for (size_t i = 0; i < n; i++)
            x[i] += y[i];
    else
        for (size_t i = 0; i < n; i++)
            x[i] += y[i] * s;
}

/* The attention block of layer il: x (n_tok, n_embd) in, the block's output into c->xb. */
static void forward_attn(eng_ctx *c, int il, int n_tok, const float *in) {
    const eng_model *m = c->m;
    const struct hparams *hp = &m->hp;
    const struct arch *ar = m->arch;
    const struct layer *l = &m->layers[il];
    const struct layer_hp *lh = &hp->l[il];
    const int E = hp->n_embd, Q = lh->n_embd_q, KV = lh->n_embd_kv, HD = lh->head_dim;
    const int pos0 = c->n_past;
    /* gated attention (Qwen3.5): each head's q rows are followed by its gate's */
    const int gated = ar->attn_gate, QW = gated ? 2 * Q : Q;
    /* a layer reading another layer's cache (Gemma 4) computes q only */
    const int own = !lh->kv_shared;
    float *qd = gated ? c->qg : c->q;
    if (l->wqkv.data) {
        int W = QW + 2 * KV;
        matmul(c, c->hb, W, &l->wqkv, in, n_tok);
        add_bias(c->hb, &l->bqkv, n_tok, W);
        for (int t = 0; t < n_tok; t++) {
            const float *r = c->hb + (size_t)t * W;
            memcpy(qd + (size_t)t * QW, r, (size_t)QW * sizeof(float));
            if (!own)
                continue;
            memcpy(c->k + (size_t)t * KV, r + QW, (size_t)KV * sizeof(float));
            memcpy(c->v + (size_t)t * KV, r + QW + KV, (size_t)KV * sizeof(float));
        }
    } else {
        struct matmul_job qkv[3] = {{&l->wq, qd, QW}, {&l->wk, c->k, KV}, {&l->wv, c->v, KV}};
        matmul_n(c, qkv, !own ? 1 : l->wv.data ? 3 : 2, in, n_tok, 0);
        if (own && !l->wv.data)   /* no attn_v: V is the raw K projection */
            memcpy(c->v, c->k, (size_t)n_tok * KV * sizeof(float));
    }
    add_bias(qd, &l->bq, n_tok, QW);
    add_bias(c->k, &l->bk, n_tok, KV);
    add_bias(c->v, &l->bv, n_tok, KV);
    if (own && ar->v_norm)   /* per head, without a weight */
        rmsnorm_groups(c->v, n_tok, KV, lh->n_head_kv, HD, NULL, hp->rms_eps);
    if (gated)
        for (int t = 0; t < n_tok; t++)
            for (int h = 0; h < lh->n_head; h++) {
                const float *r = c->qg + (size_t)t * QW + (size_t)h * 2 * HD;
                memcpy(c->q + (size_t)t * Q + (size_t)h * HD, r, (size_t)HD * sizeof(float));
                memcpy(c->gate + (size_t)t * Q + (size_t)h * HD, r + HD,
                       (size_t)HD * sizeof(float));
            }
    if (ar->qk_norm == QKN_FULL) {
        rmsnorm_groups(c->q, n_tok, Q, 1, Q, l->q_norm.data, hp->rms_eps);
        rmsnorm_groups(c->k, n_tok, KV, 1, KV, l->k_norm.data, hp->rms_eps);
    } else if (ar->qk_norm == QKN_HEAD) {
        rmsnorm_groups(c->q, n_tok, Q, lh->n_head, HD, l->q_norm.data, hp->rms_eps);
        if (own)
            rmsnorm_groups(c->k, n_tok, KV, lh->n_head_kv, HD, l->k_norm.data, hp->rms_eps);
    }
    for (int t = 0; t < n_tok; t++) {
        float *q = c->q + (size_t)t * Q, *k = c->k + (size_t)t * KV;
        if (lh->rope >= 0) {
            const float *r = c->rope[lh->rope] + (size_t)t * lh->n_rot;
            rope_apply(q, lh->n_head, HD, lh->n_rot, r, ar->rope_neox);
            if (own)
                rope_apply(k, lh->n_head_kv, HD, lh->n_rot, r, ar->rope_neox);
        }
        if (hp->q_scale != 1.0f)
            for (int i = 0; i < Q; i++)
                q[i] *= hp->q_scale;
        if (hp->temp_scale != 0.0f) {   /* llama.cpp computes the factor in double */
            const double s = log(floor((double)(float)(pos0 + t) / hp->n_ctx_orig) + 1.0) *
                                 (double)hp->temp_scale + 1.0;
            const float sf = (float)s;
            for (int i = 0; i < Q; i++)
                q[i] *= sf;
        }
        if (!own)
            continue;
        kv_store(c, c->k_cache, il, pos0 + t, k);
        kv_store(c, c->v_cache, il, pos0 + t, c->v + (size_t)t * KV);
    }
    const int heads = attn_task_heads(lh, n_tok, c->n_threads);
    struct attn_args aa = {c, il, pos0, n_tok, heads, attn_task_tile(c, lh, n_tok, heads), 0};
    atomic_init(&aa.next, c->n_threads);
    pool_run(c->pool, attn_worker, &aa);
    if (gated)   /* ggml_sigmoid, then the product */
        for (size_t i = 0; i < (size_t)n_tok * Q; i++) {
            const float g = 1.0f / (1.0f + expf(-c->gate[i]));
            c->xb2[i] *= g;
        }
    matmul(c, c->xb, E, &l->wo, c->xb2, n_tok);
    add_bias(c->xb, &l->bo, n_tok, E);
}

/* The gated feed-forward block of layer il: in (n_tok, n_embd), the output into c->xb. */
static void forward_ffn(eng_ctx *c, int il, int n_tok, const float *in) {
    const eng_model *m = c->m;
    const struct layer *l = &m->layers[il];
    const int E = m->hp.n_embd, F = m->hp.l[il].n_ff;
    const int gelu = m->arch->act == ACT_GELU;
    if (!l->w_gate.data) {   /* one matrix: gate rows then up rows */
        matmul(c, c->hb, 2 * F, &l->w_up, in, n_tok);
        add_bias(c->hb, &l->b_up, n_tok, 2 * F);
        for (int t = 0; t < n_tok; t++) {
            const float *g = c->hb + (size_t)t * 2 * F;
            if (gelu)
                ops_gelu_mul(F, g, g + F, c->hb2 + (size_t)t * F);
            else
                ops_silu_mul(F, g, g + F, c->hb2 + (size_t)t * F);
        }
    } else {
        struct matmul_job gu[2] = {{&l->w_gate, c->hb, F}, {&l->w_up, c->hb2, F}};
        matmul_n(c, gu, 2, in, n_tok, 0);
        add_bias(c->hb, &l->b_gate, n_tok, F);
        add_bias(c->hb2, &l->b_up, n_tok, F);
        for (int t = 0; t < n_tok; t++) {
            float *g = c->hb + (size_t)t * F, *u = c->hb2 + (size_t)t * F;
            if (gelu)
                ops_gelu_mul(F, g, u, u);
            else
                ops_silu_mul(F, g, u, u);
        }
    }
    matmul(c, c->xb, E, &l->w_down, c->hb2, n_tok);
    add_bias(c->xb, &l->b_down, n_tok, E);
}

/* The experts' gated activation of n values: g (gate) and u (up) in, y = act(g, u) out (y may
 * alias u). */
static void moe_act(int act, int n, const float *g, const float *u, float *y) {
    if (act == ACT_GELU) {
        ops_gelu_mul(n, g, u, y);
    } else if (act == ACT_SWIGLU_OAI) {   /* ggml_swiglu_oai: alpha 1.702, limit 7 */
        for (int i = 0; i < n; i++) {
            const float x = g[i] < 7.0f ? g[i] : 7.0f;
            const float v = u[i] < -7.0f ? -7.0f : u[i] > 7.0f ? 7.0f : u[i];
            y[i] = x / (1.0f + expf(1.702f * -x)) * (v + 1.0f);
        }
    } else {
        ops_silu_mul(n, g, u, y);
    }
}

/* Routes each token of the batch (router logits -> probabilities -> the top k, their weights),
 * as llama.cpp's build_moe_ffn. */
static void moe_route(eng_ctx *c, int il, int n_tok, const float *in) {
    const struct hparams *hp = &c->m->hp;
    const struct layer *l = &c->m->layers[il];
    const struct layer_hp *lh = &hp->l[il];
    const int X = lh->n_expert, K = lh->n_expert_used;
    matmul(c, c->moe_lg, X, &l->router, in, n_tok);
    add_bias(c->moe_lg, &l->b_router, n_tok, X);
    for (int t = 0; t < n_tok; t++) {
        float *p = c->moe_lg + (size_t)t * X;
        int *sel = c->moe_sel + (size_t)t * hp->max_expert_used;
        float *w = c->moe_w + (size_t)t * hp->max_expert_used;
        ops_moe_route(X, K, p, l->exp_probs_b.data, hp->gating, c->m->arch->moe_norm,
                      hp->expert_w_scale, sel, w);
    }
}

/* One expert's bias row e (of a [n, n_expert] F32 tensor) added to n_rows rows of n. */
static void moe_add_bias(float *x, const struct tensor *b, int e, int n_rows, int n) {
    if (!b->data)
        return;
    const float *bd = (const float *)b->data + (size_t)e * (size_t)n;
    for (int r = 0; r < n_rows; r++)
        for (int i = 0; i < n; i++)
            x[(size_t)r * n + i] += bd[i];
}

/* The mixture-of-experts FFN of layer il: in (n_tok, n_embd), the output into c->xb. The
 * batch's tokens are grouped by expert, so each chosen expert's weights are read once per
 * batch; every token's slots are then summed in the order they were chosen (llama.cpp's). */
static void forward_moe(eng_ctx *c, int il, int n_tok, const float *in) {
    const eng_model *m = c->m;
    const struct hparams *hp = &m->hp;
    const struct layer *l = &m->layers[il];
    const struct layer_hp *lh = &hp->l[il];
    const int E = hp->n_embd, F = lh->n_ff_exp, K = lh->n_expert_used, KM = hp->max_expert_used;
    const int act = m->arch->act;
    moe_route(c, il, n_tok, in);
    for (int e = 0; e < lh->n_expert; e++) {
        int n = 0;
        for (int t = 0; t < n_tok; t++)
            for (int j = 0; j < K; j++)
                if (c->moe_sel[(size_t)t * KM + j] == e) {
                    c->moe_row[n] = t * KM + j;
                    memcpy(c->moe_in + (size_t)n * E, in + (size_t)t * E,
                           (size_t)E * sizeof(float));
                    n++;
                }
        if (!n)
            continue;
        if (l->gate_up_exps.data) {   /* gate rows then up rows */
            struct tensor gu = tensor_expert(&l->gate_up_exps, e);
            matmul(c, c->hb, 2 * F, &gu, c->moe_in, n);
            for (int r = 0; r < n; r++) {
                float *g = c->hb + (size_t)r * 2 * F;
                moe_act(act, F, g, g + F, c->hb2 + (size_t)r * F);
            }
        } else {
            struct tensor ge = tensor_expert(&l->gate_exps, e), ue = tensor_expert(&l->up_exps, e);
            struct matmul_job gu[2] = {{&ge, c->hb, F}, {&ue, c->hb2, F}};
            matmul_n(c, gu, 2, c->moe_in, n, 0);
            moe_add_bias(c->hb, &l->b_gate_exps, e, n, F);
            moe_add_bias(c->hb2, &l->b_up_exps, e, n, F);
            for (int r = 0; r < n; r++)
                moe_act(act, F, c->hb + (size_t)r * F, c->hb2 + (size_t)r * F,
                        c->hb2 + (size_t)r * F);
        }
        struct tensor de = tensor_expert(&l->down_exps, e);
        matmul(c, c->moe_in, E, &de, c->hb2, n);   /* the gathered input is no longer needed */
        moe_add_bias(c->moe_in, &l->b_down_exps, e, n, E);
        for (int r = 0; r < n; r++) {
            const int slot = c->moe_row[r];
            const float w = c->moe_w[slot];
            float *o = c->moe_out + (size_t)slot * E;
            const float *d = c->moe_in + (size_t)r * E;
            for (int i = 0; i < E; i++)
                o[i] = d[i] * w;
        }
    }
    if (lh->n_ff_shexp > 0) {   /* the shared expert, plain or gated, added after */
        const int S = lh->n_ff_shexp;
        struct matmul_job gu[2] = {{&l->gate_shexp, c->hb, S}, {&l->up_shexp, c->hb2, S}};
        matmul_n(c, gu, 2, in, n_tok, 0);
        for (int t = 0; t < n_tok; t++)
            moe_act(act, S, c->hb + (size_t)t * S, c->hb2 + (size_t)t * S,
                    c->hb2 + (size_t)t * S);
        matmul(c, c->moe_in, E, &l->down_shexp, c->hb2, n_tok);
        for (int t = 0; t < n_tok; t++) {
            float *sh = c->moe_in + (size_t)t * E;
            if (l->gate_inp_shexp.data) {
                const float *gw = l->gate_inp_shexp.data;
                const float *v = in + (size_t)t * E;
                float z = 0;
                for (int i = 0; i < E; i++)
                    z += gw[i] * v[i];
                const float g = 1.0f / (1.0f + expf(-z));
                for (int i = 0; i < E; i++)
                    sh[i] *= g;
            }
        }
    }
    /* in (c->xb) is read up to here: the sum of the slots, then + the shared expert */
    for (int t = 0; t < n_tok; t++) {
        float *o = c->xb + (size_t)t * E;
        memcpy(o, c->moe_out + (size_t)t * KM * E, (size_t)E * sizeof(float));
        for (int j = 1; j < K; j++) {
            const float *s = c->moe_out + ((size_t)t * KM + j) * E;
            for (int i = 0; i < E; i++)
                o[i] += s[i];
        }
        if (lh->n_ff_shexp > 0)
            for (int i = 0; i < E; i++)
                o[i] += c->moe_in[(size_t)t * E + i];
    }
}

/* LFM2's gated short convolution of layer il: (B, C, X) = in_proj . in; u = B * X; y_t =
 * sum_k K[k] u_{t-L+1+k} per channel over the state's last L-1 inputs and the batch's (as
 * ggml_ssm_conv: in float, k ascending); out = out_proj . (C * y), into c->xb. The state keeps
 * the last L-1 u rows. */
static void forward_shortconv(eng_ctx *c, int il, int n_tok, const float *in) {
    const struct hparams *hp = &c->m->hp;
    const struct layer *l = &c->m->layers[il];
    const int E = hp->n_embd, L = hp->shortconv_l;
    float *state = c->rs + hp->l[il].rs_off;   /* (L - 1, E) */
    matmul(c, c->hb, 3 * E, &l->sc_in, in, n_tok);
    memcpy(c->conv, state, (size_t)(L - 1) * E * sizeof(float));
    for (int t = 0; t < n_tok; t++) {
        const float *r = c->hb + (size_t)t * 3 * E;
        float *u = c->conv + (size_t)(L - 1 + t) * E;
        for (int i = 0; i < E; i++)
            u[i] = r[i] * r[2 * E + i];
    }
    const float *K = l->sc_conv.data;   /* (E, L): channel ch's kernel at K + ch * L */
    for (int t = 0; t < n_tok; t++) {
        const float *cg = c->hb + (size_t)t * 3 * E + E;
        float *y = c->hb2 + (size_t)t * E;
        for (int ch = 0; ch < E; ch++) {
            float sum = 0.0f;
            for (int k = 0; k < L; k++)
                sum += c->conv[(size_t)(t + k) * E + ch] * K[(size_t)ch * L + k];
            y[ch] = cg[ch] * sum;
        }
    }
    memcpy(state, c->conv + (size_t)n_tok * E, (size_t)(L - 1) * E * sizeof(float));
    matmul(c, c->xb, E, &l->sc_out, c->hb2, n_tok);
}

/* The causal depthwise convolution of a DeltaNet/Mamba2 layer over the batch: x (n_tok rows of
 * ssm.n_chan at stride ldx) after the state's d_conv - 1 rows; y_t = silu(conv + bias) into
 * c->rs_y (rows of n_chan); the state keeps the last d_conv - 1 inputs. As ggml_ssm_conv, the
 * optional bias as ggml_add, ggml_silu over each row. */
static void rec_conv(eng_ctx *c, const struct layer *l, float *state, const float *x,
                     size_t ldx, int n_tok) {
    const struct hparams *hp = &c->m->hp;
    const int K = hp->ssm.d_conv, C = hp->ssm.n_chan;
    const size_t hist = (size_t)(K - 1) * C;
    const float *w = l->ssm_conv.data;   /* (C, K): channel ch's kernel at w + ch * K */
    for (int k = 0; k < K; k++)
        for (int ch = 0; ch < C; ch++)
            c->conv_wt[(size_t)k * C + ch] = w[(size_t)ch * K + k];
    memcpy(c->conv, state, hist * sizeof(float));
    for (int t = 0; t < n_tok; t++)
        memcpy(c->conv + hist + (size_t)t * C, x + (size_t)t * ldx, (size_t)C * sizeof(float));
    ops_conv_causal(K, C, n_tok, c->conv, c->conv_wt, c->rs_y, (size_t)C);
    memcpy(state, c->conv + (size_t)n_tok * C, hist * sizeof(float));
    const float *b = l->ssm_conv_b.data;
    for (int t = 0; t < n_tok; t++) {
        float *y = c->rs_y + (size_t)t * C;
        if (b)
            for (int ch = 0; ch < C; ch++)
                y[ch] += b[ch];
        ops_silu(C, y, y);
    }
}

/* softplus as ggml's (x above 20: x itself). */
static float softplus(float x) { return x > 20.0f ? x : logf(1.0f + expf(x)); }

struct rec_args {
    eng_ctx *c;
    int layer, n_tok;
    atomic_int next;   /* next head (as matmul_worker's units) */
};

/* DeltaNet heads, handed out dynamically: each value head runs the gated delta rule over the
 * batch's tokens in order (its state, its q/k key head h mod n_group); the output replaces the
 * head's v in c->rs_y. */
static void gdn_worker(void *ud, int ith, int nth) {
    struct rec_args *a = ud;
    eng_ctx *c = a->c;
    const struct hparams *hp = &c->m->hp;
    const int D = hp->ssm.d_state, H = hp->ssm.n_head, G = hp->ssm.n_group, C = hp->ssm.n_chan;
    const int W = hp->ssm.n_in, DI = hp->ssm.d_inner;
    const float scale = 1.0f / sqrtf((float)D);
    float *S0 = c->rs + hp->l[a->layer].rs_off + (size_t)(hp->ssm.d_conv - 1) * C;
    (void)nth;
    for (int h = ith; h < H; h = atomic_fetch_add(&a->next, 1)) {
        float *S = S0 + (size_t)h * D * D;
        const int kh = h % G;
        for (int t = 0; t < a->n_tok; t++) {
            float *y = c->rs_y + (size_t)t * C;
            const float *r = c->rs_in + (size_t)t * W + C + DI;   /* beta, then g */
            float *v = y + 2 * (size_t)G * D + (size_t)h * D;
            ops_gdn_step(D, S, y + (size_t)kh * D, y + (size_t)(G + kh) * D, v,
                         expf(r[H + h]), r[h], scale, v);
        }
    }
}

/* Qwen3.5's gated DeltaNet layer il: in (n_tok, n_embd), the output into c->xb. mixed =
 * attn_qkv . in (q | k | v channels), z = attn_gate . in, beta = sigmoid(ssm_beta . in), g =
 * softplus(ssm_alpha . in + dt bias) * A; q|k|v = silu(causal conv(mixed)); q and k
 * L2-normalized per head; the delta rule per value head (threads over heads); out = ssm_out .
 * (rmsnorm(o) * ssm_norm * silu(z)) per head. As llama.cpp's qwen35 graph with the fused
 * ggml_gated_delta_net. */
static void forward_deltanet(eng_ctx *c, int il, int n_tok, const float *in) {
    const struct hparams *hp = &c->m->hp;
    const struct layer *l = &c->m->layers[il];
    const int E = hp->n_embd, D = hp->ssm.d_state, H = hp->ssm.n_head, G = hp->ssm.n_group;
    const int C = hp->ssm.n_chan, W = hp->ssm.n_in, DI = hp->ssm.d_inner;
    float *r = c->rs_in;   /* per token: qkv (C) | z (DI) | beta (H) | alpha (H) */
    struct matmul_job jobs[3] = {{&l->wqkv, r, W}, {&l->ssm_gate, r + C, W},
                                 {&l->ssm_beta, r + C + DI, W}};
    matmul_n(c, jobs, 3, in, n_tok, 0);
    struct matmul_job ja = {&l->ssm_alpha, r + C + DI + H, W};
    matmul_n(c, &ja, 1, in, n_tok, 1);
    const float *dtb = l->ssm_dt_b.data, *A = l->ssm_a.data;
    for (int t = 0; t < n_tok; t++) {
        float *bg = r + (size_t)t * W + C + DI;
        for (int h = 0; h < H; h++) {
            bg[h] = 1.0f / (1.0f + expf(-bg[h]));
            bg[H + h] = softplus(bg[H + h] + dtb[h]) * A[h];
        }
    }
    rec_conv(c, l, c->rs + hp->l[il].rs_off, r, (size_t)W, n_tok);
    /* L2 norm of each q and k head (ggml_rms_norm with eps / d, then x 1/sqrt(d)) */
    const float eps = hp->rms_eps / (float)D, s2 = 1.0f / sqrtf((float)D);
    for (int t = 0; t < n_tok; t++)
        for (int hh = 0; hh < 2 * G; hh++) {
            float *x = c->rs_y + (size_t)t * C + (size_t)hh * D;
            double sum = 0;
            for (int i = 0; i < D; i++)
                sum += (double)(x[i] * x[i]);
            const float sc = 1.0f / sqrtf((float)(sum / D) + eps);
            for (int i = 0; i < D; i++)
                x[i] = (x[i] * sc) * s2;
        }
    struct rec_args ra = {c, il, n_tok, 0};
    atomic_init(&ra.next, c->n_threads);
    pool_run(c->pool, gdn_worker, &ra);
    /* the gated norm per head, the heads' outputs gathered into rows of d_inner */
    for (int t = 0; t < n_tok; t++) {
        float *o = c->rs_y + (size_t)t * C + 2 * (size_t)G * D;
        const float *z = r + (size_t)t * W + C;
        for (int h = 0; h < H; h++) {
            float *oh = o + (size_t)h * D;
            rmsnorm(oh, oh, l->ssm_norm.data, D, hp->rms_eps);
            ops_silu_mul(D, z + (size_t)h * D, oh, oh);
        }
        memmove(c->rs_y + (size_t)t * DI, o, (size_t)DI * sizeof(float));
    }
    matmul(c, c->xb, E, &l->ssm_out, c->rs_y, n_tok);
}

/* Mamba2 heads, handed out dynamically: each head scans the batch's tokens in order (its P x N
 * state, the B and C of its group); y (with the D skip term) replaces the head's x in
 * c->rs_y. */
static void ssm_worker(void *ud, int ith, int nth) {
    struct rec_args *a = ud;
    eng_ctx *c = a->c;
    const struct hparams *hp = &c->m->hp;
    const struct layer *l = &c->m->layers[a->layer];
    const int N = hp->ssm.d_state, H = hp->ssm.n_head, G = hp->ssm.n_group, C = hp->ssm.n_chan;
    const int W = hp->ssm.n_in, DI = hp->ssm.d_inner, P = DI / H;
    const float *A = l->ssm_a.data, *Dv = l->ssm_d.data;
    float *S0 = c->rs + hp->l[a->layer].rs_off + (size_t)(hp->ssm.d_conv - 1) * C;
    (void)nth;
    for (int h = ith; h < H; h = atomic_fetch_add(&a->next, 1)) {
        float *S = S0 + (size_t)h * P * N;
        const int g = h / (H / G);
        for (int t = 0; t < a->n_tok; t++) {
            float *y = c->rs_y + (size_t)t * C;
            const float dt = softplus(c->rs_in[(size_t)t * W + DI + C + h]);
            const float dA = expf(dt * A[h]);
            float *x = y + (size_t)h * P;
            ops_ssm_step(P, N, S, x, dt, dA, y + DI + (size_t)g * N,
                         y + DI + (size_t)(G + g) * N, Dv[h], x);
        }
    }
}

/* Granite 4.0-H's Mamba2 layer il: in (n_tok, n_embd), the output into c->xb. (z, xBC, dt) =
 * ssm_in . in; xBC = silu(causal conv(xBC) + bias); per head the selective scan with dt =
 * softplus(dt + dt bias), decay exp(dt A), y = S C + D x; y = silu(z) * y; RMSNorm per group;
 * out = ssm_out . y. As llama.cpp's mamba2 layer (ggml_ssm_scan). */
static void forward_mamba2(eng_ctx *c, int il, int n_tok, const float *in) {
    const struct hparams *hp = &c->m->hp;
    const struct layer *l = &c->m->layers[il];
    const int E = hp->n_embd, H = hp->ssm.n_head, G = hp->ssm.n_group, C = hp->ssm.n_chan;
    const int W = hp->ssm.n_in, DI = hp->ssm.d_inner, P = DI / H;
    float *r = c->rs_in;   /* per token: z (DI) | xBC (C) | dt (H) */
    matmul(c, r, W, &l->ssm_in, in, n_tok);
    const float *dtb = l->ssm_dt_b.data;
    for (int t = 0; t < n_tok; t++)
        for (int h = 0; h < H; h++)
            r[(size_t)t * W + DI + C + h] += dtb[h];
    rec_conv(c, l, c->rs + hp->l[il].rs_off, r + DI, (size_t)W, n_tok);
    struct rec_args ra = {c, il, n_tok, 0};
    atomic_init(&ra.next, c->n_threads);
    pool_run(c->pool, ssm_worker, &ra);
    const float *nw = l->ssm_norm.data;   /* (DI / G, G) */
    const int GS = DI / G;
    for (int t = 0; t < n_tok; t++) {
        float *y = c->rs_y + (size_t)t * C;
        const float *z = r + (size_t)t * W;
        for (int h = 0; h < H; h++)   /* ggml_swiglu_split over rows of a head */
            ops_silu_mul(P, z + (size_t)h * P, y + (size_t)h * P, y + (size_t)h * P);
        for (int g = 0; g < G; g++)
            rmsnorm(y + (size_t)g * GS, y + (size_t)g * GS, nw + (size_t)g * GS, GS,
                    hp->rms_eps);
        memmove(c->rs_y + (size_t)t * DI, y, (size_t)DI * sizeof(float));
    }
    matmul(c, c->xb, E, &l->ssm_out, c->rs_y, n_tok);
}

/* Gemma 4's per-layer inputs of the batch (from the scaled embeddings in c->x) into c->pl:
 * per token and layer, (RMSNorm(per_layer_model_proj . x / sqrt(n_embd)) * norm +
 * per_layer_token_embd[token] * sqrt(n_pl)) / sqrt(2), in ggml's order of roundings. */
static void ple_inputs(eng_ctx *c, const int32_t *toks, int n_tok) {
    const eng_model *m = c->m;
    const struct hparams *hp = &m->hp;
    const int E = hp->n_embd, NP = hp->n_pl, LN = hp->n_layer * NP;
    const struct tensor *te = &m->pl_tok_embd;
    float *row = c->pl + (size_t)c->n_batch * LN;
    const float s_proj = 1.0f / sqrtf((float)E), s_tok = sqrtf((float)NP);
    const float s_in = 1.0f / sqrtf(2.0f);
    matmul(c, c->pl, LN, &m->pl_model_proj, c->x, n_tok);
    for (int t = 0; t < n_tok; t++) {
        float *q = c->pl + (size_t)t * LN;
        te->tr->to_float((const uint8_t *)te->data + (size_t)toks[t] * te->row_bytes, row, LN);
        for (int i = 0; i < LN; i++)
            q[i] *= s_proj;
        rmsnorm_groups(q, 1, LN, hp->n_layer, NP, m->pl_proj_norm.data, hp->rms_eps);
        for (int i = 0; i < LN; i++)
            q[i] = (q[i] + row[i] * s_tok) * s_in;
    }
}

/* Gemma 4's per-layer embedding of layer il, added to the residual stream: e = proj . (gelu(
 * inp_gate . x) * the layer's input); x += RMSNorm(e) * post_norm. */
static void ple_layer(eng_ctx *c, int il, int n_tok) {
    const eng_model *m = c->m;
    const struct hparams *hp = &m->hp;
    const struct layer *l = &m->layers[il];
    const int E = hp->n_embd, NP = hp->n_pl, LN = hp->n_layer * NP;
    matmul(c, c->hb, NP, &l->pl_gate, c->x, n_tok);
    for (int t = 0; t < n_tok; t++) {
        float *g = c->hb + (size_t)t * NP;
        const float *in = c->pl + (size_t)t * LN + (size_t)il * NP;
        ops_gelu(NP, g, g);
        for (int i = 0; i < NP; i++)
            g[i] *= in[i];
    }
    matmul(c, c->xb, E, &l->pl_proj, c->hb, n_tok);
    rmsnorm_groups(c->xb, n_tok, E, 1, E, l->pl_norm.data, hp->rms_eps);
    add_scaled(c->x, c->xb, (size_t)n_tok * E, 1.0f);
}

/* Runs one batch of n_tok (<= n_batch) tokens at n_past; logits for all of them into
 * logits_out (n_tok rows) when all, else for the last one only (none if logits_out is NULL).
 * Per layer, as the architecture says: [pre-norm] attention [post-norm] (x residual scale) +
 * residual, then the same for the feed-forward block. */
static int forward_batch(eng_ctx *c, const int32_t *toks, int n_tok, int all, float *logits_out) {
    const eng_model *m = c->m;
    const struct hparams *hp = &m->hp;
    const struct arch *ar = m->arch;
    const int E = hp->n_embd, pos0 = c->n_past;
    const size_t NE = (size_t)n_tok * E;
    const float res = hp->res_scale != 0.0f ? hp->res_scale : 1.0f;
    for (int t = 0; t < n_tok; t++) {
        const struct tensor *te = &m->tok_embd;
        float *x = c->x + (size_t)t * E;
        te->tr->to_float((const uint8_t *)te->data + (size_t)toks[t] * te->row_bytes, x, E);
        if (hp->emb_scale != 1.0f)
            for (int i = 0; i < E; i++)
                x[i] *= hp->emb_scale;
    }
    if (hp->n_pl)
        ple_inputs(c, toks, n_tok);
    int need_rope[2] = {0, 0};
    for (int il = 0; il < hp->n_layer; il++)
        if (hp->l[il].rope >= 0)
            need_rope[hp->l[il].rope] = 1;
    for (int r = 0; r < 2; r++)
        if (need_rope[r])
            rope_tables(c, &hp->rope[r], c->rope[r], pos0, n_tok);
    for (int il = 0; il < hp->n_layer; il++) {
        const struct layer *l = &m->layers[il];
        if (cancelled(c))
            return ENG_E_CANCELLED;
        const float *in = c->x;
        if (ar->pre_norm) {
            for (int t = 0; t < n_tok; t++)
                rmsnorm(c->xb + (size_t)t * E, c->x + (size_t)t * E, l->attn_norm.data, E,
                        hp->rms_eps);
            in = c->xb;
        }
        switch (hp->l[il].kind) {
        case LAYER_SHORTCONV: forward_shortconv(c, il, n_tok, in); break;
        case LAYER_DELTANET: forward_deltanet(c, il, n_tok, in); break;
        case LAYER_MAMBA2: forward_mamba2(c, il, n_tok, in); break;
        default: forward_attn(c, il, n_tok, in); break;
        }
        if (ar->post_norm)
            rmsnorm_groups(c->xb, n_tok, E, 1, E, l->post_attn_norm.data, hp->rms_eps);
        add_scaled(c->x, c->xb, NE, res);

        in = c->x;
        if (ar->pre_norm) {
            for (int t = 0; t < n_tok; t++)
                rmsnorm(c->xb + (size_t)t * E, c->x + (size_t)t * E, l->ffn_norm.data, E,
                        hp->rms_eps);
            in = c->xb;
        }
        if (hp->l[il].n_expert > 0)
            forward_moe(c, il, n_tok, in);
        else
            forward_ffn(c, il, n_tok, in);
        if (ar->post_norm)
            rmsnorm_groups(c->xb, n_tok, E, 1, E, l->post_ffn_norm.data, hp->rms_eps);
        add_scaled(c->x, c->xb, NE, res);
        if (hp->n_pl)
            ple_layer(c, il, n_tok);
        if (l->out_scale.data) {   /* the whole stream, residual included */
            const float s = *(const float *)l->out_scale.data;
            for (size_t i = 0; i < NE; i++)
                c->x[i] *= s;
        }
    }
    if (logits_out) {
        int t0 = all ? 0 : n_tok - 1, n_out = all ? n_tok : 1;
        for (int t = t0; t < n_tok; t++)
            rmsnorm(c->xb + (size_t)(t - t0) * E, c->x + (size_t)t * E, m->output_norm.data, E,
                    hp->rms_eps);
        matmul(c, logits_out, hp->n_vocab, &m->output, c->xb, n_out);
        const size_t nl = (size_t)n_out * hp->n_vocab;
        if (hp->logit_scale != 1.0f) {
            const float s = 1.0f / hp->logit_scale;
            for (size_t i = 0; i < nl; i++)
                logits_out[i] *= s;
        }
        if (hp->final_softcap > 0) {
            const float cap = hp->final_softcap, inv = 1.0f / cap;
            for (size_t i = 0; i < nl; i++)
                logits_out[i] = tanhf(logits_out[i] * inv) * cap;
        }
    }
    memcpy(c->tokens + pos0, toks, (size_t)n_tok * sizeof *toks);
    c->n_past += n_tok;
    return ENG_OK;
}

int eng_decode(eng_ctx *c, const int32_t *toks, int n, int logits_all) {
    const struct hparams *hp = &c->m->hp;
    c->n_logits = 0;
    if (n <= 0 || !toks)
        return eng_error(ENG_E_ARG, "eng_decode: no tokens");
    if (n > c->n_ctx - c->n_past)
        return eng_error(ENG_E_CTX_FULL, "%d tokens do not fit: %d of %d context positions "
                         "are used", n, c->n_past, c->n_ctx);
    for (int i = 0; i < n; i++)
        if (toks[i] < 0 || toks[i] >= hp->n_vocab)
            return eng_error(ENG_E_ARG, "token id %d is out of range (vocabulary of %d)",
                             toks[i], hp->n_vocab);
    if (logits_all && n > c->n_logits_cap) {
        float *nl = realloc(c->logits, (size_t)n * (size_t)hp->n_vocab * sizeof(float));
        if (!nl)
            return eng_error(ENG_E_NOMEM, "out of memory for %d rows of logits", n);
        c->logits = nl;
        c->n_logits_cap = n;
    }
    for (int done = 0; done < n;) {
        int nb = n - done < c->n_batch ? n - done : c->n_batch;
        int last = done + nb == n;
        /* logits of a middle chunk are not kept unless all are wanted */
        float *lo = logits_all ? c->logits + (size_t)done * hp->n_vocab
                               : last ? c->logits : NULL;
        int rc = forward_batch(c, toks + done, nb, logits_all, lo);
        /* a read past the end of a shrunken model file was absorbed (engine/mapguard.h): the
         * pass ran on zeros, so its logits are not the model's */
        if (gguf_broken(c->m->g)) {
            c->n_logits = 0;
            return eng_error(ENG_E_CHANGED, "the model file changed on disk: reload it");
        }
        if (rc) {
            /* the layers before the cancel advanced their recurrent state over a batch that
             * n_past does not count: back to a state that matches the tokens */
            if (hp->n_rs_total)
                rs_rewind(c, c->n_past);
            return rc == ENG_E_CANCELLED ? eng_error(rc, "cancelled") : rc;
        }
        done += nb;
    }
    if (n > 1)   /* the end of a prompt: where a later turn may want to resume */
        eng_ctx_checkpoint(c);
    c->logits_all = logits_all;
    c->n_logits = logits_all ? n : 1;
    c->n_decoded = n;
    return ENG_OK;
}

const float *eng_logits(eng_ctx *c, int i) {
    if (c->n_logits == 0)
        return NULL;
    if (!c->logits_all)
        return i == -1 || i == c->n_decoded - 1 ? c->logits : NULL;
    if (i == -1)
        i = c->n_logits - 1;
    if (i < 0 || i >= c->n_logits)
        return NULL;
    return c->logits + (size_t)i * c->m->hp.n_vocab;
}

int eng_ctx_kv_type(const eng_ctx *c) { return c->kv_type; }

void ctx_state_refs_get(eng_ctx *c, struct ctx_state_refs *r) {
    _Static_assert(ENG_RS_CKPT <= CTX_STATE_CKPT_MAX, "a snapshot holds every checkpoint");
    memset(r, 0, sizeof *r);
    r->m = c->m;
    r->n_ctx = c->n_ctx;
    r->kv_type = c->kv_type;
    r->k_cache = c->k_cache;
    r->v_cache = c->v_cache;
    r->tokens = c->tokens;
    r->n_past = &c->n_past;
    r->n_rs = c->m->hp.n_rs_total;
    r->rs = r->n_rs ? c->rs : NULL;
    r->n_ckpt = r->n_rs ? ENG_RS_CKPT : 0;
    for (int i = 0; i < r->n_ckpt; i++) {
        r->ckpt_pos[i] = &c->ckpt[i].pos;
        r->ckpt_data[i] = c->ckpt[i].data;
    }
    r->n_logits = &c->n_logits;
}
