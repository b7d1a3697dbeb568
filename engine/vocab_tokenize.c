/* engine/vocab_tokenize.c — text to tokens and back over a loaded vocab (tokenizer.h):
 * special-token partitioning, then the merge models of engine/tokenizer_model.c after the
 * pre-tokenizers of engine/tokenizer_pre.c; pieces and detokenization. The behaviour follows
 * llama.cpp's llama-vocab.cpp / unicode.cpp so that ids match its outputs. Any thread; all
 * scratch memory is per call. */
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

/* ---- special tokens and the whole tokenize ---- */

struct tok_frag {
    int32_t tok;     /* -1: raw text [off, off+len) */
    size_t off, len;
};

static const char *tok_search(const char *hay, size_t n, const char *needle, size_t m) {
    if (m == 0 || m > n)
        return NULL;
    const char *end = hay + (n - m) + 1;
    for (const char *p = hay; p < end;) {
        p = memchr(p, needle[0], (size_t)(end - p));
        if (!p)
            return NULL;
        if (memcmp(p, needle, m) == 0)
            return p;
        p++;
    }
    return NULL;
}

static int tok_frag_push(struct tok_frag **f, size_t *n, size_t *cap, int32_t tok, size_t off,
                         size_t len) {
    if (tok_reserve(f, cap, *n + 1, sizeof **f))
        return -1;
    (*f)[(*n)++] = (struct tok_frag){tok, off, len};
    return 0;
}

/* 1 if any of the n bytes at off is plain text by the mask (mask NULL: none is). */
static int tok_mask_any(const unsigned char *mask, size_t off, size_t n) {
    for (size_t i = 0; mask && i < n; i++)
        if (mask[off + i])
            return 1;
    return 0;
}

/* llama.cpp's tokenizer_st_partition: each special token, longest first, splits every raw
 * fragment where its text occurs. User-defined tokens always; control/unknown ones only with
 * parse_special, and then not where one of their bytes is plain text by plain_mask (one byte
 * per text byte, non-zero: text that came from a person, a file or a model; NULL: none). */
static int tok_partition(const struct vocab *v, const char *text, size_t len, int parse_special,
                         const unsigned char *plain_mask, struct tok_frag **frags,
                         size_t *n_frags) {
    struct tok_frag *a = NULL, *b = NULL;
    size_t n_a = 0, cap_a = 0, n_b = 0, cap_b = 0;
    if (tok_frag_push(&a, &n_a, &cap_a, -1, 0, len))
        return -1;
    for (int si = 0; si < v->n_specials; si++) {
        int32_t id = v->specials[si];
        unsigned at = v->attr[id];
        if (!parse_special && (at & (VOCAB_ATTR_CONTROL | VOCAB_ATTR_UNKNOWN)))
            continue;
        const char *st = vocab_text(v, id);
        size_t sl = v->text_len[id];
        const unsigned char *mask =
            at & (VOCAB_ATTR_CONTROL | VOCAB_ATTR_UNKNOWN) ? plain_mask : NULL;
        n_b = 0;
        for (size_t k = 0; k < n_a; k++) {
            struct tok_frag fr = a[k];
            if (fr.tok >= 0 || fr.len < sl) {
                if (tok_frag_push(&b, &n_b, &cap_b, fr.tok, fr.off, fr.len))
                    goto oom;
                continue;
            }
            size_t base = fr.off, blen = fr.len, from = base;   /* search from `from` on */
            while (blen > 0 && from < base + blen) {
                const char *m = tok_search(text + from, base + blen - from, st, sl);
                if (!m)
                    break;
                size_t mo = (size_t)(m - text), left = mo - base;
                if (tok_mask_any(mask, mo, sl)) {   /* spelled by plain text: stays text */
                    from = mo + 1;
                    continue;
                }
                if (at & VOCAB_ATTR_LSTRIP)
                    while (left > 0 && isspace((unsigned char)text[base + left - 1]))
                        left--;
                if (left > 0 && tok_frag_push(&b, &n_b, &cap_b, -1, base, left))
                    goto oom;
                if (tok_frag_push(&b, &n_b, &cap_b, id, 0, 0))
                    goto oom;
                size_t roff = mo + sl, rlen = base + blen - roff;
                if (at & VOCAB_ATTR_RSTRIP)
                    while (rlen > 0 && isspace((unsigned char)text[roff])) {
                        roff++;
                        rlen--;
                    }
                base = from = roff;
                blen = rlen;
            }
            if (blen > 0 && tok_frag_push(&b, &n_b, &cap_b, -1, base, blen))
                goto oom;
        }
        struct tok_frag *tmp = a;
        size_t tc = cap_a;
        a = b;
        n_a = n_b;
        cap_a = cap_b;
        b = tmp;
        cap_b = tc;
    }
    free(b);
    *frags = a;
    *n_frags = n_a;
    return 0;
oom:
    free(a);
    free(b);
    return -1;
}

int vocab_tokenize(const struct vocab *v, const char *text, size_t len, int add_special,
                   int parse_special, int32_t *out, int32_t cap) {
    return vocab_tokenize_masked(v, text, len, add_special, parse_special, NULL, out, cap);
}

int vocab_tokenize_masked(const struct vocab *v, const char *text, size_t len, int add_special,
                          int parse_special, const unsigned char *plain_mask, int32_t *out,
                          int32_t cap) {
    if (!v || (!text && len) || cap < 0 || (!out && cap > 0))
        return ENG_E_ARG;
    if (len > (size_t)INT32_MAX / 4)
        return ENG_E_ARG;
    struct tok_ids ids = {0};
    struct tok_session s = {.v = v, .out = &ids};
    struct tok_frag *fr = NULL;
    size_t n_fr = 0;
    char *buf = NULL;
    size_t cap_buf = 0;
    if (len > 0 && tok_partition(v, text, len, parse_special, plain_mask, &fr, &n_fr))
        return ENG_E_NOMEM;

    if (add_special && v->add_bos)
        tok_ids_push(&ids, v->bos);
    int prev_special = 1;
    for (size_t k = 0; k < n_fr && !s.oom; k++) {
        if (fr[k].tok >= 0) {
            tok_ids_push(&ids, fr[k].tok);
            prev_special = 1;
            continue;
        }
        const char *t = text + fr[k].off;
        size_t tl = fr[k].len;
        if (v->type == VOCAB_BPE) {
            tok_bpe(&s, t, tl);
            continue;
        }
        /* SPM: a leading space after a special token (or at the start), spaces as U+2581 */
        if (tok_reserve(&buf, &cap_buf, tl * 3 + 4, 1)) {
            s.oom = 1;
            break;
        }
        size_t bl = 0;
        if (v->add_space_prefix && prev_special) {
            memcpy(buf, "\xe2\x96\x81", 3);
            bl = 3;
        }
        for (size_t i = 0; i < tl; i++) {
            if (t[i] == ' ') {
                memcpy(buf + bl, "\xe2\x96\x81", 3);
                bl += 3;
            } else {
                buf[bl++] = t[i];
            }
        }
        tok_spm(&s, buf, bl);
        prev_special = 0;
    }
    if (add_special && v->add_eos)
        tok_ids_push(&ids, v->eos);

    int rc;
    if (s.oom || ids.oom || ids.n > (size_t)INT32_MAX) {
        rc = ENG_E_NOMEM;
    } else {
        rc = (int)ids.n;
        if (ids.n && cap > 0)
            memcpy(out, ids.p, sizeof *out * (ids.n < (size_t)cap ? ids.n : (size_t)cap));
    }
    free(ids.p);
    free(fr);
    free(buf);
    tok_session_free(&s);
    return rc;
}

/* ---- pieces ---- */

struct tok_out {
    char *buf;
    size_t cap, n;
    int strip;   /* drop one leading space of what comes next */
};

static void tok_out_put(struct tok_out *o, const char *p, size_t n) {
    if (o->strip) {
        o->strip = 0;
        if (n && p[0] == ' ') {
            p++;
            n--;
        }
    }
    if (o->n < o->cap) {
        size_t k = o->cap - o->n < n ? o->cap - o->n : n;
        memcpy(o->buf + o->n, p, k);
    }
    o->n += n;
}

/* A token text with every U+2581 written as a space. */
static void tok_put_unescaped(struct tok_out *o, const char *t, size_t tl) {
    size_t i = 0, run = 0;
    while (i < tl) {
        if (tl - i >= 3 && memcmp(t + i, "\xe2\x96\x81", 3) == 0) {
            if (i > run)
                tok_out_put(o, t + run, i - run);
            tok_out_put(o, " ", 1);
            i += 3;
            run = i;
        } else {
            i++;
        }
    }
    if (tl > run)
        tok_out_put(o, t + run, tl - run);
}

static void tok_piece(const struct vocab *v, int32_t tok, int special, struct tok_out *o) {
    if (tok < 0 || tok >= v->n_tokens)
        return;
    unsigned at = v->attr[tok];
    const char *t = vocab_text(v, tok);
    size_t tl = v->text_len[tok];
    if (at & (VOCAB_ATTR_CONTROL | VOCAB_ATTR_UNKNOWN)) {
        if (special)
            tok_out_put(o, t, tl);
        return;
    }
    if (at & VOCAB_ATTR_USER) {
        tok_out_put(o, t, tl);
        return;
    }
    if (v->type == VOCAB_SPM) {
        if (at & VOCAB_ATTR_BYTE) {
            if (v->byte_val[tok] >= 0) {
                char c = (char)v->byte_val[tok];
                tok_out_put(o, &c, 1);
            }
            return;
        }
        if (at & VOCAB_ATTR_NORMAL)
            tok_put_unescaped(o, t, tl);
        return;
    }
    if (!(at & VOCAB_ATTR_NORMAL)) {
        if ((at & VOCAB_ATTR_BYTE) && v->byte_val[tok] >= 0) {
            char c = (char)v->byte_val[tok];
            tok_out_put(o, &c, 1);
        }
        return;
    }
    if (v->pre_fl & PRE_ESCAPE_SPACE) {
        tok_put_unescaped(o, t, tl);
        return;
    }
    for (size_t pos = 0; pos < tl;) {
        size_t p0 = pos;
        uint32_t c = unicode_decode(t, tl, &pos);
        int by = unicode_cp_to_byte(c);
        if (by >= 0) {
            char ch = (char)by;
            tok_out_put(o, &ch, 1);
        } else {
            tok_out_put(o, t + p0, pos - p0); /* not in the byte alphabet: kept as is */
        }
    }
}

int vocab_token_to_piece(const struct vocab *v, int32_t tok, char *buf, int cap, int special) {
    struct tok_out o = {buf, cap > 0 && buf ? (size_t)cap : 0, 0, 0};
    tok_piece(v, tok, special, &o);
    return o.n > INT_MAX ? INT_MAX : (int)o.n;
}

/* Concatenated pieces; with an SPM space prefix, the leading space of the first token after
 * an optional leading BOS is dropped (it was added by the tokenizer), so that
 * detokenize(tokenize(s)) == s. */
int vocab_detokenize(const struct vocab *v, const int32_t *toks, int n, char *buf, int cap,
                     int special) {
    struct tok_out o = {buf, cap > 0 && buf ? (size_t)cap : 0, 0, 0};
    int i = 0;
    if (n > 0 && toks[0] == v->bos && v->bos >= 0) {
        tok_piece(v, toks[0], special, &o);
        i = 1;
    }
    o.strip = v->add_space_prefix;
    for (; i < n; i++) {
        tok_piece(v, toks[i], special, &o);
        o.strip = 0;
    }
    if (o.n < o.cap)
        buf[o.n] = 0;
    return o.n > INT_MAX ? INT_MAX : (int)o.n;
}
