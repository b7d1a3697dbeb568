/* src/kvcache.c — context snapshots on disk (see kvcache.h). A file is
 *
 *   struct kvc_hdr, zero-padded to KVC_HDR_BYTES   the model's identity as this module sees it
 *                                                  (path, size, mtime, fingerprint), the
 *                                                  context's size and KV type, the token count,
 *                                                  a checksum of the block
 *   the engine's snapshot (eng_ctx_state_write)    checked again by the engine on reading
 *
 * named KEY-PREFIX.nkv: KEY is a hash of the model's identity and the context's parameters,
 * PREFIX a hash of the tokens. Temp files are .tmp-PID-N.part (removed by a later process
 * once PID is gone). Least recently used = oldest mtime: a restore touches the file. Main/UI
 * thread, and the one saving thread of kvcache_save_async (which touches only its kvcache and
 * reads the context); processes may share the directory (rename is atomic, an unlinked file
 * stays readable to whoever has it open). */
#include "kvcache.h"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "paths.h"

#define KVC_MAGIC "NATKVC01"
#define KVC_VERSION 1u
#define KVC_HDR_BYTES 4096
#define KVC_SUFFIX ".nkv"
#define KVC_TMP_PREFIX ".tmp-"
#define KVC_TMP_MAX_AGE (24 * 3600)   /* a temp file this old is gone whoever wrote it */

struct kvc_hdr {
    char magic[8];
    uint32_t version, hdr_bytes;
    uint64_t model_size, model_fp;
    int64_t mtime_s, mtime_ns;
    int32_t n_ctx, kv_type, n_tokens, reserved;
    uint64_t state_bytes;
    int64_t created;
    uint64_t hash;        /* FNV-1a of the block with hash = 0 */
    char model[1024];     /* NUL-terminated */
};
_Static_assert(sizeof(struct kvc_hdr) <= KVC_HDR_BYTES, "the header block holds the header");

struct kvcache {
    char dir[4096];
    char key[40];          /* "MODELKEY-" + 16 hex digits of the context's parameters + "-" */
    struct kvc_hdr id;     /* the identity fields every file of this cache must carry */
    int recurrent;         /* the model has recurrent layers */
    uint64_t limit;
    unsigned seq;          /* temp file names */
    kvcache_note_fn note;
    void *ud;
    /* kvcache_save_async: the saving thread, the context it reads, its last note (given to
     * note by kvcache_wait on the owner's thread) */
    pthread_t thr;
    int busy;
    const eng_ctx *job;
    int in_thread, has_note;
    char pending[600];
};

static uint64_t kvc_fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}
#define KVC_FNV_INIT 0xcbf29ce484222325ull

static void kvc_note(const kvcache *kc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void kvc_note(const kvcache *kc, const char *fmt, ...) {
    if (!kc->note)
        return;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (kc->in_thread) {   /* the saving thread: kept for kvcache_wait */
        kvcache *k = (kvcache *)kc;
        memcpy(k->pending, msg, sizeof k->pending);
        k->has_note = 1;
        return;
    }
    kc->note(kc->ud, msg);
}

int kvcache_size_parse(const char *v, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    int shift = 0;
    if (end && *end) {
        switch (*end) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        default: shift = -1; break;
        }
        if (shift > 0 && end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))
            shift = -1;
    }
    if (!*v || errno || end == v || *v == '-' || shift < 0 ||
        (shift && n > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)n << shift;
    return 0;
}

uint64_t kvcache_limit(char *err, size_t err_len) {
    if (err && err_len)
        err[0] = 0;
    const char *v = getenv("NATTER_CACHE_MAX"), *what = "NATTER_CACHE_MAX";
    struct config c = {0};
    char cerr[300];
    if ((!v || !*v) && config_load(&c, NULL, cerr, sizeof cerr) == 0 &&
        (v = config_get(&c, KVCACHE_CONFIG_KEY)) != NULL)
        what = c.path; /* the file's line was checked when it was read */
    uint64_t n = KVCACHE_DEFAULT_MAX;
    if (v && *v && kvcache_size_parse(v, &n) != 0) {
        if (err && err_len)
            snprintf(err, err_len, "%s: '%s' is not a size (e.g. 512M, 2G, 0 for no cache); "
                     "using %llu MiB", what, v, (unsigned long long)(KVCACHE_DEFAULT_MAX >> 20));
        n = KVCACHE_DEFAULT_MAX;
    }
    config_free(&c);
    return n;
}

static uint64_t kvc_hdr_hash(const struct kvc_hdr *h) {
    struct kvc_hdr t = *h;
    t.hash = 0;
    return kvc_fnv(KVC_FNV_INIT, &t, sizeof t);
}

/* Reads and checks the header block of fd (offset 0). 0, or -1 with a reason in why. */
static int kvc_hdr_read(int fd, struct kvc_hdr *h, const char **why) {
    ssize_t r = pread(fd, h, sizeof *h, 0);
    if (r != (ssize_t)sizeof *h) {
        *why = r < 0 ? strerror(errno) : "the file is truncated";
        return -1;
    }
    if (memcmp(h->magic, KVC_MAGIC, 8) != 0 || h->version != KVC_VERSION ||
        h->hdr_bytes != KVC_HDR_BYTES) {
        *why = "not a natter snapshot of this version";
        return -1;
    }
    if (kvc_hdr_hash(h) != h->hash || !memchr(h->model, 0, sizeof h->model)) {
        *why = "its header fails its checksum";
        return -1;
    }
    return 0;
}

int kvcache_open(const char *model_path, const eng_model *m, const eng_ctx *c, kvcache **out,
                 kvcache_note_fn note, void *ud) {
    *out = NULL;
    kvcache tmp = {.note = note, .ud = ud};
    char err[300];
    uint64_t limit = kvcache_limit(err, sizeof err);
    if (err[0])
        kvc_note(&tmp, "%s", err);
    if (limit == 0)
        return 0;
    kvcache *kc = calloc(1, sizeof *kc);
    if (!kc)
        return -1;
    *kc = tmp;
    kc->limit = limit;
    char full[4096];
    struct stat st;
    if (!paths_cache_dir(kc->dir, sizeof kc->dir) || paths_mkdir_p(kc->dir) != 0 ||
        !realpath(model_path, full) || strlen(full) >= sizeof kc->id.model ||
        stat(full, &st) != 0) {
        kvc_note(kc, "cache: off (%s: %s)", kc->dir[0] ? kc->dir : "no cache directory",
                 strerror(errno ? errno : ENAMETOOLONG));
        free(kc);
        return 0;
    }
    struct kvc_hdr *id = &kc->id;
    memcpy(id->magic, KVC_MAGIC, 8);
    id->version = KVC_VERSION;
    id->hdr_bytes = KVC_HDR_BYTES;
    id->model_size = (uint64_t)st.st_size;
    id->model_fp = eng_model_fingerprint(m);
    id->mtime_s = (int64_t)st.st_mtim.tv_sec;
    id->mtime_ns = (int64_t)st.st_mtim.tv_nsec;
    id->n_ctx = eng_ctx_n_ctx(c);
    id->kv_type = eng_ctx_kv_type(c);
    memcpy(id->model, full, strlen(full) + 1);   /* its length was checked above */
    uint64_t mk = kvc_fnv(KVC_FNV_INIT, id->model, strlen(id->model));
    mk = kvc_fnv(mk, &id->model_size, sizeof id->model_size);
    mk = kvc_fnv(mk, &id->model_fp, sizeof id->model_fp);
    mk = kvc_fnv(mk, &id->mtime_s, sizeof id->mtime_s);
    mk = kvc_fnv(mk, &id->mtime_ns, sizeof id->mtime_ns);
    uint64_t ck = kvc_fnv(KVC_FNV_INIT, &id->n_ctx, sizeof id->n_ctx);
    ck = kvc_fnv(ck, &id->kv_type, sizeof id->kv_type);
    snprintf(kc->key, sizeof kc->key, "%016llx-%016llx-", (unsigned long long)mk,
             (unsigned long long)ck);
    kc->recurrent = eng_ctx_rs_bytes(c, NULL) > 0;
    *out = kc;
    return 0;
}

void kvcache_close(kvcache *kc) {
    kvcache_wait(kc);
    free(kc);
}

static int kvc_is_snapshot(const char *name) {
    size_t n = strlen(name), s = strlen(KVC_SUFFIX);
    return name[0] != '.' && n > s && !strcmp(name + n - s, KVC_SUFFIX);
}

/* The file name of a snapshot of toks[0..n) into buf (>= 64 bytes). */
static void kvc_name(const kvcache *kc, const int32_t *toks, int n, char *buf, size_t len) {
    uint64_t h = kvc_fnv(KVC_FNV_INIT, toks, (size_t)n * sizeof *toks);
    snprintf(buf, len, "%s%016llx%s", kc->key, (unsigned long long)h, KVC_SUFFIX);
}

/* Removes a snapshot that cannot be used, with a note saying why. */
static void kvc_drop(const kvcache *kc, int dfd, const char *name, const char *why) {
    int gone = unlinkat(dfd, name, 0) == 0 || errno == ENOENT;
    kvc_note(kc, "cache: ignoring %s: %s%s", name, why, gone ? " (removed)" : "");
}

/* Opens snapshot name of this cache and checks its header; -1 (after kvc_drop) if unusable. */
static int kvc_open_checked(const kvcache *kc, int dfd, const char *name, struct kvc_hdr *h) {
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;   /* gone meanwhile (another process evicted it) */
    const char *why = NULL;
    if (kvc_hdr_read(fd, h, &why) != 0) {
        close(fd);
        kvc_drop(kc, dfd, name, why);
        return -1;
    }
    const struct kvc_hdr *id = &kc->id;
    if (h->model_size != id->model_size || h->model_fp != id->model_fp ||
        h->mtime_s != id->mtime_s || h->mtime_ns != id->mtime_ns || h->n_ctx != id->n_ctx ||
        h->kv_type != id->kv_type || strcmp(h->model, id->model)) {
        close(fd);
        kvc_drop(kc, dfd, name, "it is of another model or context");
        return -1;
    }
    return fd;
}

int kvcache_restore(kvcache *kc, eng_ctx *c, const int32_t *toks, int n) {
    kvcache_wait(kc);
    if (!kc || n <= 0)
        return 0;
    const int32_t *have = eng_ctx_tokens(c);
    int mem = 0, n_have = eng_ctx_n_past(c);
    while (mem < n_have && mem < n && have[mem] == toks[mem])
        mem++;
    int dfd = open(kc->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return 0;
    }
    char best[128] = "";
    int best_n = mem;
    const size_t kl = strlen(kc->key);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, kc->key, kl) || !kvc_is_snapshot(de->d_name))
            continue;
        struct kvc_hdr h;
        int fd = kvc_open_checked(kc, dfd, de->d_name, &h);
        if (fd < 0)
            continue;
        int u = lseek(fd, KVC_HDR_BYTES, SEEK_SET) == KVC_HDR_BYTES
                    ? eng_ctx_state_match(c, fd, toks, n) : ENG_E_IO;
        close(fd);
        if (u < 0)
            kvc_drop(kc, dfd, de->d_name, eng_last_error());
        else if (u > best_n && (size_t)snprintf(best, sizeof best, "%s", de->d_name) < sizeof best)
            best_n = u;
    }
    int restored = 0;
    if (best[0]) {
        int fd = openat(dfd, best, O_RDONLY | O_CLOEXEC);
        int r = fd < 0 ? ENG_E_IO
              : lseek(fd, KVC_HDR_BYTES, SEEK_SET) == KVC_HDR_BYTES
                  ? eng_ctx_state_read(c, fd, toks, n) : ENG_E_IO;
        if (r >= 0) {
            restored = r;
            futimens(fd, NULL);   /* recently used */
        } else if (fd >= 0) {
            kvc_drop(kc, dfd, best, eng_last_error());
        }
        if (fd >= 0)
            close(fd);
    }
    closedir(d);
    return restored;
}

/* Removes the temp files of writers that are gone (dead processes, or a day old). */
static void kvc_sweep_tmp(int dfd, DIR *d) {
    struct dirent *de;
    const time_t now = time(NULL);
    rewinddir(d);
    while ((de = readdir(d))) {
        const size_t pl = strlen(KVC_TMP_PREFIX);
        if (strncmp(de->d_name, KVC_TMP_PREFIX, pl))
            continue;
        long pid = strtol(de->d_name + pl, NULL, 10);
        struct stat st;
        int old = fstatat(dfd, de->d_name, &st, 0) == 0 && now - st.st_mtime > KVC_TMP_MAX_AGE;
        int dead = pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
        if (old || dead)
            unlinkat(dfd, de->d_name, 0);
    }
}

struct kvc_file {
    char name[96];
    uint64_t bytes;
    int64_t used;
};

static int kvc_file_older(const void *a, const void *b) {
    const struct kvc_file *x = a, *y = b;
    return x->used < y->used ? -1 : x->used > y->used ? 1 : strcmp(x->name, y->name);
}

/* The snapshots of d (any model) into *out (caller frees), oldest first. Returns the count or
 * -1. */
static int kvc_files(int dfd, DIR *d, struct kvc_file **out) {
    struct kvc_file *f = NULL;
    int n = 0, cap = 0;
    struct dirent *de;
    rewinddir(d);
    while ((de = readdir(d))) {
        struct stat st;
        if (!kvc_is_snapshot(de->d_name) || strlen(de->d_name) >= sizeof f->name ||
            fstatat(dfd, de->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            struct kvc_file *nf = realloc(f, (size_t)cap * sizeof *f);
            if (!nf) {
                free(f);
                return -1;
            }
            f = nf;
        }
        if ((size_t)snprintf(f[n].name, sizeof f[n].name, "%s", de->d_name) >= sizeof f[n].name)
            continue;   /* not a name the cache writes */
        f[n].bytes = (uint64_t)st.st_size;
        f[n].used = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        n++;
    }
    if (n)
        qsort(f, (size_t)n, sizeof *f, kvc_file_older);
    *out = f;
    return n;
}

/* Least recently used out until the snapshots take at most room bytes. */
static void kvc_evict(int dfd, DIR *d, uint64_t room) {
    struct kvc_file *f = NULL;
    int n = kvc_files(dfd, d, &f);
    uint64_t total = 0;
    for (int i = 0; i < n; i++)
        total += f[i].bytes;
    for (int i = 0; i < n && total > room; i++)
        if (unlinkat(dfd, f[i].name, 0) == 0 || errno == ENOENT)
            total -= f[i].bytes;
    free(f);
}

/* Removes this cache's snapshots that are strict prefixes of c's tokens (the new snapshot
 * holds all they hold). Only for attention-only models: a recurrent state is kept at a few
 * positions only, so an older snapshot's end may be a state the new one lacks. */
static void kvc_drop_prefixes(const kvcache *kc, int dfd, DIR *d, const eng_ctx *c,
                              const char *keep) {
    const int n = eng_ctx_n_past(c);
    const size_t kl = strlen(kc->key);
    struct dirent *de;
    rewinddir(d);
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, kc->key, kl) || !kvc_is_snapshot(de->d_name) ||
            !strcmp(de->d_name, keep))
            continue;
        struct kvc_hdr h;
        int fd = kvc_open_checked(kc, dfd, de->d_name, &h);
        if (fd < 0)
            continue;
        int u = h.n_tokens < n && lseek(fd, KVC_HDR_BYTES, SEEK_SET) == KVC_HDR_BYTES
                    ? eng_ctx_state_match(c, fd, eng_ctx_tokens(c), n) : -1;
        close(fd);
        if (u == h.n_tokens)
            unlinkat(dfd, de->d_name, 0);
    }
}

/* Test hook: NATTER_TEST_CACHE_PAUSE=S sleeps S seconds in the middle of writing a snapshot
 * (after its header block), so a test can kill -9 the writer there. */
static void kvc_test_pause(void) {
    const char *v = getenv("NATTER_TEST_CACHE_PAUSE");
    if (v && *v)
        sleep((unsigned)atoi(v));
}

static int kvc_save(kvcache *kc, const eng_ctx *c);

int kvcache_save(kvcache *kc, const eng_ctx *c) {
    kvcache_wait(kc);
    return kc ? kvc_save(kc, c) : 0;
}

static void *kvc_save_main(void *arg) {
    kvcache *kc = arg;
    kvc_save(kc, kc->job);
    return NULL;
}

int kvcache_save_async(kvcache *kc, const eng_ctx *c) {
    kvcache_wait(kc);
    if (!kc || !c || eng_ctx_n_past(c) <= 0)
        return 0;
    kc->job = c;
    kc->in_thread = 1;
    kc->has_note = 0;
    if (pthread_create(&kc->thr, NULL, kvc_save_main, kc) != 0) {
        kc->in_thread = 0;
        return kvc_save(kc, c);
    }
    kc->busy = 1;
    return 0;
}

void kvcache_wait(kvcache *kc) {
    if (!kc || !kc->busy)
        return;
    pthread_join(kc->thr, NULL);
    kc->busy = 0;
    kc->in_thread = 0;
    if (kc->has_note && kc->note)
        kc->note(kc->ud, kc->pending);
    kc->has_note = 0;
}

/* kvcache_save's work (on the owner's thread or the saving thread). */
static int kvc_save(kvcache *kc, const eng_ctx *c) {
    const int n = c ? eng_ctx_n_past(c) : 0;
    if (n <= 0)
        return 0;
    char name[128];
    kvc_name(kc, eng_ctx_tokens(c), n, name, sizeof name);
    int dfd = open(kc->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 && errno == ENOENT && paths_mkdir_p(kc->dir) == 0)   /* removed meanwhile */
        dfd = open(kc->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        kvc_note(kc, "cache: cannot open %s: %s", kc->dir, strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return -1;
    }
    int rc = 0;
    if (utimensat(dfd, name, NULL, 0) == 0)
        goto out;   /* that prefix is cached already: now recently used */
    const uint64_t bytes = KVC_HDR_BYTES + (uint64_t)eng_ctx_state_size(c);
    if (bytes > kc->limit)
        goto out;   /* it would not fit even alone */
    kvc_sweep_tmp(dfd, d);
    kvc_evict(dfd, d, kc->limit - bytes);
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%s%ld-%u.part", KVC_TMP_PREFIX, (long)getpid(), kc->seq++);
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        kvc_note(kc, "cache: cannot write in %s: %s", kc->dir, strerror(errno));
        rc = -1;
        goto out;
    }
    unsigned char block[KVC_HDR_BYTES];
    struct kvc_hdr h = kc->id;
    h.n_tokens = n;
    h.state_bytes = bytes - KVC_HDR_BYTES;
    h.created = (int64_t)time(NULL);
    h.hash = kvc_hdr_hash(&h);
    memset(block, 0, sizeof block);
    memcpy(block, &h, sizeof h);
    const char *what = "write";
    int ok = fdio_write_all(fd, block, sizeof block) == 0;
    if (ok)
        kvc_test_pause();
    ok = ok && eng_ctx_state_write(c, fd) == ENG_OK;
    if (ok && fsync(fd) != 0)
        ok = 0, what = "fsync";
    if (close(fd) != 0 && ok)
        ok = 0, what = "close";
    if (ok && renameat(dfd, tmp, dfd, name) != 0)
        ok = 0, what = "rename";
    if (!ok) {
        kvc_note(kc, "cache: cannot save a snapshot in %s (%s: %s)", kc->dir, what,
                 strerror(errno));
        unlinkat(dfd, tmp, 0);
        rc = -1;
        goto out;
    }
    fsync(dfd);   /* the rename itself is durable */
    if (!kc->recurrent)
        kvc_drop_prefixes(kc, dfd, d, c, name);
out:
    closedir(d);
    return rc;
}

static int kvc_newer(const void *a, const void *b) {
    const struct kvcache_entry *x = a, *y = b;
    return x->used > y->used ? -1 : x->used < y->used ? 1 : strcmp(x->file, y->file);
}

static DIR *kvc_opendir(const char *dir, int *dfd) {
    char buf[4096];
    if (!dir && !(dir = paths_cache_dir(buf, sizeof buf))) {
        errno = ENOENT;
        return NULL;
    }
    *dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = *dfd >= 0 ? fdopendir(*dfd) : NULL;
    if (!d && *dfd >= 0) {
        int e = errno;
        close(*dfd);
        errno = e;
    }
    return d;
}

int kvcache_each(const char *dir, int (*fn)(const struct kvcache_entry *e, void *ud), void *ud) {
    int dfd = -1;
    DIR *d = kvc_opendir(dir, &dfd);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    struct kvc_file *f = NULL;
    int n = kvc_files(dfd, d, &f);
    struct kvcache_entry *e = n > 0 ? calloc((size_t)n, sizeof *e) : NULL;
    if (n < 0 || (n > 0 && !e)) {
        free(f);
        closedir(d);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        snprintf(e[i].file, sizeof e[i].file, "%s", f[i].name);
        e[i].bytes = f[i].bytes;
        e[i].used = f[i].used / 1000000000;
        snprintf(e[i].model, sizeof e[i].model, "?");
        struct kvc_hdr h;
        const char *why;
        int fd = openat(dfd, f[i].name, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && kvc_hdr_read(fd, &h, &why) == 0) {
            e[i].n_tokens = h.n_tokens;
            e[i].n_ctx = h.n_ctx;
            e[i].kv_type = h.kv_type;
            snprintf(e[i].model, sizeof e[i].model, "%s", h.model);
        }
        if (fd >= 0)
            close(fd);
    }
    free(f);
    closedir(d);
    if (n > 1)
        qsort(e, (size_t)n, sizeof *e, kvc_newer);
    for (int i = 0; i < n; i++)
        if (fn(&e[i], ud))
            break;
    free(e);
    return n;
}

int kvcache_clear(const char *dir, uint64_t *bytes) {
    *bytes = 0;
    int dfd = -1;
    DIR *d = kvc_opendir(dir, &dfd);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    kvc_sweep_tmp(dfd, d);
    struct kvc_file *f = NULL;
    int n = kvc_files(dfd, d, &f), removed = 0;
    for (int i = 0; i < n; i++)
        if (unlinkat(dfd, f[i].name, 0) == 0) {
            removed++;
            *bytes += f[i].bytes;
        }
    free(f);
    closedir(d);
    return n < 0 ? -1 : removed;
}
