/* engine/draft.h — drafts for speculative decoding, verified by engine/gen.c (see
 * ENG_DRAFT_MAX in engine.h). Internal to the engine; called on the generation thread. */
#ifndef NATTER_DRAFT_H
#define NATTER_DRAFT_H

#include <stdint.h>

#include "engine.h"

/* Prompt lookup: the sequence is hist[0..n_hist) followed by last. Finds the latest earlier
 * occurrence of its final n-gram (4 tokens, else 3, else 2) that max tokens follow (else the
 * one followed by the most: a loop's earlier turns) and copies up to max of the tokens that
 * followed it into out. Returns how many (0: no match). Pure. */
int draft_lookup(const int32_t *hist, int n_hist, int32_t last, int32_t *out, int max);

/* A draft model's greedy continuation of the same sequence: d's cache is first brought to
 * hist + last (its common prefix kept, the rest decoded), then up to max tokens are drafted,
 * stopping early when the draft model's probability for its choice falls below p_min.
 * Returns how many (>= 0), or a negative ENG_E_* from d's decoding. */
int draft_model(eng_ctx *d, const int32_t *hist, int n_hist, int32_t last, int32_t *out,
                int max, float p_min);

#endif
