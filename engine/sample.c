/* engine/sample.c — token sampling (eng_sampler_*): penalties over a window of recent tokens,
 * then greedy or top-k -> top-p -> min-p -> temperature -> a seeded draw, in llama.cpp's order
 * and with its semantics. Its own PRNG (xoshiro256**, seeded through splitmix64), so the same
 * seed gives the same tokens on every machine. All buffers are allocated by eng_sampler_new;
 * sampling allocates nothing. A sampler is used by one thread at a time (the generation thread). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

struct sample_cand {
    int32_t id;
    float logit;
};

struct eng_sampler {
    struct eng_sample_params p;
    int n_vocab;
    struct sample_cand *cand;   /* (n_vocab) the candidates of the current draw */
    int32_t *count;             /* (n_vocab) occurrences in the penalty window, 0 between calls */
    float *prob;                /* (n_vocab) probabilities of the kept candidates */
    uint64_t rng[4];            /* xoshiro256** state */
};

struct eng_sample_params eng_sample_default_params(void) {
    struct eng_sample_params p;
    memset(&p, 0, sizeof p);
    p.temp = 0.8f;
    p.top_k = 40;
    p.top_p = 0.95f;
    p.min_p = 0.05f;
    p.repeat_penalty = 1.0f;
    p.freq_penalty = 0.0f;
    p.presence_penalty = 0.0f;
    p.penalty_last_n = 64;
    p.seed = ENG_SEED_RANDOM;
    return p;
}

/* ---- PRNG ---- */

static uint64_t sample_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t sample_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t sample_next(uint64_t s[4]) {
    uint64_t r = sample_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sample_rotl(s[3], 45);
    return r;
}

/* Uniform in [0, 1) with 53 random bits. */
static double sample_uniform(uint64_t s[4]) {
    return (double)(sample_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t sample_random_seed(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^
                 ((uint64_t)getpid() << 32);
    return sample_splitmix64(&x);
}

int eng_sampler_new(const struct eng_sample_params *p, int n_vocab, eng_sampler **out) {
    *out = NULL;
    if (!p || n_vocab <= 0) return ENG_E_ARG;
    eng_sampler *s = calloc(1, sizeof *s);
    if (!s) return ENG_E_NOMEM;
    s->p = *p;
    s->n_vocab = n_vocab;
    s->cand = malloc((size_t)n_vocab * sizeof *s->cand);
    s->count = calloc((size_t)n_vocab, sizeof *s->count);
    s->prob = malloc((size_t)n_vocab * sizeof *s->prob);
    if (!s->cand || !s->count || !s->prob) {
        eng_sampler_free(s);
        return ENG_E_NOMEM;
    }
    uint64_t x = p->seed == ENG_SEED_RANDOM ? sample_random_seed() : p->seed;
    for (int i = 0; i < 4; i++) s->rng[i] = sample_splitmix64(&x);
    *out = s;
    return ENG_OK;
}

void eng_sampler_free(eng_sampler *s) {
    if (!s) return;
    free(s->cand);
    free(s->count);
    free(s->prob);
    free(s);
}

/* ---- the steps ---- */

/* llama.cpp's penalties: a token seen in the window has its logit divided by repeat_penalty
 * (multiplied when <= 0), then count * freq_penalty + presence_penalty subtracted. */
static void sample_penalize(eng_sampler *s, const int32_t *hist, int n_hist) {
    const struct eng_sample_params *p = &s->p;
    if (p->penalty_last_n == 0 || !hist || n_hist <= 0) return;
    if (p->repeat_penalty == 1.0f && p->freq_penalty == 0.0f && p->presence_penalty == 0.0f)
        return;
    int n = p->penalty_last_n < 0 || p->penalty_last_n > n_hist ? n_hist : p->penalty_last_n;
    const int32_t *w = hist + (n_hist - n);
    for (int i = 0; i < n; i++)
        if (w[i] >= 0 && w[i] < s->n_vocab) s->count[w[i]]++;
    for (int i = 0; i < n; i++) {
        int32_t t = w[i];
        if (t < 0 || t >= s->n_vocab || s->count[t] == 0) continue; /* done already */
        float *l = &s->cand[t].logit; /* candidates are still indexed by token id */
        if (*l <= 0) *l *= p->repeat_penalty;
        else *l /= p->repeat_penalty;
        *l -= (float)s->count[t] * p->freq_penalty + p->presence_penalty;
        s->count[t] = 0;
    }
}

/* Orders candidates best first; equal logits by token id, so the order is total. */
static int sample_cand_before(const struct sample_cand *a, const struct sample_cand *b) {
    return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int sample_cand_cmp(const void *pa, const void *pb) {
    const struct sample_cand *a = pa, *b = pb;
    return sample_cand_before(a, b) ? -1 : sample_cand_before(b, a) ? 1 : 0;
}

/* Moves the k best of c[0..n) to c[0..k), sorted best first (a min-heap of the k best); the
 * others stay in c[k..n) (c remains a permutation, so it can be called again with a larger k). */
static void sample_top_k_sorted(struct sample_cand *c, int n, int k) {
    /* heap in c[0..k): the root is the worst of the kept */
    for (int i = 0; i < n; i++) {
        struct sample_cand x = c[i];
        int pos;
        if (i < k) {
            pos = i; /* sift up */
            while (pos > 0) {
                int up = (pos - 1) / 2;
                if (!sample_cand_before(&c[up], &x)) break;
                c[pos] = c[up];
                pos = up;
            }
            c[pos] = x;
            continue;
        }
        if (!sample_cand_before(&x, &c[0])) continue;
        c[i] = c[0]; /* the evicted root takes x's place */
        pos = 0;     /* x replaces the root, sift down */
        for (;;) {
            int l = 2 * pos + 1, r = l + 1, m = pos;
            const struct sample_cand *mv = &x;
            if (l < k && sample_cand_before(mv, &c[l])) { m = l; mv = &c[l]; }
            if (r < k && sample_cand_before(mv, &c[r])) { m = r; mv = &c[r]; }
            if (m == pos) break;
            c[pos] = c[m];
            pos = m;
        }
        c[pos] = x;
    }
    qsort(c, (size_t)k, sizeof *c, sample_cand_cmp);
}

/* prob[i] = softmax(c[i].logit / temp) over n candidates (c[0] is not assumed to be the max). */
static void sample_softmax(const struct sample_cand *c, int n, float temp, float *prob) {
    float mx = c[0].logit;
    for (int i = 1; i < n; i++)
        if (c[i].logit > mx) mx = c[i].logit;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        prob[i] = expf((c[i].logit - mx) / temp);
        sum += prob[i];
    }
    for (int i = 0; i < n; i++) prob[i] = (float)(prob[i] / sum);
}

/* top-p on the probabilities at temperature 1: moves the smallest best-first set of c[0..n)
 * whose mass reaches top_p to the front, sorted, and returns its size. Unless c is sorted
 * already (top-k), the best 256 are ordered first and the whole vocabulary only when their
 * mass falls short: a model's top-p set is mostly far smaller, and a full sort of 152k logits
 * costs ~20 ms a token (peaked logits, 152k: 20.6 -> 1.3 ms; flat ones: unchanged). */
static int sample_top_p(struct sample_cand *c, int n, float top_p, int sorted) {
    float mx = c[0].logit;
    for (int i = 1; i < n; i++)
        if (c[i].logit > mx) mx = c[i].logit;
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += expf(c[i].logit - mx);
    for (int k = sorted ? n : 256;; k = n) {
        if (k >= n) {
            k = n;
            if (!sorted)
                qsort(c, (size_t)n, sizeof *c, sample_cand_cmp);
        } else {
            sample_top_k_sorted(c, n, k);
        }
        double cum = 0;
        for (int i = 0; i < k; i++) {
            cum += (float)(expf(c[i].logit - mx) / sum);
            if (cum >= top_p)
                return i + 1;
        }
        if (k == n)
            return n;
    }
}

int32_t eng_sampler_sample(eng_sampler *s, const float *logits, const int32_t *hist, int n_hist) {
    const struct eng_sample_params *p = &s->p;
    int n = s->n_vocab;
    struct sample_cand *c = s->cand;
    for (int i = 0; i < n; i++) {
        c[i].id = i;
        c[i].logit = logits[i];
    }
    sample_penalize(s, hist, n_hist);

    if (p->temp <= 0) { /* greedy: the first best (lowest id on a tie) */
        int best = 0;
        for (int i = 1; i < n; i++)
            if (c[i].logit > c[best].logit) best = i;
        return best;
    }

    int sorted = 0;
    if (p->top_k > 0 && p->top_k < n) {
        sample_top_k_sorted(c, n, p->top_k);
        n = p->top_k;
        sorted = 1;
    }
    if (p->top_p < 1.0f)
        n = sample_top_p(c, n, p->top_p, sorted);

    /* min-p: keep the tokens whose probability is at least min_p times the best one's */
    if (p->min_p > 0.0f && n > 1) {
        float mx = c[0].logit;
        for (int i = 1; i < n; i++)
            if (c[i].logit > mx) mx = c[i].logit;
        float thr = mx + logf(p->min_p);
        int kept = 0;
        for (int i = 0; i < n; i++)
            if (c[i].logit >= thr) c[kept++] = c[i];
        n = kept;
    }

    /* temperature, then the draw */
    sample_softmax(c, n, p->temp, s->prob);
    double r = sample_uniform(s->rng), cum = 0;
    for (int i = 0; i < n; i++) {
        cum += s->prob[i];
        if (r < cum) return c[i].id;
    }
    return c[n - 1].id;
}
