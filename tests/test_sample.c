/* tests/test_sample.c — the sampler on small crafted logit vectors: greedy ties, each penalty
 * and its window, top-k / top-p / min-p cut-offs, temperature, the draw's frequencies and
 * reproducibility by seed. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine.h"
#include "harness.h"

static struct eng_sample_params sample_test_params(void) {
    struct eng_sample_params p = eng_sample_default_params();
    p.temp = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = 1234;
    return p;
}

static int32_t sample_test_one(const struct eng_sample_params *p, const float *logits, int n,
                               const int32_t *hist, int n_hist) {
    eng_sampler *s = NULL;
    if (eng_sampler_new(p, n, &s) != ENG_OK) return -100;
    int32_t t = eng_sampler_sample(s, logits, hist, n_hist);
    eng_sampler_free(s);
    return t;
}

/* Counts draws of each token (n <= 16) over n_draws. */
static void sample_test_hist(const struct eng_sample_params *p, const float *logits, int n,
                             int n_draws, int *counts) {
    eng_sampler *s = NULL;
    memset(counts, 0, (size_t)n * sizeof *counts);
    if (eng_sampler_new(p, n, &s) != ENG_OK) return;
    for (int i = 0; i < n_draws; i++) {
        int32_t t = eng_sampler_sample(s, logits, NULL, 0);
        if (t >= 0 && t < n) counts[t]++;
    }
    eng_sampler_free(s);
}

TEST(sample_greedy_first_best) {
    struct eng_sample_params p = sample_test_params();
    p.temp = 0.0f;
    float l[] = {1.0f, 3.0f, 2.0f, 3.0f};
    CHECK_EQ_INT(sample_test_one(&p, l, 4, NULL, 0), 1);
    p.temp = -1.0f;
    float l2[] = {-5.0f, -7.0f, -4.5f};
    CHECK_EQ_INT(sample_test_one(&p, l2, 3, NULL, 0), 2);
    float cp[] = {-5.0f, -7.0f, -4.5f};
    CHECK(memcmp(cp, l2, sizeof cp) == 0); /* logits untouched */
}

TEST(sample_repeat_penalty) {
    struct eng_sample_params p = sample_test_params();
    p.temp = 0.0f;
    p.repeat_penalty = 2.0f;
    float l[] = {3.0f, 2.0f, -1.0f};
    int32_t h0[] = {0};
    CHECK_EQ_INT(sample_test_one(&p, l, 3, h0, 1), 1);   /* 3 / 2 = 1.5 < 2 */
    float l2[] = {-1.0f, -1.5f};
    int32_t h1[] = {0, 0};
    CHECK_EQ_INT(sample_test_one(&p, l2, 2, h1, 2), 1);  /* -1 * 2 = -2 < -1.5 */
    p.repeat_penalty = 1.4f;
    CHECK_EQ_INT(sample_test_one(&p, l, 3, h0, 1), 0);   /* 3 / 1.4 = 2.14 > 2 */
    /* the window: only the last penalty_last_n tokens count */
    p.repeat_penalty = 2.0f;
    p.penalty_last_n = 1;
    int32_t h2[] = {0, 1};
    CHECK_EQ_INT(sample_test_one(&p, l, 3, h2, 2), 0);
    p.penalty_last_n = 2;
    CHECK_EQ_INT(sample_test_one(&p, l, 3, h2, 2), 0);   /* 1.5 vs 1.0 */
    p.penalty_last_n = 0;                                /* off */
    CHECK_EQ_INT(sample_test_one(&p, l, 3, h0, 1), 0);
    /* out-of-range history ids are ignored */
    p.penalty_last_n = 64;
    int32_t hbad[] = {-3, 99, 0};
    CHECK_EQ_INT(sample_test_one(&p, l, 3, hbad, 3), 1);
}

TEST(sample_frequency_presence_penalties) {
    struct eng_sample_params p = sample_test_params();
    p.temp = 0.0f;
    float l[] = {3.0f, 2.5f, 0.0f};
    int32_t h[] = {0, 2, 0};
    p.penalty_last_n = 1;                    /* window {0}: token 0 once */
    p.freq_penalty = 0.4f;
    CHECK_EQ_INT(sample_test_one(&p, l, 3, h, 3), 0); /* 2.6 > 2.5 */
    p.penalty_last_n = 3;                    /* window {0,2,0}: token 0 twice */
    CHECK_EQ_INT(sample_test_one(&p, l, 3, h, 3), 1); /* 2.2 < 2.5 */
    p.freq_penalty = 0.0f;
    p.presence_penalty = 0.3f;               /* once per token, not per occurrence */
    CHECK_EQ_INT(sample_test_one(&p, l, 3, h, 3), 0); /* 2.7 > 2.5 */
    p.presence_penalty = 0.6f;
    CHECK_EQ_INT(sample_test_one(&p, l, 3, h, 3), 1); /* 2.4 < 2.5 */
}

TEST(sample_top_k) {
    struct eng_sample_params p = sample_test_params();
    float l[64];
    /* a shuffled ramp: token (i * 37) % 64 has logit i / 64 */
    for (int i = 0; i < 64; i++) l[(i * 37) % 64] = (float)i / 64.0f;
    int best[5];
    for (int i = 0; i < 5; i++) best[i] = ((63 - i) * 37) % 64;
    p.top_k = 5;
    eng_sampler *s = NULL;
    CHECK_EQ_INT(eng_sampler_new(&p, 64, &s), ENG_OK);
    int seen[64] = {0};
    for (int i = 0; i < 2000; i++) {
        int32_t t = eng_sampler_sample(s, l, NULL, 0);
        CHECK(t >= 0 && t < 64);
        seen[t]++;
    }
    eng_sampler_free(s);
    int n_seen = 0;
    for (int i = 0; i < 64; i++) n_seen += seen[i] > 0;
    CHECK_EQ_INT(n_seen, 5);
    for (int i = 0; i < 5; i++) CHECK(seen[best[i]] > 0);
    p.top_k = 1;
    for (uint64_t seed = 0; seed < 20; seed++) {
        p.seed = seed;
        CHECK_EQ_INT(sample_test_one(&p, l, 64, NULL, 0), best[0]);
    }
}

/* probabilities 0.5 0.3 0.15 0.05 */
static void sample_test_probs(float *l) {
    l[0] = logf(0.5f);
    l[1] = logf(0.3f);
    l[2] = logf(0.15f);
    l[3] = logf(0.05f);
}

TEST(sample_top_p_and_min_p) {
    struct eng_sample_params p = sample_test_params();
    float l[4];
    sample_test_probs(l);
    int c[4];
    p.top_p = 0.75f;               /* 0.5 + 0.3 reaches it: keep {0, 1} */
    sample_test_hist(&p, l, 4, 4000, c);
    CHECK(c[0] > 0 && c[1] > 0);
    CHECK_EQ_INT(c[2] + c[3], 0);
    CHECK_MSG(fabs(c[0] / 4000.0 - 0.625) < 0.03, "token 0 drawn %d/4000, want 0.625", c[0]);
    p.top_p = 0.5f;                /* the first alone reaches it */
    sample_test_hist(&p, l, 4, 200, c);
    CHECK_EQ_INT(c[0], 200);
    p.top_p = 0.9f;                /* 0.95 needs three */
    sample_test_hist(&p, l, 4, 4000, c);
    CHECK(c[2] > 0);
    CHECK_EQ_INT(c[3], 0);

    p.top_p = 1.0f;
    p.min_p = 0.35f;               /* p >= 0.175: {0, 1} */
    sample_test_hist(&p, l, 4, 4000, c);
    CHECK(c[0] > 0 && c[1] > 0);
    CHECK_EQ_INT(c[2] + c[3], 0);
    p.min_p = 0.25f;               /* p >= 0.125: {0, 1, 2} */
    sample_test_hist(&p, l, 4, 4000, c);
    CHECK(c[2] > 0);
    CHECK_EQ_INT(c[3], 0);
    /* min-p after top-k: the ratio is to the best kept */
    p.top_k = 3;
    p.min_p = 0.05f;
    sample_test_hist(&p, l, 4, 4000, c);
    CHECK_EQ_INT(c[3], 0);
}

/* top-p with top-k off on a large vocabulary: the kept set is exactly the K best whatever K
 * (the sampler orders the best 256 first, then all when their mass falls short). */
TEST(sample_top_p_large_vocab) {
    enum { N = 32000 };
    static float l[N];
    static unsigned char high[N];
    const int ks[] = {10, 100, 256, 257, 1000, 20000};
    for (size_t a = 0; a < sizeof ks / sizeof ks[0]; a++) {
        const int k = ks[a];
        memset(high, 0, sizeof high);
        for (int i = 0, placed = 0; placed < k; i = (i + 7919) % N)   /* spread over the ids */
            if (!high[i]) high[i] = 1, placed++;
        for (int i = 0; i < N; i++) l[i] = high[i] ? 0.0f : -3.0f;
        const double q = 1.0 / (k + (N - k) * exp(-3.0));   /* one high token's probability */
        struct eng_sample_params p = sample_test_params();
        p.top_p = (float)((k - 0.5) * q);
        eng_sampler *s = NULL;
        CHECK(eng_sampler_new(&p, N, &s) == ENG_OK);
        /* past 256 tokens every draw sorts the whole vocabulary (~1.5-2 ms): fewer draws
         * there; under valgrind (make memcheck), which checks memory and not frequencies, a
         * tenth of them (the case took over 600 s there with 2000 draws everywhere) */
        const int draws = (k <= 256 ? 2000 : 400) / (getenv("NATTER_VALGRIND") ? 10 : 1);
        int outside = 0, distinct = 0;
        for (int d = 0; d < draws; d++) {
            const int32_t t = eng_sampler_sample(s, l, NULL, 0);
            if (t < 0 || t >= N || !high[t]) outside++;
            else if (high[t] == 1) high[t] = 2, distinct++;
        }
        eng_sampler_free(s);
        CHECK_MSG(outside == 0, "K=%d: %d draws outside the top-p set", k, outside);
        /* uniform draws over the K tokens meet K (1 - e^(-draws/K)) distinct ones on average */
        const double expect = k * (1.0 - exp(-(double)draws / k));
        CHECK_MSG(distinct >= 0.8 * expect, "K=%d: only %d distinct of %.0f expected", k,
                  distinct, expect);
    }
}

TEST(sample_temperature_and_frequencies) {
    struct eng_sample_params p = sample_test_params();
    float l[4];
    sample_test_probs(l);
    int c[4];
    const int n = 20000;
    sample_test_hist(&p, l, 4, n, c);
    const double want[4] = {0.5, 0.3, 0.15, 0.05};
    for (int i = 0; i < 4; i++)
        CHECK_MSG(fabs(c[i] / (double)n - want[i]) < 0.015, "token %d: %d/%d, want %.2f", i,
                  c[i], n, want[i]);
    /* temperature 0.5 squares the probabilities: 0.25 0.09 0.0225 0.0025 (sum 0.365) */
    p.temp = 0.5f;
    sample_test_hist(&p, l, 4, n, c);
    CHECK_MSG(fabs(c[0] / (double)n - 0.25 / 0.365) < 0.015, "t=0.5 token 0: %d/%d", c[0], n);
    /* top-p is decided at temperature 1, before the temperature: 0.75 keeps {0, 1} even at 5 */
    p.temp = 5.0f;
    p.top_p = 0.75f;
    sample_test_hist(&p, l, 4, 2000, c);
    CHECK_EQ_INT(c[2] + c[3], 0);
}

TEST(sample_seed_reproducible) {
    struct eng_sample_params p = sample_test_params();
    float l[16];
    for (int i = 0; i < 16; i++) l[i] = (float)((i * 7) % 5) * 0.3f;
    int32_t a[100], b[100], d[100];
    eng_sampler *s1 = NULL, *s2 = NULL, *s3 = NULL;
    CHECK_EQ_INT(eng_sampler_new(&p, 16, &s1), ENG_OK);
    CHECK_EQ_INT(eng_sampler_new(&p, 16, &s2), ENG_OK);
    p.seed = 1235;
    CHECK_EQ_INT(eng_sampler_new(&p, 16, &s3), ENG_OK);
    for (int i = 0; i < 100; i++) {
        a[i] = eng_sampler_sample(s1, l, a, i);
        b[i] = eng_sampler_sample(s2, l, b, i);
        d[i] = eng_sampler_sample(s3, l, d, i);
    }
    eng_sampler_free(s1);
    eng_sampler_free(s2);
    eng_sampler_free(s3);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, d, sizeof a) != 0);
    eng_sampler_free(NULL);
    CHECK(eng_sampler_new(&p, 0, &s1) == ENG_E_ARG);
}
