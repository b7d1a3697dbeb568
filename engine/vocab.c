/* engine/vocab.c — the vocabulary table (tokenizer.h): token texts in one arena with a hash
 * of them, the merge ranks, the accessors. Built by engine/vocab_load.c, read-only afterwards:
 * any thread. */
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

static uint64_t vocab_hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

int32_t vocab_find(const struct vocab *v, const char *text, size_t len) {
    size_t i = (size_t)vocab_hash_bytes(text, len) & v->hash_mask;
    for (;;) {
        uint32_t e = v->hash[i];
        if (!e)
            return -1;
        int32_t id = (int32_t)(e - 1);
        if (v->text_len[id] == len && memcmp(vocab_text(v, id), text, len) == 0)
            return id;
        i = (i + 1) & v->hash_mask;
    }
}

/* Later duplicates win, as in llama.cpp's token_to_id map. */
void vocab_hash_insert(struct vocab *v, int32_t id) {
    const char *t = vocab_text(v, id);
    size_t len = v->text_len[id];
    size_t i = (size_t)vocab_hash_bytes(t, len) & v->hash_mask;
    for (;;) {
        uint32_t e = v->hash[i];
        if (!e) {
            v->hash[i] = (uint32_t)id + 1;
            return;
        }
        int32_t o = (int32_t)(e - 1);
        if (v->text_len[o] == len && memcmp(vocab_text(v, o), t, len) == 0) {
            v->hash[i] = (uint32_t)id + 1;
            return;
        }
        i = (i + 1) & v->hash_mask;
    }
}

/* The pair's slot: a full 64-bit mix (both ids reach the low bits the mask keeps). */
static size_t vocab_merge_slot(uint64_t key, size_t mask) {
    key ^= key >> 33;
    key *= 0xFF51AFD7ED558CCDull;
    key ^= key >> 33;
    key *= 0xC4CEB9FE1A85EC53ull;
    key ^= key >> 33;
    return (size_t)key & mask;
}

int32_t vocab_merge_find(const struct vocab *v, int32_t l, int32_t r) {
    if (!v->merge_key)
        return -1;
    uint64_t key = (uint64_t)(uint32_t)l << 32 | (uint32_t)r;
    for (size_t i = vocab_merge_slot(key, v->merge_mask);; i = (i + 1) & v->merge_mask) {
        if (v->merge_key[i] == key)
            return v->merge_rank[i];
        if (v->merge_key[i] == UINT64_MAX)
            return -1;
    }
}

/* The first rank of a pair wins (llama.cpp's emplace keeps the first). */
void vocab_merge_insert(struct vocab *v, int32_t l, int32_t r, int32_t rank) {
    uint64_t key = (uint64_t)(uint32_t)l << 32 | (uint32_t)r;
    for (size_t i = vocab_merge_slot(key, v->merge_mask);; i = (i + 1) & v->merge_mask) {
        if (v->merge_key[i] == key)
            return;
        if (v->merge_key[i] == UINT64_MAX) {
            v->merge_key[i] = key;
            v->merge_rank[i] = rank;
            return;
        }
    }
}

size_t vocab_pow2_at_least(size_t n) {
    size_t p = 16;
    while (p < n)
        p <<= 1;
    return p;
}

void vocab_free(struct vocab *v) {
    if (!v)
        return;
    free(v->arena);
    free(v->text_off);
    free(v->text_len);
    free(v->scores);
    free(v->attr);
    free(v->byte_val);
    free(v->hash);
    free(v->merge_key);
    free(v->merge_rank);
    free(v->specials);
    pre_free(v->pre);
    free(v);
}

/* ---- loading ---- */

/* An optional token id key: absent leaves *id; -1 (or 2^32-1) means none. Out of range is an
 * error for the ids the tokenizer and generation use (strict), and ignored as llama.cpp does for
 * the others. */

/* ---- accessors ---- */

int vocab_n_tokens(const struct vocab *v) { return v->n_tokens; }
enum vocab_type vocab_kind(const struct vocab *v) { return v->type; }
const char *vocab_pre_name(const struct vocab *v) { return v->pre ? pre_name(v->pre) : "default"; }
int32_t vocab_bos(const struct vocab *v) { return v->bos; }
int32_t vocab_eos(const struct vocab *v) { return v->eos; }
int32_t vocab_eot(const struct vocab *v) { return v->eot; }
int32_t vocab_unk(const struct vocab *v) { return v->unk; }
int vocab_add_bos(const struct vocab *v) { return v->add_bos; }
int vocab_add_eos(const struct vocab *v) { return v->add_eos; }

unsigned vocab_token_attr(const struct vocab *v, int32_t tok) {
    return tok >= 0 && tok < v->n_tokens ? v->attr[tok] : 0;
}

int vocab_is_eog(const struct vocab *v, int32_t tok) {
    return (vocab_token_attr(v, tok) & VOCAB_ATTR_EOG) != 0;
}

const char *vocab_token_text(const struct vocab *v, int32_t tok, size_t *len) {
    if (tok < 0 || tok >= v->n_tokens)
        return NULL;
    if (len)
        *len = v->text_len[tok];
    return vocab_text(v, tok);
}

