/* engine/model.c — loading a model: the architecture table, hyper-parameters from the GGUF
 * metadata, binding every tensor into the mapping with its shape and type checked, the model
 * summary (eng_model_info) and string metadata. eng_model_load may run on any thread; the
 * loaded model is read-only afterwards. */
#include "model.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mapguard.h"
#include "sysmem.h"
#include "tokenizer.h"

/* The architectures (llama.cpp's loaders and graphs, src/models/ARCH.cpp, as data). Columns
 * not named are 0: no RoPE NEOX, pre-norms on, no post-norms... see struct arch. */
static const struct arch arch_table[] = {
    {.name = "llama", .pre_norm = 1},
    {.name = "qwen2", .rope_neox = 1, .pre_norm = 1},
    {.name = "phi3", .rope_neox = 1, .pre_norm = 1, .q_prescale = 1},
    {.name = "qwen3", .rope_neox = 1, .pre_norm = 1, .qk_norm = QKN_HEAD},
    {.name = "gemma2", .rope_neox = 1, .pre_norm = 1, .post_norm = 1, .q_prescale = 1,
     .emb_sqrt = 1, .tied_always = 1, .act = ACT_GELU, .attn_softcap = 1, .final_softcap = 1,
     .swa_pattern = 2, .swa_window_default = 4096, .q_scale_alt_layers = 46},
    {.name = "gemma3", .rope_neox = 1, .pre_norm = 1, .post_norm = 1, .q_prescale = 1,
     .emb_sqrt = 1, .act = ACT_GELU, .qk_norm = QKN_HEAD, .final_softcap = 1,
     .swa_pattern = 6, .swa_rope = SWA_ROPE_UNSCALED, .swa_base_default = 10000.0f,
     .q_scale_alt_layers = 62},
    {.name = "olmo2", .rope_neox = 1, .post_norm = 1, .need_output = 1, .qk_norm = QKN_FULL,
     .swa_pattern = 4, .swa_rope = SWA_ROPE_PLAIN},
    {.name = "exaone4", .rope_neox = 1, .post_norm = 1, .qk_norm = QKN_HEAD,
     .swa_pattern = 4, .swa_window_default = 4096, .swa_n_layer = 64, .swa_nope_global = 1},
    {.name = "smollm3", .pre_norm = 1, .nope_step = 4},
    {.name = "granite", .pre_norm = 1, .granite = 1},
    {.name = "mistral3", .pre_norm = 1, .yarn_keys = 1, .temp_scale = 1},
    {.name = "qwen3moe", .rope_neox = 1, .pre_norm = 1, .qk_norm = QKN_HEAD, .moe_norm = 1},
    {.name = "granitemoe", .pre_norm = 1, .granite = 1, .moe_norm = 1},
    {.name = "lfm2", .rope_neox = 1, .pre_norm = 1, .qk_norm = QKN_HEAD,
     .recr_kind = LAYER_SHORTCONV, .swa_all_attn = 1, .out_norm = "token_embd_norm"},
    {.name = "lfm2moe", .rope_neox = 1, .pre_norm = 1, .qk_norm = QKN_HEAD, .moe_norm = 1,
     .moe_gating_key = 1, .recr_kind = LAYER_SHORTCONV, .swa_all_attn = 1,
     .out_norm = "token_embd_norm"},
    {.name = "gpt-oss", .rope_neox = 1, .pre_norm = 1, .ffn_norm_post = 1, .need_output = 1,
     .act = ACT_SWIGLU_OAI, .moe_gating = GATE_SOFTMAX_WEIGHT, .swa_pattern = 2},
    {.name = "gemma4", .rope_neox = 1, .pre_norm = 1, .post_norm = 1, .emb_sqrt = 1,
     .act = ACT_GELU, .qk_norm = QKN_HEAD, .final_softcap = 1, .swa_pattern = 1,
     .swa_arr_required = 1, .swa_rope = SWA_ROPE_UNSCALED, .swa_base_default = 10000.0f,
     .kv_share = 1, .v_norm = 1, .v_optional = 1, .attn_scale_one = 1, .ple = 1,
     .out_scale = 1, .ff_full_only = 1, .moe_unsupported = 1},
    {.name = "qwen35", .rope_neox = 1, .pre_norm = 1, .ffn_norm_post = 1, .qk_norm = QKN_HEAD,
     .recr_kind = LAYER_DELTANET, .recr_interval = 1, .attn_gate = 1, .imrope = 1},
    {.name = "qwen35moe", .rope_neox = 1, .pre_norm = 1, .ffn_norm_post = 1, .qk_norm = QKN_HEAD,
     .moe_norm = 1, .shexp = SHEXP_GATED, .shexp_default = 1, .recr_kind = LAYER_DELTANET,
     .recr_interval = 1, .attn_gate = 1, .imrope = 1},
    {.name = "granitehybrid", .pre_norm = 1, .granite = 1, .logit_opt = 1, .moe_norm = 1,
     .recr_kind = LAYER_MAMBA2},
};
#define N_ARCH (sizeof arch_table / sizeof arch_table[0])

static _Thread_local char last_error[512];

int eng_error(int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    for (char *p = last_error; *p; p++)   /* one line, always */
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return rc;
}

const char *eng_last_error(void) { return last_error; }

const char *eng_strerror(int rc) {
    switch (rc) {
    case ENG_OK: return "success";
    case ENG_E_IO: return "cannot read the file";
    case ENG_E_FORMAT: return "malformed model file";
    case ENG_E_UNSUPPORTED: return "unsupported model";
    case ENG_E_NOMEM: return "out of memory";
    case ENG_E_ARG: return "invalid argument";
    case ENG_E_CTX_FULL: return "the context is full";
    case ENG_E_CANCELLED: return "cancelled";
    case ENG_E_THREAD: return "cannot start a thread";
    case ENG_E_MISMATCH: return "the snapshot is of another model, context or version";
    case ENG_E_CORRUPT: return "the snapshot is truncated or corrupt";
    case ENG_E_CHANGED: return "the model file changed on disk";
    default: return "unknown error";
    }
}

struct eng_model_params eng_model_default_params(void) {
    struct eng_model_params p = {0, NULL, NULL, 0};
    return p;
}

const struct vocab *eng_model_vocab(const eng_model *m) { return m ? m->vocab : NULL; }
const gguf *eng_model_gguf(const eng_model *m) { return m->g; }

/* ---- hyper-parameters ---- */

/* ARCH.suffix as an int in [lo, hi]; required unless def >= 0 is given. */
static int hp_int(const eng_model *m, const char *suffix, int def, int lo, int hi, int *out) {
    char key[128];
    int64_t v;
    snprintf(key, sizeof key, "%s.%s", m->arch->name, suffix);
    int rc = gguf_get_i64(m->g, key, &v);
    if (rc == -1 && def >= 0) {
        *out = def;
        return 0;
    }
    if (rc == -1)
        return eng_error(ENG_E_FORMAT, "metadata '%s' is missing", key);
    if (rc != 0)
        return eng_error(ENG_E_FORMAT, "metadata '%s' is not an integer", key);
    if (v < lo || v > hi)
        return eng_error(ENG_E_FORMAT, "metadata '%s' = %lld is out of range (%d to %d)", key,
                         (long long)v, lo, hi);
    *out = (int)v;
    return 0;
}

static int hp_float(const eng_model *m, const char *suffix, float def, float *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", m->arch->name, suffix);
    int rc = gguf_get_f32(m->g, key, out);
    if (rc == -1) {
        *out = def;
        return 0;
    }
    if (rc != 0 || !(*out == *out))
        return eng_error(ENG_E_FORMAT, "metadata '%s' is not a number", key);
    return 0;
}

/* One element of a numeric GGUF array (validated by gguf.c) as an int64; -1 if the element type
 * is not an integer or bool. */
static int arr_i64(uint32_t type, const uint8_t *data, uint64_t i, int64_t *out) {
    const size_t sz = (size_t)gguf_vtype_size(type);
    const uint8_t *p = data + i * sz;
    switch (type) {
    case GGUF_TYPE_UINT8: *out = *p; return 0;
    case GGUF_TYPE_INT8: *out = (int8_t)*p; return 0;
    case GGUF_TYPE_BOOL: *out = *p != 0; return 0;
    case GGUF_TYPE_UINT16: { uint16_t v; memcpy(&v, p, 2); *out = v; return 0; }
    case GGUF_TYPE_INT16: { int16_t v; memcpy(&v, p, 2); *out = v; return 0; }
    case GGUF_TYPE_UINT32: { uint32_t v; memcpy(&v, p, 4); *out = v; return 0; }
    case GGUF_TYPE_INT32: { int32_t v; memcpy(&v, p, 4); *out = v; return 0; }
    case GGUF_TYPE_UINT64: { uint64_t v; memcpy(&v, p, 8); *out = v > INT64_MAX ? INT64_MAX : (int64_t)v; return 0; }
    case GGUF_TYPE_INT64: { int64_t v; memcpy(&v, p, 8); *out = v; return 0; }
    default: return -1;
    }
}

/* ARCH.suffix per layer: an integer for every layer, or an array of block_count integers (the
 * multi-token prediction blocks included; the first n_layer are kept), each in [lo, hi].
 * Absent: def (if def >= 0; else an error). 1 in *is_arr when it was an array. */
static int hp_int_layers(const eng_model *m, const char *suffix, int def, int lo, int hi,
                         int *out, int *is_arr) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", m->arch->name, suffix);
    const int n = m->hp.n_layer;
    uint32_t at;
    uint64_t na;
    const uint8_t *d;
    if (is_arr)
        *is_arr = 0;
    if (gguf_get_arr(m->g, key, &at, &na, &d) == 0) {
        if (na != (uint64_t)m->hp.n_layer_all)
            return eng_error(ENG_E_FORMAT, "metadata '%s' has %llu values for %d layers", key,
                             (unsigned long long)na, m->hp.n_layer_all);
        for (int i = 0; i < n; i++) {
            int64_t v;
            if (arr_i64(at, d, (uint64_t)i, &v))
                return eng_error(ENG_E_FORMAT, "metadata '%s' is not an array of integers", key);
            if (v < lo || v > hi)
                return eng_error(ENG_E_FORMAT, "metadata '%s'[%d] = %lld is out of range (%d to "
                                 "%d)", key, i, (long long)v, lo, hi);
            out[i] = (int)v;
        }
        if (is_arr)
            *is_arr = 1;
        return 0;
    }
    int v, rc = hp_int(m, suffix, def, lo, hi, &v);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++)
        out[i] = v;
    return 0;
}

static int hp_bool(const eng_model *m, const char *suffix, int def, int *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", m->arch->name, suffix);
    int rc = gguf_get_bool(m->g, key, out);
    if (rc == -1) {
        *out = def;
        return 0;
    }
    if (rc != 0)
        return eng_error(ENG_E_FORMAT, "metadata '%s' is not a bool", key);
    return 0;
}

/* ggml_rope_yarn_corr_dims: the first and last rotated pair the YaRN ramp blends over. */
static void rope_corr_dims(int n_rot, int n_ctx_orig, float base, float beta_fast,
                           float beta_slow, float dims[2]) {
    const float pi = 3.14159265358979323846f;
    float start = floorf((float)n_rot * logf((float)n_ctx_orig / (beta_fast * 2 * pi)) /
                         (2 * logf(base)));
    float end = ceilf((float)n_rot * logf((float)n_ctx_orig / (beta_slow * 2 * pi)) /
                      (2 * logf(base)));
    dims[0] = start > 0 ? start : 0;
    dims[1] = end < (float)(n_rot - 1) ? end : (float)(n_rot - 1);
}

/* YaRN magnitude scaling as llama.cpp's context computes it (get_mscale). */
static float rope_mscale(float factor, float m) {
    return factor <= 1.0f ? 1.0f : 0.1f * m * logf(factor) + 1.0f;
}

/* RoPE: scaling type, factor, YaRN parameters and the magnitude, as llama_model_base::
 * load_hparams + llama_context compute them; the sliding-window layers' variant per the
 * architecture. */
static int model_load_rope(eng_model *m) {
    struct hparams *hp = &m->hp;
    const struct arch *a = m->arch;
    char key[128];
    struct gguf_str st;
    int rc;
    float base, factor = 0, attn_factor, beta_fast = 32.0f, beta_slow = 1.0f, log_mul = 0.0f;
    if ((rc = hp_float(m, "rope.freq_base", 10000.0f, &base)))
        return rc;
    if (!(base > 1.0f) || base > 1e12f)
        return eng_error(ENG_E_FORMAT, "metadata '%s.rope.freq_base' = %g is out of range",
                         a->name, (double)base);
    snprintf(key, sizeof key, "%s.rope.scaling.type", a->name);
    int yarn = 0, none = 0;
    if (gguf_get_str(m->g, key, &st) == 0) {
        if (st.len == 4 && !memcmp(st.p, "none", 4))
            none = 1;
        else if (st.len == 4 && !memcmp(st.p, "yarn", 4))
            yarn = 1;
        else if (!(st.len == 6 && !memcmp(st.p, "linear", 6)) &&
                 !(st.len == 8 && !memcmp(st.p, "longrope", 8)))
            return eng_error(ENG_E_UNSUPPORTED, "metadata '%s' = '%.*s': RoPE scaling type not "
                             "supported (none, linear, yarn, longrope)", key,
                             (int)(st.len > 32 ? 32 : st.len), st.p);
    }
    if ((rc = hp_float(m, "rope.scaling.factor", 0.0f, &factor)))
        return rc;
    if (factor == 0.0f && (rc = hp_float(m, "rope.scale_linear", 0.0f, &factor)))
        return rc;
    if (factor != 0.0f && !(factor >= 1e-6f && factor <= 1e6f))
        return eng_error(ENG_E_FORMAT, "metadata '%s.rope.scaling.factor' = %g is out of range",
                         a->name, (double)factor);
    if ((rc = hp_float(m, "rope.scaling.attn_factor", 1.0f, &attn_factor)))
        return rc;
    if (!(attn_factor > 0 && attn_factor < 1e3f))
        return eng_error(ENG_E_FORMAT, "metadata '%s.rope.scaling.attn_factor' = %g is out of "
                         "range", a->name, (double)attn_factor);
    if (a->yarn_keys && ((rc = hp_float(m, "rope.scaling.yarn_beta_fast", 32.0f, &beta_fast)) ||
                         (rc = hp_float(m, "rope.scaling.yarn_beta_slow", 1.0f, &beta_slow)) ||
                         (rc = hp_float(m, "rope.scaling.yarn_log_multiplier", 0.0f, &log_mul))))
        return rc;
    if (!(beta_fast > 0 && beta_slow > 0 && beta_fast < 1e6f && beta_slow < 1e6f) ||
        !(log_mul > -1e3f && log_mul < 1e3f))
        return eng_error(ENG_E_FORMAT, "metadata '%s.rope.scaling.yarn_*' out of range", a->name);
    float freq_scale = factor == 0.0f || none ? 1.0f : 1.0f / factor;
    struct rope_cfg *g = &hp->rope[0];
    g->base = base;
    g->freq_scale = freq_scale;
    g->ext_factor = yarn ? 1.0f : 0.0f;
    float mag = 1.0f;
    if (yarn) {   /* llama.cpp divides its own mscale back out: ggml multiplies it in again */
        const float f = 1.0f / freq_scale;
        mag = log_mul != 0.0f ? rope_mscale(f, 1.0f) / rope_mscale(f, log_mul)
                              : rope_mscale(f, 1.0f);
        mag *= 1.0f / (1.0f + 0.1f * logf(f));
    }
    g->attn_factor = mag * attn_factor;
    g->n_rot = hp->n_rot;
    rope_corr_dims(g->n_rot, hp->n_ctx_orig, base, beta_fast, beta_slow, g->corr);
    /* sliding-window layers */
    struct rope_cfg *s = &hp->rope[1];
    *s = *g;
    if (a->swa_rope != SWA_ROPE_SAME) {
        s->freq_scale = 1.0f;
        if (a->swa_rope == SWA_ROPE_PLAIN) {
            s->ext_factor = 0.0f;
            s->attn_factor = 1.0f;
        }
    }
    if (a->swa_base_default > 0)
        s->base = a->swa_base_default;
    if ((rc = hp_float(m, "rope.freq_base_swa", s->base, &s->base)))
        return rc;
    if (!(s->base > 1.0f) || s->base > 1e12f)
        return eng_error(ENG_E_FORMAT, "metadata '%s.rope.freq_base_swa' = %g is out of range",
                         a->name, (double)s->base);
    s->n_rot = hp->n_rot_swa;
    rope_corr_dims(s->n_rot, hp->n_ctx_orig, s->base, beta_fast, beta_slow, s->corr);
    return 0;
}

/* Which layers attend to a sliding window, and its size (llama.cpp's load_swa_pattern: a bool
 * array, else a period p: layer il is local when il % p < p - 1, p = 0: all local). */
static int model_load_swa(eng_model *m) {
    struct hparams *hp = &m->hp;
    const struct arch *a = m->arch;
    int rc, window = 0;
    hp->n_swa = 0;
    if (!(a->swa_pattern || a->swa_all_attn) || (a->swa_n_layer && hp->n_layer != a->swa_n_layer))
        return 0;
    if ((rc = hp_int(m, "attention.sliding_window", a->swa_arr_required ? -1 : a->swa_window_default,
                     0, 1 << 30, &window)))
        return rc;
    if (window <= 0)   /* no window: every layer global (Gemma 3 and OLMo 2 without the key) */
        return 0;
    int *pat = malloc((size_t)hp->n_layer * sizeof *pat), is_arr = 0;
    if (!pat)
        return eng_error(ENG_E_NOMEM, "out of memory");
    char key[128];
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", a->name);
    uint32_t at;
    uint64_t na;
    const uint8_t *d;
    if (a->swa_all_attn) {
        for (int il = 0; il < hp->n_layer; il++)
            pat[il] = hp->l[il].kind == LAYER_ATTN;
    } else if (a->swa_arr_required && gguf_get_arr(m->g, key, &at, &na, &d) != 0) {
        free(pat);
        return eng_error(ENG_E_FORMAT, "metadata '%s' (a bool array) is missing", key);
    } else if (gguf_get_arr(m->g, key, &at, &na, &d) == 0) {
        if (at != GGUF_TYPE_BOOL) {
            free(pat);
            return eng_error(ENG_E_FORMAT, "metadata '%s' is not a bool array", key);
        }
        rc = hp_int_layers(m, "attention.sliding_window_pattern", 0, 0, 1, pat, &is_arr);
    } else {
        int period;
        rc = hp_int(m, "attention.sliding_window_pattern", a->swa_pattern, 0, 1 << 20, &period);
        for (int il = 0; !rc && il < hp->n_layer; il++)
            pat[il] = period == 0 || il % period < period - 1;
    }
    if (!rc) {
        hp->n_swa = window;
        for (int il = 0; il < hp->n_layer; il++)
            hp->l[il].swa = pat[il];
    }
    free(pat);
    return rc;
}

/* The architecture's scales, soft-caps and attention temperature. */
static int model_load_scales(eng_model *m) {
    struct hparams *hp = &m->hp;
    const struct arch *a = m->arch;
    int rc;
    float att = 0;
    hp->emb_scale = a->emb_sqrt ? sqrtf((float)hp->n_embd) : 1.0f;
    hp->res_scale = 0.0f;
    hp->logit_scale = 1.0f;
    hp->attn_softcap = hp->final_softcap = hp->temp_scale = 0.0f;
    if (a->granite) {
        float es;
        if ((rc = hp_float(m, "logit_scale", a->logit_opt ? 0.0f : NAN, &hp->logit_scale)) ||
            (rc = hp_float(m, "residual_scale", 0.0f, &hp->res_scale)) ||
            (rc = hp_float(m, "embedding_scale", 0.0f, &es)) ||
            (rc = hp_float(m, "attention.scale", 0.0f, &att)))
            return rc;
        if (hp->logit_scale != hp->logit_scale)
            return eng_error(ENG_E_FORMAT, "metadata '%s.logit_scale' is missing", a->name);
        if (a->logit_opt && hp->logit_scale == 0.0f)   /* llama.cpp: no scaling */
            hp->logit_scale = 1.0f;
        if (hp->logit_scale == 0.0f || !isfinite(hp->logit_scale) || !isfinite(hp->res_scale) ||
            !isfinite(es) || !isfinite(att))
            return eng_error(ENG_E_FORMAT, "metadata '%s': a scale is 0 or not finite", a->name);
        if (es != 0.0f)
            hp->emb_scale = es;
    }
    if ((a->attn_softcap && (rc = hp_float(m, "attn_logit_softcapping", 0.0f,
                                            &hp->attn_softcap))) ||
        (a->final_softcap && (rc = hp_float(m, "final_logit_softcapping", 0.0f,
                                             &hp->final_softcap))) ||
        (a->temp_scale && (rc = hp_float(m, "attention.temperature_scale", 0.0f,
                                          &hp->temp_scale))))
        return rc;
    if (!(hp->attn_softcap >= 0 && hp->attn_softcap < 1e6f) ||
        !(hp->final_softcap >= 0 && hp->final_softcap < 1e6f) || !isfinite(hp->temp_scale))
        return eng_error(ENG_E_FORMAT, "metadata '%s': soft-cap or temperature out of range",
                         a->name);
    /* q scaled before the product (gemma, phi3), or the scores */
    float hs = 1.0f / sqrtf((float)hp->head_dim);
    if (a->q_scale_alt_layers && hp->n_layer == a->q_scale_alt_layers)
        hs = 1.0f / sqrtf((float)(hp->n_embd / hp->l[0].n_head));
    hp->q_scale = a->q_prescale ? hs : 1.0f;
    hp->kq_scale = a->q_prescale ? 1.0f : att != 0.0f ? att : hs;
    if (a->attn_scale_one)
        hp->q_scale = hp->kq_scale = 1.0f;
    return 0;
}

/* Mixture of experts: expert_count, expert_used_count and expert_feed_forward_length (per
 * layer where arrays), the shared expert's width, the gating function and weight scale. A
 * layer is a MoE layer when the model has experts and the layer has a router
 * (blk.N.ffn_gate_inp.weight): leading dense layers (LFM2-MoE, DeepSeek) keep their FFN. */
static int model_load_moe(eng_model *m) {
    struct hparams *hp = &m->hp;
    const struct arch *a = m->arch;
    const int L = hp->n_layer;
    int rc, n_expert, n_shexp, gating = a->moe_gating ? a->moe_gating : GATE_SOFTMAX;
    hp->gating = gating;
    hp->expert_w_scale = 0.0f;
    if ((rc = hp_int(m, "expert_count", 0, 0, 4096, &n_expert)))
        return rc;
    if (n_expert == 0)
        return 0;
    int *used = malloc((size_t)L * sizeof *used), *ffe = malloc((size_t)L * sizeof *ffe);
    if (!used || !ffe) {
        free(used), free(ffe);
        return eng_error(ENG_E_NOMEM, "out of memory");
    }
    char key[128];
    snprintf(key, sizeof key, "%s.expert_feed_forward_length", a->name);
    rc = hp_int_layers(m, "expert_used_count", -1, 1, n_expert, used, NULL);
    if (!rc && gguf_kv_find(m->g, key))
        rc = hp_int_layers(m, "expert_feed_forward_length", -1, 1, 1 << 20, ffe, NULL);
    else if (!rc)   /* granitemoe: the experts' width is feed_forward_length (Qwen3.5-MoE: a
                     * share of it per used expert) */
        for (int il = 0; il < L; il++)
            ffe[il] = a->shexp_default ? hp->l[il].n_ff / used[il] : hp->l[il].n_ff;
    if (!rc)
        rc = hp_int(m, "expert_shared_feed_forward_length", 0, 0, 1 << 20, &n_shexp);
    if (!rc && a->moe_gating_key)
        rc = hp_int(m, "expert_gating_func", gating, 1, 3, &gating);
    if (!rc)
        rc = hp_float(m, "expert_weights_scale", 0.0f, &hp->expert_w_scale);
    if (!rc && !(hp->expert_w_scale >= 0 && hp->expert_w_scale < 1e6f))
        rc = eng_error(ENG_E_FORMAT, "metadata '%s.expert_weights_scale' is out of range",
                       a->name);
    hp->gating = gating;
    for (int il = 0; !rc && il < L; il++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%d.ffn_gate_inp.weight", il);
        if (!gguf_tensor_find(m->g, name))
            continue;
        struct layer_hp *lh = &hp->l[il];
        if (a->moe_unsupported) {
            rc = eng_error(ENG_E_UNSUPPORTED, "%s mixture-of-experts layers are not supported "
                           "(layer %d has a router)", a->name, il);
            break;
        }
        lh->n_expert = n_expert;
        lh->n_expert_used = used[il];
        lh->n_ff_exp = ffe[il];
        lh->n_ff_shexp = n_shexp == 0 && a->shexp_default ? lh->n_ff : n_shexp;
        if (lh->n_ff_exp < 1)
            rc = eng_error(ENG_E_FORMAT, "layer %d: the experts' feed-forward width is 0", il);
    }
    free(used), free(ffe);
    return rc;
}

/* Qwen3.5's layer kinds: attention.recurrent_layers (one flag per block), else every layer but
 * each full_attention_interval-th (default 4) is a DeltaNet layer. */
static int model_load_recr_layers(eng_model *m) {
    struct hparams *hp = &m->hp;
    const int L = hp->n_layer;
    char key[128];
    snprintf(key, sizeof key, "%s.attention.recurrent_layers", m->arch->name);
    int *rl = malloc((size_t)L * sizeof *rl), rc = 0;
    if (!rl)
        return eng_error(ENG_E_NOMEM, "out of memory");
    if (gguf_kv_find(m->g, key)) {
        uint32_t at;
        uint64_t na;
        const uint8_t *d;
        if (gguf_get_arr(m->g, key, &at, &na, &d) != 0)
            rc = eng_error(ENG_E_FORMAT, "metadata '%s' is not an array", key);
        else
            rc = hp_int_layers(m, "attention.recurrent_layers", -1, 0, 1, rl, NULL);
    } else {
        int interval;
        rc = hp_int(m, "full_attention_interval", 4, 1, 1 << 20, &interval);
        for (int il = 0; !rc && il < L; il++)
            rl[il] = (il + 1) % interval != 0;
    }
    for (int il = 0; !rc && il < L; il++) {
        struct layer_hp *lh = &hp->l[il];
        if (!rl[il] && lh->n_head_kv == 0)
            rc = eng_error(ENG_E_FORMAT, "layer %d is a full-attention layer but its "
                           "head_count_kv is 0", il);
        lh->kind = rl[il] ? m->arch->recr_kind : LAYER_ATTN;
    }
    free(rl);
    return rc;
}

/* Floats of recurrent state a layer of this kind keeps (0: none). */
static size_t model_layer_rs(const struct hparams *hp, int kind) {
    const size_t conv = (size_t)(hp->ssm.d_conv - 1) * (size_t)hp->ssm.n_chan;
    switch (kind) {
    case LAYER_SHORTCONV: return (size_t)(hp->shortconv_l - 1) * (size_t)hp->n_embd;
    case LAYER_DELTANET:   /* a d_k x d_k matrix per value head */
        return conv + (size_t)hp->ssm.n_head * (size_t)hp->ssm.d_state * (size_t)hp->ssm.d_state;
    case LAYER_MAMBA2:     /* a P x N matrix per head: d_inner x N */
        return conv + (size_t)hp->ssm.d_inner * (size_t)hp->ssm.d_state;
    default: return 0;
    }
}

/* The ssm.* keys of DeltaNet and Mamba2 layers (when the model has any), checked against each
 * other as llama.cpp's graphs need them, and rope.dimension_sections where the architecture
 * reads it. */
static int model_load_ssm(eng_model *m) {
    struct hparams *hp = &m->hp;
    const struct arch *a = m->arch;
    int rc, kind = 0;
    if (a->imrope) {
        char key[128];
        uint32_t at;
        uint64_t na;
        const uint8_t *d;
        int64_t v;
        snprintf(key, sizeof key, "%s.rope.dimension_sections", a->name);
        if (gguf_get_arr(m->g, key, &at, &na, &d) != 0)
            return eng_error(ENG_E_FORMAT, "metadata '%s' is missing or not an array", key);
        if (na != 4)
            return eng_error(ENG_E_FORMAT, "metadata '%s' has %llu values, not 4", key,
                             (unsigned long long)na);
        int sum = 0;
        for (int i = 0; i < 4; i++) {
            if (arr_i64(at, d, (uint64_t)i, &v) || v < 0 || v > 1 << 12)
                return eng_error(ENG_E_FORMAT, "metadata '%s'[%d] is not a size", key, i);
            hp->rope_sections[i] = (int)v;
            sum += (int)v;
        }
        if (hp->rope_sections[0] + hp->rope_sections[1] + hp->rope_sections[2] == 0 ||
            sum > hp->head_dim)
            return eng_error(ENG_E_FORMAT, "metadata '%s': sections summing to %d for heads of "
                             "%d", key, sum, hp->head_dim);
    }
    for (int il = 0; il < hp->n_layer && !kind; il++)
        if (hp->l[il].kind == LAYER_DELTANET || hp->l[il].kind == LAYER_MAMBA2)
            kind = hp->l[il].kind;
    if (!kind)
        return 0;
    if ((rc = hp_int(m, "ssm.conv_kernel", -1, 1, 256, &hp->ssm.d_conv)) ||
        (rc = hp_int(m, "ssm.inner_size", -1, 1, 1 << 20, &hp->ssm.d_inner)) ||
        (rc = hp_int(m, "ssm.state_size", -1, 1, 1 << 12, &hp->ssm.d_state)) ||
        (rc = hp_int(m, "ssm.time_step_rank", -1, 1, 1 << 16, &hp->ssm.n_head)) ||
        (rc = hp_int(m, "ssm.group_count", -1, 1, 1 << 16, &hp->ssm.n_group)))
        return rc;
    const int64_t di = hp->ssm.d_inner, ds = hp->ssm.d_state, nh = hp->ssm.n_head,
                  ng = hp->ssm.n_group;
    int64_t chan, in;
    if (kind == LAYER_DELTANET) {
        /* heads of d_k = d_v = state_size: time_step_rank value heads, group_count key heads,
         * value head h reading key head h mod group_count */
        if (di != ds * nh)
            return eng_error(ENG_E_FORMAT, "metadata '%s.ssm.inner_size' = %lld is not "
                             "state_size x time_step_rank = %lld x %lld", a->name,
                             (long long)di, (long long)ds, (long long)nh);
        if (nh % ng)
            return eng_error(ENG_E_FORMAT, "metadata '%s': %lld value heads are not a multiple "
                             "of %lld key heads (ssm.group_count)", a->name, (long long)nh,
                             (long long)ng);
        chan = 2 * ng * ds + di;
        in = chan + di + 2 * nh;   /* qkv | z | beta | alpha */
    } else {
        /* heads of P = d_inner / time_step_rank, in group_count groups of B and C */
        if (di % nh || nh % ng)
            return eng_error(ENG_E_FORMAT, "metadata '%s': inner size %lld, %lld heads and "
                             "%lld groups do not divide", a->name, (long long)di, (long long)nh,
                             (long long)ng);
        chan = di + 2 * ng * ds;
        in = di + chan + nh;       /* z | xBC | dt */
    }
    if (in > (1 << 22))
        return eng_error(ENG_E_FORMAT, "metadata '%s.ssm.*': the layers are too wide", a->name);
    hp->ssm.n_chan = (int)chan;
    hp->ssm.n_in = (int)in;
    return 0;
}

static int model_load_hparams(eng_model *m) {
    struct hparams *hp = &m->hp;
    const struct arch *a = m->arch;
    int rc;
    int n_nextn = 0;
    if ((rc = hp_int(m, "context_length", 2048, 1, 1 << 24, &hp->n_ctx_train)) ||
        (rc = hp_int(m, "embedding_length", -1, 1, 1 << 16, &hp->n_embd)) ||
        (rc = hp_int(m, "block_count", -1, 1, 4096, &hp->n_layer_all)) ||
        (rc = hp_int(m, "nextn_predict_layers", 0, 0, hp->n_layer_all - 1, &n_nextn)))
        return rc;
    /* multi-token prediction blocks come last; llama.cpp does not run them when generating */
    hp->n_layer = hp->n_layer_all - n_nextn;
    const int L = hp->n_layer;
    hp->l = calloc((size_t)L, sizeof *hp->l);
    int *hk = malloc((size_t)L * sizeof *hk), *nh = malloc((size_t)L * sizeof *nh);
    int *ff = malloc((size_t)L * sizeof *ff);
    if (!hp->l || !hk || !nh || !ff) {
        free(hk), free(nh), free(ff);
        return eng_error(ENG_E_NOMEM, "out of memory");
    }
    /* 0 (or absent) only where no layer has a dense FFN: checked once the experts are known */
    if ((rc = hp_int_layers(m, "feed_forward_length", 0, 0, 1 << 20, ff, NULL)) ||
        (rc = hp_int_layers(m, "attention.head_count", -1, 1, 1 << 12, nh, NULL))) {
        free(hk), free(nh), free(ff);
        return rc;
    }
    /* head_count_kv defaults to head_count, layer by layer */
    char key[128];
    snprintf(key, sizeof key, "%s.attention.head_count_kv", a->name);
    if (!gguf_kv_find(m->g, key))
        memcpy(hk, nh, (size_t)L * sizeof *hk);
    else if ((rc = hp_int_layers(m, "attention.head_count_kv", -1, a->recr_kind ? 0 : 1,
                                 1 << 12, hk, NULL))) {
        free(hk), free(nh), free(ff);
        return rc;
    }
    for (int il = 0; il < L; il++) {
        hp->l[il].n_head = nh[il];
        hp->l[il].n_head_kv = hk[il];
        hp->l[il].n_ff = ff[il];
        hp->l[il].kind = hk[il] == 0 ? a->recr_kind : LAYER_ATTN;
    }
    free(hk), free(nh), free(ff);
    if (a->recr_interval && (rc = model_load_recr_layers(m)))
        return rc;
    for (int il = 0; il < L; il++)
        if (hp->l[il].kind != LAYER_ATTN)
            hp->l[il].n_head_kv = 0;   /* no KV cache */
    for (int il = 0; il < L; il++)
        if (hp->l[il].n_head_kv && hp->l[il].n_head % hp->l[il].n_head_kv)
            return eng_error(ENG_E_FORMAT, "layer %d: %d heads are not a multiple of %d KV heads",
                             il, hp->l[il].n_head, hp->l[il].n_head_kv);
    /* head size: attention.key_length when given (Mistral Nemo: 128 with n_embd 5120 and 32
     * heads), else n_embd / n_head (of layer 0, as llama.cpp) */
    const int nh0 = hp->l[0].n_head;
    int kl = 0, vl = 0;
    if ((rc = hp_int(m, "attention.key_length", 0, 0, 1 << 12, &kl)) ||
        (rc = hp_int(m, "attention.value_length", kl, 0, 1 << 12, &vl)))
        return rc;
    if (kl != vl)
        return eng_error(ENG_E_UNSUPPORTED, "key length %d differs from value length %d", kl, vl);
    if (kl == 0 && hp->n_embd % nh0)
        return eng_error(ENG_E_FORMAT, "embedding length %d is not a multiple of %d heads",
                         hp->n_embd, nh0);
    hp->head_dim = kl ? kl : hp->n_embd / nh0;
    if (hp->head_dim < 2)
        return eng_error(ENG_E_FORMAT, "head size %d is too small", hp->head_dim);
    if ((rc = hp_int(m, "rope.dimension_count", hp->head_dim, 2, hp->head_dim, &hp->n_rot)))
        return rc;
    if (hp->n_rot % 2)
        return eng_error(ENG_E_FORMAT, "metadata '%s.rope.dimension_count' = %d is odd",
                         a->name, hp->n_rot);
    /* sliding-window layers may have their own head size and rotated dims (Gemma 4) */
    if ((rc = hp_int(m, "attention.key_length_swa", hp->head_dim, 2, 1 << 12, &kl)) ||
        (rc = hp_int(m, "attention.value_length_swa", kl, 0, 1 << 12, &vl)))
        return rc;
    if (kl != vl)
        return eng_error(ENG_E_UNSUPPORTED, "sliding-window key length %d differs from value "
                         "length %d", kl, vl);
    hp->head_dim_swa = kl;
    if ((rc = hp_int(m, "rope.dimension_count_swa", hp->n_rot < kl ? hp->n_rot : kl, 2, kl,
                     &hp->n_rot_swa)))
        return rc;
    if (hp->n_rot_swa % 2)
        return eng_error(ENG_E_FORMAT, "metadata '%s.rope.dimension_count_swa' = %d is odd",
                         a->name, hp->n_rot_swa);
    if (a->ple && (rc = hp_int(m, "embedding_length_per_layer_input", -1, 0, 1 << 12, &hp->n_pl)))
        return rc;
    if ((rc = hp_float(m, "attention.layer_norm_rms_epsilon", 1e-5f, &hp->rms_eps)))
        return rc;
    if (!(hp->rms_eps >= 0 && hp->rms_eps < 1.0f))
        return eng_error(ENG_E_FORMAT, "metadata '%s.attention.layer_norm_rms_epsilon' = %g is "
                         "out of range", a->name, (double)hp->rms_eps);
    if ((rc = hp_int(m, "rope.scaling.original_context_length", hp->n_ctx_train, 1, 1 << 24,
                     &hp->n_ctx_orig)) ||
        (rc = model_load_rope(m)) || (rc = model_load_swa(m)) || (rc = model_load_scales(m)))
        return rc;
    if ((rc = model_load_moe(m)) || (rc = model_load_ssm(m)))
        return rc;
    for (int il = 0; il < L; il++)
        if (hp->l[il].n_expert == 0 && hp->l[il].n_ff < 1)
            return eng_error(ENG_E_FORMAT, "metadata '%s.feed_forward_length' is missing or 0 "
                             "(layer %d has a dense FFN)", a->name, il);
    /* which layers rotate, and with which table */
    int rope_on = 1;
    if (a->granite && (rc = hp_bool(m, "rope.scaling.finetuned", 1, &rope_on)))
        return rc;
    hp->n_kv_total = hp->max_q = hp->max_kv = hp->max_ff = hp->max_head = 0;
    hp->n_rs_total = 0;
    for (int il = 0; il < L && !hp->shortconv_l; il++)
        if (hp->l[il].kind == LAYER_SHORTCONV &&
            (rc = hp_int(m, "shortconv.l_cache", -1, 2, 64, &hp->shortconv_l)))
            return rc;
    /* Gemma 4: the last shared_kv_layers layers read the cache of the last own-cache layer of
     * their kind (llama.cpp's layer reuse: n_layer_kv - 2 when sliding, n_layer_kv - 1 when
     * full), which must then have the same shape */
    int n_kv_layers = hp->n_layer_all;
    if (a->kv_share) {
        int n_shared;
        if ((rc = hp_int(m, "attention.shared_kv_layers", 0, 0, hp->n_layer_all, &n_shared)))
            return rc;
        n_kv_layers = hp->n_layer_all - n_shared;
        if (n_shared && n_kv_layers < 2)
            return eng_error(ENG_E_FORMAT, "metadata '%s.attention.shared_kv_layers' = %d leaves "
                             "fewer than 2 layers with their own K/V", a->name, n_shared);
    }
    hp->max_head_dim = 0;
    for (int il = 0; il < L; il++) {
        struct layer_hp *lh = &hp->l[il];
        const int attn = lh->kind == LAYER_ATTN;
        lh->head_dim = lh->swa ? hp->head_dim_swa : hp->head_dim;
        lh->n_rot = lh->swa ? hp->n_rot_swa : hp->n_rot;
        if (attn && lh->head_dim > hp->max_head_dim)
            hp->max_head_dim = lh->head_dim;
        lh->n_embd_q = attn ? lh->n_head * lh->head_dim : 0;
        lh->n_embd_kv = lh->n_head_kv * lh->head_dim;
        lh->kv_shared = attn && il >= n_kv_layers;
        if (lh->kv_shared) {
            const int src = n_kv_layers - (lh->swa ? 2 : 1);
            const struct layer_hp *sh = &hp->l[src];
            if (sh->kind != LAYER_ATTN || sh->swa != lh->swa || sh->head_dim != lh->head_dim ||
                sh->n_head_kv == 0 || lh->n_head % sh->n_head_kv)
                return eng_error(ENG_E_FORMAT, "layer %d shares the K/V of layer %d, which has "
                                 "another kind or shape", il, src);
            lh->n_head_kv = sh->n_head_kv;
            lh->n_embd_kv = sh->n_embd_kv;
        }
        lh->rs_off = hp->n_rs_total;
        lh->n_rs = model_layer_rs(hp, lh->kind);
        hp->n_rs_total += lh->n_rs;
        if (hp->n_rs_total > ((size_t)1 << 36))
            return eng_error(ENG_E_FORMAT, "the recurrent state is too large");
        lh->rope = lh->swa ? 1 : 0;
        if (!rope_on || (a->nope_step && (il + 1) % a->nope_step == 0) ||
            (a->swa_nope_global && hp->n_swa && !lh->swa))
            lh->rope = -1;
        if (lh->kv_shared) {   /* no cache of its own */
            lh->kv_off = hp->l[n_kv_layers - (lh->swa ? 2 : 1)].kv_off;
        } else {
            lh->kv_off = (size_t)hp->n_kv_total;
            if ((int64_t)hp->n_kv_total + lh->n_embd_kv > (1 << 28))
                return eng_error(ENG_E_FORMAT, "the layers' key/value widths are too large");
            hp->n_kv_total += lh->n_embd_kv;
        }
        hp->max_q = lh->n_embd_q > hp->max_q ? lh->n_embd_q : hp->max_q;
        hp->max_kv = lh->n_embd_kv > hp->max_kv ? lh->n_embd_kv : hp->max_kv;
        hp->max_ff = lh->n_ff > hp->max_ff ? lh->n_ff : hp->max_ff;
        hp->max_ff = lh->n_ff_exp > hp->max_ff ? lh->n_ff_exp : hp->max_ff;
        hp->max_ff = lh->n_ff_shexp > hp->max_ff ? lh->n_ff_shexp : hp->max_ff;
        if (lh->n_expert > hp->max_expert)
            hp->max_expert = lh->n_expert;
        if (lh->n_expert_used > hp->max_expert_used)
            hp->max_expert_used = lh->n_expert_used;
        hp->max_head = lh->n_head > hp->max_head ? lh->n_head : hp->max_head;
    }
    if (a->temp_scale && hp->temp_scale != 0.0f && hp->n_ctx_orig <= 0)
        return eng_error(ENG_E_FORMAT, "attention temperature scaling needs "
                         "rope.scaling.original_context_length");
    return 0;
}

/* ---- tensors ---- */

/* Binds name (printf-style) with shape [ne0, ne1] (ne1 = 0: a 1-D tensor of ne0). A missing
 * tensor is an error unless optional. Norms and biases (1-D) must be F32. */
/* Binds name (already formatted) with shape [ne0, ne1, ne2] (ne1 = 0: a 1-D tensor of ne0;
 * ne2 = 0: a 2-D one). A missing tensor is an error unless optional. Norms and biases (1-D)
 * must be F32; f32 forces F32 for a 2-D or 3-D one (per-expert biases). */
static int model_bind_v(eng_model *m, struct tensor *t, int optional, int f32, int64_t ne0,
                        int64_t ne1, int64_t ne2, const char *name) {
    memset(t, 0, sizeof *t);
    const struct gguf_tensor *gt = gguf_tensor_find(m->g, name);
    if (!gt) {
        if (optional)
            return 0;
        return eng_error(ENG_E_FORMAT, "tensor '%s' is missing", name);
    }
    int64_t want1 = ne1 ? ne1 : 1, want2 = ne2 ? ne2 : 1;
    if (gt->ne[0] != ne0 || gt->ne[1] != want1 || gt->ne[2] != want2 || gt->ne[3] != 1) {
        if (ne2)
            return eng_error(ENG_E_FORMAT, "tensor '%s' has shape [%lld, %lld, %lld, %lld], "
                             "expected [%lld, %lld, %lld]", name, (long long)gt->ne[0],
                             (long long)gt->ne[1], (long long)gt->ne[2], (long long)gt->ne[3],
                             (long long)ne0, (long long)want1, (long long)want2);
        return eng_error(ENG_E_FORMAT, "tensor '%s' has shape [%lld, %lld, %lld, %lld], "
                         "expected [%lld, %lld]", name, (long long)gt->ne[0],
                         (long long)gt->ne[1], (long long)gt->ne[2], (long long)gt->ne[3],
                         (long long)ne0, (long long)want1);
    }
    const struct quant_traits *tr = quant_traits_get(gt->type);
    if (!tr || !tr->supported || !tr->to_float || !tr->vec_dot)
        return eng_error(ENG_E_UNSUPPORTED, "tensor '%s': type %s is not supported", name,
                         tr && tr->name ? tr->name : "?");
    if ((ne1 == 0 || f32) && gt->type != GGML_TYPE_F32)
        return eng_error(ENG_E_UNSUPPORTED, "tensor '%s': type %s is not supported for a "
                         "norm, bias or kernel (F32 only)", name, tr->name);
    t->data = gt->data;
    t->type = gt->type;
    t->ne0 = gt->ne[0];
    t->ne1 = want1;
    t->ne2 = want2;
    t->row_bytes = quant_row_size(gt->type, gt->ne[0]);
    t->tr = tr;
    return 0;
}

static int model_bind(eng_model *m, struct tensor *t, int optional, int64_t ne0, int64_t ne1,
                      const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int model_bind(eng_model *m, struct tensor *t, int optional, int64_t ne0, int64_t ne1,
                      const char *fmt, ...) {
    char name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return model_bind_v(m, t, optional, 0, ne0, ne1, 0, name);
}

/* Layer il's tensor "blk.il.SUFFIX" with shape [ne0, ne1, ne2] (see model_bind_v). */
static int model_bind_blk(eng_model *m, struct tensor *t, int optional, int f32, int il,
                          const char *suffix, int64_t ne0, int64_t ne1, int64_t ne2) {
    char name[128];
    snprintf(name, sizeof name, "blk.%d.%s", il, suffix);
    return model_bind_v(m, t, optional, f32, ne0, ne1, ne2, name);
}

struct tensor tensor_expert(const struct tensor *t, int e) {
    struct tensor v = *t;
    v.ne2 = 1;
    if (t->rp)
        v.data = (const uint8_t *)t->data +
                 (size_t)e * (size_t)(t->ne1 / QUANT_RP_ROWS) * t->rp->group_bytes((int)t->ne0);
    else
        v.data = (const uint8_t *)t->data + (size_t)e * (size_t)t->ne1 * t->row_bytes;
    return v;
}

/* Layer il's mixture of experts: router, the experts' matrices (3-D; gate and up apart or
 * fused), their optional biases, the shared expert (and its gate). */
static int model_bind_moe(eng_model *m, int il) {
    struct layer *l = &m->layers[il];
    const struct layer_hp *lh = &m->hp.l[il];
    const int64_t E = m->hp.n_embd, X = lh->n_expert, F = lh->n_ff_exp, S = lh->n_ff_shexp;
    int rc;
    if ((rc = model_bind_blk(m, &l->router, 0, 0, il, "ffn_gate_inp.weight", E, X, 0)) ||
        (rc = model_bind_blk(m, &l->b_router, 1, 0, il, "ffn_gate_inp.bias", X, 0, 0)) ||
        (rc = model_bind_blk(m, &l->exp_probs_b, 1, 0, il, "exp_probs_b.bias", X, 0, 0)) ||
        (rc = model_bind_blk(m, &l->gate_up_exps, 1, 0, il, "ffn_gate_up_exps.weight", E, 2 * F,
                             X)))
        return rc;
    if (!l->gate_up_exps.data &&
        ((rc = model_bind_blk(m, &l->gate_exps, 0, 0, il, "ffn_gate_exps.weight", E, F, X)) ||
         (rc = model_bind_blk(m, &l->up_exps, 0, 0, il, "ffn_up_exps.weight", E, F, X)) ||
         (rc = model_bind_blk(m, &l->b_gate_exps, 1, 1, il, "ffn_gate_exps.bias", F, X, 0)) ||
         (rc = model_bind_blk(m, &l->b_up_exps, 1, 1, il, "ffn_up_exps.bias", F, X, 0))))
        return rc;
    if ((rc = model_bind_blk(m, &l->down_exps, 0, 0, il, "ffn_down_exps.weight", F, E, X)) ||
        (rc = model_bind_blk(m, &l->b_down_exps, 1, 1, il, "ffn_down_exps.bias", E, X, 0)))
        return rc;
    if (S > 0 &&
        ((rc = model_bind_blk(m, &l->gate_shexp, 0, 0, il, "ffn_gate_shexp.weight", E, S, 0)) ||
         (rc = model_bind_blk(m, &l->up_shexp, 0, 0, il, "ffn_up_shexp.weight", E, S, 0)) ||
         (rc = model_bind_blk(m, &l->down_shexp, 0, 0, il, "ffn_down_shexp.weight", S, E, 0))))
        return rc;
    if (S > 0 && m->arch->shexp == SHEXP_GATED &&
        (rc = model_bind_blk(m, &l->gate_inp_shexp, 0, 0, il, "ffn_gate_inp_shexp.weight", E, 0,
                             0)))
        return rc;
    return 0;
}

/* Layer i's attention: q, k, v (fused or apart, biases optional), the output projection (and
 * bias), q/k norms, sinks. */
static int model_bind_attn(eng_model *m, int i) {
    const struct hparams *hp = &m->hp;
    const struct arch *a = m->arch;
    struct layer *l = &m->layers[i];
    const struct layer_hp *lh = &hp->l[i];
    const int64_t E = hp->n_embd, HD = lh->head_dim, Q = lh->n_embd_q, KV = lh->n_embd_kv;
    const int64_t QW = a->attn_gate ? 2 * Q : Q;   /* q rows, with the gate's */
    const int own_kv = !lh->kv_shared;   /* a layer reading another's cache needs only q */
    int rc;
    if ((rc = model_bind(m, &l->wo, 0, Q, E, "blk.%d.attn_output.weight", i)) ||
        (rc = model_bind(m, &l->bo, 1, E, 0, "blk.%d.attn_output.bias", i)))
        return rc;
    /* q, k, v: one fused matrix (with one bias, or three) or three, biases optional */
    if ((rc = model_bind(m, &l->wqkv, 1, E, QW + 2 * KV, "blk.%d.attn_qkv.weight", i)))
        return rc;
    if (l->wqkv.data) {
        if ((rc = model_bind(m, &l->bqkv, 1, QW + 2 * KV, 0, "blk.%d.attn_qkv.bias", i)))
            return rc;
    } else if ((rc = model_bind(m, &l->wq, 0, E, QW, "blk.%d.attn_q.weight", i)) ||
               (own_kv && (rc = model_bind(m, &l->wk, 0, E, KV, "blk.%d.attn_k.weight", i))) ||
               (own_kv && (rc = model_bind(m, &l->wv, a->v_optional, E, KV,
                                           "blk.%d.attn_v.weight", i)))) {
        return rc;
    }
    if (!l->bqkv.data &&
        ((rc = model_bind(m, &l->bq, 1, QW, 0, "blk.%d.attn_q.bias", i)) ||
         (own_kv && (rc = model_bind(m, &l->bk, 1, KV, 0, "blk.%d.attn_k.bias", i))) ||
         (own_kv && (rc = model_bind(m, &l->bv, 1, KV, 0, "blk.%d.attn_v.bias", i)))))
        return rc;
    if ((rc = model_bind(m, &l->sinks, 1, lh->n_head, 0, "blk.%d.attn_sinks.weight", i)))
        return rc;
    if (a->qk_norm &&
        ((rc = model_bind(m, &l->q_norm, 0, a->qk_norm == QKN_FULL ? Q : HD, 0,
                          "blk.%d.attn_q_norm.weight", i)) ||
         (own_kv && (rc = model_bind(m, &l->k_norm, 0, a->qk_norm == QKN_FULL ? KV : HD, 0,
                                     "blk.%d.attn_k_norm.weight", i)))))
        return rc;
    return 0;
}

/* Layer i's gated short convolution (LFM2). */
static int model_bind_shortconv(eng_model *m, int i) {
    struct layer *l = &m->layers[i];
    const int64_t E = m->hp.n_embd;
    int rc;
    if ((rc = model_bind(m, &l->sc_in, 0, E, 3 * E, "blk.%d.shortconv.in_proj.weight", i)) ||
        (rc = model_bind_blk(m, &l->sc_conv, 0, 1, i, "shortconv.conv.weight",
                             m->hp.shortconv_l, E, 0)) ||
        (rc = model_bind(m, &l->sc_out, 0, E, E, "blk.%d.shortconv.out_proj.weight", i)))
        return rc;
    return 0;
}

/* Layer i's gated DeltaNet (Qwen3.5): the q|k|v in-projection, the output gate, beta and
 * alpha, the convolution, dt bias, A, the per-head norm and the output projection. */
static int model_bind_deltanet(eng_model *m, int i) {
    struct layer *l = &m->layers[i];
    const struct hparams *hp = &m->hp;
    const int64_t E = hp->n_embd, C = hp->ssm.n_chan, DI = hp->ssm.d_inner, H = hp->ssm.n_head;
    int rc;
    if ((rc = model_bind_blk(m, &l->wqkv, 0, 0, i, "attn_qkv.weight", E, C, 0)) ||
        (rc = model_bind_blk(m, &l->ssm_gate, 0, 0, i, "attn_gate.weight", E, DI, 0)) ||
        (rc = model_bind_blk(m, &l->ssm_beta, 0, 0, i, "ssm_beta.weight", E, H, 0)) ||
        (rc = model_bind_blk(m, &l->ssm_alpha, 0, 0, i, "ssm_alpha.weight", E, H, 0)) ||
        (rc = model_bind_blk(m, &l->ssm_conv, 0, 1, i, "ssm_conv1d.weight", hp->ssm.d_conv, C,
                             0)) ||
        (rc = model_bind_blk(m, &l->ssm_dt_b, 0, 0, i, "ssm_dt.bias", H, 0, 0)) ||
        (rc = model_bind_blk(m, &l->ssm_a, 0, 0, i, "ssm_a", H, 0, 0)) ||
        (rc = model_bind_blk(m, &l->ssm_norm, 0, 0, i, "ssm_norm.weight", hp->ssm.d_state, 0,
                             0)) ||
        (rc = model_bind_blk(m, &l->ssm_out, 0, 0, i, "ssm_out.weight", DI, E, 0)))
        return rc;
    return 0;
}

/* Layer i's Mamba2 mixer (Granite 4.0-H): the z|xBC|dt in-projection, the convolution (bias
 * optional), dt bias, A and D (ne {1, heads}), the grouped norm and the output projection. */
static int model_bind_mamba2(eng_model *m, int i) {
    struct layer *l = &m->layers[i];
    const struct hparams *hp = &m->hp;
    const int64_t E = hp->n_embd, C = hp->ssm.n_chan, DI = hp->ssm.d_inner, H = hp->ssm.n_head,
                  G = hp->ssm.n_group;
    int rc;
    if ((rc = model_bind_blk(m, &l->ssm_in, 0, 0, i, "ssm_in.weight", E, hp->ssm.n_in, 0)) ||
        (rc = model_bind_blk(m, &l->ssm_conv, 0, 1, i, "ssm_conv1d.weight", hp->ssm.d_conv, C,
                             0)) ||
        (rc = model_bind_blk(m, &l->ssm_conv_b, 1, 0, i, "ssm_conv1d.bias", C, 0, 0)) ||
        (rc = model_bind_blk(m, &l->ssm_dt_b, 0, 0, i, "ssm_dt.bias", H, 0, 0)) ||
        (rc = model_bind_blk(m, &l->ssm_a, 0, 1, i, "ssm_a", 1, H, 0)) ||
        (rc = model_bind_blk(m, &l->ssm_d, 0, 1, i, "ssm_d", 1, H, 0)) ||
        (rc = model_bind_blk(m, &l->ssm_norm, 0, 1, i, "ssm_norm.weight", DI / G, G, 0)) ||
        (rc = model_bind_blk(m, &l->ssm_out, 0, 0, i, "ssm_out.weight", DI, E, 0)))
        return rc;
    return 0;
}

static int model_bind_all(eng_model *m, const struct eng_model_params *p) {
    const struct hparams *hp = &m->hp;
    const struct arch *a = m->arch;
    const int64_t E = hp->n_embd;
    int rc;
    const struct gguf_tensor *te = gguf_tensor_find(m->g, "token_embd.weight");
    if (!te)
        return eng_error(ENG_E_FORMAT, "tensor 'token_embd.weight' is missing");
    if (te->ne[1] < 1 || te->ne[1] > INT32_MAX)
        return eng_error(ENG_E_FORMAT, "tensor 'token_embd.weight': bad vocabulary size");
    m->hp.n_vocab = (int)te->ne[1];
    int64_t V = hp->n_vocab;
    if ((rc = model_bind(m, &m->tok_embd, 0, E, V, "token_embd.weight")) ||
        (rc = model_bind(m, &m->output_norm, 0, E, 0, "%s.weight",
                         a->out_norm ? a->out_norm : "output_norm")) ||
        (!a->tied_always &&
         (rc = model_bind(m, &m->output, !a->need_output, E, V, "output.weight"))) ||
        (rc = model_bind(m, &m->rope_freqs, 1, hp->n_rot / 2, 0, "rope_freqs.weight")) ||
        (hp->n_pl &&
         ((rc = model_bind(m, &m->pl_tok_embd, 0, (int64_t)hp->n_pl * hp->n_layer, V,
                           "per_layer_token_embd.weight")) ||
          (rc = model_bind(m, &m->pl_model_proj, 0, E, (int64_t)hp->n_pl * hp->n_layer,
                           "per_layer_model_proj.weight")) ||
          (rc = model_bind(m, &m->pl_proj_norm, 0, hp->n_pl, 0, "per_layer_proj_norm.weight")))) ||
        (rc = model_bind(m, &m->rope_long, 1, hp->n_rot / 2, 0, "rope_factors_long.weight")) ||
        (rc = model_bind(m, &m->rope_short, 1, hp->n_rot / 2, 0, "rope_factors_short.weight")))
        return rc;
    if (!m->output.data)
        m->output = m->tok_embd;   /* tied embeddings */
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers)
        return eng_error(ENG_E_NOMEM, "out of memory");
    for (int i = 0; i < hp->n_layer; i++) {
        struct layer *l = &m->layers[i];
        const struct layer_hp *lh = &hp->l[i];
        const int64_t F = lh->n_ff;
        const int pre = a->pre_norm, post = a->post_norm;
        if ((rc = model_bind(m, &l->attn_norm, !pre, E, 0, "blk.%d.attn_norm.weight", i)) ||
            (rc = model_bind(m, &l->ffn_norm, !pre, E, 0, "blk.%d.%s.weight", i,
                             a->ffn_norm_post ? "post_attention_norm" : "ffn_norm")) ||
            (!a->ffn_norm_post && (rc = model_bind(m, &l->post_attn_norm, !post, E, 0,
                             "blk.%d.post_attention_norm.weight", i))) ||
            (rc = model_bind(m, &l->post_ffn_norm, !post, E, 0, "blk.%d.post_ffw_norm.weight",
                             i)))
            return rc;
        if ((a->out_scale && (rc = model_bind(m, &l->out_scale, 1, 1, 0,
                                              "blk.%d.layer_output_scale.weight", i))) ||
            (hp->n_pl &&
             ((rc = model_bind(m, &l->pl_gate, 0, E, hp->n_pl, "blk.%d.inp_gate.weight", i)) ||
              (rc = model_bind(m, &l->pl_proj, 0, hp->n_pl, E, "blk.%d.proj.weight", i)) ||
              (rc = model_bind(m, &l->pl_norm, 0, E, 0, "blk.%d.post_norm.weight", i)))))
            return rc;
        rc = lh->kind == LAYER_SHORTCONV ? model_bind_shortconv(m, i)
             : lh->kind == LAYER_DELTANET ? model_bind_deltanet(m, i)
             : lh->kind == LAYER_MAMBA2   ? model_bind_mamba2(m, i)
                                          : model_bind_attn(m, i);
        if (rc)
            return rc;
        if (lh->n_expert > 0) {
            if ((rc = model_bind_moe(m, i)))
                return rc;
            goto next;
        }
        /* the gated FFN: ffn_gate + ffn_up, or one ffn_up of gate then up rows (Phi-3) */
        if ((rc = model_bind(m, &l->w_down, 0, F, E, "blk.%d.ffn_down.weight", i)) ||
            (rc = model_bind(m, &l->b_down, 1, E, 0, "blk.%d.ffn_down.bias", i)) ||
            (rc = model_bind(m, &l->w_gate, 1, E, F, "blk.%d.ffn_gate.weight", i)))
            return rc;
        if (!l->w_gate.data) {
            char nm[64];
            snprintf(nm, sizeof nm, "blk.%d.ffn_up.weight", i);
            const struct gguf_tensor *up = gguf_tensor_find(m->g, nm);
            if (up && up->ne[1] == F)
                return eng_error(ENG_E_FORMAT, "tensor 'blk.%d.ffn_gate.weight' is missing", i);
        }
        if ((rc = model_bind(m, &l->w_up, 0, E, l->w_gate.data ? F : 2 * F,
                             "blk.%d.ffn_up.weight", i)) ||
            (rc = model_bind(m, &l->b_up, 1, l->w_gate.data ? F : 2 * F, 0,
                             "blk.%d.ffn_up.bias", i)) ||
            (rc = model_bind(m, &l->b_gate, 1, F, 0, "blk.%d.ffn_gate.bias", i)))
            return rc;
        if (l->b_gate.data && !l->w_gate.data)
            return eng_error(ENG_E_FORMAT, "tensor 'blk.%d.ffn_gate.bias' without "
                             "'blk.%d.ffn_gate.weight'", i, i);
    next:
        if (p->progress)   /* binding is quick; repacking (model_repack) takes the rest */
            p->progress(0.05f * (float)(i + 1) / (float)hp->n_layer, p->progress_ud);
    }
    return 0;
}

/* ---- repacking (quant.h): the matrix weights of the types this CPU has repacked kernels for
 * are copied once into row-interleaved groups; the file's pages they came from are then
 * dropped, so memory stays about the file's size. ---- */

#define MODEL_LAYER_MATRICES 23

int model_n_matrices(const eng_model *m) { return 2 + MODEL_LAYER_MATRICES * m->hp.n_layer; }

struct tensor *model_matrix(eng_model *m, int i) {
    if (i == 0)
        return &m->output;
    if (i == 1)
        return &m->pl_model_proj;
    i--;
    struct layer *l = &m->layers[(i - 1) / MODEL_LAYER_MATRICES];
    struct tensor *ts[MODEL_LAYER_MATRICES] = {
        &l->wq, &l->wk, &l->wv, &l->wqkv, &l->wo, &l->w_gate, &l->w_up, &l->w_down,
        &l->router, &l->gate_exps, &l->up_exps, &l->gate_up_exps, &l->down_exps,
        &l->gate_shexp, &l->up_shexp, &l->down_shexp, &l->ssm_in, &l->ssm_gate, &l->ssm_beta,
        &l->ssm_alpha, &l->ssm_out, &l->pl_gate, &l->pl_proj};
    return ts[(i - 1) % MODEL_LAYER_MATRICES];
}

static double model_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct repack_job {
    eng_model *m;
    struct tensor **v;     /* the tensors to repack, each with its destination in dst[] */
    uint8_t **dst;
    int n;
    atomic_int next;
    atomic_llong done;     /* bytes of rows packed so far, of total */
    size_t total;
    const struct eng_model_params *p;
    pthread_t caller;      /* the loading thread: the only one that reports progress */
};

/* Takes tensors one at a time: packs its groups, drops the file pages they came from. */
static void *model_repack_worker(void *ud) {
    struct repack_job *j = ud;
    mapguard_thread_unblock();
    for (int i; (i = atomic_fetch_add(&j->next, 1)) < j->n;) {
        const struct tensor *t = j->v[i];
        const struct quant_repack *rp = t->rp;
        const size_t gb = rp->group_bytes((int)t->ne0);
        const int64_t rows = t->ne1 * t->ne2, ng = rows / QUANT_RP_ROWS; /* experts: ne1 % 16 == 0 */
        for (int64_t g = 0; g < ng; g++)
            rp->pack((const uint8_t *)t->data + (size_t)g * QUANT_RP_ROWS * t->row_bytes,
                     t->row_bytes, j->dst[i] + (size_t)g * gb, (int)t->ne0);
        gguf_advise_dontneed(j->m->g, t->data, (size_t)rows * t->row_bytes);
        const long long done = atomic_fetch_add(&j->done, (long long)ng * (long long)gb) +
                               (long long)ng * (long long)gb;
        if (j->p->progress && pthread_equal(pthread_self(), j->caller))
            j->p->progress(0.05f + 0.95f * (float)((double)done / (double)j->total),
                           j->p->progress_ud);
    }
    return NULL;
}

static int model_repack(eng_model *m, const struct eng_model_params *p) {
    const double t0 = model_now_ms();
    const int n = model_n_matrices(m);
    int k = 0;
    struct tensor **v = malloc((size_t)n * sizeof *v);
    uint8_t **dst = malloc((size_t)n * sizeof *dst);
    if (!v || !dst) {
        free(v), free(dst);
        return eng_error(ENG_E_NOMEM, "out of memory");
    }
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        struct tensor *t = model_matrix(m, i);
        const struct quant_repack *rp = quant_repack_get(t->type);
        /* tied embeddings are looked up as stored rows: left as they are */
        if (!t->data || (t == &m->output && t->data == m->tok_embd.data) || !rp ||
            t->ne1 % QUANT_RP_ROWS)
            continue;
        t->rp = rp;   /* data still the file's rows until the packing is done */
        v[k] = t;
        dst[k++] = (uint8_t *)total;   /* an offset until the buffer exists */
        total += (size_t)(t->ne1 / QUANT_RP_ROWS) * (size_t)t->ne2 *
                 rp->group_bytes((int)t->ne0);
    }
    if (total && !(m->rp_mem = sysmem_alloc_stream(total))) {
        free(v), free(dst);
        return eng_error(ENG_E_NOMEM, "out of memory repacking the weights (%zu MiB)",
                         total >> 20);
    }
    for (int i = 0; i < k; i++)
        dst[i] = (uint8_t *)m->rp_mem + (uintptr_t)dst[i];
    struct repack_job job = {m, v, dst, k, 0, 0, total, p, pthread_self()};
    pthread_t th[16];
    int nth = eng_cpu_physical_cores() - 1, started = 0;
    if (nth > 16)
        nth = 16;
    while (started < nth && started + 1 < k &&
           pthread_create(&th[started], NULL, model_repack_worker, &job) == 0)
        started++;
    model_repack_worker(&job);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < k; i++)
        v[i]->data = dst[i];
    free(v), free(dst);
    m->info.repacked_bytes = total;
    m->info.repack_ms = total ? model_now_ms() - t0 : 0.0;
    return 0;
}

/* ---- metadata strings and the summary ---- */

static int model_copy_meta(eng_model *m) {
    size_t bytes = 0;
    int n = 0;
    for (int64_t i = 0; i < gguf_n_kv(m->g); i++) {
        const struct gguf_kv *kv = gguf_kv_at(m->g, i);
        if (kv->type != GGUF_TYPE_STRING)
            continue;
        uint64_t len;
        memcpy(&len, kv->data, 8);
        bytes += (size_t)kv->key.len + 1 + (size_t)len + 1;
        n++;
    }
    m->meta_arena = malloc(bytes ? bytes : 1);
    m->meta_keys = calloc((size_t)n + 1, sizeof *m->meta_keys);
    m->meta_vals = calloc((size_t)n + 1, sizeof *m->meta_vals);
    if (!m->meta_arena || !m->meta_keys || !m->meta_vals)
        return eng_error(ENG_E_NOMEM, "out of memory");
    char *p = m->meta_arena;
    for (int64_t i = 0; i < gguf_n_kv(m->g); i++) {
        const struct gguf_kv *kv = gguf_kv_at(m->g, i);
        if (kv->type != GGUF_TYPE_STRING)
            continue;
        uint64_t len;
        memcpy(&len, kv->data, 8);
        m->meta_keys[m->n_meta] = p;
        memcpy(p, kv->key.p, (size_t)kv->key.len);
        p += kv->key.len;
        *p++ = '\0';
        m->meta_vals[m->n_meta++] = p;
        memcpy(p, kv->data + 8, (size_t)len);
        p += len;
        *p++ = '\0';
    }
    return 0;
}

const char *eng_model_meta_str(const eng_model *m, const char *key) {
    if (!m || !key)
        return NULL;
    for (int i = 0; i < m->n_meta; i++)
        if (!strcmp(m->meta_keys[i], key))
            return m->meta_vals[i];
    return NULL;
}

int eng_file_meta_str(const char *path, const char *key, size_t max_len, char **out) {
    *out = NULL;
    gguf *g;
    char err[256];
    int rc = gguf_open(path, &g, err, sizeof err);
    size_t n = strlen(path);
    if (rc != ENG_OK) /* the file named once: gguf's message may start with it */
        return strncmp(err, path, n) || err[n] != ':' ? eng_error(rc, "%s: %s", path, err)
                                                      : eng_error(rc, "%s", err);
    struct gguf_str s;
    if (gguf_get_str(g, key, &s) == 0) {
        if (s.len > max_len)
            rc = eng_error(ENG_E_FORMAT, "%s: %s: too large", path, key);
        else if (!(*out = malloc(s.len + 1)))
            rc = eng_error(ENG_E_NOMEM, "out of memory");
        else {
            memcpy(*out, s.p, s.len);
            (*out)[s.len] = 0;
        }
    }
    gguf_close(g);
    return rc;
}

static const char *ftype_name(uint32_t ft) {
    static const char *const names[] = {
        [0] = "F32", [1] = "F16", [2] = "Q4_0", [3] = "Q4_1", [7] = "Q8_0", [8] = "Q5_0",
        [9] = "Q5_1", [10] = "Q2_K", [11] = "Q3_K_S", [12] = "Q3_K_M", [13] = "Q3_K_L",
        [14] = "Q4_K_S", [15] = "Q4_K_M", [16] = "Q5_K_S", [17] = "Q5_K_M", [18] = "Q6_K",
        [19] = "IQ2_XXS", [20] = "IQ2_XS", [21] = "Q2_K_S", [22] = "IQ3_XS", [23] = "IQ3_XXS",
        [24] = "IQ1_S", [25] = "IQ4_NL", [26] = "IQ3_S", [27] = "IQ3_M", [28] = "IQ2_S",
        [29] = "IQ2_M", [30] = "IQ4_XS", [31] = "IQ1_M", [32] = "BF16",
        [33] = "Q4_0_4_4", [34] = "Q4_0_4_8", [35] = "Q4_0_8_8", [36] = "TQ1_0", [37] = "TQ2_0",
        [38] = "MXFP4_MOE", [39] = "NVFP4", [40] = "Q1_0", [41] = "Q2_0",
    };
    ft &= 0x3ff; /* the "guessed" flag is 1024 */
    return ft < sizeof names / sizeof names[0] && names[ft] ? names[ft] : "";
}

static void model_fill_info(eng_model *m, const char *path) {
    struct eng_model_info *in = &m->info;
    const uint64_t rp_bytes = in->repacked_bytes;
    const double rp_ms = in->repack_ms;
    memset(in, 0, sizeof *in);
    in->repacked_bytes = rp_bytes;
    in->repack_ms = rp_ms;
    const char *name = eng_model_meta_str(m, "general.name");
    if (!name || !*name) {
        name = strrchr(path, '/');
        name = name ? name + 1 : path;
    }
    snprintf(in->name, sizeof in->name, "%s", name);
    const char *arch = eng_model_meta_str(m, "general.architecture");
    snprintf(in->arch, sizeof in->arch, "%s", arch ? arch : "?");
    uint32_t ft;
    if (gguf_get_u32(m->g, "general.file_type", &ft) == 0)
        snprintf(in->ftype, sizeof in->ftype, "%s", ftype_name(ft));
    /* bytes per type, listed by share */
    uint64_t bytes[GGML_TYPE_COUNT] = {0};
    for (int64_t i = 0; i < gguf_n_tensors(m->g); i++) {
        const struct gguf_tensor *t = gguf_tensor_at(m->g, i);
        int64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        in->n_params += n;
        if (t->type < GGML_TYPE_COUNT)
            bytes[t->type] += t->nbytes;
    }
    size_t len = 0;
    for (;;) {
        int best = -1;
        for (int t = 0; t < GGML_TYPE_COUNT; t++)
            if (bytes[t] && (best < 0 || bytes[t] > bytes[best]))
                best = t;
        if (best < 0)
            break;
        const struct quant_traits *tr = quant_traits_get((uint32_t)best);
        int w = snprintf(in->types + len, sizeof in->types - len, "%s%s", len ? "," : "",
                         tr && tr->name ? tr->name : "?");
        if (w < 0 || (size_t)w >= sizeof in->types - len)
            break;
        len += (size_t)w;
        bytes[best] = 0;
    }
    in->file_size = gguf_file_size(m->g);
    in->n_ctx_train = m->hp.n_ctx_train;
    in->n_embd = m->hp.n_embd;
    in->n_layer = m->hp.n_layer;
    /* the first attention layer's heads (a hybrid's first layer may be recurrent) */
    int ia = 0;
    while (m->hp.l && ia + 1 < m->hp.n_layer && m->hp.l[ia].kind != LAYER_ATTN)
        ia++;
    in->n_head = m->hp.l ? m->hp.l[ia].n_head : 0;
    in->n_head_kv = m->hp.l ? m->hp.l[ia].n_head_kv : 0;
    in->n_ff = m->hp.l ? m->hp.l[0].n_ff : 0;
    in->n_vocab = m->hp.n_vocab;
    in->has_chat_template = eng_model_meta_str(m, "tokenizer.chat_template") != NULL;
    in->n_ctx_orig = m->hp.n_ctx_orig ? m->hp.n_ctx_orig : m->hp.n_ctx_train;
    in->n_swa = m->hp.n_swa;
    const struct rope_cfg *rg = &m->hp.rope[0];
    if (m->hp.l && rg->ext_factor != 0.0f)
        snprintf(in->rope_scaling, sizeof in->rope_scaling, "yarn");
    else if (m->hp.l && (m->rope_long.data || m->rope_short.data))
        snprintf(in->rope_scaling, sizeof in->rope_scaling, "longrope");
    else if (m->hp.l && rg->freq_scale != 1.0f)
        snprintf(in->rope_scaling, sizeof in->rope_scaling, "linear");
}

void eng_model_info_get(const eng_model *m, struct eng_model_info *out) { *out = m->info; }

static const char *arch_list(void) {
    static char buf[512];
    if (!buf[0]) {
        size_t len = 0;
        for (size_t i = 0; i < N_ARCH && len < sizeof buf; i++) {
            int w = snprintf(buf + len, sizeof buf - len, "%s%s", i ? ", " : "",
                             arch_table[i].name);
            len += w > 0 ? (size_t)w : 0;
        }
    }
    return buf;
}

int eng_model_load(const char *path, const struct eng_model_params *p, eng_model **out) {
    struct eng_model_params def = eng_model_default_params();
    char err[384];
    if (!out || !path)
        return eng_error(ENG_E_ARG, "eng_model_load: NULL argument");
    *out = NULL;
    if (!p)
        p = &def;
    eng_model *m = calloc(1, sizeof *m);
    if (!m)
        return eng_error(ENG_E_NOMEM, "out of memory");
    int rc = gguf_open(path, &m->g, err, sizeof err);
    if (rc) {
        free(m);
        return eng_error(rc, "%s", err);
    }
    if ((rc = model_copy_meta(m)))
        goto fail;
    const char *arch = eng_model_meta_str(m, "general.architecture");
    for (size_t i = 0; arch && i < N_ARCH; i++)
        if (!strcmp(arch, arch_table[i].name))
            m->arch = &arch_table[i];
    if (!p->vocab_only) {
        if (!arch) {
            rc = eng_error(ENG_E_FORMAT, "metadata 'general.architecture' is missing");
            goto fail;
        }
        if (!m->arch) {
            rc = eng_error(ENG_E_UNSUPPORTED, "architecture '%.40s' is not supported "
                           "(supported: %s)", arch, arch_list());
            goto fail;
        }
        if ((rc = model_load_hparams(m)) || (rc = model_bind_all(m, p)))
            goto fail;
        /* every token reads all the weights: refuse what cannot stay in memory (sysmem.h) */
        if (sysmem_check(gguf_file_size(m->g), "the model", err, sizeof err)) {
            rc = eng_error(ENG_E_NOMEM, "%s", err);
            goto fail;
        }
        /* the weights are read in full on every token: ask for them early */
        gguf_advise_willneed(m->g);
        if (!p->no_repack && (rc = model_repack(m, p)))
            goto fail;
        if (p->progress)
            p->progress(1.0f, p->progress_ud);
    } else if (m->arch) {
        /* best effort: a vocab-only file may lack the hyper-parameters */
        if (model_load_hparams(m)) {
            free(m->hp.l);
            memset(&m->hp, 0, sizeof m->hp);
        }
    }
    if ((rc = vocab_load(m->g, &m->vocab, err, sizeof err))) {
        rc = eng_error(rc, "%s", err);
        goto fail;
    }
    /* logits and embeddings have n_vocab rows: a token id past them would read out of bounds */
    if (!p->vocab_only && m->hp.n_vocab && eng_vocab_size(m) != m->hp.n_vocab) {
        rc = eng_error(ENG_E_FORMAT, "the tokenizer has %d tokens but tensor "
                       "'token_embd.weight' has %d rows", eng_vocab_size(m), m->hp.n_vocab);
        goto fail;
    }
    if (p->vocab_only || !m->hp.n_vocab)
        m->hp.n_vocab = eng_vocab_size(m);
    model_fill_info(m, path);
    if (gguf_broken(m->g)) { /* a fault was absorbed while the weights were read or repacked */
        rc = eng_error(ENG_E_CHANGED, "%s: the model file changed on disk while it was read",
                       path);
        goto fail;
    }
    *out = m;
    return ENG_OK;
fail:
    eng_model_free(m);
    return rc;
}

int eng_model_check(const eng_model *m) {
    if (m && gguf_file_changed(m->g))
        return eng_error(ENG_E_CHANGED, "the model file changed on disk: reload it");
    return ENG_OK;
}

void eng_model_free(eng_model *m) {
    if (!m)
        return;
    vocab_free(m->vocab);
    free(m->layers);
    free(m->hp.l);
    free(m->rp_mem);
    free(m->meta_arena);
    free(m->meta_keys);
    free(m->meta_vals);
    gguf_close(m->g);
    free(m);
}
