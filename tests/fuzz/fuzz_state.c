/* tests/fuzz/fuzz_state.c — libFuzzer target for the context snapshot reader (engine/state.c:
 * eng_ctx_state_match, eng_ctx_state_read). Two contexts are made once from ../shared (an
 * attention model, stories260K, and a hybrid with recurrent state, LFM2), each with a valid
 * snapshot of 8 tokens and checkpoints in memory. Input byte 0 picks the context (bit 0) and
 * the mode (bits 1-2): 0 the rest of the input is the file; 1 the same with its header and
 * payload checksums made right (so the fuzzer reaches the checks behind them); 2 the valid
 * snapshot with the input's (offset, xor) pairs applied, checksums made right; 3 the same,
 * checksums as they fall. Whatever the file, the reader returns a code or a count it can keep:
 * on success n_past is that count and a token decodes after it; on failure n_past is 0.
 * Single-threaded. */
#include "engine.h"
#include "fuzz_common.h"
#include "state.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_HDR 120          /* sizeof(struct state_hdr) (engine/state.c asserts it) */
#define FZ_HASH_AT 112      /* its hdr_hash field */
#define FZ_TAIL 16          /* struct state_tail: payload hash, end magic */

struct fz_model {
    eng_model *m;
    eng_ctx *c;
    unsigned char *snap;    /* a valid snapshot */
    size_t n_snap;
};
static struct fz_model fz[2];
static char fz_path[256];
static const int32_t fz_toks[12] = {1, 403, 407, 261, 378, 275, 300, 261, 412, 400, 266, 310};

static int fz_write(const void *p, size_t n) {
    int fd = open(fz_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    const unsigned char *s = p;
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, s + off, n - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static void fz_setup(struct fz_model *z, const char *rel) {
    char path[4096];
    struct eng_model_params mp = eng_model_default_params();
    if (eng_model_load(fuzz_shared_path(path, sizeof path, rel), &mp, &z->m) != ENG_OK) {
        fprintf(stderr, "fuzz_state: cannot load %s: %s\n", path, eng_last_error());
        abort();
    }
    struct eng_ctx_params cp = eng_ctx_default_params();
    cp.n_ctx = 16;
    cp.n_batch = 8;
    cp.n_threads = 1;
    if (eng_ctx_new(z->m, &cp, &z->c) != ENG_OK)
        abort();
    if (eng_decode(z->c, fz_toks, 4, 0) != ENG_OK || eng_decode(z->c, fz_toks + 4, 4, 0) != ENG_OK)
        abort();
    z->n_snap = eng_ctx_state_size(z->c);
    z->snap = malloc(z->n_snap);
    int fd = fz_write("", 0);
    if (!z->snap || fd < 0 || eng_ctx_state_write(z->c, fd) != ENG_OK ||
        pread(fd, z->snap, z->n_snap, 0) != (ssize_t)z->n_snap)
        abort();
    close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(fz_path, sizeof fz_path, "%s/natter-fuzz-state-%ld.nkv",
             tmp && *tmp ? tmp : "/tmp", (long)getpid());
    fz_setup(&fz[0], "models/stories260K.gguf");
    fz_setup(&fz[1], "models-2026/syn26-lfm2-F16.gguf");
    return 0;
}

/* Makes the header's and the payload's checksums those of the bytes as they are. */
static void fz_fix_sums(unsigned char *b, size_t n) {
    if (n < FZ_HDR)
        return;
    memset(b + FZ_HASH_AT, 0, 8);
    uint64_t h = state_hash_bytes(b, FZ_HDR);
    memcpy(b + FZ_HASH_AT, &h, 8);
    if (n >= FZ_HDR + FZ_TAIL) {
        uint64_t p = state_hash_bytes(b + FZ_HDR, n - FZ_HDR - FZ_TAIL);
        memcpy(b + n - FZ_TAIL, &p, 8);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    struct fz_model *z = &fz[data[0] & 1];
    const int mode = (data[0] >> 1) & 3;
    unsigned char *b;
    size_t n;
    if (mode < 2) {
        n = size - 1;
        b = malloc(n ? n : 1);
        memcpy(b, data + 1, n);
    } else {
        n = z->n_snap;
        b = malloc(n);
        memcpy(b, z->snap, n);
        for (size_t i = 1; i + 2 < size; i += 3) {
            size_t off = ((size_t)data[i] | (size_t)data[i + 1] << 8) % n;
            b[off] ^= data[i + 2];
        }
    }
    if (mode == 1 || mode == 2)
        fz_fix_sums(b, n);
    int fd = fz_write(b, n);
    free(b);
    if (fd < 0)
        abort();
    const int n_want = 12;
    int r = eng_ctx_state_match(z->c, fd, fz_toks, n_want);
    if (r > n_want)
        abort();
    lseek(fd, 0, SEEK_SET);
    r = eng_ctx_state_read(z->c, fd, fz_toks, n_want);
    close(fd);
    if (r >= 0) {
        if (r > n_want || eng_ctx_n_past(z->c) != r)
            abort();
        int32_t t = fz_toks[r < n_want ? r : 0];
        if (eng_decode(z->c, &t, 1, 0) != ENG_OK)
            abort();
    } else {
        const char *e = eng_last_error();
        if (eng_ctx_n_past(z->c) != 0 || !e || !*e || strchr(e, '\n'))
            abort();
    }
    return 0;
}
