/* engine/pool.h — a pool of persistent worker threads for the engine's matmuls (no thread
 * creation per token). pool_run() is called by one owner thread at a time (the thread running
 * eng_decode); workers spin briefly, then sleep, between runs. */
#ifndef NATTER_POOL_H
#define NATTER_POOL_H

typedef struct pool pool;

/* n_threads in 1..1024 (the caller counts as thread 0, so n_threads - 1 workers are started).
 * Returns 0 and a new pool in *out (caller frees with pool_free), or a negative errno and
 * leaves *out untouched: -EINVAL (n_threads out of range), -ENOMEM, or pthread_create's code
 * negated (-EAGAIN: the system's thread limit). Nothing is left running on failure. */
int pool_new(int n_threads, pool **out);
/* Stops and joins the workers, frees p. Accepts NULL. Owner thread, not during pool_run. */
void pool_free(pool *p);
int pool_n_threads(const pool *p);

/* Runs fn(ud, ith, nth) once for each ith in 0..nth-1 and returns when all have finished.
 * ith 0 runs on the caller; the others on whichever thread claims them first (the caller too,
 * when a worker has not woken up yet), so fn must depend on ith only, never on which thread
 * runs it. Work split by ith must not depend on timing, so that results are identical for any
 * thread count. */
void pool_run(pool *p, void (*fn)(void *ud, int ith, int nth), void *ud);

#endif
