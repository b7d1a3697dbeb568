/* engine/gguf_write.h — a small GGUF v3 writer: metadata of every type (scalars, strings,
 * arrays of scalars or strings, values copied verbatim from an open GGUF including nested
 * arrays), tensor infos, data aligned to general.alignment. Tensor data is either copied at
 * gguf_writer_add_tensor or produced tensor by tensor at write time by a callback (so a large
 * model is never held in memory whole). Used by tests and tools (mkmodel) to craft files. One
 * thread per writer. */
#ifndef NATTER_GGUF_WRITE_H
#define NATTER_GGUF_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "gguf.h"

typedef struct gguf_writer gguf_writer;

gguf_writer *gguf_writer_new(void);          /* NULL if out of memory */
void gguf_writer_free(gguf_writer *w);

/* Metadata, in the order added. Each returns 0, or -1 (out of memory, bad argument). A u32
 * "general.alignment" (a power of two) sets the data alignment (default 32). */
int gguf_writer_add_u8(gguf_writer *w, const char *key, uint8_t v);
int gguf_writer_add_i8(gguf_writer *w, const char *key, int8_t v);
int gguf_writer_add_u16(gguf_writer *w, const char *key, uint16_t v);
int gguf_writer_add_i16(gguf_writer *w, const char *key, int16_t v);
int gguf_writer_add_u32(gguf_writer *w, const char *key, uint32_t v);
int gguf_writer_add_i32(gguf_writer *w, const char *key, int32_t v);
int gguf_writer_add_u64(gguf_writer *w, const char *key, uint64_t v);
int gguf_writer_add_i64(gguf_writer *w, const char *key, int64_t v);
int gguf_writer_add_f32(gguf_writer *w, const char *key, float v);
int gguf_writer_add_f64(gguf_writer *w, const char *key, double v);
int gguf_writer_add_bool(gguf_writer *w, const char *key, int v);
int gguf_writer_add_str(gguf_writer *w, const char *key, const char *s);
int gguf_writer_add_strn(gguf_writer *w, const char *key, const char *s, size_t len);
/* An array of n scalars of elem_type (enum gguf_vtype, not STRING/ARRAY), little-endian. */
int gguf_writer_add_arr(gguf_writer *w, const char *key, uint32_t elem_type, const void *data,
                        uint64_t n);
/* An array of n NUL-terminated strings. */
int gguf_writer_add_arr_str(gguf_writer *w, const char *key, const char *const *s, uint64_t n);
/* A value copied from an open file (any type, nested arrays included), under kv's own key. */
int gguf_writer_copy_kv(gguf_writer *w, const struct gguf_kv *kv);
/* Raw bytes appended to the metadata section as one more key-value pair: the caller encodes
 * type and value (for crafting malformed files in tests). */
int gguf_writer_add_raw(gguf_writer *w, const void *bytes, size_t len);

/* A tensor: n_dims (1..4) dimensions ne[0] (row length) ... of ggml type `type`. data (its
 * gguf_writer_tensor_bytes bytes) is copied; NULL: the fill callback gives it at write time.
 * Returns the tensor's index, or -1 (bad shape or type, duplicate name, out of memory). */
int gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t type, int n_dims,
                           const int64_t *ne, const void *data);
size_t gguf_writer_tensor_bytes(const gguf_writer *w, int i);

/* Fills buf (nbytes) with the data of tensor i, for tensors added without data. 0 or -1. */
typedef int (*gguf_writer_fill_fn)(void *ud, int i, void *buf, size_t nbytes);

/* Writes the file (fill may be NULL when every tensor has its data). Returns 0, or -1 with a
 * one-line message in err. */
int gguf_writer_write(gguf_writer *w, const char *path, gguf_writer_fill_fn fill, void *ud,
                      char *err, size_t err_len);

#endif
