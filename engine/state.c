/* engine/state.c — context state snapshots (eng_ctx_state_*, eng_model_fingerprint): a
 * context's tokens, its K/V rows (bulk copies of the cache as it stores them, F16 or F32), its
 * recurrent state and checkpoints, written to and read from a file descriptor. The format:
 *
 *   struct state_hdr    magic, version, the model's fingerprint and shape, the context's
 *                       size and KV type, the token and checkpoint counts, the checkpoints'
 *                       positions, the payload's size, a checksum of the header itself
 *   payload             tokens (n_tokens int32); the K rows of each layer with a cache of its
 *                       own, KV head by KV head, for positions 0..n_tokens, then the V rows
 *                       the same way (version 2; 1 was position-major); the recurrent state
 *                       (n_rs floats); each checkpoint's state (n_rs floats)
 *   struct state_tail   the payload's checksum, an end magic
 *
 * Values are in the host's byte order (a snapshot is a cache of this machine's work). Every
 * field is checked before use; a restore verifies the whole payload before keeping any of it.
 * Errors are ENG_E_* codes with eng_last_error()'s one line. Called by the context's owner
 * thread (one thread at a time per context). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "state.h"

#define STATE_MAGIC "NATKVST\0"
#define STATE_TAIL_MAGIC "NATKVEND"
#define STATE_VERSION 2u   /* 2: a layer's K and V head-major (ctx_kv_index) */

struct state_hdr {
    char magic[8];
    uint32_t version, hdr_bytes;
    uint64_t model_fp, model_size;
    int32_t n_layer, n_vocab, n_kv_total, n_ctx;
    int32_t kv_type, n_tokens, n_ckpt, reserved;
    uint64_t n_rs;                         /* floats of one recurrent state */
    int32_t ckpt_pos[CTX_STATE_CKPT_MAX];  /* the n_ckpt checkpoints' positions */
    uint64_t payload_bytes;
    uint64_t hdr_hash;                     /* of this header with hdr_hash = 0 */
};
_Static_assert(sizeof(struct state_hdr) == 120, "the header is 120 bytes (tests/test_state.c)");
struct state_tail {
    uint64_t payload_hash;
    char magic[8];
};

/* ---- a 64-bit streaming hash (the xxHash64 construction: four lanes of multiply-rotate
 * rounds over 32-byte stripes, then an avalanche) ---- */

#define H_P1 0x9E3779B185EBCA87ull
#define H_P2 0xC2B2AE3D27D4EB4Full
#define H_P3 0x165667B19E3779F9ull
#define H_P4 0x85EBCA77C2B2AE63ull
#define H_P5 0x27D4EB2F165667C5ull

struct st_hash {
    uint64_t v[4], total, seed;
    unsigned char buf[32];
    size_t nbuf;
};

static uint64_t h_rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static uint64_t h_round(uint64_t acc, uint64_t in) {
    return h_rotl(acc + in * H_P2, 31) * H_P1;
}
static uint64_t h_merge(uint64_t acc, uint64_t v) {
    return (acc ^ h_round(0, v)) * H_P1 + H_P4;
}
static uint64_t h_load64(const unsigned char *p) {
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

static void st_hash_init(struct st_hash *h, uint64_t seed) {
    memset(h, 0, sizeof *h);
    h->seed = seed;
    h->v[0] = seed + H_P1 + H_P2;
    h->v[1] = seed + H_P2;
    h->v[2] = seed;
    h->v[3] = seed - H_P1;
}

static void st_hash_stripe(struct st_hash *h, const unsigned char *p) {
    for (int i = 0; i < 4; i++)
        h->v[i] = h_round(h->v[i], h_load64(p + 8 * i));
}

static void st_hash_update(struct st_hash *h, const void *data, size_t n) {
    const unsigned char *p = data;
    h->total += n;
    if (h->nbuf) {
        size_t take = 32 - h->nbuf < n ? 32 - h->nbuf : n;
        memcpy(h->buf + h->nbuf, p, take);
        h->nbuf += take;
        p += take;
        n -= take;
        if (h->nbuf < 32)
            return;
        st_hash_stripe(h, h->buf);
        h->nbuf = 0;
    }
    for (; n >= 32; p += 32, n -= 32)
        st_hash_stripe(h, p);
    memcpy(h->buf, p, n);
    h->nbuf = n;
}

static uint64_t st_hash_final(const struct st_hash *h) {
    uint64_t x;
    if (h->total >= 32) {
        x = h_rotl(h->v[0], 1) + h_rotl(h->v[1], 7) + h_rotl(h->v[2], 12) + h_rotl(h->v[3], 18);
        for (int i = 0; i < 4; i++)
            x = h_merge(x, h->v[i]);
    } else {
        x = h->seed + H_P5;
    }
    x += h->total;
    const unsigned char *p = h->buf;
    size_t n = h->nbuf;
    for (; n >= 8; p += 8, n -= 8)
        x = h_rotl(x ^ h_round(0, h_load64(p)), 27) * H_P1 + H_P4;
    if (n >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        x = h_rotl(x ^ ((uint64_t)w * H_P1), 23) * H_P2 + H_P3;
        p += 4;
        n -= 4;
    }
    for (; n; p++, n--)
        x = h_rotl(x ^ (*p * H_P5), 11) * H_P1;
    x ^= x >> 33;
    x *= H_P2;
    x ^= x >> 29;
    x *= H_P3;
    x ^= x >> 32;
    return x;
}

uint64_t state_hash_bytes(const void *p, size_t n) {
    struct st_hash h;
    st_hash_init(&h, 0);
    st_hash_update(&h, p, n);
    return st_hash_final(&h);
}

uint64_t eng_model_fingerprint(const eng_model *m) {
    size_t n = 0;
    const uint8_t *p = gguf_header_bytes(m->g, &n);
    return state_hash_bytes(p, n);
}

/* ---- the payload's sections ---- */

/* One section of the payload: where it lives in the context, its size. */
struct state_sec {
    void *p;
    size_t n;
};

/* The payload's sections for n_tok tokens and the checkpoint slots slot[0..n_ckpt) in file
 * order, into sec (room for 1 + 2 (the layers' KV heads) + 1 + CTX_STATE_CKPT_MAX). Returns their count. */
static int state_sections(const struct ctx_state_refs *r, int n_tok, const int *slot, int n_ckpt,
                          struct state_sec *sec) {
    const struct hparams *hp = &r->m->hp;
    int k = 0;
    sec[k++] = (struct state_sec){r->tokens, (size_t)n_tok * sizeof(int32_t)};
    for (int kv = 0; kv < 2; kv++)
        for (int il = 0; il < hp->n_layer; il++) {
            const struct layer_hp *lh = &hp->l[il];
            if (lh->kv_shared || lh->n_embd_kv <= 0)
                continue;
            char *base = kv ? r->v_cache : r->k_cache;
            for (int h = 0; h < lh->n_head_kv; h++)   /* each head's first n_tok rows */
                sec[k++] = (struct state_sec){
                    base + ctx_kv_bytes(r->kv_type,
                                        ctx_kv_index(lh->kv_off, r->n_ctx, lh->head_dim, h, 0)),
                    ctx_kv_bytes(r->kv_type, (size_t)n_tok * (size_t)lh->head_dim)};
        }
    if (r->n_rs) {
        sec[k++] = (struct state_sec){r->rs, r->n_rs * sizeof(float)};
        for (int i = 0; i < n_ckpt; i++)
            sec[k++] = (struct state_sec){r->ckpt_data[slot[i]], r->n_rs * sizeof(float)};
    }
    return k;
}

static struct state_sec *state_sec_alloc(const struct ctx_state_refs *r) {
    size_t n = 2 + CTX_STATE_CKPT_MAX;
    for (int il = 0; il < r->m->hp.n_layer; il++)
        n += 2 * (size_t)r->m->hp.l[il].n_head_kv;
    return malloc(n * sizeof(struct state_sec));
}

/* The checkpoint slots a snapshot of the current state keeps (positions 1..n_past), oldest
 * position first. Returns their count. */
static int state_ckpt_slots(const struct ctx_state_refs *r, int *slot) {
    int n = 0;
    for (int i = 0; i < r->n_ckpt; i++) {
        int pos = *r->ckpt_pos[i];
        if (pos <= 0 || pos > *r->n_past)
            continue;
        int j = n++;
        while (j > 0 && *r->ckpt_pos[slot[j - 1]] > pos) {
            slot[j] = slot[j - 1];
            j--;
        }
        slot[j] = i;
    }
    return n;
}

/* What a snapshot of c as it is now holds: the checkpoints kept, the payload's sections. */
struct state_plan {
    struct ctx_state_refs r;
    int slot[CTX_STATE_CKPT_MAX];
    int n_ckpt, n_sec;
    struct state_sec *sec;   /* freed by the caller */
};

static int state_plan_make(const eng_ctx *c, struct state_plan *p) {
    ctx_state_refs_get((eng_ctx *)c, &p->r);
    p->n_ckpt = state_ckpt_slots(&p->r, p->slot);
    if (!(p->sec = state_sec_alloc(&p->r)))
        return eng_error(ENG_E_NOMEM, "out of memory");
    p->n_sec = state_sections(&p->r, *p->r.n_past, p->slot, p->n_ckpt, p->sec);
    return ENG_OK;
}

size_t eng_ctx_state_size(const eng_ctx *c) {
    struct state_plan p;
    if (state_plan_make(c, &p) != ENG_OK)
        return 0;
    size_t total = sizeof(struct state_hdr) + sizeof(struct state_tail);
    for (int i = 0; i < p.n_sec; i++)
        total += p.sec[i].n;
    free(p.sec);
    return total;
}

/* ---- I/O ---- */

static int state_write_all(int fd, const void *p, size_t n) {
    const char *s = p;
    while (n) {
        ssize_t w = write(fd, s, n > ((size_t)1 << 30) ? (size_t)1 << 30 : n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return eng_error(ENG_E_IO, "cannot write the snapshot: %s",
                             w < 0 ? strerror(errno) : "nothing written");
        s += w;
        n -= (size_t)w;
    }
    return ENG_OK;
}

/* Reads exactly n bytes (hashed into h when not NULL); a short file is ENG_E_CORRUPT. */
static int state_read_all(int fd, void *p, size_t n, struct st_hash *h) {
    char *d = p;
    size_t left = n;
    while (left) {
        ssize_t got = read(fd, d, left > ((size_t)1 << 30) ? (size_t)1 << 30 : left);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return eng_error(ENG_E_IO, "cannot read the snapshot: %s", strerror(errno));
        if (got == 0)
            return eng_error(ENG_E_CORRUPT, "the snapshot is truncated");
        d += got;
        left -= (size_t)got;
    }
    if (h)
        st_hash_update(h, p, n);
    return ENG_OK;
}

/* The header a snapshot of r's first n_tok tokens and the checkpoints slot[0..n_ckpt) has
 * (payload_bytes and hdr_hash included). */
static void state_hdr_make(const struct ctx_state_refs *r, int n_tok, const int *slot,
                           int n_ckpt, const struct state_sec *sec, int n_sec,
                           struct state_hdr *h) {
    const struct hparams *hp = &r->m->hp;
    memset(h, 0, sizeof *h);
    memcpy(h->magic, STATE_MAGIC, 8);
    h->version = STATE_VERSION;
    h->hdr_bytes = (uint32_t)sizeof *h;
    h->model_fp = eng_model_fingerprint(r->m);
    h->model_size = gguf_file_size(r->m->g);
    h->n_layer = hp->n_layer;
    h->n_vocab = hp->n_vocab;
    h->n_kv_total = hp->n_kv_total;
    h->n_ctx = r->n_ctx;
    h->kv_type = r->kv_type;
    h->n_tokens = n_tok;
    h->n_ckpt = n_ckpt;
    h->n_rs = r->n_rs;
    for (int i = 0; i < CTX_STATE_CKPT_MAX; i++)
        h->ckpt_pos[i] = i < n_ckpt ? *r->ckpt_pos[slot[i]] : -1;
    for (int i = 0; i < n_sec; i++)
        h->payload_bytes += sec[i].n;
    h->hdr_hash = state_hash_bytes(h, sizeof *h);
}

int eng_ctx_state_write(const eng_ctx *c, int fd) {
    struct state_plan p;
    int rc = state_plan_make(c, &p);
    if (rc != ENG_OK)
        return rc;
    struct state_hdr h;
    state_hdr_make(&p.r, *p.r.n_past, p.slot, p.n_ckpt, p.sec, p.n_sec, &h);
    struct st_hash ph;
    st_hash_init(&ph, 0);
    rc = state_write_all(fd, &h, sizeof h);
    for (int i = 0; i < p.n_sec && rc == ENG_OK; i++) {
        st_hash_update(&ph, p.sec[i].p, p.sec[i].n);
        rc = state_write_all(fd, p.sec[i].p, p.sec[i].n);
    }
    if (rc == ENG_OK) {
        struct state_tail t;
        t.payload_hash = st_hash_final(&ph);
        memcpy(t.magic, STATE_TAIL_MAGIC, 8);
        rc = state_write_all(fd, &t, sizeof t);
    }
    free(p.sec);
    return rc;
}

/* Reads and checks a header against r: ENG_OK, ENG_E_MISMATCH or ENG_E_CORRUPT. */
static int state_hdr_read(const struct ctx_state_refs *r, int fd, struct state_hdr *h) {
    int rc = state_read_all(fd, h, sizeof *h, NULL);
    if (rc != ENG_OK)
        return rc;
    if (memcmp(h->magic, STATE_MAGIC, 8) != 0)
        return eng_error(ENG_E_CORRUPT, "not a natter state snapshot (bad magic)");
    if (h->version != STATE_VERSION || h->hdr_bytes != sizeof *h)
        return eng_error(ENG_E_MISMATCH, "snapshot format version %u (this natter reads %u)",
                         h->version, STATE_VERSION);
    const uint64_t want = h->hdr_hash;
    h->hdr_hash = 0;
    const uint64_t got = state_hash_bytes(h, sizeof *h);
    h->hdr_hash = want;
    if (got != want)
        return eng_error(ENG_E_CORRUPT, "the snapshot's header fails its checksum");
    const struct hparams *hp = &r->m->hp;
    if (h->model_fp != eng_model_fingerprint(r->m) || h->model_size != gguf_file_size(r->m->g) ||
        h->n_layer != hp->n_layer || h->n_vocab != hp->n_vocab ||
        h->n_kv_total != hp->n_kv_total || h->n_rs != r->n_rs)
        return eng_error(ENG_E_MISMATCH, "the snapshot is of another model");
    if (h->n_ctx != r->n_ctx || h->kv_type != r->kv_type)
        return eng_error(ENG_E_MISMATCH, "the snapshot is of a context of %d tokens, %s cache "
                         "(this one: %d, %s)", h->n_ctx,
                         eng_kv_type_name(h->kv_type) ? eng_kv_type_name(h->kv_type) : "?",
                         r->n_ctx, eng_kv_type_name(r->kv_type));
    if (h->n_tokens < 0 || h->n_tokens > r->n_ctx || h->n_ckpt < 0 ||
        h->n_ckpt > r->n_ckpt || (!r->n_rs && h->n_ckpt))
        return eng_error(ENG_E_CORRUPT, "the snapshot's counts are out of range");
    for (int i = 0; i < h->n_ckpt; i++)
        if (h->ckpt_pos[i] <= 0 || h->ckpt_pos[i] > h->n_tokens ||
            (i > 0 && h->ckpt_pos[i] <= h->ckpt_pos[i - 1]))
            return eng_error(ENG_E_CORRUPT, "the snapshot's checkpoint %d is out of order", i);
    return ENG_OK;
}

/* How many of toks[0..n) a snapshot of have[0..h->n_tokens) gives: the common prefix, for a
 * recurrent model cut to its end or its latest checkpoint within. */
static int state_usable(const struct ctx_state_refs *r, const struct state_hdr *h,
                        const int32_t *have, const int32_t *toks, int n) {
    int common = 0;
    while (common < n && common < h->n_tokens && have[common] == toks[common])
        common++;
    if (!r->n_rs || common == h->n_tokens)
        return common;
    int best = 0;
    for (int i = 0; i < h->n_ckpt; i++)
        if (h->ckpt_pos[i] <= common)
            best = h->ckpt_pos[i];
    return best;
}

static int state_tokens_check(const struct ctx_state_refs *r, const int32_t *t, int n) {
    for (int i = 0; i < n; i++)
        if (t[i] < 0 || t[i] >= r->m->hp.n_vocab)
            return eng_error(ENG_E_CORRUPT, "the snapshot's token %d is out of range", i);
    return ENG_OK;
}

int eng_ctx_state_match(const eng_ctx *c, int fd, const int32_t *toks, int n) {
    struct ctx_state_refs r;
    ctx_state_refs_get((eng_ctx *)c, &r);
    struct state_hdr h;
    int rc = state_hdr_read(&r, fd, &h);
    if (rc != ENG_OK)
        return rc;
    int32_t *have = malloc((size_t)(h.n_tokens ? h.n_tokens : 1) * sizeof *have);
    if (!have)
        return eng_error(ENG_E_NOMEM, "out of memory");
    rc = state_read_all(fd, have, (size_t)h.n_tokens * sizeof *have, NULL);
    if (rc == ENG_OK)
        rc = state_tokens_check(&r, have, h.n_tokens);
    if (rc == ENG_OK)
        rc = state_usable(&r, &h, have, toks, n > 0 && toks ? n : 0);
    free(have);
    return rc;
}

/* The context holds nothing: no tokens, a zero recurrent state, no checkpoints. */
static void state_clear(const struct ctx_state_refs *r) {
    *r->n_past = 0;
    *r->n_logits = 0;
    if (r->rs)
        memset(r->rs, 0, r->n_rs * sizeof(float));
    for (int i = 0; i < r->n_ckpt; i++)
        *r->ckpt_pos[i] = -1;
}

int eng_ctx_state_read(eng_ctx *c, int fd, const int32_t *toks, int n) {
    struct ctx_state_refs r;
    ctx_state_refs_get(c, &r);
    state_clear(&r);
    struct state_hdr h;
    int rc = state_hdr_read(&r, fd, &h);
    if (rc != ENG_OK)
        return rc;
    struct state_sec *sec = state_sec_alloc(&r);
    if (!sec)
        return eng_error(ENG_E_NOMEM, "out of memory");
    int slot[CTX_STATE_CKPT_MAX];
    for (int i = 0; i < h.n_ckpt; i++)
        slot[i] = i;   /* the file's checkpoints go to the first slots */
    const int n_sec = state_sections(&r, h.n_tokens, slot, h.n_ckpt, sec);
    uint64_t bytes = 0;
    for (int i = 0; i < n_sec; i++)
        bytes += sec[i].n;
    if (bytes != h.payload_bytes)
        rc = eng_error(ENG_E_CORRUPT, "the snapshot's payload size is inconsistent");
    struct st_hash ph;
    st_hash_init(&ph, 0);
    for (int i = 0; i < n_sec && rc == ENG_OK; i++)
        rc = state_read_all(fd, sec[i].p, sec[i].n, &ph);
    free(sec);
    struct state_tail t;
    if (rc == ENG_OK)
        rc = state_read_all(fd, &t, sizeof t, NULL);
    if (rc == ENG_OK && (memcmp(t.magic, STATE_TAIL_MAGIC, 8) != 0 ||
                         t.payload_hash != st_hash_final(&ph)))
        rc = eng_error(ENG_E_CORRUPT, "the snapshot fails its checksum");
    if (rc == ENG_OK)
        rc = state_tokens_check(&r, r.tokens, h.n_tokens);
    if (rc != ENG_OK) {
        state_clear(&r);
        return rc;
    }
    const int keep = state_usable(&r, &h, r.tokens, toks, n > 0 && toks ? n : 0);
    if (r.n_rs) {
        int from = -1;   /* the checkpoint the state goes back to, -1: the snapshot's end */
        for (int i = 0; i < h.n_ckpt; i++) {
            *r.ckpt_pos[i] = h.ckpt_pos[i] <= keep ? h.ckpt_pos[i] : -1;
            if (keep < h.n_tokens && h.ckpt_pos[i] == keep)
                from = i;
        }
        if (keep == 0)
            memset(r.rs, 0, r.n_rs * sizeof(float));
        else if (from >= 0)
            memcpy(r.rs, r.ckpt_data[from], r.n_rs * sizeof(float));
    }
    *r.n_past = keep;
    return keep;
}
