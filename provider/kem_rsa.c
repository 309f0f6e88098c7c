/*
 * kem_rsa.c - a KEM over a token's RSA key (OSSL_OP_KEM, provider-kem(7); docs/kem.md).
 *
 * Operation "OAEP": EVP_PKEY_encapsulate makes a fresh 32-byte data key (RAND_priv_bytes_ex)
 * and wraps it with RSA-OAEP under the CMK (in the token with its public key object, else in
 * memory); EVP_PKEY_decapsulate unwraps it in the token. The OAEP digest ("digest", MGF1 with
 * the same) defaults to SHA-1, the one SoftHSM 2.6.1 can do in the token.
 */
#include <string.h>
#include <strings.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include "key_state.h"
#include "prov_algs.h"
#include "rsa_key.h"

#define CMK_KEM_OP_OAEP      "OAEP"
#define CMK_KEM_SECRET_BYTES 32

static OSSL_FUNC_kem_newctx_fn rsa_kem_newctx;
static OSSL_FUNC_kem_freectx_fn rsa_kem_freectx;
static OSSL_FUNC_kem_dupctx_fn rsa_kem_dupctx;
static OSSL_FUNC_kem_encapsulate_init_fn rsa_kem_encapsulate_init;
static OSSL_FUNC_kem_encapsulate_fn rsa_kem_encapsulate;
static OSSL_FUNC_kem_decapsulate_init_fn rsa_kem_decapsulate_init;
static OSSL_FUNC_kem_decapsulate_fn rsa_kem_decapsulate;
static OSSL_FUNC_kem_get_ctx_params_fn rsa_kem_get_ctx_params;
static OSSL_FUNC_kem_gettable_ctx_params_fn rsa_kem_gettable_ctx_params;
static OSSL_FUNC_kem_set_ctx_params_fn rsa_kem_set_ctx_params;
static OSSL_FUNC_kem_settable_ctx_params_fn rsa_kem_settable_ctx_params;

typedef struct cmk_rsa_kem_ctx {
    CMK_PROV *prov;
    CMK_RSA_KEY *key; /* the EVP_PKEY_CTX keeps it alive */
    p11_rsa_params p; /* always OAEP, MGF1 with the OAEP digest, no label */
} CMK_RSA_KEM_CTX;

static void *rsa_kem_newctx(void *provctx)
{
    CMK_RSA_KEM_CTX *ctx = OPENSSL_zalloc(sizeof(*ctx));

    if (ctx == NULL) {
        CMK_ERR(provctx, CMK_R_INTERNAL, "out of memory");
        return NULL;
    }
    ctx->prov = provctx;
    return ctx;
}

static void rsa_kem_freectx(void *vctx)
{
    OPENSSL_free(vctx);
}

static void *rsa_kem_dupctx(void *vctx)
{
    CMK_RSA_KEM_CTX *src = vctx, *dst = rsa_kem_newctx(src->prov);

    if (dst != NULL)
        *dst = *src;
    return dst;
}

static int rsa_kem_init(CMK_RSA_KEM_CTX *ctx, CMK_RSA_KEY *key, const OSSL_PARAM params[])
{
    if (key == NULL || key->pub == NULL) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "no RSA key");
        return 0;
    }
    ctx->key = key;
    ctx->p = (p11_rsa_params){P11_RSA_OAEP, P11_HASH_SHA1, P11_HASH_SHA1, NULL, 0};
    return rsa_kem_set_ctx_params(ctx, params);
}

static int rsa_kem_encapsulate_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    CMK_RSA_KEM_CTX *ctx = vctx;
    CMK_RSA_KEY *key = provkey;

    if (key != NULL && key->p11 != NULL && !cmk_key_state_wrap_check(ctx->prov, key->p11))
        return 0;
    return rsa_kem_init(ctx, key, params);
}

static int rsa_kem_decapsulate_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    CMK_RSA_KEM_CTX *ctx = vctx;
    CMK_RSA_KEY *key = provkey;

    if (key != NULL && !key->has_private) {
        CMK_ERR(ctx->prov, CMK_R_NO_PRIVATE_KEY,
                "decapsulation needs the private key in the token");
        return 0;
    }
    return rsa_kem_init(ctx, key, params);
}

/* out == NULL: sizes only (wrapped key = modulus size, data key = 32 bytes). */
static int rsa_kem_encapsulate(void *vctx, unsigned char *out, size_t *outlen,
                               unsigned char *secret, size_t *secretlen)
{
    CMK_RSA_KEM_CTX *ctx = vctx;
    size_t n;

    if (out == NULL) {
        if (outlen != NULL)
            *outlen = ctx->key->bytes;
        if (secretlen != NULL)
            *secretlen = CMK_KEM_SECRET_BYTES;
        return 1;
    }
    if (secret == NULL || outlen == NULL || secretlen == NULL) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "encapsulate needs both output buffers");
        return 0;
    }
    /* Both lengths are capacities when given non-zero (EVP passes the buffer sizes it knows). */
    if ((*outlen != 0 && *outlen < ctx->key->bytes) ||
        (*secretlen != 0 && *secretlen < CMK_KEM_SECRET_BYTES)) {
        CMK_ERR(ctx->prov, CMK_R_BUFFER_TOO_SMALL,
                "need %zu bytes for the wrapped key and %d "
                "for the data key",
                ctx->key->bytes, CMK_KEM_SECRET_BYTES);
        return 0;
    }
    /* Wrapping is public and could use any digest, but a key the token cannot unwrap would be
     * lost for good: refuse a digest the token's OAEP cannot do. */
    if (ctx->key->has_private && !(p11_rsa_oaep_hashes(ctx->key->p11) & (1u << ctx->p.oaep_hash))) {
        CMK_ERR(ctx->prov, CMK_R_OAEP_HASH,
                "token '%s' cannot unwrap RSA-OAEP with %s, so a key wrapped with it could never "
                "be recovered",
                p11_token_label(p11_key_token(ctx->key->p11)), p11_hash_name(ctx->p.oaep_hash));
        return 0;
    }
    if (RAND_priv_bytes_ex(ctx->prov->libctx, secret, CMK_KEM_SECRET_BYTES, 0) <= 0) {
        CMK_ERR(ctx->prov, CMK_R_INTERNAL, "no random bytes for the data key");
        return 0;
    }
    n = ctx->key->bytes;
    if (!cmk_rsa_key_encrypt(ctx->key, &ctx->p, out, &n, secret, CMK_KEM_SECRET_BYTES)) {
        OPENSSL_cleanse(secret, CMK_KEM_SECRET_BYTES);
        return 0;
    }
    *outlen = n;
    *secretlen = CMK_KEM_SECRET_BYTES;
    cmk_audit(ctx->prov, ctx->key->p11, "wrap", "ok", "KEM");
    return 1;
}

static int rsa_kem_decapsulate(void *vctx, unsigned char *out, size_t *outlen,
                               const unsigned char *in, size_t inlen)
{
    CMK_RSA_KEM_CTX *ctx = vctx;
    unsigned char buf[CMK_RSA_MAX_BYTES];
    size_t n = sizeof(buf);
    CK_RV rv;
    int ret = 0;

    if (out == NULL) {
        *outlen = CMK_KEM_SECRET_BYTES;
        return 1;
    }
    if (*outlen != 0 && *outlen < CMK_KEM_SECRET_BYTES) {
        CMK_ERR(ctx->prov, CMK_R_BUFFER_TOO_SMALL, "need %d bytes for the data key",
                CMK_KEM_SECRET_BYTES);
        return 0;
    }
    ERR_set_mark();
    rv = p11_rsa_decrypt(ctx->key->p11, &ctx->p, in, inlen, buf, &n);
    ERR_pop_to_mark(); /* the module's own OpenSSL errors are not the application's */
    if (rv != CKR_OK) {
        cmk_key_state_raise_p11(ctx->prov, ctx->key->p11, "unwrap", rv);
        return 0;
    }
    if (n != CMK_KEM_SECRET_BYTES) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "unwrapped %zu bytes, not a %d-byte data key", n,
                CMK_KEM_SECRET_BYTES);
        goto end;
    }
    memcpy(out, buf, n);
    *outlen = n;
    cmk_audit(ctx->prov, ctx->key->p11, "unwrap", "ok", "KEM");
    ret = 1;
end:
    OPENSSL_cleanse(buf, n);
    return ret;
}

static int rsa_kem_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    CMK_RSA_KEM_CTX *ctx = vctx;
    OSSL_PARAM *p;

    if ((p = OSSL_PARAM_locate(params, OSSL_KEM_PARAM_OPERATION)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, CMK_KEM_OP_OAEP))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, cmk_rsa_hash_name(ctx->p.oaep_hash)))
        return 0;
    return 1;
}

static const OSSL_PARAM *rsa_kem_gettable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_utf8_string(OSSL_KEM_PARAM_OPERATION, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, NULL, 0),
        OSSL_PARAM_END,
    };

    (void)vctx, (void)provctx;
    return gettable;
}

static int rsa_kem_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    CMK_RSA_KEM_CTX *ctx = vctx;
    const OSSL_PARAM *p;
    const char *s = NULL;

    if (params == NULL)
        return 1;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_KEM_PARAM_OPERATION)) != NULL &&
        (!OSSL_PARAM_get_utf8_string_ptr(p, &s) || strcasecmp(s, CMK_KEM_OP_OAEP) != 0)) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "KEM operation '%s' not offered (only \"%s\")",
                s != NULL ? s : "?", CMK_KEM_OP_OAEP);
        return 0;
    }
    if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST)) != NULL) {
        if (!OSSL_PARAM_get_utf8_string_ptr(p, &s) ||
            !cmk_rsa_hash_from_name(ctx->prov, s, &ctx->p.oaep_hash))
            return 0;
        ctx->p.mgf1_hash = ctx->p.oaep_hash;
    }
    return 1;
}

static const OSSL_PARAM *rsa_kem_settable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_utf8_string(OSSL_KEM_PARAM_OPERATION, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, NULL, 0),
        OSSL_PARAM_END,
    };

    (void)vctx, (void)provctx;
    return settable;
}

static const OSSL_DISPATCH rsa_kem_functions[] = {
    {OSSL_FUNC_KEM_NEWCTX, (void (*)(void))rsa_kem_newctx},
    {OSSL_FUNC_KEM_FREECTX, (void (*)(void))rsa_kem_freectx},
    {OSSL_FUNC_KEM_DUPCTX, (void (*)(void))rsa_kem_dupctx},
    {OSSL_FUNC_KEM_ENCAPSULATE_INIT, (void (*)(void))rsa_kem_encapsulate_init},
    {OSSL_FUNC_KEM_ENCAPSULATE, (void (*)(void))rsa_kem_encapsulate},
    {OSSL_FUNC_KEM_DECAPSULATE_INIT, (void (*)(void))rsa_kem_decapsulate_init},
    {OSSL_FUNC_KEM_DECAPSULATE, (void (*)(void))rsa_kem_decapsulate},
    {OSSL_FUNC_KEM_GET_CTX_PARAMS, (void (*)(void))rsa_kem_get_ctx_params},
    {OSSL_FUNC_KEM_GETTABLE_CTX_PARAMS, (void (*)(void))rsa_kem_gettable_ctx_params},
    {OSSL_FUNC_KEM_SET_CTX_PARAMS, (void (*)(void))rsa_kem_set_ctx_params},
    {OSSL_FUNC_KEM_SETTABLE_CTX_PARAMS, (void (*)(void))rsa_kem_settable_ctx_params},
    {0, NULL},
};

static const OSSL_ALGORITHM rsa_kem_algorithms[] = {
    {CMK_RSA_OP_NAME, "provider=cmk", rsa_kem_functions,
     "a fresh 32-byte data key wrapped with RSA-OAEP by a token key"},
    {NULL, NULL, NULL, NULL},
};

const OSSL_ALGORITHM *cmk_kem_algorithms(CMK_PROV *prov)
{
    (void)prov;
    return rsa_kem_algorithms;
}
