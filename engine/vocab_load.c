/* engine/vocab_load.c — reading and validating a GGUF's tokenizer.ggml.* metadata into a
 * vocab (vocab_load, tokenizer.h): the token texts, scores and types, the merges, the kind of
 * tokenizer and its pre-tokenizer (engine/tokenizer_pre.c), the special and end-of-generation
 * tokens by llama.cpp's rules (llama-vocab.cpp). Errors: an ENG_E_* code and a one-line
 * message in err. Called once per model load, from the loading thread. */
#include "tokenizer.h"

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "tokenizer_impl.h"
#include "tokenizer_pre.h"
#include "unicode.h"

static void vocab_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void vocab_err(char *err, size_t err_len, const char *fmt, ...) {
    if (!err || !err_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static int vocab_load_id(const gguf *g, const char *key, int32_t n, int strict, int32_t *id,
                         char *err, size_t err_len) {
    int64_t val;
    int rc = gguf_get_i64(g, key, &val);
    if (rc == -1)
        return 0;
    if (rc != 0) {
        vocab_err(err, err_len, "%s: not an integer", key);
        return -1;
    }
    if (val == -1 || val == (int64_t)UINT32_MAX) {
        *id = -1; /* llama.cpp's "no such token", as stories260K stores its separator */
        return 0;
    }
    if (val < 0 || val >= n) {
        if (!strict)
            return 0;
        vocab_err(err, err_len, "%s = %lld is out of range (vocab has %d tokens)", key,
                  (long long)val, (int)n);
        return -1;
    }
    *id = (int32_t)val;
    return 0;
}

static int vocab_load_bool(const gguf *g, const char *key, int *out, char *err, size_t err_len) {
    int b, rc = gguf_get_bool(g, key, &b);
    if (rc == -1)
        return 0;
    if (rc != 0) {
        vocab_err(err, err_len, "%s: not a boolean", key);
        return -1;
    }
    *out = b != 0;
    return 0;
}

/* Sort key for the special tokens: longest text first, then lower id. */
struct vocab_special_key {
    uint32_t len;
    int32_t id;
};

static int vocab_cmp_special(const void *a, const void *b) {
    const struct vocab_special_key *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static void vocab_set_attr_by_text(struct vocab *v, const char *text, unsigned bit, int on) {
    int32_t id = vocab_find(v, text, strlen(text));
    if (id < 0)
        return;
    if (on)
        v->attr[id] |= (uint16_t)bit;
    else
        v->attr[id] &= (uint16_t)~bit;
}

/* The id of the token with this text if it is in the EOG set, else -1. */
static int32_t vocab_eog_id(const struct vocab *v, const char *text) {
    int32_t id = vocab_find(v, text, strlen(text));
    return id >= 0 && (v->attr[id] & VOCAB_ATTR_EOG) ? id : -1;
}

/* Sets CONTROL on a token llama.cpp finds by its text and treats as special. */
static void vocab_force_control(struct vocab *v, int32_t id) {
    if (id >= 0)
        v->attr[id] |= VOCAB_ATTR_CONTROL;
}

/* The first token (in the order given) with one of the texts, -1 if none. */
static int32_t vocab_find_any(const struct vocab *v, const char *const *texts, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int32_t id = vocab_find(v, texts[i], strlen(texts[i]));
        if (id >= 0)
            return id;
    }
    return -1;
}

#define VOCAB_FIND_ANY(v, a) vocab_find_any((v), (a), sizeof(a) / sizeof((a)[0]))
#define VOCAB_DS_EOS ("<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>")

/* llama.cpp's special-token rules (llama_vocab::impl::load, "auto-detect special tokens by
 * text" up to the EOG workarounds): EOT/EOM/FIM tokens found by text when the GGUF names none
 * (and made CONTROL), "unused" control tokens, the end-of-generation set, gpt-oss's always
 * rendered tokens, and the o200k-harmony / gemma4 exceptions. Where llama.cpp picks "the
 * first" of several texts in hash-map order, natter takes the first in its list. */
static void vocab_special_rules(struct vocab *v) {
    static const char *const eot_texts[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
        "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", VOCAB_DS_EOS, "<end_of_utterance>",
    };
    static const char *const fim_pre[] = {
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>",
        "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>",
    };
    static const char *const fim_suf[] = {
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>",
        "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>",
    };
    static const char *const fim_mid[] = {
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>",
        "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>",
    };
    static const char *const fim_pad[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"};
    static const char *const fim_rep[] = {
        "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>",
    };
    static const char *const fim_sep[] = {"<|file_sep|>"};
    static const char *const eog_texts[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
        "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>",
        "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
        "<|tool_response>", VOCAB_DS_EOS, "[e~[",
    };
    static const char *const always_rendered[] = {
        "<|channel|>", "<|message|>", "<|start|>", "<|constrain|>",
    };
    int32_t *ids[] = {&v->eot, &v->fim_pre, &v->fim_suf, &v->fim_mid, &v->fim_pad, &v->fim_rep,
                      &v->fim_sep};
    const char *const *lists[] = {eot_texts, fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep};
    size_t lens[] = {sizeof eot_texts / sizeof eot_texts[0], sizeof fim_pre / sizeof fim_pre[0],
                     sizeof fim_suf / sizeof fim_suf[0],     sizeof fim_mid / sizeof fim_mid[0],
                     sizeof fim_pad / sizeof fim_pad[0],     sizeof fim_rep / sizeof fim_rep[0],
                     sizeof fim_sep / sizeof fim_sep[0]};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        if (*ids[k] < 0) {
            *ids[k] = vocab_find_any(v, lists[k], lens[k]);
            vocab_force_control(v, *ids[k]);
        }
    }
    if (v->eom < 0) {
        v->eom = vocab_find(v, "<|eom_id|>", 10);
        vocab_force_control(v, v->eom);
    }
    for (int32_t i = 0; i < v->n_tokens; i++)
        if ((v->attr[i] & VOCAB_ATTR_CONTROL) && v->text_len[i] >= 6 &&
            strstr(vocab_text(v, i), "unused"))
            v->attr[i] |= VOCAB_ATTR_UNUSED;

    int32_t fim_ends[3] = {v->fim_pad, v->fim_rep, v->fim_sep};
    for (int i = 0; i < 3; i++)
        if (fim_ends[i] >= 0)
            v->attr[fim_ends[i]] |= VOCAB_ATTR_EOG;
    for (size_t i = 0; i < sizeof eog_texts / sizeof eog_texts[0]; i++) {
        int32_t id = vocab_find(v, eog_texts[i], strlen(eog_texts[i]));
        if (id >= 0)
            v->attr[id] |= VOCAB_ATTR_EOG | VOCAB_ATTR_CONTROL;
    }
    for (size_t i = 0; i < sizeof always_rendered / sizeof always_rendered[0]; i++) {
        int32_t id = vocab_find(v, always_rendered[i], strlen(always_rendered[i]));
        if (id >= 0)
            v->attr[id] = (uint16_t)((v->attr[id] & VOCAB_ATTR_EOG) | VOCAB_ATTR_USER);
    }
    int32_t ends[3] = {v->eos, v->eot, v->eom};
    for (int i = 0; i < 3; i++)
        if (ends[i] >= 0)
            v->attr[ends[i]] |= VOCAB_ATTR_EOG;

    /* o200k-harmony (gpt-oss) and solar-open end a message with <|end|> but a generation with
     * <|return|> / <|call|>: <|end|> is then not EOG, and is rendered */
#define VOCAB_EOG_ID(t) vocab_eog_id(v, (t))
    int32_t end = VOCAB_EOG_ID("<|end|>");
    int has_call = VOCAB_EOG_ID("<|call|>") >= 0 || VOCAB_EOG_ID("<|calls|>") >= 0;
    if (end >= 0 && has_call &&
        (VOCAB_EOG_ID("<|return|>") >= 0 || VOCAB_EOG_ID("<|flush|>") >= 0))
        v->attr[end] = VOCAB_ATTR_USER;
    /* gemma4 (and paddleocr): </s> is not EOG when <|tool_response> is */
    int32_t s_end = VOCAB_EOG_ID("</s>");
    if (s_end >= 0 && VOCAB_EOG_ID("<|tool_response>") >= 0)
        v->attr[s_end] = VOCAB_ATTR_NORMAL;
#undef VOCAB_EOG_ID
}

static int vocab_load_merges(struct vocab *v, const gguf *g, char *err, size_t err_len) {
    uint32_t at;
    uint64_t n;
    const uint8_t *data;
    int rc = gguf_get_arr(g, "tokenizer.ggml.merges", &at, &n, &data);
    if (rc == -1 && v->pre && (pre_flags(v->pre) & PRE_NO_MERGES))
        return ENG_OK; /* kimi-k2: llama.cpp runs it without merges */
    if (rc == -1) {
        vocab_err(err, err_len, "tokenizer.ggml.merges is missing (needed by a BPE tokenizer)");
        return ENG_E_FORMAT;
    }
    if (rc != 0 || at != GGUF_TYPE_STRING) {
        vocab_err(err, err_len, "tokenizer.ggml.merges: not an array of strings");
        return ENG_E_FORMAT;
    }
    if (n > (uint64_t)INT32_MAX) {
        vocab_err(err, err_len, "tokenizer.ggml.merges: %llu entries is too many",
                  (unsigned long long)n);
        return ENG_E_FORMAT;
    }
    struct gguf_str *m = malloc(sizeof *m * (size_t)(n ? n : 1));
    if (!m) {
        vocab_err(err, err_len, "out of memory reading tokenizer.ggml.merges");
        return ENG_E_NOMEM;
    }
    if (gguf_get_arr_str(g, "tokenizer.ggml.merges", m, n) != 0) {
        free(m);
        vocab_err(err, err_len, "tokenizer.ggml.merges: unreadable");
        return ENG_E_FORMAT;
    }
    size_t cap = vocab_pow2_at_least((size_t)n + (size_t)n / 2 + 1);
    v->merge_key = malloc(sizeof *v->merge_key * cap);
    v->merge_rank = malloc(sizeof *v->merge_rank * cap);
    if (!v->merge_key || !v->merge_rank) {
        free(m);
        vocab_err(err, err_len, "out of memory for %llu merges", (unsigned long long)n);
        return ENG_E_NOMEM;
    }
    memset(v->merge_key, 0xFF, sizeof *v->merge_key * cap);
    v->merge_mask = cap - 1;
    for (uint64_t i = 0; i < n; i++) {
        const char *s = m[i].p;
        size_t len = (size_t)m[i].len, sp = 1;
        while (sp < len && s[sp] != ' ')
            sp++;
        if (sp >= len) {
            vocab_err(err, err_len, "tokenizer.ggml.merges: entry %llu '%.*s' is not a pair",
                      (unsigned long long)i, (int)(len > 40 ? 40 : len), s);
            free(m);
            return ENG_E_FORMAT;
        }
        int32_t l = vocab_find(v, s, sp), r = vocab_find(v, s + sp + 1, len - sp - 1);
        if (l >= 0 && r >= 0)
            vocab_merge_insert(v, l, r, (int32_t)i);
    }
    free(m);
    return ENG_OK;
}

/* Copies the n token texts t (GGUF strings, borrowed) into v's arena, NUL after each. */
static int vocab_store_texts(struct vocab *v, const struct gguf_str *t, uint64_t n, char *err,
                             size_t err_len) {
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (t[i].len > (1u << 20)) {
            vocab_err(err, err_len, "token %llu: text of %llu bytes is too long",
                      (unsigned long long)i, (unsigned long long)t[i].len);
            return ENG_E_FORMAT;
        }
        total += t[i].len + 1;
    }
    if (total > UINT32_MAX) {
        vocab_err(err, err_len, "tokenizer.ggml.tokens: texts too large");
        return ENG_E_FORMAT;
    }
    v->arena = malloc((size_t)total);
    if (!v->arena) {
        vocab_err(err, err_len, "out of memory for token texts");
        return ENG_E_NOMEM;
    }
    size_t off = 0;
    for (uint64_t i = 0; i < n; i++) {
        v->text_off[i] = (uint32_t)off;
        v->text_len[i] = (uint32_t)t[i].len;
        if (t[i].len)
            memcpy(v->arena + off, t[i].p, (size_t)t[i].len);
        off += (size_t)t[i].len;
        v->arena[off++] = 0;
    }
    return ENG_OK;
}

/* tokenizer.ggml.tokens: the texts into one arena, the per-token arrays allocated, the hash
 * of the texts built. */
static int vocab_load_texts(struct vocab *v, const gguf *g, char *err, size_t err_len) {
    uint32_t at;
    uint64_t n;
    const uint8_t *data;
    int rc = gguf_get_arr(g, "tokenizer.ggml.tokens", &at, &n, &data);
    if (rc == -1) {
        vocab_err(err, err_len, "tokenizer.ggml.tokens is missing");
        return ENG_E_FORMAT;
    }
    if (rc != 0 || at != GGUF_TYPE_STRING) {
        vocab_err(err, err_len, "tokenizer.ggml.tokens: not an array of strings");
        return ENG_E_FORMAT;
    }
    if (n == 0 || n > (uint64_t)INT32_MAX / 2) {
        vocab_err(err, err_len, "tokenizer.ggml.tokens: %llu tokens is not a vocabulary",
                  (unsigned long long)n);
        return ENG_E_FORMAT;
    }
    v->n_tokens = (int32_t)n;
    struct gguf_str *t = malloc(sizeof *t * (size_t)n);
    v->text_off = malloc(sizeof *v->text_off * (size_t)n);
    v->text_len = malloc(sizeof *v->text_len * (size_t)n);
    v->scores = calloc((size_t)n, sizeof *v->scores);
    v->attr = malloc(sizeof *v->attr * (size_t)n);
    v->byte_val = malloc(sizeof *v->byte_val * (size_t)n);
    size_t hcap = vocab_pow2_at_least((size_t)n + (size_t)n / 2 + 1);
    v->hash = calloc(hcap, sizeof *v->hash);
    v->hash_mask = hcap - 1;
    if (!t || !v->text_off || !v->text_len || !v->scores || !v->attr || !v->byte_val || !v->hash) {
        free(t);
        vocab_err(err, err_len, "out of memory for %llu tokens", (unsigned long long)n);
        return ENG_E_NOMEM;
    }
    if (gguf_get_arr_str(g, "tokenizer.ggml.tokens", t, n) != 0) {
        free(t);
        vocab_err(err, err_len, "tokenizer.ggml.tokens: unreadable");
        return ENG_E_FORMAT;
    }
    rc = vocab_store_texts(v, t, n, err, err_len);
    free(t);
    if (rc != ENG_OK)
        return rc;
    for (int32_t i = 0; i < v->n_tokens; i++)
        if (v->text_len[i])
            vocab_hash_insert(v, i);
    return ENG_OK;
}

/* tokenizer.ggml.scores: optional float32[n] (zeros without). */
static int vocab_load_scores(struct vocab *v, const gguf *g, char *err, size_t err_len) {
    uint32_t at;
    uint64_t n;
    const uint8_t *data;
    int rc = gguf_get_arr(g, "tokenizer.ggml.scores", &at, &n, &data);
    if (rc == 0) {
        if (at != GGUF_TYPE_FLOAT32 || n != (uint64_t)v->n_tokens) {
            vocab_err(err, err_len, "tokenizer.ggml.scores: expected %d float32 values",
                      (int)v->n_tokens);
            return ENG_E_FORMAT;
        }
        memcpy(v->scores, data, sizeof(float) * (size_t)n);
    } else if (rc != -1) {
        vocab_err(err, err_len, "tokenizer.ggml.scores: not an array");
        return ENG_E_FORMAT;
    }
    return ENG_OK;
}

/* tokenizer.ggml.token_type: optional int32[n], llama.cpp's 0..6 (all normal without). */
static int vocab_load_types(struct vocab *v, const gguf *g, char *err, size_t err_len) {
    uint32_t at;
    uint64_t n;
    const uint8_t *data;
    int rc = gguf_get_arr(g, "tokenizer.ggml.token_type", &at, &n, &data);
    if (rc == 0) {
        if ((at != GGUF_TYPE_INT32 && at != GGUF_TYPE_UINT32) || n != (uint64_t)v->n_tokens) {
            vocab_err(err, err_len, "tokenizer.ggml.token_type: expected %d int32 values",
                      (int)v->n_tokens);
            return ENG_E_FORMAT;
        }
        static const uint16_t attr_of_type[7] = {
            VOCAB_ATTR_UNDEFINED, VOCAB_ATTR_NORMAL, VOCAB_ATTR_UNKNOWN, VOCAB_ATTR_CONTROL,
            VOCAB_ATTR_USER, VOCAB_ATTR_UNUSED, VOCAB_ATTR_BYTE,
        };
        for (int32_t i = 0; i < v->n_tokens; i++) {
            int32_t ty;
            memcpy(&ty, data + 4 * (size_t)i, 4);
            if (ty < 0 || ty > 6) {
                vocab_err(err, err_len, "tokenizer.ggml.token_type: token %d has type %d (0..6)",
                          (int)i, (int)ty);
                return ENG_E_FORMAT;
            }
            v->attr[i] = attr_of_type[ty];
        }
    } else if (rc == -1) {
        for (int32_t i = 0; i < v->n_tokens; i++)
            v->attr[i] = VOCAB_ATTR_NORMAL;
    } else {
        vocab_err(err, err_len, "tokenizer.ggml.token_type: not an array");
        return ENG_E_FORMAT;
    }
    return ENG_OK;
}

/* The byte tokens "<0xXX>": their byte value, -1 for the other tokens. */
static void vocab_mark_bytes(struct vocab *v) {
    for (int32_t i = 0; i < v->n_tokens; i++) {
        v->byte_val[i] = -1;
        const char *s = vocab_text(v, i);
        if (v->text_len[i] == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>' &&
            isxdigit((unsigned char)s[3]) && isxdigit((unsigned char)s[4]))
            v->byte_val[i] = (int16_t)strtol(s + 3, NULL, 16);
    }
}

/* The tokens: texts, scores, types, byte values. */
static int vocab_load_tokens(struct vocab *v, const gguf *g, char *err, size_t err_len) {
    int rc = vocab_load_texts(v, g, err, err_len);
    if (rc == ENG_OK)
        rc = vocab_load_scores(v, g, err, err_len);
    if (rc == ENG_OK)
        rc = vocab_load_types(v, g, err, err_len);
    if (rc == ENG_OK)
        vocab_mark_bytes(v);
    return rc;
}

/* tokenizer.ggml.model and tokenizer.ggml.pre: the kind of tokenizer and its pre-tokenizer.
 * "gemma4" is a BPE whose pre-tokenizer is always gemma4 (llama.cpp ignores the pre key). */
static int vocab_load_kind(struct vocab *v, const gguf *g, char *err, size_t err_len) {
    struct gguf_str s;
    int rc = gguf_get_str(g, "tokenizer.ggml.model", &s);
    if (rc == -1) {
        vocab_err(err, err_len, "tokenizer.ggml.model is missing (the file has no tokenizer)");
        return ENG_E_FORMAT;
    }
    if (rc != 0) {
        vocab_err(err, err_len, "tokenizer.ggml.model: not a string");
        return ENG_E_FORMAT;
    }
    const char *pre = NULL;
    size_t pre_len = 0;
    if (s.len == 5 && memcmp(s.p, "llama", 5) == 0) {
        v->type = VOCAB_SPM;
    } else if (s.len == 4 && memcmp(s.p, "gpt2", 4) == 0) {
        v->type = VOCAB_BPE;
        pre = "default";
        pre_len = 7;
    } else if (s.len == 6 && memcmp(s.p, "gemma4", 6) == 0) {
        v->type = VOCAB_BPE;
        pre = "gemma4";
        pre_len = 6;
    } else {
        vocab_err(err, err_len,
                  "tokenizer model '%.*s' is not supported (supported: llama, gpt2, gemma4)",
                  (int)(s.len > 64 ? 64 : s.len), s.p);
        return ENG_E_UNSUPPORTED;
    }
    struct gguf_str ps;
    rc = gguf_get_str(g, "tokenizer.ggml.pre", &ps);
    if (rc != 0 && rc != -1) {
        vocab_err(err, err_len, "tokenizer.ggml.pre: not a string");
        return ENG_E_FORMAT;
    }
    if (v->type != VOCAB_BPE)
        return ENG_OK; /* llama.cpp: only BPE models have pre-tokenizers */
    if (rc == 0 && ps.len > 0 && strcmp(pre, "gemma4") != 0) {
        pre = ps.p;
        pre_len = (size_t)ps.len;
    }
    rc = pre_load(pre, pre_len, &v->pre, err, err_len);
    if (rc == ENG_OK)
        v->pre_fl = pre_flags(v->pre);
    return rc;
}

/* The special token ids and add_* flags: llama.cpp's defaults for the model kind, then the
 * GGUF keys. */
static int vocab_load_ids(struct vocab *v, const gguf *g, char *err, size_t err_len) {
    int32_t n = v->n_tokens;
    v->eot = v->eom = v->sep = v->pad = -1;
    v->fim_pre = v->fim_suf = v->fim_mid = v->fim_pad = v->fim_rep = v->fim_sep = -1;
    if (v->type == VOCAB_SPM) {
        v->bos = n > 1 ? 1 : -1;
        v->eos = n > 2 ? 2 : -1;
        v->unk = 0;
        v->add_space_prefix = 1;
        v->add_bos = 1;
    } else if (strcmp(pre_name(v->pre), "gemma4") == 0 || (v->pre_fl & PRE_NO_BOS)) {
        v->bos = -1;
        v->eos = strcmp(pre_name(v->pre), "gemma4") == 0 || n <= 11 ? -1 : 11;
        v->unk = -1;
        v->add_bos = (v->pre_fl & PRE_ADD_BOS) != 0;
    } else {
        v->bos = v->eos = n > 11 ? 11 : -1;
        v->unk = -1;
        v->add_bos = (v->pre_fl & PRE_ADD_BOS) != 0;
    }
    static const struct {
        const char *key;
        size_t off;
        int strict;
    } keys[] = {
        {"tokenizer.ggml.bos_token_id", offsetof(struct vocab, bos), 1},
        {"tokenizer.ggml.eos_token_id", offsetof(struct vocab, eos), 1},
        {"tokenizer.ggml.eot_token_id", offsetof(struct vocab, eot), 1},
        {"tokenizer.ggml.eom_token_id", offsetof(struct vocab, eom), 1},
        {"tokenizer.ggml.unknown_token_id", offsetof(struct vocab, unk), 1},
        {"tokenizer.ggml.seperator_token_id", offsetof(struct vocab, sep), 0},
        {"tokenizer.ggml.padding_token_id", offsetof(struct vocab, pad), 0},
        {"tokenizer.ggml.fim_pre_token_id", offsetof(struct vocab, fim_pre), 0},
        {"tokenizer.ggml.fim_suf_token_id", offsetof(struct vocab, fim_suf), 0},
        {"tokenizer.ggml.fim_mid_token_id", offsetof(struct vocab, fim_mid), 0},
        {"tokenizer.ggml.fim_pad_token_id", offsetof(struct vocab, fim_pad), 0},
        {"tokenizer.ggml.fim_rep_token_id", offsetof(struct vocab, fim_rep), 0},
        {"tokenizer.ggml.fim_sep_token_id", offsetof(struct vocab, fim_sep), 0},
        {"tokenizer.ggml.prefix_token_id", offsetof(struct vocab, fim_pre), 0},
        {"tokenizer.ggml.suffix_token_id", offsetof(struct vocab, fim_suf), 0},
        {"tokenizer.ggml.middle_token_id", offsetof(struct vocab, fim_mid), 0},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (vocab_load_id(g, keys[i].key, n, keys[i].strict,
                          (int32_t *)(void *)((char *)v + keys[i].off), err, err_len))
            return ENG_E_FORMAT;
    if (vocab_load_bool(g, "tokenizer.ggml.add_bos_token", &v->add_bos, err, err_len) ||
        vocab_load_bool(g, "tokenizer.ggml.add_eos_token", &v->add_eos, err, err_len) ||
        vocab_load_bool(g, "tokenizer.ggml.add_space_prefix", &v->add_space_prefix, err,
                        err_len))
        return ENG_E_FORMAT;
    if (v->pre_fl & PRE_FORCE_BOS)
        v->add_bos = 1; /* llama.cpp's workaround for Gemma 4 */
    if (v->add_bos && v->bos < 0)
        v->add_bos = 0;
    if (v->add_eos && v->eos < 0)
        v->add_eos = 0;
    return ENG_OK;
}

/* llama.cpp's cache_special_tokens: control/user/unknown tokens, longest text first. */
static int vocab_build_specials(struct vocab *v) {
    int32_t n = v->n_tokens;
    v->specials = malloc(sizeof *v->specials * (size_t)n);
    struct vocab_special_key *keys = malloc(sizeof *keys * (size_t)n);
    if (!v->specials || !keys) {
        free(keys);
        return ENG_E_NOMEM;
    }
    for (int32_t i = 0; i < n; i++)
        if ((v->attr[i] & (VOCAB_ATTR_CONTROL | VOCAB_ATTR_USER | VOCAB_ATTR_UNKNOWN)) &&
            v->text_len[i] > 0)
            keys[v->n_specials++] = (struct vocab_special_key){v->text_len[i], i};
    qsort(keys, (size_t)v->n_specials, sizeof *keys, vocab_cmp_special);
    for (int i = 0; i < v->n_specials; i++)
        v->specials[i] = keys[i].id;
    free(keys);
    return ENG_OK;
}

/* llama.cpp's per-model token attributes, keyed on general.name / the pre name: Phi-3 strips
 * the whitespace after its special tokens; jina-v2's <mask> strips the whitespace before. */
static void vocab_name_rules(struct vocab *v, const gguf *g) {
    struct gguf_str s;
    const char *pn = v->pre ? pre_name(v->pre) : "";
    if (!strcmp(pn, "jina-v2-es") || !strcmp(pn, "jina-v2-de") || !strcmp(pn, "jina-v2-code")) {
        vocab_set_attr_by_text(v, "<mask>", VOCAB_ATTR_LSTRIP, 1);
        return;
    }
    if (gguf_get_str(g, "general.name", &s) != 0)
        return;
    char name[128];
    size_t k = s.len < sizeof name - 1 ? (size_t)s.len : sizeof name - 1;
    for (size_t i = 0; i < k; i++)
        name[i] = (char)tolower((unsigned char)s.p[i]);
    name[k] = 0;
    if (strstr(name, "phi-3") || strstr(name, "phi3")) {
        for (int i = 0; i < v->n_specials; i++)
            v->attr[v->specials[i]] |= VOCAB_ATTR_RSTRIP;
        vocab_set_attr_by_text(v, "</s>", VOCAB_ATTR_RSTRIP, 1);
        vocab_set_attr_by_text(v, "<unk>", VOCAB_ATTR_RSTRIP, 0);
        vocab_set_attr_by_text(v, "<s>", VOCAB_ATTR_RSTRIP, 0);
        vocab_set_attr_by_text(v, "<|endoftext|>", VOCAB_ATTR_RSTRIP, 0);
    } else if (strstr(name, "modern-bert")) {
        vocab_set_attr_by_text(v, "[MASK]", VOCAB_ATTR_LSTRIP, 1);
    }
}

int vocab_load(const gguf *g, struct vocab **out, char *err, size_t err_len) {
    *out = NULL;
    struct vocab *v = calloc(1, sizeof *v);
    if (!v) {
        vocab_err(err, err_len, "out of memory");
        return ENG_E_NOMEM;
    }
    int rc = vocab_load_kind(v, g, err, err_len);
    if (rc == ENG_OK)
        rc = vocab_load_tokens(v, g, err, err_len);
    if (rc == ENG_OK && v->type == VOCAB_BPE)
        rc = vocab_load_merges(v, g, err, err_len);
    if (rc == ENG_OK)
        rc = vocab_load_ids(v, g, err, err_len);
    if (rc == ENG_OK) {
        vocab_special_rules(v);
        rc = vocab_build_specials(v);
        if (rc == ENG_E_NOMEM)
            vocab_err(err, err_len, "out of memory");
    }
    if (rc != ENG_OK) {
        vocab_free(v);
        return rc;
    }
    vocab_name_rules(v, g);
    for (int b = 0; b < 256; b++) {
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        v->hex_tok[b] = vocab_find(v, hex, 6);
        v->byte_tok[b] = v->hex_tok[b];
        if (v->byte_tok[b] < 0) {
            char c = (char)b;
            v->byte_tok[b] = vocab_find(v, &c, 1);
        }
        v->bytemap_len[b] = (uint8_t)unicode_encode(unicode_byte_to_cp((unsigned char)b),
                                                    v->bytemap[b]);
    }
    *out = v;
    return ENG_OK;
}
