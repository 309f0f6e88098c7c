/*
 * cipher_aes_gcm_hw.h - the table a GCM back end gives cipher_aes_gcm.c.
 *
 * A back end is one whole file that defines cmk_gcm_hw_get(); the Makefile compiles exactly
 * one: cipher_aes_gcm_hw_ipsecmb.c (intel-ipsec-mb, x86-64) where the library's header is
 * present, else cipher_aes_gcm_hw_none.c (no back end: the provider then offers no AES-GCM and
 * applications get OpenSSL's own).
 *
 * The table is read-only once returned and shared by every context of every thread. All
 * per-message state lives in a context block the caller owns: hw->ctx_bytes bytes, aligned to
 * CMK_GCM_HW_ALIGN_BYTES, made by key_init and wiped by the caller (OPENSSL_cleanse) before it
 * frees it. A context block holds no pointer into itself, so memcpy duplicates it.
 *
 * The calls of one message: iv_init (the whole IV and the whole AAD, SP 800-38D section 7.1
 * steps 1-4), then encrypt_update or decrypt_update any number of times with any lengths
 * (including 0), then final, which writes the full 16-byte tag (the caller truncates it:
 * SP 800-38D section 5.2.1.2 takes the leftmost bits). None of them fail: the caller has
 * checked lengths (IV >= 1 byte, key 16/24/32 bytes, data <= 2^36 - 32 bytes).
 */
#ifndef CMK_CIPHER_AES_GCM_HW_H
#define CMK_CIPHER_AES_GCM_HW_H

#include <stddef.h>
#include <stdint.h>

#define CMK_GCM_HW_ALIGN_BYTES 64
#define CMK_GCM_TAG_BYTES      16

typedef struct cmk_gcm_hw {
    const char *name; /* e.g. "intel-ipsec-mb 1.3.0 avx512", for logs and docs */
    size_t ctx_bytes; /* size of a context block */
    /* Expands key (keylen 16, 24 or 32 bytes) and its GHASH tables into hctx. 0 on a bad
     * length (nothing else can fail). */
    int (*key_init)(void *hctx, const uint8_t *key, size_t keylen);
    /* Starts a message: ivlen >= 1 bytes of IV (12 is the fast path), aadlen bytes of AAD
     * (aad may be NULL when aadlen is 0). Keeps the key. */
    void (*iv_init)(void *hctx, const uint8_t *iv, size_t ivlen, const uint8_t *aad, size_t aadlen);
    /* len bytes from in to out (may be equal; must not otherwise overlap). */
    void (*encrypt_update)(void *hctx, uint8_t *out, const uint8_t *in, size_t len);
    void (*decrypt_update)(void *hctx, uint8_t *out, const uint8_t *in, size_t len);
    /* Ends the message: the 16-byte tag over AAD and ciphertext. */
    void (*final)(void *hctx, uint8_t tag[CMK_GCM_TAG_BYTES]);
} CMK_GCM_HW;

/* The back end for this CPU, chosen once per process (thread-safe); NULL when the library or
 * the CPU (AES-NI, PCLMULQDQ) lacks what it needs. */
const CMK_GCM_HW *cmk_gcm_hw_get(void);

#endif
