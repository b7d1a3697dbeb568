/* engine/gen_text.c — holding back split UTF-8 sequences and possible stop-string prefixes in
 * the generated text (see gen_text.h). One thread per struct gen_text. */
#include "gen_text.h"

#include <stdlib.h>
#include <string.h>

/* Room for one more stop string. 0, or -1 if out of memory. */
static int gen_text_grow(struct gen_text *t) {
    if (t->n_stop < t->cap_stop) return 0;
    int cap = t->cap_stop ? 2 * t->cap_stop : 4;
    char **s = realloc(t->stop, (size_t)cap * sizeof *s);
    if (!s) return -1;
    t->stop = s;
    size_t *l = realloc(t->stop_len, (size_t)cap * sizeof *l);
    if (!l) return -1;
    t->stop_len = l;
    int *g = realloc(t->stop_tag, (size_t)cap * sizeof *g);
    if (!g) return -1;
    t->stop_tag = g;
    t->cap_stop = cap;
    return 0;
}

int gen_text_add_stop(struct gen_text *t, const char *s, size_t n, int tag) {
    if (!s || n == 0 || tag <= 0 || gen_text_grow(t) != 0) return -1;
    char *c = malloc(n + 1);
    if (!c) return -1;
    memcpy(c, s, n);
    c[n] = 0;
    if (n > t->max_stop) { /* what is held grows with the longest stop string */
        char *p = realloc(t->pending, n + GEN_TEXT_PIECE_MAX + 8);
        if (!p) {
            free(c);
            return -1;
        }
        t->pending = p;
        t->cap = n + GEN_TEXT_PIECE_MAX + 8;
        t->max_stop = n;
    }
    t->stop[t->n_stop] = c;
    t->stop_len[t->n_stop] = n;
    t->stop_tag[t->n_stop++] = tag;
    return 0;
}

int gen_text_init(struct gen_text *t, const char *const *stop, int n_stop,
                  void (*emit)(void *ud, const char *s, size_t n), void *ud) {
    memset(t, 0, sizeof *t);
    t->emit = emit;
    t->ud = ud;
    t->cap = GEN_TEXT_PIECE_MAX + 8;
    if (!(t->pending = malloc(t->cap))) goto nomem;
    for (int i = 0; stop && i < n_stop; i++) {
        if (!stop[i] || !stop[i][0]) continue; /* an empty stop string stops nothing */
        if (gen_text_add_stop(t, stop[i], strlen(stop[i]), 1) != 0) goto nomem;
    }
    return 0;
nomem:
    gen_text_free(t);
    return -1;
}

void gen_text_free(struct gen_text *t) {
    for (int i = 0; i < t->n_stop; i++) free(t->stop[i]);
    free(t->stop);
    free(t->stop_len);
    free(t->stop_tag);
    free(t->pending);
    memset(t, 0, sizeof *t);
}

int gen_text_stop_tag(const struct gen_text *t, const char *s, size_t n) {
    for (int k = 0; k < t->n_stop; k++)
        if (t->stop_len[k] == n && memcmp(t->stop[k], s, n) == 0) return t->stop_tag[k];
    return 0;
}

/* The length of the UTF-8 sequence at s[0] (n bytes available): > 0 a valid sequence, 0 a
 * valid start that needs more bytes, -1 an invalid byte (overlongs, surrogates and values past
 * U+10FFFF are invalid). */
static int gen_utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    int len;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) len = 3;
    else if (c >= 0xf0 && c <= 0xf4) len = 4;
    else return -1;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n) return 0;
        unsigned b = s[i];
        unsigned lo = 0x80, hi = 0xbf;
        if (i == 1) {
            if (c == 0xe0) lo = 0xa0;
            else if (c == 0xed) hi = 0x9f;
            else if (c == 0xf0) lo = 0x90;
            else if (c == 0xf4) hi = 0x8f;
        }
        if (b < lo || b > hi) return -1;
    }
    return len;
}

/* Emits text[0..n) as valid UTF-8 in chunks. If final is 0, an unfinished sequence at the end
 * is kept; returns the bytes consumed. */
static size_t gen_text_emit(struct gen_text *t, const char *text, size_t n, int final) {
    const unsigned char *s = (const unsigned char *)text;
    char out[GEN_TEXT_CHUNK];
    size_t i = 0, o = 0;
    while (i < n) {
        int len = gen_utf8_seq(s + i, n - i);
        if (len == 0 && !final) break;
        const char *src = text + i;
        size_t take = (size_t)len, adv = (size_t)len;
        if (len <= 0) {           /* an invalid byte, or an unfinished sequence at the end */
            src = "\xef\xbf\xbd";
            take = 3;
            adv = len == 0 ? n - i : 1;
        }
        if (o + take > sizeof out) {
            t->emit(t->ud, out, o);
            o = 0;
        }
        memcpy(out + o, src, take);
        o += take;
        i += adv;
    }
    if (o) t->emit(t->ud, out, o);
    return i;
}

/* The offset of the earliest stop string in text[0..n), or n if none; *tag gets its tag. */
static size_t gen_text_find_stop(const struct gen_text *t, const char *text, size_t n, int *tag) {
    size_t best = n;
    for (int k = 0; k < t->n_stop; k++) {
        size_t sl = t->stop_len[k];
        for (size_t i = 0; i + sl <= n && i < best; i++)
            if (memcmp(text + i, t->stop[k], sl) == 0) {
                best = i;
                *tag = t->stop_tag[k];
                break;
            }
    }
    return best;
}

/* How many bytes at the end of text[0..n) could begin a stop string. */
static size_t gen_text_stop_prefix(const struct gen_text *t, const char *text, size_t n) {
    size_t hold = 0;
    for (int k = 0; k < t->n_stop; k++) {
        size_t sl = t->stop_len[k];
        for (size_t len = sl - 1 < n ? sl - 1 : n; len > hold; len--)
            if (memcmp(text + n - len, t->stop[k], len) == 0) {
                hold = len;
                break;
            }
    }
    return hold;
}

int gen_text_push(struct gen_text *t, const char *piece, size_t n) {
    if (n > GEN_TEXT_PIECE_MAX) n = GEN_TEXT_PIECE_MAX;
    if (t->n_pending + n > t->cap) { /* cannot happen: what is held is < a stop string + 4 */
        gen_text_flush(t);
    }
    memcpy(t->pending + t->n_pending, piece, n);
    t->n_pending += n;
    int tag = 0;
    size_t at = gen_text_find_stop(t, t->pending, t->n_pending, &tag);
    if (at < t->n_pending) {
        gen_text_emit(t, t->pending, at, 1);
        t->n_pending = 0;
        return tag;
    }
    size_t ready = t->n_pending - gen_text_stop_prefix(t, t->pending, t->n_pending);
    size_t used = gen_text_emit(t, t->pending, ready, 0);
    memmove(t->pending, t->pending + used, t->n_pending - used);
    t->n_pending -= used;
    return 0;
}

void gen_text_flush(struct gen_text *t) {
    gen_text_emit(t, t->pending, t->n_pending, 1);
    t->n_pending = 0;
}
