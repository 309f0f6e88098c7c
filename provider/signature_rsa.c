/*
 * signature_rsa.c - RSA signatures with a token key (OSSL_OP_SIGNATURE,
 * provider-signature(7)): EVP_PKEY_sign/verify and EVP_DigestSign/DigestVerify on a key loaded
 * from pkcs11:, so `openssl req`, `x509`, `cms` and libssl's TLS server sign with it.
 *
 * The message is hashed in memory by OpenSSL; only the hash (in a DigestInfo for PKCS#1 v1.5,
 * bare for PSS) goes to the token, which signs with the private key (p11_rsa_sign). Verifying
 * needs no secret: it runs in memory on the public half, in another provider. The context
 * parameters (signature_rsa_params.c) are those of OpenSSL's own RSA signature, so -sigopt and
 * the EVP_PKEY_CTX_set_rsa_* calls work unchanged.
 */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include "key_state.h"
#include "prov_algs.h"
#include "rsa_key.h"
#include "rsa_sig_der.h"
#include "signature_rsa.h"

static OSSL_FUNC_signature_newctx_fn rsa_sig_newctx;
static OSSL_FUNC_signature_freectx_fn rsa_sig_freectx;
static OSSL_FUNC_signature_dupctx_fn rsa_sig_dupctx;
static OSSL_FUNC_signature_sign_init_fn rsa_sig_sign_init;
static OSSL_FUNC_signature_sign_fn rsa_sig_sign;
static OSSL_FUNC_signature_verify_init_fn rsa_sig_verify_init;
static OSSL_FUNC_signature_verify_fn rsa_sig_verify;
static OSSL_FUNC_signature_digest_sign_init_fn rsa_sig_digest_sign_init;
static OSSL_FUNC_signature_digest_sign_update_fn rsa_sig_digest_update;
static OSSL_FUNC_signature_digest_sign_final_fn rsa_sig_digest_sign_final;
static OSSL_FUNC_signature_digest_verify_init_fn rsa_sig_digest_verify_init;
static OSSL_FUNC_signature_digest_verify_final_fn rsa_sig_digest_verify_final;

static void *rsa_sig_newctx(void *provctx, const char *propq)
{
    CMK_RSA_SIG_CTX *ctx = OPENSSL_zalloc(sizeof(*ctx));

    (void)propq; /* the token does the signing; our own fetches say CMK_PROPQ_NOT_US */
    if (ctx == NULL) {
        CMK_ERR(provctx, CMK_R_INTERNAL, "out of memory");
        return NULL;
    }
    ctx->prov = provctx;
    return ctx;
}

static void rsa_sig_freectx(void *vctx)
{
    CMK_RSA_SIG_CTX *ctx = vctx;

    if (ctx == NULL)
        return;
    EVP_MD_CTX_free(ctx->mdctx);
    EVP_MD_free(ctx->md);
    EVP_MD_free(ctx->mgf1);
    OPENSSL_free(ctx);
}

/* EVP_DigestSignFinal signs a copy, so the application may go on hashing. */
static void *rsa_sig_dupctx(void *vctx)
{
    CMK_RSA_SIG_CTX *src = vctx, *dst = rsa_sig_newctx(src->prov, NULL);

    if (dst == NULL)
        return NULL;
    *dst = *src;
    dst->md = dst->mgf1 = NULL;
    dst->mdctx = NULL;
    if ((src->md != NULL && !EVP_MD_up_ref(src->md)) ||
        (src->mgf1 != NULL && !EVP_MD_up_ref(src->mgf1)))
        goto err;
    dst->md = src->md;
    dst->mgf1 = src->mgf1;
    if (src->mdctx != NULL &&
        ((dst->mdctx = EVP_MD_CTX_new()) == NULL || !EVP_MD_CTX_copy_ex(dst->mdctx, src->mdctx)))
        goto err;
    return dst;
err:
    rsa_sig_freectx(dst);
    CMK_ERR(src->prov, CMK_R_INTERNAL, "cannot copy the signature context");
    return NULL;
}

static p11_hash md_hash(const EVP_MD *md)
{
    static const p11_hash all[] = {P11_HASH_SHA1, P11_HASH_SHA224, P11_HASH_SHA256, P11_HASH_SHA384,
                                   P11_HASH_SHA512};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (EVP_MD_is_a(md, cmk_rsa_hash_name(all[i])))
            return all[i];
    return P11_HASH_SHA1; /* not reached: md_fetch admits these only */
}

/* OpenSSL's defaults: PKCS#1 v1.5; for PSS, MGF1 with the signature's digest and the longest
 * salt when signing (RSA_PSS_SALTLEN_AUTO). Without a key (EVP_DigestSignInit's re-init), the
 * context keeps its key and parameters and only its hash starts again. */
static int rsa_sig_init(CMK_RSA_SIG_CTX *ctx, CMK_RSA_KEY *key, const OSSL_PARAM params[])
{
    if (key == NULL || key->pub == NULL) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "no RSA key");
        return 0;
    }
    if (key != ctx->key) {
        ctx->key = key;
        ctx->pad = RSA_PKCS1_PADDING;
        ctx->saltlen = RSA_PSS_SALTLEN_AUTO;
        EVP_MD_free(ctx->md);
        EVP_MD_free(ctx->mgf1);
        ctx->md = ctx->mgf1 = NULL;
    }
    EVP_MD_CTX_free(ctx->mdctx);
    ctx->mdctx = NULL;
    return cmk_rsa_sig_set_ctx_params(ctx, params);
}

/* The key must have its private half in a token, be in its validity period, not be disabled
 * or deleted, and be allowed to sign (CKA_SIGN): all asked before the token signs anything. */
static int rsa_sig_sign_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    CMK_RSA_SIG_CTX *ctx = vctx;
    CMK_RSA_KEY *key = provkey != NULL ? provkey : ctx->key;

    if (key != NULL && (!key->has_private || key->p11 == NULL)) {
        CMK_ERR(ctx->prov, CMK_R_NO_PRIVATE_KEY, "signing needs the private key in the token");
        return 0;
    }
    if (key != NULL && !cmk_key_state_sign_check(ctx->prov, key->p11))
        return 0;
    return rsa_sig_init(ctx, key, params);
}

static int rsa_sig_verify_init(void *vctx, void *provkey, const OSSL_PARAM params[])
{
    CMK_RSA_SIG_CTX *ctx = vctx;

    return rsa_sig_init(ctx, provkey != NULL ? provkey : ctx->key, params);
}

/* What the token signs: the DigestInfo (or, without a digest, the caller's bytes) for PKCS#1
 * v1.5, the hash itself for PSS. */
static int token_params(CMK_RSA_SIG_CTX *ctx, const unsigned char *tbs, size_t tbslen,
                        p11_rsa_sign_params *sp, unsigned char *buf, const unsigned char **in,
                        size_t *in_len)
{
    if (ctx->md != NULL && tbslen != (size_t)EVP_MD_get_size(ctx->md)) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "%zu bytes to sign: a %s hash has %d", tbslen,
                EVP_MD_get0_name(ctx->md), EVP_MD_get_size(ctx->md));
        return 0;
    }
    *in = tbs;
    *in_len = tbslen;
    if (ctx->pad == RSA_PKCS1_PADDING) {
        *sp = (p11_rsa_sign_params){.padding = P11_SIG_PKCS1};
        if (ctx->md != NULL && (*in_len = cmk_rsa_digest_info(ctx->md, tbs, tbslen, buf,
                                                              CMK_RSA_DER_MAX_BYTES)) == 0) {
            CMK_ERR(ctx->prov, CMK_R_INTERNAL, "cannot encode the DigestInfo");
            return 0;
        }
        if (ctx->md != NULL)
            *in = buf;
        return 1;
    }
    if (ctx->md == NULL) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "RSA-PSS needs a digest");
        return 0;
    }
    *sp = (p11_rsa_sign_params){P11_SIG_PSS, md_hash(ctx->md),
                                md_hash(ctx->mgf1 != NULL ? ctx->mgf1 : ctx->md), 0};
    return cmk_rsa_sig_salt_resolve(ctx, &sp->salt_len);
}

static int rsa_sig_sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize,
                        const unsigned char *tbs, size_t tbslen)
{
    CMK_RSA_SIG_CTX *ctx = vctx;
    unsigned char buf[CMK_RSA_DER_MAX_BYTES];
    p11_rsa_sign_params sp;
    const unsigned char *in;
    size_t in_len, n = sigsize;
    CK_RV rv;

    if (sig == NULL) {
        *siglen = ctx->key->bytes;
        return 1;
    }
    if (sigsize < ctx->key->bytes) {
        CMK_ERR(ctx->prov, CMK_R_BUFFER_TOO_SMALL, "signature buffer of %zu bytes, need %zu",
                sigsize, ctx->key->bytes);
        return 0;
    }
    if (!token_params(ctx, tbs, tbslen, &sp, buf, &in, &in_len))
        return 0;
    ERR_set_mark();
    rv = p11_rsa_sign(ctx->key->p11, &sp, in, in_len, sig, &n);
    ERR_pop_to_mark(); /* the module's own OpenSSL errors are not the application's */
    if (rv != CKR_OK) {
        CMK_ERR_P11(ctx->prov, rv);
        cmk_audit(ctx->prov, ctx->key->p11, "sign", "failed", p11_err_detail());
        return 0;
    }
    *siglen = n;
    cmk_audit(ctx->prov, ctx->key->p11, "sign", "ok",
              sp.padding == P11_SIG_PSS ? "RSASSA-PSS" : "RSASSA-PKCS1-v1_5");
    return 1;
}

/* In memory on the public half, by another provider, with this context's parameters. */
static int rsa_sig_verify(void *vctx, const unsigned char *sig, size_t siglen,
                          const unsigned char *tbs, size_t tbslen)
{
    CMK_RSA_SIG_CTX *ctx = vctx;
    OSSL_PARAM params[5], *p = params;
    EVP_PKEY_CTX *vc;
    int ret;

    *p++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PAD_MODE, &ctx->pad);
    if (ctx->md != NULL)
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST,
                                                (char *)EVP_MD_get0_name(ctx->md), 0);
    if (ctx->pad == RSA_PKCS1_PSS_PADDING) {
        *p++ = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &ctx->saltlen);
        if (ctx->mgf1 != NULL)
            *p++ = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST,
                                                    (char *)EVP_MD_get0_name(ctx->mgf1), 0);
    }
    *p = OSSL_PARAM_construct_end();
    vc = EVP_PKEY_CTX_new_from_pkey(ctx->prov->libctx, ctx->key->pub, CMK_PROPQ_NOT_US);
    ret = vc != NULL && EVP_PKEY_verify_init_ex(vc, params) > 0 &&
          EVP_PKEY_verify(vc, sig, siglen, tbs, tbslen) == 1;
    EVP_PKEY_CTX_free(vc);
    return ret;
}

/* No digest named: SHA-256, as OpenSSL's RSA keys say (keymgmt's default-digest). */
static int digest_init(CMK_RSA_SIG_CTX *ctx, const char *mdname)
{
    if (mdname != NULL && mdname[0] != '\0') {
        EVP_MD_free(ctx->md);
        if ((ctx->md = cmk_rsa_sig_md_fetch(ctx->prov, mdname)) == NULL)
            return 0;
    } else if (ctx->md == NULL && (ctx->md = cmk_rsa_sig_md_fetch(ctx->prov, "SHA256")) == NULL) {
        return 0;
    }
    if ((ctx->mdctx = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex2(ctx->mdctx, ctx->md, NULL)) {
        CMK_ERR(ctx->prov, CMK_R_INTERNAL, "cannot start the %s hash", EVP_MD_get0_name(ctx->md));
        return 0;
    }
    return 1;
}

static int rsa_sig_digest_sign_init(void *vctx, const char *mdname, void *provkey,
                                    const OSSL_PARAM params[])
{
    return rsa_sig_sign_init(vctx, provkey, params) && digest_init(vctx, mdname);
}

static int rsa_sig_digest_verify_init(void *vctx, const char *mdname, void *provkey,
                                      const OSSL_PARAM params[])
{
    return rsa_sig_verify_init(vctx, provkey, params) && digest_init(vctx, mdname);
}

static int rsa_sig_digest_update(void *vctx, const unsigned char *data, size_t datalen)
{
    CMK_RSA_SIG_CTX *ctx = vctx;

    return ctx->mdctx != NULL && EVP_DigestUpdate(ctx->mdctx, data, datalen);
}

static int digest_final(CMK_RSA_SIG_CTX *ctx, unsigned char *hash, unsigned int *len)
{
    if (ctx->mdctx == NULL || !EVP_DigestFinal_ex(ctx->mdctx, hash, len)) {
        CMK_ERR(ctx->prov, CMK_R_INTERNAL, "cannot finish the message's hash");
        return 0;
    }
    return 1;
}

static int rsa_sig_digest_sign_final(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize)
{
    CMK_RSA_SIG_CTX *ctx = vctx;
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (sig == NULL) {
        *siglen = ctx->key->bytes;
        return 1;
    }
    return digest_final(ctx, hash, &len) && rsa_sig_sign(ctx, sig, siglen, sigsize, hash, len);
}

static int rsa_sig_digest_verify_final(void *vctx, const unsigned char *sig, size_t siglen)
{
    CMK_RSA_SIG_CTX *ctx = vctx;
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    return digest_final(ctx, hash, &len) && rsa_sig_verify(ctx, sig, siglen, hash, len);
}

static const OSSL_DISPATCH rsa_sig_functions[] = {
    {OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))rsa_sig_newctx},
    {OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))rsa_sig_freectx},
    {OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))rsa_sig_dupctx},
    {OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*)(void))rsa_sig_sign_init},
    {OSSL_FUNC_SIGNATURE_SIGN, (void (*)(void))rsa_sig_sign},
    {OSSL_FUNC_SIGNATURE_VERIFY_INIT, (void (*)(void))rsa_sig_verify_init},
    {OSSL_FUNC_SIGNATURE_VERIFY, (void (*)(void))rsa_sig_verify},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))rsa_sig_digest_sign_init},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))rsa_sig_digest_update},
    {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void))rsa_sig_digest_sign_final},
    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, (void (*)(void))rsa_sig_digest_verify_init},
    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_UPDATE, (void (*)(void))rsa_sig_digest_update},
    {OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_FINAL, (void (*)(void))rsa_sig_digest_verify_final},
    {OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))cmk_rsa_sig_get_ctx_params},
    {OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))cmk_rsa_sig_gettable_ctx_params},
    {OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void))cmk_rsa_sig_set_ctx_params},
    {OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void))cmk_rsa_sig_settable_ctx_params},
    {0, NULL},
};

static const OSSL_ALGORITHM rsa_sig_algorithms[] = {
    {CMK_RSA_OP_NAME, "provider=cmk", rsa_sig_functions,
     "RSASSA-PKCS1-v1_5 and RSASSA-PSS in a PKCS#11 token"},
    {NULL, NULL, NULL, NULL},
};

const OSSL_ALGORITHM *cmk_signature_algorithms(CMK_PROV *prov)
{
    (void)prov;
    return rsa_sig_algorithms;
}
