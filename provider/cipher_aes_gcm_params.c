/*
 * cipher_aes_gcm_params.c - the AES-GCM context's OSSL_PARAMs and the TLS 1.2 record path.
 *
 * Names, types and refusals are those of OpenSSL 3.0's own GCM, so EVP_CIPHER_CTX_ctrl's
 * mapping (EVP_CTRL_AEAD_SET_TAG, EVP_CTRL_AEAD_TLS1_AAD, EVP_CTRL_GCM_SET_IV_FIXED, ...) and
 * libssl work unchanged. The TLS 1.2 record layout is RFC 5288 section 3: nonce = 4-byte
 * fixed IV from the key block || 8-byte explicit nonce sent in the record.
 */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include "cipher_aes_gcm.h"

/* Both IV parameters: as an octet string, or (for callers that ask so) a pointer to ours. */
static int iv_param_set(CMK_GCM_CTX *ctx, OSSL_PARAM *p)
{
    if (ctx->iv_state == CMK_GCM_IV_UNSET)
        return 0;
    if (ctx->ivlen > p->data_size) {
        CMK_ERR(ctx->prov, CMK_R_BUFFER_TOO_SMALL, "IV of %zu bytes", ctx->ivlen);
        return 0;
    }
    return OSSL_PARAM_set_octet_string(p, ctx->iv, ctx->ivlen) ||
           OSSL_PARAM_set_octet_ptr(p, &ctx->iv, ctx->ivlen);
}

/* The explicit nonce of the next record to send: the message starts under the current IV,
 * whose last 8 bytes then count up (RFC 5288 leaves the choice; OpenSSL counts). */
static int tls_iv_gen(CMK_GCM_CTX *ctx, unsigned char *out, size_t olen)
{
    if (!ctx->iv_gen || !ctx->key_set || ctx->ivlen < CMK_GCM_TLS_EXPLICIT_BYTES)
        return 0;
    cmk_gcm_msg_init(ctx);
    if (olen == 0 || olen > ctx->ivlen)
        olen = ctx->ivlen;
    memcpy(out, ctx->iv + ctx->ivlen - olen, olen);
    for (size_t i = ctx->ivlen; i-- > ctx->ivlen - CMK_GCM_TLS_EXPLICIT_BYTES;)
        if (++ctx->iv[i] != 0)
            break;
    return 1;
}

/* The explicit nonce of a received record completes the IV. */
static int tls_iv_inv(CMK_GCM_CTX *ctx, const unsigned char *in, size_t inl)
{
    if (!ctx->iv_gen || !ctx->key_set || ctx->enc || inl > ctx->ivlen)
        return 0;
    memcpy(ctx->iv + ctx->ivlen - inl, in, inl);
    cmk_gcm_msg_init(ctx);
    return 1;
}

/* One requested parameter; names not ours are left alone. EVP asks for ivlen and keylen on
 * every EVP_CipherInit, so those are compared first (one strcmp each, not eight locates). */
static int ctx_param_get(CMK_GCM_CTX *ctx, OSSL_PARAM *p)
{
    const char *k = p->key;

    if (strcmp(k, OSSL_CIPHER_PARAM_IVLEN) == 0)
        return OSSL_PARAM_set_size_t(p, ctx->ivlen);
    if (strcmp(k, OSSL_CIPHER_PARAM_KEYLEN) == 0)
        return OSSL_PARAM_set_size_t(p, ctx->keylen);
    if (strcmp(k, OSSL_CIPHER_PARAM_AEAD_TAGLEN) == 0)
        return OSSL_PARAM_set_size_t(p, ctx->taglen != CMK_GCM_UNSET ? ctx->taglen
                                                                     : CMK_GCM_TAG_BYTES);
    if (strcmp(k, OSSL_CIPHER_PARAM_IV) == 0 || strcmp(k, OSSL_CIPHER_PARAM_UPDATED_IV) == 0)
        return iv_param_set(ctx, p);
    if (strcmp(k, OSSL_CIPHER_PARAM_AEAD_TLS1_AAD_PAD) == 0)
        return OSSL_PARAM_set_size_t(p, ctx->tls_aad_pad);
    if (strcmp(k, OSSL_CIPHER_PARAM_AEAD_TAG) == 0) {
        /* Only after an encryption's final, any length 1..16 (the leftmost bytes). */
        if (p->data_size == 0 || p->data_size > CMK_GCM_TAG_BYTES || !ctx->enc ||
            ctx->taglen == CMK_GCM_UNSET) {
            CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "GCM tag of %zu bytes not available",
                    p->data_size);
            return 0;
        }
        return OSSL_PARAM_set_octet_string(p, ctx->tag, p->data_size);
    }
    if (strcmp(k, OSSL_CIPHER_PARAM_AEAD_TLS1_GET_IV_GEN) == 0)
        return p->data != NULL && p->data_type == OSSL_PARAM_OCTET_STRING &&
               tls_iv_gen(ctx, p->data, p->data_size);
    return 1;
}

int cmk_gcm_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    for (OSSL_PARAM *p = params; p != NULL && p->key != NULL; p++)
        if (!ctx_param_get(vctx, p))
            return 0;
    return 1;
}

/* EVP_CTRL_AEAD_TLS1_AAD: keeps the record's 13-byte AAD with its length made the payload's
 * (the record length counts the explicit nonce, and on receipt the tag too). */
static size_t tls_aad_set(CMK_GCM_CTX *ctx, const unsigned char *aad, size_t len)
{
    size_t n;

    if (len != CMK_GCM_TLS_AAD_BYTES)
        return 0;
    memcpy(ctx->tls_aad, aad, len);
    ctx->tls_aad_len = len;
    n = (size_t)aad[len - 2] << 8 | aad[len - 1];
    if (n < CMK_GCM_TLS_EXPLICIT_BYTES)
        return 0;
    n -= CMK_GCM_TLS_EXPLICIT_BYTES;
    if (!ctx->enc) {
        if (n < CMK_GCM_TAG_BYTES)
            return 0;
        n -= CMK_GCM_TAG_BYTES;
    }
    ctx->tls_aad[len - 2] = (unsigned char)(n >> 8);
    ctx->tls_aad[len - 1] = (unsigned char)(n & 0xff);
    return CMK_GCM_TAG_BYTES; /* the record grows by the tag */
}

/* EVP_CTRL_GCM_SET_IV_FIXED: the fixed part (>= 4 bytes, leaving >= 8 for the counter); a
 * sender's invocation part starts random. Length -1 restores a whole IV. */
static int tls_iv_fixed_set(CMK_GCM_CTX *ctx, const unsigned char *iv, size_t len)
{
    if (len == (size_t)-1) {
        memcpy(ctx->iv, iv, ctx->ivlen);
    } else {
        if (len < CMK_GCM_TLS_FIXED_BYTES || ctx->ivlen < len + CMK_GCM_TLS_EXPLICIT_BYTES)
            return 0;
        memcpy(ctx->iv, iv, len);
        if (ctx->enc && RAND_bytes_ex(ctx->prov->libctx, ctx->iv + len, ctx->ivlen - len, 0) <= 0)
            return 0;
    }
    ctx->iv_gen = 1;
    ctx->iv_state = CMK_GCM_IV_BUFFERED;
    return 1;
}

/* The settable parameters, in the order OpenSSL's GCM applies them. */
enum { SET_TAG, SET_IVLEN, SET_TLS_AAD, SET_TLS_IV_FIXED, SET_TLS_IV_INV, SET_COUNT };
static const char *const set_names[SET_COUNT] = {
    OSSL_CIPHER_PARAM_AEAD_TAG,
    OSSL_CIPHER_PARAM_AEAD_IVLEN,
    OSSL_CIPHER_PARAM_AEAD_TLS1_AAD,
    OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED,
    OSSL_CIPHER_PARAM_AEAD_TLS1_SET_IV_INV,
};

/* EVP_CTRL_AEAD_SET_TAG: the expected tag of a decryption, 1..16 bytes. */
static int tag_param_take(CMK_GCM_CTX *ctx, const OSSL_PARAM *p)
{
    void *vp = ctx->tag;
    size_t sz;

    if (!OSSL_PARAM_get_octet_string(p, &vp, CMK_GCM_TAG_BYTES, &sz) || sz == 0 || ctx->enc) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "GCM tag to set: %zu bytes%s", p->data_size,
                ctx->enc ? " while encrypting" : "");
        return 0;
    }
    ctx->taglen = sz;
    return 1;
}

/* EVP_CTRL_AEAD_SET_IVLEN: an IV given or generated under the old length is no longer valid. */
static int ivlen_param_take(CMK_GCM_CTX *ctx, const OSSL_PARAM *p)
{
    size_t sz;

    if (!OSSL_PARAM_get_size_t(p, &sz) || sz == 0 || sz > CMK_GCM_IV_MAX_BYTES) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "GCM IV length");
        return 0;
    }
    if (ctx->ivlen != sz) {
        if (ctx->iv_state != CMK_GCM_IV_UNSET)
            ctx->iv_state = CMK_GCM_IV_FINISHED;
        ctx->ivlen = sz;
    }
    return 1;
}

int cmk_gcm_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    CMK_GCM_CTX *ctx = vctx;
    const OSSL_PARAM *f[SET_COUNT] = {NULL}, *p;
    size_t sz;

    /* One pass over the request (the first of a name counts, as with OSSL_PARAM_locate). */
    for (p = params; p != NULL && p->key != NULL; p++)
        for (int i = 0; i < SET_COUNT; i++)
            if (f[i] == NULL && strcmp(p->key, set_names[i]) == 0) {
                f[i] = p;
                break;
            }
    if ((f[SET_TAG] != NULL && !tag_param_take(ctx, f[SET_TAG])) ||
        (f[SET_IVLEN] != NULL && !ivlen_param_take(ctx, f[SET_IVLEN])))
        return 0;
    if ((p = f[SET_TLS_AAD]) != NULL) {
        if (p->data_type != OSSL_PARAM_OCTET_STRING ||
            (sz = tls_aad_set(ctx, p->data, p->data_size)) == 0) {
            CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "TLS AAD");
            return 0;
        }
        ctx->tls_aad_pad = sz;
    }
    if ((p = f[SET_TLS_IV_FIXED]) != NULL && (p->data_type != OSSL_PARAM_OCTET_STRING ||
                                              !tls_iv_fixed_set(ctx, p->data, p->data_size))) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "TLS fixed IV");
        return 0;
    }
    if ((p = f[SET_TLS_IV_INV]) != NULL &&
        (p->data == NULL || p->data_type != OSSL_PARAM_OCTET_STRING ||
         !tls_iv_inv(ctx, p->data, p->data_size)))
        return 0;
    return 1;
}

const OSSL_PARAM *cmk_gcm_gettable_ctx_params(void *cctx, void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_KEYLEN, NULL),
        OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_IVLEN, NULL),
        OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_AEAD_TAGLEN, NULL),
        OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_IV, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_UPDATED_IV, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, NULL, 0),
        OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_AEAD_TLS1_AAD_PAD, NULL),
        OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_GET_IV_GEN, NULL, 0),
        OSSL_PARAM_END,
    };

    (void)cctx;
    (void)provctx;
    return gettable;
}

const OSSL_PARAM *cmk_gcm_settable_ctx_params(void *cctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, NULL),
        OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_AAD, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TLS1_SET_IV_INV, NULL, 0),
        OSSL_PARAM_END,
    };

    (void)cctx;
    (void)provctx;
    return settable;
}

/* One record, in place: explicit nonce || payload || tag (RFC 5288 section 3, RFC 5246
 * 6.2.3.3). The IV is spent and the TLS AAD forgotten whatever happens; a failed decryption
 * wipes the payload it wrote. */
int cmk_gcm_tls_update(CMK_GCM_CTX *ctx, unsigned char *out, size_t *outl, const unsigned char *in,
                       size_t len)
{
    const size_t over = CMK_GCM_TLS_EXPLICIT_BYTES + CMK_GCM_TAG_BYTES;
    unsigned char tag[CMK_GCM_TAG_BYTES];
    size_t plen = 0;
    int ok = 0;

    if (!ctx->key_set || out != in || len < over) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "TLS record of %zu bytes (in place: %d)", len,
                out == in);
        goto end;
    }
    /* One key must not seal more than 2^64 records (the counter would repeat). */
    if (ctx->enc && ++ctx->tls_enc_records == 0) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "too many TLS records under one key");
        goto end;
    }
    if (ctx->enc ? !tls_iv_gen(ctx, out, CMK_GCM_TLS_EXPLICIT_BYTES)
                 : !tls_iv_inv(ctx, in, CMK_GCM_TLS_EXPLICIT_BYTES)) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "TLS record without a fixed IV");
        goto end;
    }
    in += CMK_GCM_TLS_EXPLICIT_BYTES;
    out += CMK_GCM_TLS_EXPLICIT_BYTES;
    len -= over;
    ctx->hw->iv_init(ctx->hctx, ctx->msg_iv, ctx->msg_ivlen, ctx->tls_aad, ctx->tls_aad_len);
    if (ctx->enc) {
        ctx->hw->encrypt_update(ctx->hctx, out, in, len);
        ctx->hw->final(ctx->hctx, out + len);
        plen = len + over;
    } else {
        ctx->hw->decrypt_update(ctx->hctx, out, in, len);
        ctx->hw->final(ctx->hctx, tag);
        if (CRYPTO_memcmp(tag, in + len, CMK_GCM_TAG_BYTES) != 0) {
            OPENSSL_cleanse(out, len);
            CMK_ERR(ctx->prov, CMK_R_BAD_TAG, "TLS record tag mismatch");
            goto end;
        }
        plen = len;
    }
    ctx->taglen = CMK_GCM_TAG_BYTES;
    ok = 1;
end:
    OPENSSL_cleanse(tag, sizeof(tag));
    ctx->iv_state = CMK_GCM_IV_FINISHED;
    ctx->tls_aad_len = CMK_GCM_UNSET;
    *outl = plen;
    return ok;
}
