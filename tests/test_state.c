/* tests/test_state.c — context state snapshots (engine/state.c): the checksum against xxHash64's
 * published values, a snapshot restored into a fresh context continues bit for bit like the
 * context it was taken from (logits and greedy tokens; attention models and the hybrids LFM2
 * and Qwen3.5 with their checkpoints), a partial prefix, and every refusal: another model, size
 * or KV type, a flipped byte in the header or payload, a truncated file, garbage; a cancelled
 * decode of a hybrid leaves a state that matches its tokens. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "harness.h"
#include "state.h"

TEST(state_hash_vectors) {
    /* XXH64 with seed 0 (xxHash's own test values) */
    CHECK(state_hash_bytes("", 0) == 0xEF46DB3751D8E999ull);
    CHECK(state_hash_bytes("a", 1) == 0xD24EC4F1A98C6E5Bull);
    CHECK(state_hash_bytes("abc", 3) == 0x44BC2CF5AD770999ull);
    const char *s = "Nobody inspects the spammish repetition";
    CHECK(state_hash_bytes(s, strlen(s)) == 0xFBCEA83C8A378BF1ull);
}

struct st_env {
    eng_model *m;
    eng_ctx *c;
};

/* A context of model m (2 threads). */
static eng_ctx *st_ctx(eng_model *m, int n_ctx, int kv_type) {
    struct eng_ctx_params cp = eng_ctx_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = 2;
    cp.kv_type = kv_type;
    eng_ctx *c = NULL;
    return eng_ctx_new(m, &cp, &c) == ENG_OK ? c : NULL;
}

static int st_open(const char *rel, int n_ctx, int kv_type, struct st_env *e) {
    memset(e, 0, sizeof *e);
    const char *path = test_shared_path(rel);
    struct eng_model_params mp = eng_model_default_params();
    if (!path || eng_model_load(path, &mp, &e->m) != ENG_OK)
        return -1;
    return (e->c = st_ctx(e->m, n_ctx, kv_type)) ? 0 : -1;
}

static void st_close(struct st_env *e) {
    eng_ctx_free(e->c);
    eng_model_free(e->m);
}

/* Writes c's snapshot to a scratch file; returns its path (static). */
static const char *st_save(eng_ctx *c, const char *name) {
    static char path[4200];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return NULL;
    int rc = eng_ctx_state_write(c, fd);
    off_t end = lseek(fd, 0, SEEK_END);
    close(fd);
    return rc == ENG_OK && (size_t)end == eng_ctx_state_size(c) ? path : NULL;
}

static int st_read(eng_ctx *c, const char *path, const int32_t *toks, int n, int peek) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -100;
    int rc = peek ? eng_ctx_state_match(c, fd, toks, n) : eng_ctx_state_read(c, fd, toks, n);
    close(fd);
    return rc;
}

/* Decodes toks into a and b token by token after the first, then greedy for n_gen steps in
 * each; every logit row must be equal bit for bit. Returns 0 or the failing step + 1. */
static int st_same_run(eng_ctx *a, eng_ctx *b, const int32_t *toks, int n, int n_gen) {
    const int nv = eng_vocab_size(eng_ctx_model(a));
    int32_t ta = 0, tb = 0;
    for (int i = 0; i < n + n_gen; i++) {
        if (i < n)
            ta = tb = toks[i];
        if (eng_decode(a, &ta, 1, 0) != ENG_OK || eng_decode(b, &tb, 1, 0) != ENG_OK)
            return i + 1;
        const float *la = eng_logits(a, -1), *lb = eng_logits(b, -1);
        if (!la || !lb || memcmp(la, lb, (size_t)nv * sizeof *la) != 0)
            return i + 1;
        int best = 0;
        for (int v = 1; v < nv; v++)
            if (la[v] > la[best])
                best = v;
        ta = tb = best;
    }
    return 0;
}

static const int32_t st_prompt[] = {1, 403, 407, 261, 378, 275, 300, 261, 412, 400, 266, 310};

TEST(state_roundtrip_llama) {
    REQUIRE_SHARED();
    for (int kv = 0; kv < 2; kv++) {
        struct st_env e;
        if (st_open("models/stories260K.gguf", 128, kv, &e) != 0)
            SKIP("stories260K.gguf does not load");
        CHECK(eng_decode(e.c, st_prompt, 8, 0) == ENG_OK);
        const char *path = st_save(e.c, "a.nkv");
        CHECK(path);
        eng_ctx *b = st_ctx(e.m, 128, kv);
        CHECK(b);
        /* the whole snapshot matches a longer prompt; a different 5th token keeps 4 */
        CHECK_EQ_INT(st_read(b, path, st_prompt, 12, 1), 8);
        int32_t other[12];
        memcpy(other, st_prompt, sizeof other);
        other[4] = 500;
        CHECK_EQ_INT(st_read(b, path, other, 12, 1), 4);
        CHECK_EQ_INT(eng_ctx_n_past(b), 0);   /* a match changes nothing */
        CHECK_EQ_INT(st_read(b, path, st_prompt, 12, 0), 8);
        CHECK_EQ_INT(eng_ctx_n_past(b), 8);
        CHECK(memcmp(eng_ctx_tokens(b), st_prompt, 8 * sizeof(int32_t)) == 0);
        CHECK_EQ_INT(st_same_run(e.c, b, st_prompt + 8, 4, 24), 0);
        /* a partial prefix: as the original truncated there */
        CHECK_EQ_INT(st_read(b, path, other, 12, 0), 4);
        eng_ctx_truncate(e.c, 4);
        CHECK_EQ_INT(st_same_run(e.c, b, other + 4, 8, 16), 0);
        eng_ctx_free(b);
        st_close(&e);
    }
}

/* Hybrids: the state at the snapshot's end and at a checkpoint inside it. */
static void st_hybrid(const char *rel) {
    struct st_env e;
    if (st_open(rel, 256, ENG_KV_F16, &e) != 0)
        SKIP("the model does not load");
    int32_t toks[40];
    const int nv = eng_vocab_size(e.m);
    for (int i = 0; i < 40; i++)
        toks[i] = (int32_t)((i * 7919 + 13) % (nv > 300 ? 300 : nv));
    CHECK(eng_decode(e.c, toks, 10, 0) == ENG_OK);    /* a checkpoint at 10 */
    CHECK(eng_decode(e.c, toks + 10, 10, 0) == ENG_OK); /* and at 20 (the end) */
    size_t rs = eng_ctx_rs_bytes(e.c, NULL);
    CHECK(rs > 0);
    const char *path = st_save(e.c, "h.nkv");
    CHECK(path);
    eng_ctx *b = st_ctx(e.m, 256, ENG_KV_F16);
    CHECK(b);
    CHECK_EQ_INT(st_read(b, path, toks, 40, 1), 20);
    int32_t other[40];
    memcpy(other, toks, sizeof other);
    other[15] = (other[15] + 1) % nv;   /* diverges after the checkpoint at 10 */
    CHECK_EQ_INT(st_read(b, path, other, 40, 1), 10);
    other[5] = (other[5] + 1) % nv;     /* before any checkpoint: nothing */
    CHECK_EQ_INT(st_read(b, path, other, 40, 1), 0);
    other[5] = toks[5];
    CHECK_EQ_INT(st_read(b, path, toks, 40, 0), 20);
    CHECK_EQ_INT(st_same_run(e.c, b, toks + 20, 20, 16), 0);
    /* back to the checkpoint at 10 in both */
    CHECK_EQ_INT(st_read(b, path, other, 40, 0), 10);
    eng_ctx_truncate(e.c, 15);
    CHECK_EQ_INT(eng_ctx_n_past(e.c), 10);
    CHECK_EQ_INT(st_same_run(e.c, b, other + 10, 30, 8), 0);
    /* the restored checkpoint survives: truncating b to 12 goes back to 10 as well */
    eng_ctx_truncate(b, 12);
    CHECK_EQ_INT(eng_ctx_n_past(b), 10);
    eng_ctx_free(b);
    st_close(&e);
}

TEST(state_roundtrip_lfm2) {
    REQUIRE_SHARED();
    st_hybrid("models-2026/syn26-lfm2-F16.gguf");
}

TEST(state_roundtrip_qwen35) {
    REQUIRE_SHARED();
    st_hybrid("models-2026/syn26-qwen35-Q8_0.gguf");
}

/* Rewrites byte off of path (xor 0x40). */
static int st_flip(const char *path, off_t off) {
    int fd = open(path, O_RDWR);
    unsigned char b;
    int ok = fd >= 0 && pread(fd, &b, 1, off) == 1;
    b ^= 0x40;
    ok = ok && pwrite(fd, &b, 1, off) == 1;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

TEST(state_refusals) {
    REQUIRE_SHARED();
    struct st_env e;
    if (st_open("models/stories260K.gguf", 128, ENG_KV_F16, &e) != 0)
        SKIP("stories260K.gguf does not load");
    CHECK(eng_decode(e.c, st_prompt, 12, 0) == ENG_OK);
    const char *p = st_save(e.c, "r.nkv");
    CHECK(p);
    char path[4200];
    snprintf(path, sizeof path, "%s", p);
    const size_t size = eng_ctx_state_size(e.c);

    eng_ctx *b = st_ctx(e.m, 128, ENG_KV_F16);
    CHECK(b);
    CHECK_EQ_INT(eng_decode(b, st_prompt, 3, 0), ENG_OK);
    /* another context size, another KV type */
    eng_ctx *c64 = st_ctx(e.m, 64, ENG_KV_F16), *c32 = st_ctx(e.m, 128, ENG_KV_F32);
    CHECK(c64 && c32);
    CHECK_EQ_INT(st_read(c64, path, st_prompt, 12, 0), ENG_E_MISMATCH);
    CHECK_EQ_INT(st_read(c32, path, st_prompt, 12, 1), ENG_E_MISMATCH);
    CHECK(strstr(eng_last_error(), "context"));
    eng_ctx_free(c64);
    eng_ctx_free(c32);
    /* another model */
    struct st_env o;
    if (st_open("models/TinyStories-656K-Q8_0.gguf", 128, ENG_KV_F16, &o) == 0) {
        CHECK_EQ_INT(st_read(o.c, path, st_prompt, 12, 0), ENG_E_MISMATCH);
        CHECK(strstr(eng_last_error(), "another model"));
        st_close(&o);
    }
    /* a flipped payload byte (the last layer's V): refused, the context left empty */
    CHECK(st_flip(path, (off_t)size - 100) == 0);
    CHECK_EQ_INT(st_read(b, path, st_prompt, 12, 1), 12);   /* the match reads no payload */
    CHECK_EQ_INT(st_read(b, path, st_prompt, 12, 0), ENG_E_CORRUPT);
    CHECK_EQ_INT(eng_ctx_n_past(b), 0);
    CHECK(st_flip(path, (off_t)size - 100) == 0);
    CHECK_EQ_INT(st_read(b, path, st_prompt, 12, 0), 12);
    /* a flipped header byte (n_tokens' field) */
    CHECK(st_flip(path, 44) == 0);
    CHECK_EQ_INT(st_read(b, path, st_prompt, 12, 1), ENG_E_CORRUPT);
    CHECK_EQ_INT(st_read(b, path, st_prompt, 12, 0), ENG_E_CORRUPT);
    CHECK(st_flip(path, 44) == 0);
    /* a flipped token (in range or not) */
    CHECK(st_flip(path, 120 + 4 * 3 + 3) == 0);
    CHECK(st_read(b, path, st_prompt, 12, 1) < 0);
    CHECK(st_flip(path, 120 + 4 * 3 + 3) == 0);
    /* truncated anywhere */
    const off_t cuts[] = {0, 7, 100, 200, (off_t)size / 2, (off_t)size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        CHECK(truncate(path, cuts[i]) == 0);
        int rc = st_read(b, path, st_prompt, 12, 0);
        CHECK_MSG(rc == ENG_E_CORRUPT, "cut at %ld: %d", (long)cuts[i], rc);
        CHECK_EQ_INT(eng_ctx_n_past(b), 0);
    }
    /* garbage */
    int fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0);
    char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 31 + 7);
    CHECK(write(fd, junk, sizeof junk) == (ssize_t)sizeof junk);
    close(fd);
    CHECK_EQ_INT(st_read(b, path, st_prompt, 12, 0), ENG_E_CORRUPT);
    eng_ctx_free(b);
    st_close(&e);
}

/* A decode of a hybrid model cancelled from another thread (mid-batch or between batches)
 * leaves a state that matches its tokens: the next logits are those of a context that decoded
 * the same tokens in the same batches. */
struct st_cancel {
    volatile int flag;
    int after_us;
};

static void *st_cancel_main(void *arg) {
    struct st_cancel *k = arg;
    struct timespec ts = {0, (long)k->after_us * 1000};
    nanosleep(&ts, NULL);
    k->flag = 1;
    return NULL;
}

TEST(state_cancel_keeps_recurrent_state_consistent) {
    REQUIRE_SHARED();
    struct st_env e;
    if (st_open("models-2026/syn26-lfm2-F16.gguf", 2048, ENG_KV_F16, &e) != 0)
        SKIP("the model does not load");
    const int nv = eng_vocab_size(e.m);
    static int32_t toks[2048];
    for (int i = 0; i < 2048; i++)
        toks[i] = (int32_t)((i * 7919 + 13) % (nv > 300 ? 300 : nv));
    int n_cancelled = 0;
    for (int round = 0; round < 4; round++) {
        eng_ctx *c = st_ctx(e.m, 2048, ENG_KV_F16), *ref = st_ctx(e.m, 2048, ENG_KV_F16);
        CHECK(c && ref);
        CHECK(eng_decode(c, toks, 10, 0) == ENG_OK);   /* a checkpoint at 10 */
        struct st_cancel k = {0, 200 + 700 * round};
        pthread_t th;
        eng_ctx_set_cancel(c, &k.flag);
        CHECK(pthread_create(&th, NULL, st_cancel_main, &k) == 0);
        int rc = eng_decode(c, toks + 10, 2000, 0);
        pthread_join(th, NULL);
        eng_ctx_set_cancel(c, NULL);
        const int n = eng_ctx_n_past(c);
        if (rc == ENG_E_CANCELLED) {
            n_cancelled++;
            CHECK_EQ_INT(n, 10);   /* no checkpoint inside the cancelled call */
        } else {
            CHECK_EQ_INT(rc, ENG_OK);
        }
        CHECK(eng_decode(ref, toks, 10, 0) == ENG_OK);
        if (n > 10)
            CHECK(eng_decode(ref, toks + 10, n - 10, 0) == ENG_OK);
        CHECK_EQ_INT(st_same_run(c, ref, toks + n, 1, 4), 0);
        eng_ctx_free(c);
        eng_ctx_free(ref);
    }
    CHECK_MSG(n_cancelled > 0, "no decode was cancelled: the test checked nothing");
    st_close(&e);
}
