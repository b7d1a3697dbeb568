/* engine/pool.c — the engine's thread pool (engine/pool.h): n_threads - 1 persistent workers
 * started once, woken per pool_run() through a generation counter. Waiting is spin-then-sleep:
 * a short spin on an atomic (cheap for the many back-to-back matmuls of one token), then a
 * condition variable (so an idle pool costs no CPU). pool_run() is called by one owner thread at
 * a time; pool_new/pool_free by whoever owns the pool. */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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

struct pool_worker {
    pool *p;
    int ith;
    pthread_t thread;
};

struct pool {
    int n_threads;
    struct pool_worker *workers;      /* n_threads - 1 of them */

    /* the job of the current run, published by the increment of gen */
    void (*fn)(void *ud, int ith, int nth);
    void *ud;
    atomic_uint gen;                  /* incremented once per run (and at shutdown) */
    atomic_int stop;

    atomic_int n_pending;             /* workers that have not finished the current run */

    /* sleeping workers wait here for gen to change */
    pthread_mutex_t wake_mu;
    pthread_cond_t wake_cv;
    atomic_int n_sleeping;

    /* the owner waits here for n_pending to reach 0 */
    pthread_mutex_t done_mu;
    pthread_cond_t done_cv;
    atomic_int owner_sleeping;
};

/* Waits until p->gen differs from seen; returns the new value. */
static unsigned pool_wait_gen(pool *p, unsigned seen) {
    for (int i = 0; i < POOL_SPIN; i++) {
        unsigned g = atomic_load(&p->gen);
        if (g != seen) return g;
        pool_cpu_relax();
    }
    pthread_mutex_lock(&p->wake_mu);
    atomic_fetch_add(&p->n_sleeping, 1);
    unsigned g;
    while ((g = atomic_load(&p->gen)) == seen) pthread_cond_wait(&p->wake_cv, &p->wake_mu);
    atomic_fetch_sub(&p->n_sleeping, 1);
    pthread_mutex_unlock(&p->wake_mu);
    return g;
}

static void pool_finish_one(pool *p) {
    if (atomic_fetch_sub(&p->n_pending, 1) == 1 && atomic_load(&p->owner_sleeping)) {
        pthread_mutex_lock(&p->done_mu);
        pthread_cond_signal(&p->done_cv);
        pthread_mutex_unlock(&p->done_mu);
    }
}

static void *pool_worker_main(void *arg) {
    struct pool_worker *w = arg;
    pool *p = w->p;
    unsigned seen = 0; /* gen's value at pool_new: a run may start before this thread does */
    for (;;) {
        seen = pool_wait_gen(p, seen);
        if (atomic_load(&p->stop)) break;
        p->fn(p->ud, w->ith, p->n_threads);
        pool_finish_one(p);
    }
    return NULL;
}

/* Wakes the workers after gen was incremented. The sleeper registers itself (n_sleeping) under
 * wake_mu before re-checking gen, and both sides use sequentially consistent atomics, so either
 * the sleeper sees the new gen or we see it sleeping and broadcast under the mutex. */
static void pool_wake(pool *p) {
    if (atomic_load(&p->n_sleeping) > 0) {
        pthread_mutex_lock(&p->wake_mu);
        pthread_cond_broadcast(&p->wake_cv);
        pthread_mutex_unlock(&p->wake_mu);
    }
}

int pool_new(int n_threads, pool **out) {
    *out = NULL;
    if (n_threads < 1 || n_threads > 1024) return -EINVAL;
    pool *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    p->n_threads = n_threads;
    atomic_init(&p->gen, 0);
    atomic_init(&p->stop, 0);
    atomic_init(&p->n_pending, 0);
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
            p->workers[i].p = p;
            p->workers[i].ith = i + 1;
            int rc = pthread_create(&p->workers[i].thread, NULL, pool_worker_main, &p->workers[i]);
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
        atomic_fetch_add(&p->gen, 1);
        pthread_mutex_lock(&p->wake_mu);
        pthread_cond_broadcast(&p->wake_cv);
        pthread_mutex_unlock(&p->wake_mu);
        for (int i = 0; i < p->n_threads - 1; i++) pthread_join(p->workers[i].thread, NULL);
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
    p->fn = fn;
    p->ud = ud;
    atomic_store(&p->n_pending, p->n_threads - 1);
    atomic_fetch_add(&p->gen, 1); /* publishes fn/ud (seq_cst) */
    pool_wake(p);

    fn(ud, 0, p->n_threads);

    for (int i = 0; i < POOL_SPIN; i++) {
        if (atomic_load(&p->n_pending) == 0) return;
        pool_cpu_relax();
    }
    pthread_mutex_lock(&p->done_mu);
    atomic_store(&p->owner_sleeping, 1);
    while (atomic_load(&p->n_pending) != 0) pthread_cond_wait(&p->done_cv, &p->done_mu);
    atomic_store(&p->owner_sleeping, 0);
    pthread_mutex_unlock(&p->done_mu);
}
