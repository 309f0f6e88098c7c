/* stream.c - a whole cmk file between two descriptors, chunks on worker threads; see
 * stream.h and docs/format.md. */
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "chunk.h"
#include "fdio.h"
#include "pipeline.h"
#include "secret.h"
#include "stream.h"

/* The chunk buffers stay under this, whatever the thread count or the file's size: a worker
 * holds two (its chunk's input and output), so this is 16 workers with the default 1 MiB
 * chunks, 2 with 8 MiB, and 1 with the largest (16 MiB), whose read then overlaps nothing. */
#define ENV_MAX_INFLIGHT_BYTES ((size_t)2 * ENV_MAX_CHUNK_BYTES + 64 * 4096)

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

/* One stream's chunk transform, for the pipeline: a chunker per worker. */
typedef struct env_run {
    env_chunker **chunkers;
    unsigned workers;
    int enc;
} env_run;

/* Seals or opens record `index`: a sealed chunk grows by its tag, an opened one shrinks by it.
 * A record too short to hold a tag is a cut file. */
static env_err run_chunk(void *arg, unsigned worker, uint64_t index, int last, const uint8_t *in,
                         size_t len, uint8_t *out, size_t *out_len)
{
    env_run *r = arg;
    env_chunker *c = r->chunkers[worker];

    if (r->enc) {
        *out_len = len + ENV_TAG_BYTES;
        return env_chunk_seal(c, index, last, in, len, out) ? ENV_OK : ENV_E_CRYPTO;
    }
    if (len < ENV_TAG_BYTES)
        return len == 0 ? ENV_E_TRUNCATED : ENV_E_AUTH;
    *out_len = len - ENV_TAG_BYTES;
    return env_chunk_open(c, index, last, in, len, out) ? ENV_OK : ENV_E_AUTH;
}

static void run_free(env_run *r)
{
    for (unsigned i = 0; r->chunkers != NULL && i < r->workers; i++)
        env_chunker_free(r->chunkers[i]);
    OPENSSL_free(r->chunkers);
    memset(r, 0, sizeof(*r));
}

/* Streams the body: chunks of chunk_bytes of plaintext, each followed by its tag. */
static env_err run_stream(const env_stream_opts *o, const env_file_keys *keys, uint32_t chunk_bytes,
                          int enc, int in_fd, int out_fd)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    env_run r = {.enc = enc};
    env_pipeline_cfg cfg = {
        .record_bytes = chunk_bytes + (enc ? 0 : ENV_TAG_BYTES),
        .out_record_bytes = chunk_bytes + (enc ? ENV_TAG_BYTES : 0),
        .out_max_bytes = chunk_bytes + (enc ? ENV_TAG_BYTES : 0),
        .max_inflight_bytes = ENV_MAX_INFLIGHT_BYTES,
        .fn = run_chunk,
        .arg = &r,
        .progress = o->progress,
        .progress_arg = o->progress_arg,
    };
    env_err e = ENV_E_NOMEM;

    r.workers = o->threads ? o->threads : (cpus > 0 ? (unsigned)cpus : 1);
    cfg.workers = r.workers;
    cfg.spin = cpus > 1;
    cfg.reserve = o->reserve_out;
    if ((r.chunkers = OPENSSL_zalloc(r.workers * sizeof(*r.chunkers))) == NULL)
        goto end;
    e = ENV_E_CRYPTO;
    for (unsigned i = 0; i < r.workers; i++)
        if ((r.chunkers[i] = env_chunker_new(o->libctx, o->propq, keys)) == NULL)
            goto end;
    e = env_pipeline_run(&cfg, in_fd, out_fd);
end:
    run_free(&r);
    return e;
}

env_err env_stream_encrypt(const env_stream_opts *o, env_header *h,
                           const uint8_t ikm[ENV_KEY_BYTES], int in_fd, int out_fd)
{
    env_file_keys *keys = env_secret_new(sizeof(*keys));
    env_buf raw = {0};
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
    if (!env_fd_write(out_fd, raw.data, raw.len)) {
        e = ENV_E_WRITE;
        goto end;
    }
    e = run_stream(o, keys, h->chunk_bytes, 1, in_fd, out_fd);
end:
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
    if (!env_fd_read(in_fd, prefix, ENV_FIXED_PREFIX_BYTES, &got))
        return ENV_E_READ;
    *herr = env_header_parse(prefix, got, h, &used);
    if (*herr != ENV_HDR_TRUNCATED || got < ENV_FIXED_PREFIX_BYTES)
        return ENV_E_HEADER;
    total = (size_t)prefix[5] << 24 | (size_t)prefix[6] << 16 | (size_t)prefix[7] << 8 | prefix[8];
    if ((rest = env_buf_extend(raw, total - ENV_FIXED_PREFIX_BYTES)) == NULL)
        return ENV_E_NOMEM;
    if (!env_fd_read(in_fd, rest, total - ENV_FIXED_PREFIX_BYTES, &got))
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
    e = run_stream(o, keys, h->chunk_bytes, 0, in_fd, out_fd);
end:
    env_secret_free(keys, sizeof(*keys));
    return e;
}
