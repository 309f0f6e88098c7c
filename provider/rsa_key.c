/* rsa_key.c - the RSA key object shared by the store, key management, asymmetric cipher, KEM. */
#include <string.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include "rsa_key.h"

static const struct {
    p11_hash hash;
    const char *name;
} hash_names[] = {
    {P11_HASH_SHA1, "SHA1"},       {P11_HASH_SHA224, "SHA2-224"}, {P11_HASH_SHA256, "SHA2-256"},
    {P11_HASH_SHA384, "SHA2-384"}, {P11_HASH_SHA512, "SHA2-512"},
};

static const struct {
    int mode;
    const char *name;
} pad_names[] = {
    {RSA_PKCS1_PADDING, OSSL_PKEY_RSA_PAD_MODE_PKCSV15},
    {RSA_PKCS1_OAEP_PADDING, OSSL_PKEY_RSA_PAD_MODE_OAEP},
    {RSA_PKCS1_PSS_PADDING, OSSL_PKEY_RSA_PAD_MODE_PSS},
    {RSA_NO_PADDING, OSSL_PKEY_RSA_PAD_MODE_NONE},
    {RSA_X931_PADDING, OSSL_PKEY_RSA_PAD_MODE_X931},
};

int cmk_rsa_pad_mode_get(const OSSL_PARAM *p, const int *allowed, size_t n, int *mode)
{
    const char *name = NULL;
    int m = -1;

    if (p->data_type == OSSL_PARAM_UTF8_STRING) {
        if (OSSL_PARAM_get_utf8_string_ptr(p, &name))
            for (size_t i = 0; i < sizeof(pad_names) / sizeof(pad_names[0]); i++)
                if (strcmp(name, pad_names[i].name) == 0)
                    m = pad_names[i].mode;
    } else if (!OSSL_PARAM_get_int(p, &m)) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (m == allowed[i]) {
            *mode = m;
            return 1;
        }
    }
    return 0;
}

int cmk_rsa_pad_mode_set(OSSL_PARAM *p, int mode)
{
    if (p->data_type != OSSL_PARAM_UTF8_STRING)
        return OSSL_PARAM_set_int(p, mode);
    for (size_t i = 0; i < sizeof(pad_names) / sizeof(pad_names[0]); i++)
        if (pad_names[i].mode == mode)
            return OSSL_PARAM_set_utf8_string(p, pad_names[i].name);
    return 0;
}

const char *cmk_rsa_hash_name(p11_hash h)
{
    for (size_t i = 0; i < sizeof(hash_names) / sizeof(hash_names[0]); i++)
        if (hash_names[i].hash == h)
            return hash_names[i].name;
    return "SHA1";
}

int cmk_rsa_hash_from_name(CMK_PROV *prov, const char *name, p11_hash *out)
{
    EVP_MD *md = EVP_MD_fetch(prov->libctx, name, CMK_PROPQ_NOT_US);
    int ret = 0;

    if (md == NULL) {
        CMK_ERR(prov, CMK_R_BAD_PARAMETER, "unknown digest '%s'", name);
        return 0;
    }
    for (size_t i = 0; i < sizeof(hash_names) / sizeof(hash_names[0]); i++) {
        if (EVP_MD_is_a(md, hash_names[i].name)) {
            *out = hash_names[i].hash;
            ret = 1;
            break;
        }
    }
    if (!ret)
        CMK_ERR(prov, CMK_R_BAD_PARAMETER, "digest '%s' cannot be used with a token key", name);
    EVP_MD_free(md);
    return ret;
}

/* The public half as a key of another provider (never cmk: no recursion). */
static EVP_PKEY *pub_new(CMK_PROV *prov, const BIGNUM *n, const BIGNUM *e)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;

    if (bld == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
        goto end;
    ctx = EVP_PKEY_CTX_new_from_name(prov->libctx, "RSA", CMK_PROPQ_NOT_US);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
end:
    if (pkey == NULL)
        CMK_ERR(prov, CMK_R_INTERNAL, "cannot make the RSA public key in memory");
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

static CMK_RSA_KEY *key_new(CMK_PROV *prov, const BIGNUM *n, const BIGNUM *e)
{
    CMK_RSA_KEY *key = OPENSSL_zalloc(sizeof(*key));

    if (key == NULL) {
        CMK_ERR(prov, CMK_R_INTERNAL, "out of memory");
        return NULL;
    }
    key->prov = prov;
    key->bytes = (size_t)BN_num_bytes(n);
    if (key->bytes > CMK_RSA_MAX_BYTES) {
        CMK_ERR(prov, CMK_R_BAD_PARAMETER, "RSA modulus of %zu bits is too large",
                (size_t)BN_num_bits(n));
        goto err;
    }
    if ((key->pub = pub_new(prov, n, e)) == NULL)
        goto err;
    return key;
err:
    cmk_rsa_key_free(key);
    return NULL;
}

CMK_RSA_KEY *cmk_rsa_key_new_p11(CMK_PROV *prov, p11_key *k, int public_only)
{
    const uint8_t *nb, *eb;
    size_t n_len, e_len;
    BIGNUM *n = NULL, *e = NULL;
    CMK_RSA_KEY *key = NULL;

    nb = p11_key_modulus(k, &n_len);
    eb = p11_key_public_exponent(k, &e_len);
    if (nb == NULL || eb == NULL || (n = BN_bin2bn(nb, (int)n_len, NULL)) == NULL ||
        (e = BN_bin2bn(eb, (int)e_len, NULL)) == NULL) {
        CMK_ERR(prov, CMK_R_INTERNAL, "token key '%s' has no usable public half", p11_key_label(k));
        goto end;
    }
    if ((key = key_new(prov, n, e)) == NULL)
        goto end;
    key->p11 = p11_key_ref(k);
    key->has_private = !public_only && p11_key_has_private(k);
end:
    BN_free(n);
    BN_free(e);
    return key;
}

CMK_RSA_KEY *cmk_rsa_key_new_public(CMK_PROV *prov, const BIGNUM *n, const BIGNUM *e)
{
    return key_new(prov, n, e);
}

void cmk_rsa_key_free(CMK_RSA_KEY *key)
{
    if (key == NULL)
        return;
    p11_key_free(key->p11);
    EVP_PKEY_free(key->pub);
    OPENSSL_free(key);
}

/* In memory with the public half, through another provider. */
static int encrypt_in_memory(const CMK_RSA_KEY *key, const p11_rsa_params *p, unsigned char *out,
                             size_t *outlen, const unsigned char *in, size_t inlen)
{
    int pad = p->padding == P11_RSA_OAEP ? RSA_PKCS1_OAEP_PADDING : RSA_PKCS1_PADDING;
    OSSL_PARAM params[5], *q = params;
    EVP_PKEY_CTX *ctx;
    int ret = 0;

    *q++ = OSSL_PARAM_construct_int(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, &pad);
    if (p->padding == P11_RSA_OAEP) {
        *q++ = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST,
                                                (char *)cmk_rsa_hash_name(p->oaep_hash), 0);
        *q++ = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST,
                                                (char *)cmk_rsa_hash_name(p->mgf1_hash), 0);
        if (p->label_len > 0)
            *q++ = OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL,
                                                     (void *)p->label, p->label_len);
    }
    *q = OSSL_PARAM_construct_end();
    ctx = EVP_PKEY_CTX_new_from_pkey(key->prov->libctx, key->pub, CMK_PROPQ_NOT_US);
    if (ctx == NULL || EVP_PKEY_encrypt_init_ex(ctx, params) <= 0 ||
        EVP_PKEY_encrypt(ctx, out, outlen, in, inlen) <= 0) {
        CMK_ERR(key->prov, CMK_R_INTERNAL, "RSA encryption with the public key in memory failed");
        goto end;
    }
    ret = 1;
end:
    EVP_PKEY_CTX_free(ctx);
    return ret;
}

int cmk_rsa_key_encrypt(const CMK_RSA_KEY *key, const p11_rsa_params *p, unsigned char *out,
                        size_t *outlen, const unsigned char *in, size_t inlen)
{
    CK_RV rv;

    if (key->p11 != NULL && p11_key_has_public_object(key->p11)) {
        ERR_set_mark();
        rv = p11_rsa_encrypt(key->p11, p, in, inlen, out, outlen);
        ERR_pop_to_mark(); /* the module's own OpenSSL errors are not the application's */
        if (rv == CKR_OK)
            return 1;
        /* Encryption is public: where the token cannot do this padding (SoftHSM 2.6.1 refuses
         * SHA-256 OAEP) or keeps no public object, the same bytes come out of OpenSSL. */
        if (rv != P11_R_OAEP_HASH && rv != P11_R_NO_PUBLIC_OBJECT && rv != P11_R_UNSUPPORTED) {
            CMK_ERR_P11(key->prov, rv);
            return 0;
        }
    }
    return encrypt_in_memory(key, p, out, outlen, in, inlen);
}
