/* engine/tokenizer_model.c — the two merge models llama.cpp runs over a vocab (see
 * tokenizer_impl.h): SentencePiece-style merging by score with byte fallback (`llama`), and
 * BPE by merge rank over the pieces of the pre-tokenizer (engine/tokenizer_pre.c), in the
 * GPT-2 byte alphabet (`gpt2`) or on raw UTF-8 with <0xXX> byte fallback (`gemma4`). The
 * behaviour follows llama-vocab.cpp's llm_tokenizer_spm / llm_tokenizer_bpe sessions. All
 * memory is the session's: any thread, one session each. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_impl.h"
#include "tokenizer_pre.h"
#include "unicode.h"

/* ---- growable arrays for one tokenize call ---- */

void tok_ids_push(struct tok_ids *a, int32_t id) {
    if (a->oom)
        return;
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        int32_t *np = realloc(a->p, nc * sizeof *np);
        if (!np) {
            a->oom = 1;
            return;
        }
        a->p = np;
        a->cap = nc;
    }
    a->p[a->n++] = id;
}

int tok_reserve(void *pp, size_t *cap, size_t need, size_t sz) {
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*(void **)pp, nc * sz);
    if (!np)
        return -1;
    *(void **)pp = np;
    *cap = nc;
    return 0;
}

/* ---- merge sessions (shared by SPM and BPE) ---- */

struct tok_sym {
    int32_t off, n, prev, next, id;
};

struct tok_bigram {
    int32_t left, right, ln, rn;
    float score;   /* SPM: higher first */
    int32_t rank;  /* BPE: lower first */
};

static int tok_bigram_before(const struct vocab *v, const struct tok_bigram *a,
                             const struct tok_bigram *b) {
    if (v->type == VOCAB_SPM) {
        if (a->score != b->score)
            return a->score > b->score;
    } else if (a->rank != b->rank) {
        return a->rank < b->rank;
    }
    return a->left < b->left;
}

static void tok_heap_push(struct tok_session *s, const struct tok_bigram *b) {
    if (tok_reserve(&s->heap, &s->cap_heap, s->n_heap + 1, sizeof *s->heap)) {
        s->oom = 1;
        return;
    }
    size_t i = s->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!tok_bigram_before(s->v, b, &s->heap[p]))
            break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = *b;
}

static struct tok_bigram tok_heap_pop(struct tok_session *s) {
    struct tok_bigram top = s->heap[0], last = s->heap[--s->n_heap];
    size_t i = 0, n = s->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && tok_bigram_before(s->v, &s->heap[c + 1], &s->heap[c]))
            c++;
        if (!tok_bigram_before(s->v, &s->heap[c], &last))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n)
        s->heap[i] = last;
    return top;
}

static void tok_try_bigram(struct tok_session *s, int32_t left, int32_t right) {
    if (left < 0 || right < 0)
        return;
    const struct tok_sym *l = &s->sym[left], *r = &s->sym[right];
    struct tok_bigram b = {left, right, l->n, r->n, 0.0f, 0};
    if (s->v->type == VOCAB_SPM) {
        int32_t id = vocab_find(s->v, s->text + l->off, (size_t)l->n + (size_t)r->n);
        if (id < 0)
            return;
        b.score = s->v->scores[id];
    } else {
        if (l->id < 0 || r->id < 0)
            return;
        b.rank = vocab_merge_find(s->v, l->id, r->id);
        if (b.rank < 0)
            return;
    }
    tok_heap_push(s, &b);
}

/* Splits text[0..len) into characters and merges the best pair until none is left. */
static void tok_merge(struct tok_session *s, const char *text, size_t len) {
    s->text = text;
    s->n_sym = 0;
    s->n_heap = 0;
    for (size_t off = 0; off < len;) {
        size_t cl = unicode_len_utf8((unsigned char)text[off]);
        if (cl > len - off)
            cl = len - off;
        if (tok_reserve(&s->sym, &s->cap_sym, s->n_sym + 1, sizeof *s->sym)) {
            s->oom = 1;
            return;
        }
        struct tok_sym *y = &s->sym[s->n_sym];
        y->off = (int32_t)off;
        y->n = (int32_t)cl;
        y->prev = (int32_t)s->n_sym - 1;
        off += cl;
        y->next = off == len ? -1 : (int32_t)s->n_sym + 1;
        y->id = s->v->type == VOCAB_BPE ? vocab_find(s->v, text + y->off, cl) : -1;
        s->n_sym++;
    }
    for (size_t i = 1; i < s->n_sym; i++)
        tok_try_bigram(s, (int32_t)i - 1, (int32_t)i);
    while (s->n_heap && !s->oom) {
        struct tok_bigram b = tok_heap_pop(s);
        struct tok_sym *l = &s->sym[b.left], *r = &s->sym[b.right];
        if (l->n == 0 || r->n == 0 || l->n != b.ln || r->n != b.rn)
            continue; /* outdated */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            s->sym[r->next].prev = b.left;
        if (s->v->type == VOCAB_BPE)
            l->id = vocab_find(s->v, text + l->off, (size_t)l->n);
        tok_try_bigram(s, l->prev, b.left);
        tok_try_bigram(s, b.left, l->next);
    }
}

/* SentencePiece: text already has its spaces as U+2581. */
void tok_spm(struct tok_session *s, const char *text, size_t len) {
    const struct vocab *v = s->v;
    tok_merge(s, text, len);
    if (s->oom || !s->n_sym)
        return;
    for (int32_t i = 0; i != -1; i = s->sym[i].next) {
        const struct tok_sym *y = &s->sym[i];
        int32_t id = vocab_find(v, text + y->off, (size_t)y->n);
        if (id >= 0) {
            tok_ids_push(s->out, id);
            continue;
        }
        /* byte fallback; a character the vocab cannot spell at all is <unk> */
        int all = 1;
        for (int32_t k = 0; k < y->n; k++)
            all &= v->byte_tok[(unsigned char)text[y->off + k]] >= 0;
        if (all) {
            for (int32_t k = 0; k < y->n; k++)
                tok_ids_push(s->out, v->byte_tok[(unsigned char)text[y->off + k]]);
        } else if (v->unk >= 0) {
            tok_ids_push(s->out, v->unk);
        }
    }
}

/* BPE of one pre-tokenized word: in the GPT-2 byte alphabet, or raw UTF-8 (PRE_RAW_UTF8). */
static void tok_bpe_word(struct tok_session *s, const char *w, size_t len) {
    const struct vocab *v = s->v;
    if (v->pre_fl & PRE_IGNORE_MERGES) {
        int32_t id = vocab_find(v, w, len);
        if (id >= 0) {
            tok_ids_push(s->out, id);
            return;
        }
    } else if (v->pre_fl & PRE_NEWLINE_RUNS) {
        /* gemma4: a run of newlines that is a token is that token */
        size_t k = 0;
        while (k < len && w[k] == '\n')
            k++;
        int32_t id = k == len ? vocab_find(v, w, len) : -1;
        if (id >= 0) {
            tok_ids_push(s->out, id);
            return;
        }
    }
    tok_merge(s, w, len);
    if (s->oom || !s->n_sym)
        return;
    for (int32_t i = 0; i != -1; i = s->sym[i].next) {
        const struct tok_sym *y = &s->sym[i];
        if (y->id >= 0) {
            tok_ids_push(s->out, y->id);
            continue;
        }
        /* byte fallback: <0xXX> tokens for raw UTF-8, else the one-byte tokens */
        for (int32_t k = 0; k < y->n; k++) {
            unsigned char by = (unsigned char)w[y->off + k];
            int32_t id = (v->pre_fl & PRE_RAW_UTF8) ? v->hex_tok[by] : vocab_find(v, w + y->off + k, 1);
            if (id >= 0)
                tok_ids_push(s->out, id);
        }
    }
}

/* Pre-tokenizes text (as llama.cpp's unicode_regex_split: malformed UTF-8 becomes U+FFFD),
 * writes every piece in the byte alphabet (or as UTF-8) and runs BPE on it. */
void tok_bpe(struct tok_session *s, const char *text, size_t len) {
    const struct vocab *v = s->v;
    uint32_t *cp = malloc(sizeof *cp * (len + 1));
    uint16_t *fl = malloc(sizeof *fl * (len + 1));
    size_t *pieces = NULL, n_pieces = 0, cap_pieces = 0;
    char *word = NULL;
    size_t cap_word = 0;
    if (!cp || !fl) {
        s->oom = 1;
        goto done;
    }
    size_t n = 0;
    for (size_t pos = 0; pos < len;) {
        cp[n] = unicode_decode(text, len, &pos);
        if (cp[n] == ' ' && (v->pre_fl & PRE_ESCAPE_SPACE))
            cp[n] = 0x2581; /* ▁ */
        fl[n] = (uint16_t)unicode_flags(cp[n]);
        n++;
    }
    if (pre_split(v->pre, cp, fl, n, &pieces, &n_pieces, &cap_pieces)) {
        s->oom = 1;
        goto done;
    }
    int raw = (v->pre_fl & PRE_RAW_UTF8) != 0;
    size_t start = 0;
    for (size_t k = 0; k < n_pieces && !s->oom; k++) {
        size_t wl = 0;
        if (tok_reserve(&word, &cap_word, pieces[k] * 8 + 1, 1)) {
            s->oom = 1;
            break;
        }
        for (size_t i = start; i < start + pieces[k]; i++) {
            char u[4];
            size_t ul = unicode_encode(cp[i], u);
            if (raw) {
                memcpy(word + wl, u, ul);
                wl += ul;
                continue;
            }
            for (size_t j = 0; j < ul; j++) {
                unsigned char by = (unsigned char)u[j];
                memcpy(word + wl, v->bytemap[by], v->bytemap_len[by]);
                wl += v->bytemap_len[by];
            }
        }
        start += pieces[k];
        if (wl)
            tok_bpe_word(s, word, wl);
    }
done:
    free(cp);
    free(fl);
    free(pieces);
    free(word);
}

void tok_session_free(struct tok_session *s) {
    free(s->sym);
    free(s->heap);
    s->sym = NULL;
    s->heap = NULL;
    s->cap_sym = s->cap_heap = 0;
}
