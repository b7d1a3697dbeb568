/* engine/gguf_write.c — the GGUF v3 writer (see gguf_write.h): metadata is serialized into one
 * growing buffer as it is added; tensor infos are kept until gguf_writer_write lays out the
 * file (header, metadata, infos, padding, aligned data). One thread per writer. */
#include "gguf_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"

struct gw_tensor {
    char *name;
    uint32_t type;
    int n_dims;
    int64_t ne[GGUF_MAX_DIMS];
    size_t nbytes;
    void *data;      /* copied, or NULL: from the fill callback */
};

struct gguf_writer {
    unsigned char *kv;   /* serialized key-value pairs */
    size_t n_kv_bytes, cap_kv;
    uint64_t n_kv;
    uint32_t alignment;
    struct gw_tensor *t;
    int n_t, cap_t;
};

gguf_writer *gguf_writer_new(void) {
    gguf_writer *w = calloc(1, sizeof *w);
    if (w) w->alignment = 32;
    return w;
}

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->n_t; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    free(w->t);
    free(w->kv);
    free(w);
}

/* ---- the metadata buffer ---- */

static int gw_put(gguf_writer *w, const void *p, size_t n) {
    if (w->n_kv_bytes + n > w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv : 4096;
        while (cap < w->n_kv_bytes + n) cap *= 2;
        unsigned char *nb = realloc(w->kv, cap);
        if (!nb) return -1;
        w->kv = nb;
        w->cap_kv = cap;
    }
    memcpy(w->kv + w->n_kv_bytes, p, n);
    w->n_kv_bytes += n;
    return 0;
}

static int gw_put_u32(gguf_writer *w, uint32_t v) { return gw_put(w, &v, 4); }
static int gw_put_u64(gguf_writer *w, uint64_t v) { return gw_put(w, &v, 8); }

static int gw_put_str(gguf_writer *w, const char *s, size_t len) {
    return gw_put_u64(w, len) || gw_put(w, s, len) ? -1 : 0;
}

/* key + type; undoes nothing on failure (the writer is then unusable, as documented -1) */
static int gw_key(gguf_writer *w, const char *key, uint32_t type) {
    if (!key) return -1;
    if (gw_put_str(w, key, strlen(key)) || gw_put_u32(w, type)) return -1;
    w->n_kv++;
    return 0;
}

static int gw_scalar(gguf_writer *w, const char *key, uint32_t type, const void *v) {
    return gw_key(w, key, type) || gw_put(w, v, (size_t)gguf_vtype_size(type)) ? -1 : 0;
}

int gguf_writer_add_u8(gguf_writer *w, const char *k, uint8_t v) { return gw_scalar(w, k, GGUF_TYPE_UINT8, &v); }
int gguf_writer_add_i8(gguf_writer *w, const char *k, int8_t v) { return gw_scalar(w, k, GGUF_TYPE_INT8, &v); }
int gguf_writer_add_u16(gguf_writer *w, const char *k, uint16_t v) { return gw_scalar(w, k, GGUF_TYPE_UINT16, &v); }
int gguf_writer_add_i16(gguf_writer *w, const char *k, int16_t v) { return gw_scalar(w, k, GGUF_TYPE_INT16, &v); }
int gguf_writer_add_i32(gguf_writer *w, const char *k, int32_t v) { return gw_scalar(w, k, GGUF_TYPE_INT32, &v); }
int gguf_writer_add_u64(gguf_writer *w, const char *k, uint64_t v) { return gw_scalar(w, k, GGUF_TYPE_UINT64, &v); }
int gguf_writer_add_i64(gguf_writer *w, const char *k, int64_t v) { return gw_scalar(w, k, GGUF_TYPE_INT64, &v); }
int gguf_writer_add_f32(gguf_writer *w, const char *k, float v) { return gw_scalar(w, k, GGUF_TYPE_FLOAT32, &v); }
int gguf_writer_add_f64(gguf_writer *w, const char *k, double v) { return gw_scalar(w, k, GGUF_TYPE_FLOAT64, &v); }

int gguf_writer_add_bool(gguf_writer *w, const char *k, int v) {
    uint8_t b = v ? 1 : 0;
    return gw_scalar(w, k, GGUF_TYPE_BOOL, &b);
}

int gguf_writer_add_u32(gguf_writer *w, const char *k, uint32_t v) {
    if (k && !strcmp(k, "general.alignment")) {
        if (v == 0 || (v & (v - 1))) return -1;
        w->alignment = v;
    }
    return gw_scalar(w, k, GGUF_TYPE_UINT32, &v);
}

int gguf_writer_add_strn(gguf_writer *w, const char *k, const char *s, size_t len) {
    return gw_key(w, k, GGUF_TYPE_STRING) || gw_put_str(w, s, len) ? -1 : 0;
}

int gguf_writer_add_str(gguf_writer *w, const char *k, const char *s) {
    return s ? gguf_writer_add_strn(w, k, s, strlen(s)) : -1;
}

int gguf_writer_add_arr(gguf_writer *w, const char *k, uint32_t elem_type, const void *data,
                        uint64_t n) {
    size_t es = (size_t)gguf_vtype_size(elem_type);
    if (!es || (n && !data) || n > SIZE_MAX / es) return -1;
    if (gw_key(w, k, GGUF_TYPE_ARRAY) || gw_put_u32(w, elem_type) || gw_put_u64(w, n)) return -1;
    return gw_put(w, data, (size_t)n * es);
}

int gguf_writer_add_arr_str(gguf_writer *w, const char *k, const char *const *s, uint64_t n) {
    if (n && !s) return -1;
    if (gw_key(w, k, GGUF_TYPE_ARRAY) || gw_put_u32(w, GGUF_TYPE_STRING) || gw_put_u64(w, n))
        return -1;
    for (uint64_t i = 0; i < n; i++)
        if (!s[i] || gw_put_str(w, s[i], strlen(s[i]))) return -1;
    return 0;
}

/* The encoded size of a value of type t at p (the reader validated it: we only walk). */
static size_t gw_value_size(uint32_t t, const uint8_t *p) {
    if (t == GGUF_TYPE_STRING) {
        uint64_t len;
        memcpy(&len, p, 8);
        return 8 + (size_t)len;
    }
    if (t == GGUF_TYPE_ARRAY) {
        uint32_t et;
        uint64_t n;
        memcpy(&et, p, 4);
        memcpy(&n, p + 4, 8);
        size_t off = 12;
        if (et != GGUF_TYPE_STRING && et != GGUF_TYPE_ARRAY) return off + (size_t)n * (size_t)gguf_vtype_size(et);
        for (uint64_t i = 0; i < n; i++) off += gw_value_size(et, p + off);
        return off;
    }
    return (size_t)gguf_vtype_size(t);
}

int gguf_writer_copy_kv(gguf_writer *w, const struct gguf_kv *kv) {
    if (!kv) return -1;
    if (gw_put_str(w, kv->key.p, (size_t)kv->key.len) || gw_put_u32(w, kv->type)) return -1;
    w->n_kv++;
    if (kv->type != GGUF_TYPE_ARRAY) return gw_put(w, kv->data, gw_value_size(kv->type, kv->data));
    /* the reader's data points at the first element: re-emit the array header */
    if (gw_put_u32(w, kv->arr_type) || gw_put_u64(w, kv->n)) return -1;
    size_t n = 0;
    if (kv->arr_type != GGUF_TYPE_STRING && kv->arr_type != GGUF_TYPE_ARRAY)
        n = (size_t)kv->n * (size_t)gguf_vtype_size(kv->arr_type);
    else
        for (uint64_t i = 0; i < kv->n; i++) n += gw_value_size(kv->arr_type, kv->data + n);
    return gw_put(w, kv->data, n);
}

int gguf_writer_add_raw(gguf_writer *w, const void *bytes, size_t len) {
    if (gw_put(w, bytes, len)) return -1;
    w->n_kv++;
    return 0;
}

/* ---- tensors ---- */

int gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t type, int n_dims,
                           const int64_t *ne, const void *data) {
    if (!name || strlen(name) >= 64 || n_dims < 1 || n_dims > GGUF_MAX_DIMS || !ne) return -1;
    for (int i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) return -1;
    int64_t rows = 1;
    for (int d = 1; d < n_dims; d++) {
        if (ne[d] <= 0 || rows > INT64_MAX / ne[d]) return -1;
        rows *= ne[d];
    }
    size_t row = ne[0] > 0 ? quant_row_size(type, ne[0]) : 0;
    if (!row || (uint64_t)rows > SIZE_MAX / row) return -1;
    if (w->n_t == w->cap_t) {
        int cap = w->cap_t ? 2 * w->cap_t : 64;
        struct gw_tensor *nt = realloc(w->t, (size_t)cap * sizeof *nt);
        if (!nt) return -1;
        w->t = nt;
        w->cap_t = cap;
    }
    struct gw_tensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->n_dims = n_dims;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->nbytes = row * (size_t)rows;
    if (!(t->name = strdup(name))) return -1;
    if (data) {
        if (!(t->data = malloc(t->nbytes))) {
            free(t->name);
            return -1;
        }
        memcpy(t->data, data, t->nbytes);
    }
    return w->n_t++;
}

size_t gguf_writer_tensor_bytes(const gguf_writer *w, int i) {
    return i >= 0 && i < w->n_t ? w->t[i].nbytes : 0;
}

static uint64_t gw_align(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

static int gw_pad(FILE *f, uint64_t n) {
    static const char zero[64];
    while (n) {
        size_t k = n < sizeof zero ? (size_t)n : sizeof zero;
        if (fwrite(zero, 1, k, f) != k) return -1;
        n -= k;
    }
    return 0;
}

int gguf_writer_write(gguf_writer *w, const char *path, gguf_writer_fill_fn fill, void *ud,
                      char *err, size_t err_len) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    const char *what = "write";
    void *buf = NULL;
    size_t buf_cap = 0;
    uint32_t version = 3;
    uint64_t n_t = (uint64_t)w->n_t;
    uint64_t pos = 0;
    int ok = fwrite("GGUF", 1, 4, f) == 4 && fwrite(&version, 4, 1, f) == 1 &&
             fwrite(&n_t, 8, 1, f) == 1 && fwrite(&w->n_kv, 8, 1, f) == 1 &&
             (w->n_kv_bytes == 0 || fwrite(w->kv, 1, w->n_kv_bytes, f) == w->n_kv_bytes);
    pos = 24 + w->n_kv_bytes;
    uint64_t off = 0;
    for (int i = 0; ok && i < w->n_t; i++) {
        const struct gw_tensor *t = &w->t[i];
        uint64_t nl = strlen(t->name), ne;
        uint32_t nd = (uint32_t)t->n_dims;
        ok = fwrite(&nl, 8, 1, f) == 1 && fwrite(t->name, 1, nl, f) == nl &&
             fwrite(&nd, 4, 1, f) == 1;
        for (int d = 0; ok && d < t->n_dims; d++) {
            ne = (uint64_t)t->ne[d];
            ok = fwrite(&ne, 8, 1, f) == 1;
        }
        ok = ok && fwrite(&t->type, 4, 1, f) == 1 && fwrite(&off, 8, 1, f) == 1;
        pos += 8 + nl + 4 + 8 * (uint64_t)nd + 4 + 8;
        off = gw_align(off + t->nbytes, w->alignment);
    }
    ok = ok && gw_pad(f, gw_align(pos, w->alignment) - pos) == 0;
    for (int i = 0; ok && i < w->n_t; i++) {
        const struct gw_tensor *t = &w->t[i];
        const void *data = t->data;
        if (!data) {
            if (t->nbytes > buf_cap) {
                free(buf);
                buf_cap = t->nbytes;
                buf = malloc(buf_cap);
            }
            if (!buf || !fill || fill(ud, i, buf, t->nbytes) != 0) {
                what = "tensor data";
                ok = 0;
                break;
            }
            data = buf;
        }
        ok = fwrite(data, 1, t->nbytes, f) == t->nbytes &&
             gw_pad(f, gw_align(t->nbytes, w->alignment) - t->nbytes) == 0;
    }
    free(buf);
    if (fclose(f) != 0) ok = 0;
    if (!ok) {
        snprintf(err, err_len, "%s: %s failed%s%s", path, what, errno ? ": " : "",
                 errno ? strerror(errno) : "");
        return -1;
    }
    return 0;
}
