/*
 * asymcipher_rsa.c - RSA-OAEP and RSAES-PKCS1-v1_5 with a token key (OSSL_OP_ASYM_CIPHER,
 * provider-asym_cipher(7)); EVP_PKEY_encrypt/EVP_PKEY_decrypt on a key loaded from pkcs11:.
 *
 * The context parameters are those of OpenSSL's own RSA cipher (pad-mode as int or string,
 * digest, mgf1-digest, oaep-label), so `-pkeyopt rsa_padding_mode:oaep -pkeyopt
 * rsa_oaep_md:sha256` works. Decryption is done by the token (C_Decrypt, PKCS#11 v2.40 2.1.6
 * and 2.1.8); encryption by the token's public key object, else in memory (rsa_key.c).
 * The decrypt path is the hot one: no allocation and no attribute reads, parameters ready in
 * the context.
 */
#include <string.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include "key_state.h"
#include "prov_algs.h"
#include "rsa_key.h"

static OSSL_FUNC_asym_cipher_newctx_fn rsa_asym_newctx;
static OSSL_FUNC_asym_cipher_freectx_fn rsa_asym_freectx;
static OSSL_FUNC_asym_cipher_dupctx_fn rsa_asym_dupctx;
static OSSL_FUNC_asym_cipher_encrypt_init_fn rsa_asym_encrypt_init;
static OSSL_FUNC_asym_cipher_encrypt_fn rsa_asym_encrypt;
static OSSL_FUNC_asym_cipher_decrypt_init_fn rsa_asym_decrypt_init;
static OSSL_FUNC_asym_cipher_decrypt_fn rsa_asym_decrypt;
static OSSL_FUNC_asym_cipher_get_ctx_params_fn rsa_asym_get_ctx_params;
static OSSL_FUNC_asym_cipher_gettable_ctx_params_fn rsa_asym_gettable_ctx_params;
static OSSL_FUNC_asym_cipher_set_ctx_params_fn rsa_asym_set_ctx_params;
static OSSL_FUNC_asym_cipher_settable_ctx_params_fn rsa_asym_settable_ctx_params;

typedef struct cmk_rsa_asym_ctx {
    CMK_PROV *prov;
    CMK_RSA_KEY *key; /* the EVP_PKEY_CTX keeps it alive */
    p11_rsa_params p; /* p.label points at label */
    int mgf1_set;     /* mgf1-digest given: else it follows digest */
    unsigned char *label;
} CMK_RSA_ASYM_CTX;

static void *rsa_asym_newctx(void *provctx)
{
    CMK_RSA_ASYM_CTX *ctx = OPENSSL_zalloc(sizeof(*ctx));

    if (ctx == NULL) {
        CMK_ERR(provctx, CMK_R_INTERNAL, "out of memory");
        return NULL;
    }
    ctx->prov = provctx;
    return ctx;
}

static void rsa_asym_freectx(void *vctx)
{
    CMK_RSA_ASYM_CTX *ctx = vctx;

    if (ctx == NULL)
        return;
    OPENSSL_clear_free(ctx->label, ctx->p.label_len);
    OPENSSL_free(ctx);
}

static void *rsa_asym_dupctx(void *vctx)
{
    CMK_RSA_ASYM_CTX *src = vctx, *dst = rsa_asym_newctx(src->prov);

    if (dst == NULL)
        return NULL;
    *dst = *src;
    dst->label = NULL;
    if (src->label != NULL && (dst->label = OPENSSL_memdup(src->label, src->p.label_len)) == NULL) {
        OPENSSL_free(dst);
        CMK_ERR(src->prov, CMK_R_INTERNAL, "out of memory");
        return NULL;
    }
    dst->p.label = dst->label; /* re-point into the copy */
    return dst;
}

/* OpenSSL's defaults: PKCS#1 v1.5; for OAEP, SHA-1 and MGF1 with the OAEP digest, no label. */
static int rsa_asym_init(CMK_RSA_ASYM_CTX *ctx, CMK_RSA_KEY *key, const OSSL_PARAM params[])
{
    if (key == NULL || key->pub == NULL) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "no RSA key");
        return 0;
    }
    ctx->key = key;
    OPENSSL_clear_free(ctx->label, ctx->p.label_len);
    ctx->label = NULL;
    ctx->p = (p11_rsa_params){P11_RSA_PKCS1, P11_HASH_SHA1, P11_HASH_SHA1, NULL, 0};
    ctx->mgf1_set = 0;
    return rsa_asym_set_ctx_params(ctx, params);
}

static int rsa_asym_encrypt_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    CMK_RSA_ASYM_CTX *ctx = vctx;
    CMK_RSA_KEY *key = provkey;

    if (key != NULL && key->p11 != NULL && !cmk_key_state_wrap_check(ctx->prov, key->p11))
        return 0;
    return rsa_asym_init(ctx, key, params);
}

static int rsa_asym_decrypt_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    CMK_RSA_ASYM_CTX *ctx = vctx;
    CMK_RSA_KEY *key = provkey;

    if (key != NULL && !key->has_private) {
        CMK_ERR(ctx->prov, CMK_R_NO_PRIVATE_KEY, "decryption needs the private key in the token");
        return 0;
    }
    return rsa_asym_init(ctx, key, params);
}

static int rsa_asym_encrypt(void *vctx, unsigned char *out, size_t *outlen, size_t outsize,
                            const unsigned char *in, size_t inlen)
{
    CMK_RSA_ASYM_CTX *ctx = vctx;

    if (out == NULL) {
        *outlen = ctx->key->bytes;
        return 1;
    }
    if (outsize < ctx->key->bytes) {
        CMK_ERR(ctx->prov, CMK_R_BUFFER_TOO_SMALL, "output of %zu bytes, need %zu", outsize,
                ctx->key->bytes);
        return 0;
    }
    *outlen = outsize;
    if (!cmk_rsa_key_encrypt(ctx->key, &ctx->p, out, outlen, in, inlen))
        return 0;
    cmk_audit(ctx->prov, ctx->key->p11, "wrap", "ok", NULL);
    return 1;
}

/* OAEP with a label on a token that ignores labels (SoftHSM 2.6.1: docs/pkcs11-layer.md, quirks):
 * the RSA decryption (RSADP) still happens in the token, with CKM_RSA_X_509, and OpenSSL checks
 * the encoded message and its label in constant time (RFC 8017 section 7.1.2, steps 3-4).
 * Nothing leaves this function unless that check passed. */
static int oaep_label_decrypt(CMK_RSA_ASYM_CTX *ctx, unsigned char *out, size_t *outlen,
                              size_t outsize, const unsigned char *in, size_t inlen)
{
    p11_rsa_params raw = {.padding = P11_RSA_RAW};
    unsigned char em[CMK_RSA_MAX_BYTES], msg[CMK_RSA_MAX_BYTES];
    unsigned hashes = p11_rsa_oaep_hashes(ctx->key->p11);
    size_t n = sizeof(em);
    int len, ok = 0;
    CK_RV rv;

    /* Only the label is checked in memory: a hash the token cannot do is refused as it is
     * without a label (OAEP's hashes are the token's). */
    if (!(hashes & (1u << ctx->p.oaep_hash)) || !(hashes & (1u << ctx->p.mgf1_hash))) {
        CMK_ERR(ctx->prov, CMK_R_OAEP_HASH, "token '%s' cannot do RSA-OAEP with %s",
                p11_token_label(p11_key_token(ctx->key->p11)),
                p11_hash_name((hashes & (1u << ctx->p.oaep_hash)) ? ctx->p.mgf1_hash
                                                                  : ctx->p.oaep_hash));
        return 0;
    }
    ERR_set_mark();
    rv = p11_rsa_decrypt(ctx->key->p11, &raw, in, inlen, em, &n);
    ERR_pop_to_mark(); /* the module's own OpenSSL errors are not the application's */
    if (rv != CKR_OK) {
        cmk_key_state_raise_p11(ctx->prov, ctx->key->p11, "unwrap", rv);
        return 0;
    }
    len = cmk_rsa_oaep_decode(ctx->prov, msg, sizeof(msg), em, n, ctx->key->bytes, &ctx->p);
    if (len < 0) {
        CMK_ERR(ctx->prov, CMK_R_PKCS11, "RSA-OAEP decoding failed (wrong key, label or data)");
        goto end;
    }
    if ((size_t)len > outsize) {
        CMK_ERR(ctx->prov, CMK_R_BUFFER_TOO_SMALL, "output of %zu bytes, need %d", outsize, len);
        goto end;
    }
    memcpy(out, msg, (size_t)len);
    *outlen = (size_t)len;
    ok = 1;
end:
    OPENSSL_cleanse(em, sizeof(em));
    OPENSSL_cleanse(msg, sizeof(msg));
    return ok;
}

/* The token writes up to the modulus size; a smaller caller buffer gets the plaintext through a
 * stack buffer that is wiped. */
static int rsa_asym_decrypt(void *vctx, unsigned char *out, size_t *outlen, size_t outsize,
                            const unsigned char *in, size_t inlen)
{
    CMK_RSA_ASYM_CTX *ctx = vctx;
    unsigned char buf[CMK_RSA_MAX_BYTES];
    unsigned char *to = outsize >= ctx->key->bytes ? out : buf;
    size_t n = outsize >= ctx->key->bytes ? outsize : sizeof(buf);
    CK_RV rv;

    if (out == NULL) {
        *outlen = ctx->key->bytes;
        return 1;
    }
    /* SoftHSM uses OpenSSL in this process too, and leaves errors of its own (an engine it
     * looked for, a child's re-initialization): they are not the application's. */
    ERR_set_mark();
    rv = p11_rsa_decrypt(ctx->key->p11, &ctx->p, in, inlen, to, &n);
    ERR_pop_to_mark();
    if (rv == P11_R_UNSUPPORTED && ctx->p.padding == P11_RSA_OAEP && ctx->p.label_len > 0) {
        if (!oaep_label_decrypt(ctx, out, outlen, outsize, in, inlen))
            return 0;
        cmk_audit(ctx->prov, ctx->key->p11, "unwrap", "ok", NULL);
        return 1;
    }
    if (rv != CKR_OK) {
        cmk_key_state_raise_p11(ctx->prov, ctx->key->p11, "unwrap", rv);
        return 0;
    }
    if (to == buf) {
        if (n > outsize) {
            OPENSSL_cleanse(buf, n);
            CMK_ERR(ctx->prov, CMK_R_BUFFER_TOO_SMALL, "output of %zu bytes, need %zu", outsize, n);
            return 0;
        }
        memcpy(out, buf, n);
        OPENSSL_cleanse(buf, n);
    }
    *outlen = n;
    cmk_audit(ctx->prov, ctx->key->p11, "unwrap", "ok", NULL);
    return 1;
}

static int rsa_asym_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    CMK_RSA_ASYM_CTX *ctx = vctx;
    OSSL_PARAM *p;

    if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_PAD_MODE)) != NULL &&
        !cmk_rsa_pad_mode_set(p, ctx->p.padding == P11_RSA_OAEP ? RSA_PKCS1_OAEP_PADDING
                                                                : RSA_PKCS1_PADDING))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, cmk_rsa_hash_name(ctx->p.oaep_hash)))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, cmk_rsa_hash_name(ctx->p.mgf1_hash)))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL)) != NULL &&
        !OSSL_PARAM_set_octet_ptr(p, ctx->label, ctx->p.label_len))
        return 0;
    return 1;
}

static const OSSL_PARAM *rsa_asym_gettable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, NULL, 0),
        OSSL_PARAM_octet_ptr(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, NULL, 0),
        OSSL_PARAM_END,
    };

    (void)vctx, (void)provctx;
    return gettable;
}

/* pad-mode as OpenSSL gives it: an int (RSA_*_PADDING) or a string ("oaep", "pkcs1"). */
static int pad_set(CMK_RSA_ASYM_CTX *ctx, const OSSL_PARAM *p)
{
    static const int allowed[] = {RSA_PKCS1_PADDING, RSA_PKCS1_OAEP_PADDING};
    int mode;

    if (!cmk_rsa_pad_mode_get(p, allowed, sizeof(allowed) / sizeof(allowed[0]), &mode)) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER,
                "RSA padding mode not offered with a token key (only pkcs1 and oaep)");
        return 0;
    }
    ctx->p.padding = mode == RSA_PKCS1_OAEP_PADDING ? P11_RSA_OAEP : P11_RSA_PKCS1;
    return 1;
}

static int digest_set(CMK_RSA_ASYM_CTX *ctx, const OSSL_PARAM *p, p11_hash *out)
{
    const char *name = NULL;

    if (!OSSL_PARAM_get_utf8_string_ptr(p, &name)) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "%s must be a digest name", p->key);
        return 0;
    }
    return cmk_rsa_hash_from_name(ctx->prov, name, out);
}

static int label_set(CMK_RSA_ASYM_CTX *ctx, const OSSL_PARAM *p)
{
    void *label = NULL;
    size_t len = 0;

    if (!OSSL_PARAM_get_octet_string(p, &label, 0, &len)) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "bad OAEP label");
        return 0;
    }
    OPENSSL_clear_free(ctx->label, ctx->p.label_len);
    ctx->label = label;
    ctx->p.label = label;
    ctx->p.label_len = len;
    return 1;
}

static int rsa_asym_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    CMK_RSA_ASYM_CTX *ctx = vctx;
    const OSSL_PARAM *p;

    if (params == NULL)
        return 1;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_PAD_MODE)) != NULL &&
        !pad_set(ctx, p))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST)) != NULL) {
        if (!digest_set(ctx, p, &ctx->p.oaep_hash))
            return 0;
        if (!ctx->mgf1_set)
            ctx->p.mgf1_hash = ctx->p.oaep_hash;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST)) != NULL) {
        if (!digest_set(ctx, p, &ctx->p.mgf1_hash))
            return 0;
        ctx->mgf1_set = 1;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL)) != NULL &&
        !label_set(ctx, p))
        return 0;
    /* digest-props, mgf1-digest-props, tls-*-version: accepted and without effect here (the
     * token does the hashing; TLS padding is not offered). */
    return 1;
}

static const OSSL_PARAM *rsa_asym_settable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST_PROPS, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST_PROPS, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, NULL, 0),
        OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, NULL),
        OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, NULL),
        OSSL_PARAM_END,
    };

    (void)vctx, (void)provctx;
    return settable;
}

static const OSSL_DISPATCH rsa_asym_functions[] = {
    {OSSL_FUNC_ASYM_CIPHER_NEWCTX, (void (*)(void))rsa_asym_newctx},
    {OSSL_FUNC_ASYM_CIPHER_FREECTX, (void (*)(void))rsa_asym_freectx},
    {OSSL_FUNC_ASYM_CIPHER_DUPCTX, (void (*)(void))rsa_asym_dupctx},
    {OSSL_FUNC_ASYM_CIPHER_ENCRYPT_INIT, (void (*)(void))rsa_asym_encrypt_init},
    {OSSL_FUNC_ASYM_CIPHER_ENCRYPT, (void (*)(void))rsa_asym_encrypt},
    {OSSL_FUNC_ASYM_CIPHER_DECRYPT_INIT, (void (*)(void))rsa_asym_decrypt_init},
    {OSSL_FUNC_ASYM_CIPHER_DECRYPT, (void (*)(void))rsa_asym_decrypt},
    {OSSL_FUNC_ASYM_CIPHER_GET_CTX_PARAMS, (void (*)(void))rsa_asym_get_ctx_params},
    {OSSL_FUNC_ASYM_CIPHER_GETTABLE_CTX_PARAMS, (void (*)(void))rsa_asym_gettable_ctx_params},
    {OSSL_FUNC_ASYM_CIPHER_SET_CTX_PARAMS, (void (*)(void))rsa_asym_set_ctx_params},
    {OSSL_FUNC_ASYM_CIPHER_SETTABLE_CTX_PARAMS, (void (*)(void))rsa_asym_settable_ctx_params},
    {0, NULL},
};

static const OSSL_ALGORITHM rsa_asym_algorithms[] = {
    {CMK_RSA_OP_NAME, "provider=cmk", rsa_asym_functions,
     "RSA-OAEP and PKCS#1 v1.5 in a PKCS#11 token"},
    {NULL, NULL, NULL, NULL},
};

const OSSL_ALGORITHM *cmk_asym_cipher_algorithms(CMK_PROV *prov)
{
    (void)prov;
    return rsa_asym_algorithms;
}
