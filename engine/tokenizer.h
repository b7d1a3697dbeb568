/* engine/tokenizer.h — the vocabulary and tokenizers (internal to the engine): loaded once from
 * a GGUF's tokenizer.* metadata by vocab_load (called from eng_model_load), read-only afterwards,
 * so one vocab may be used by any number of threads at once. The public wrappers are
 * eng_tokenize/eng_token_to_piece/eng_detokenize... in engine/engine.h. */
#ifndef NATTER_TOKENIZER_H
#define NATTER_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "gguf.h"

/* SPM: tokenizer.ggml.model "llama"; BPE: "gpt2" (byte-level) and "gemma4" (raw UTF-8). */
enum vocab_type { VOCAB_SPM = 1, VOCAB_BPE = 2 };

/* Token attributes (llama.cpp's token types plus the flags it derives). */
enum vocab_attr {
    VOCAB_ATTR_UNDEFINED = 0,
    VOCAB_ATTR_NORMAL = 1 << 0,
    VOCAB_ATTR_UNKNOWN = 1 << 1,
    VOCAB_ATTR_CONTROL = 1 << 2,
    VOCAB_ATTR_USER = 1 << 3,    /* user-defined: matched as text even without parse_special */
    VOCAB_ATTR_UNUSED = 1 << 4,
    VOCAB_ATTR_BYTE = 1 << 5,    /* SPM <0xXX> */
    VOCAB_ATTR_LSTRIP = 1 << 6,  /* eats the whitespace before it when parsed as special */
    VOCAB_ATTR_RSTRIP = 1 << 7,  /* eats the whitespace after it */
    VOCAB_ATTR_EOG = 1 << 8,     /* ends a generation */
};

struct vocab;

/* Reads and validates tokenizer.ggml.* from g (copies what it keeps: g may be closed after).
 * Returns ENG_OK, or ENG_E_FORMAT / ENG_E_UNSUPPORTED / ENG_E_NOMEM with one line in err. */
int vocab_load(const gguf *g, struct vocab **out, char *err, size_t err_len);
void vocab_free(struct vocab *v);

int vocab_n_tokens(const struct vocab *v);
enum vocab_type vocab_kind(const struct vocab *v);
const char *vocab_pre_name(const struct vocab *v);   /* "default", "llama-bpe", "gemma4"... */
int32_t vocab_bos(const struct vocab *v);            /* -1 if none */
int32_t vocab_eos(const struct vocab *v);
int32_t vocab_eot(const struct vocab *v);
int32_t vocab_unk(const struct vocab *v);
int vocab_add_bos(const struct vocab *v);
int vocab_add_eos(const struct vocab *v);
unsigned vocab_token_attr(const struct vocab *v, int32_t tok); /* 0 if out of range */
int vocab_is_eog(const struct vocab *v, int32_t tok);
/* The token's text as stored in the vocab (not decoded), *len bytes; NULL if out of range. */
const char *vocab_token_text(const struct vocab *v, int32_t tok, size_t *len);
/* The id of an exact token text, -1 if none. */
int32_t vocab_find(const struct vocab *v, const char *text, size_t len);

/* The engine.h semantics (eng_tokenize, eng_token_to_piece, eng_detokenize) over a vocab. */
int vocab_tokenize(const struct vocab *v, const char *text, size_t len, int add_special,
                   int parse_special, int32_t *out, int32_t cap);
/* The same, with the special tokens of parse_special allowed only where none of their bytes is
 * plain text by plain_mask (len bytes, non-zero: plain; NULL: as vocab_tokenize). */
int vocab_tokenize_masked(const struct vocab *v, const char *text, size_t len, int add_special,
                          int parse_special, const unsigned char *plain_mask, int32_t *out,
                          int32_t cap);
int vocab_token_to_piece(const struct vocab *v, int32_t tok, char *buf, int cap, int special);
int vocab_detokenize(const struct vocab *v, const int32_t *toks, int n, char *buf, int cap,
                     int special);

#endif
