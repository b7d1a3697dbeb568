/* src/kvcache.h — context snapshots on disk: after a reply the context's state (tokens, K/V,
 * recurrent state; engine.h's eng_ctx_state_*) is written under paths_cache_dir() (default
 * ~/.cache/natter), one file per token prefix, keyed by the model file's identity (its path,
 * size, mtime and eng_model_fingerprint) and the context's size and KV type; before a prompt is
 * processed the longest cached prefix of it is restored when it is longer than what the
 * context already holds. Writes are atomic (a temp file, fsync, rename), so processes sharing
 * the directory only ever see whole files; the directory is kept under a size limit
 * ($NATTER_CACHE_MAX, least recently used first out). A file that is truncated, corrupt or of
 * another model is ignored with a note and removed, never trusted. Errors never stop the
 * caller: the prompt is then processed as without a cache. Main/UI thread (the one that owns
 * the context between generations); kvcache_save_async saves on a thread of its own. */
#ifndef NATTER_KVCACHE_H
#define NATTER_KVCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

typedef struct kvcache kvcache;

/* Notes for the user ("cache: ignoring ...: the snapshot fails its checksum"), one line each. */
typedef void (*kvcache_note_fn)(void *ud, const char *msg);

#define KVCACHE_DEFAULT_MAX ((uint64_t)2 << 30)   /* bytes, without $NATTER_CACHE_MAX */

/* The size limit: $NATTER_CACHE_MAX (bytes, K/M/G/T suffixes, 0: no cache), else the config
 * file's `cache-max` (src/config.h), else the default. A bad value gives the default and a
 * message in err (if err is not NULL). */
#define KVCACHE_CONFIG_KEY "cache-max"
uint64_t kvcache_limit(char *err, size_t err_len);
/* A size as NATTER_CACHE_MAX and cache-max take it ("512M", "2G", "1048576", "0") into *out:
 * 0, or -1 when v is not one. */
int kvcache_size_parse(const char *v, uint64_t *out);

/* A cache for contexts of model m (loaded from model_path) with c's size and KV type. *out is
 * NULL (and 0 returned) when the cache is off or its directory unusable (a note says why). */
int kvcache_open(const char *model_path, const eng_model *m, const eng_ctx *c, kvcache **out,
                 kvcache_note_fn note, void *ud);
void kvcache_close(kvcache *kc);   /* NULL: no-op */

/* Before generating from toks[0..n): restores into c the longest prefix a snapshot holds when
 * it is longer than the prefix c already holds. Returns the tokens restored (0: c unchanged, or
 * emptied when the snapshot chosen failed to read). kc NULL: 0. */
int kvcache_restore(kvcache *kc, eng_ctx *c, const int32_t *toks, int n);
/* After a reply: snapshots c (all eng_ctx_n_past() tokens) unless a file of that prefix exists;
 * makes room first (least recently used out) and removes the snapshots the new one makes
 * redundant (strict prefixes of it, attention-only models). 0, or -1 after a note. */
int kvcache_save(kvcache *kc, const eng_ctx *c);
/* The same on a thread of its own, so the caller goes on at once (a chat after a reply): c
 * must not change (no decode, no free) until kvcache_wait, which joins it and gives its notes
 * to the note function on the calling thread. kvcache_restore, kvcache_save and kvcache_close
 * wait first. 0, or kvcache_save's result when no thread could be started. */
int kvcache_save_async(kvcache *kc, const eng_ctx *c);
void kvcache_wait(kvcache *kc);   /* NULL or nothing running: no-op */

/* One snapshot file of the directory, for listing. */
struct kvcache_entry {
    char file[96];          /* name in the directory */
    uint64_t bytes;
    int64_t used;           /* last written or restored (seconds since the epoch) */
    int n_tokens, n_ctx, kv_type;
    char model[1024];       /* the model's path as recorded; "?" if the file is unreadable */
};
/* Calls fn for each snapshot in dir (NULL: paths_cache_dir()), most recently used first;
 * stops when fn returns non-zero. Returns the count, or -1 if the directory cannot be read
 * (ENOENT: 0). */
int kvcache_each(const char *dir, int (*fn)(const struct kvcache_entry *e, void *ud), void *ud);
/* Removes every snapshot (and temp files of processes that are gone) from dir (NULL:
 * paths_cache_dir()). Returns the files removed, *bytes their size; -1 on error. */
int kvcache_clear(const char *dir, uint64_t *bytes);

#endif
