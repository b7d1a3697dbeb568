/* engine/draft.c — drafts for speculative decoding: prompt lookup (n-grams of the context)
 * and a draft model's greedy tokens; eng_draft_compatible checks that a draft model shares the
 * target's vocabulary. Runs on the generation thread; allocates nothing. Errors: negative
 * ENG_E_* codes (eng_last_error() has the detail). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "draft.h"
#include "model.h"

#define DRAFT_NGRAM_MAX 4
#define DRAFT_NGRAM_MIN 2

/* Token i of the sequence hist + last. */
static int32_t draft_at(const int32_t *hist, int n_hist, int32_t last, int i) {
    return i < n_hist ? hist[i] : last;
}

int draft_lookup(const int32_t *hist, int n_hist, int32_t last, int32_t *out, int max) {
    const int n = n_hist + 1;
    for (int ng = DRAFT_NGRAM_MAX; ng >= DRAFT_NGRAM_MIN; ng--) {
        if (n <= ng) continue;
        const int key = n - ng;   /* the final n-gram starts here */
        int best = -1;            /* the latest match followed by max tokens, else the longest */
        for (int j = key - 1; j >= 0; j--) {
            int k = 0;
            while (k < ng && draft_at(hist, n_hist, last, j + k) ==
                                 draft_at(hist, n_hist, last, key + k))
                k++;
            if (k < ng) continue;
            best = j;
            if (n - (j + ng) >= max) break;
        }
        if (best < 0) continue;
        int got = 0;   /* what followed it, up to the end of the sequence */
        for (int i = best + ng; i < n && got < max; i++)
            out[got++] = draft_at(hist, n_hist, last, i);
        return got;
    }
    return 0;
}

/* The best token of logits and its probability (softmax at temperature 1). */
static int32_t draft_best(const float *logits, int n_vocab, float *prob) {
    int32_t best = 0;
    for (int i = 1; i < n_vocab; i++)
        if (logits[i] > logits[best]) best = i;
    double sum = 0;
    for (int i = 0; i < n_vocab; i++)
        sum += exp((double)(logits[i] - logits[best]));
    *prob = (float)(1.0 / sum);
    return best;
}

int draft_model(eng_ctx *d, const int32_t *hist, int n_hist, int32_t last, int32_t *out,
                int max, float p_min) {
    const int n = n_hist + 1;
    const int32_t *have = eng_ctx_tokens(d);
    int keep = 0, n_have = eng_ctx_n_past(d);
    while (keep < n_have && keep < n && have[keep] == draft_at(hist, n_hist, last, keep))
        keep++;
    if (keep == n) keep--;   /* the last token is decoded again for its logits */
    eng_ctx_truncate(d, keep);
    keep = eng_ctx_n_past(d);
    if (n >= eng_ctx_n_ctx(d)) return 0;   /* the draft's context is too small */
    int rc;
    if (keep < n_hist && (rc = eng_decode(d, hist + keep, n_hist - keep, 0)) != ENG_OK)
        return rc;
    if ((rc = eng_decode(d, &last, 1, 0)) != ENG_OK) return rc;
    const int n_vocab = eng_vocab_size(eng_ctx_model(d));
    int got = 0;
    while (got < max) {
        float p;
        int32_t t = draft_best(eng_logits(d, -1), n_vocab, &p);
        if (p < p_min) break;
        out[got++] = t;
        if (got == max || eng_ctx_n_past(d) >= eng_ctx_n_ctx(d)) break;
        if ((rc = eng_decode(d, &t, 1, 0)) != ENG_OK) return rc;
    }
    return got;
}

int eng_draft_compatible(const eng_model *m, const eng_model *d) {
    const int nv = eng_vocab_size(m);
    if (eng_vocab_size(d) != nv)
        return eng_error(ENG_E_ARG, "the draft model's vocabulary has %d tokens, the model's %d",
                         eng_vocab_size(d), nv);
    char a[256], b[256];
    for (int32_t t = 0; t < nv; t++) {
        int na = eng_token_to_piece(m, t, a, (int)sizeof a, 1);
        int nb = eng_token_to_piece(d, t, b, (int)sizeof b, 1);
        if (na != nb || memcmp(a, b, (size_t)(na < (int)sizeof a ? na : (int)sizeof a)) != 0)
            return eng_error(ENG_E_ARG, "the draft model's token %d differs from the model's",
                             (int)t);
    }
    return ENG_OK;
}
