/* tests/test_gguf.c — the GGUF reader: crafted files built in memory (every metadata type,
 * nested arrays, alignment, v2 and v3), then truncated, corrupted and oversized variants that
 * must be refused with a one-line message, and the real files in ../shared. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "gguf.h"
#include "gguf_craft.h"
#include "harness.h"
#include "quant.h"

/* ---- the crafted file (bytes written with tests/gguf_craft.h) ---- */
static void b_key(struct gc_buf *b, const char *k, uint32_t type) { gc_str(b, k); gc_u32(b, type); }

/* What to break in the crafted file. */
enum mut {
    M_NONE, M_V2, M_BAD_MAGIC, M_HUGE_NKV, M_HUGE_NTENSORS, M_HUGE_STRLEN, M_HUGE_ARR,
    M_BAD_VTYPE, M_BAD_ARRTYPE, M_BAD_TTYPE, M_ZERO_DIM, M_OVERFLOW_DIMS, M_FIVE_DIMS,
    M_OFFSET_PAST_END, M_OFFSET_OVERFLOW, M_MISALIGNED, M_BAD_ALIGNMENT, M_DUP_TENSOR,
    M_PARTIAL_BLOCK, M_ALIGN64, M_DEEP_NEST, M_DUP_KEY, M_VERSION9
};

/* Two F32 tensors "a" [4,2] and "b" [8] (values 0..15), plus one Q8_0 "q" [32]. */
static struct gc_buf build(enum mut m) {
    struct gc_buf b = {0};
    uint64_t align = m == M_ALIGN64 ? 64 : 32;
    gc_bytes(&b, m == M_BAD_MAGIC ? "GGUX" : "GGUF", 4);
    gc_u32(&b, m == M_V2 ? 2 : m == M_VERSION9 ? 9 : 3);
    gc_u64(&b, m == M_HUGE_NTENSORS ? (1ull << 60) : 3);        /* tensors */
    gc_u64(&b, m == M_HUGE_NKV ? UINT64_MAX : 21);              /* kvs */
    b_key(&b, "general.architecture", GGUF_TYPE_STRING);
    if (m == M_HUGE_STRLEN) {
        gc_u64(&b, UINT64_MAX - 3);
    } else {
        gc_str(&b, "llama");
    }
    b_key(&b, "general.alignment", GGUF_TYPE_UINT32);
    gc_u32(&b, m == M_BAD_ALIGNMENT ? 48 : (uint32_t)align);
    b_key(&b, "t.u8", GGUF_TYPE_UINT8); gc_u8(&b, 200);
    b_key(&b, "t.i8", m == M_BAD_VTYPE ? 77 : GGUF_TYPE_INT8); gc_u8(&b, (uint8_t)-5);
    b_key(&b, "t.u16", GGUF_TYPE_UINT16); { uint16_t v = 60000; gc_bytes(&b, &v, 2); }
    b_key(&b, "t.i16", GGUF_TYPE_INT16); { int16_t v = -300; gc_bytes(&b, &v, 2); }
    b_key(&b, "t.u32", GGUF_TYPE_UINT32); gc_u32(&b, 4000000000u);
    b_key(&b, "t.i32", GGUF_TYPE_INT32); { int32_t v = -70000; gc_bytes(&b, &v, 4); }
    b_key(&b, "t.f32", GGUF_TYPE_FLOAT32); { float v = 1.5f; gc_bytes(&b, &v, 4); }
    b_key(&b, "t.bool", GGUF_TYPE_BOOL); gc_u8(&b, 1);
    b_key(&b, "t.u64", GGUF_TYPE_UINT64); gc_u64(&b, 1ull << 40);
    b_key(&b, "t.i64", GGUF_TYPE_INT64); gc_u64(&b, (uint64_t)-9);
    b_key(&b, "t.f64", GGUF_TYPE_FLOAT64); { double v = 0.25; gc_bytes(&b, &v, 8); }
    b_key(&b, "t.strs", GGUF_TYPE_ARRAY);
    gc_u32(&b, GGUF_TYPE_STRING); gc_u64(&b, 3);
    gc_str(&b, "one"); gc_str(&b, ""); gc_str(&b, "three");
    b_key(&b, "t.nested", GGUF_TYPE_ARRAY);                     /* [[1,2],[3]] of int32 */
    gc_u32(&b, GGUF_TYPE_ARRAY); gc_u64(&b, 2);
    gc_u32(&b, GGUF_TYPE_INT32); gc_u64(&b, 2); gc_u32(&b, 1); gc_u32(&b, 2);
    gc_u32(&b, GGUF_TYPE_INT32); gc_u64(&b, 1); gc_u32(&b, 3);
    b_key(&b, "t.ints", GGUF_TYPE_ARRAY);
    gc_u32(&b, m == M_BAD_ARRTYPE ? 99 : GGUF_TYPE_INT32);
    gc_u64(&b, m == M_HUGE_ARR ? (1ull << 62) : 4);
    for (int i = 0; i < 4; i++) gc_u32(&b, (uint32_t)(i * 10));
    b_key(&b, "t.deep", GGUF_TYPE_ARRAY);
    {
        int depth = m == M_DEEP_NEST ? 40 : 3;
        for (int i = 0; i < depth; i++) { gc_u32(&b, GGUF_TYPE_ARRAY); gc_u64(&b, 1); }
        gc_u32(&b, GGUF_TYPE_UINT8); gc_u64(&b, 1); gc_u8(&b, 7);
    }
    b_key(&b, "t.empty", GGUF_TYPE_ARRAY); gc_u32(&b, GGUF_TYPE_FLOAT32); gc_u64(&b, 0);
    b_key(&b, m == M_DUP_KEY ? "t.u8" : "t.last", GGUF_TYPE_STRING); gc_str(&b, "end");
    b_key(&b, "t.unicode", GGUF_TYPE_STRING); gc_str(&b, "\xc3\xa9t\xc3\xa9");
    b_key(&b, "t.zero", GGUF_TYPE_UINT32); gc_u32(&b, 0);
    /* tensor infos */
    gc_str(&b, "a");
    if (m == M_FIVE_DIMS) {
        gc_u32(&b, 5); for (int i = 0; i < 5; i++) gc_u64(&b, 1);
    } else if (m == M_OVERFLOW_DIMS) {
        gc_u32(&b, 3); gc_u64(&b, 1ull << 32); gc_u64(&b, 1ull << 32); gc_u64(&b, 1ull << 32);
    } else {
        gc_u32(&b, 2); gc_u64(&b, 4); gc_u64(&b, m == M_ZERO_DIM ? 0 : 2);
    }
    gc_u32(&b, m == M_BAD_TTYPE ? 5 : GGML_TYPE_F32);
    gc_u64(&b, 0);
    gc_str(&b, m == M_DUP_TENSOR ? "a" : "b");
    gc_u32(&b, 1); gc_u64(&b, 8); gc_u32(&b, GGML_TYPE_F32);
    gc_u64(&b, m == M_OFFSET_PAST_END ? 4096 : m == M_OFFSET_OVERFLOW ? (UINT64_MAX & ~63ull)
             : m == M_MISALIGNED ? 36 : align);
    gc_str(&b, "q");
    gc_u32(&b, 1); gc_u64(&b, m == M_PARTIAL_BLOCK ? 40 : 32); gc_u32(&b, GGML_TYPE_Q8_0);
    gc_u64(&b, 2 * align);
    /* data */
    while (b.len % align) gc_u8(&b, 0);
    for (int i = 0; i < 16; i++) {
        float v = (float)i;
        gc_bytes(&b, &v, 4);
        if (i == 7) while (b.len % align) gc_u8(&b, 0);
    }
    while (b.len % align) gc_u8(&b, 0);
    for (int i = 0; i < 34; i++) gc_u8(&b, (uint8_t)i);       /* one Q8_0 block, ends the file */
    return b;
}

/* Opens a private malloc'd copy of exactly len bytes (so ASan sees any overrun); on success
 * close_copy frees it (valgrind's leak check in make memcheck). */
static uint8_t *open_copy_buf;
static int open_copy(const uint8_t *p, size_t len, gguf **g, char *err, size_t err_len) {
    uint8_t *c = malloc(len ? len : 1);
    memcpy(c, p, len);
    int rc = gguf_open_mem(c, len, g, err, err_len);
    if (rc != ENG_OK)
        free(c);
    else
        open_copy_buf = c;
    return rc;
}

static void close_copy(gguf *g) {
    gguf_close(g);
    free(open_copy_buf);
    open_copy_buf = NULL;
}

TEST(gguf_valid_file_parses) {
    for (int v = 0; v < 3; v++) {
        enum mut m = v == 0 ? M_NONE : v == 1 ? M_V2 : M_ALIGN64;
        struct gc_buf b = build(m);
        char err[256] = "";
        gguf *g;
        int rc = gguf_open_mem(b.p, b.len, &g, err, sizeof err);
        CHECK_MSG(rc == ENG_OK, "variant %d: %s", v, err);
        CHECK_EQ_INT(gguf_version(g), m == M_V2 ? 2 : 3);
        CHECK_EQ_INT(gguf_alignment(g), m == M_ALIGN64 ? 64 : 32);
        CHECK_EQ_INT(gguf_file_size(g), b.len);
        CHECK_EQ_INT(gguf_n_kv(g), 21);
        struct gguf_str s;
        CHECK_EQ_INT(gguf_get_str(g, "general.architecture", &s), 0);
        CHECK(s.len == 5 && !memcmp(s.p, "llama", 5));
        uint32_t u;
        int64_t i64;
        float f;
        int bo;
        CHECK_EQ_INT(gguf_get_u32(g, "t.u8", &u), 0); CHECK_EQ_INT(u, 200);
        CHECK_EQ_INT(gguf_get_u32(g, "t.u16", &u), 0); CHECK_EQ_INT(u, 60000);
        CHECK_EQ_INT(gguf_get_u32(g, "t.u32", &u), 0); CHECK_EQ_INT(u, 4000000000u);
        CHECK_EQ_INT(gguf_get_u32(g, "t.i8", &u), -2);        /* negative: does not fit */
        CHECK_EQ_INT(gguf_get_u32(g, "t.u64", &u), -2);       /* too large */
        CHECK_EQ_INT(gguf_get_u32(g, "t.absent", &u), -1);
        CHECK_EQ_INT(gguf_get_u32(g, "t.f32", &u), -2);
        CHECK_EQ_INT(gguf_get_i64(g, "t.i8", &i64), 0); CHECK_EQ_INT(i64, -5);
        CHECK_EQ_INT(gguf_get_i64(g, "t.i16", &i64), 0); CHECK_EQ_INT(i64, -300);
        CHECK_EQ_INT(gguf_get_i64(g, "t.i32", &i64), 0); CHECK_EQ_INT(i64, -70000);
        CHECK_EQ_INT(gguf_get_i64(g, "t.i64", &i64), 0); CHECK_EQ_INT(i64, -9);
        CHECK_EQ_INT(gguf_get_i64(g, "t.u64", &i64), 0); CHECK_EQ_INT(i64, 1ll << 40);
        CHECK_EQ_INT(gguf_get_f32(g, "t.f32", &f), 0); CHECK(f == 1.5f);
        CHECK_EQ_INT(gguf_get_f32(g, "t.f64", &f), 0); CHECK(f == 0.25f);
        CHECK_EQ_INT(gguf_get_bool(g, "t.bool", &bo), 0); CHECK_EQ_INT(bo, 1);
        CHECK_EQ_INT(gguf_get_bool(g, "t.u8", &bo), -2);
        CHECK_EQ_INT(gguf_get_str(g, "t.u8", &s), -2);
        CHECK_EQ_INT(gguf_get_str(g, "t.unicode", &s), 0);
        CHECK(s.len == 5 && !memcmp(s.p, "\xc3\xa9t\xc3\xa9", 5));
        struct gguf_str strs[3];
        CHECK_EQ_INT(gguf_get_arr_str(g, "t.strs", strs, 3), 0);
        CHECK(strs[0].len == 3 && !memcmp(strs[0].p, "one", 3));
        CHECK(strs[1].len == 0);
        CHECK(strs[2].len == 5 && !memcmp(strs[2].p, "three", 5));
        CHECK_EQ_INT(gguf_get_arr_str(g, "t.strs", strs, 4), -2);
        CHECK_EQ_INT(gguf_get_arr_str(g, "t.ints", strs, 1), -2);
        uint32_t at;
        uint64_t n;
        const uint8_t *d;
        CHECK_EQ_INT(gguf_get_arr(g, "t.ints", &at, &n, &d), 0);
        CHECK_EQ_INT(at, GGUF_TYPE_INT32);
        CHECK_EQ_INT(n, 4);
        int32_t x3;
        memcpy(&x3, d + 12, 4);
        CHECK_EQ_INT(x3, 30);
        CHECK_EQ_INT(gguf_get_arr(g, "t.nested", &at, &n, &d), 0);
        CHECK_EQ_INT(at, GGUF_TYPE_ARRAY);
        CHECK_EQ_INT(n, 2);
        CHECK_EQ_INT(gguf_get_arr(g, "t.empty", &at, &n, &d), 0);
        CHECK_EQ_INT(n, 0);
        const struct gguf_kv *kv = gguf_kv_find(g, "t.last");
        CHECK(kv && kv->type == GGUF_TYPE_STRING);
        CHECK(gguf_kv_at(g, 0) && gguf_kv_at(g, 0)->key.len == strlen("general.architecture"));
        CHECK(gguf_kv_at(g, 21) == NULL && gguf_kv_at(g, -1) == NULL);

        CHECK_EQ_INT(gguf_n_tensors(g), 3);
        const struct gguf_tensor *a = gguf_tensor_find(g, "a"), *bt = gguf_tensor_find(g, "b");
        const struct gguf_tensor *q = gguf_tensor_find(g, "q");
        CHECK(a && bt && q && !gguf_tensor_find(g, "c"));
        CHECK_EQ_INT(a->n_dims, 2);
        CHECK(a->ne[0] == 4 && a->ne[1] == 2 && a->ne[2] == 1 && a->ne[3] == 1);
        CHECK_EQ_INT(a->nbytes, 32);
        CHECK_EQ_INT(q->nbytes, 34);
        CHECK_EQ_INT(((uintptr_t)a->data - (uintptr_t)b.p) % gguf_alignment(g), 0);
        float fa[8], fb[8];
        memcpy(fa, a->data, 32);
        memcpy(fb, bt->data, 32);
        CHECK(fa[0] == 0 && fa[7] == 7 && fb[0] == 8 && fb[7] == 15);
        CHECK(gguf_tensor_at(g, 2) == q && gguf_tensor_at(g, 3) == NULL);
        gguf_close(g);
        free(b.p);
    }
}

TEST(gguf_truncated_files) {
    struct gc_buf b = build(M_NONE);
    int n_fail = 0;
    for (size_t cut = 0; cut < b.len; cut++) {
        char err[256] = "";
        gguf *g = NULL;
        int rc = open_copy(b.p, cut, &g, err, sizeof err);
        if (rc == ENG_OK) {
            n_fail++;
            close_copy(g);
            continue;
        }
        CHECK_MSG(rc == ENG_E_FORMAT, "cut %zu: rc %d", cut, rc);
        CHECK_MSG(err[0] && !strchr(err, '\n'), "cut %zu: no one-line message", cut);
    }
    CHECK_MSG(n_fail == 0, "%d truncations were accepted", n_fail);
    free(b.p);
}

static void expect_refused(enum mut m, const char *needle) {
    struct gc_buf b = build(m);
    char err[256] = "";
    gguf *g = NULL;
    uint8_t *c = malloc(b.len);
    memcpy(c, b.p, b.len);
    int rc = gguf_open_mem(c, b.len, &g, err, sizeof err);
    free(b.p);
    if (rc == ENG_OK)
        gguf_close(g);
    free(c);
    CHECK_MSG(rc != ENG_OK, "mutation %d accepted", (int)m);
    CHECK_MSG(strstr(err, needle) != NULL, "mutation %d: \"%s\" lacks \"%s\"", (int)m, err, needle);
}

TEST(gguf_absurd_counts) {
    expect_refused(M_HUGE_NKV, "metadata count");
    expect_refused(M_HUGE_NTENSORS, "tensor count");
    expect_refused(M_HUGE_STRLEN, "general.architecture");
    expect_refused(M_HUGE_ARR, "'t.ints': array of");
    expect_refused(M_DEEP_NEST, "nested deeper");
}

TEST(gguf_offsets_past_end) {
    expect_refused(M_OFFSET_PAST_END, "tensor 'b': data");
    expect_refused(M_OFFSET_OVERFLOW, "tensor 'b': data starts past the end of the file");
    expect_refused(M_MISALIGNED, "tensor 'b': offset 36 is not a multiple");
}

TEST(gguf_bad_type_ids) {
    expect_refused(M_BAD_VTYPE, "metadata 't.i8': bad value type id 77");
    expect_refused(M_BAD_ARRTYPE, "'t.ints': bad array element type id 99");
    expect_refused(M_BAD_TTYPE, "tensor 'a': bad type id 5");
    expect_refused(M_BAD_MAGIC, "not a GGUF file");
    expect_refused(M_VERSION9, "version 9");
}

TEST(gguf_bad_dims) {
    expect_refused(M_ZERO_DIM, "tensor 'a': dimension 1 is zero");
    expect_refused(M_OVERFLOW_DIMS, "tensor 'a': element count overflows");
    expect_refused(M_FIVE_DIMS, "tensor 'a': 5 dimensions");
    expect_refused(M_PARTIAL_BLOCK, "tensor 'q': row of 40 values is not a whole number of Q8_0");
}

TEST(gguf_bad_structure) {
    expect_refused(M_BAD_ALIGNMENT, "general.alignment");
    expect_refused(M_DUP_TENSOR, "tensor 'a': duplicate name");
    expect_refused(M_DUP_KEY, "'t.u8': duplicate key");
}

/* Every byte of the header region flipped to 0xff one at a time: never a crash. */
TEST(gguf_corrupted_bytes) {
    struct gc_buf b = build(M_NONE);
    for (size_t i = 0; i < b.len - 34 - 64; i++) {
        uint8_t save = b.p[i];
        b.p[i] = 0xff;
        char err[256] = "";
        gguf *g = NULL;
        if (open_copy(b.p, b.len, &g, err, sizeof err) == ENG_OK) {
            /* a flipped string byte is still a valid file; lookups must stay in bounds */
            for (int64_t k = 0; k < gguf_n_kv(g); k++)
                (void)gguf_kv_at(g, k);
            close_copy(g);
        } else {
            CHECK_MSG(err[0] != 0, "byte %zu: no message", i);
        }
        b.p[i] = save;
    }
    free(b.p);
}

TEST(gguf_shared_files_open) {
    REQUIRE_SHARED();
    const char *dirs[] = {"models", "vocab"};
    int n_files = 0;
    for (int d = 0; d < 2; d++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", test_shared_path(dirs[d]));
        DIR *dp = opendir(dir);
        CHECK(dp);
        struct dirent *de;
        while ((de = readdir(dp))) {
            size_t l = strlen(de->d_name);
            if (l < 5 || strcmp(de->d_name + l - 5, ".gguf"))
                continue;
            char path[2048], err[256] = "";
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            gguf *g;
            int rc = gguf_open(path, &g, err, sizeof err);
            CHECK_MSG(rc == ENG_OK, "%s: %s", path, err);
            CHECK(gguf_version(g) == 3);
            struct gguf_str arch;
            CHECK_EQ_INT(gguf_get_str(g, "general.architecture", &arch), 0);
            if (d == 0)
                CHECK(gguf_n_tensors(g) > 0 && gguf_tensor_find(g, "token_embd.weight"));
            gguf_close(g);
            n_files++;
        }
        closedir(dp);
    }
    CHECK(n_files >= 20);
    char err[256] = "";
    gguf *g;
    CHECK_EQ_INT(gguf_open("/nonexistent/x.gguf", &g, err, sizeof err), ENG_E_IO);
    CHECK(strstr(err, "/nonexistent/x.gguf") != NULL);
}
