/* engine/gguf.c — the GGUF v2/v3 reader: maps the file once (read-only), walks the header,
 * metadata and tensor infos with a bounds-checked cursor, and validates every count, length,
 * type id, dimension and offset+size against the file (overflow-safe) before anything uses it.
 * After gguf_open the handle is read-only: any thread may query it. */
#define _DEFAULT_SOURCE /* madvise(MADV_DONTNEED): POSIX's posix_madvise one is a no-op in glibc */
#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "mapguard.h"
#include "quant.h"

#define GGUF_MAGIC "GGUF"
#define GGUF_MAX_NEST 8          /* nested arrays deeper than this are refused */
#define GGUF_DEFAULT_ALIGNMENT 32

struct gguf {
    const uint8_t *base;   /* the mapping (or the caller's buffer) */
    size_t size;
    int mapped;            /* munmap on close */
    atomic_int broken;     /* set by the SIGBUS guard (mapguard.h) */
    int guarded;           /* registered with the guard */
    char *path;            /* what was opened, and its identity then (gguf_file_changed) */
    struct stat st;
    uint32_t version;
    uint64_t alignment;
    uint64_t data_off;     /* start of the tensor data section */
    int64_t n_kv;
    struct gguf_kv *kv;
    int64_t *kv_sorted;    /* kv indices sorted by key (lookups, duplicate check) */
    int64_t n_tensors;
    struct gguf_tensor *tensors;
    int64_t *t_sorted;     /* tensor indices sorted by name */
};

/* A cursor over the file; every read checks the remaining length. */
struct rd {
    const uint8_t *p;
    uint64_t size, pos;
    char *err;
    size_t err_len;
};

static int rd_fail(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rd_fail(struct rd *r, const char *fmt, ...) {
    if (r->err && r->err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, r->err_len, fmt, ap);
        va_end(ap);
    }
    return ENG_E_FORMAT;
}

static uint64_t rd_left(const struct rd *r) { return r->size - r->pos; }

static int rd_bytes(struct rd *r, void *out, uint64_t n, const char *what) {
    if (n > rd_left(r))
        return rd_fail(r, "%s: file ends early (truncated at byte %llu)", what,
                       (unsigned long long)r->size);
    if (out)
        memcpy(out, r->p + r->pos, (size_t)n);
    r->pos += n;
    return 0;
}

static int rd_u32(struct rd *r, uint32_t *v, const char *what) { return rd_bytes(r, v, 4, what); }
static int rd_u64(struct rd *r, uint64_t *v, const char *what) { return rd_bytes(r, v, 8, what); }

static int rd_str(struct rd *r, struct gguf_str *s, const char *what) {
    uint64_t len = 0;
    int rc = rd_u64(r, &len, what);
    if (rc)
        return rc;
    if (len > rd_left(r))
        return rd_fail(r, "%s: string length %llu runs past the end of the file", what,
                       (unsigned long long)len);
    s->len = len;
    s->p = (const char *)r->p + r->pos;
    r->pos += len;
    return 0;
}

uint64_t gguf_vtype_size(uint32_t t) {
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

/* Skips (validating) one value of type t; for arrays reads the element type and count. */
static int rd_skip_value(struct rd *r, uint32_t t, int depth, const char *key_fmt,
                         const struct gguf_str *key) {
    /* fast paths for the valid scalars and strings that make up most of a vocabulary's
     * arrays: the message naming the key is only formatted on the way to an error */
    uint64_t sz = gguf_vtype_size(t);
    if (sz && sz <= rd_left(r)) {
        r->pos += sz;
        return 0;
    }
    if (t == GGUF_TYPE_STRING && rd_left(r) >= 8) {
        uint64_t len;
        memcpy(&len, r->p + r->pos, 8);
        if (len <= rd_left(r) - 8) {
            r->pos += 8 + len;
            return 0;
        }
    }
    char what[160];
    snprintf(what, sizeof what, key_fmt, (int)(key->len > 100 ? 100 : key->len), key->p);
    if (t >= GGUF_TYPE_COUNT)
        return rd_fail(r, "%s: bad value type id %u", what, t);
    if (sz)
        return rd_bytes(r, NULL, sz, what);
    if (t == GGUF_TYPE_STRING) {
        struct gguf_str s;
        return rd_str(r, &s, what);
    }
    /* ARRAY */
    if (depth >= GGUF_MAX_NEST)
        return rd_fail(r, "%s: arrays nested deeper than %d", what, GGUF_MAX_NEST);
    uint32_t at = 0;
    uint64_t n = 0;
    int rc = rd_u32(r, &at, what);
    if (!rc)
        rc = rd_u64(r, &n, what);
    if (rc)
        return rc;
    if (at >= GGUF_TYPE_COUNT)
        return rd_fail(r, "%s: bad array element type id %u", what, at);
    uint64_t esz = gguf_vtype_size(at);
    if (esz) {
        if (n > rd_left(r) / esz)
            return rd_fail(r, "%s: array of %llu elements runs past the end of the file", what,
                           (unsigned long long)n);
        r->pos += n * esz;
        return 0;
    }
    /* strings take >= 8 bytes each, arrays >= 12: refuse absurd counts before looping */
    uint64_t min = at == GGUF_TYPE_STRING ? 8 : 12;
    if (n > rd_left(r) / min)
        return rd_fail(r, "%s: array of %llu elements runs past the end of the file", what,
                       (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        rc = rd_skip_value(r, at, depth + 1, key_fmt, key);
        if (rc)
            return rc;
    }
    return 0;
}

static int str_cmp(const struct gguf_str *a, const struct gguf_str *b) {
    uint64_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->p, b->p, (size_t)n) : 0;
    if (c)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* qsort has no user pointer: sort (index, pointer-to-object) pairs instead. */
struct sort_ent { int64_t i; const void *obj; };

static int kv_ent_cmp(const void *a, const void *b) {
    const struct gguf_kv *x = ((const struct sort_ent *)a)->obj, *y = ((const struct sort_ent *)b)->obj;
    return str_cmp(&x->key, &y->key);
}

static int t_ent_cmp(const void *a, const void *b) {
    const struct gguf_tensor *x = ((const struct sort_ent *)a)->obj;
    const struct gguf_tensor *y = ((const struct sort_ent *)b)->obj;
    return strcmp(x->name, y->name);
}

/* Sorts n objects (stride bytes apart) into idx; returns the first duplicate's index or -1. */
static int64_t sort_index(const void *objs, size_t stride, int64_t n, int64_t *idx,
                          int (*cmp)(const void *, const void *)) {
    if (n == 0)
        return -1;
    struct sort_ent *e = malloc((size_t)n * sizeof *e);
    if (!e)
        return -2;
    for (int64_t i = 0; i < n; i++) {
        e[i].i = i;
        e[i].obj = (const char *)objs + (size_t)i * stride;
    }
    qsort(e, (size_t)n, sizeof *e, cmp);
    int64_t dup = -1;
    for (int64_t i = 0; i < n; i++) {
        idx[i] = e[i].i;
        if (i > 0 && dup < 0 && cmp(&e[i - 1], &e[i]) == 0)
            dup = e[i].i;
    }
    free(e);
    return dup;
}

static int parse_kvs(gguf *g, struct rd *r) {
    for (int64_t i = 0; i < g->n_kv; i++) {
        struct gguf_kv *kv = &g->kv[i];
        char what[64];
        snprintf(what, sizeof what, "metadata entry %lld key", (long long)i);
        int rc = rd_str(r, &kv->key, what);
        if (rc)
            return rc;
        int kl = (int)(kv->key.len > 100 ? 100 : kv->key.len);
        snprintf(what, sizeof what, "metadata entry %lld", (long long)i);
        rc = rd_u32(r, &kv->type, what);
        if (rc)
            return rc;
        if (kv->type >= GGUF_TYPE_COUNT)
            return rd_fail(r, "metadata '%.*s': bad value type id %u", kl, kv->key.p, kv->type);
        kv->n = 1;
        kv->arr_type = 0;
        if (kv->type == GGUF_TYPE_ARRAY) {
            uint64_t save = r->pos;
            rc = rd_u32(r, &kv->arr_type, "metadata array");
            if (!rc)
                rc = rd_u64(r, &kv->n, "metadata array");
            if (rc)
                return rd_fail(r, "metadata '%.*s': file ends early", kl, kv->key.p);
            kv->data = r->p + r->pos;
            r->pos = save;
        } else {
            kv->data = r->p + r->pos;
        }
        rc = rd_skip_value(r, kv->type, 0, "metadata '%.*s'", &kv->key);
        if (rc)
            return rc;
    }
    int64_t dup = sort_index(g->kv, sizeof *g->kv, g->n_kv, g->kv_sorted, kv_ent_cmp);
    if (dup == -2)
        return ENG_E_NOMEM;
    if (dup >= 0) {
        const struct gguf_kv *kv = &g->kv[dup];
        return rd_fail(r, "metadata '%.*s': duplicate key", (int)(kv->key.len > 100 ? 100 : kv->key.len),
                       kv->key.p);
    }
    return 0;
}

static int parse_tensor_infos(gguf *g, struct rd *r) {
    for (int64_t i = 0; i < g->n_tensors; i++) {
        struct gguf_tensor *t = &g->tensors[i];
        struct gguf_str name;
        char what[64];
        snprintf(what, sizeof what, "tensor info %lld", (long long)i);
        int rc = rd_str(r, &name, what);
        if (rc)
            return rc;
        if (name.len == 0)
            return rd_fail(r, "tensor info %lld: empty name", (long long)i);
        if (name.len >= sizeof t->name)
            return rd_fail(r, "tensor info %lld: name of %llu bytes is too long", (long long)i,
                           (unsigned long long)name.len);
        memcpy(t->name, name.p, (size_t)name.len);
        t->name[name.len] = '\0';
        if (memchr(t->name, '\0', (size_t)name.len))
            return rd_fail(r, "tensor info %lld: name contains a NUL byte", (long long)i);
        uint32_t n_dims = 0;
        char tw[192];
        snprintf(tw, sizeof tw, "tensor '%s'", t->name);
        if ((rc = rd_u32(r, &n_dims, tw)))
            return rc;
        if (n_dims < 1 || n_dims > GGUF_MAX_DIMS)
            return rd_fail(r, "tensor '%s': %u dimensions (1 to %d allowed)", t->name, n_dims,
                           GGUF_MAX_DIMS);
        t->n_dims = (int)n_dims;
        uint64_t n_el = 1;
        for (int d = 0; d < GGUF_MAX_DIMS; d++)
            t->ne[d] = 1;
        for (uint32_t d = 0; d < n_dims; d++) {
            uint64_t ne = 0;
            if ((rc = rd_u64(r, &ne, tw)))
                return rc;
            if (ne == 0)
                return rd_fail(r, "tensor '%s': dimension %u is zero", t->name, d);
            if (ne > (uint64_t)INT64_MAX || n_el > (uint64_t)INT64_MAX / ne)
                return rd_fail(r, "tensor '%s': element count overflows", t->name);
            n_el *= ne;
            t->ne[d] = (int64_t)ne;
        }
        if ((rc = rd_u32(r, &t->type, tw)))
            return rc;
        const struct quant_traits *tr = quant_traits_get(t->type);
        if (!tr || !tr->name || t->type >= GGML_TYPE_COUNT)
            return rd_fail(r, "tensor '%s': bad type id %u", t->name, t->type);
        if ((rc = rd_u64(r, &t->offset, tw)))
            return rc;
        size_t row = quant_row_size(t->type, t->ne[0]);
        if (row == 0)
            return rd_fail(r, "tensor '%s': row of %lld values is not a whole number of %s blocks",
                           t->name, (long long)t->ne[0], tr->name);
        uint64_t n_rows = n_el / (uint64_t)t->ne[0];
        if (n_rows > UINT64_MAX / row)
            return rd_fail(r, "tensor '%s': byte size overflows", t->name);
        t->nbytes = n_rows * row;
        t->data = NULL;
    }
    int64_t dup = sort_index(g->tensors, sizeof *g->tensors, g->n_tensors, g->t_sorted, t_ent_cmp);
    if (dup == -2)
        return ENG_E_NOMEM;
    if (dup >= 0)
        return rd_fail(r, "tensor '%s': duplicate name", g->tensors[dup].name);
    return 0;
}

static int gguf_parse(gguf *g, char *err, size_t err_len) {
    struct rd r = {g->base, g->size, 0, err, err_len};
    char magic[4];
    int rc;
    if (g->size < 4 || memcmp(g->base, GGUF_MAGIC, 4) != 0)
        return rd_fail(&r, "not a GGUF file (bad magic)");
    rd_bytes(&r, magic, 4, "magic");
    if ((rc = rd_u32(&r, &g->version, "header")))
        return rc;
    if (g->version == 0x02000000u || g->version == 0x03000000u)
        return rd_fail(&r, "big-endian GGUF files are not supported");
    if (g->version != 2 && g->version != 3)
        return rd_fail(&r, "GGUF version %u is not supported (2 and 3 are)", g->version);
    uint64_t n_tensors = 0, n_kv = 0;
    if ((rc = rd_u64(&r, &n_tensors, "header")) || (rc = rd_u64(&r, &n_kv, "header")))
        return rc;
    /* a metadata entry takes >= 13 bytes, a tensor info >= 32: refuse absurd counts early */
    if (n_kv > rd_left(&r) / 13)
        return rd_fail(&r, "metadata count %llu is larger than the file can hold",
                       (unsigned long long)n_kv);
    if (n_tensors > rd_left(&r) / 32)
        return rd_fail(&r, "tensor count %llu is larger than the file can hold",
                       (unsigned long long)n_tensors);
    g->n_kv = (int64_t)n_kv;
    g->n_tensors = (int64_t)n_tensors;
    g->kv = calloc(n_kv ? n_kv : 1, sizeof *g->kv);
    g->kv_sorted = calloc(n_kv ? n_kv : 1, sizeof *g->kv_sorted);
    g->tensors = calloc(n_tensors ? n_tensors : 1, sizeof *g->tensors);
    g->t_sorted = calloc(n_tensors ? n_tensors : 1, sizeof *g->t_sorted);
    if (!g->kv || !g->kv_sorted || !g->tensors || !g->t_sorted) {
        snprintf(err, err_len, "out of memory reading the GGUF header");
        return ENG_E_NOMEM;
    }
    if ((rc = parse_kvs(g, &r)))
        return rc;

    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    const struct gguf_kv *al = gguf_kv_find(g, "general.alignment");
    if (al) {
        uint32_t a;
        if (al->type != GGUF_TYPE_UINT32)
            return rd_fail(&r, "metadata 'general.alignment': must be a uint32");
        memcpy(&a, al->data, 4);
        if (a == 0 || (a & (a - 1)))
            return rd_fail(&r, "metadata 'general.alignment': %u is not a power of two", a);
        g->alignment = a;
    }

    if ((rc = parse_tensor_infos(g, &r)))
        return rc;

    uint64_t pad = (g->alignment - r.pos % g->alignment) % g->alignment;
    g->data_off = r.pos + pad;   /* may equal or exceed size when there are no tensors */
    for (int64_t i = 0; i < g->n_tensors; i++) {
        struct gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment)
            return rd_fail(&r, "tensor '%s': offset %llu is not a multiple of the alignment %llu",
                           t->name, (unsigned long long)t->offset,
                           (unsigned long long)g->alignment);
        if (g->data_off > g->size || t->offset > g->size - g->data_off)
            return rd_fail(&r, "tensor '%s': data starts past the end of the file", t->name);
        if (t->nbytes > g->size - g->data_off - t->offset)
            return rd_fail(&r, "tensor '%s': data ends past the end of the file", t->name);
        t->data = g->base + g->data_off + t->offset;
    }
    return 0;
}

/* path and st: the mapped file's (guarded, and checked by gguf_file_changed); NULL for a
 * caller's buffer. */
static int gguf_open_buf(const uint8_t *base, size_t size, int mapped, const char *path,
                         const struct stat *st, gguf **out, char *err, size_t err_len) {
    gguf *g = calloc(1, sizeof *g);
    if (!g || (path && !(g->path = strdup(path)))) {
        free(g);
        if (mapped)
            munmap((void *)base, size);
        snprintf(err, err_len, "out of memory");
        return ENG_E_NOMEM;
    }
    g->base = base;
    g->size = size;
    g->mapped = mapped;
    if (st)
        g->st = *st;
    /* guarded before the first read: the parse below may already fault */
    g->guarded = mapped && mapguard_range_add(base, size, &g->broken) == 0;
    if (g->guarded)
        mapguard_thread_unblock(); /* the loading thread reads the weights too */
    int rc = gguf_parse(g, err, err_len);
    if (rc == 0 && gguf_broken(g)) {
        snprintf(err, err_len, "%s: the model file changed on disk while it was read",
                 path ? path : "model");
        rc = ENG_E_CHANGED;
    }
    if (rc) {
        gguf_close(g);
        return rc;
    }
    *out = g;
    return ENG_OK;
}

int gguf_open(const char *path, gguf **out, char *err, size_t err_len) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return ENG_E_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s: not a regular file", path);
        close(fd);
        return ENG_E_IO;
    }
    if (st.st_size < 4) {
        snprintf(err, err_len, "%s: not a GGUF file (too short)", path);
        close(fd);
        return ENG_E_FORMAT;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(err, err_len, "%s: mmap: %s", path, strerror(e));
        return ENG_E_IO;
    }
    return gguf_open_buf(p, (size_t)st.st_size, 1, path, &st, out, err, err_len);
}

int gguf_open_mem(const void *buf, size_t len, gguf **out, char *err, size_t err_len) {
    *out = NULL;
    if (!buf && len)
        return ENG_E_ARG;
    return gguf_open_buf(buf, len, 0, NULL, NULL, out, err, err_len);
}

int gguf_broken(const gguf *g) { return atomic_load(&((gguf *)g)->broken); }

int gguf_file_changed(const gguf *g) {
    if (!g->mapped)
        return 0;
    if (gguf_broken(g))
        return 1;
    struct stat st;
    if (!g->path || stat(g->path, &st) != 0)
        return 1;
    return st.st_dev != g->st.st_dev || st.st_ino != g->st.st_ino ||
           st.st_size != g->st.st_size || st.st_mtim.tv_sec != g->st.st_mtim.tv_sec ||
           st.st_mtim.tv_nsec != g->st.st_mtim.tv_nsec;
}

void gguf_close(gguf *g) {
    if (!g)
        return;
    if (g->guarded)
        mapguard_range_remove(g->base);
    if (g->mapped)
        munmap((void *)g->base, g->size);
    free(g->path);
    free(g->kv);
    free(g->kv_sorted);
    free(g->tensors);
    free(g->t_sorted);
    free(g);
}

void gguf_advise_willneed(const gguf *g) {
    if (g && g->mapped)
        (void)posix_madvise((void *)g->base, g->size, POSIX_MADV_WILLNEED);
}

void gguf_advise_dontneed(const gguf *g, const void *p, size_t n) {
#ifdef MADV_DONTNEED
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t a = (uintptr_t)p, lo = (a + page - 1) & ~(page - 1), hi = (a + n) & ~(page - 1);
    if (g && g->mapped && a >= (uintptr_t)g->base && a + n <= (uintptr_t)g->base + g->size &&
        lo < hi)
        (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
#else
    (void)g, (void)p, (void)n;
#endif
}

uint32_t gguf_version(const gguf *g) { return g->version; }
uint64_t gguf_file_size(const gguf *g) { return g->size; }
uint64_t gguf_alignment(const gguf *g) { return g->alignment; }

const uint8_t *gguf_header_bytes(const gguf *g, size_t *len) {
    *len = g->data_off < g->size ? (size_t)g->data_off : g->size;
    return g->base;
}
int64_t gguf_n_kv(const gguf *g) { return g->n_kv; }

const struct gguf_kv *gguf_kv_at(const gguf *g, int64_t i) {
    return i >= 0 && i < g->n_kv ? &g->kv[i] : NULL;
}

const struct gguf_kv *gguf_kv_find(const gguf *g, const char *key) {
    struct gguf_str k = {strlen(key), key};
    int64_t lo = 0, hi = g->n_kv;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        const struct gguf_kv *kv = &g->kv[g->kv_sorted[mid]];
        int c = str_cmp(&kv->key, &k);
        if (c == 0)
            return kv;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Reads a scalar integer of any width as signed/unsigned 128-ish: *neg set for negatives. */
static int kv_int(const struct gguf_kv *kv, uint64_t *mag, int *neg) {
    const uint8_t *d = kv->data;
    *neg = 0;
    switch (kv->type) {
    case GGUF_TYPE_UINT8: *mag = d[0]; return 0;
    case GGUF_TYPE_UINT16: { uint16_t v; memcpy(&v, d, 2); *mag = v; return 0; }
    case GGUF_TYPE_UINT32: { uint32_t v; memcpy(&v, d, 4); *mag = v; return 0; }
    case GGUF_TYPE_UINT64: { uint64_t v; memcpy(&v, d, 8); *mag = v; return 0; }
    case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64: {
        int64_t v;
        if (kv->type == GGUF_TYPE_INT8) { int8_t x; memcpy(&x, d, 1); v = x; }
        else if (kv->type == GGUF_TYPE_INT16) { int16_t x; memcpy(&x, d, 2); v = x; }
        else if (kv->type == GGUF_TYPE_INT32) { int32_t x; memcpy(&x, d, 4); v = x; }
        else memcpy(&v, d, 8);
        *neg = v < 0;
        *mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        return 0;
    }
    default: return -2;
    }
}

int gguf_get_u32(const gguf *g, const char *key, uint32_t *out) {
    const struct gguf_kv *kv = gguf_kv_find(g, key);
    if (!kv)
        return -1;
    uint64_t mag;
    int neg;
    if (kv_int(kv, &mag, &neg) || neg || mag > UINT32_MAX)
        return -2;
    *out = (uint32_t)mag;
    return 0;
}

int gguf_get_i64(const gguf *g, const char *key, int64_t *out) {
    const struct gguf_kv *kv = gguf_kv_find(g, key);
    if (!kv)
        return -1;
    uint64_t mag;
    int neg;
    if (kv_int(kv, &mag, &neg))
        return -2;
    if (!neg && mag > (uint64_t)INT64_MAX)
        return -2;
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

int gguf_get_f32(const gguf *g, const char *key, float *out) {
    const struct gguf_kv *kv = gguf_kv_find(g, key);
    if (!kv)
        return -1;
    if (kv->type == GGUF_TYPE_FLOAT32) {
        memcpy(out, kv->data, 4);
        return 0;
    }
    if (kv->type == GGUF_TYPE_FLOAT64) {
        double v;
        memcpy(&v, kv->data, 8);
        *out = (float)v;
        return 0;
    }
    return -2;
}

int gguf_get_bool(const gguf *g, const char *key, int *out) {
    const struct gguf_kv *kv = gguf_kv_find(g, key);
    if (!kv)
        return -1;
    if (kv->type != GGUF_TYPE_BOOL)
        return -2;
    *out = kv->data[0] != 0;
    return 0;
}

int gguf_get_str(const gguf *g, const char *key, struct gguf_str *out) {
    const struct gguf_kv *kv = gguf_kv_find(g, key);
    if (!kv)
        return -1;
    if (kv->type != GGUF_TYPE_STRING)
        return -2;
    memcpy(&out->len, kv->data, 8);
    out->p = (const char *)kv->data + 8;
    return 0;
}

int gguf_get_arr(const gguf *g, const char *key, uint32_t *arr_type, uint64_t *n,
                 const uint8_t **data) {
    const struct gguf_kv *kv = gguf_kv_find(g, key);
    if (!kv)
        return -1;
    if (kv->type != GGUF_TYPE_ARRAY)
        return -2;
    *arr_type = kv->arr_type;
    *n = kv->n;
    *data = kv->data;
    return 0;
}

int gguf_get_arr_str(const gguf *g, const char *key, struct gguf_str *out, uint64_t n) {
    const struct gguf_kv *kv = gguf_kv_find(g, key);
    if (!kv)
        return -1;
    if (kv->type != GGUF_TYPE_ARRAY || kv->arr_type != GGUF_TYPE_STRING || n > kv->n)
        return -2;
    const uint8_t *p = kv->data; /* validated at open: every string lies inside the file */
    for (uint64_t i = 0; i < n; i++) {
        memcpy(&out[i].len, p, 8);
        out[i].p = (const char *)p + 8;
        p += 8 + out[i].len;
    }
    return 0;
}

int64_t gguf_n_tensors(const gguf *g) { return g->n_tensors; }

const struct gguf_tensor *gguf_tensor_at(const gguf *g, int64_t i) {
    return i >= 0 && i < g->n_tensors ? &g->tensors[i] : NULL;
}

const struct gguf_tensor *gguf_tensor_find(const gguf *g, const char *name) {
    int64_t lo = 0, hi = g->n_tensors;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        const struct gguf_tensor *t = &g->tensors[g->t_sorted[mid]];
        int c = strcmp(t->name, name);
        if (c == 0)
            return t;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
