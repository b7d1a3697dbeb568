/* tests/test_gguf_corpus.c — a corpus of crafted, broken GGUF files (absurd counts, sizes whose
 * products overflow, offsets past the end or misaligned, zero/huge/too many dimensions, bad type
 * ids, duplicate or missing tensors, wrong metadata types, bad hyperparameters and token ids,
 * truncation at every structural boundary), each of which must be refused with a one-line message
 * by gguf_open_mem / gguf_open and eng_model_load — never a crash, a hang or a sanitizer report
 * (run under make test SANITIZE=1). Files are made with tests/gguf_craft.h; model-level cases
 * patch ../shared/models/stories260K.gguf and the vocab files. */
#include "engine.h"
#include "gguf.h"
#include "gguf_craft.h"
#include "harness.h"
#include "quant.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- expectations ---- */

static int gcorp_one_line(const char *msg) {
    return msg && msg[0] && !strchr(msg, '\n');
}

/* gguf_open_mem on exactly len bytes (a private copy, so a read past len is an ASan report).
 * Returns the rc; the message in err. On success, checks every tensor lies inside the buffer. */
static int gcorp_open_mem(const uint8_t *p, size_t len, char *err, size_t err_len) {
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, p, len);
    gguf *g = NULL;
    err[0] = 0;
    int rc = gguf_open_mem(copy, len, &g, err, err_len);
    if (rc == 0) {
        for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
            const struct gguf_tensor *t = gguf_tensor_at(g, i);
            const uint8_t *d = t->data;
            if (t->nbytes && (d < copy || d + t->nbytes > copy + len || t->nbytes > len)) {
                snprintf(err, err_len, "accepted tensor '%s' outside the file", t->name);
                rc = 1;
            }
        }
        gguf_close(g);
    }
    free(copy);
    return rc;
}

/* The buffer must be refused by gguf_open_mem with a one-line message containing must (if any). */
#define CHECK_REFUSED_MEM(p, len, must, what)                                                 \
    do {                                                                                       \
        char err_[512];                                                                        \
        int rc_ = gcorp_open_mem((p), (len), err_, sizeof err_);                              \
        CHECK_MSG(rc_ < 0, "%s: not refused by gguf_open_mem (rc %d, %s)", (what), rc_,       \
                  err_);                                                                       \
        CHECK_MSG(gcorp_one_line(err_), "%s: refusal without a one-line message: '%s'", (what), \
                  err_);                                                                       \
        CHECK_MSG(!(must) || strstr(err_, (must) ? (must) : ""),                               \
                  "%s: message '%s' does not name '%s'", (what), err_, (must) ? (must) : "");  \
    } while (0)

/* Refused, or accepted with every tensor inside the file (for layouts GGUF does not forbid). */
#define CHECK_SAFE_MEM(p, len, what)                                                          \
    do {                                                                                       \
        char err_[512];                                                                        \
        int rc_ = gcorp_open_mem((p), (len), err_, sizeof err_);                              \
        CHECK_MSG(rc_ <= 0, "%s: %s", (what), err_);                                          \
        CHECK_MSG(rc_ == 0 || gcorp_one_line(err_), "%s: refusal without a message", (what)); \
    } while (0)

/* eng_model_load of path must fail with a one-line message. */
static int gcorp_load_refused(const char *path, int vocab_only, char *msg, size_t cap) {
    struct eng_model_params mp = eng_model_default_params();
    mp.vocab_only = vocab_only;
    eng_model *m = NULL;
    int rc = eng_model_load(path, &mp, &m);
    snprintf(msg, cap, "%s", eng_last_error());
    if (rc == ENG_OK) {
        eng_model_free(m);
        snprintf(msg, cap, "accepted");
        return 0;
    }
    return gcorp_one_line(msg) ? 1 : 0;
}

#define CHECK_LOAD_REFUSED(path, vocab_only, what)                                             \
    do {                                                                                       \
        char msg_[512];                                                                        \
        CHECK_MSG(gcorp_load_refused((path), (vocab_only), msg_, sizeof msg_),                 \
                  "%s: eng_model_load: %s", (what), msg_);                                     \
    } while (0)

/* ---- a small synthetic file: 3 kvs (one an array of strings), 2 F32 tensors ---- */

static const float gcorp_w[64];

static void gcorp_tiny(struct gc_file *f) {
    gc_file_init(f);
    gc_set_str(f, "general.architecture", "llama");
    gc_set_u32(f, "general.alignment", 32);
    struct gc_buf b = {0};
    gc_str(&b, "a");
    gc_str(&b, "bc");
    gc_str(&b, "");
    gc_set_arr(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, 3, b.p, b.len);
    gc_buf_free(&b);
    uint64_t ne2[2] = {8, 4}, ne1[1] = {8};
    gc_tensor_add(f, "a.weight", GGML_TYPE_F32, 2, ne2, gcorp_w, 8 * 4 * 4);
    gc_tensor_add(f, "b.weight", GGML_TYPE_F32, 1, ne1, gcorp_w, 8 * 4);
}

static uint8_t *gcorp_tiny_bytes(void (*patch)(struct gc_file *), size_t *len) {
    struct gc_file f;
    gcorp_tiny(&f);
    if (patch)
        patch(&f);
    uint8_t *p = gc_build(&f, len, NULL, 0, NULL);
    gc_file_free(&f);
    return p;
}

TEST(gguf_corpus_tiny_is_valid) {
    size_t len;
    uint8_t *p = gcorp_tiny_bytes(NULL, &len);
    char err[512];
    int rc = gcorp_open_mem(p, len, err, sizeof err);
    free(p);
    CHECK_MSG(rc == 0, "the untouched synthetic file is refused: %s", err);
}

/* Every prefix of the synthetic file (all its structure and its data) is refused. */
TEST(gguf_corpus_truncated_every_byte) {
    size_t len;
    uint8_t *p = gcorp_tiny_bytes(NULL, &len);
    for (size_t n = 0; n < len; n++) {
        char what[64];
        snprintf(what, sizeof what, "cut at %zu of %zu", n, len);
        CHECK_REFUSED_MEM(p, n, NULL, what);
    }
    free(p);
}

/* Header: magic, version, counts near 2^64 and counts whose size in bytes overflows. */
TEST(gguf_corpus_header) {
    size_t len;
    uint8_t *p = gcorp_tiny_bytes(NULL, &len);
    uint8_t *q = malloc(len);
    memcpy(q, p, len);
    memcpy(q, "GGUG", 4);
    CHECK_REFUSED_MEM(q, len, NULL, "bad magic");
    static const uint32_t versions[] = {0, 1, 4, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        memcpy(q, p, len);
        memcpy(q + 4, &versions[i], 4); /* test hosts are little-endian, as GGUF */
        char what[64];
        snprintf(what, sizeof what, "version %u", versions[i]);
        CHECK_REFUSED_MEM(q, len, NULL, what);
    }
    /* The file has 2 tensors and 3 kvs: 4 of either runs into the next section. */
    static const uint64_t counts[] = {UINT64_MAX, UINT64_MAX - 1, UINT64_C(1) << 63,
                                      UINT64_C(1) << 61, UINT64_C(1) << 59,
                                      (UINT64_C(1) << 32) + 2, 1000000, 4};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        for (int field = 0; field < 2; field++) { /* n_tensors at 8, n_kv at 16 */
            memcpy(q, p, len);
            memcpy(q + 8 + 8 * field, &counts[i], 8);
            char what[96];
            snprintf(what, sizeof what, "%s = %llu", field ? "n_kv" : "n_tensors",
                     (unsigned long long)counts[i]);
            CHECK_REFUSED_MEM(q, len, NULL, what);
        }
    }
    free(q);
    free(p);
}

/* A hand-laid file: header with one kv whose bytes are given, no tensors. */
static uint8_t *gcorp_one_kv(const char *key, uint32_t type, const void *raw, size_t raw_len,
                             size_t *len) {
    struct gc_buf b = {0};
    gc_bytes(&b, "GGUF", 4);
    gc_u32(&b, 3);
    gc_u64(&b, 0);
    gc_u64(&b, 1);
    if (key)
        gc_str(&b, key);
    gc_u32(&b, type);
    gc_bytes(&b, raw, raw_len);
    *len = b.len;
    return b.p;
}

TEST(gguf_corpus_strings_and_kv_types) {
    struct gc_buf b = {0};
    size_t len;
    uint8_t *p;
    /* Key lengths past the end / near 2^64. */
    static const uint64_t lens[] = {UINT64_MAX, UINT64_MAX - 7, UINT64_C(1) << 63, 1u << 20, 64};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        b.len = 0;
        gc_bytes(&b, "GGUF", 4);
        gc_u32(&b, 3);
        gc_u64(&b, 0);
        gc_u64(&b, 1);
        gc_u64(&b, lens[i]);
        gc_bytes(&b, "general.name", 12);
        char what[64];
        snprintf(what, sizeof what, "key length %llu", (unsigned long long)lens[i]);
        CHECK_REFUSED_MEM(b.p, b.len, NULL, what);
    }
    /* String values with lengths past the end. */
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        b.len = 0;
        gc_u64(&b, lens[i]);
        gc_bytes(&b, "x", 1);
        p = gcorp_one_kv("general.name", GGUF_TYPE_STRING, b.p, b.len, &len);
        CHECK_REFUSED_MEM(p, len, NULL, "string value past the end");
        free(p);
    }
    /* Value type ids out of range. */
    static const uint32_t types[] = {GGUF_TYPE_COUNT, 13, 255, 0x80000000u, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        uint64_t v = 1;
        p = gcorp_one_kv("general.x", types[i], &v, 8, &len);
        char what[64];
        snprintf(what, sizeof what, "value type %u", types[i]);
        CHECK_REFUSED_MEM(p, len, NULL, what);
        free(p);
        /* ... and as an array's element type. */
        b.len = 0;
        gc_u32(&b, types[i]);
        gc_u64(&b, 1);
        gc_u64(&b, 1);
        p = gcorp_one_kv("general.x", GGUF_TYPE_ARRAY, b.p, b.len, &len);
        snprintf(what, sizeof what, "array element type %u", types[i]);
        CHECK_REFUSED_MEM(p, len, NULL, what);
        free(p);
    }
    /* Array counts whose byte size overflows or runs past the end, for each element kind. */
    static const uint32_t elem[] = {GGUF_TYPE_UINT8, GGUF_TYPE_UINT32, GGUF_TYPE_UINT64,
                                    GGUF_TYPE_STRING, GGUF_TYPE_ARRAY};
    static const uint64_t ns[] = {UINT64_MAX, UINT64_C(1) << 62, UINT64_C(1) << 61,
                                  (UINT64_C(1) << 60) + 1, 1u << 30, 100};
    for (size_t e = 0; e < sizeof elem / sizeof elem[0]; e++)
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            b.len = 0;
            gc_u32(&b, elem[e]);
            gc_u64(&b, ns[i]);
            gc_u64(&b, 0);
            gc_u64(&b, 0);
            p = gcorp_one_kv("general.x", GGUF_TYPE_ARRAY, b.p, b.len, &len);
            char what[96];
            snprintf(what, sizeof what, "array of type %u with %llu elements", elem[e],
                     (unsigned long long)ns[i]);
            CHECK_REFUSED_MEM(p, len, NULL, what);
            free(p);
        }
    /* A deeply nested array (recursion must be bounded, not the stack). */
    b.len = 0;
    for (int d = 0; d < 200000; d++) {
        gc_u32(&b, GGUF_TYPE_ARRAY);
        gc_u64(&b, 1);
    }
    gc_u32(&b, GGUF_TYPE_UINT8);
    gc_u64(&b, 1);
    gc_bytes(&b, "x", 1);
    p = gcorp_one_kv("general.deep", GGUF_TYPE_ARRAY, b.p, b.len, &len);
    CHECK_SAFE_MEM(p, len, "array nested 200000 deep");
    free(p);
    /* The same key twice. */
    b.len = 0;
    gc_bytes(&b, "GGUF", 4);
    gc_u32(&b, 3);
    gc_u64(&b, 0);
    gc_u64(&b, 2);
    for (int i = 0; i < 2; i++) {
        gc_str(&b, "general.name");
        gc_u32(&b, GGUF_TYPE_STRING);
        gc_str(&b, "x");
    }
    CHECK_REFUSED_MEM(b.p, b.len, NULL, "duplicate key");
    gc_buf_free(&b);
}

/* general.alignment: zero, not a power of two, huge, wrong type. */
static uint32_t gcorp_align_val;
static void gcorp_patch_align(struct gc_file *f) {
    gc_set_u32(f, "general.alignment", gcorp_align_val);
}
static void gcorp_patch_align_str(struct gc_file *f) {
    gc_set_str(f, "general.alignment", "32");
}

TEST(gguf_corpus_alignment) {
    static const uint32_t bad[] = {0, 3, 24, 0x80000000u, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gcorp_align_val = bad[i];
        size_t len;
        uint8_t *p = gcorp_tiny_bytes(gcorp_patch_align, &len);
        char what[64];
        snprintf(what, sizeof what, "general.alignment = %u", bad[i]);
        CHECK_REFUSED_MEM(p, len, NULL, what);
        free(p);
    }
    size_t len;
    uint8_t *p = gcorp_tiny_bytes(gcorp_patch_align_str, &len);
    CHECK_REFUSED_MEM(p, len, NULL, "general.alignment as a string");
    free(p);
}

/* Tensor infos: each case patches tensor a.weight of the synthetic file. */
struct gcorp_tcase {
    const char *what;
    uint32_t type, n_dims;
    uint64_t ne[8];
    int64_t offset;     /* -1: normal placement */
    int safe_only;      /* GGUF does not forbid it: refused or accepted safely */
};

static const struct gcorp_tcase gcorp_tcases[] = {
    {"type id 43 (past ggml's last, Q2_0)", 43, 2, {8, 4}, -1, 0},
    {"type id 4 (removed Q4_2)", 4, 2, {8, 4}, -1, 0},
    {"type id 36 (removed IQ4_NL_4_4)", 36, 2, {8, 4}, -1, 0},
    {"type id 2^32-1", 0xFFFFFFFFu, 2, {8, 4}, -1, 0},
    {"5 dims", GGML_TYPE_F32, 5, {8, 4, 1, 1, 1}, -1, 0},
    {"2^32-1 dims", GGML_TYPE_F32, 0xFFFFFFFFu, {8, 4}, -1, 0},
    {"zero dims", GGML_TYPE_F32, 0, {0}, -1, 1},
    {"a zero dimension", GGML_TYPE_F32, 2, {8, 0}, -1, 1},
    {"dimension 2^63 (negative)", GGML_TYPE_F32, 2, {8, UINT64_C(1) << 63}, -1, 0},
    {"dimension 2^64-1", GGML_TYPE_F32, 2, {UINT64_MAX, 4}, -1, 0},
    {"element count overflows", GGML_TYPE_F32, 2, {UINT64_C(1) << 32, UINT64_C(1) << 32}, -1, 0},
    {"element count overflows over 4 dims", GGML_TYPE_F32, 4,
     {1u << 16, 1u << 16, 1u << 16, 1u << 16}, -1, 0},
    {"byte size overflows", GGML_TYPE_F32, 2, {UINT64_C(1) << 31, UINT64_C(1) << 31}, -1, 0},
    {"huge, fits in int64, past the end", GGML_TYPE_F32, 2, {1u << 30, 1u << 30}, -1, 0},
    {"Q4_0 row not a multiple of 32", GGML_TYPE_Q4_0, 2, {33, 4}, -1, 0},
    {"Q4_K row of 2^62", GGML_TYPE_Q4_K, 1, {UINT64_C(1) << 62}, -1, 0},
    {"offset past the end", GGML_TYPE_F32, 2, {8, 4}, 1 << 20, 0},
    {"offset misaligned", GGML_TYPE_F32, 2, {8, 4}, 4, 0},
    {"offset + size overflows", GGML_TYPE_F32, 2, {8, 4}, INT64_MAX - 31, 0},
    {"offset near 2^63", GGML_TYPE_F32, 2, {8, 4}, (int64_t)(UINT64_C(1) << 62), 0},
};

static const struct gcorp_tcase *gcorp_tc;
static void gcorp_patch_tensor(struct gc_file *f) {
    struct gc_tensor *t = gc_tensor_find(f, "a.weight");
    t->type = gcorp_tc->type;
    t->n_dims = gcorp_tc->n_dims;
    memcpy(t->ne, gcorp_tc->ne, sizeof t->ne);
    t->offset = gcorp_tc->offset;
}

TEST(gguf_corpus_tensor_infos) {
    for (size_t i = 0; i < sizeof gcorp_tcases / sizeof gcorp_tcases[0]; i++) {
        gcorp_tc = &gcorp_tcases[i];
        size_t len;
        uint8_t *p = gcorp_tiny_bytes(gcorp_patch_tensor, &len);
        if (gcorp_tc->safe_only)
            CHECK_SAFE_MEM(p, len, gcorp_tc->what);
        else
            CHECK_REFUSED_MEM(p, len, "a.weight", gcorp_tc->what);
        free(p);
    }
}

/* Every ggml type id is known by name and size: a tensor of any of them (rows of 256 values,
 * a multiple of every block size) is accepted with its exact byte size, whether or not the
 * engine computes with it (eng_model_load refuses those by name); the ids ggml removed and
 * those past its table are refused as bad type ids. */
static uint32_t gcorp_type_id;
static void gcorp_patch_type(struct gc_file *f) {
    struct gc_tensor *t = gc_tensor_find(f, "a.weight");
    t->type = gcorp_type_id;
    t->ne[0] = 256;
    t->ne[1] = 2;
    const size_t rs = quant_row_size(gcorp_type_id, 256);
    t->data = NULL; /* zeros */
    t->nbytes = rs ? 2 * rs : 64;
}

TEST(gguf_corpus_every_type_id) {
    int n_known = 0;
    for (uint32_t id = 0; id < 64; id++) {
        const int removed = id == 4 || id == 5 || (id >= 31 && id <= 33) || (id >= 36 && id <= 38);
        const int known = id < GGML_TYPE_COUNT && !removed;
        gcorp_type_id = id;
        size_t len;
        uint8_t *p = gcorp_tiny_bytes(gcorp_patch_type, &len);
        char err[512] = "", want[64], what[64];
        snprintf(what, sizeof what, "type id %u", id);
        if (!known) {
            snprintf(want, sizeof want, "tensor 'a.weight': bad type id %u", id);
            const char *must = want;
            CHECK_REFUSED_MEM(p, len, must, what);
            free(p);
            continue;
        }
        gguf *g = NULL;
        const int rc = gguf_open_mem(p, len, &g, err, sizeof err);
        CHECK_MSG(rc == 0, "%s refused: %s", what, err);
        if (rc == 0) {
            const struct gguf_tensor *t = gguf_tensor_find(g, "a.weight");
            const struct quant_traits *tr = quant_traits_get(id);
            CHECK_MSG(tr && tr->name && t && t->nbytes == 2 * quant_row_size(id, 256) &&
                      t->nbytes == 2 * (256 / (uint64_t)tr->blck_size) * tr->type_size,
                      "%s: size", what);
            gguf_close(g);
            n_known++;
        }
        free(p);
    }
    CHECK_EQ_INT(n_known, GGML_TYPE_COUNT - 8);
}

static void gcorp_patch_dup(struct gc_file *f) {
    uint64_t ne[1] = {8};
    gc_tensor_add(f, "a.weight", GGML_TYPE_F32, 1, ne, gcorp_w, 32);
}
static void gcorp_patch_long_name(struct gc_file *f) {
    char name[300];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = 0;
    uint64_t ne[1] = {8};
    gc_tensor_add(f, name, GGML_TYPE_F32, 1, ne, gcorp_w, 32);
}
static void gcorp_patch_counts(struct gc_file *f) {
    f->override_counts = 1;
    f->n_kv_hdr = (uint64_t)f->n_kv;
    f->n_t_hdr = (uint64_t)f->n_t + 1; /* one more tensor than there are infos */
}

TEST(gguf_corpus_tensor_names_and_counts) {
    size_t len;
    uint8_t *p = gcorp_tiny_bytes(gcorp_patch_dup, &len);
    CHECK_REFUSED_MEM(p, len, "a.weight", "duplicate tensor name");
    free(p);
    p = gcorp_tiny_bytes(gcorp_patch_long_name, &len);
    CHECK_REFUSED_MEM(p, len, NULL, "a 299-byte tensor name");
    free(p);
    p = gcorp_tiny_bytes(gcorp_patch_counts, &len);
    CHECK_REFUSED_MEM(p, len, NULL, "n_tensors one more than the infos");
    free(p);
}

/* ---- a real model, truncated and patched ---- */

struct gcorp_model {
    uint8_t *file;
    size_t len;
    gguf *g;
    struct gc_file f;
};

static int gcorp_model_open(struct gcorp_model *m, const char *rel) {
    memset(m, 0, sizeof *m);
    const char *path = test_shared_path(rel);
    m->file = (uint8_t *)test_read_file(path, &m->len);
    if (!m->file)
        return -1;
    char err[256];
    if (gguf_open_mem(m->file, m->len, &m->g, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", path, err);
        return -1;
    }
    return gc_file_from_gguf(&m->f, m->g);
}

static void gcorp_model_close(struct gcorp_model *m) {
    gc_file_free(&m->f);
    gguf_close(m->g);
    free(m->file);
}

TEST(gguf_corpus_model_truncated_at_boundaries) {
    REQUIRE_SHARED();
    struct gcorp_model m;
    CHECK(gcorp_model_open(&m, "models/stories260K.gguf") == 0);
    enum { CAP = 4096 };
    size_t *bounds = malloc(sizeof *bounds * CAP);
    int n_bounds = 0;
    size_t len;
    uint8_t *p = gc_build(&m.f, &len, bounds, CAP, &n_bounds);
    CHECK(n_bounds > 10);
    char path[1024];
    snprintf(path, sizeof path, "%s/cut.gguf", test_tmpdir());
    /* The rebuilt file loads: the cuts below are what makes it fail. */
    CHECK(gc_write_bytes(path, p, len) == 0);
    {
        struct eng_model_params mp = eng_model_default_params();
        eng_model *em = NULL;
        CHECK_MSG(eng_model_load(path, &mp, &em) == ENG_OK, "rebuilt model: %s",
                  eng_last_error());
        eng_model_free(em);
    }
    /* Marks: 4 in the header, 3 per kv, 3 per tensor info, then the data section's. */
    int n_meta = 4 + 3 * m.f.n_kv + 3 * m.f.n_t;
    int n_loaded = 0;
    for (int i = 0; i < n_bounds; i++) {
        for (int delta = -1; delta <= 1; delta++) {
            size_t cut = bounds[i] + (size_t)delta;
            if (bounds[i] == 0 && delta < 0)
                continue;
            if (cut >= len)
                continue;
            char what[64];
            snprintf(what, sizeof what, "cut at %zu of %zu", cut, len);
            CHECK_REFUSED_MEM(p, cut, NULL, what);
            /* Through the model loader too, for every boundary in the metadata and infos
             * and one in eight in the data section (each load reads a file). */
            if (delta == 0 && (i <= n_meta || i % 8 == 0)) {
                CHECK(gc_write_bytes(path, p, cut) == 0);
                CHECK_LOAD_REFUSED(path, 0, what);
                n_loaded++;
            }
        }
    }
    CHECK(n_loaded > 10);
    free(p);
    free(bounds);
    gcorp_model_close(&m);
}

/* A patch applied to stories260K's contents; the result must be refused by eng_model_load. */
struct gcorp_mcase {
    const char *what;
    void (*patch)(struct gc_file *f);
};

static void mp_block_count_zero(struct gc_file *f) { gc_set_u32(f, "llama.block_count", 0); }
static void mp_block_count_huge(struct gc_file *f) {
    gc_set_u32(f, "llama.block_count", 0x7FFFFFFF);
}
static void mp_block_count_more(struct gc_file *f) {
    gc_set_u32(f, "llama.block_count", 6); /* the file has 5 layers' tensors */
}
static void mp_block_count_str(struct gc_file *f) { gc_set_str(f, "llama.block_count", "5"); }
static void mp_block_count_neg(struct gc_file *f) { gc_set_i32(f, "llama.block_count", -1); }
static void mp_block_count_u64(struct gc_file *f) {
    gc_set_u64(f, "llama.block_count", (UINT64_C(1) << 32) + 5);
}
static void mp_block_count_gone(struct gc_file *f) { gc_del(f, "llama.block_count"); }
static void mp_heads_zero(struct gc_file *f) { gc_set_u32(f, "llama.attention.head_count", 0); }
static void mp_heads_not_dividing(struct gc_file *f) {
    gc_set_u32(f, "llama.attention.head_count", 7);
}
static void mp_heads_kv_zero(struct gc_file *f) {
    gc_set_u32(f, "llama.attention.head_count_kv", 0);
}
static void mp_heads_kv_not_dividing(struct gc_file *f) {
    gc_set_u32(f, "llama.attention.head_count", 8);
    gc_set_u32(f, "llama.attention.head_count_kv", 3);
}
static void mp_heads_kv_more(struct gc_file *f) {
    gc_set_u32(f, "llama.attention.head_count_kv", 64);
}
static void mp_heads_huge(struct gc_file *f) {
    gc_set_u32(f, "llama.attention.head_count", 0xFFFFFFFFu);
}
static void mp_embd_zero(struct gc_file *f) { gc_set_u32(f, "llama.embedding_length", 0); }
static void mp_embd_mismatch(struct gc_file *f) {
    gc_set_u32(f, "llama.embedding_length", 128);
}
static void mp_ff_mismatch(struct gc_file *f) {
    gc_set_u32(f, "llama.feed_forward_length", 1000);
}
static void mp_rope_dims_too_many(struct gc_file *f) {
    gc_set_u32(f, "llama.rope.dimension_count", 4096);
}
static void mp_rope_dims_odd(struct gc_file *f) {
    gc_set_u32(f, "llama.rope.dimension_count", 7);
}
static void mp_arch_unknown(struct gc_file *f) {
    gc_set_str(f, "general.architecture", "gpt-neox");
}
static void mp_arch_gone(struct gc_file *f) { gc_del(f, "general.architecture"); }
static void mp_arch_int(struct gc_file *f) { gc_set_u32(f, "general.architecture", 1); }
static void mp_no_tensor_q(struct gc_file *f) { gc_tensor_del(f, "blk.0.attn_q.weight"); }
static void mp_no_tensor_last(struct gc_file *f) { gc_tensor_del(f, "blk.4.ffn_down.weight"); }
static void mp_no_embd(struct gc_file *f) { gc_tensor_del(f, "token_embd.weight"); }
static void mp_no_norm(struct gc_file *f) { gc_tensor_del(f, "output_norm.weight"); }
static void mp_dup_tensor(struct gc_file *f) {
    struct gc_tensor *t = gc_tensor_find(f, "blk.0.attn_k.weight");
    gc_tensor_add(f, t->name, t->type, t->n_dims, t->ne, t->data, t->nbytes);
}
static void mp_tensor_transposed(struct gc_file *f) {
    struct gc_tensor *t = gc_tensor_find(f, "blk.1.ffn_up.weight");
    uint64_t x = t->ne[0];
    t->ne[0] = t->ne[1];
    t->ne[1] = x;
}
static void mp_tensor_3d(struct gc_file *f) {
    struct gc_tensor *t = gc_tensor_find(f, "blk.2.attn_v.weight");
    t->ne[1] /= 2;
    t->ne[2] = 2;
    t->n_dims = 3;
}
static void mp_tensor_1d_wrong(struct gc_file *f) {
    struct gc_tensor *t = gc_tensor_find(f, "blk.3.attn_norm.weight");
    t->ne[0] /= 2;
    t->nbytes /= 2;
}
static void mp_tensor_type_unsupported(struct gc_file *f) {
    /* Same byte size, a type the engine does not compute with (I32). */
    struct gc_tensor *t = gc_tensor_find(f, "blk.0.ffn_gate.weight");
    t->type = GGML_TYPE_I32;
}
static void mp_vocab_mismatch(struct gc_file *f) {
    struct gc_tensor *t = gc_tensor_find(f, "token_embd.weight");
    t->ne[1] -= 1;
    t->nbytes -= t->nbytes / (t->ne[1] + 1);
}
/* Tied embeddings (no output.weight) one row short of the tokenizer: found by fuzz_model (the
 * logits had fewer rows than eng_vocab_size said). */
static void mp_vocab_mismatch_tied(struct gc_file *f) {
    gc_tensor_del(f, "output.weight");
    mp_vocab_mismatch(f);
}
static void mp_tokens_gone(struct gc_file *f) { gc_del(f, "tokenizer.ggml.tokens"); }
static void mp_tokens_u32(struct gc_file *f) {
    uint32_t ids[512] = {0};
    gc_set_arr(f, "tokenizer.ggml.tokens", GGUF_TYPE_UINT32, 512, ids, sizeof ids);
}
static void mp_tokens_none(struct gc_file *f) {
    gc_set_arr(f, "tokenizer.ggml.tokens", GGUF_TYPE_STRING, 0, NULL, 0);
}
static void mp_scores_short(struct gc_file *f) {
    float s[10] = {0};
    gc_set_arr(f, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, 10, s, sizeof s);
}
static void mp_types_short(struct gc_file *f) {
    int32_t s[10] = {0};
    gc_set_arr(f, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, 10, s, sizeof s);
}
static void mp_bos_out_of_range(struct gc_file *f) {
    gc_set_u32(f, "tokenizer.ggml.bos_token_id", 512);
}
static void mp_eos_out_of_range(struct gc_file *f) {
    gc_set_u32(f, "tokenizer.ggml.eos_token_id", 0x7FFFFFFFu);
}
/* 2^32-1 is llama.cpp's "no such token" (-1 as uint32): accepted as none, or refused. */
static void mp_eos_none(struct gc_file *f) {
    gc_set_u32(f, "tokenizer.ggml.eos_token_id", 0xFFFFFFFFu);
}
static void mp_eos_negative(struct gc_file *f) {
    gc_set_i32(f, "tokenizer.ggml.eos_token_id", -2);
}
static void mp_tok_model_unknown(struct gc_file *f) {
    gc_set_str(f, "tokenizer.ggml.model", "wordpiece-9000");
}
static void mp_ctx_zero(struct gc_file *f) { gc_set_u32(f, "llama.context_length", 0); }

static const struct gcorp_mcase gcorp_mcases[] = {
    {"block_count 0", mp_block_count_zero},
    {"block_count 2^31-1", mp_block_count_huge},
    {"block_count one more than the layers present", mp_block_count_more},
    {"block_count as a string", mp_block_count_str},
    {"block_count -1", mp_block_count_neg},
    {"block_count 2^32+5 (u64)", mp_block_count_u64},
    {"block_count missing", mp_block_count_gone},
    {"head_count 0", mp_heads_zero},
    {"head_count not dividing embedding_length", mp_heads_not_dividing},
    {"head_count_kv 0", mp_heads_kv_zero},
    {"head_count_kv not dividing head_count", mp_heads_kv_not_dividing},
    {"head_count_kv above head_count", mp_heads_kv_more},
    {"head_count 2^32-1", mp_heads_huge},
    {"embedding_length 0", mp_embd_zero},
    {"embedding_length not matching the tensors", mp_embd_mismatch},
    {"feed_forward_length not matching the tensors", mp_ff_mismatch},
    {"rope dimension_count above the head size", mp_rope_dims_too_many},
    {"rope dimension_count odd", mp_rope_dims_odd},
    {"architecture gpt-neox", mp_arch_unknown},
    {"architecture missing", mp_arch_gone},
    {"architecture an integer", mp_arch_int},
    {"blk.0.attn_q.weight missing", mp_no_tensor_q},
    {"blk.4.ffn_down.weight missing", mp_no_tensor_last},
    {"token_embd.weight missing", mp_no_embd},
    {"output_norm.weight missing", mp_no_norm},
    {"a tensor twice", mp_dup_tensor},
    {"ffn_up transposed", mp_tensor_transposed},
    {"attn_v with 3 dims", mp_tensor_3d},
    {"attn_norm half as long", mp_tensor_1d_wrong},
    {"ffn_gate of type I32", mp_tensor_type_unsupported},
    {"token_embd one row short of the vocab", mp_vocab_mismatch},
    {"tied token_embd one row short of the vocab", mp_vocab_mismatch_tied},
    {"tokenizer.ggml.tokens missing", mp_tokens_gone},
    {"tokenizer.ggml.tokens an array of u32", mp_tokens_u32},
    {"tokenizer.ggml.tokens empty", mp_tokens_none},
    {"tokenizer.ggml.scores shorter than the vocab", mp_scores_short},
    {"tokenizer.ggml.token_type shorter than the vocab", mp_types_short},
    {"bos_token_id = n_vocab", mp_bos_out_of_range},
    {"eos_token_id = 2^31-1", mp_eos_out_of_range},
    {"eos_token_id = -2 (int32)", mp_eos_negative},
    {"tokenizer.ggml.model unknown", mp_tok_model_unknown},
    {"context_length 0", mp_ctx_zero},
};

TEST(gguf_corpus_model_patched) {
    REQUIRE_SHARED();
    char path[1024];
    snprintf(path, sizeof path, "%s/patched.gguf", test_tmpdir());
    int failures = 0;
    for (size_t i = 0; i < sizeof gcorp_mcases / sizeof gcorp_mcases[0]; i++) {
        struct gcorp_model m;
        CHECK(gcorp_model_open(&m, "models/stories260K.gguf") == 0);
        gcorp_mcases[i].patch(&m.f);
        CHECK(gc_write(&m.f, path) == 0);
        char msg[512];
        if (!gcorp_load_refused(path, 0, msg, sizeof msg)) {
            test_fail(__FILE__, __LINE__, "%s: eng_model_load: %s", gcorp_mcases[i].what, msg);
            failures++;
        }
        gcorp_model_close(&m);
    }
    CHECK_EQ_INT(failures, 0);
}

/* A weight of a type ggml knows but the engine does not compute with is refused by its name
 * (not as a malformed file). */
TEST(gguf_corpus_model_unsupported_type_named) {
    REQUIRE_SHARED();
    char path[1024];
    snprintf(path, sizeof path, "%s/patched_type.gguf", test_tmpdir());
    static const uint32_t types[] = {GGML_TYPE_NVFP4, GGML_TYPE_I8, GGML_TYPE_F64};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct gcorp_model m;
        CHECK(gcorp_model_open(&m, "models/stories260K.gguf") == 0);
        struct gc_tensor *t = gc_tensor_find(&m.f, "blk.0.attn_q.weight");
        CHECK(t != NULL);
        if (!t) {
            gcorp_model_close(&m);
            continue;
        }
        t->type = types[i];
        t->data = NULL;
        t->nbytes = quant_row_size(types[i], (int64_t)t->ne[0]) * t->ne[1];
        CHECK(t->nbytes > 0);
        CHECK(gc_write(&m.f, path) == 0);
        char msg[512], want[128];
        CHECK(gcorp_load_refused(path, 0, msg, sizeof msg));
        snprintf(want, sizeof want, "tensor 'blk.0.attn_q.weight': type %s is not supported",
                 quant_traits_get(types[i])->name);
        CHECK_MSG(strstr(msg, want) != NULL, "'%s' does not say '%s'", msg, want);
        gcorp_model_close(&m);
    }
}

/* Tokenizer metadata of the byte-level BPE vocabs (vocab_only loads). */
static void vp_merge_no_space(struct gc_file *f) {
    struct gc_buf b = {0};
    gc_str(&b, "abc");
    gc_set_arr(f, "tokenizer.ggml.merges", GGUF_TYPE_STRING, 1, b.p, b.len);
    gc_buf_free(&b);
}
static void vp_merges_u8(struct gc_file *f) {
    gc_set_arr(f, "tokenizer.ggml.merges", GGUF_TYPE_UINT8, 3, "abc", 3);
}
static void vp_pre_unknown(struct gc_file *f) {
    gc_set_str(f, "tokenizer.ggml.pre", "no-such-pretokenizer");
}
static void vp_tokens_bytes(struct gc_file *f) {
    gc_set_arr(f, "tokenizer.ggml.tokens", GGUF_TYPE_UINT8, 3, "abc", 3);
}

static const struct gcorp_mcase gcorp_vcases[] = {
    {"merges as bytes", vp_merges_u8},
    {"tokens as bytes", vp_tokens_bytes},
    {"bos_token_id out of range", mp_bos_out_of_range},
    {"eos_token_id 2^31-1", mp_eos_out_of_range},
    {"tokens missing", mp_tokens_gone},
    {"unknown tokenizer model", mp_tok_model_unknown},
};

TEST(gguf_corpus_vocab_patched) {
    REQUIRE_SHARED();
    char path[1024];
    snprintf(path, sizeof path, "%s/vocab.gguf", test_tmpdir());
    int failures = 0;
    for (size_t i = 0; i < sizeof gcorp_vcases / sizeof gcorp_vcases[0]; i++) {
        struct gcorp_model m;
        CHECK(gcorp_model_open(&m, "vocab/ggml-vocab-gpt-2.gguf") == 0);
        if (gcorp_vcases[i].patch == mp_bos_out_of_range) {
            /* n_vocab of this file, not stories260K's */
            struct gc_kv *kv = gc_find(&m.f, "tokenizer.ggml.tokens");
            uint64_t n;
            memcpy(&n, kv->raw + 4, 8);
            gc_set_u32(&m.f, "tokenizer.ggml.bos_token_id", (uint32_t)n);
        } else {
            gcorp_vcases[i].patch(&m.f);
        }
        CHECK(gc_write(&m.f, path) == 0);
        char msg[512];
        if (!gcorp_load_refused(path, 1, msg, sizeof msg)) {
            test_fail(__FILE__, __LINE__, "gpt-2 vocab, %s: eng_model_load: %s",
                      gcorp_vcases[i].what, msg);
            failures++;
        }
        gcorp_model_close(&m);
    }
    CHECK_EQ_INT(failures, 0);
}

/* Metadata llama.cpp tolerates (an unknown pre-tokenizer may fall back, a merge without a
 * space is skipped, eos 2^32-1 means none): refused with a message, or loaded and safe to use —
 * ids in range, text tokenizes and decodes. */
static const struct gcorp_mcase gcorp_tolerated[] = {
    {"unknown pre-tokenizer", vp_pre_unknown},
    {"a merge without a space", vp_merge_no_space},
    {"eos_token_id 2^32-1", mp_eos_none},
};

static int gcorp_safe_to_use(const char *path, char *msg, size_t cap) {
    struct eng_model_params mp = eng_model_default_params();
    mp.vocab_only = 1;
    eng_model *em = NULL;
    if (eng_model_load(path, &mp, &em) != ENG_OK) {
        snprintf(msg, cap, "refused: %s", eng_last_error());
        return gcorp_one_line(eng_last_error());
    }
    int n_vocab = eng_vocab_size(em), ok = n_vocab > 0;
    int32_t eos = eng_token_eos(em), bos = eng_token_bos(em);
    ok = ok && eos >= -1 && eos < n_vocab && bos >= -1 && bos < n_vocab;
    int32_t toks[64];
    int n = eng_tokenize(em, "Hello world, caf\xc3\xa9!", 17, 1, 0, toks, 64);
    ok = ok && n > 0 && n <= 64;
    char text[256];
    for (int i = 0; ok && i < n; i++)
        ok = toks[i] >= 0 && toks[i] < n_vocab;
    ok = ok && eng_detokenize(em, toks, n, text, sizeof text, 0) >= 0;
    snprintf(msg, cap, "loaded: n_vocab %d, bos %d, eos %d, %d tokens", n_vocab, (int)bos,
             (int)eos, n);
    eng_model_free(em);
    return ok;
}

TEST(gguf_corpus_vocab_tolerated) {
    REQUIRE_SHARED();
    char path[1024];
    snprintf(path, sizeof path, "%s/vocab.gguf", test_tmpdir());
    int failures = 0;
    for (size_t i = 0; i < sizeof gcorp_tolerated / sizeof gcorp_tolerated[0]; i++) {
        struct gcorp_model m;
        CHECK(gcorp_model_open(&m, "vocab/ggml-vocab-gpt-2.gguf") == 0);
        gcorp_tolerated[i].patch(&m.f);
        CHECK(gc_write(&m.f, path) == 0);
        char msg[512];
        if (!gcorp_safe_to_use(path, msg, sizeof msg)) {
            test_fail(__FILE__, __LINE__, "gpt-2 vocab, %s: %s", gcorp_tolerated[i].what, msg);
            failures++;
        }
        gcorp_model_close(&m);
    }
    CHECK_EQ_INT(failures, 0);
}

/* ---- the 2026 architectures' metadata (per-layer arrays, windows, RoPE scaling, scales) ----
 * Patches of ../shared/models-2026 files: each must be refused with a one-line message, or (the
 * "tolerated" ones, metadata llama.cpp accepts) load and give finite logits. */
struct gcorp_acase {
    const char *file;   /* under ../shared/models-2026 */
    const char *what;
    void (*patch)(struct gc_file *f);
};

static void ap_heads_arr_short(struct gc_file *f) {
    uint32_t v[1] = {2};
    gc_set_arr(f, "granite.attention.head_count", GGUF_TYPE_UINT32, 1, v, sizeof v);
}
static void ap_heads_arr_long(struct gc_file *f) {
    uint32_t v[3] = {2, 2, 2};
    gc_set_arr(f, "granite.attention.head_count", GGUF_TYPE_UINT32, 3, v, sizeof v);
}
static void ap_heads_arr_wrong(struct gc_file *f) {
    uint32_t v[2] = {2, 4};   /* layer 1's tensors hold 2 heads */
    gc_set_arr(f, "granite.attention.head_count", GGUF_TYPE_UINT32, 2, v, sizeof v);
}
static void ap_heads_arr_float(struct gc_file *f) {
    float v[2] = {2, 2};
    gc_set_arr(f, "granite.attention.head_count", GGUF_TYPE_FLOAT32, 2, v, sizeof v);
}
static void ap_kv_arr_zero(struct gc_file *f) {
    uint32_t v[2] = {1, 0};
    gc_set_arr(f, "granite.attention.head_count_kv", GGUF_TYPE_UINT32, 2, v, sizeof v);
}
static void ap_ff_arr_huge(struct gc_file *f) {
    uint64_t v[2] = {128, 1ull << 40};
    gc_set_arr(f, "granite.feed_forward_length", GGUF_TYPE_UINT64, 2, v, sizeof v);
}
static void ap_ff_arr_strings(struct gc_file *f) {
    struct gc_buf b = {0};
    gc_str(&b, "128");
    gc_str(&b, "128");
    gc_set_arr(f, "granite.feed_forward_length", GGUF_TYPE_STRING, 2, b.p, b.len);
    gc_buf_free(&b);
}
static void ap_logit_scale_gone(struct gc_file *f) { gc_del(f, "granite.logit_scale"); }
static void ap_logit_scale_zero(struct gc_file *f) { gc_set_f32(f, "granite.logit_scale", 0); }
static void ap_res_scale_nan(struct gc_file *f) {
    gc_set_f32(f, "granite.residual_scale", NAN);
}
static void ap_no_bias_weight(struct gc_file *f) { gc_tensor_del(f, "blk.0.attn_output.weight"); }
static void ap_pattern_long(struct gc_file *f) {
    uint8_t v[7] = {1, 1, 1, 1, 1, 0, 1};   /* 6 layers */
    gc_set_arr(f, "gemma3.attention.sliding_window_pattern", GGUF_TYPE_BOOL, 7, v, sizeof v);
}
static void ap_pattern_short(struct gc_file *f) {
    uint8_t v[2] = {1, 0};
    gc_set_arr(f, "gemma3.attention.sliding_window_pattern", GGUF_TYPE_BOOL, 2, v, sizeof v);
}
static void ap_pattern_floats(struct gc_file *f) {
    float v[6] = {1, 1, 1, 1, 1, 0};
    gc_set_arr(f, "gemma3.attention.sliding_window_pattern", GGUF_TYPE_FLOAT32, 6, v, sizeof v);
}
static void ap_pattern_str(struct gc_file *f) {
    gc_set_str(f, "gemma3.attention.sliding_window_pattern", "6");
}
static void ap_window_negative(struct gc_file *f) {
    gc_set_i32(f, "gemma3.attention.sliding_window", -16);
}
static void ap_window_str(struct gc_file *f) {
    gc_set_str(f, "gemma3.attention.sliding_window", "16");
}
static void ap_no_q_norm(struct gc_file *f) { gc_tensor_del(f, "blk.3.attn_q_norm.weight"); }
static void ap_no_post_norm(struct gc_file *f) {
    gc_tensor_del(f, "blk.5.post_attention_norm.weight");
}
static void ap_base_swa_zero(struct gc_file *f) { gc_set_f32(f, "gemma3.rope.freq_base_swa", 0); }
static void ap_scaling_dynamic(struct gc_file *f) {
    gc_set_str(f, "mistral3.rope.scaling.type", "dynamic");
}
static void ap_factor_negative(struct gc_file *f) {
    gc_set_f32(f, "mistral3.rope.scaling.factor", -4);
}
static void ap_factor_inf(struct gc_file *f) {
    gc_set_f32(f, "mistral3.rope.scaling.factor", INFINITY);
}
static void ap_beta_zero(struct gc_file *f) {
    gc_set_f32(f, "mistral3.rope.scaling.yarn_beta_fast", 0);
}
static void ap_orig_ctx_zero(struct gc_file *f) {
    gc_set_u32(f, "mistral3.rope.scaling.original_context_length", 0);
}
static void ap_temp_nan(struct gc_file *f) {
    gc_set_f32(f, "mistral3.attention.temperature_scale", NAN);
}
static void ap_attn_factor_zero(struct gc_file *f) {
    gc_set_f32(f, "llama.rope.scaling.attn_factor", 0);
}
static void ap_attn_factor_nan(struct gc_file *f) {
    gc_set_f32(f, "llama.rope.scaling.attn_factor", NAN);
}
static void ap_softcap_negative(struct gc_file *f) {
    gc_set_f32(f, "gemma2.final_logit_softcapping", -10);
}
static void ap_olmo_untied(struct gc_file *f) { gc_tensor_del(f, "output.weight"); }
static void ap_rope_factors_short(struct gc_file *f) {
    struct gc_tensor *t = gc_tensor_find(f, "rope_factors_long.weight");
    t->ne[0] /= 2;
    t->nbytes /= 2;
}
static void ap_qkv_wrong(struct gc_file *f) {
    struct gc_tensor *t = gc_tensor_find(f, "blk.1.attn_qkv.weight");
    t->ne[1] -= 64;
    t->nbytes -= t->nbytes / 8;
}

/* the hybrid (recurrent) architectures' keys */
static void ap_gdn_state_odd(struct gc_file *f) { gc_set_u32(f, "qwen35.ssm.state_size", 33); }
static void ap_gdn_groups(struct gc_file *f) { gc_set_u32(f, "qwen35.ssm.group_count", 3); }
static void ap_gdn_groups_zero(struct gc_file *f) { gc_set_u32(f, "qwen35.ssm.group_count", 0); }
static void ap_gdn_interval_zero(struct gc_file *f) {
    gc_set_u32(f, "qwen35.full_attention_interval", 0);
}
static void ap_gdn_interval_gone(struct gc_file *f) {   /* default 4: layer 1 is DeltaNet too */
    gc_del(f, "qwen35.full_attention_interval");
}
static void ap_gdn_kernel_zero(struct gc_file *f) { gc_set_u32(f, "qwen35.ssm.conv_kernel", 0); }
static void ap_gdn_kernel_five(struct gc_file *f) { gc_set_u32(f, "qwen35.ssm.conv_kernel", 5); }
static void ap_gdn_inner_gone(struct gc_file *f) { gc_del(f, "qwen35.ssm.inner_size"); }
static void ap_gdn_no_sections(struct gc_file *f) { gc_del(f, "qwen35.rope.dimension_sections"); }
static void ap_gdn_sections_three(struct gc_file *f) {
    uint32_t v[3] = {3, 3, 2};
    gc_set_arr(f, "qwen35.rope.dimension_sections", GGUF_TYPE_UINT32, 3, v, sizeof v);
}
static void ap_gdn_sections_zero(struct gc_file *f) {
    uint32_t v[4] = {0, 0, 0, 5};
    gc_set_arr(f, "qwen35.rope.dimension_sections", GGUF_TYPE_UINT32, 4, v, sizeof v);
}
static void ap_gdn_sections_wide(struct gc_file *f) {   /* heads of 64 */
    uint32_t v[4] = {30, 30, 20, 0};
    gc_set_arr(f, "qwen35.rope.dimension_sections", GGUF_TYPE_UINT32, 4, v, sizeof v);
}
static void ap_gdn_recr_short(struct gc_file *f) {
    uint8_t v[1] = {1};
    gc_set_arr(f, "qwen35.attention.recurrent_layers", GGUF_TYPE_BOOL, 1, v, sizeof v);
}
static void ap_gdn_recr_all(struct gc_file *f) {   /* layer 1 holds attention tensors */
    uint8_t v[2] = {1, 1};
    gc_set_arr(f, "qwen35.attention.recurrent_layers", GGUF_TYPE_BOOL, 2, v, sizeof v);
}
static void ap_gdn_no_ssm_a(struct gc_file *f) { gc_tensor_del(f, "blk.0.ssm_a"); }
static void ap_gdn_conv_f16(struct gc_file *f) {
    struct gc_tensor *t = gc_tensor_find(f, "blk.0.ssm_conv1d.weight");
    t->type = GGML_TYPE_F16;
    t->nbytes /= 2;
}
static void ap_gdn_nextn_all(struct gc_file *f) { gc_set_u32(f, "qwen35.nextn_predict_layers", 2); }
static void ap_gdn_gate_wrong(struct gc_file *f) {
    struct gc_tensor *t = gc_tensor_find(f, "blk.1.attn_q.weight");   /* q without its gate */
    t->ne[1] /= 2;
    t->nbytes /= 2;
}
static void ap_moe_shexp_gate_gone(struct gc_file *f) {
    gc_tensor_del(f, "blk.0.ffn_gate_inp_shexp.weight");
}
static void ap_m2_groups(struct gc_file *f) { gc_set_u32(f, "granitehybrid.ssm.group_count", 3); }
static void ap_m2_heads(struct gc_file *f) { gc_set_u32(f, "granitehybrid.ssm.time_step_rank", 7); }
static void ap_m2_state_huge(struct gc_file *f) {
    gc_set_u32(f, "granitehybrid.ssm.state_size", 1u << 20);
}
static void ap_m2_kernel_zero(struct gc_file *f) {
    gc_set_u32(f, "granitehybrid.ssm.conv_kernel", 0);
}
static void ap_m2_no_d(struct gc_file *f) { gc_tensor_del(f, "blk.0.ssm_d"); }
static void ap_m2_all_recurrent(struct gc_file *f) {   /* layer 1 has no Mamba2 tensors */
    uint32_t v[2] = {0, 0};
    gc_set_arr(f, "granitehybrid.attention.head_count_kv", GGUF_TYPE_UINT32, 2, v, sizeof v);
}
static void ap_m2_norm_wrong(struct gc_file *f) {
    struct gc_tensor *t = gc_tensor_find(f, "blk.0.ssm_norm.weight");
    t->ne[0] *= 2;   /* [512, 1]: one group's shape for 2 groups */
    t->ne[1] /= 2;
}

/* Gemma 4's keys */
static void ap_g4_no_pattern(struct gc_file *f) {
    gc_del(f, "gemma4.attention.sliding_window_pattern");
}
static void ap_g4_no_window(struct gc_file *f) { gc_del(f, "gemma4.attention.sliding_window"); }
static void ap_g4_shared_all(struct gc_file *f) {
    gc_set_u32(f, "gemma4.attention.shared_kv_layers", 6);
}
static void ap_g4_shared_kind(struct gc_file *f) {   /* layer 4 (full) would read layer 3 */
    gc_set_u32(f, "gemma4.attention.shared_kv_layers", 3);
}
static void ap_g4_hd_swa(struct gc_file *f) {
    gc_set_u32(f, "gemma4.attention.key_length_swa", 48);
    gc_set_u32(f, "gemma4.attention.value_length_swa", 48);
}
static void ap_g4_vl_swa(struct gc_file *f) {
    gc_set_u32(f, "gemma4.attention.value_length_swa", 64);
}
static void ap_g4_rot_swa_odd(struct gc_file *f) {
    gc_set_u32(f, "gemma4.rope.dimension_count_swa", 31);
}
static void ap_g4_rot_swa_wide(struct gc_file *f) {
    gc_set_u32(f, "gemma4.rope.dimension_count_swa", 64);
}
static void ap_g4_no_ple_key(struct gc_file *f) {
    gc_del(f, "gemma4.embedding_length_per_layer_input");
}
static void ap_g4_no_ple_proj(struct gc_file *f) { gc_tensor_del(f, "blk.3.proj.weight"); }
static void ap_g4_moe(struct gc_file *f) {
    gc_set_u32(f, "gemma4.expert_count", 4);
    gc_set_u32(f, "gemma4.expert_used_count", 2);
    uint64_t ne[2] = {256, 4};
    static float z[256 * 4];
    gc_tensor_add(f, "blk.0.ffn_gate_inp.weight", GGML_TYPE_F32, 2, ne, z, sizeof z);
}

static const struct gcorp_acase gcorp_acases[] = {
    {"syn26-gemma4-F16.gguf", "sliding_window_pattern missing", ap_g4_no_pattern},
    {"syn26-gemma4-F16.gguf", "sliding_window missing", ap_g4_no_window},
    {"syn26-gemma4-F16.gguf", "shared_kv_layers 6 of 7", ap_g4_shared_all},
    {"syn26-gemma4-F16.gguf", "shared_kv_layers 3 (a full layer onto a sliding one)",
     ap_g4_shared_kind},
    {"syn26-gemma4-F16.gguf", "key_length_swa 48 (the tensors have 32)", ap_g4_hd_swa},
    {"syn26-gemma4-F16.gguf", "value_length_swa 64, key_length_swa 32", ap_g4_vl_swa},
    {"syn26-gemma4-F16.gguf", "rope.dimension_count_swa 31", ap_g4_rot_swa_odd},
    {"syn26-gemma4-F16.gguf", "rope.dimension_count_swa 64 (heads of 32)", ap_g4_rot_swa_wide},
    {"syn26-gemma4-F16.gguf", "embedding_length_per_layer_input missing", ap_g4_no_ple_key},
    {"syn26-gemma4-F16.gguf", "a per-layer projection missing", ap_g4_no_ple_proj},
    {"syn26-gemma4-F16.gguf", "an expert router (MoE layers)", ap_g4_moe},
    {"syn26-qwen35-F16.gguf", "ssm.state_size 33 (not inner_size / time_step_rank)",
     ap_gdn_state_odd},
    {"syn26-qwen35-F16.gguf", "ssm.group_count 3 (4 value heads)", ap_gdn_groups},
    {"syn26-qwen35-F16.gguf", "ssm.group_count 0", ap_gdn_groups_zero},
    {"syn26-qwen35-F16.gguf", "full_attention_interval 0", ap_gdn_interval_zero},
    {"syn26-qwen35-F16.gguf", "full_attention_interval absent (4)", ap_gdn_interval_gone},
    {"syn26-qwen35-F16.gguf", "ssm.conv_kernel 0", ap_gdn_kernel_zero},
    {"syn26-qwen35-F16.gguf", "ssm.conv_kernel 5 (the kernel has 4)", ap_gdn_kernel_five},
    {"syn26-qwen35-F16.gguf", "ssm.inner_size missing", ap_gdn_inner_gone},
    {"syn26-qwen35-F16.gguf", "rope.dimension_sections missing", ap_gdn_no_sections},
    {"syn26-qwen35-F16.gguf", "rope.dimension_sections of 3", ap_gdn_sections_three},
    {"syn26-qwen35-F16.gguf", "rope.dimension_sections 0, 0, 0, 5", ap_gdn_sections_zero},
    {"syn26-qwen35-F16.gguf", "rope.dimension_sections wider than a head",
     ap_gdn_sections_wide},
    {"syn26-qwen35-F16.gguf", "attention.recurrent_layers of 1 for 2 layers", ap_gdn_recr_short},
    {"syn26-qwen35-F16.gguf", "attention.recurrent_layers all 1", ap_gdn_recr_all},
    {"syn26-qwen35-F16.gguf", "ssm_a missing", ap_gdn_no_ssm_a},
    {"syn26-qwen35-F16.gguf", "ssm_conv1d F16", ap_gdn_conv_f16},
    {"syn26-qwen35-F16.gguf", "nextn_predict_layers = block_count", ap_gdn_nextn_all},
    {"syn26-qwen35-F16.gguf", "attn_q without the gate's rows", ap_gdn_gate_wrong},
    {"syn26-qwen35moe-F16.gguf", "ffn_gate_inp_shexp missing", ap_moe_shexp_gate_gone},
    {"syn26-granitehybrid-F16.gguf", "ssm.group_count 3 (8 heads)", ap_m2_groups},
    {"syn26-granitehybrid-F16.gguf", "ssm.time_step_rank 7 (inner 512)", ap_m2_heads},
    {"syn26-granitehybrid-F16.gguf", "ssm.state_size 2^20", ap_m2_state_huge},
    {"syn26-granitehybrid-F16.gguf", "ssm.conv_kernel 0", ap_m2_kernel_zero},
    {"syn26-granitehybrid-F16.gguf", "ssm_d missing", ap_m2_no_d},
    {"syn26-granitehybrid-F16.gguf", "head_count_kv all 0", ap_m2_all_recurrent},
    {"syn26-granitehybrid-F16.gguf", "ssm_norm of one group", ap_m2_norm_wrong},
    {"syn26-granite-F16.gguf", "head_count array of 1 for 2 layers", ap_heads_arr_short},
    {"syn26-granite-F16.gguf", "head_count array of 3 for 2 layers", ap_heads_arr_long},
    {"syn26-granite-F16.gguf", "head_count array not matching layer 1", ap_heads_arr_wrong},
    {"syn26-granite-F16.gguf", "head_count array of floats", ap_heads_arr_float},
    {"syn26-granite-F16.gguf", "head_count_kv array with a 0", ap_kv_arr_zero},
    {"syn26-granite-F16.gguf", "feed_forward_length array with 2^40", ap_ff_arr_huge},
    {"syn26-granite-F16.gguf", "feed_forward_length array of strings", ap_ff_arr_strings},
    {"syn26-granite-F16.gguf", "logit_scale missing", ap_logit_scale_gone},
    {"syn26-granite-F16.gguf", "logit_scale 0", ap_logit_scale_zero},
    {"syn26-granite-F16.gguf", "residual_scale NaN", ap_res_scale_nan},
    {"syn26-granite-F16.gguf", "attn_output.weight missing (its bias present)",
     ap_no_bias_weight},
    {"syn26-gemma3-F16.gguf", "sliding_window_pattern longer than the layers", ap_pattern_long},
    {"syn26-gemma3-F16.gguf", "sliding_window_pattern shorter than the layers",
     ap_pattern_short},
    {"syn26-gemma3-F16.gguf", "sliding_window_pattern of floats", ap_pattern_floats},
    {"syn26-gemma3-F16.gguf", "sliding_window_pattern a string", ap_pattern_str},
    {"syn26-gemma3-F16.gguf", "sliding_window -16", ap_window_negative},
    {"syn26-gemma3-F16.gguf", "sliding_window a string", ap_window_str},
    {"syn26-gemma3-F16.gguf", "attn_q_norm missing", ap_no_q_norm},
    {"syn26-gemma3-F16.gguf", "post_attention_norm missing", ap_no_post_norm},
    {"syn26-gemma3-F16.gguf", "rope.freq_base_swa 0", ap_base_swa_zero},
    {"syn26-mistral3-F16.gguf", "rope.scaling.type dynamic", ap_scaling_dynamic},
    {"syn26-mistral3-F16.gguf", "rope.scaling.factor -4", ap_factor_negative},
    {"syn26-mistral3-F16.gguf", "rope.scaling.factor inf", ap_factor_inf},
    {"syn26-mistral3-F16.gguf", "yarn_beta_fast 0", ap_beta_zero},
    {"syn26-mistral3-F16.gguf", "original_context_length 0", ap_orig_ctx_zero},
    {"syn26-mistral3-F16.gguf", "temperature_scale NaN", ap_temp_nan},
    {"syn26-llama-yarn-F16.gguf", "rope.scaling.attn_factor 0", ap_attn_factor_zero},
    {"syn26-llama-yarn-F16.gguf", "rope.scaling.attn_factor NaN", ap_attn_factor_nan},
    {"syn26-gemma2-F16.gguf", "final_logit_softcapping -10", ap_softcap_negative},
    {"syn26-olmo3-F16.gguf", "output.weight missing (olmo2 has no tied embeddings)",
     ap_olmo_untied},
    {"syn26-phi3-longrope-F16.gguf", "rope_factors_long half as long", ap_rope_factors_short},
    {"syn26-phi3-longrope-F16.gguf", "attn_qkv 64 rows short", ap_qkv_wrong},
};

TEST(gguf_corpus_arch26_refused) {
    REQUIRE_SHARED();
    char path[1024], rel[256];
    snprintf(path, sizeof path, "%s/patched.gguf", test_tmpdir());
    int failures = 0;
    for (size_t i = 0; i < sizeof gcorp_acases / sizeof gcorp_acases[0]; i++) {
        struct gcorp_model m;
        snprintf(rel, sizeof rel, "models-2026/%s", gcorp_acases[i].file);
        CHECK(gcorp_model_open(&m, rel) == 0);
        gcorp_acases[i].patch(&m.f);
        CHECK(gc_write(&m.f, path) == 0);
        char msg[512];
        int refused = gcorp_load_refused(path, 0, msg, sizeof msg);
        if (getenv("GCORP_SHOW"))
            fprintf(stderr, "%s: %s -> %s\n", gcorp_acases[i].file, gcorp_acases[i].what, msg);
        if (!refused) {
            test_fail(__FILE__, __LINE__, "%s, %s: eng_model_load: %s", gcorp_acases[i].file,
                      gcorp_acases[i].what, msg);
            failures++;
        }
        gcorp_model_close(&m);
    }
    CHECK_EQ_INT(failures, 0);
}

static void at_window_zero(struct gc_file *f) { gc_set_u32(f, "gemma3.attention.sliding_window", 0); }
static void at_window_one(struct gc_file *f) { gc_set_u32(f, "gemma3.attention.sliding_window", 1); }
static void at_window_huge(struct gc_file *f) {
    gc_set_u32(f, "gemma3.attention.sliding_window", 1u << 30);
}
static void at_period_zero(struct gc_file *f) {
    gc_set_u32(f, "gemma3.attention.sliding_window_pattern", 0);
}
static void at_period_huge(struct gc_file *f) {
    gc_set_u32(f, "gemma3.attention.sliding_window_pattern", 1000);
}
static void at_gemma2_no_softcaps(struct gc_file *f) {
    gc_del(f, "gemma2.attn_logit_softcapping");
    gc_del(f, "gemma2.final_logit_softcapping");
}
static void at_granite_nope(struct gc_file *f) {
    uint8_t no = 0;
    gc_set_raw(f, "granite.rope.scaling.finetuned", GGUF_TYPE_BOOL, &no, 1);
}
static void at_scaling_none(struct gc_file *f) {
    gc_set_str(f, "mistral3.rope.scaling.type", "none");
}
static void at_exaone_window_zero(struct gc_file *f) {
    gc_set_u32(f, "exaone4.attention.sliding_window", 0);
}

static void at_gdn_recr_explicit(struct gc_file *f) {
    uint8_t v[2] = {1, 0};
    gc_set_arr(f, "qwen35.attention.recurrent_layers", GGUF_TYPE_BOOL, 2, v, sizeof v);
}
static void at_gdn_nextn(struct gc_file *f) {   /* layer 1 becomes an MTP block, not run */
    gc_set_u32(f, "qwen35.nextn_predict_layers", 1);
}
static void at_gdn_sections_4th(struct gc_file *f) {   /* pairs at position 0 */
    uint32_t v[4] = {2, 2, 2, 2};
    gc_set_arr(f, "qwen35.rope.dimension_sections", GGUF_TYPE_UINT32, 4, v, sizeof v);
}
static void at_m2_nope(struct gc_file *f) {
    uint8_t no = 0;
    gc_set_raw(f, "granitehybrid.rope.scaling.finetuned", GGUF_TYPE_BOOL, &no, 1);
}
static void at_m2_no_conv_bias(struct gc_file *f) { gc_tensor_del(f, "blk.0.ssm_conv1d.bias"); }
static void at_m2_no_logit_scale(struct gc_file *f) { gc_del(f, "granitehybrid.logit_scale"); }

static void at_g4_no_v(struct gc_file *f) {   /* V = the raw K projection */
    gc_tensor_del(f, "blk.2.attn_v.weight");
    gc_tensor_del(f, "blk.4.attn_v.weight");
}
static void at_g4_no_sharing(struct gc_file *f) {   /* layers 5, 6 use their own K/V */
    gc_set_u32(f, "gemma4.attention.shared_kv_layers", 0);
}
static void at_g4_no_ple(struct gc_file *f) {
    gc_set_u32(f, "gemma4.embedding_length_per_layer_input", 0);
}
static void at_g4_no_out_scale(struct gc_file *f) {
    gc_tensor_del(f, "blk.1.layer_output_scale.weight");
}
static void at_g4_shared_k_gone(struct gc_file *f) {   /* unused on a KV-sharing layer */
    gc_tensor_del(f, "blk.6.attn_k.weight");
    gc_tensor_del(f, "blk.6.attn_v.weight");
    gc_tensor_del(f, "blk.6.attn_k_norm.weight");
}

static const struct gcorp_acase gcorp_atolerated[] = {
    {"syn26-gemma4-F16.gguf", "full layers without attn_v", at_g4_no_v},
    {"syn26-gemma4-F16.gguf", "shared_kv_layers 0", at_g4_no_sharing},
    {"syn26-gemma4-Q8_0.gguf", "embedding_length_per_layer_input 0", at_g4_no_ple},
    {"syn26-gemma4-F16.gguf", "layer_output_scale missing on a layer", at_g4_no_out_scale},
    {"syn26-gemma4-F16.gguf", "a KV-sharing layer without attn_k/attn_v/attn_k_norm",
     at_g4_shared_k_gone},
    {"syn26-qwen35-F16.gguf", "attention.recurrent_layers 1, 0", at_gdn_recr_explicit},
    {"syn26-qwen35-F16.gguf", "nextn_predict_layers 1 (the last block not run)", at_gdn_nextn},
    {"syn26-qwen35-Q8_0.gguf", "rope.dimension_sections 2, 2, 2, 2", at_gdn_sections_4th},
    {"syn26-granitehybrid-F16.gguf", "rope.scaling.finetuned false (no RoPE)", at_m2_nope},
    {"syn26-granitehybrid-Q4_K_M.gguf", "ssm_conv1d.bias missing", at_m2_no_conv_bias},
    {"syn26-granitehybrid-F16.gguf", "logit_scale missing (optional here)", at_m2_no_logit_scale},
    {"syn26-gemma3-F16.gguf", "sliding_window 0 (no window)", at_window_zero},
    {"syn26-gemma3-F16.gguf", "sliding_window 1", at_window_one},
    {"syn26-gemma3-F16.gguf", "sliding_window 2^30", at_window_huge},
    {"syn26-gemma3-F16.gguf", "sliding_window_pattern 0 (every layer local)", at_period_zero},
    {"syn26-gemma3-F16.gguf", "sliding_window_pattern 1000", at_period_huge},
    {"syn26-gemma2-F16.gguf", "no soft-caps", at_gemma2_no_softcaps},
    {"syn26-granite-F16.gguf", "rope.scaling.finetuned false (no RoPE)", at_granite_nope},
    {"syn26-mistral3-F16.gguf", "rope.scaling.type none", at_scaling_none},
    {"syn26-exaone4-Q8_0.gguf", "64 layers, sliding_window 0", at_exaone_window_zero},
};

TEST(gguf_corpus_arch26_tolerated) {
    REQUIRE_SHARED();
    char path[1024], rel[256];
    snprintf(path, sizeof path, "%s/patched.gguf", test_tmpdir());
    static const int32_t toks[24] = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315,
                                     421, 395, 317, 426, 338, 401, 396, 267, 300, 301, 302, 303};
    int failures = 0;
    for (size_t i = 0; i < sizeof gcorp_atolerated / sizeof gcorp_atolerated[0]; i++) {
        struct gcorp_model m;
        snprintf(rel, sizeof rel, "models-2026/%s", gcorp_atolerated[i].file);
        CHECK(gcorp_model_open(&m, rel) == 0);
        gcorp_atolerated[i].patch(&m.f);
        CHECK(gc_write(&m.f, path) == 0);
        eng_model *em = NULL;
        eng_ctx *c = NULL;
        struct eng_ctx_params cp = eng_ctx_default_params();
        cp.n_ctx = 32;
        cp.n_threads = 2;
        int ok = eng_model_load(path, NULL, &em) == ENG_OK && eng_ctx_new(em, &cp, &c) == ENG_OK &&
                 eng_decode(c, toks, 24, 1) == ENG_OK;
        for (int p = 0; ok && p < 24; p++) {
            const float *lg = eng_logits(c, p);
            for (int v = 0; ok && v < eng_vocab_size(em); v++)
                ok = isfinite(lg[v]);
        }
        if (!ok) {
            test_fail(__FILE__, __LINE__, "%s, %s: %s", gcorp_atolerated[i].file,
                      gcorp_atolerated[i].what, eng_last_error());
            failures++;
        }
        eng_ctx_free(c);
        eng_model_free(em);
        gcorp_model_close(&m);
    }
    CHECK_EQ_INT(failures, 0);
}
