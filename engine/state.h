/* engine/state.h — what engine/state.c (context snapshots) needs from a context's internals,
 * which engine.c owns: the buffers of the state, lent out by ctx_state_refs_get. Internal to
 * engine/; the caller holds the context (one thread at a time). */
#ifndef NATTER_STATE_H
#define NATTER_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define CTX_STATE_CKPT_MAX 8   /* checkpoints a snapshot may hold (>= a context's) */

struct ctx_state_refs {
    eng_model *m;
    int n_ctx, kv_type;
    void *k_cache, *v_cache;      /* per layer (n_ctx, its n_embd_kv), at n_ctx * kv_off */
    int32_t *tokens;              /* (n_ctx) */
    int *n_past;
    float *rs;                    /* (n_rs) the current recurrent state, NULL without one */
    size_t n_rs;
    int n_ckpt;                   /* checkpoint slots */
    int *ckpt_pos[CTX_STATE_CKPT_MAX];     /* -1: unused */
    float *ckpt_data[CTX_STATE_CKPT_MAX];  /* (n_rs) each */
    int *n_logits;                /* set to 0 after a restore: no logits kept */
};
void ctx_state_refs_get(eng_ctx *c, struct ctx_state_refs *r);
/* Bytes of n values in a cache of type kv_type, which is also where value index n starts (n a
 * multiple of 32 for the block types): engine.c. */
size_t ctx_kv_bytes(int kv_type, size_t n);
/* Where position pos of KV head h starts in a layer's cache (in values, from the cache's start):
 * a layer's values begin at kv_off * n_ctx, head-major (each head's n_ctx rows of head_dim). */
size_t ctx_kv_index(size_t kv_off, int n_ctx, int head_dim, int h, int pos);

/* The snapshots' 64-bit checksum of n bytes (xxHash64's construction, seed 0): state.c. */
uint64_t state_hash_bytes(const void *p, size_t n);

#endif
