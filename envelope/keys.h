/*
 * keys.h - the per-file keys derived from the intermediate key (RFC 5869 HKDF-SHA256).
 *
 *   OKM = HKDF-SHA256(IKM  = intermediate key (32 bytes, unwrapped by the CMK),
 *                     salt = the header's per-file salt,
 *                     info = "cmk file v1" || SHA-256(the header's bound section),
 *                     L    = 32 + 32 + 4)
 *   data key = OKM[0..32), commitment = OKM[32..64), nonce prefix = OKM[64..68)
 *
 * Because the bound section's hash is in info, changing its bytes (salt, chunk size, context)
 * changes the data key and the commitment; because the commitment is stored and checked before
 * any chunk is opened, one ciphertext can never decrypt under two keys (key commitment). The
 * wrap section is left out so that rewrapping under another CMK version keeps the body valid.
 *
 * Thread safety: pure functions.
 */
#ifndef CMK_ENV_KEYS_H
#define CMK_ENV_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/types.h>
#include "header.h"

#define ENV_KEY_BYTES          32
#define ENV_NONCE_PREFIX_BYTES 4

typedef struct env_file_keys {
    uint8_t data_key[ENV_KEY_BYTES];
    uint8_t commitment[ENV_COMMIT_BYTES];
    uint8_t nonce_prefix[ENV_NONCE_PREFIX_BYTES];
} env_file_keys;

/* h: the header (its bound section is hashed). HKDF and SHA-256 are fetched from libctx with
 * propq (NULL for the defaults). On failure out is wiped. */
int env_file_keys_derive(OSSL_LIB_CTX *libctx, const char *propq,
                         const uint8_t intermediate[ENV_KEY_BYTES], const env_header *h,
                         env_file_keys *out);

/* 1 when the header's commitment matches keys (constant time). */
int env_file_keys_check(const env_file_keys *keys, const uint8_t commitment[ENV_COMMIT_BYTES]);

void env_file_keys_wipe(env_file_keys *keys);

#endif
