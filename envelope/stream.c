/* stream.c - a whole cmk file between two descriptors, chunks on worker threads; see
 * stream.h and docs/format.md. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "chunk.h"
#include "pool.h"
#include "secret.h"
#include "stream.h"

/* Plaintext and ciphertext in flight stay under this, whatever the thread count. */
#define ENV_MAX_INFLIGHT_BYTES (32u << 20)

const char *env_err_str(env_err e)
{
    switch (e) {
    case ENV_OK:
        return "ok";
    case ENV_E_READ:
        return "read failed";
    case ENV_E_WRITE:
        return "write failed";
    case ENV_E_HEADER:
        return "malformed header";
    case ENV_E_COMMIT:
        return "key commitment mismatch (wrong key, or the header was changed)";
    case ENV_E_AUTH:
        return "authentication failed (the data was changed)";
    case ENV_E_TRUNCATED:
        return "the file is truncated";
    case ENV_E_CRYPTO:
        return "cipher setup failed";
    case ENV_E_NOMEM:
        return "out of memory";
    }
    return "unknown error";
}

/* Reads until n bytes or end of file; *got says how many. */
static int read_full(int fd, uint8_t *buf, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t r = read(fd, buf + *got, n - *got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return 0;
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return 1;
}

static int write_full(int fd, const uint8_t *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 0;
        buf += w;
        n -= (size_t)w;
    }
    return 1;
}

typedef struct env_job {
    uint8_t *in, *out;
    size_t in_len;
    uint64_t index;
    int last, ok;
} env_job;

typedef struct env_run {
    env_pool *pool;
    env_chunker **chunkers; /* one per worker */
    env_job *jobs;
    uint8_t *inbuf, *outbuf;
    size_t slots, in_slot, out_slot;
    int enc;
    const env_stream_opts *opts;
    uint64_t bytes_in;
} env_run;

static void run_job(void *arg, size_t j, unsigned worker)
{
    env_run *r = arg;
    env_job *job = &r->jobs[j];
    env_chunker *c = r->chunkers[worker];

    job->ok = r->enc ? env_chunk_seal(c, job->index, job->last, job->in, job->in_len, job->out)
                     : env_chunk_open(c, job->index, job->last, job->in, job->in_len, job->out);
}

static void run_free(env_run *r)
{
    unsigned n = r->pool != NULL ? env_pool_threads(r->pool) : 0;

    for (unsigned i = 0; r->chunkers != NULL && i < n; i++)
        env_chunker_free(r->chunkers[i]);
    OPENSSL_free(r->chunkers);
    env_pool_free(r->pool);
    OPENSSL_free(r->jobs);
    OPENSSL_clear_free(r->inbuf, r->slots * r->in_slot);
    OPENSSL_clear_free(r->outbuf, r->slots * r->out_slot);
    memset(r, 0, sizeof(*r));
}

static env_err run_new(env_run *r, const env_stream_opts *o, const env_file_keys *keys,
                       uint32_t chunk_bytes, int enc)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = o->threads ? o->threads : (cpus > 0 ? (unsigned)cpus : 1);
    size_t max_slots = ENV_MAX_INFLIGHT_BYTES / (2 * ((size_t)chunk_bytes + ENV_TAG_BYTES));

    memset(r, 0, sizeof(*r));
    r->enc = enc;
    r->opts = o;
    r->slots = 2 * (size_t)threads;
    if (r->slots > max_slots)
        r->slots = max_slots > 2 ? max_slots : 2;
    if (threads > r->slots)
        threads = (unsigned)r->slots;
    r->in_slot = chunk_bytes + (enc ? 0 : ENV_TAG_BYTES);
    r->out_slot = chunk_bytes + (enc ? ENV_TAG_BYTES : 0);
    if ((r->pool = env_pool_new(threads)) == NULL ||
        (r->chunkers = OPENSSL_zalloc(threads * sizeof(*r->chunkers))) == NULL ||
        (r->jobs = OPENSSL_zalloc(r->slots * sizeof(*r->jobs))) == NULL ||
        (r->inbuf = OPENSSL_malloc(r->slots * r->in_slot)) == NULL ||
        (r->outbuf = OPENSSL_malloc(r->slots * r->out_slot)) == NULL)
        return ENV_E_NOMEM;
    for (unsigned i = 0; i < threads; i++)
        if ((r->chunkers[i] = env_chunker_new(o->libctx, o->propq, keys)) == NULL)
            return ENV_E_CRYPTO;
    return ENV_OK;
}

/* Reads up to r->slots records into jobs; *n says how many, *last whether the final one is
 * among them. A record shorter than a full slot is the file's last. */
static env_err run_read(env_run *r, int fd, uint64_t *index, size_t *n, int *last)
{
    for (*n = 0; *n < r->slots && !*last; (*n)++) {
        env_job *job = &r->jobs[*n];
        size_t got;

        job->in = r->inbuf + *n * r->in_slot;
        job->out = r->outbuf + *n * r->out_slot;
        if (!read_full(fd, job->in, r->in_slot, &got))
            return ENV_E_READ;
        if (!r->enc && got < ENV_TAG_BYTES)
            return got == 0 ? ENV_E_TRUNCATED : ENV_E_AUTH;
        job->in_len = got;
        job->index = (*index)++;
        job->last = *last = got < r->in_slot;
    }
    return ENV_OK;
}

static env_err run_stream(env_run *r, int in_fd, int out_fd)
{
    uint64_t index = 0;
    int last = 0;

    while (!last) {
        size_t n = 0;
        env_err e = run_read(r, in_fd, &index, &n, &last);

        if (e != ENV_OK)
            return e;
        env_pool_run(r->pool, n, run_job, r);
        for (size_t j = 0; j < n; j++)
            if (!r->jobs[j].ok)
                return r->enc ? ENV_E_CRYPTO : ENV_E_AUTH;
        /* Only a batch whose every chunk authenticated is written. */
        for (size_t j = 0; j < n; j++) {
            size_t len =
                r->enc ? r->jobs[j].in_len + ENV_TAG_BYTES : r->jobs[j].in_len - ENV_TAG_BYTES;

            if (!write_full(out_fd, r->jobs[j].out, len))
                return ENV_E_WRITE;
            r->bytes_in += r->jobs[j].in_len;
        }
        if (r->opts->progress != NULL)
            r->opts->progress(r->opts->progress_arg, r->bytes_in);
    }
    return ENV_OK;
}

env_err env_stream_encrypt(const env_stream_opts *o, env_header *h,
                           const uint8_t ikm[ENV_KEY_BYTES], int in_fd, int out_fd)
{
    env_file_keys *keys = env_secret_new(sizeof(*keys));
    env_buf raw = {0};
    env_run run = {0};
    env_err e = ENV_E_CRYPTO;

    if (keys == NULL) {
        e = ENV_E_NOMEM;
        goto end;
    }
    if (RAND_bytes_ex(o->libctx, h->salt, ENV_SALT_BYTES, 0) != 1)
        goto end;
    memset(h->commitment, 0, ENV_COMMIT_BYTES);
    if (!env_header_encode(h, &raw)) {
        e = raw.failed ? ENV_E_NOMEM : ENV_E_HEADER;
        goto end;
    }
    if (!env_file_keys_derive(o->libctx, o->propq, ikm, h, keys))
        goto end;
    memcpy(h->commitment, keys->commitment, ENV_COMMIT_BYTES);
    memcpy(raw.data + raw.len - ENV_COMMIT_BYTES, keys->commitment, ENV_COMMIT_BYTES);
    if ((e = run_new(&run, o, keys, h->chunk_bytes, 1)) != ENV_OK)
        goto end;
    if (!write_full(out_fd, raw.data, raw.len)) {
        e = ENV_E_WRITE;
        goto end;
    }
    e = run_stream(&run, in_fd, out_fd);
end:
    run_free(&run);
    env_secret_free(keys, sizeof(*keys));
    env_buf_free(&raw);
    return e;
}

env_err env_stream_header_read(int in_fd, env_header *h, env_buf *raw, env_header_err *herr)
{
    uint8_t *prefix, *rest;
    size_t got, total, used;

    /* The fixed prefix (magic, version, length) says how much more to read: no more. */
    *herr = ENV_HDR_TRUNCATED;
    if ((prefix = env_buf_extend(raw, ENV_FIXED_PREFIX_BYTES)) == NULL)
        return ENV_E_NOMEM;
    if (!read_full(in_fd, prefix, ENV_FIXED_PREFIX_BYTES, &got))
        return ENV_E_READ;
    *herr = env_header_parse(prefix, got, h, &used);
    if (*herr != ENV_HDR_TRUNCATED || got < ENV_FIXED_PREFIX_BYTES)
        return ENV_E_HEADER;
    total = (size_t)prefix[5] << 24 | (size_t)prefix[6] << 16 | (size_t)prefix[7] << 8 | prefix[8];
    if ((rest = env_buf_extend(raw, total - ENV_FIXED_PREFIX_BYTES)) == NULL)
        return ENV_E_NOMEM;
    if (!read_full(in_fd, rest, total - ENV_FIXED_PREFIX_BYTES, &got))
        return ENV_E_READ;
    if (got < total - ENV_FIXED_PREFIX_BYTES)
        return ENV_E_HEADER; /* *herr is ENV_HDR_TRUNCATED */
    *herr = env_header_parse(raw->data, raw->len, h, &used);
    return *herr == ENV_HDR_OK ? ENV_OK : ENV_E_HEADER;
}

env_err env_stream_decrypt(const env_stream_opts *o, const env_header *h,
                           const uint8_t ikm[ENV_KEY_BYTES], int in_fd, int out_fd)
{
    env_file_keys *keys = env_secret_new(sizeof(*keys));
    env_run run = {0};
    env_err e = ENV_E_CRYPTO;

    if (keys == NULL) {
        e = ENV_E_NOMEM;
        goto end;
    }
    if (!env_file_keys_derive(o->libctx, o->propq, ikm, h, keys))
        goto end;
    if (!env_file_keys_check(keys, h->commitment)) {
        e = ENV_E_COMMIT;
        goto end;
    }
    if ((e = run_new(&run, o, keys, h->chunk_bytes, 0)) != ENV_OK)
        goto end;
    e = run_stream(&run, in_fd, out_fd);
end:
    run_free(&run);
    env_secret_free(keys, sizeof(*keys));
    return e;
}
