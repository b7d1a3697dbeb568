/* tests/test_spec.c — speculative decoding (engine/draft.c, its verification in engine/gen.c):
 * prompt lookup's drafts on made-up sequences; small batches give each token the bits of
 * decoding it alone (what makes verification exact); with drafts from the context or from a
 * draft model, greedy and seeded sampling give the same tokens and leave the same cache as
 * plain decoding, on every kind of model in ../shared (dense, SWA, MoE, non-repacked types);
 * a recurrent model decodes without drafts; a draft model with another vocabulary is refused. */
#include <stdlib.h>
#include <unistd.h>

#include "draft.h"
#include "engine.h"
#include "gen_test.h"
#include "harness.h"

TEST(draft_lookup_ngrams) {
    int32_t out[8];
    /* 4 5 6 7 8 9 10 11 5 6 7 + last 8: the final 4-gram "5 6 7 8" was seen at 1 */
    const int32_t h1[] = {4, 5, 6, 7, 8, 9, 10, 11, 5, 6, 7};
    CHECK_EQ_INT(draft_lookup(h1, 11, 8, out, 3), 3);
    CHECK(out[0] == 9 && out[1] == 10 && out[2] == 11);
    /* the continuation stops at the end of the sequence */
    const int32_t h2[] = {1, 2, 3, 1, 2};
    CHECK_EQ_INT(draft_lookup(h2, 5, 3, out, 8), 3); /* "1 2 3" at 0: followed by 1 2 3, the end */
    CHECK(out[0] == 1 && out[1] == 2 && out[2] == 3);
    /* a loop of period 1: the earliest turn gives the full draft */
    const int32_t h3[] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
    CHECK_EQ_INT(draft_lookup(h3, 10, 9, out, 5), 5);
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(out[i], 9);
    /* only a 2-gram matches; the latest one wins when both have room */
    const int32_t h4[] = {3, 4, 50, 51, 52, 7, 3, 4, 60, 61, 62, 8, 3};
    CHECK_EQ_INT(draft_lookup(h4, 13, 4, out, 2), 2);
    CHECK(out[0] == 60 && out[1] == 61);
    /* no match, a too-short sequence */
    const int32_t h5[] = {1, 2, 3, 4};
    CHECK_EQ_INT(draft_lookup(h5, 4, 5, out, 8), 0);
    CHECK_EQ_INT(draft_lookup(NULL, 0, 5, out, 8), 0);
}

/* The files run here: one of each kind of model (repacked and not, SWA, MoE). */
static const char *const spec_files[] = {
    "models/stories260K.gguf",        "models/syn-llama-IQ4_NL.gguf",
    "models/syn-llama-Q5_0.gguf",     "models/syn-llama-Q4_K_M.gguf",
    "models/TinyStories-656K-Q8_0.gguf", "models-2026/syn26-qwen3-Q4_K_M.gguf",
    "models-2026/syn26-gemma3-Q4_K_M.gguf", "models-2026/syn26-qwen3moe-Q4_K_M.gguf",
    "models-2026/syn26-gpt-oss-MXFP4_MOE.gguf",
};
#define SPEC_N_FILES (int)(sizeof spec_files / sizeof spec_files[0])

static eng_model *spec_load(const char *rel) {
    const char *path = test_shared_path(rel);
    struct eng_model_params mp = eng_model_default_params();
    eng_model *m = NULL;
    if (!path || eng_model_load(path, &mp, &m) != ENG_OK) return NULL;
    return m;
}

static eng_ctx *spec_ctx(eng_model *m, int n_threads) {
    struct eng_ctx_params cp = eng_ctx_default_params();
    cp.n_ctx = 256;
    cp.n_threads = n_threads;
    eng_ctx *c = NULL;
    return eng_ctx_new(m, &cp, &c) == ENG_OK ? c : NULL;
}

/* Each token of a batch of k (2..16) after a prefix has the logits decoding it alone gives. */
TEST(spec_small_batches_exact) {
    REQUIRE_SHARED();
    for (int f = 0; f < SPEC_N_FILES; f++) {
        eng_model *m = spec_load(spec_files[f]);
        CHECK_MSG(m, "%s: %s", spec_files[f], eng_last_error());
        const int nv = eng_vocab_size(m), n = 8 + 2 + 3 + 16;
        int32_t toks[29];
        for (int i = 0; i < n; i++) toks[i] = (int32_t)((i * 7919 + 13) % nv);
        eng_ctx *a = spec_ctx(m, 2), *b = spec_ctx(m, 2);
        CHECK(a && b);
        float *la = malloc((size_t)n * (size_t)nv * sizeof *la);
        float *lb = malloc((size_t)n * (size_t)nv * sizeof *lb);
        CHECK(la && lb);
        CHECK(eng_decode(a, toks, 8, 0) == ENG_OK && eng_decode(b, toks, 8, 0) == ENG_OK);
        for (int i = 8; i < n; i++) {
            CHECK(eng_decode(a, toks + i, 1, 0) == ENG_OK);
            memcpy(la + (size_t)i * nv, eng_logits(a, -1), (size_t)nv * sizeof *la);
        }
        static const int sizes[] = {2, 3, 16};
        for (int s = 0, i = 8; s < 3; i += sizes[s++]) {
            CHECK(eng_decode(b, toks + i, sizes[s], 1) == ENG_OK);
            for (int j = 0; j < sizes[s]; j++)
                memcpy(lb + (size_t)(i + j) * nv, eng_logits(b, j), (size_t)nv * sizeof *lb);
        }
        for (int i = 8; i < n; i++)
            CHECK_MSG(!memcmp(la + (size_t)i * nv, lb + (size_t)i * nv, (size_t)nv * sizeof *la),
                      "%s: token %d of a small batch differs from decoding it alone",
                      spec_files[f], i);
        free(la);
        free(lb);
        eng_ctx_free(a);
        eng_ctx_free(b);
        eng_model_free(m);
    }
}

struct spec_out {
    struct gen_test_run r;
    int32_t cache[256];
    int n_cache;
};

/* One generation of 64 tokens on c (its cache emptied first). */
static int spec_gen(eng_ctx *c, const int32_t *toks, int n, const struct eng_gen_params *gp,
                    struct spec_out *o) {
    eng_ctx_truncate(c, 0);
    int fd[2];
    if (pipe(fd) != 0) return -100;
    eng_gen *g = NULL;
    int rc = eng_gen_start(c, toks, n, gp, fd[1], 1, &g);
    if (rc == ENG_OK) {
        gen_test_collect(fd[0], 1, &o->r);
        rc = eng_gen_join(g);
    }
    close(fd[0]);
    close(fd[1]);
    o->n_cache = eng_ctx_n_past(c);
    memcpy(o->cache, eng_ctx_tokens(c), (size_t)o->n_cache * sizeof *o->cache);
    return rc;
}

/* A prompt that repeats itself, so that lookup has something to draft from at once. */
static int spec_prompt(const eng_model *m, int32_t *toks) {
    const int nv = eng_vocab_size(m);
    int n = 0;
    for (int rep = 0; rep < 3; rep++)
        for (int i = 0; i < 6; i++) toks[n++] = (int32_t)((97 + i * 31) % nv);
    return n;
}

/* plain vs with drafts: the same text, the same number of tokens, the same cache */
static int spec_same(const char *file, const struct spec_out *a, const struct spec_out *b) {
    if (a->r.done != 1 || b->r.done != 1) {
        test_fail(__FILE__, __LINE__, "%s: generation failed: %s%s", file, a->r.error,
                  b->r.error);
        return 0;
    }
    if (strcmp(a->r.text, b->r.text) || a->r.st.n_gen != b->r.st.n_gen ||
        a->r.reason != b->r.reason) {
        test_fail(__FILE__, __LINE__, "%s: with drafts the text differs:\n[%s]\n[%s]", file,
                  a->r.text, b->r.text);
        return 0;
    }
    if (a->n_cache != b->n_cache ||
        memcmp(a->cache, b->cache, (size_t)a->n_cache * sizeof *a->cache)) {
        test_fail(__FILE__, __LINE__, "%s: with drafts the cache differs (%d vs %d tokens)",
                  file, a->n_cache, b->n_cache);
        return 0;
    }
    return 1;
}

TEST(spec_lookup_same_tokens) {
    REQUIRE_SHARED();
    int kept_total = 0, drafted_files = 0;   /* a random model may not repeat itself */
    for (int f = 0; f < SPEC_N_FILES; f++) {
        eng_model *m = spec_load(spec_files[f]);
        CHECK_MSG(m, "%s: %s", spec_files[f], eng_last_error());
        eng_ctx *c = spec_ctx(m, 2);
        CHECK(c);
        int32_t toks[32];
        int n = spec_prompt(m, toks);
        for (int sampled = 0; sampled < 2; sampled++) {
            struct eng_gen_params gp = eng_gen_default_params();
            gp.n_predict = 64;
            gp.sample.temp = sampled ? 0.8f : 0.0f;
            gp.sample.seed = 7;
            gp.sample.repeat_penalty = sampled ? 1.1f : 1.0f;
            static struct spec_out plain, spec;
            CHECK_EQ_INT(spec_gen(c, toks, n, &gp, &plain), ENG_OK);
            CHECK_EQ_INT(plain.r.st.n_drafted, 0);
            gp.lookup = 8;
            CHECK_EQ_INT(spec_gen(c, toks, n, &gp, &spec), ENG_OK);
            if (!spec_same(spec_files[f], &plain, &spec)) return;
            CHECK(spec.r.st.n_accepted <= spec.r.st.n_drafted);
            kept_total += spec.r.st.n_accepted;
            drafted_files += spec.r.st.n_drafted > 0;
        }
        eng_ctx_free(c);
        eng_model_free(m);
    }
    CHECK_MSG(drafted_files >= SPEC_N_FILES && kept_total > 0,
              "drafts on %d of %d runs, %d kept: the verification is not exercised",
              drafted_files, 2 * SPEC_N_FILES, kept_total);
}

TEST(spec_draft_model_same_tokens) {
    REQUIRE_SHARED();
    eng_model *m = spec_load("models/syn-llama-Q4_K_M.gguf");
    eng_model *d = spec_load("models/syn-llama-Q8_0.gguf");
    eng_model *other = spec_load("models/stories260K.gguf");
    CHECK(m && d && other);
    CHECK_EQ_INT(eng_draft_compatible(m, d), ENG_OK);
    CHECK_EQ_INT(eng_draft_compatible(m, m), ENG_OK);
    CHECK_EQ_INT(eng_draft_compatible(m, other), ENG_E_ARG);
    CHECK(strstr(eng_last_error(), "vocabulary"));
    eng_ctx *c = spec_ctx(m, 2), *dc = spec_ctx(d, 2), *self = spec_ctx(m, 1);
    CHECK(c && dc && self);
    int32_t toks[32];
    int n = spec_prompt(m, toks);
    for (int sampled = 0; sampled < 2; sampled++) {
        struct eng_gen_params gp = eng_gen_default_params();
        gp.n_predict = 64;
        gp.sample.temp = sampled ? 0.8f : 0.0f;
        gp.sample.seed = 11;
        static struct spec_out plain, spec;
        CHECK_EQ_INT(spec_gen(c, toks, n, &gp, &plain), ENG_OK);
        gp.draft = dc;
        gp.n_draft = 5;
        CHECK_EQ_INT(spec_gen(c, toks, n, &gp, &spec), ENG_OK);
        if (!spec_same("draft Q8_0", &plain, &spec)) return;
        CHECK(spec.r.st.n_drafted > 0 && spec.r.st.n_accepted <= spec.r.st.n_drafted);
        /* the model drafting for itself: every greedy draft is kept */
        gp.draft = self;
        CHECK_EQ_INT(spec_gen(c, toks, n, &gp, &spec), ENG_OK);
        if (!spec_same("draft self", &plain, &spec)) return;
        if (!sampled) CHECK_EQ_INT(spec.r.st.n_accepted, spec.r.st.n_drafted);
    }
    struct eng_gen_params gp = eng_gen_default_params();
    gp.draft = c;   /* a context cannot draft for itself */
    eng_gen *g = NULL;
    CHECK_EQ_INT(eng_gen_start(c, toks, n, &gp, 1, 1, &g), ENG_E_ARG);
    eng_ctx_free(self);
    eng_ctx_free(dc);
    eng_ctx_free(c);
    eng_model_free(other);
    eng_model_free(d);
    eng_model_free(m);
}

/* A recurrent model cannot rewind: it decodes without drafts and gives the same tokens. */
TEST(spec_recurrent_no_drafts) {
    REQUIRE_SHARED();
    eng_model *m = spec_load("models-2026/syn26-lfm2-Q8_0.gguf");
    CHECK_MSG(m, "%s", eng_last_error());
    eng_ctx *c = spec_ctx(m, 2);
    CHECK(c);
    int32_t toks[32];
    int n = spec_prompt(m, toks);
    struct eng_gen_params gp = eng_gen_default_params();
    gp.n_predict = 32;
    gp.sample.temp = 0;
    static struct spec_out plain, spec;
    CHECK_EQ_INT(spec_gen(c, toks, n, &gp, &plain), ENG_OK);
    gp.lookup = 8;
    CHECK_EQ_INT(spec_gen(c, toks, n, &gp, &spec), ENG_OK);
    CHECK_STR_EQ(plain.r.text, spec.r.text);
    CHECK_EQ_INT(spec.r.st.n_drafted, 0);
    eng_ctx_free(c);
    eng_model_free(m);
}
