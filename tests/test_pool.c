/* tests/test_pool.c — the thread pool: every thread runs each job exactly once, the caller is
 * thread 0, runs after the workers went to sleep still complete, many back-to-back runs. */
#include <stdatomic.h>
#include <time.h>

#include "harness.h"
#include "pool.h"

struct pool_test_job {
    atomic_int calls[8];
    atomic_int bad_nth;
    int nth_expected;
    long sum[8];          /* written by thread ith only */
    long n;
};

static void pool_test_fn(void *ud, int ith, int nth) {
    struct pool_test_job *j = ud;
    if (nth != j->nth_expected || ith < 0 || ith >= nth) atomic_fetch_add(&j->bad_nth, 1);
    atomic_fetch_add(&j->calls[ith], 1);
    /* the rows ith, ith + nth, ... as a matmul would split them */
    for (long i = ith; i < j->n; i += nth) j->sum[ith] += i;
}

static void pool_test_sleep_ms(int ms) {
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

TEST(pool_each_thread_once_per_run) {
    for (int nt = 1; nt <= 4; nt++) {
        pool *p = NULL;
        CHECK_EQ_INT(pool_new(nt, &p), 0);
        CHECK_EQ_INT(pool_n_threads(p), nt);
        struct pool_test_job j;
        memset(&j, 0, sizeof j);
        j.nth_expected = nt;
        j.n = 1000;
        const int n_runs = 300;
        for (int r = 0; r < n_runs; r++) {
            pool_run(p, pool_test_fn, &j);
            if (r == 5 || r == 200) pool_test_sleep_ms(30); /* let the workers fall asleep */
        }
        pool_free(p);
        CHECK_EQ_INT(atomic_load(&j.bad_nth), 0);
        long total = 0;
        for (int i = 0; i < nt; i++) {
            CHECK_EQ_INT(atomic_load(&j.calls[i]), n_runs);
            total += j.sum[i];
        }
        CHECK_EQ_INT(total, (long)n_runs * (999L * 1000 / 2));
    }
}

/* The results of a run are visible to the caller when pool_run returns (no stale reads). */
struct pool_test_vis { int v[4]; int round; };
static void pool_test_vis_fn(void *ud, int ith, int nth) {
    (void)nth;
    struct pool_test_vis *s = ud;
    s->v[ith] = s->round;
}

TEST(pool_results_visible_after_run) {
    pool *p = NULL;
    CHECK_EQ_INT(pool_new(3, &p), 0);
    struct pool_test_vis s = {{0}, 0};
    for (int r = 1; r <= 3000; r++) {
        s.round = r;
        pool_run(p, pool_test_vis_fn, &s);
        CHECK_EQ_INT(s.v[0] + s.v[1] + s.v[2], 3 * r);
    }
    pool_free(p);
}

TEST(pool_bad_args_and_idle_free) {
    pool *p = (pool *)1;
    CHECK(pool_new(0, &p) != 0);
    CHECK(p == NULL);
    pool_free(NULL);
    CHECK_EQ_INT(pool_new(2, &p), 0);
    pool_test_sleep_ms(20); /* workers asleep before any run */
    pool_free(p);
}

/* Every slot exactly once in every run, whichever thread takes it, with uneven work (some
 * slots slow) and more threads than cores: checked after each run, not only in total. */
struct pool_test_once {
    atomic_int seen[6];
    volatile double sink;
};

static void pool_test_once_fn(void *ud, int ith, int nth) {
    struct pool_test_once *o = ud;
    (void)nth;
    atomic_fetch_add(&o->seen[ith], 1);
    double x = 0;
    for (int i = 0; i < (ith % 3) * 2000; i++) x += i * 0.5;
    o->sink = x;
}

TEST(pool_slots_exactly_once_per_run) {
    pool *p = NULL;
    CHECK_EQ_INT(pool_new(6, &p), 0);
    struct pool_test_once o;
    memset(&o, 0, sizeof o);
    for (int r = 0; r < 3000; r++) {
        for (int i = 0; i < 6; i++) atomic_store(&o.seen[i], 0);
        pool_run(p, pool_test_once_fn, &o);
        for (int i = 0; i < 6; i++) CHECK_EQ_INT(atomic_load(&o.seen[i]), 1);
        if (r % 1000 == 999) pool_test_sleep_ms(5);
    }
    pool_free(p);
}
