/*
 * keymgmt_rsa.c - RSA key management for keys kept in a token (OSSL_OP_KEYMGMT,
 * provider-keymgmt(7)).
 *
 * Keys arrive by reference from the store (load), or as public keys imported from another
 * provider (new + import: a certificate's key compared with a token key). The private half is
 * never exported: OpenSSL would otherwise make a public-only copy in another provider and run
 * private operations there. In-memory key pairs and key generation are not ours: OpenSSL finds
 * this key management only through cmk's store (docs/architecture-provider.md).
 */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include "prov_algs.h"
#include "rsa_key.h"

static OSSL_FUNC_keymgmt_new_fn rsa_keymgmt_new;
static OSSL_FUNC_keymgmt_free_fn rsa_keymgmt_free;
static OSSL_FUNC_keymgmt_load_fn rsa_keymgmt_load;
static OSSL_FUNC_keymgmt_dup_fn rsa_keymgmt_dup;
static OSSL_FUNC_keymgmt_has_fn rsa_keymgmt_has;
static OSSL_FUNC_keymgmt_match_fn rsa_keymgmt_match;
static OSSL_FUNC_keymgmt_import_fn rsa_keymgmt_import;
static OSSL_FUNC_keymgmt_import_types_fn rsa_keymgmt_import_types;
static OSSL_FUNC_keymgmt_export_fn rsa_keymgmt_export;
static OSSL_FUNC_keymgmt_export_types_fn rsa_keymgmt_export_types;
static OSSL_FUNC_keymgmt_get_params_fn rsa_keymgmt_get_params;
static OSSL_FUNC_keymgmt_gettable_params_fn rsa_keymgmt_gettable_params;
static OSSL_FUNC_keymgmt_query_operation_name_fn rsa_keymgmt_query_operation_name;

/* An empty key, for import. */
static void *rsa_keymgmt_new(void *provctx)
{
    CMK_RSA_KEY *key = OPENSSL_zalloc(sizeof(*key));

    if (key == NULL)
        CMK_ERR(provctx, CMK_R_INTERNAL, "out of memory");
    else
        key->prov = provctx;
    return key;
}

static void rsa_keymgmt_free(void *keydata)
{
    cmk_rsa_key_free(keydata);
}

/* Called by OSSL_STORE with the reference store.c passed to the object callback. */
static void *rsa_keymgmt_load(const void *reference, size_t reference_sz)
{
    const CMK_RSA_REF *ref = reference;

    cmk_store_load_done(); /* our key management was found: hide it again */
    if (reference_sz != sizeof(*ref) || ref->magic != CMK_RSA_REF_MAGIC)
        return NULL;
    return cmk_rsa_key_new_p11(ref->prov, ref->p11, ref->public_only);
}

/* EVP_PKEY_dup: a key is immutable, so the copy shares the token reference and public half. */
static void *rsa_keymgmt_dup(const void *keydata_from, int selection)
{
    const CMK_RSA_KEY *from = keydata_from;
    CMK_RSA_KEY *key;

    if ((key = rsa_keymgmt_new(from->prov)) == NULL)
        return NULL;
    if (from->p11 != NULL)
        key->p11 = p11_key_ref(from->p11);
    if (from->pub != NULL && EVP_PKEY_up_ref(from->pub))
        key->pub = from->pub;
    key->bytes = from->bytes;
    key->has_private = from->has_private && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0;
    return key;
}

static int rsa_keymgmt_has(const void *keydata, int selection)
{
    const CMK_RSA_KEY *key = keydata;

    if (key == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) && key->pub == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && !key->has_private)
        return 0;
    return 1; /* RSA has no domain parameters */
}

/* Equal public halves (a token key and its certificate's key, or two views of one key). */
static int rsa_keymgmt_match(const void *keydata1, const void *keydata2, int selection)
{
    const CMK_RSA_KEY *k1 = keydata1, *k2 = keydata2;

    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) == 0)
        return 1;
    if (k1->pub == NULL || k2->pub == NULL)
        return 0;
    return EVP_PKEY_eq(k1->pub, k2->pub) == 1;
}

static const OSSL_PARAM rsa_public_types[] = {
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
    OSSL_PARAM_END,
};

/* Public keys only: a private key in memory is not a customer-managed key. */
static int rsa_keymgmt_import(void *keydata, int selection, const OSSL_PARAM params[])
{
    CMK_RSA_KEY *key = keydata, *tmp;
    const OSSL_PARAM *pn, *pe;
    BIGNUM *n = NULL, *e = NULL;
    int ret = 0;

    if (key == NULL || key->pub != NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) == 0)
        return 0;
    pn = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_N);
    pe = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_E);
    /* No error raised: OpenSSL tries import into several providers and keeps the one that
     * takes it, so a private key going elsewhere must not leave a message behind. */
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0 &&
        OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_D) != NULL)
        return 0;
    if (pn == NULL || pe == NULL || !OSSL_PARAM_get_BN(pn, &n) || !OSSL_PARAM_get_BN(pe, &e))
        goto end;
    if ((tmp = cmk_rsa_key_new_public(key->prov, n, e)) == NULL)
        goto end;
    key->pub = tmp->pub;
    key->bytes = tmp->bytes;
    tmp->pub = NULL;
    cmk_rsa_key_free(tmp);
    ret = 1;
end:
    BN_free(n);
    BN_free(e);
    return ret;
}

static const OSSL_PARAM *rsa_keymgmt_import_types(int selection)
{
    return (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) ? rsa_public_types : NULL;
}

static int rsa_keymgmt_export(void *keydata, int selection, OSSL_CALLBACK *param_cb, void *cbarg)
{
    CMK_RSA_KEY *key = keydata;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    int ret = 0;

    if (key == NULL || key->pub == NULL)
        return 0;
    if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && key->has_private) {
        CMK_ERR(key->prov, CMK_R_NO_PRIVATE_KEY,
                "the private key of a customer-managed key never leaves the token");
        return 0;
    }
    if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) == 0)
        return param_cb((OSSL_PARAM[]){OSSL_PARAM_END}, cbarg);
    if (!EVP_PKEY_get_bn_param(key->pub, OSSL_PKEY_PARAM_RSA_N, &n) ||
        !EVP_PKEY_get_bn_param(key->pub, OSSL_PKEY_PARAM_RSA_E, &e) ||
        (bld = OSSL_PARAM_BLD_new()) == NULL ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
        (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
        CMK_ERR(key->prov, CMK_R_INTERNAL, "cannot export the public key");
        goto end;
    }
    ret = param_cb(params, cbarg);
end:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return ret;
}

static const OSSL_PARAM *rsa_keymgmt_export_types(int selection)
{
    return rsa_keymgmt_import_types(selection);
}

static int rsa_keymgmt_get_params(void *keydata, OSSL_PARAM params[])
{
    CMK_RSA_KEY *key = keydata;
    OSSL_PARAM *p;
    BIGNUM *bn = NULL;
    int bits;

    if (key->pub == NULL)
        return 0;
    bits = EVP_PKEY_get_bits(key->pub);
    if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_BITS)) != NULL &&
        !OSSL_PARAM_set_int(p, bits))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_SECURITY_BITS)) != NULL &&
        !OSSL_PARAM_set_int(p, BN_security_bits(bits, -1)))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MAX_SIZE)) != NULL &&
        !OSSL_PARAM_set_int(p, (int)key->bytes))
        return 0;
    /* What `openssl req` and EVP_DigestSignInit sign with when no digest is named: OpenSSL's
     * own RSA keys say SHA-256 too. */
    if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_DEFAULT_DIGEST)) != NULL &&
        !OSSL_PARAM_set_utf8_string(p, "SHA256"))
        return 0;
    for (const char *const *name =
             (const char *const[]){OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, NULL};
         *name != NULL; name++) {
        if ((p = OSSL_PARAM_locate(params, *name)) == NULL)
            continue;
        if (!EVP_PKEY_get_bn_param(key->pub, *name, &bn) || !OSSL_PARAM_set_BN(p, bn)) {
            BN_free(bn);
            return 0;
        }
        BN_free(bn);
        bn = NULL;
    }
    return 1;
}

static const OSSL_PARAM *rsa_keymgmt_gettable_params(void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
        OSSL_PARAM_END,
    };

    (void)provctx;
    return gettable;
}

/* OpenSSL 3.0 fetches a key's operation by this name and insists on the key's provider: so a
 * token key reaches cmk's asymmetric cipher, KEM and signature, and an in-memory key (whose name is
 * "RSA") never does, whatever the order of providers. */
static const char *rsa_keymgmt_query_operation_name(int operation_id)
{
    (void)operation_id;
    return CMK_RSA_OP_NAME;
}

static const OSSL_DISPATCH rsa_keymgmt_functions[] = {
    {OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))rsa_keymgmt_new},
    {OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))rsa_keymgmt_free},
    {OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void))rsa_keymgmt_load},
    {OSSL_FUNC_KEYMGMT_DUP, (void (*)(void))rsa_keymgmt_dup},
    {OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))rsa_keymgmt_has},
    {OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))rsa_keymgmt_match},
    {OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))rsa_keymgmt_import},
    {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))rsa_keymgmt_import_types},
    {OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))rsa_keymgmt_export},
    {OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))rsa_keymgmt_export_types},
    {OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))rsa_keymgmt_get_params},
    {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))rsa_keymgmt_gettable_params},
    {OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))rsa_keymgmt_query_operation_name},
    {0, NULL},
};

static const OSSL_ALGORITHM rsa_keymgmt_algorithms[] = {
    {"RSA:rsaEncryption:1.2.840.113549.1.1.1", "provider=cmk", rsa_keymgmt_functions,
     "RSA keys kept in a PKCS#11 token"},
    {NULL, NULL, NULL, NULL},
};

const OSSL_ALGORITHM *cmk_keymgmt_algorithms(CMK_PROV *prov)
{
    (void)prov;
    return rsa_keymgmt_algorithms;
}
