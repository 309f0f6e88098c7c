/*
 * signature_rsa_params.c - the parameters of a token key's signature context, named and typed
 * as OpenSSL 3.0's own RSA signature takes them (providers/implementations/signature/
 * rsa_sig.c): pad-mode and saltlen as int or string, digest and mgf1-digest by name, and the
 * signature's X.509 AlgorithmIdentifier to get (rsa_sig_der.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include "rsa_sig_der.h"
#include "signature_rsa.h"

static const struct {
    int value;
    const char *name;
} salt_names[] = {
    {RSA_PSS_SALTLEN_DIGEST, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST},
    {RSA_PSS_SALTLEN_MAX, OSSL_PKEY_RSA_PSS_SALT_LEN_MAX},
    {RSA_PSS_SALTLEN_AUTO, OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO},
};

EVP_MD *cmk_rsa_sig_md_fetch(CMK_PROV *prov, const char *name)
{
    p11_hash h;

    if (!cmk_rsa_hash_from_name(prov, name, &h))
        return NULL;
    return EVP_MD_fetch(prov->libctx, cmk_rsa_hash_name(h), CMK_PROPQ_NOT_US);
}

/* RFC 8017 section 9.1.1: emLen = ceil((modBits - 1) / 8) and sLen <= emLen - hLen - 2.
 * When signing, OpenSSL's "auto" (-2) and "max" (-3) both mean the longest salt. */
int cmk_rsa_sig_salt_resolve(CMK_RSA_SIG_CTX *ctx, size_t *out)
{
    size_t bits = (size_t)EVP_PKEY_get_bits(ctx->key->pub), em_len = (bits - 1 + 7) / 8;
    size_t h_len = (size_t)EVP_MD_get_size(ctx->md), max;

    if (em_len < h_len + 2) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "RSA key too small for PSS with this digest");
        return 0;
    }
    max = em_len - h_len - 2;
    if (ctx->saltlen == RSA_PSS_SALTLEN_DIGEST)
        *out = h_len;
    else if (ctx->saltlen == RSA_PSS_SALTLEN_AUTO || ctx->saltlen == RSA_PSS_SALTLEN_MAX)
        *out = max;
    else
        *out = (size_t)ctx->saltlen; /* set_ctx_params admits no other negative value */
    if (*out > max) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "PSS salt of %zu bytes: at most %zu here", *out,
                max);
        return 0;
    }
    return 1;
}

/* The X.509 AlgorithmIdentifier of the signature this context makes (ASN1_item_sign_ctx asks
 * for it when a certificate, CSR or CRL is signed). */
static int aid_get(CMK_RSA_SIG_CTX *ctx, OSSL_PARAM *p)
{
    unsigned char der[CMK_RSA_DER_MAX_BYTES];
    const EVP_MD *md = ctx->md;
    size_t salt = 0, n;

    if (md == NULL)
        return 0; /* raw PKCS#1 v1.5 has no algorithm identifier */
    if (ctx->pad == RSA_PKCS1_PSS_PADDING && !cmk_rsa_sig_salt_resolve(ctx, &salt))
        return 0;
    n = cmk_rsa_sig_algorithm_id(ctx->pad == RSA_PKCS1_PSS_PADDING, md,
                                 ctx->mgf1 != NULL ? ctx->mgf1 : md, salt, der, sizeof(der));
    return n > 0 && OSSL_PARAM_set_octet_string(p, der, n);
}

static int salt_get(const CMK_RSA_SIG_CTX *ctx, OSSL_PARAM *p)
{
    char num[16];

    if (p->data_type != OSSL_PARAM_UTF8_STRING)
        return OSSL_PARAM_set_int(p, ctx->saltlen);
    for (size_t i = 0; i < sizeof(salt_names) / sizeof(salt_names[0]); i++)
        if (salt_names[i].value == ctx->saltlen)
            return OSSL_PARAM_set_utf8_string(p, salt_names[i].name);
    snprintf(num, sizeof(num), "%d", ctx->saltlen);
    return OSSL_PARAM_set_utf8_string(p, num);
}

int cmk_rsa_sig_get_ctx_params(void *vctx, OSSL_PARAM params[])
{
    CMK_RSA_SIG_CTX *ctx = vctx;
    const EVP_MD *mgf1 = ctx->mgf1 != NULL ? ctx->mgf1 : ctx->md;
    OSSL_PARAM *p;

    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL &&
        !cmk_rsa_pad_mode_set(p, ctx->pad))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, ctx->md != NULL ? EVP_MD_get0_name(ctx->md) : ""))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, mgf1 != NULL ? EVP_MD_get0_name(mgf1) : ""))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL &&
        !salt_get(ctx, p))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID)) != NULL &&
        !aid_get(ctx, p))
        return 0;
    return 1;
}

const OSSL_PARAM *cmk_rsa_sig_gettable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
        OSSL_PARAM_END,
    };

    (void)vctx, (void)provctx;
    return gettable;
}

/* pad-mode as OpenSSL gives it: an int (RSA_*_PADDING) or a string ("pkcs1", "pss"). Raw
 * (none) and X9.31 are refused: raw RSA with the private key signs anything. */
static int pad_set(CMK_RSA_SIG_CTX *ctx, const OSSL_PARAM *p)
{
    static const int allowed[] = {RSA_PKCS1_PADDING, RSA_PKCS1_PSS_PADDING};
    int mode;

    if (!cmk_rsa_pad_mode_get(p, allowed, sizeof(allowed) / sizeof(allowed[0]), &mode)) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER,
                "RSA signature padding not offered with a token key (only pkcs1 and pss)");
        return 0;
    }
    ctx->pad = mode;
    return 1;
}

/* saltlen as an int or as OpenSSL's strings: "digest", "max", "auto" or a number. */
static int salt_set(CMK_RSA_SIG_CTX *ctx, const OSSL_PARAM *p)
{
    const char *s = NULL;
    char *end;
    long v = -4;

    if (p->data_type == OSSL_PARAM_UTF8_STRING) {
        if (OSSL_PARAM_get_utf8_string_ptr(p, &s)) {
            for (size_t i = 0; i < sizeof(salt_names) / sizeof(salt_names[0]); i++)
                if (strcmp(s, salt_names[i].name) == 0)
                    v = salt_names[i].value;
            if (v == -4 && s[0] != '\0' && ((v = strtol(s, &end, 10)), *end != '\0'))
                v = -4;
        }
    } else {
        int i;

        if (OSSL_PARAM_get_int(p, &i))
            v = i;
    }
    if (v < RSA_PSS_SALTLEN_MAX || v > CMK_RSA_MAX_BYTES) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "bad PSS salt length");
        return 0;
    }
    ctx->saltlen = (int)v;
    return 1;
}

static int md_set(CMK_RSA_SIG_CTX *ctx, const OSSL_PARAM *p, EVP_MD **slot)
{
    const char *name = NULL;
    EVP_MD *md;

    if (!OSSL_PARAM_get_utf8_string_ptr(p, &name)) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "%s must be a digest name", p->key);
        return 0;
    }
    /* The message is already being hashed with md: another one cannot be signed for it. */
    if (slot == &ctx->md && ctx->mdctx != NULL) {
        if (ctx->md != NULL && EVP_MD_is_a(ctx->md, name))
            return 1;
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "the digest cannot change while hashing");
        return 0;
    }
    if ((md = cmk_rsa_sig_md_fetch(ctx->prov, name)) == NULL)
        return 0;
    EVP_MD_free(*slot);
    *slot = md;
    return 1;
}

int cmk_rsa_sig_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    CMK_RSA_SIG_CTX *ctx = vctx;
    const OSSL_PARAM *p;

    if (params == NULL)
        return 1;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL &&
        !pad_set(ctx, p))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST)) != NULL &&
        !md_set(ctx, p, &ctx->md))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) != NULL &&
        !md_set(ctx, p, &ctx->mgf1))
        return 0;
    if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL &&
        !salt_set(ctx, p))
        return 0;
    /* properties, mgf1-properties: accepted and without effect (our digests are fetched with
     * CMK_PROPQ_NOT_US). */
    return 1;
}

const OSSL_PARAM *cmk_rsa_sig_settable_ctx_params(void *vctx, void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_PROPERTIES, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
        OSSL_PARAM_END,
    };

    (void)vctx, (void)provctx;
    return settable;
}
