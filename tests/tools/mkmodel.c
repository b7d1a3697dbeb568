/* tests/tools/mkmodel.c — writes a deterministic random-weight GGUF model for tests and
 * benchmarks: architecture llama, qwen2, phi3, qwen3 (per-head q/k norms), qwen3moe (qwen3 with a
 * mixture of experts in every layer) or gemma3 (q/k norms, sandwich norms, GELU, a sliding window
 * on 5 layers of 6), any shape, one llama-quantize-like file type
 * (F32, F16, Q8_0, Q4_0, Q4_K, Q6_K or the Q4_K_M mix), the tokenizer copied from a vocab GGUF
 * (every tokenizer.* key; --chat-template FILE puts a Jinja file in its place). Loadable by
 * natter and llama.cpp. Single-threaded tool.
 *
 *   mkmodel -o OUT.gguf -v VOCAB.gguf [--arch llama] [--type Q4_K_M] [--n-embd 256]
 *           [--n-layer 4] [--n-head 8] [--n-head-kv 4] [--n-ff 768] [--ctx 2048]
 *           [--head-dim N] [--swa N] [--n-expert N --n-expert-used K --n-ff-exp F]
 *           [--rope-base 10000] [--seed 1] [--tied] [--name NAME] [--chat-template FILE]
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "gguf_write.h"
#include "quant.h"

struct mk_opts {
    const char *out, *vocab, *arch, *type, *name;
    const char *chat_template; /* a Jinja file for tokenizer.chat_template (replaces the vocab's) */
    int n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx, tied, head_dim, swa;
    int n_expert, n_expert_used, n_ff_exp;
    float rope_base;
    uint64_t seed;
};

/* How to fill a tensor: uniform in [mid - amp, mid + amp]. */
struct mk_tensor {
    float mid, amp;
    uint32_t type;
    int64_t ne0, ne1;
};

struct mk_state {
    struct mk_tensor *t;
    int n_t, cap_t;
    uint64_t seed;
    float *row;            /* (MK_THREADS, row_n) one row of floats per thread */
    size_t row_n;
};

/* ---- deterministic numbers: splitmix64 per (seed, tensor, row) ---- */

static uint64_t mk_mix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Rows [r0, r1) of tensor i into buf. Each row's numbers depend only on (seed, i, row), so
 * any split over threads writes the same bytes. */
static void mk_fill_rows(const struct mk_state *s, int i, char *buf, int64_t r0, int64_t r1,
                         float *row) {
    const struct mk_tensor *t = &s->t[i];
    const struct quant_traits *tr = quant_traits_get(t->type);
    size_t row_bytes = quant_row_size(t->type, t->ne0);
    for (int64_t r = r0; r < r1; r++) {
        uint64_t x = s->seed * 0x100000001b3ull ^ ((uint64_t)i << 40) ^ (uint64_t)r;
        mk_mix(&x);
        for (int64_t k = 0; k < t->ne0; k += 2) {
            uint64_t z = mk_mix(&x);
            /* two uniforms in [-1, 1) from one draw */
            float a = (float)(int32_t)(uint32_t)z * (1.0f / 2147483648.0f);
            float b = (float)(int32_t)(uint32_t)(z >> 32) * (1.0f / 2147483648.0f);
            row[k] = t->mid + t->amp * a;
            if (k + 1 < t->ne0) row[k + 1] = t->mid + t->amp * b;
        }
        tr->from_float(row, buf + (size_t)r * row_bytes, t->ne0);
    }
}

struct mk_job {
    const struct mk_state *s;
    int i;
    char *buf;
    int64_t r0, r1;
    float *row;
};

static void *mk_job_main(void *arg) {
    struct mk_job *j = arg;
    mk_fill_rows(j->s, j->i, j->buf, j->r0, j->r1, j->row);
    return NULL;
}

/* The writer's fill callback: tensor i, quantized, rows split over MK_THREADS threads. */
#define MK_THREADS 2
static int mk_fill(void *ud, int i, void *buf, size_t nbytes) {
    struct mk_state *s = ud;
    const struct mk_tensor *t = &s->t[i];
    const struct quant_traits *tr = quant_traits_get(t->type);
    if (!tr || !tr->from_float || quant_row_size(t->type, t->ne0) * (size_t)t->ne1 != nbytes)
        return -1;
    struct mk_job jobs[MK_THREADS];
    pthread_t th[MK_THREADS];
    int started[MK_THREADS] = {0};
    for (int k = 0; k < MK_THREADS; k++) {
        jobs[k] = (struct mk_job){s, i, buf, t->ne1 * k / MK_THREADS,
                                  t->ne1 * (k + 1) / MK_THREADS, s->row + (size_t)k * s->row_n};
        if (k > 0) started[k] = pthread_create(&th[k], NULL, mk_job_main, &jobs[k]) == 0;
        if (k > 0 && !started[k]) mk_job_main(&jobs[k]);
    }
    mk_job_main(&jobs[0]);
    for (int k = 1; k < MK_THREADS; k++)
        if (started[k]) pthread_join(th[k], NULL);
    return 0;
}

/* ---- the file type's per-tensor choice (llama.cpp's llama_tensor_get_type, simplified) ---- */

static uint32_t mk_type_of(const char *ftype, const char *name, int layer, int n_layer,
                           int64_t ne0) {
    uint32_t t;
    int out = !strcmp(name, "output.weight");
    if (!strcmp(ftype, "F32")) t = GGML_TYPE_F32;
    else if (!strcmp(ftype, "F16")) t = GGML_TYPE_F16;
    else if (!strcmp(ftype, "Q8_0")) t = GGML_TYPE_Q8_0;
    else if (!strcmp(ftype, "Q4_0")) t = out ? GGML_TYPE_Q6_K : GGML_TYPE_Q4_0;
    else if (!strcmp(ftype, "Q6_K")) t = GGML_TYPE_Q6_K;
    else if (!strcmp(ftype, "Q4_K")) t = out ? GGML_TYPE_Q6_K : GGML_TYPE_Q4_K;
    else { /* Q4_K_M: more bits for output, and attn_v / ffn_down in some layers */
        int more = layer >= 0 && (layer < n_layer / 8 || layer >= 7 * n_layer / 8 ||
                                  (layer - n_layer / 8) % 3 == 2);
        int vd = strstr(name, "attn_v.weight") || strstr(name, "ffn_down.weight");
        t = out || (vd && more) ? GGML_TYPE_Q6_K : GGML_TYPE_Q4_K;
    }
    /* rows that are not whole super-blocks: llama.cpp falls back to a 32-block type */
    if ((t == GGML_TYPE_Q4_K || t == GGML_TYPE_Q6_K) && ne0 % 256) t = GGML_TYPE_Q8_0;
    if ((t == GGML_TYPE_Q4_0 || t == GGML_TYPE_Q8_0) && ne0 % 32) t = GGML_TYPE_F16;
    return t;
}

static uint32_t mk_file_type(const char *ftype) {
    static const struct { const char *n; uint32_t v; } tab[] = {
        {"F32", 0}, {"F16", 1}, {"Q4_0", 2}, {"Q8_0", 7}, {"Q4_K", 14}, {"Q4_K_M", 15},
        {"Q6_K", 18},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(tab[i].n, ftype)) return tab[i].v;
    return UINT32_MAX;
}

/* A tensor of ne0 x ne1 (x ne2 experts when ne2 > 1: filled as ne1 * ne2 rows). */
static int mk_add3(gguf_writer *w, struct mk_state *s, const struct mk_opts *o, const char *name,
                   int layer, int64_t ne0, int64_t ne1, int64_t ne2, float mid, float amp) {
    if (s->n_t == s->cap_t) {
        s->cap_t = s->cap_t ? 2 * s->cap_t : 64;
        s->t = realloc(s->t, (size_t)s->cap_t * sizeof *s->t);
        if (!s->t) return -1;
    }
    struct mk_tensor *t = &s->t[s->n_t];
    t->mid = mid;
    t->amp = amp;
    t->ne0 = ne0;
    t->ne1 = ne1 * ne2;
    t->type = ne1 == 1 || strstr(name, "ffn_gate_inp")   /* norms and routers stay F32 */
                  ? GGML_TYPE_F32 : mk_type_of(o->type, name, layer, o->n_layer, ne0);
    int64_t ne[3] = {ne0, ne1, ne2};
    if (gguf_writer_add_tensor(w, name, t->type, ne2 > 1 ? 3 : ne1 == 1 ? 1 : 2, ne, NULL) !=
        s->n_t) {
        fprintf(stderr, "mkmodel: cannot add tensor %s\n", name);
        return -1;
    }
    s->n_t++;
    return 0;
}

static int mk_add(gguf_writer *w, struct mk_state *s, const struct mk_opts *o, const char *name,
                  int layer, int64_t ne0, int64_t ne1, float mid, float amp) {
    return mk_add3(w, s, o, name, layer, ne0, ne1, 1, mid, amp);
}

static int mk_usage(void) {
    fprintf(stderr, "usage: mkmodel -o OUT.gguf -v VOCAB.gguf "
                    "[--arch llama|qwen2|phi3|qwen3|qwen3moe|gemma3] "
                    "[--type F32|F16|Q8_0|Q4_0|Q4_K|Q6_K|Q4_K_M] [--n-embd N] [--n-layer N] "
                    "[--n-head N] [--n-head-kv N] [--n-ff N] [--ctx N] [--head-dim N] "
                    "[--swa N] [--n-expert N] [--n-expert-used K] [--n-ff-exp F] "
                    "[--rope-base F] [--seed S] [--tied] [--name NAME] [--chat-template FILE]\n");
    return 2;
}

static int mk_parse(int argc, char **argv, struct mk_opts *o) {
    *o = (struct mk_opts){NULL, NULL, "llama", "Q4_K_M", NULL, NULL, 256, 4, 8, 4, 768, 2048, 0, 0,
                          0, 8, 2, 256, 10000.0f, 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--tied")) { o->tied = 1; continue; }
        if (!v) return -1;
        i++;
        if (!strcmp(a, "-o")) o->out = v;
        else if (!strcmp(a, "-v")) o->vocab = v;
        else if (!strcmp(a, "--arch")) o->arch = v;
        else if (!strcmp(a, "--chat-template")) o->chat_template = v;
        else if (!strcmp(a, "--type")) o->type = v;
        else if (!strcmp(a, "--name")) o->name = v;
        else if (!strcmp(a, "--n-embd")) o->n_embd = atoi(v);
        else if (!strcmp(a, "--n-layer")) o->n_layer = atoi(v);
        else if (!strcmp(a, "--n-head")) o->n_head = atoi(v);
        else if (!strcmp(a, "--n-head-kv")) o->n_head_kv = atoi(v);
        else if (!strcmp(a, "--n-ff")) o->n_ff = atoi(v);
        else if (!strcmp(a, "--ctx")) o->n_ctx = atoi(v);
        else if (!strcmp(a, "--head-dim")) o->head_dim = atoi(v);
        else if (!strcmp(a, "--swa")) o->swa = atoi(v);
        else if (!strcmp(a, "--n-expert")) o->n_expert = atoi(v);
        else if (!strcmp(a, "--n-expert-used")) o->n_expert_used = atoi(v);
        else if (!strcmp(a, "--n-ff-exp")) o->n_ff_exp = atoi(v);
        else if (!strcmp(a, "--rope-base")) o->rope_base = strtof(v, NULL);
        else if (!strcmp(a, "--seed")) o->seed = strtoull(v, NULL, 10);
        else return -1;
    }
    if (!o->out || !o->vocab || o->n_embd <= 0 || o->n_layer <= 0 || o->n_head <= 0 ||
        o->n_head_kv <= 0 || o->n_head % o->n_head_kv ||
        (!o->head_dim && o->n_embd % o->n_head) || o->head_dim < 0 || o->head_dim % 2 ||
        o->swa < 0 || o->n_ff <= 0 || o->n_ctx <= 0 || mk_file_type(o->type) == UINT32_MAX ||
        o->n_expert <= 0 || o->n_expert_used <= 0 || o->n_expert_used > o->n_expert ||
        o->n_ff_exp <= 0 ||
        (strcmp(o->arch, "llama") && strcmp(o->arch, "qwen2") && strcmp(o->arch, "phi3") &&
         strcmp(o->arch, "qwen3") && strcmp(o->arch, "qwen3moe") && strcmp(o->arch, "gemma3")))
        return -1;
    return 0;
}

int main(int argc, char **argv) {
    struct mk_opts o;
    if (mk_parse(argc, argv, &o) != 0) return mk_usage();
    char err[512], key[128], name[64];
    gguf *voc = NULL;
    if (gguf_open(o.vocab, &voc, err, sizeof err) != 0) {
        fprintf(stderr, "mkmodel: %s\n", err);
        return 1;
    }
    uint32_t at;
    uint64_t n_vocab = 0;
    const uint8_t *d;
    if (gguf_get_arr(voc, "tokenizer.ggml.tokens", &at, &n_vocab, &d) != 0 || n_vocab == 0) {
        fprintf(stderr, "mkmodel: %s has no tokenizer.ggml.tokens\n", o.vocab);
        return 1;
    }
    const char *A = o.arch;
    int qwen2 = !strcmp(A, "qwen2"), phi3 = !strcmp(A, "phi3"), qwen3 = !strcmp(A, "qwen3");
    int gemma3 = !strcmp(A, "gemma3"), moe = !strcmp(A, "qwen3moe");
    if (moe) qwen3 = 1;
    int head_dim = o.head_dim ? o.head_dim : o.n_embd / o.n_head;
    int n_embd_q = head_dim * o.n_head, n_embd_kv = head_dim * o.n_head_kv;
    gguf_writer *w = gguf_writer_new();
    struct mk_state s = {NULL, 0, 0, o.seed, NULL, 0};
    char def_name[96];
    snprintf(def_name, sizeof def_name, "mkmodel-%s-%s", A, o.type);
    int bad = gguf_writer_add_str(w, "general.architecture", A);
    bad |= gguf_writer_add_str(w, "general.name", o.name ? o.name : def_name);
    bad |= gguf_writer_add_u32(w, "general.file_type", mk_file_type(o.type));
    bad |= gguf_writer_add_u32(w, "general.quantization_version", 2);
#define KEY(k) (snprintf(key, sizeof key, "%s." k, A), key)
    bad |= gguf_writer_add_u32(w, KEY("vocab_size"), (uint32_t)n_vocab);
    bad |= gguf_writer_add_u32(w, KEY("context_length"), (uint32_t)o.n_ctx);
    bad |= gguf_writer_add_u32(w, KEY("embedding_length"), (uint32_t)o.n_embd);
    bad |= gguf_writer_add_u32(w, KEY("block_count"), (uint32_t)o.n_layer);
    bad |= gguf_writer_add_u32(w, KEY("feed_forward_length"), (uint32_t)o.n_ff);
    bad |= gguf_writer_add_u32(w, KEY("attention.head_count"), (uint32_t)o.n_head);
    bad |= gguf_writer_add_u32(w, KEY("attention.head_count_kv"), (uint32_t)o.n_head_kv);
    bad |= gguf_writer_add_u32(w, KEY("rope.dimension_count"), (uint32_t)head_dim);
    if (o.head_dim) {
        bad |= gguf_writer_add_u32(w, KEY("attention.key_length"), (uint32_t)head_dim);
        bad |= gguf_writer_add_u32(w, KEY("attention.value_length"), (uint32_t)head_dim);
    }
    bad |= gguf_writer_add_f32(w, KEY("rope.freq_base"), o.rope_base);
    bad |= gguf_writer_add_f32(w, KEY("attention.layer_norm_rms_epsilon"), 1e-6f);
    if (moe) {
        bad |= gguf_writer_add_u32(w, KEY("expert_count"), (uint32_t)o.n_expert);
        bad |= gguf_writer_add_u32(w, KEY("expert_used_count"), (uint32_t)o.n_expert_used);
        bad |= gguf_writer_add_u32(w, KEY("expert_feed_forward_length"), (uint32_t)o.n_ff_exp);
    }
    if (gemma3 && o.swa) {   /* as a converted Gemma 3: local layers use base 10000 */
        bad |= gguf_writer_add_u32(w, KEY("attention.sliding_window"), (uint32_t)o.swa);
        bad |= gguf_writer_add_f32(w, KEY("rope.freq_base_swa"), 10000.0f);
    }
    if (phi3) bad |= gguf_writer_add_u32(w, KEY("attention.sliding_window"), (uint32_t)o.n_ctx);
#undef KEY
    for (int64_t i = 0; i < gguf_n_kv(voc); i++) {
        const struct gguf_kv *kv = gguf_kv_at(voc, i);
        if (kv->key.len > 10 && !memcmp(kv->key.p, "tokenizer.", 10) &&
            !(o.chat_template && kv->key.len == 23 &&
              !memcmp(kv->key.p, "tokenizer.chat_template", 23)))
            bad |= gguf_writer_copy_kv(w, kv);
    }
    if (o.chat_template) {
        FILE *tf = fopen(o.chat_template, "rb");
        char *text = tf ? malloc(1 << 20) : NULL;
        size_t tn = text ? fread(text, 1, (1 << 20) - 1, tf) : 0;
        if (tf)
            fclose(tf);
        if (!text) {
            fprintf(stderr, "mkmodel: cannot read %s\n", o.chat_template);
            return 1;
        }
        bad |= gguf_writer_add_strn(w, "tokenizer.chat_template", text, tn);
        free(text);
    }
    if (bad) {
        fprintf(stderr, "mkmodel: out of memory\n");
        return 1;
    }

    float we = 1.0f / sqrtf((float)o.n_embd), wf = 1.0f / sqrtf((float)o.n_ff);
    int64_t V = (int64_t)n_vocab, E = o.n_embd, Q = n_embd_q, KV = n_embd_kv, F = o.n_ff;
    bad = mk_add(w, &s, &o, "token_embd.weight", -1, E, V, 0, 1.0f);
    bad |= mk_add(w, &s, &o, "output_norm.weight", -1, E, 1, 1.0f, 0.1f);
    if (!o.tied) bad |= mk_add(w, &s, &o, "output.weight", -1, E, V, 0, we);
    for (int l = 0; l < o.n_layer && !bad; l++) {
#define T(n) (snprintf(name, sizeof name, "blk.%d." n, l), name)
        bad |= mk_add(w, &s, &o, T("attn_norm.weight"), l, E, 1, 1.0f, 0.1f);
        if (phi3) {
            bad |= mk_add(w, &s, &o, T("attn_qkv.weight"), l, E, Q + 2 * KV, 0, we);
        } else {
            bad |= mk_add(w, &s, &o, T("attn_q.weight"), l, E, Q, 0, we);
            bad |= mk_add(w, &s, &o, T("attn_k.weight"), l, E, KV, 0, we);
            bad |= mk_add(w, &s, &o, T("attn_v.weight"), l, E, KV, 0, we);
        }
        if (qwen2) {
            bad |= mk_add(w, &s, &o, T("attn_q.bias"), l, E, 1, 0, 0.1f);
            bad |= mk_add(w, &s, &o, T("attn_k.bias"), l, KV, 1, 0, 0.1f);
            bad |= mk_add(w, &s, &o, T("attn_v.bias"), l, KV, 1, 0, 0.1f);
        }
        if (qwen3 || gemma3) {
            bad |= mk_add(w, &s, &o, T("attn_q_norm.weight"), l, head_dim, 1, 1.0f, 0.1f);
            bad |= mk_add(w, &s, &o, T("attn_k_norm.weight"), l, head_dim, 1, 1.0f, 0.1f);
        }
        bad |= mk_add(w, &s, &o, T("attn_output.weight"), l, Q, E, 0,
                      1.0f / sqrtf((float)Q));
        if (gemma3) {
            bad |= mk_add(w, &s, &o, T("post_attention_norm.weight"), l, E, 1, 1.0f, 0.1f);
            bad |= mk_add(w, &s, &o, T("post_ffw_norm.weight"), l, E, 1, 1.0f, 0.1f);
        }
        bad |= mk_add(w, &s, &o, T("ffn_norm.weight"), l, E, 1, 1.0f, 0.1f);
        if (moe) {
            const int64_t X = o.n_expert, FE = o.n_ff_exp;
            bad |= mk_add(w, &s, &o, T("ffn_gate_inp.weight"), l, E, X, 0, we);
            bad |= mk_add3(w, &s, &o, T("ffn_gate_exps.weight"), l, E, FE, X, 0, we);
            bad |= mk_add3(w, &s, &o, T("ffn_up_exps.weight"), l, E, FE, X, 0, we);
            bad |= mk_add3(w, &s, &o, T("ffn_down_exps.weight"), l, FE, E, X, 0,
                           1.0f / sqrtf((float)FE));
        } else if (phi3) {
            bad |= mk_add(w, &s, &o, T("ffn_up.weight"), l, E, 2 * F, 0, we);
        } else {
            bad |= mk_add(w, &s, &o, T("ffn_gate.weight"), l, E, F, 0, we);
            bad |= mk_add(w, &s, &o, T("ffn_up.weight"), l, E, F, 0, we);
        }
        if (!moe)
            bad |= mk_add(w, &s, &o, T("ffn_down.weight"), l, F, E, 0, wf);
#undef T
    }
    int64_t max_ne0 = E > F ? E : F;
    if (Q > max_ne0) max_ne0 = Q;
    if (moe && o.n_ff_exp > max_ne0) max_ne0 = o.n_ff_exp;
    s.row_n = (size_t)max_ne0;
    s.row = malloc(MK_THREADS * s.row_n * sizeof *s.row);
    if (bad || !s.row) {
        fprintf(stderr, "mkmodel: bad shape or out of memory\n");
        return 1;
    }
    int rc = gguf_writer_write(w, o.out, mk_fill, &s, err, sizeof err);
    if (rc != 0) fprintf(stderr, "mkmodel: %s\n", err);
    gguf_writer_free(w);
    gguf_close(voc);
    free(s.row);
    free(s.t);
    return rc ? 1 : 0;
}
