/* engine/pool.c — the engine's thread pool (engine/pool.h): n_threads - 1 persistent workers
 * started once. A run publishes (fn, ud) under a new generation number; the nth slots of the
 * run (ith = 0..nth-1) are claimed one at a time from an atomic (generation, next slot) word:
 * the caller takes slot 0, workers take the others as they wake, and the caller takes whatever
 * is still unclaimed when its own slot is done — so a worker the OS has not scheduled yet (a
 * busy machine) delays nothing. Waiting is spin-then-sleep: a short spin on the atomic (cheap
 * for the many back-to-back matmuls of one token), then a condition variable (an idle pool
 * costs no CPU). pool_run() is called by one owner thread at a time; pool_new/pool_free by
 * whoever owns the pool. */
#include "pool.h"
#include "mapguard.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define pool_cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define pool_cpu_relax() __asm__ __volatile__("yield")
#else
#define pool_cpu_relax() ((void)0)
#endif

/* Spin iterations before sleeping: long enough to bridge the gap between two matmuls of one
 * token, short enough that a pool left idle goes to sleep quickly (the machine may be shared). */
#define POOL_SPIN 2000

struct pool {
    int n_threads;
    pthread_t *workers;               /* n_threads - 1 of them */

    /* the job of the current run, published by the store of a new generation into state */
    void (*fn)(void *ud, int ith, int nth);
    void *ud;
    _Atomic uint64_t state;           /* generation << 32 | next unclaimed slot */
    atomic_int stop;
    atomic_int n_done;                /* slots of the current run finished */

    /* sleeping workers wait here for the generation to change */
    pthread_mutex_t wake_mu;
    pthread_cond_t wake_cv;
    atomic_int n_sleeping;

    /* the owner waits here for n_done to reach n_threads */
    pthread_mutex_t done_mu;
    pthread_cond_t done_cv;
    atomic_int owner_sleeping;
};

static uint32_t pool_gen(uint64_t state) { return (uint32_t)(state >> 32); }

/* Claims the next slot of generation gen; -1 when none is left (or gen is over). */
static int pool_claim(pool *p, uint32_t gen) {
    uint64_t s = atomic_load(&p->state);
    for (;;) {
        if (pool_gen(s) != gen || (uint32_t)s >= (uint32_t)p->n_threads) return -1;
        if (atomic_compare_exchange_weak(&p->state, &s, s + 1)) return (int)(uint32_t)s;
    }
}

/* Counts a finished slot; the last one wakes the owner if it sleeps. */
static void pool_finish_one(pool *p) {
    if (atomic_fetch_add(&p->n_done, 1) + 1 == p->n_threads && atomic_load(&p->owner_sleeping)) {
        pthread_mutex_lock(&p->done_mu);
        pthread_cond_signal(&p->done_cv);
        pthread_mutex_unlock(&p->done_mu);
    }
}

/* Waits until the generation differs from seen; returns the new one. The sleeper registers
 * itself (n_sleeping) under wake_mu before re-checking, and both sides use sequentially
 * consistent atomics, so either it sees the new generation or pool_wake sees it sleeping and
 * broadcasts under the mutex. */
static uint32_t pool_wait_gen(pool *p, uint32_t seen) {
    for (int i = 0; i < POOL_SPIN; i++) {
        uint32_t g = pool_gen(atomic_load(&p->state));
        if (g != seen) return g;
        pool_cpu_relax();
    }
    pthread_mutex_lock(&p->wake_mu);
    atomic_fetch_add(&p->n_sleeping, 1);
    uint32_t g;
    while ((g = pool_gen(atomic_load(&p->state))) == seen)
        pthread_cond_wait(&p->wake_cv, &p->wake_mu);
    atomic_fetch_sub(&p->n_sleeping, 1);
    pthread_mutex_unlock(&p->wake_mu);
    return g;
}

static void pool_wake(pool *p) {
    if (atomic_load(&p->n_sleeping) > 0) {
        pthread_mutex_lock(&p->wake_mu);
        pthread_cond_broadcast(&p->wake_cv);
        pthread_mutex_unlock(&p->wake_mu);
    }
}

static void *pool_worker_main(void *arg) {
    pool *p = arg;
    uint32_t seen = 0; /* the generation at pool_new: a run may start before this thread does */
    mapguard_thread_unblock(); /* a fault in the weights must reach the guard's handler */
    for (;;) {
        seen = pool_wait_gen(p, seen);
        if (atomic_load(&p->stop)) break;
        /* fn/ud stay valid while we hold a claimed slot: the run cannot end before we finish */
        for (int ith; (ith = pool_claim(p, seen)) >= 0;) {
            p->fn(p->ud, ith, p->n_threads);
            pool_finish_one(p);
        }
    }
    return NULL;
}

int pool_new(int n_threads, pool **out) {
    *out = NULL;
    if (n_threads < 1 || n_threads > 1024) return -EINVAL;
    pool *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    p->n_threads = n_threads;
    /* generation 0 with no slot left: nothing to claim until the first run */
    atomic_init(&p->state, (uint64_t)(uint32_t)n_threads);
    atomic_init(&p->stop, 0);
    atomic_init(&p->n_done, 0);
    atomic_init(&p->n_sleeping, 0);
    atomic_init(&p->owner_sleeping, 0);
    pthread_mutex_init(&p->wake_mu, NULL);
    pthread_cond_init(&p->wake_cv, NULL);
    pthread_mutex_init(&p->done_mu, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    if (n_threads > 1) {
        p->workers = calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) {
            pool_free(p);
            return -ENOMEM;
        }
        for (int i = 0; i < n_threads - 1; i++) {
            int rc = pthread_create(&p->workers[i], NULL, pool_worker_main, p);
            if (rc != 0) {
                p->n_threads = i + 1; /* only the started ones are joined */
                pool_free(p);
                return -rc;
            }
        }
    }
    *out = p;
    return 0;
}

void pool_free(pool *p) {
    if (!p) return;
    if (p->workers) {
        atomic_store(&p->stop, 1);
        uint32_t g = pool_gen(atomic_load(&p->state)) + 1;
        atomic_store(&p->state, (uint64_t)g << 32 | (uint32_t)p->n_threads);
        pthread_mutex_lock(&p->wake_mu);
        pthread_cond_broadcast(&p->wake_cv);
        pthread_mutex_unlock(&p->wake_mu);
        for (int i = 0; i < p->n_threads - 1; i++) pthread_join(p->workers[i], NULL);
        free(p->workers);
    }
    pthread_mutex_destroy(&p->wake_mu);
    pthread_cond_destroy(&p->wake_cv);
    pthread_mutex_destroy(&p->done_mu);
    pthread_cond_destroy(&p->done_cv);
    free(p);
}

int pool_n_threads(const pool *p) { return p ? p->n_threads : 1; }

void pool_run(pool *p, void (*fn)(void *ud, int ith, int nth), void *ud) {
    if (!p || p->n_threads == 1) {
        fn(ud, 0, 1);
        return;
    }
    int nth = p->n_threads;
    p->fn = fn;
    p->ud = ud;
    atomic_store(&p->n_done, 0);
    uint32_t g = pool_gen(atomic_load(&p->state)) + 1;
    atomic_store(&p->state, (uint64_t)g << 32 | 1u); /* slot 0 is ours; publishes fn/ud */
    pool_wake(p);

    fn(ud, 0, nth);
    pool_finish_one(p);
    for (int ith; (ith = pool_claim(p, g)) >= 0;) { /* slots no worker has taken yet */
        fn(ud, ith, nth);
        pool_finish_one(p);
    }

    for (int i = 0; i < POOL_SPIN; i++) {
        if (atomic_load(&p->n_done) == nth) return;
        pool_cpu_relax();
    }
    pthread_mutex_lock(&p->done_mu);
    atomic_store(&p->owner_sleeping, 1);
    while (atomic_load(&p->n_done) != nth) pthread_cond_wait(&p->done_cv, &p->done_mu);
    atomic_store(&p->owner_sleeping, 0);
    pthread_mutex_unlock(&p->done_mu);
}
