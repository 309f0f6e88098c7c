/*
 * pool.h - a fixed set of worker threads that run a batch of jobs and wait for all of them.
 *
 * env_pool_run(pool, n, fn, arg) calls fn(arg, job, worker) for job = 0..n-1, spread over the
 * workers (worker = 0..threads-1, so a caller can give each worker its own cipher context),
 * and returns when all are done. One batch at a time; the caller's thread takes part.
 *
 * Thread safety: one caller per pool.
 */
#ifndef CMK_ENV_POOL_H
#define CMK_ENV_POOL_H

#include <stddef.h>

typedef struct env_pool env_pool;
typedef void env_pool_fn(void *arg, size_t job, unsigned worker);

/* threads >= 1; threads - 1 new threads are started. */
env_pool *env_pool_new(unsigned threads);
void env_pool_free(env_pool *p);
unsigned env_pool_threads(const env_pool *p);
void env_pool_run(env_pool *p, size_t njobs, env_pool_fn *fn, void *arg);

#endif
