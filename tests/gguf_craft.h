/* tests/gguf_craft.h — builds GGUF files in memory for tests: a byte writer for hand-made
 * (deliberately broken) layouts, and a whole-file builder (kvs + tensors, alignment, data) that
 * can start from a real model's contents and be patched (change a value, drop or reshape a
 * tensor) before it is written out. Test code only; single-threaded. */
#ifndef NATTER_GGUF_CRAFT_H
#define NATTER_GGUF_CRAFT_H

#include <stddef.h>
#include <stdint.h>

#include "gguf.h"

/* ---- bytes ---- */
struct gc_buf {
    uint8_t *p;
    size_t len, cap;
};
void gc_bytes(struct gc_buf *b, const void *p, size_t n);
void gc_u8(struct gc_buf *b, uint8_t v);
void gc_u32(struct gc_buf *b, uint32_t v);
void gc_u64(struct gc_buf *b, uint64_t v);
void gc_str(struct gc_buf *b, const char *s);             /* u64 length + bytes */
void gc_pad(struct gc_buf *b, size_t align);              /* zeros up to a multiple of align */
void gc_buf_free(struct gc_buf *b);

/* ---- whole files ---- */
struct gc_kv {
    char *key;
    uint32_t type;         /* enum gguf_vtype */
    uint8_t *raw;          /* the value's bytes as stored after the type field */
    size_t raw_len;
};
struct gc_tensor {
    char *name;
    uint32_t type;
    uint32_t n_dims;
    uint64_t ne[8];
    const void *data;      /* borrowed; NULL: zeros */
    uint64_t nbytes;
    int64_t offset;        /* -1: placed by gc_build (aligned, in order); else forced */
};
struct gc_file {
    uint32_t version;      /* 3 */
    uint64_t alignment;    /* used to place data (also written as general.alignment if set) */
    struct gc_kv *kv;
    int n_kv;
    struct gc_tensor *t;
    int n_t;
    /* Overrides for the header counts (UINT64_MAX - ... ), 0 = the real count. */
    int override_counts;
    uint64_t n_kv_hdr, n_t_hdr;
};

void gc_file_init(struct gc_file *f);
void gc_file_free(struct gc_file *f);
/* Copies every kv and tensor of g (tensor data borrowed from g's mapping). 0 or -1. */
int gc_file_from_gguf(struct gc_file *f, const gguf *g);

/* Adds or replaces key with a value of the given type (raw bytes as stored after the type). */
void gc_set_raw(struct gc_file *f, const char *key, uint32_t type, const void *raw, size_t n);
void gc_set_u32(struct gc_file *f, const char *key, uint32_t v);
void gc_set_i32(struct gc_file *f, const char *key, int32_t v);
void gc_set_u64(struct gc_file *f, const char *key, uint64_t v);
void gc_set_f32(struct gc_file *f, const char *key, float v);
void gc_set_str(struct gc_file *f, const char *key, const char *s);
/* An array header only (element type, count) followed by the given element bytes. */
void gc_set_arr(struct gc_file *f, const char *key, uint32_t arr_type, uint64_t n,
                const void *elems, size_t elems_len);
int gc_del(struct gc_file *f, const char *key);            /* 1 if it was there */
struct gc_kv *gc_find(struct gc_file *f, const char *key);

struct gc_tensor *gc_tensor_add(struct gc_file *f, const char *name, uint32_t type,
                                uint32_t n_dims, const uint64_t *ne, const void *data,
                                uint64_t nbytes);
struct gc_tensor *gc_tensor_find(struct gc_file *f, const char *name);
int gc_tensor_del(struct gc_file *f, const char *name);

/* Writes the file: header, kvs, tensor infos, padding to alignment, data. Records the offset
 * after each structural element in bounds[] (if not NULL, up to cap entries; *n_bounds set):
 * the places where a truncated file is most interesting. */
uint8_t *gc_build(const struct gc_file *f, size_t *len, size_t *bounds, int cap, int *n_bounds);
/* gc_build to a file; 0 or -1. */
int gc_write(const struct gc_file *f, const char *path);
int gc_write_bytes(const char *path, const void *p, size_t n);

#endif
