/* engine/tokenizer_pre.h — BPE pre-tokenizers (internal to the engine): every
 * tokenizer.ggml.pre name llama.cpp accepts, mapped to the list of regexes llama.cpp splits
 * text with for it (llama-vocab.cpp) and the flags it sets. Each regex runs either as one of
 * llama.cpp's hand-written splitters (unicode.cpp's custom ones, chosen by the exact regex
 * text, as llama.cpp does) or through engine/tokenizer_regex.c. A loaded pre-tokenizer is
 * read-only: any thread may split with it. */
#ifndef NATTER_TOKENIZER_PRE_H
#define NATTER_TOKENIZER_PRE_H

#include <stddef.h>
#include <stdint.h>

enum pre_flag {
    PRE_IGNORE_MERGES = 1 << 0, /* a piece that is a token is emitted whole */
    PRE_ADD_BOS = 1 << 1,       /* add_bos defaults to on (the GGUF key may turn it off) */
    PRE_RAW_UTF8 = 1 << 2,      /* BPE over raw UTF-8, <0xXX> byte fallback (no GPT-2 bytes) */
    PRE_ESCAPE_SPACE = 1 << 3,  /* ' ' becomes U+2581 before splitting */
    PRE_NEWLINE_RUNS = 1 << 4,  /* a piece of only newlines that is a token is emitted whole */
    PRE_FORCE_BOS = 1 << 5,     /* add_bos is on whatever the GGUF says (gemma4) */
    PRE_NO_BOS = 1 << 6,        /* no default BOS id (chatglm) */
    PRE_NO_MERGES = 1 << 7,     /* tokenizer.ggml.merges may be absent (kimi-k2) */
};

struct pre_tok;

/* Loads the pre-tokenizer named name[0..len). ENG_OK, ENG_E_UNSUPPORTED (unknown name, with
 * the message in err) or ENG_E_NOMEM. */
int pre_load(const char *name, size_t len, struct pre_tok **out, char *err, size_t err_len);
void pre_free(struct pre_tok *p);
const char *pre_name(const struct pre_tok *p);
unsigned pre_flags(const struct pre_tok *p);

/* The number of names pre_load accepts, and the i-th (for tests and messages). */
size_t pre_n_names(void);
const char *pre_name_at(size_t i);

/* Splits the code points cp[0..n) (with their unicode_flags fl) into pieces: their lengths in
 * code points go to *out (grown as needed, *n_out of them). 0, or -1 if out of memory. */
int pre_split(const struct pre_tok *p, const uint32_t *cp, const uint16_t *fl, size_t n,
              size_t **out, size_t *n_out, size_t *cap_out);

#endif
