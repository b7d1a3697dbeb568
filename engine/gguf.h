/* engine/gguf.h — GGUF v2/v3 reader (internal to the engine): one read-only mmap, every count,
 * length, type id, dimension and offset validated against the file before use. Nothing here
 * allocates per lookup; strings point into the mapping (not NUL-terminated). A gguf handle is
 * read-only after gguf_open and may be shared across threads. */
#ifndef NATTER_GGUF_H
#define NATTER_GGUF_H

#include <stddef.h>
#include <stdint.h>

enum gguf_vtype {
    GGUF_TYPE_UINT8 = 0, GGUF_TYPE_INT8 = 1, GGUF_TYPE_UINT16 = 2, GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4, GGUF_TYPE_INT32 = 5, GGUF_TYPE_FLOAT32 = 6, GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8, GGUF_TYPE_ARRAY = 9, GGUF_TYPE_UINT64 = 10, GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12, GGUF_TYPE_COUNT
};

struct gguf_str { uint64_t len; const char *p; };   /* points into the mapping */

struct gguf_kv {
    struct gguf_str key;
    uint32_t type;       /* enum gguf_vtype */
    uint32_t arr_type;   /* element type when type == ARRAY */
    uint64_t n;          /* element count when type == ARRAY, else 1 */
    const uint8_t *data; /* the value (or first element) in the mapping; validated */
};

#define GGUF_MAX_DIMS 4
struct gguf_tensor {
    char name[128];      /* NUL-terminated copy (GGUF caps names at 64 bytes) */
    uint32_t type;       /* ggml type id (engine/quant.h) */
    int n_dims;
    int64_t ne[GGUF_MAX_DIMS]; /* ne[0] = row length; unused dims are 1 */
    uint64_t offset;     /* from the start of the data section */
    uint64_t nbytes;
    const void *data;    /* in the mapping, aligned to general.alignment */
};

typedef struct gguf gguf;

/* Bytes of one value of a fixed-size type (enum gguf_vtype); 0 for STRING, ARRAY and unknown. */
uint64_t gguf_vtype_size(uint32_t t);

/* Maps and validates path. On failure returns ENG_E_IO/ENG_E_FORMAT/ENG_E_UNSUPPORTED and a
 * one-line message in err ("tensor 'x': data ends past the end of the file"). */
int gguf_open(const char *path, gguf **out, char *err, size_t err_len);
/* Same, over a caller-owned buffer (borrowed, must outlive the handle): fuzzing and tests. */
int gguf_open_mem(const void *buf, size_t len, gguf **out, char *err, size_t err_len);
void gguf_close(gguf *g); /* accepts NULL */
/* A mapped file is guarded (engine/mapguard.h): 1 once a read past a shrunken file's end was
 * absorbed (its data then reads as zeros). One atomic load; 0 for gguf_open_mem. */
int gguf_broken(const gguf *g);
/* 1 when the file at the opened path is no longer the one mapped (gone, replaced, resized or
 * rewritten: device, inode, size or modification time differ) or gguf_broken; one stat(). */
int gguf_file_changed(const gguf *g);
/* Hints the kernel to read the whole mapping ahead (MADV_WILLNEED); no-op for memory buffers. */
void gguf_advise_willneed(const gguf *g);
/* Drops the whole pages inside [p, p + n) of the mapping from the process (MADV_DONTNEED: the
 * file's bytes stay on disk and a later read maps them again); for data the engine has copied
 * (repacked weights). No-op for memory buffers or where madvise lacks it. */
void gguf_advise_dontneed(const gguf *g, const void *p, size_t n);

uint32_t gguf_version(const gguf *g);
uint64_t gguf_file_size(const gguf *g);
uint64_t gguf_alignment(const gguf *g);
/* The bytes before the tensor data (header, metadata, tensor infos): what identifies a model
 * file apart from its weights. *len gets their count (at most the file's size). */
const uint8_t *gguf_header_bytes(const gguf *g, size_t *len);

/* Lookups return pointers into g (valid until gguf_close, never freed by the caller), or NULL:
 * an index outside 0..n-1, or no key / tensor of that name. */
int64_t gguf_n_kv(const gguf *g);
const struct gguf_kv *gguf_kv_at(const gguf *g, int64_t i);          /* NULL if out of range */
const struct gguf_kv *gguf_kv_find(const gguf *g, const char *key); /* NULL if absent */

/* Typed getters: 0 on success, -1 if absent, -2 if the stored type does not fit (integers of any
 * width convert when the value fits; floats accept F32/F64). */
int gguf_get_u32(const gguf *g, const char *key, uint32_t *out);
int gguf_get_i64(const gguf *g, const char *key, int64_t *out);
int gguf_get_f32(const gguf *g, const char *key, float *out);
int gguf_get_bool(const gguf *g, const char *key, int *out);
int gguf_get_str(const gguf *g, const char *key, struct gguf_str *out);
/* Arrays: element type and count; data points at the first element. */
int gguf_get_arr(const gguf *g, const char *key, uint32_t *arr_type, uint64_t *n,
                 const uint8_t **data);
/* An array of strings unpacked into out[0..n) (caller allocates n entries). */
int gguf_get_arr_str(const gguf *g, const char *key, struct gguf_str *out, uint64_t n);

int64_t gguf_n_tensors(const gguf *g);
const struct gguf_tensor *gguf_tensor_at(const gguf *g, int64_t i);          /* NULL if out of range */
const struct gguf_tensor *gguf_tensor_find(const gguf *g, const char *name); /* NULL if absent */

#endif
