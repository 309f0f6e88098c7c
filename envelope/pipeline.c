/* pipeline.c - records of a stream on worker threads that take turns: reads in order, the
 * transform, writes in order; see pipeline.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "fdio.h"
#include "pipeline.h"

/* The kernel copies between the page cache and a buffer at half speed when the two are not at
 * the same offset within a page (a sealed chunk is 16 bytes longer than a plain one, so one
 * side of every cmk record is off by some multiple of 16): each record is read to, and written
 * from, the same offset within a page as its place in the file, and the cipher, which costs
 * the same either way, moves it from one buffer to the other (docs/benchmarks.md, "Files"). */
#define PL_ALIGN 4096

#define PL_SPIN_NS 200000

/* Each worker reads, transforms and writes its own record, so the record stays in that core's
 * cache from read(2) to write(2); handing it to another thread cost 10-25% more CPU time
 * (docs/benchmarks.md, "Files"). */
typedef struct pl_worker {
    struct pl_run *r;
    unsigned id;
    pthread_t tid;
    uint8_t *in, *out;              /* one mmap: pages appear only where touched */
    size_t in_touched, out_touched; /* how much of each to wipe at the end */
    int read_errno;
} pl_worker;

typedef struct pl_run {
    const env_pipeline_cfg *cfg;
    int in_fd, out_fd;
    uint64_t in_start, out_start; /* file offsets of record 0 (0 for a pipe) */
    size_t buf_bytes;             /* each of a worker's two buffers */
    pthread_mutex_t read_lock;    /* held across a claim and its read: reads in record order */
    pthread_mutex_t lock;         /* guards what follows */
    pthread_cond_t turn;
    uint64_t next_read, next_write;
    int eof;     /* the last record, or a failed read, is claimed: claim no more */
    env_err err; /* the first failure in record order: write no more */
    int err_errno;
    uint64_t bytes_in; /* touched only by the record whose turn it is to write */
    /* Writes end on a boundary of `granule` bytes of the file (the output record's size rounded
     * down to a power of two, at most 1 MiB), as a plain copy's do: a write that ends inside a
     * page-cache folio leaves it to the next write to fill, and the kernel then uses smaller
     * folios. A record's bytes past its last boundary wait in carry and go at the head of the
     * next record's write. Touched only in the write turn, like bytes_in. */
    uint8_t *carry; /* granule bytes, mapped when a record first holds some back */
    size_t granule, carry_len, carry_touched;
    pl_worker *workers;
} pl_run;

static int buf_map(pl_worker *w, size_t n)
{
    uint8_t *p = mmap(NULL, 2 * n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        return 0;
    (void)madvise(p, 2 * n, MADV_DONTDUMP); /* plaintext stays out of core dumps where it can */
    w->in = p;
    w->out = p + n;
    return 1;
}

static void buf_unmap(pl_worker *w, size_t n)
{
    if (w->in == NULL)
        return;
    OPENSSL_cleanse(w->in, w->in_touched);
    OPENSSL_cleanse(w->out, w->out_touched);
    munmap(w->in, 2 * n);
    w->in = w->out = NULL;
}

/* Where in a buffer the byte at file offset `at` goes: the same offset within a page. */
static size_t pl_skew(uint64_t at)
{
    return (size_t)(at % PL_ALIGN);
}

/* Claims the next record and reads it (holding read_lock, so claims and reads are in order).
 * Returns 0 when there is nothing left to claim. */
static int pl_claim(pl_run *r, pl_worker *w, uint64_t *index, size_t *len, int *last, env_err *e)
{
    size_t skew;

    pthread_mutex_lock(&r->read_lock);
    pthread_mutex_lock(&r->lock);
    if (r->eof || r->err != ENV_OK) {
        pthread_mutex_unlock(&r->lock);
        pthread_mutex_unlock(&r->read_lock);
        return 0;
    }
    *index = r->next_read++;
    pthread_mutex_unlock(&r->lock);
    *e = ENV_OK;
    skew = pl_skew(r->in_start + *index * r->cfg->record_bytes);
    if (!env_fd_read(r->in_fd, w->in + skew, r->cfg->record_bytes, len)) {
        *e = ENV_E_READ;
        w->read_errno = errno;
    }
    *last = *e != ENV_OK || *len < r->cfg->record_bytes;
    if (skew + *len > w->in_touched)
        w->in_touched = skew + *len;
    if (*last) {
        pthread_mutex_lock(&r->lock);
        r->eof = 1;
        pthread_mutex_unlock(&r->lock);
    }
    pthread_mutex_unlock(&r->read_lock);
    return 1;
}

static uint64_t pl_now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The turn usually comes within another record's write (about 0.2 ms a MiB), and a sleeper's
 * wake-up costs tens of microseconds on a VM, per record: so the writer-to-be next in line
 * first spins that long, then sleeps (measured: docs/benchmarks.md, "Files"). Only that one,
 * and only with another core to run the writer: spinners must not take the writer's core. */
static void pl_turn_spin(pl_run *r, uint64_t i)
{
    uint64_t until = 0;

    if (!r->cfg->spin || __atomic_load_n(&r->next_write, __ATOMIC_ACQUIRE) + 1 != i)
        return;
    for (unsigned k = 1; __atomic_load_n(&r->next_write, __ATOMIC_ACQUIRE) != i; k++) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        if (k % 64 != 0)
            continue;
        if (until == 0)
            until = pl_now_ns() + PL_SPIN_NS;
        else if (pl_now_ns() > until)
            return;
    }
}

/* Waits for record i's turn to write; returns 0 if an earlier record failed instead. */
static int pl_turn_wait(pl_run *r, uint64_t i)
{
    int go;

    pl_turn_spin(r, i);
    pthread_mutex_lock(&r->lock);
    while (r->next_write != i && r->err == ENV_OK)
        pthread_cond_wait(&r->turn, &r->lock);
    go = r->err == ENV_OK;
    pthread_mutex_unlock(&r->lock);
    return go;
}

/* Ends record i's turn: the next record may write, or, on failure, nothing more will. */
static void pl_turn_end(pl_run *r, env_err e, int err_errno)
{
    pthread_mutex_lock(&r->lock);
    if (e != ENV_OK) {
        r->err = e;
        r->err_errno = err_errno;
    }
    __atomic_store_n(&r->next_write, r->next_write + 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&r->turn);
    pthread_mutex_unlock(&r->lock);
}

/* The carry, mapped on first use (a stream of one record, most small files, never needs it);
 * 0 if it can't be: writes are then not held back, which is only slower. */
static int pl_carry_map(pl_run *r)
{
    void *p;

    if (r->carry != NULL)
        return 1;
    p = mmap(NULL, r->granule, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    (void)madvise(p, r->granule, MADV_DONTDUMP);
    r->carry = p;
    return 1;
}

/* Writes, in its turn, a record's n bytes at p, which go to file offset `at`, after the carry;
 * unless `hold` is 0, keeps back the bytes past the record's last granule boundary. */
static int pl_write(pl_run *r, const uint8_t *p, uint64_t at, size_t n, int hold)
{
    size_t keep = hold && r->granule >= PL_ALIGN ? (size_t)((at + n) % r->granule) : 0;

    if (keep > n || (keep > 0 && !pl_carry_map(r)))
        keep = 0; /* a record shorter than a granule gains nothing */
    if (!env_fd_write2(r->out_fd, r->carry, r->carry_len, p, n - keep))
        return 0;
    if (keep > 0)
        memcpy(r->carry, p + n - keep, keep); /* at the buffer's start: page-aligned, like the
                                                 granule boundary it goes to */
    if (keep > r->carry_touched)
        r->carry_touched = keep;
    r->carry_len = keep;
    return 1;
}

/* One record, read already: transform it, then write it in its turn. */
static void pl_record(pl_run *r, pl_worker *w, uint64_t i, size_t len, int last, env_err e)
{
    int err_errno = w->read_errno;
    size_t in_skew = pl_skew(r->in_start + i * r->cfg->record_bytes);
    uint64_t out_at = r->out_start + i * r->cfg->out_record_bytes;
    size_t out_skew = pl_skew(out_at);
    size_t out_len = 0;

    if (e == ENV_OK) {
        e = r->cfg->fn(r->cfg->arg, w->id, i, last, w->in + in_skew, len, w->out + out_skew,
                       &out_len);
        /* Only what fn wrote, failing or not: wiping untouched pages would fault them all in
         * (a 4 KiB file would cost a whole chunk's pages). */
        if (out_skew + out_len > w->out_touched)
            w->out_touched = out_skew + out_len;
    }
    if (!pl_turn_wait(r, i))
        return;
    if (e == ENV_OK && !pl_write(r, w->out + out_skew, out_at, out_len, !last)) {
        e = ENV_E_WRITE;
        err_errno = errno;
    } else if (e != ENV_OK && r->carry_len > 0) { /* the records before this one go out whole */
        (void)env_fd_write(r->out_fd, r->carry, r->carry_len);
        r->carry_len = 0;
    }
    if (e == ENV_OK) {
        r->bytes_in += len; /* only in the write turn */
        if (r->cfg->progress != NULL)
            r->cfg->progress(r->cfg->progress_arg, r->bytes_in);
    }
    pl_turn_end(r, e, err_errno);
}

static void *pl_work(void *v)
{
    pl_worker *w = v;
    uint64_t i;
    size_t len;
    int last;
    env_err e;

    while (pl_claim(w->r, w, &i, &len, &last, &e))
        pl_record(w->r, w, i, len, last, e);
    return NULL;
}

static unsigned pl_workers(const env_pipeline_cfg *cfg, size_t buf_bytes)
{
    size_t fit = cfg->max_inflight_bytes / (2 * buf_bytes);

    if (fit < 1)
        fit = 1;
    return cfg->workers < fit ? cfg->workers : (unsigned)fit;
}

/* Reserves the output's blocks ahead (pipeline.h): on ext4, encrypting 1 GiB into blocks
 * reserved with fallocate took 0.29 s of CPU against 0.36 s with delayed allocation, 0.15-0.16 s
 * of wall clock against 0.19-0.20 s, and 0.42-0.45 s against 0.49 s counting the writeback to
 * the disk (docs/benchmarks.md, "Files"). Not on tmpfs, where fallocate zeroes the pages the
 * writes then fill (2-3x slower), nor on XFS or btrfs (no gain there). Returns 0 only when the
 * filesystem has no room (errno set); any other refusal leaves the writes to allocate as they go.
 */
static int pl_out_reserve(const pl_run *r)
{
    struct stat in, out;
    struct statfs fs;
    int64_t left, records, bytes;

    if (!r->cfg->reserve || fstat(r->in_fd, &in) != 0 || !S_ISREG(in.st_mode) ||
        fstat(r->out_fd, &out) != 0 || !S_ISREG(out.st_mode) || fstatfs(r->out_fd, &fs) != 0 ||
        fs.f_type != EXT4_SUPER_MAGIC || (int64_t)r->in_start > (int64_t)in.st_size)
        return 1;
    left = (int64_t)in.st_size - (int64_t)r->in_start;
    records = left / (int64_t)r->cfg->record_bytes + 1; /* the last one is short, maybe empty */
    bytes = left + records * ((int64_t)r->cfg->out_record_bytes - (int64_t)r->cfg->record_bytes);
    if (bytes <= 0 || fallocate(r->out_fd, FALLOC_FL_KEEP_SIZE, (off_t)r->out_start, bytes) == 0)
        return 1;
    return errno != ENOSPC && errno != EDQUOT;
}

/* Worker 0 is the caller's thread; it reads record 0 before any other thread starts, so a stream
 * of one record (most small files) starts none. */
static env_err pl_run_all(pl_run *r, unsigned n)
{
    unsigned started = 1;
    uint64_t i;
    size_t len;
    int last;
    env_err e;

    if (!buf_map(&r->workers[0], r->buf_bytes))
        return ENV_E_NOMEM;
    if (!pl_claim(r, &r->workers[0], &i, &len, &last, &e))
        return ENV_E_NOMEM; /* not reached: record 0 is always there to claim */
    for (; !last && started < n; started++)
        if (!buf_map(&r->workers[started], r->buf_bytes) ||
            pthread_create(&r->workers[started].tid, NULL, pl_work, &r->workers[started]) != 0)
            break; /* fewer workers, still correct */
    pl_record(r, &r->workers[0], i, len, last, e);
    pl_work(&r->workers[0]);
    for (unsigned k = 1; k < started; k++)
        pthread_join(r->workers[k].tid, NULL);
    errno = r->err_errno;
    return r->err;
}

/* The offset a descriptor reads or writes at next; 0 for one that has none (a pipe). */
static uint64_t pl_fd_at(int fd)
{
    off_t at = lseek(fd, 0, SEEK_CUR);

    return at < 0 ? 0 : (uint64_t)at;
}

env_err env_pipeline_run(const env_pipeline_cfg *cfg, int in_fd, int out_fd)
{
    size_t big = cfg->record_bytes > cfg->out_max_bytes ? cfg->record_bytes : cfg->out_max_bytes;
    pl_run r = {.cfg = cfg, .in_fd = in_fd, .out_fd = out_fd};
    unsigned n;
    env_err e = ENV_E_NOMEM;
    int saved_errno;

    r.buf_bytes = (big + PL_ALIGN) / PL_ALIGN * PL_ALIGN + PL_ALIGN; /* room for any skew */
    n = pl_workers(cfg, r.buf_bytes);
    r.in_start = pl_fd_at(in_fd);
    r.out_start = pl_fd_at(out_fd);
    for (r.granule = 1; r.granule * 2 <= cfg->out_record_bytes && r.granule < (1u << 20);)
        r.granule *= 2;

    /* Only a hint for the kernel's read-ahead; a pipe refuses it, harmlessly. */
    (void)posix_fadvise(in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    pthread_mutex_init(&r.read_lock, NULL);
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.turn, NULL);
    if (!pl_out_reserve(&r)) {
        e = ENV_E_WRITE;
    } else if ((r.workers = calloc(n, sizeof(*r.workers))) != NULL) {
        for (unsigned k = 0; k < n; k++)
            r.workers[k] = (pl_worker){.r = &r, .id = k};
        e = pl_run_all(&r, n);
    }
    saved_errno = errno;
    for (unsigned k = 0; r.workers != NULL && k < n; k++)
        buf_unmap(&r.workers[k], r.buf_bytes);
    free(r.workers);
    if (r.carry != NULL) {
        OPENSSL_cleanse(r.carry, r.carry_touched);
        munmap(r.carry, r.granule);
    }
    pthread_cond_destroy(&r.turn);
    pthread_mutex_destroy(&r.lock);
    pthread_mutex_destroy(&r.read_lock);
    errno = saved_errno;
    return e;
}
