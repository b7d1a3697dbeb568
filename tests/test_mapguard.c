/* tests/test_mapguard.c — a model file that shrinks or changes while mapped: reads past the new
 * end on the pool's worker threads complete (as zeros) and set the broken flag, a fault outside
 * any guarded range still reaches the handler installed before, a signal-blocking thread that
 * unblocks the faults is covered, and a real model truncated or rewritten on disk makes
 * eng_decode / eng_model_check fail with ENG_E_CHANGED. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "harness.h"
#include "mapguard.h"
#include "pool.h"

#define MG_SIZE (64 * 4096)

/* A file of MG_SIZE bytes of 0x11, mapped read-only. */
static const unsigned char *mg_map(const char *name, char *path, size_t path_len) {
    snprintf(path, path_len, "%s/%s", test_tmpdir(), name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return NULL;
    unsigned char *buf = malloc(MG_SIZE);
    memset(buf, 0x11, MG_SIZE);
    ssize_t w = write(fd, buf, MG_SIZE);
    free(buf);
    void *p = w == MG_SIZE ? mmap(NULL, MG_SIZE, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

struct mg_job {
    const volatile unsigned char *base;
    atomic_int sum;
};

/* Each thread reads one byte on its own page past the truncated end. */
static void mg_read(void *ud, int ith, int nth) {
    struct mg_job *j = ud;
    (void)nth;
    atomic_fetch_add(&j->sum, j->base[(size_t)(8 + ith) * 4096 + 7]);
}

TEST(mapguard_fault_on_pool_workers_reads_zeros) {
    if (getenv("NATTER_VALGRIND")) /* valgrind runs the handler, not the remapped read */
        SKIP("valgrind cannot resume a read whose page a SIGBUS handler replaced");
    char path[1024];
    const unsigned char *p = mg_map("mg.bin", path, sizeof path);
    CHECK(p);
    atomic_int broken = 0;
    CHECK_EQ_INT(mapguard_range_add(p, MG_SIZE, &broken), 0);
    CHECK_EQ_INT(p[5 * 4096], 0x11);
    CHECK_EQ_INT(truncate(path, 4096), 0);
    pool *pl = NULL;
    CHECK_EQ_INT(pool_new(4, &pl), 0);
    struct mg_job j = {p, 0};
    pool_run(pl, mg_read, &j); /* returns: no thread was killed or left at the barrier */
    pool_run(pl, mg_read, &j);
    pool_free(pl);
    CHECK_EQ_INT(atomic_load(&j.sum), 0);
    CHECK_EQ_INT(atomic_load(&broken), 1);
    CHECK_EQ_INT(p[0], 0); /* the whole range reads as zeros from then on */
    mapguard_range_remove(p);
    munmap((void *)p, MG_SIZE);
}

static void mg_prev_handler(int sig) {
    (void)sig;
    _exit(42);
}

static void *mg_blocked_thread(void *arg) {
    const volatile unsigned char *p = arg;
    mapguard_thread_unblock();
    return (void *)(uintptr_t)p[20 * 4096];
}

TEST(mapguard_other_faults_reach_the_previous_handler) {
    if (getenv("NATTER_VALGRIND")) /* valgrind runs the handler, not the remapped read */
        SKIP("valgrind cannot resume a read whose page a SIGBUS handler replaced");
    char path[1024];
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        signal(SIGBUS, mg_prev_handler);
        const unsigned char *guarded = mg_map("mg-g.bin", path, sizeof path);
        atomic_int broken = 0;
        if (!guarded || mapguard_range_add(guarded, MG_SIZE, &broken) != 0)
            _exit(1);
        /* a guarded fault on a thread created with every signal blocked */
        CHECK_EQ_INT(truncate(path, 0), 0);
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_t th;
        void *ret = (void *)1;
        if (pthread_create(&th, NULL, mg_blocked_thread, (void *)guarded) != 0)
            _exit(2);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_join(th, &ret);
        if (ret != NULL || !atomic_load(&broken))
            _exit(3);
        /* an unguarded one: the handler from before takes it */
        const volatile unsigned char *other = mg_map("mg-o.bin", path, sizeof path);
        if (!other || truncate(path, 0) != 0)
            _exit(4);
        (void)other[10 * 4096];
        _exit(5);
    }
    int st = 0;
    CHECK_EQ_INT(waitpid(pid, &st, 0), pid);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 42, "child status %d", st);
}

/* A copy of a real model that can be cut and rewritten. */
static int mg_copy_model(const char *name, char *out, size_t out_len) {
    const char *src = test_shared_path("models/stories260K.gguf");
    if (!src)
        return -1;
    snprintf(out, out_len, "%s/%s", test_tmpdir(), name);
    char cmd[2304];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod u+w '%s'", src, out, out);
    return system(cmd) == 0 ? 0 : -1;
}

TEST(mapguard_model_truncated_or_rewritten) {
    if (getenv("NATTER_VALGRIND")) /* valgrind runs the handler, not the remapped read */
        SKIP("valgrind cannot resume a read whose page a SIGBUS handler replaced");
    char path[1024];
    if (mg_copy_model("cut.gguf", path, sizeof path))
        SKIP("../shared is absent");
    eng_model *m = NULL;
    CHECK_EQ_INT(eng_model_load(path, NULL, &m), ENG_OK);
    eng_ctx *c = NULL;
    struct eng_ctx_params cp = eng_ctx_default_params();
    cp.n_ctx = 64;
    cp.n_threads = 2;
    CHECK_EQ_INT(eng_ctx_new(m, &cp, &c), ENG_OK);
    int32_t tok[2] = {1, 403};
    CHECK_EQ_INT(eng_decode(c, tok, 2, 0), ENG_OK);
    CHECK_EQ_INT(eng_model_check(m), ENG_OK);
    CHECK_EQ_INT(truncate(path, 4096), 0);
    CHECK_EQ_INT(eng_model_check(m), ENG_E_CHANGED); /* the size differs */
    int32_t next = 407;
    CHECK_EQ_INT(eng_decode(c, &next, 1, 0), ENG_E_CHANGED);
    CHECK_STR_EQ(eng_last_error(), "the model file changed on disk: reload it");
    CHECK(eng_logits(c, -1) == NULL);
    eng_ctx_free(c);
    eng_model_free(m);

    /* rewritten in place, same size: noticed by its modification time */
    CHECK_EQ_INT(mg_copy_model("rw.gguf", path, sizeof path), 0);
    CHECK_EQ_INT(eng_model_load(path, NULL, &m), ENG_OK);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1, 0}};
    CHECK_EQ_INT(utimensat(AT_FDCWD, path, ts, 0), 0);
    CHECK_EQ_INT(eng_model_check(m), ENG_E_CHANGED);
    eng_model_free(m);
}
