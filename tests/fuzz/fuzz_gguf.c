/* tests/fuzz/fuzz_gguf.c — libFuzzer target for the GGUF reader (engine/gguf.c): the input is a
 * whole file given to gguf_open_mem; on success every metadata value, array element and tensor is
 * visited through the public getters and the first and last byte of each tensor's data is read,
 * so an out-of-bounds pointer shows up under ASan. Single-threaded. */
#include "gguf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t fuzz_sink;

static void fuzz_touch(const void *p, uint64_t n) {
    if (!n)
        return;
    fuzz_sink ^= ((const uint8_t *)p)[0];
    fuzz_sink ^= ((const uint8_t *)p)[n - 1];
}

static void fuzz_visit_kv(const gguf *g, const struct gguf_kv *kv) {
    char key[256];
    uint64_t klen = kv->key.len < sizeof key - 1 ? kv->key.len : sizeof key - 1;
    memcpy(key, kv->key.p, klen);
    key[klen] = 0;
    fuzz_touch(kv->key.p, kv->key.len);

    uint32_t u32;
    int64_t i64;
    float f;
    int b;
    struct gguf_str s;
    (void)gguf_get_u32(g, key, &u32);
    (void)gguf_get_i64(g, key, &i64);
    (void)gguf_get_f32(g, key, &f);
    (void)gguf_get_bool(g, key, &b);
    if (gguf_get_str(g, key, &s) == 0)
        fuzz_touch(s.p, s.len);

    uint32_t at;
    uint64_t n;
    const uint8_t *d;
    if (gguf_get_arr(g, key, &at, &n, &d) == 0 && at == GGUF_TYPE_STRING && n <= (1u << 16)) {
        struct gguf_str *strs = malloc((size_t)(n ? n : 1) * sizeof *strs);
        if (strs && gguf_get_arr_str(g, key, strs, n) == 0)
            for (uint64_t i = 0; i < n; i++)
                fuzz_touch(strs[i].p, strs[i].len);
        free(strs);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A private copy sized exactly to the input, so a read one past the end is caught. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);

    gguf *g = NULL;
    char err[256];
    err[0] = 0;
    if (gguf_open_mem(buf, size, &g, err, sizeof err) == 0) {
        (void)gguf_version(g);
        (void)gguf_file_size(g);
        (void)gguf_alignment(g);
        int64_t n_kv = gguf_n_kv(g);
        for (int64_t i = 0; i < n_kv; i++)
            fuzz_visit_kv(g, gguf_kv_at(g, i));
        (void)gguf_kv_find(g, "general.architecture");
        int64_t n_t = gguf_n_tensors(g);
        for (int64_t i = 0; i < n_t; i++) {
            const struct gguf_tensor *t = gguf_tensor_at(g, i);
            fuzz_touch(t->data, t->nbytes);
            if (gguf_tensor_find(g, t->name) == NULL)
                abort(); /* every listed tensor must be found by its name */
        }
        (void)gguf_tensor_find(g, "token_embd.weight");
        gguf_close(g);
    } else if (!err[0] || !memchr(err, 0, sizeof err)) {
        abort(); /* a refusal must come with a message */
    }
    free(buf);
    return 0;
}
