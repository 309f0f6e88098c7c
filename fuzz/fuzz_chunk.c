/*
 * fuzz_chunk.c - the chunk decoder (envelope/chunk.c) and the whole-file decoder
 * (envelope/stream.c) over untrusted bytes, under one fixed file key.
 *
 * Input: byte 0 = mode, bytes 1..8 = a chunk index (big-endian), the rest = payload.
 *   - env_chunk_open of the payload as chunk <index>, last = mode bit 0: must fail (a forgery);
 *     the payload sealed then opened must come back, and must not open under the other last flag
 *     or the next index.
 *   - a file: a fixed valid header, then a body. Mode bit 1 clear: the body is the payload
 *     itself (must not open). Set: the body is the payload sealed chunk by chunk as
 *     docs/format.md says, which must decrypt to the payload; mode bit 2 then flips one bit
 *     of it, mode bit 3 cuts it short, and either must be refused. Mode bit 7 decrypts on three
 *     threads (batches of six chunks) instead of one.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz_util.h"
#include "../envelope/chunk.h"
#include "../envelope/stream.h"

#define FUZZ_CHUNK_BYTES ENV_MIN_CHUNK_BYTES /* many chunks from small inputs */

static uint8_t ikm[ENV_KEY_BYTES];
static env_header hdr;
static env_buf hdr_raw;
static env_file_keys keys;
static env_chunker *chunker;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    memset(ikm, 0x42, sizeof(ikm));
    memset(hdr.salt, 0x5a, sizeof(hdr.salt));
    strcpy(hdr.key_name, "fuzz");
    strcpy(hdr.key_version, "1");
    hdr.wrap_alg = ENV_WRAP_RSA_OAEP_256;
    hdr.wrapped_len = 256;
    memset(hdr.wrapped, 1, hdr.wrapped_len);
    hdr.chunk_bytes = FUZZ_CHUNK_BYTES;
    FUZZ_CHECK(env_header_context_set(&hdr, "tenant", "fuzz"));
    FUZZ_CHECK(env_file_keys_derive(NULL, NULL, ikm, &hdr, &keys));
    memcpy(hdr.commitment, keys.commitment, ENV_COMMIT_BYTES);
    FUZZ_CHECK(env_header_encode(&hdr, &hdr_raw));
    FUZZ_CHECK((chunker = env_chunker_new(NULL, NULL, &keys)) != NULL);
    return 0;
}

static void chunk_open_forged(uint64_t index, int last, const uint8_t *in, size_t len)
{
    uint8_t *out = malloc(len > ENV_TAG_BYTES ? len - ENV_TAG_BYTES : 1);

    FUZZ_CHECK(!env_chunk_open(chunker, index, last, in, len, out));
    free(out);
}

static void chunk_round_trip(uint64_t index, int last, const uint8_t *pt, size_t len)
{
    uint8_t *ct = malloc(len + ENV_TAG_BYTES), *back = malloc(len > 0 ? len : 1);
    int sealed = env_chunk_seal(chunker, index, last, pt, len, ct);

    FUZZ_CHECK(sealed == (index <= ENV_MAX_CHUNK_INDEX && len <= ENV_MAX_CHUNK_BYTES));
    if (sealed) {
        FUZZ_CHECK(env_chunk_open(chunker, index, last, ct, len + ENV_TAG_BYTES, back));
        FUZZ_CHECK(len == 0 || memcmp(back, pt, len) == 0);
        FUZZ_CHECK(!env_chunk_open(chunker, index, !last, ct, len + ENV_TAG_BYTES, back));
        FUZZ_CHECK(!env_chunk_open(chunker, index + 1, last, ct, len + ENV_TAG_BYTES, back));
    }
    free(ct);
    free(back);
}

/* The payload as a file body: full chunks, then a last one shorter than a chunk. */
static uint8_t *body_seal(const uint8_t *pt, size_t len, size_t *body_len)
{
    size_t nchunks = len / FUZZ_CHUNK_BYTES + 1;
    uint8_t *body = malloc(len + nchunks * ENV_TAG_BYTES), *o = body;

    for (size_t i = 0; i < nchunks; i++) {
        size_t n = i + 1 < nchunks ? FUZZ_CHUNK_BYTES : len % FUZZ_CHUNK_BYTES;

        FUZZ_CHECK(env_chunk_seal(chunker, i, i + 1 == nchunks, pt, n, o));
        pt += n;
        o += n + ENV_TAG_BYTES;
    }
    *body_len = (size_t)(o - body);
    return body;
}

/* Decrypts header || body; the plaintext in *pt (caller frees) when ENV_OK. */
static env_err file_decrypt(const uint8_t *body, size_t body_len, unsigned threads, uint8_t **pt,
                            size_t *pt_len)
{
    env_stream_opts o = {.threads = threads};
    uint8_t *file = malloc(hdr_raw.len + body_len);
    int in, out;
    env_header h;
    env_header_err herr;
    env_buf raw = {0};
    env_err e;

    memcpy(file, hdr_raw.data, hdr_raw.len);
    if (body_len > 0)
        memcpy(file + hdr_raw.len, body, body_len);
    in = fuzz_fd_with(file, hdr_raw.len + body_len);
    out = fuzz_fd_with(NULL, 0);
    FUZZ_CHECK(env_stream_header_read(in, &h, &raw, &herr) == ENV_OK);
    e = env_stream_decrypt(&o, &h, ikm, in, out);
    *pt = e == ENV_OK ? fuzz_fd_read_all(out, pt_len) : NULL;
    env_buf_free(&raw);
    close(in);
    close(out);
    free(file);
    return e;
}

static void file_check(unsigned mode, uint64_t where, const uint8_t *payload, size_t len)
{
    uint8_t *body = NULL, *pt = NULL;
    size_t body_len = len, pt_len = 0;
    unsigned threads = mode & 0x80 ? 3 : 1;
    int must_open = 0;
    env_err e;

    if (!(mode & 2)) {
        e = file_decrypt(payload, len, threads, &pt, &pt_len);
        FUZZ_CHECK(e != ENV_OK);
        return;
    }
    body = body_seal(payload, len, &body_len);
    must_open = 1;
    if (mode & 4) {
        body[where % body_len] ^= (uint8_t)(1u << ((mode >> 4) & 7));
        must_open = 0;
    }
    if (mode & 8) {
        body_len = (size_t)(where % body_len);
        must_open = 0;
    }
    e = file_decrypt(body, body_len, threads, &pt, &pt_len);
    FUZZ_CHECK((e == ENV_OK) == must_open);
    if (must_open)
        FUZZ_CHECK(pt_len == len && (len == 0 || memcmp(pt, payload, len) == 0));
    free(pt);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t index = 0;
    unsigned mode;
    uint8_t *payload;
    size_t len;

    if (size < 9)
        return 0;
    mode = data[0];
    for (int i = 1; i < 9; i++)
        index = index << 8 | data[i];
    len = size - 9;
    /* an exact-size copy, so that a read past its end is caught */
    payload = malloc(len > 0 ? len : 1);
    memcpy(payload, data + 9, len);
    chunk_open_forged(index, mode & 1, payload, len);
    chunk_round_trip(index, mode & 1, payload, len);
    file_check(mode, index, payload, len);
    free(payload);
    return 0;
}
