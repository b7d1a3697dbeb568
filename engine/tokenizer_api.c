/* engine/tokenizer_api.c — the tokenizer part of the public API (engine/engine.h): thin
 * wrappers that find the model's vocab and call engine/tokenizer.c. A model is read-only after
 * load, so these may be called from any thread. */
#include "engine.h"
#include "model.h"
#include "tokenizer.h"

int eng_vocab_size(const eng_model *m) {
    const struct vocab *v = m ? eng_model_vocab(m) : NULL;
    return v ? vocab_n_tokens(v) : 0;
}

int32_t eng_token_bos(const eng_model *m) {
    const struct vocab *v = m ? eng_model_vocab(m) : NULL;
    return v ? vocab_bos(v) : -1;
}

int32_t eng_token_eos(const eng_model *m) {
    const struct vocab *v = m ? eng_model_vocab(m) : NULL;
    return v ? vocab_eos(v) : -1;
}

int eng_token_is_eog(const eng_model *m, int32_t tok) {
    const struct vocab *v = m ? eng_model_vocab(m) : NULL;
    return v ? vocab_is_eog(v, tok) : 0;
}

/* eng_tokenize and eng_tokenize_masked: the vocabulary's tokenizer, errors named. */
static int tokenize_api(const eng_model *m, const char *text, size_t len, int add_special,
                        int parse_special, const unsigned char *plain_mask, int32_t *out,
                        int32_t cap) {
    const struct vocab *v = m ? eng_model_vocab(m) : NULL;
    if (!v)
        return eng_error(ENG_E_ARG, "eng_tokenize: the model has no tokenizer");
    int rc = vocab_tokenize_masked(v, text, len, add_special, parse_special, plain_mask, out,
                                   cap);
    if (rc == ENG_E_NOMEM)
        return eng_error(rc, "eng_tokenize: out of memory for %zu bytes of text", len);
    if (rc < 0)
        return eng_error(rc, "eng_tokenize: bad arguments");
    return rc;
}

int eng_tokenize(const eng_model *m, const char *text, size_t len, int add_special,
                 int parse_special, int32_t *out, int32_t cap) {
    return tokenize_api(m, text, len, add_special, parse_special, NULL, out, cap);
}

int eng_tokenize_masked(const eng_model *m, const char *text, size_t len, int add_special,
                        const unsigned char *plain_mask, int32_t *out, int32_t cap) {
    return tokenize_api(m, text, len, add_special, 1, plain_mask, out, cap);
}

int eng_token_to_piece(const eng_model *m, int32_t tok, char *buf, int cap, int special) {
    const struct vocab *v = m ? eng_model_vocab(m) : NULL;
    return v ? vocab_token_to_piece(v, tok, buf, cap, special) : 0;
}

int eng_detokenize(const eng_model *m, const int32_t *toks, int n, char *buf, int cap,
                   int special) {
    const struct vocab *v = m ? eng_model_vocab(m) : NULL;
    if (!v || !toks || n < 0) {
        if (buf && cap > 0)
            buf[0] = 0;
        return 0;
    }
    return vocab_detokenize(v, toks, n, buf, cap, special);
}
