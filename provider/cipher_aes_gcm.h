/*
 * cipher_aes_gcm.h - the AES-GCM cipher context, shared by cipher_aes_gcm.c (dispatch, message
 * state) and cipher_aes_gcm_params.c (OSSL_PARAMs and the TLS 1.2 record path).
 *
 * A context belongs to one EVP_CIPHER_CTX, used by one thread at a time; it owns its back-end
 * block (hctx) and its AAD buffer and wipes both, and itself, when freed.
 */
#ifndef CMK_CIPHER_AES_GCM_H
#define CMK_CIPHER_AES_GCM_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/core_dispatch.h>
#include "prov.h"
#include "cipher_aes_gcm_hw.h"

#define CMK_GCM_UNSET            ((size_t)-1)
#define CMK_GCM_IV_DEFAULT_BYTES 12
/* OpenSSL's own GCM stops at 128 bytes; we take any IV up to this (Wycheproof goes to 257). */
#define CMK_GCM_IV_MAX_BYTES     512
#define CMK_GCM_AAD_INLINE_BYTES 64
/* SP 800-38D 5.2.1.1: plaintext of one message <= 2^39 - 256 bits. */
#define CMK_GCM_MAX_DATA_BYTES ((UINT64_C(1) << 36) - 32)
/* RFC 5288 / TLS 1.2: 13 bytes of AAD, 4-byte fixed IV, 8-byte explicit nonce, 16-byte tag. */
#define CMK_GCM_TLS_AAD_BYTES      13
#define CMK_GCM_TLS_FIXED_BYTES    4
#define CMK_GCM_TLS_EXPLICIT_BYTES 8

/* The IV's life, as OpenSSL's GCM: none yet; given but no message started; a message running
 * under it; spent (final ran, or the IV length changed): a new IV is needed. */
enum cmk_gcm_iv_state {
    CMK_GCM_IV_UNSET = 0,
    CMK_GCM_IV_BUFFERED,
    CMK_GCM_IV_COPIED,
    CMK_GCM_IV_FINISHED,
};

typedef struct cmk_gcm_ctx {
    CMK_PROV *prov;
    const CMK_GCM_HW *hw;
    void *hctx; /* hw->ctx_bytes, CMK_GCM_HW_ALIGN_BYTES-aligned: key schedule, GHASH state */
    size_t keylen;
    unsigned char key[32]; /* the key of hctx, to skip a re-expansion of the same key */
    int enc;
    int key_set;
    enum cmk_gcm_iv_state iv_state;
    int iv_gen;      /* TLS: fixed IV set, the explicit part counts up */
    int iv_gen_rand; /* the IV was generated here */
    size_t ivlen;
    unsigned char iv[CMK_GCM_IV_MAX_BYTES];
    size_t msg_ivlen; /* the IV of the running message (iv may move on: TLS counter) */
    unsigned char msg_iv[CMK_GCM_IV_MAX_BYTES];

    unsigned char *aad; /* aad_inline or a heap buffer of aad_cap bytes */
    size_t aad_len, aad_cap;
    unsigned char aad_inline[CMK_GCM_AAD_INLINE_BYTES];
    int data_started; /* the back end has the IV and the AAD */
    uint64_t data_bytes;

    size_t taglen; /* CMK_GCM_UNSET, or 1..16 */
    unsigned char tag[CMK_GCM_TAG_BYTES];

    size_t tls_aad_len; /* CMK_GCM_UNSET, or 13 while a TLS record is pending */
    size_t tls_aad_pad;
    unsigned char tls_aad[CMK_GCM_TLS_AAD_BYTES];
    uint64_t tls_enc_records;
} CMK_GCM_CTX;

/* Starts a message under ctx->iv (copied to msg_iv): no AAD, no data yet. */
void cmk_gcm_msg_init(CMK_GCM_CTX *ctx);

/* One whole TLS 1.2 record in place (in == out): explicit nonce || payload || tag. Called by
 * update while a TLS AAD is set; 1 with *outl set, or 0 with the error raised. */
int cmk_gcm_tls_update(CMK_GCM_CTX *ctx, unsigned char *out, size_t *outl, const unsigned char *in,
                       size_t len);

OSSL_FUNC_cipher_get_ctx_params_fn cmk_gcm_get_ctx_params;
OSSL_FUNC_cipher_set_ctx_params_fn cmk_gcm_set_ctx_params;
OSSL_FUNC_cipher_gettable_ctx_params_fn cmk_gcm_gettable_ctx_params;
OSSL_FUNC_cipher_settable_ctx_params_fn cmk_gcm_settable_ctx_params;

#endif
