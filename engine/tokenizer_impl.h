/* engine/tokenizer_impl.h — what engine/vocab.c, vocab_load.c, vocab_tokenize.c (the vocab,
 * special tokens, pieces) and
 * engine/tokenizer_model.c (the SPM and BPE merge models) share; internal to the tokenizer.
 * A vocab is read-only after vocab_load; a tok_session is one tokenize call's memory. */
#ifndef NATTER_TOKENIZER_IMPL_H
#define NATTER_TOKENIZER_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"

struct pre_tok;

struct vocab {
    enum vocab_type type;
    struct pre_tok *pre;  /* BPE: the pre-tokenizer; NULL for SPM */
    int32_t n_tokens;
    char *arena;          /* all token texts, each NUL-terminated */
    uint32_t *text_off;   /* [n_tokens] into arena */
    uint32_t *text_len;
    float *scores;        /* [n_tokens] */
    uint16_t *attr;       /* [n_tokens] enum vocab_attr */
    int16_t *byte_val;    /* [n_tokens] the byte of a BYTE token, else -1 */
    uint32_t *hash;       /* text -> id + 1 (0: empty), open addressing */
    size_t hash_mask;
    uint64_t *merge_key;  /* (left id << 32 | right id), UINT64_MAX: empty */
    int32_t *merge_rank;
    size_t merge_mask;
    int32_t *specials;    /* control/user/unknown tokens, longest text first */
    int n_specials;
    int32_t byte_tok[256];    /* SPM: <0xXX> (else the 1-byte token), -1 if neither */
    int32_t hex_tok[256];     /* <0xXX>, -1 if none (raw UTF-8 BPE's byte fallback) */
    char bytemap[256][4];     /* BPE: the UTF-8 of the code point standing for each byte */
    uint8_t bytemap_len[256];
    int32_t bos, eos, eot, eom, unk, sep, pad;
    int32_t fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
    int add_bos, add_eos, add_space_prefix;
    unsigned pre_fl;      /* BPE: enum pre_flag of the pre-tokenizer */
};

static inline const char *vocab_text(const struct vocab *v, int32_t id) {
    return v->arena + v->text_off[id];
}

/* The rank of the merge (left id, right id), -1 if none. */
int32_t vocab_merge_find(const struct vocab *v, int32_t l, int32_t r);
/* For engine/vocab_load.c, which fills the tables of engine/vocab.c: */
void vocab_hash_insert(struct vocab *v, int32_t id);
void vocab_merge_insert(struct vocab *v, int32_t l, int32_t r, int32_t rank);
size_t vocab_pow2_at_least(size_t n);

/* A growable id list; oom is set (and pushes stop) when memory runs out. */
struct tok_ids {
    int32_t *p;
    size_t n, cap;
    int oom;
};
void tok_ids_push(struct tok_ids *a, int32_t id);

/* Grows *pp (elements of size sz, *cap of them) to hold at least need; 0 on success. */
int tok_reserve(void *pp, size_t *cap, size_t need, size_t sz);

struct tok_sym;
struct tok_bigram;

/* One tokenize call's merge memory; zero-initialize with .v and .out set. */
struct tok_session {
    const struct vocab *v;
    const char *text;
    struct tok_sym *sym;
    size_t n_sym, cap_sym;
    struct tok_bigram *heap;
    size_t n_heap, cap_heap;
    struct tok_ids *out;
    int oom;
};

void tok_session_free(struct tok_session *s);

/* SentencePiece merging of text (its spaces already U+2581); ids go to s->out. */
void tok_spm(struct tok_session *s, const char *text, size_t len);

/* Pre-tokenizes text and runs BPE on every piece; ids go to s->out. */
void tok_bpe(struct tok_session *s, const char *text, size_t len);

#endif
