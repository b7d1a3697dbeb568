/* tests/gguf_craft.c — the GGUF builder of gguf_craft.h: little-endian byte writer, kv/tensor
 * lists that start empty or from a real model, and the writer that lays them out (test code). */
#include "gguf_craft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *gc_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "gguf_craft: out of memory\n");
        abort();
    }
    return q;
}

static char *gc_strdup(const char *s, size_t n) {
    char *d = gc_xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

void gc_bytes(struct gc_buf *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = gc_xrealloc(b->p, b->cap);
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

void gc_u8(struct gc_buf *b, uint8_t v) {
    gc_bytes(b, &v, 1);
}

void gc_u32(struct gc_buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    gc_bytes(b, x, 4);
}

void gc_u64(struct gc_buf *b, uint64_t v) {
    gc_u32(b, (uint32_t)v);
    gc_u32(b, (uint32_t)(v >> 32));
}

void gc_str(struct gc_buf *b, const char *s) {
    gc_u64(b, strlen(s));
    gc_bytes(b, s, strlen(s));
}

void gc_pad(struct gc_buf *b, size_t align) {
    static const uint8_t zero[1];
    while (align && b->len % align)
        gc_bytes(b, zero, 1);
}

void gc_buf_free(struct gc_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void gc_file_init(struct gc_file *f) {
    memset(f, 0, sizeof *f);
    f->version = 3;
    f->alignment = 32;
}

void gc_file_free(struct gc_file *f) {
    for (int i = 0; i < f->n_kv; i++) {
        free(f->kv[i].key);
        free(f->kv[i].raw);
    }
    for (int i = 0; i < f->n_t; i++)
        free(f->t[i].name);
    free(f->kv);
    free(f->t);
    gc_file_init(f);
}

/* ---- kvs ---- */

struct gc_kv *gc_find(struct gc_file *f, const char *key) {
    for (int i = 0; i < f->n_kv; i++)
        if (strcmp(f->kv[i].key, key) == 0)
            return &f->kv[i];
    return NULL;
}

void gc_set_raw(struct gc_file *f, const char *key, uint32_t type, const void *raw, size_t n) {
    struct gc_kv *kv = gc_find(f, key);
    if (!kv) {
        f->kv = gc_xrealloc(f->kv, sizeof *f->kv * (size_t)(f->n_kv + 1));
        kv = &f->kv[f->n_kv++];
        kv->key = gc_strdup(key, strlen(key));
        kv->raw = NULL;
    }
    kv->type = type;
    kv->raw = gc_xrealloc(kv->raw, n);
    if (n)
        memcpy(kv->raw, raw, n);
    kv->raw_len = n;
}

void gc_set_u32(struct gc_file *f, const char *key, uint32_t v) {
    struct gc_buf b = {0};
    gc_u32(&b, v);
    gc_set_raw(f, key, GGUF_TYPE_UINT32, b.p, b.len);
    gc_buf_free(&b);
}

void gc_set_i32(struct gc_file *f, const char *key, int32_t v) {
    struct gc_buf b = {0};
    gc_u32(&b, (uint32_t)v);
    gc_set_raw(f, key, GGUF_TYPE_INT32, b.p, b.len);
    gc_buf_free(&b);
}

void gc_set_u64(struct gc_file *f, const char *key, uint64_t v) {
    struct gc_buf b = {0};
    gc_u64(&b, v);
    gc_set_raw(f, key, GGUF_TYPE_UINT64, b.p, b.len);
    gc_buf_free(&b);
}

void gc_set_f32(struct gc_file *f, const char *key, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    struct gc_buf b = {0};
    gc_u32(&b, u);
    gc_set_raw(f, key, GGUF_TYPE_FLOAT32, b.p, b.len);
    gc_buf_free(&b);
}

void gc_set_str(struct gc_file *f, const char *key, const char *s) {
    struct gc_buf b = {0};
    gc_str(&b, s);
    gc_set_raw(f, key, GGUF_TYPE_STRING, b.p, b.len);
    gc_buf_free(&b);
}

void gc_set_arr(struct gc_file *f, const char *key, uint32_t arr_type, uint64_t n,
                const void *elems, size_t elems_len) {
    struct gc_buf b = {0};
    gc_u32(&b, arr_type);
    gc_u64(&b, n);
    gc_bytes(&b, elems, elems_len);
    gc_set_raw(f, key, GGUF_TYPE_ARRAY, b.p, b.len);
    gc_buf_free(&b);
}

int gc_del(struct gc_file *f, const char *key) {
    struct gc_kv *kv = gc_find(f, key);
    if (!kv)
        return 0;
    free(kv->key);
    free(kv->raw);
    int i = (int)(kv - f->kv);
    memmove(kv, kv + 1, sizeof *kv * (size_t)(f->n_kv - i - 1));
    f->n_kv--;
    return 1;
}

/* ---- tensors ---- */

struct gc_tensor *gc_tensor_add(struct gc_file *f, const char *name, uint32_t type,
                                uint32_t n_dims, const uint64_t *ne, const void *data,
                                uint64_t nbytes) {
    /* name and ne may point into f->t itself (copying a tensor): take them before realloc. */
    char *copy = gc_strdup(name, strlen(name));
    uint64_t dims[8] = {0};
    for (uint32_t d = 0; d < n_dims && d < 8; d++)
        dims[d] = ne[d];
    f->t = gc_xrealloc(f->t, sizeof *f->t * (size_t)(f->n_t + 1));
    struct gc_tensor *t = &f->t[f->n_t++];
    memset(t, 0, sizeof *t);
    t->name = copy;
    t->type = type;
    t->n_dims = n_dims;
    memcpy(t->ne, dims, sizeof dims);
    t->data = data;
    t->nbytes = nbytes;
    t->offset = -1;
    return t;
}

struct gc_tensor *gc_tensor_find(struct gc_file *f, const char *name) {
    for (int i = 0; i < f->n_t; i++)
        if (strcmp(f->t[i].name, name) == 0)
            return &f->t[i];
    return NULL;
}

int gc_tensor_del(struct gc_file *f, const char *name) {
    struct gc_tensor *t = gc_tensor_find(f, name);
    if (!t)
        return 0;
    free(t->name);
    int i = (int)(t - f->t);
    memmove(t, t + 1, sizeof *t * (size_t)(f->n_t - i - 1));
    f->n_t--;
    return 1;
}

/* ---- from a parsed file ---- */

static const size_t gc_scalar_size[GGUF_TYPE_COUNT] = {
    [GGUF_TYPE_UINT8] = 1, [GGUF_TYPE_INT8] = 1, [GGUF_TYPE_UINT16] = 2, [GGUF_TYPE_INT16] = 2,
    [GGUF_TYPE_UINT32] = 4, [GGUF_TYPE_INT32] = 4, [GGUF_TYPE_FLOAT32] = 4, [GGUF_TYPE_BOOL] = 1,
    [GGUF_TYPE_UINT64] = 8, [GGUF_TYPE_INT64] = 8, [GGUF_TYPE_FLOAT64] = 8,
};

static uint64_t gc_rd64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Bytes taken by n elements of type t starting at p (a validated mapping). */
static size_t gc_elems_size(uint32_t t, uint64_t n, const uint8_t *p) {
    if (t < GGUF_TYPE_COUNT && gc_scalar_size[t])
        return (size_t)n * gc_scalar_size[t];
    size_t off = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (t == GGUF_TYPE_STRING) {
            off += 8 + (size_t)gc_rd64(p + off);
        } else { /* nested array: type, count, elements */
            uint32_t at = (uint32_t)(p[off] | p[off + 1] << 8 | p[off + 2] << 16 |
                                     (uint32_t)p[off + 3] << 24);
            uint64_t an = gc_rd64(p + off + 4);
            off += 12 + gc_elems_size(at, an, p + off + 12);
        }
    }
    return off;
}

int gc_file_from_gguf(struct gc_file *f, const gguf *g) {
    gc_file_init(f);
    f->version = gguf_version(g);
    f->alignment = gguf_alignment(g);
    for (int64_t i = 0; i < gguf_n_kv(g); i++) {
        const struct gguf_kv *kv = gguf_kv_at(g, i);
        char *key = gc_strdup(kv->key.p, (size_t)kv->key.len);
        if (kv->type == GGUF_TYPE_ARRAY) {
            gc_set_arr(f, key, kv->arr_type, kv->n, kv->data,
                       gc_elems_size(kv->arr_type, kv->n, kv->data));
        } else {
            gc_set_raw(f, key, kv->type, kv->data, gc_elems_size(kv->type, 1, kv->data));
        }
        free(key);
    }
    for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
        const struct gguf_tensor *t = gguf_tensor_at(g, i);
        uint64_t ne[GGUF_MAX_DIMS];
        for (int d = 0; d < GGUF_MAX_DIMS; d++)
            ne[d] = (uint64_t)t->ne[d];
        gc_tensor_add(f, t->name, t->type, (uint32_t)t->n_dims, ne, t->data, t->nbytes);
    }
    return 0;
}

/* ---- writing ---- */

static void gc_mark(size_t *bounds, int cap, int *n, size_t at) {
    if (bounds && *n < cap)
        bounds[*n] = at;
    (*n)++;
}

uint8_t *gc_build(const struct gc_file *f, size_t *len, size_t *bounds, int cap, int *n_bounds) {
    struct gc_buf b = {0};
    int nb = 0;
    uint64_t align = f->alignment ? f->alignment : 32;
    gc_bytes(&b, "GGUF", 4);
    gc_mark(bounds, cap, &nb, b.len);
    gc_u32(&b, f->version);
    gc_mark(bounds, cap, &nb, b.len);
    gc_u64(&b, f->override_counts ? f->n_t_hdr : (uint64_t)f->n_t);
    gc_mark(bounds, cap, &nb, b.len);
    gc_u64(&b, f->override_counts ? f->n_kv_hdr : (uint64_t)f->n_kv);
    gc_mark(bounds, cap, &nb, b.len);
    for (int i = 0; i < f->n_kv; i++) {
        gc_str(&b, f->kv[i].key);
        gc_mark(bounds, cap, &nb, b.len);
        gc_u32(&b, f->kv[i].type);
        gc_mark(bounds, cap, &nb, b.len);
        gc_bytes(&b, f->kv[i].raw, f->kv[i].raw_len);
        gc_mark(bounds, cap, &nb, b.len);
    }
    /* Data offsets: in order, each aligned, unless forced. */
    uint64_t *offs = gc_xrealloc(NULL, sizeof *offs * (size_t)(f->n_t ? f->n_t : 1));
    uint64_t pos = 0, data_len = 0;
    for (int i = 0; i < f->n_t; i++) {
        pos = (pos + align - 1) / align * align;
        offs[i] = f->t[i].offset >= 0 ? (uint64_t)f->t[i].offset : pos;
        pos += f->t[i].nbytes;
        if (offs[i] + f->t[i].nbytes > data_len && f->t[i].offset < 0)
            data_len = offs[i] + f->t[i].nbytes;
    }
    for (int i = 0; i < f->n_t; i++) {
        const struct gc_tensor *t = &f->t[i];
        gc_str(&b, t->name);
        gc_mark(bounds, cap, &nb, b.len);
        gc_u32(&b, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims && d < 8; d++)
            gc_u64(&b, t->ne[d]);
        gc_mark(bounds, cap, &nb, b.len);
        gc_u32(&b, t->type);
        gc_u64(&b, offs[i]);
        gc_mark(bounds, cap, &nb, b.len);
    }
    gc_pad(&b, (size_t)align);
    size_t data0 = b.len;
    gc_mark(bounds, cap, &nb, b.len);
    /* Zero-filled data section, then each tensor's bytes copied in where they fit. */
    uint8_t *zeros = calloc(1, (size_t)data_len + 1);
    gc_bytes(&b, zeros, (size_t)data_len);
    free(zeros);
    for (int i = 0; i < f->n_t; i++) {
        const struct gc_tensor *t = &f->t[i];
        if (t->offset < 0 && t->data)
            memcpy(b.p + data0 + offs[i], t->data, (size_t)t->nbytes);
        if (t->offset < 0)
            gc_mark(bounds, cap, &nb, data0 + offs[i] + (size_t)t->nbytes);
    }
    free(offs);
    if (n_bounds)
        *n_bounds = nb < cap ? nb : cap;
    *len = b.len;
    return b.p;
}

int gc_write_bytes(const char *path, const void *p, size_t n) {
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    size_t w = fwrite(p, 1, n, fp);
    return fclose(fp) == 0 && w == n ? 0 : -1;
}

int gc_write(const struct gc_file *f, const char *path) {
    size_t len;
    uint8_t *p = gc_build(f, &len, NULL, 0, NULL);
    int rc = gc_write_bytes(path, p, len);
    free(p);
    return rc;
}
