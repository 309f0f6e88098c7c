/*
 * pipeline.h - the records of one stream on worker threads that take turns: each worker reads a
 * record (in order), transforms it, and writes it (in order), so that one worker's write
 * overlaps another's read and cipher (docs/benchmarks.md, "Files", measures why).
 *
 * env_pipeline_run reads in_fd as records of record_bytes; a record shorter than that (empty
 * included) is the last, and nothing is read after it. Each record is handed to fn on a worker
 * thread, with a buffer for its output of out_max_bytes; fn says how many bytes to write, and
 * makes out_record_bytes of every record but the last. Records are written to out_fd in order,
 * each only once fn succeeded on it and on every record before it: the first failure in record
 * order ends the run and is returned, and nothing from that record or after it is written.
 *
 * Memory: two buffers of about max(record_bytes, out_max_bytes) per worker, and at most
 * max_inflight_bytes of them (but one worker at least), whatever the length of the stream,
 * plus up to 1 MiB for the bytes of a record held back to make writes end on 1 MiB boundaries
 * (they go out with the next record, or before the run ends, also when it fails).
 * Buffers are mapped lazily (a small stream touches only what it reads), kept out of core dumps,
 * and the bytes used are wiped before they are unmapped. The caller's thread is worker 0; a
 * stream of one record starts no other thread.
 *
 * With `reserve`, when in_fd and out_fd are regular files and out_fd's is an ext4 filesystem,
 * the blocks for the output the input's size implies (every record but the last of
 * out_record_bytes, the last changed by the same amount) are reserved before the first record,
 * keeping the file's size: writing into them takes less CPU than ext4's delayed allocation, and a
 * full filesystem fails the run at once (ENV_E_WRITE, ENOSPC) rather than after the whole read.
 * An output that ends up shorter than that (an input shrinking while it is read) keeps the
 * blocks past its end: `reserve` is for files the caller deletes when a run fails.
 *
 * Errors: ENV_E_READ and ENV_E_WRITE leave errno as the failing call set it, in the caller's
 * thread; other codes are fn's. Thread safety: fn is called on up to `workers` threads at once,
 * each call with a distinct worker number (0..workers-1) that stays with that thread, so fn can
 * keep per-worker state such as a cipher context.
 */
#ifndef CMK_ENV_PIPELINE_H
#define CMK_ENV_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include "stream.h"

/* Transforms record `index` (last: the final one), len bytes at in, to out; sets *out_len to
 * the bytes it wrote to out (also when it fails: at most out_max_bytes). */
typedef env_err env_pipeline_fn(void *arg, unsigned worker, uint64_t index, int last,
                                const uint8_t *in, size_t len, uint8_t *out, size_t *out_len);

typedef struct env_pipeline_cfg {
    unsigned workers; /* >= 1 */
    int spin;         /* another core can run the writer: a waiting writer may spin first */
    int reserve;      /* out_fd is a new file of the caller's own: reserve its blocks ahead */
    size_t record_bytes, out_record_bytes, out_max_bytes, max_inflight_bytes;
    env_pipeline_fn *fn;
    void *arg;
    /* Called after each record written, with the input bytes consumed so far: in order and never
     * concurrently, but from whichever worker wrote it; may be NULL. */
    void (*progress)(void *arg, uint64_t bytes_in);
    void *progress_arg;
} env_pipeline_cfg;

env_err env_pipeline_run(const env_pipeline_cfg *cfg, int in_fd, int out_fd);

#endif
