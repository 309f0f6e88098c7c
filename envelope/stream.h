/*
 * stream.h - encrypting and decrypting a whole cmk file between two file descriptors, in
 * constant memory, with the chunks sealed or opened on several threads and written in order.
 *
 * Encryption: the caller gives a header with everything but the salt and the commitment (key
 * name and version, wrap algorithm, wrapped intermediate key, chunk size, context) and the
 * intermediate key itself; env_stream_encrypt draws the salt, derives the file's keys, writes
 * the header and then the chunks.
 *
 * Decryption is two steps, because the intermediate key must be unwrapped (in the token) with
 * the CMK the header names: env_stream_header_read reads and parses the header, then
 * env_stream_decrypt checks the key commitment and opens the chunks.
 *
 * Rewrapping replaces only the header's wrap section (env_header_encode of the same header
 * with a new key name, version and wrapped key); the body stays valid as it is. Chunks are
 * written in order, each only after its tag and the tags of all chunks before it checked; on a
 * failure nothing from the failing chunk on is written. The last chunk's check comes last: a
 * caller writing to a file must keep the output under a temporary name until ENV_OK, and one
 * writing to a pipe must report failure after the fact (docs/format.md).
 *
 * Reading, the cipher and writing overlap (pipeline.h): `threads` workers (the caller's thread
 * among them) each read a chunk in order, seal or open it in place, and write it in order.
 *
 * Memory: one chunk buffer (plus its tag) per thread, and never more than two of the largest
 * chunks (16 MiB) the format allows, whatever the size of the file. Buffers holding plaintext are
 * wiped before they are freed.
 */
#ifndef CMK_ENV_STREAM_H
#define CMK_ENV_STREAM_H

#include <stdint.h>
#include <openssl/types.h>
#include "header.h"
#include "keys.h"

typedef enum env_err {
    ENV_OK = 0,
    ENV_E_READ,      /* reading the input failed (errno says why) */
    ENV_E_WRITE,     /* writing the output failed (errno says why) */
    ENV_E_HEADER,    /* the header is malformed: see the env_header_err */
    ENV_E_COMMIT,    /* the key commitment does not match: wrong key, or a changed header */
    ENV_E_AUTH,      /* a chunk failed authentication: the file was changed */
    ENV_E_TRUNCATED, /* the file ends before its last chunk */
    ENV_E_CRYPTO,    /* the cipher or KDF could not be set up */
    ENV_E_NOMEM,
} env_err;

const char *env_err_str(env_err e);

typedef struct env_stream_opts {
    OSSL_LIB_CTX *libctx; /* for AES-256-GCM, HKDF, SHA-256 and the salt's RNG; NULL: default */
    const char *propq;
    unsigned threads; /* 0: one per online CPU */
    /* out_fd is a new file the caller deletes if the call fails: its blocks may be reserved
     * ahead (pipeline.h), which is faster on ext4 and fails a full filesystem at once. */
    int reserve_out;
    /* Called after each chunk written, with the input bytes consumed so far: in order, never
     * concurrently, possibly from a worker thread; may be NULL. */
    void (*progress)(void *arg, uint64_t bytes_in);
    void *progress_arg;
} env_stream_opts;

/* On ENV_OK, h->salt and h->commitment hold the values written. ikm is not kept. */
env_err env_stream_encrypt(const env_stream_opts *o, env_header *h,
                           const uint8_t ikm[ENV_KEY_BYTES], int in_fd, int out_fd);

/* Reads exactly the header from in_fd (nothing past it). raw (empty on entry) receives the
 * header's bytes (for rewrap, which copies the body after them). On ENV_E_HEADER,
 * *herr says what is wrong (ENV_HDR_TRUNCATED: the file ends inside its header). */
env_err env_stream_header_read(int in_fd, env_header *h, env_buf *raw, env_header_err *herr);

/* Continues reading in_fd after the header. */
env_err env_stream_decrypt(const env_stream_opts *o, const env_header *h,
                           const uint8_t ikm[ENV_KEY_BYTES], int in_fd, int out_fd);

#endif
