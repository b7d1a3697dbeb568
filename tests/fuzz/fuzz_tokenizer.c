/* tests/fuzz/fuzz_tokenizer.c — libFuzzer target for the tokenizer (engine/vocab_load.c,
 * engine/vocab_tokenize.c): arbitrary
 * bytes (invalid UTF-8, lone surrogates, special-token text) tokenized with one of the vocabs of
 * ../shared/vocab, ../shared/vocab-2026 and the real models, chosen by the first input byte
 * (below 128); the second byte picks add_special / parse_special. The ids are then checked to be
 * in range and decoded back (whole sequence and piece by piece, with and without special
 * text). A first byte of 128 or more picks one of the pre-tokenizers of the table instead
 * (engine/tokenizer_pre.c: every regex list and its matcher) and checks that its pieces cover
 * the text. Uses the engine's internal APIs directly, as eng_tokenize does. Single-threaded. */
#include "engine.h"
#include "fuzz_common.h"
#include "gguf.h"
#include "tokenizer.h"
#include "tokenizer_pre.h"
#include "unicode.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_vocab_files[] = {
    "vocab/ggml-vocab-llama-spm.gguf",   "vocab/ggml-vocab-llama-bpe.gguf",
    "vocab/ggml-vocab-gpt-2.gguf",       "vocab/ggml-vocab-qwen2.gguf",
    "vocab/ggml-vocab-phi-3.gguf",       "vocab/ggml-vocab-starcoder.gguf",
    "vocab/ggml-vocab-refact.gguf",      "vocab/ggml-vocab-deepseek-coder.gguf",
    "models/TinyStories-656K-Q8_0.gguf", "models/stories260K.gguf",
    "vocab-2026/ggml-vocab-qwen35.gguf", "vocab-2026/ggml-vocab-gemma-4.gguf",
    "vocab-2026/ggml-vocab-falcon.gguf", "vocab-2026/ggml-vocab-gpt-4o.gguf",
    "vocab-2026/ggml-vocab-tekken.gguf",
};
#define FUZZ_N_VOCAB (sizeof fuzz_vocab_files / sizeof fuzz_vocab_files[0])
static struct vocab *fuzz_vocabs[FUZZ_N_VOCAB];
static int fuzz_n_loaded;
#define FUZZ_MAX_PRE 128
static struct pre_tok *fuzz_pres[FUZZ_MAX_PRE];
static size_t fuzz_n_pres;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < FUZZ_N_VOCAB; i++) {
        char path[1024], err[256];
        fuzz_shared_path(path, sizeof path, fuzz_vocab_files[i]);
        gguf *g = NULL;
        fuzz_vocabs[i] = NULL;
        if (gguf_open(path, &g, err, sizeof err) == 0 &&
            vocab_load(g, &fuzz_vocabs[i], err, sizeof err) == ENG_OK)
            fuzz_n_loaded++;
        else
            fprintf(stderr, "fuzz_tokenizer: %s: %s\n", path, err);
        gguf_close(g);
    }
    for (size_t i = 0; i < pre_n_names() && fuzz_n_pres < FUZZ_MAX_PRE; i++) {
        char err[256];
        const char *name = pre_name_at(i);
        if (pre_load(name, strlen(name), &fuzz_pres[fuzz_n_pres], err, sizeof err) == ENG_OK)
            fuzz_n_pres++;
        else
            fprintf(stderr, "fuzz_tokenizer: pre-tokenizer %s: %s\n", name, err);
    }
    if (!fuzz_n_loaded) {
        fprintf(stderr, "fuzz_tokenizer: no vocab could be loaded (is ../shared there?)\n");
        exit(1);
    }
    return 0;
}

/* One pre-tokenizer over the text: the pieces are non-empty and cover it exactly. */
static void fuzz_pre(const struct pre_tok *p, const char *text, size_t len) {
    uint32_t *cp = malloc(sizeof *cp * (len + 1));
    uint16_t *fl = malloc(sizeof *fl * (len + 1));
    size_t n = 0, *pieces = NULL, n_pieces = 0, cap = 0;
    if (!cp || !fl)
        abort();
    for (size_t pos = 0; pos < len;) {
        cp[n] = unicode_decode(text, len, &pos);
        fl[n] = (uint16_t)unicode_flags(cp[n]);
        n++;
    }
    if (pre_split(p, cp, fl, n, &pieces, &n_pieces, &cap))
        abort();
    size_t sum = 0;
    for (size_t i = 0; i < n_pieces; i++) {
        if (!pieces[i])
            abort();
        sum += pieces[i];
    }
    if (sum != n)
        abort();
    free(pieces);
    free(cp);
    free(fl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > 4096)
        return 0;
    if (data[0] >= 128) {
        if (fuzz_n_pres)
            fuzz_pre(fuzz_pres[((size_t)data[0] - 128 + 128 * (size_t)data[1]) % fuzz_n_pres],
                     (const char *)data + 2, size - 2);
        return 0;
    }
    const struct vocab *m = fuzz_vocabs[data[0] % FUZZ_N_VOCAB];
    if (!m)
        return 0;
    int add_special = data[1] & 1, parse_special = (data[1] >> 1) & 1;
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    /* An exact-size copy, so the tokenizer reading past len is caught. */
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return 0;
    memcpy(copy, text, len);

    int32_t small[4];
    int n = vocab_tokenize(m, copy, len, add_special, parse_special, small, 4);
    if (n < 0) {
        free(copy);
        return 0;
    }
    int32_t *toks = malloc(sizeof *toks * (size_t)(n ? n : 1));
    int n2 = vocab_tokenize(m, copy, len, add_special, parse_special, toks, n);
    if (n2 != n)
        abort(); /* the retry with the size asked for must give the same count */
    /* A rendered prompt's mask (bit 2: the text bytes' low bits say which are plain text):
     * bounded reads, ids in range. */
    if ((data[1] >> 2) & 1) {
        unsigned char *mask = malloc(len ? len : 1);
        int32_t *mt = malloc(sizeof *mt * (len + 4));
        if (mask && mt) {
            for (size_t i = 0; i < len; i++)
                mask[i] = (unsigned char)(copy[i] & 1);
            int nm = vocab_tokenize_masked(m, copy, len, add_special, 1, mask, mt,
                                           (int32_t)(len + 4));
            for (int i = 0; i < nm && i < (int)(len + 4); i++)
                if (mt[i] < 0 || mt[i] >= vocab_n_tokens(m))
                    abort();
        }
        free(mask);
        free(mt);
    }
    int n_vocab = vocab_n_tokens(m);
    for (int i = 0; i < n; i++)
        if (toks[i] < 0 || toks[i] >= n_vocab)
            abort();

    for (int special = 0; special < 2; special++) {
        int need = vocab_detokenize(m, toks, n, NULL, 0, special);
        if (need < 0)
            abort();
        char *out = malloc((size_t)need + 1);
        int got = vocab_detokenize(m, toks, n, out, need + 1, special);
        if (got != need)
            abort();
        free(out);
    }
    char piece[8];
    for (int i = 0; i < n; i++)
        (void)vocab_token_to_piece(m, toks[i], piece, (int)sizeof piece, i & 1);
    /* Ids out of range must be refused, not read out of bounds. */
    (void)vocab_token_to_piece(m, n_vocab, piece, (int)sizeof piece, 1);
    (void)vocab_token_to_piece(m, -1, piece, (int)sizeof piece, 1);
    free(toks);
    free(copy);
    return 0;
}
