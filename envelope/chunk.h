/*
 * chunk.h - sealing and opening one chunk of a cmk file body (AES-256-GCM, SP 800-38D).
 *
 * Chunk i of a file is AES-256-GCM under the file's data key with the 96-bit nonce
 *     nonce prefix (4 bytes) || i (7 bytes, big-endian) || last flag (1 byte: 0 or 1)
 * and no AAD; on disk it is the ciphertext followed by its 16-byte tag. Every chunk but the
 * last carries exactly chunk_bytes of plaintext; the last carries 0..chunk_bytes-1 and the flag
 * 1, so a file cut at any point, chunks reordered, duplicated, or taken from another file (other
 * key, other prefix) all fail to open (the STREAM construction).
 *
 * An env_chunker keeps one cipher context with the key schedule set once; each thread that
 * seals or opens chunks owns one.
 */
#ifndef CMK_ENV_CHUNK_H
#define CMK_ENV_CHUNK_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/types.h>
#include "keys.h"

#define ENV_TAG_BYTES       16
#define ENV_NONCE_BYTES     12
#define ENV_MAX_CHUNK_INDEX ((UINT64_C(1) << 56) - 1)

typedef struct env_chunker env_chunker;

/* The AES-256-GCM implementation is fetched from libctx with propq (cmk's own where it is
 * loaded and chosen). Copies what it needs of keys. */
env_chunker *env_chunker_new(OSSL_LIB_CTX *libctx, const char *propq, const env_file_keys *keys);
void env_chunker_free(env_chunker *c); /* wipes the key schedule */

/* out receives len + ENV_TAG_BYTES bytes. */
int env_chunk_seal(env_chunker *c, uint64_t index, int last, const uint8_t *in, size_t len,
                   uint8_t *out);

/* in holds the ciphertext and its tag (len >= ENV_TAG_BYTES); out receives len - ENV_TAG_BYTES
 * bytes, released only if the tag checks: on failure out is wiped and 0 returned. */
int env_chunk_open(env_chunker *c, uint64_t index, int last, const uint8_t *in, size_t len,
                   uint8_t *out);

#endif
