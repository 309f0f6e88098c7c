/*
 * cipher_aes_gcm.c - AES-128/192/256-GCM for EVP, on the back end of cipher_aes_gcm_hw.h.
 *
 * The EVP contract is OpenSSL 3.0's own GCM (providers/implementations/ciphers/
 * ciphercommon_gcm.c), so that an application sees no difference but speed: the same
 * parameters, the same IV states, the TLS 1.2 record path (RFC 5288: 4-byte fixed IV from the
 * handshake, 8-byte explicit nonce in each record) and the same refusals. See docs/aes-gcm.md.
 *
 * The back end takes the whole AAD when a message starts, while EVP feeds AAD in pieces before
 * the data: the pieces are collected here and handed over at the first data update or final.
 * Decryption writes plaintext in update and checks the tag in final (EVP's contract); the
 * envelope layer releases nothing before final succeeds.
 *
 * A context is used by one thread at a time (EVP's rule); contexts share only the read-only
 * back-end table.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include "prov_algs.h"
#include "cipher_aes_gcm.h"
#include "cipher_aes_gcm_hw.h"

static OSSL_FUNC_cipher_newctx_fn gcm_newctx_128;
static OSSL_FUNC_cipher_newctx_fn gcm_newctx_192;
static OSSL_FUNC_cipher_newctx_fn gcm_newctx_256;
static OSSL_FUNC_cipher_freectx_fn gcm_freectx;
static OSSL_FUNC_cipher_dupctx_fn gcm_dupctx;
static OSSL_FUNC_cipher_encrypt_init_fn gcm_encrypt_init;
static OSSL_FUNC_cipher_decrypt_init_fn gcm_decrypt_init;
static OSSL_FUNC_cipher_update_fn gcm_update;
static OSSL_FUNC_cipher_final_fn gcm_final;
static OSSL_FUNC_cipher_cipher_fn gcm_cipher;
static OSSL_FUNC_cipher_get_params_fn gcm_get_params_128;
static OSSL_FUNC_cipher_get_params_fn gcm_get_params_192;
static OSSL_FUNC_cipher_get_params_fn gcm_get_params_256;
static OSSL_FUNC_cipher_gettable_params_fn gcm_gettable_params;

/* The back end's context holds the key schedule and GHASH tables. In the secure heap when the
 * application made one (mlock'ed, MADV_DONTDUMP; its power-of-two blocks are aligned to their
 * size, enough for the back end's alignment), else aligned ordinary memory; wiped either way. */
static void *gcm_hctx_new(size_t n)
{
    void *p = NULL;

    if (CRYPTO_secure_malloc_initialized()) {
        p = OPENSSL_secure_zalloc(n);
        if (p != NULL && ((uintptr_t)p % CMK_GCM_HW_ALIGN_BYTES) == 0)
            return p;
        OPENSSL_secure_free(p);
    }
    if (posix_memalign(&p, CMK_GCM_HW_ALIGN_BYTES, n) != 0)
        return NULL;
    memset(p, 0, n);
    return p;
}

static void gcm_hctx_free(void *p, size_t n)
{
    if (p == NULL)
        return;
    if (CRYPTO_secure_allocated(p)) {
        OPENSSL_secure_clear_free(p, n);
        return;
    }
    OPENSSL_cleanse(p, n);
    free(p);
}

static CMK_GCM_CTX *gcm_newctx(void *provctx, size_t keylen)
{
    const CMK_GCM_HW *hw = cmk_gcm_hw_get();
    CMK_GCM_CTX *ctx;

    /* The key schedule and GHASH tables live here: in the secure heap (mlock'ed, not dumped)
     * when the application made one, else the ordinary heap; wiped either way. */
    if (hw == NULL || (ctx = OPENSSL_secure_zalloc(sizeof(*ctx))) == NULL)
        return NULL;
    ctx->prov = provctx;
    ctx->hw = hw;
    ctx->keylen = keylen;
    ctx->ivlen = CMK_GCM_IV_DEFAULT_BYTES;
    ctx->taglen = CMK_GCM_UNSET;
    ctx->tls_aad_len = CMK_GCM_UNSET;
    ctx->aad = ctx->aad_inline;
    ctx->aad_cap = sizeof(ctx->aad_inline);
    if ((ctx->hctx = gcm_hctx_new(ctx->hw->ctx_bytes)) == NULL) {
        OPENSSL_secure_free(ctx);
        return NULL;
    }
    return ctx;
}

static void *gcm_newctx_128(void *provctx)
{
    return gcm_newctx(provctx, 16);
}

static void *gcm_newctx_192(void *provctx)
{
    return gcm_newctx(provctx, 24);
}

static void *gcm_newctx_256(void *provctx)
{
    return gcm_newctx(provctx, 32);
}

/* The key schedule, GHASH tables, IVs, tag and AAD are wiped before the memory goes back. */
static void gcm_freectx(void *vctx)
{
    CMK_GCM_CTX *ctx = vctx;

    if (ctx == NULL)
        return;
    gcm_hctx_free(ctx->hctx, ctx->hw->ctx_bytes);
    if (ctx->aad != ctx->aad_inline)
        OPENSSL_clear_free(ctx->aad, ctx->aad_cap);
    OPENSSL_secure_clear_free(ctx, sizeof(*ctx));
}

static void *gcm_dupctx(void *vctx)
{
    const CMK_GCM_CTX *src = vctx;
    CMK_GCM_CTX *ctx;

    if ((ctx = OPENSSL_secure_malloc(sizeof(*ctx))) == NULL)
        return NULL;
    memcpy(ctx, src, sizeof(*ctx));
    ctx->hctx = NULL;
    /* Re-point what pointed into src: the AAD buffer is inline or its own heap copy. */
    if (src->aad == src->aad_inline) {
        ctx->aad = ctx->aad_inline;
    } else if ((ctx->aad = OPENSSL_memdup(src->aad, src->aad_cap)) == NULL) {
        ctx->aad = ctx->aad_inline;
        goto err;
    }
    if ((ctx->hctx = gcm_hctx_new(src->hw->ctx_bytes)) == NULL)
        goto err;
    memcpy(ctx->hctx, src->hctx, src->hw->ctx_bytes);
    return ctx;
err:
    gcm_freectx(ctx);
    return NULL;
}

/* EVP_CipherInit: a new key and/or a new IV; either may be absent (reinit keeps the other). */
static int gcm_init(CMK_GCM_CTX *ctx, const unsigned char *key, size_t keylen,
                    const unsigned char *iv, size_t ivlen, const OSSL_PARAM params[], int enc)
{
    ctx->enc = enc;
    if (iv != NULL) {
        if (ivlen == 0 || ivlen > CMK_GCM_IV_MAX_BYTES) {
            CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "GCM IV of %zu bytes", ivlen);
            return 0;
        }
        ctx->ivlen = ivlen;
        memcpy(ctx->iv, iv, ivlen);
        ctx->iv_state = CMK_GCM_IV_BUFFERED;
    }
    if (key != NULL) {
        if (keylen != ctx->keylen) {
            CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "AES-GCM key of %zu bytes, want %zu", keylen,
                    ctx->keylen);
            return 0;
        }
        /* The same key again (EVP callers often pass key and IV on every init) keeps its
         * schedule: the VAES GHASH table costs 48 multiplications, about 0.25 us. */
        if (!ctx->key_set || CRYPTO_memcmp(key, ctx->key, keylen) != 0) {
            if (!ctx->hw->key_init(ctx->hctx, key, keylen)) {
                CMK_ERR(ctx->prov, CMK_R_INTERNAL, "AES-GCM key schedule");
                return 0;
            }
            memcpy(ctx->key, key, keylen);
        }
        ctx->key_set = 1;
        ctx->tls_enc_records = 0;
    }
    return cmk_gcm_set_ctx_params(ctx, params);
}

static int gcm_encrypt_init(void *vctx, const unsigned char *key, size_t keylen,
                            const unsigned char *iv, size_t ivlen, const OSSL_PARAM params[])
{
    return gcm_init(vctx, key, keylen, iv, ivlen, params, 1);
}

static int gcm_decrypt_init(void *vctx, const unsigned char *key, size_t keylen,
                            const unsigned char *iv, size_t ivlen, const OSSL_PARAM params[])
{
    return gcm_init(vctx, key, keylen, iv, ivlen, params, 0);
}

void cmk_gcm_msg_init(CMK_GCM_CTX *ctx)
{
    memcpy(ctx->msg_iv, ctx->iv, ctx->ivlen);
    ctx->msg_ivlen = ctx->ivlen;
    ctx->aad_len = 0;
    ctx->data_started = 0;
    ctx->data_bytes = 0;
    ctx->iv_state = CMK_GCM_IV_COPIED;
}

/* AAD pieces wait here for the first data update (the back end takes the AAD whole). */
static int gcm_aad_add(CMK_GCM_CTX *ctx, const unsigned char *in, size_t len)
{
    size_t cap = ctx->aad_cap;
    unsigned char *p;

    if (ctx->data_started) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "GCM AAD after data");
        return 0;
    }
    if (len > SIZE_MAX / 2 - ctx->aad_len) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "GCM AAD too long");
        return 0;
    }
    while (cap < ctx->aad_len + len)
        cap *= 2;
    if (cap != ctx->aad_cap) {
        if ((p = OPENSSL_malloc(cap)) == NULL)
            return 0;
        memcpy(p, ctx->aad, ctx->aad_len);
        if (ctx->aad != ctx->aad_inline)
            OPENSSL_clear_free(ctx->aad, ctx->aad_cap);
        else
            OPENSSL_cleanse(ctx->aad_inline, sizeof(ctx->aad_inline));
        ctx->aad = p;
        ctx->aad_cap = cap;
    }
    memcpy(ctx->aad + ctx->aad_len, in, len);
    ctx->aad_len += len;
    return 1;
}

static void gcm_data_start(CMK_GCM_CTX *ctx)
{
    if (ctx->data_started)
        return;
    ctx->hw->iv_init(ctx->hctx, ctx->msg_iv, ctx->msg_ivlen, ctx->aad, ctx->aad_len);
    ctx->data_started = 1;
}

static int gcm_data_run(CMK_GCM_CTX *ctx, unsigned char *out, const unsigned char *in, size_t len)
{
    /* SP 800-38D 5.2.1.1: at most 2^39 - 256 bits of plaintext under one IV. */
    if (len > CMK_GCM_MAX_DATA_BYTES - ctx->data_bytes) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "GCM message longer than 2^36 - 32 bytes");
        return 0;
    }
    ctx->data_bytes += len;
    gcm_data_start(ctx);
    if (ctx->enc)
        ctx->hw->encrypt_update(ctx->hctx, out, in, len);
    else
        ctx->hw->decrypt_update(ctx->hctx, out, in, len);
    return 1;
}

/* Encryption keeps the full tag for get_ctx_params; decryption compares the first taglen
 * bytes in constant time. */
static int gcm_tag_final(CMK_GCM_CTX *ctx)
{
    unsigned char tag[CMK_GCM_TAG_BYTES];
    int ok = 1;

    gcm_data_start(ctx);
    ctx->hw->final(ctx->hctx, tag);
    if (ctx->enc) {
        memcpy(ctx->tag, tag, sizeof(tag));
        ctx->taglen = CMK_GCM_TAG_BYTES;
    } else if (CRYPTO_memcmp(tag, ctx->tag, ctx->taglen) != 0) {
        CMK_ERR(ctx->prov, CMK_R_BAD_TAG, "AES-GCM tag mismatch");
        ok = 0;
    }
    OPENSSL_cleanse(tag, sizeof(tag));
    return ok;
}

/* SP 800-38D 8.2.2: an encryption without an IV gets a random 96-bit-or-longer one. */
static int gcm_iv_generate(CMK_GCM_CTX *ctx)
{
    if (ctx->ivlen < CMK_GCM_IV_DEFAULT_BYTES ||
        RAND_bytes_ex(ctx->prov->libctx, ctx->iv, ctx->ivlen, 0) <= 0)
        return 0;
    ctx->iv_state = CMK_GCM_IV_BUFFERED;
    ctx->iv_gen_rand = 1;
    return 1;
}

/* One step of a message: AAD (out == NULL), data, or the end (in == NULL). */
static int gcm_run(CMK_GCM_CTX *ctx, unsigned char *out, size_t *outl, const unsigned char *in,
                   size_t len)
{
    *outl = 0;
    if (ctx->tls_aad_len != CMK_GCM_UNSET)
        return cmk_gcm_tls_update(ctx, out, outl, in, len);
    if (!ctx->key_set || ctx->iv_state == CMK_GCM_IV_FINISHED) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "AES-GCM without a key or a fresh IV");
        return 0;
    }
    if (ctx->iv_state == CMK_GCM_IV_UNSET && (!ctx->enc || !gcm_iv_generate(ctx))) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "AES-GCM without an IV");
        return 0;
    }
    if (ctx->iv_state == CMK_GCM_IV_BUFFERED)
        cmk_gcm_msg_init(ctx);
    if (in != NULL) {
        if (out == NULL ? !gcm_aad_add(ctx, in, len) : !gcm_data_run(ctx, out, in, len))
            return 0;
        *outl = len;
        return 1;
    }
    if (!ctx->enc && ctx->taglen == CMK_GCM_UNSET) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "AES-GCM decryption without a tag");
        return 0;
    }
    /* The IV is spent whether or not the tag matched: never reuse it. */
    ctx->iv_state = CMK_GCM_IV_FINISHED;
    return gcm_tag_final(ctx);
}

static int gcm_update(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
                      const unsigned char *in, size_t inl)
{
    CMK_GCM_CTX *ctx = vctx;

    if (inl == 0) {
        *outl = 0;
        return 1;
    }
    if (outsize < inl) {
        CMK_ERR(ctx->prov, CMK_R_BUFFER_TOO_SMALL, "%zu bytes of room for %zu", outsize, inl);
        return 0;
    }
    return gcm_run(ctx, out, outl, in, inl);
}

static int gcm_final(void *vctx, unsigned char *out, size_t *outl, size_t outsize)
{
    (void)outsize;
    if (!gcm_run(vctx, out, outl, NULL, 0))
        return 0;
    *outl = 0;
    return 1;
}

/* EVP_Cipher: one call per piece, in == NULL ends the message (libssl uses update instead). */
static int gcm_cipher(void *vctx, unsigned char *out, size_t *outl, size_t outsize,
                      const unsigned char *in, size_t inl)
{
    CMK_GCM_CTX *ctx = vctx;

    if (outsize < inl) {
        CMK_ERR(ctx->prov, CMK_R_BUFFER_TOO_SMALL, "%zu bytes of room for %zu", outsize, inl);
        return 0;
    }
    if (!gcm_run(ctx, out, outl, in, inl))
        return 0;
    *outl = inl;
    return 1;
}

static int gcm_get_params(OSSL_PARAM params[], size_t keylen)
{
    static const struct {
        const char *name;
        size_t value;
    } sizes[] = {
        {OSSL_CIPHER_PARAM_IVLEN, CMK_GCM_IV_DEFAULT_BYTES},
        {OSSL_CIPHER_PARAM_BLOCK_SIZE, 1},
    };
    static const struct {
        const char *name;
        int value;
    } flags[] = {
        {OSSL_CIPHER_PARAM_AEAD, 1},         {OSSL_CIPHER_PARAM_CUSTOM_IV, 1},
        {OSSL_CIPHER_PARAM_CTS, 0},          {OSSL_CIPHER_PARAM_TLS1_MULTIBLOCK, 0},
        {OSSL_CIPHER_PARAM_HAS_RAND_KEY, 0},
    };
    OSSL_PARAM *p;

    p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_MODE);
    if (p != NULL && !OSSL_PARAM_set_uint(p, EVP_CIPH_GCM_MODE))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_CIPHER_PARAM_KEYLEN);
    if (p != NULL && !OSSL_PARAM_set_size_t(p, keylen))
        return 0;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        p = OSSL_PARAM_locate(params, sizes[i].name);
        if (p != NULL && !OSSL_PARAM_set_size_t(p, sizes[i].value))
            return 0;
    }
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        p = OSSL_PARAM_locate(params, flags[i].name);
        if (p != NULL && !OSSL_PARAM_set_int(p, flags[i].value))
            return 0;
    }
    return 1;
}

static int gcm_get_params_128(OSSL_PARAM params[])
{
    return gcm_get_params(params, 16);
}

static int gcm_get_params_192(OSSL_PARAM params[])
{
    return gcm_get_params(params, 24);
}

static int gcm_get_params_256(OSSL_PARAM params[])
{
    return gcm_get_params(params, 32);
}

static const OSSL_PARAM *gcm_gettable_params(void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_uint(OSSL_CIPHER_PARAM_MODE, NULL),
        OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_KEYLEN, NULL),
        OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_IVLEN, NULL),
        OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_BLOCK_SIZE, NULL),
        OSSL_PARAM_int(OSSL_CIPHER_PARAM_AEAD, NULL),
        OSSL_PARAM_int(OSSL_CIPHER_PARAM_CUSTOM_IV, NULL),
        OSSL_PARAM_int(OSSL_CIPHER_PARAM_CTS, NULL),
        OSSL_PARAM_int(OSSL_CIPHER_PARAM_TLS1_MULTIBLOCK, NULL),
        OSSL_PARAM_int(OSSL_CIPHER_PARAM_HAS_RAND_KEY, NULL),
        OSSL_PARAM_END,
    };

    (void)provctx;
    return gettable;
}

static const OSSL_DISPATCH gcm_dispatch_256[] = {
    {OSSL_FUNC_CIPHER_NEWCTX, (void (*)(void))gcm_newctx_256},
    {OSSL_FUNC_CIPHER_FREECTX, (void (*)(void))gcm_freectx},
    {OSSL_FUNC_CIPHER_DUPCTX, (void (*)(void))gcm_dupctx},
    {OSSL_FUNC_CIPHER_ENCRYPT_INIT, (void (*)(void))gcm_encrypt_init},
    {OSSL_FUNC_CIPHER_DECRYPT_INIT, (void (*)(void))gcm_decrypt_init},
    {OSSL_FUNC_CIPHER_UPDATE, (void (*)(void))gcm_update},
    {OSSL_FUNC_CIPHER_FINAL, (void (*)(void))gcm_final},
    {OSSL_FUNC_CIPHER_CIPHER, (void (*)(void))gcm_cipher},
    {OSSL_FUNC_CIPHER_GET_PARAMS, (void (*)(void))gcm_get_params_256},
    {OSSL_FUNC_CIPHER_GETTABLE_PARAMS, (void (*)(void))gcm_gettable_params},
    {OSSL_FUNC_CIPHER_GET_CTX_PARAMS, (void (*)(void))cmk_gcm_get_ctx_params},
    {OSSL_FUNC_CIPHER_SET_CTX_PARAMS, (void (*)(void))cmk_gcm_set_ctx_params},
    {OSSL_FUNC_CIPHER_GETTABLE_CTX_PARAMS, (void (*)(void))cmk_gcm_gettable_ctx_params},
    {OSSL_FUNC_CIPHER_SETTABLE_CTX_PARAMS, (void (*)(void))cmk_gcm_settable_ctx_params},
    {0, NULL},
};

static const OSSL_DISPATCH gcm_dispatch_192[] = {
    {OSSL_FUNC_CIPHER_NEWCTX, (void (*)(void))gcm_newctx_192},
    {OSSL_FUNC_CIPHER_FREECTX, (void (*)(void))gcm_freectx},
    {OSSL_FUNC_CIPHER_DUPCTX, (void (*)(void))gcm_dupctx},
    {OSSL_FUNC_CIPHER_ENCRYPT_INIT, (void (*)(void))gcm_encrypt_init},
    {OSSL_FUNC_CIPHER_DECRYPT_INIT, (void (*)(void))gcm_decrypt_init},
    {OSSL_FUNC_CIPHER_UPDATE, (void (*)(void))gcm_update},
    {OSSL_FUNC_CIPHER_FINAL, (void (*)(void))gcm_final},
    {OSSL_FUNC_CIPHER_CIPHER, (void (*)(void))gcm_cipher},
    {OSSL_FUNC_CIPHER_GET_PARAMS, (void (*)(void))gcm_get_params_192},
    {OSSL_FUNC_CIPHER_GETTABLE_PARAMS, (void (*)(void))gcm_gettable_params},
    {OSSL_FUNC_CIPHER_GET_CTX_PARAMS, (void (*)(void))cmk_gcm_get_ctx_params},
    {OSSL_FUNC_CIPHER_SET_CTX_PARAMS, (void (*)(void))cmk_gcm_set_ctx_params},
    {OSSL_FUNC_CIPHER_GETTABLE_CTX_PARAMS, (void (*)(void))cmk_gcm_gettable_ctx_params},
    {OSSL_FUNC_CIPHER_SETTABLE_CTX_PARAMS, (void (*)(void))cmk_gcm_settable_ctx_params},
    {0, NULL},
};

static const OSSL_DISPATCH gcm_dispatch_128[] = {
    {OSSL_FUNC_CIPHER_NEWCTX, (void (*)(void))gcm_newctx_128},
    {OSSL_FUNC_CIPHER_FREECTX, (void (*)(void))gcm_freectx},
    {OSSL_FUNC_CIPHER_DUPCTX, (void (*)(void))gcm_dupctx},
    {OSSL_FUNC_CIPHER_ENCRYPT_INIT, (void (*)(void))gcm_encrypt_init},
    {OSSL_FUNC_CIPHER_DECRYPT_INIT, (void (*)(void))gcm_decrypt_init},
    {OSSL_FUNC_CIPHER_UPDATE, (void (*)(void))gcm_update},
    {OSSL_FUNC_CIPHER_FINAL, (void (*)(void))gcm_final},
    {OSSL_FUNC_CIPHER_CIPHER, (void (*)(void))gcm_cipher},
    {OSSL_FUNC_CIPHER_GET_PARAMS, (void (*)(void))gcm_get_params_128},
    {OSSL_FUNC_CIPHER_GETTABLE_PARAMS, (void (*)(void))gcm_gettable_params},
    {OSSL_FUNC_CIPHER_GET_CTX_PARAMS, (void (*)(void))cmk_gcm_get_ctx_params},
    {OSSL_FUNC_CIPHER_SET_CTX_PARAMS, (void (*)(void))cmk_gcm_set_ctx_params},
    {OSSL_FUNC_CIPHER_GETTABLE_CTX_PARAMS, (void (*)(void))cmk_gcm_gettable_ctx_params},
    {OSSL_FUNC_CIPHER_SETTABLE_CTX_PARAMS, (void (*)(void))cmk_gcm_settable_ctx_params},
    {0, NULL},
};

/* Names and OIDs as OpenSSL's default provider spells them: libssl fetches by short name
 * (id-aes256-GCM), applications mostly by AES-256-GCM. */
static const OSSL_ALGORITHM gcm_algorithms[] = {
    {"AES-256-GCM:id-aes256-GCM:2.16.840.1.101.3.4.1.46", "provider=cmk", gcm_dispatch_256,
     "AES-256-GCM on intel-ipsec-mb"},
    {"AES-192-GCM:id-aes192-GCM:2.16.840.1.101.3.4.1.26", "provider=cmk", gcm_dispatch_192,
     "AES-192-GCM on intel-ipsec-mb"},
    {"AES-128-GCM:id-aes128-GCM:2.16.840.1.101.3.4.1.6", "provider=cmk", gcm_dispatch_128,
     "AES-128-GCM on intel-ipsec-mb"},
    {NULL, NULL, NULL, NULL},
};

const OSSL_ALGORITHM *cmk_cipher_algorithms(CMK_PROV *prov)
{
    (void)prov;
    /* The back end is chosen once per process; every context of every instance shares it. */
    return cmk_gcm_hw_get() != NULL ? gcm_algorithms : NULL;
}
