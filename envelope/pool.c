/* pool.c - worker threads for batches of chunk jobs; see pool.h. */
#include <pthread.h>
#include <stdlib.h>
#include "pool.h"

struct env_pool {
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    pthread_t *tids;
    unsigned threads, started;
    env_pool_fn *fn;
    void *arg;
    size_t njobs, next, finished;
    unsigned long batch; /* bumped per env_pool_run so workers see new work */
    int quit;
};

/* Takes jobs until the batch is empty; returns with the lock held. */
static void pool_drain(env_pool *p, unsigned worker)
{
    while (p->next < p->njobs) {
        size_t job = p->next++;

        pthread_mutex_unlock(&p->lock);
        p->fn(p->arg, job, worker);
        pthread_mutex_lock(&p->lock);
        if (++p->finished == p->njobs)
            pthread_cond_broadcast(&p->done);
    }
}

struct worker_arg {
    env_pool *p;
    unsigned id;
};

static void *pool_worker(void *v)
{
    struct worker_arg *wa = v;
    env_pool *p = wa->p;
    unsigned id = wa->id;
    unsigned long seen = 0;

    free(wa);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->quit && p->batch == seen)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->quit)
            break;
        seen = p->batch;
        pool_drain(p, id);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

env_pool *env_pool_new(unsigned threads)
{
    env_pool *p;

    if (threads == 0 || (p = calloc(1, sizeof(*p))) == NULL)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    p->threads = threads;
    if ((p->tids = calloc(threads, sizeof(*p->tids))) == NULL)
        goto err;
    for (unsigned i = 1; i < threads; i++) {
        struct worker_arg *wa = malloc(sizeof(*wa));

        if (wa == NULL)
            goto err;
        wa->p = p;
        wa->id = i;
        if (pthread_create(&p->tids[i], NULL, pool_worker, wa) != 0) {
            free(wa);
            goto err;
        }
        p->started++;
    }
    return p;
err:
    env_pool_free(p);
    return NULL;
}

void env_pool_free(env_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->quit = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 1; i <= p->started; i++)
        pthread_join(p->tids[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p->tids);
    free(p);
}

unsigned env_pool_threads(const env_pool *p)
{
    return p->threads;
}

void env_pool_run(env_pool *p, size_t njobs, env_pool_fn *fn, void *arg)
{
    if (njobs == 0)
        return;
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->arg = arg;
    p->njobs = njobs;
    p->next = 0;
    p->finished = 0;
    p->batch++;
    pthread_cond_broadcast(&p->work);
    pool_drain(p, 0);
    while (p->finished < p->njobs)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
