/* tests/test_gguf_write.c — the GGUF writer round-trips through the reader: every metadata
 * type, string arrays, values copied from another file (nested arrays included), alignment,
 * tensors given directly and through the fill callback; bad tensors are refused. */
#include <stdlib.h>

#include "gguf.h"
#include "gguf_write.h"
#include "harness.h"
#include "quant.h"

static int gguf_write_test_fill(void *ud, int i, void *buf, size_t n) {
    (void)ud;
    memset(buf, 0x40 + i, n);
    return 0;
}

TEST(gguf_write_roundtrip) {
    char path[512], path2[512], err[256];
    snprintf(path, sizeof path, "%s/a.gguf", test_tmpdir());
    snprintf(path2, sizeof path2, "%s/b.gguf", test_tmpdir());
    gguf_writer *w = gguf_writer_new();
    CHECK(w);
    CHECK_EQ_INT(gguf_writer_add_u32(w, "general.alignment", 64), 0);
    CHECK_EQ_INT(gguf_writer_add_str(w, "general.architecture", "llama"), 0);
    CHECK_EQ_INT(gguf_writer_add_u8(w, "t.u8", 200), 0);
    CHECK_EQ_INT(gguf_writer_add_i8(w, "t.i8", -100), 0);
    CHECK_EQ_INT(gguf_writer_add_u16(w, "t.u16", 60000), 0);
    CHECK_EQ_INT(gguf_writer_add_i16(w, "t.i16", -30000), 0);
    CHECK_EQ_INT(gguf_writer_add_i32(w, "t.i32", -7), 0);
    CHECK_EQ_INT(gguf_writer_add_u64(w, "t.u64", 1ull << 40), 0);
    CHECK_EQ_INT(gguf_writer_add_i64(w, "t.i64", -(1ll << 40)), 0);
    CHECK_EQ_INT(gguf_writer_add_f32(w, "t.f32", 0.5f), 0);
    CHECK_EQ_INT(gguf_writer_add_f64(w, "t.f64", 0.25), 0);
    CHECK_EQ_INT(gguf_writer_add_bool(w, "t.bool", 1), 0);
    const char *strs[] = {"a", "", "ccc"};
    CHECK_EQ_INT(gguf_writer_add_arr_str(w, "t.strs", strs, 3), 0);
    const float fl[] = {1.0f, -2.0f};
    CHECK_EQ_INT(gguf_writer_add_arr(w, "t.floats", GGUF_TYPE_FLOAT32, fl, 2), 0);
    /* a nested array, hand-encoded: [[1, 2], [3]] of i32 */
    unsigned char raw[256];
    size_t o = 0;
    uint64_t kl = 8, n2 = 2, n1 = 1;
    uint32_t ta = GGUF_TYPE_ARRAY, ti = GGUF_TYPE_INT32;
    int32_t v[] = {1, 2, 3};
#define PUT(p, n) do { memcpy(raw + o, (p), (n)); o += (n); } while (0)
    PUT(&kl, 8); PUT("t.nested", 8); PUT(&ta, 4); PUT(&ta, 4); PUT(&n2, 8);
    PUT(&ti, 4); PUT(&n2, 8); PUT(v, 8);
    PUT(&ti, 4); PUT(&n1, 8); PUT(v + 2, 4);
#undef PUT
    CHECK_EQ_INT(gguf_writer_add_raw(w, raw, o), 0);
    float data[64];
    for (int i = 0; i < 64; i++) data[i] = (float)i;
    int64_t ne[2] = {32, 2};
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "w.f32", GGML_TYPE_F32, 2, ne, data), 0);
    int64_t ne2[2] = {64, 3};
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "w.q8", GGML_TYPE_Q8_0, 2, ne2, NULL), 1);
    CHECK_EQ_INT(gguf_writer_tensor_bytes(w, 1), 3 * 2 * 34);
    /* refused: duplicate name, a row that is not whole blocks, a zero dimension */
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "w.f32", GGML_TYPE_F32, 2, ne, data), -1);
    int64_t bad[2] = {33, 1}, zero[2] = {32, 0};
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "x", GGML_TYPE_Q8_0, 2, bad, NULL), -1);
    CHECK_EQ_INT(gguf_writer_add_tensor(w, "y", GGML_TYPE_F32, 2, zero, NULL), -1);
    CHECK_EQ_INT(gguf_writer_write(w, path, gguf_write_test_fill, NULL, err, sizeof err), 0);
    gguf_writer_free(w);

    gguf *g = NULL;
    CHECK_MSG(gguf_open(path, &g, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(gguf_version(g), 3);
    CHECK_EQ_INT(gguf_alignment(g), 64);
    uint32_t u;
    int64_t i64;
    float f;
    int b;
    struct gguf_str s;
    CHECK(gguf_get_u32(g, "t.u8", &u) == 0 && u == 200);
    CHECK(gguf_get_i64(g, "t.i8", &i64) == 0 && i64 == -100);
    CHECK(gguf_get_u32(g, "t.u16", &u) == 0 && u == 60000);
    CHECK(gguf_get_i64(g, "t.i16", &i64) == 0 && i64 == -30000);
    CHECK(gguf_get_i64(g, "t.i32", &i64) == 0 && i64 == -7);
    CHECK(gguf_get_i64(g, "t.u64", &i64) == 0 && i64 == (1ll << 40));
    CHECK(gguf_get_i64(g, "t.i64", &i64) == 0 && i64 == -(1ll << 40));
    CHECK(gguf_get_f32(g, "t.f32", &f) == 0 && f == 0.5f);
    CHECK(gguf_get_f32(g, "t.f64", &f) == 0 && f == 0.25f);
    CHECK(gguf_get_bool(g, "t.bool", &b) == 0 && b == 1);
    CHECK(gguf_get_str(g, "general.architecture", &s) == 0 && s.len == 5 && !memcmp(s.p, "llama", 5));
    struct gguf_str ss[3];
    CHECK(gguf_get_arr_str(g, "t.strs", ss, 3) == 0);
    CHECK(ss[0].len == 1 && ss[1].len == 0 && ss[2].len == 3 && !memcmp(ss[2].p, "ccc", 3));
    const struct gguf_tensor *t0 = gguf_tensor_find(g, "w.f32");
    const struct gguf_tensor *t1 = gguf_tensor_find(g, "w.q8");
    CHECK(t0 && t1);
    CHECK(memcmp(t0->data, data, sizeof data) == 0);
    CHECK(((uintptr_t)t1->data - (uintptr_t)t0->data) % 64 == 0);
    CHECK_EQ_INT(((const unsigned char *)t1->data)[0], 0x41);
    CHECK_EQ_INT(t1->ne[0], 64);
    CHECK_EQ_INT(t1->ne[1], 3);

    /* copy every value into a second file: the metadata is identical */
    gguf_writer *w2 = gguf_writer_new();
    for (int64_t i = 0; i < gguf_n_kv(g); i++) CHECK_EQ_INT(gguf_writer_copy_kv(w2, gguf_kv_at(g, i)), 0);
    CHECK_EQ_INT(gguf_writer_write(w2, path2, NULL, NULL, err, sizeof err), 0);
    gguf_writer_free(w2);
    gguf *g2 = NULL;
    CHECK_MSG(gguf_open(path2, &g2, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(gguf_n_kv(g2), gguf_n_kv(g));
    const struct gguf_kv *a = gguf_kv_find(g, "t.nested"), *c = gguf_kv_find(g2, "t.nested");
    CHECK(a && c && c->type == GGUF_TYPE_ARRAY && c->arr_type == GGUF_TYPE_ARRAY && c->n == 2);
    CHECK(memcmp(a->data, c->data, 12 + 8 + 12 + 4) == 0);
    CHECK(gguf_get_arr_str(g2, "t.strs", ss, 3) == 0 && ss[2].len == 3);
    gguf_close(g2);
    gguf_close(g);
}
