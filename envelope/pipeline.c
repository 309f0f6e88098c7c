/* pipeline.c - records through a ring of buffers: one reader at a time, workers in place, an
 * in-order writer in the caller's thread; see pipeline.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <openssl/crypto.h>
#include "fdio.h"
#include "pipeline.h"

enum { SLOT_FREE, SLOT_BUSY, SLOT_DONE };

typedef struct pl_slot {
    uint8_t *buf;                 /* mmap'ed: pages appear only where touched */
    size_t len, out_len, touched; /* touched: how much of buf to wipe at the end */
    uint64_t index;
    int state, last, read_errno;
    env_err err;
} pl_slot;

typedef struct pl_run {
    const env_pipeline_cfg *cfg;
    int in_fd;
    /* read_lock keeps the reads in record order; lock guards the slot states and the flags. */
    pthread_mutex_t lock, read_lock;
    pthread_cond_t done, freed;
    pl_slot *slots;
    size_t nslots;
    uint64_t next_read, bytes_in;
    int eof, stop; /* eof: the last record (or a failed read) is claimed; stop: writer gave up */
} pl_run;

typedef struct pl_worker_arg {
    pl_run *r;
    unsigned id;
} pl_worker_arg;

static int slot_map(pl_slot *s, size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        return 0;
    (void)madvise(p, n, MADV_DONTDUMP); /* plaintext stays out of core dumps where it can */
    s->buf = p;
    return 1;
}

static void slot_unmap(pl_slot *s, size_t n)
{
    if (s->buf == NULL)
        return;
    OPENSSL_cleanse(s->buf, s->touched);
    munmap(s->buf, n);
    s->buf = NULL;
}

/* Reads record i into s; a failed read is left in s->err and ends the stream. */
static void slot_fill(pl_run *r, pl_slot *s, uint64_t i)
{
    s->index = i;
    s->err = ENV_OK;
    if (!env_fd_read(r->in_fd, s->buf, r->cfg->record_bytes, &s->len)) {
        s->err = ENV_E_READ;
        s->read_errno = errno;
        s->last = 1;
        return;
    }
    s->last = s->len < r->cfg->record_bytes;
}

static void slot_run(pl_run *r, pl_slot *s, unsigned worker)
{
    s->out_len = 0;
    if (s->err == ENV_OK)
        s->err = r->cfg->fn(r->cfg->arg, worker, s->index, s->last, s->buf, s->len, &s->out_len);
    if (s->touched < s->len)
        s->touched = s->len;
    if (s->touched < s->out_len)
        s->touched = s->out_len;
}

/* Writes a filled slot; on failure returns its error with errno as it was. */
static env_err slot_write(pl_run *r, pl_slot *s, int out_fd)
{
    if (s->err == ENV_E_READ)
        errno = s->read_errno;
    if (s->err != ENV_OK)
        return s->err;
    if (!env_fd_write(out_fd, s->buf, s->out_len))
        return ENV_E_WRITE;
    r->bytes_in += s->len;
    if (r->cfg->progress != NULL)
        r->cfg->progress(r->cfg->progress_arg, r->bytes_in);
    return ENV_OK;
}

/* A worker: claims the next record and reads it (one reader at a time, in order), then runs fn
 * on it outside every lock, until the last record is claimed or the writer stops. */
static void *pl_worker(void *v)
{
    pl_worker_arg *a = v;
    pl_run *r = a->r;

    for (;;) {
        pl_slot *s;
        uint64_t i;

        pthread_mutex_lock(&r->read_lock);
        pthread_mutex_lock(&r->lock);
        while (!r->eof && !r->stop && r->slots[r->next_read % r->nslots].state != SLOT_FREE)
            pthread_cond_wait(&r->freed, &r->lock);
        if (r->eof || r->stop) {
            pthread_mutex_unlock(&r->lock);
            pthread_mutex_unlock(&r->read_lock);
            return NULL;
        }
        i = r->next_read++;
        s = &r->slots[i % r->nslots];
        s->state = SLOT_BUSY;
        pthread_mutex_unlock(&r->lock);
        slot_fill(r, s, i);
        if (s->last) {
            pthread_mutex_lock(&r->lock);
            r->eof = 1;
            pthread_mutex_unlock(&r->lock);
        }
        pthread_mutex_unlock(&r->read_lock);
        slot_run(r, s, a->id);
        pthread_mutex_lock(&r->lock);
        s->state = SLOT_DONE;
        pthread_cond_signal(&r->done);
        pthread_mutex_unlock(&r->lock);
    }
}

/* The caller's thread: writes records from index 1 on, in order, as they are done. */
static env_err pl_write_rest(pl_run *r, int out_fd)
{
    for (uint64_t w = 1;; w++) {
        pl_slot *s = &r->slots[w % r->nslots];
        env_err e;

        pthread_mutex_lock(&r->lock);
        while (s->state != SLOT_DONE || s->index != w)
            pthread_cond_wait(&r->done, &r->lock);
        pthread_mutex_unlock(&r->lock);
        if ((e = slot_write(r, s, out_fd)) != ENV_OK || s->last)
            return e;
        pthread_mutex_lock(&r->lock);
        s->state = SLOT_FREE;
        pthread_cond_broadcast(&r->freed);
        pthread_mutex_unlock(&r->lock);
    }
}

static size_t pl_slots(const env_pipeline_cfg *cfg)
{
    size_t want = 2 * (size_t)cfg->workers + 2, fit = cfg->max_inflight_bytes / cfg->buf_bytes;

    if (want > fit)
        want = fit;
    return want < 2 ? 2 : want;
}

/* Records 1.. on the workers; record 0 is written and slot 0 free. */
static env_err pl_run_threads(pl_run *r, int out_fd)
{
    const env_pipeline_cfg *cfg = r->cfg;
    pthread_t *tids = calloc(cfg->workers, sizeof(*tids));
    pl_worker_arg *args = calloc(cfg->workers, sizeof(*args));
    unsigned started = 0;
    env_err e = ENV_E_NOMEM;
    int saved_errno;

    if (tids == NULL || args == NULL)
        goto end;
    for (size_t i = 1; i < r->nslots; i++)
        if (!slot_map(&r->slots[i], cfg->buf_bytes))
            goto end;
    for (; started < cfg->workers; started++) {
        args[started] = (pl_worker_arg){r, started};
        if (pthread_create(&tids[started], NULL, pl_worker, &args[started]) != 0)
            break;
    }
    if (started > 0)
        e = pl_write_rest(r, out_fd);
end:
    saved_errno = errno;
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_broadcast(&r->freed);
    pthread_mutex_unlock(&r->lock);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    free(args);
    errno = saved_errno;
    return e;
}

env_err env_pipeline_run(const env_pipeline_cfg *cfg, int in_fd, int out_fd)
{
    pl_run r = {.cfg = cfg, .in_fd = in_fd, .nslots = pl_slots(cfg)};
    env_err e = ENV_E_NOMEM;
    int saved_errno;

    /* Only a hint for the kernel's read-ahead; a pipe refuses it, harmlessly. */
    (void)posix_fadvise(in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    pthread_mutex_init(&r.lock, NULL);
    pthread_mutex_init(&r.read_lock, NULL);
    pthread_cond_init(&r.done, NULL);
    pthread_cond_init(&r.freed, NULL);
    if ((r.slots = calloc(r.nslots, sizeof(*r.slots))) == NULL ||
        !slot_map(&r.slots[0], cfg->buf_bytes))
        goto end;
    /* Record 0 in this thread: a stream of one record (most small files) starts no thread. */
    slot_fill(&r, &r.slots[0], 0);
    slot_run(&r, &r.slots[0], 0);
    if ((e = slot_write(&r, &r.slots[0], out_fd)) != ENV_OK || r.slots[0].last)
        goto end;
    r.next_read = 1;
    e = pl_run_threads(&r, out_fd);
end:
    saved_errno = errno;
    for (size_t i = 0; r.slots != NULL && i < r.nslots; i++)
        slot_unmap(&r.slots[i], cfg->buf_bytes);
    free(r.slots);
    pthread_cond_destroy(&r.freed);
    pthread_cond_destroy(&r.done);
    pthread_mutex_destroy(&r.read_lock);
    pthread_mutex_destroy(&r.lock);
    errno = saved_errno;
    return e;
}
