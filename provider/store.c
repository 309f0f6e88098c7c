/*
 * store.c - pkcs11: URIs through OSSL_STORE (OSSL_OP_STORE, provider-storemgmt(7)).
 *
 * `openssl pkey -in 'pkcs11:token=T;object=K'`, `openssl storeutl` and every `-inkey pkcs11:...`
 * land here. A URI (RFC 7512) names one RSA key; the loader hands it to OpenSSL as an
 * OSSL_OBJECT_PARAM_REFERENCE that key management's load turns into a key object. The private
 * key stays in the token; its public half is read off the token.
 *
 * How OpenSSL 3.0 turns the reference into a key (crypto/store/store_result.c, try_key_ref):
 * it first fetches "RSA" key management with no regard to provider; that finds the default
 * provider's (cmk offers none then), so it calls this loader's export_object, and when that
 * exports nothing it fetches "RSA" from the loader's own provider and calls its load. Only in
 * that window, opened by store_export_object on this thread and closed by the load, does cmk
 * offer its key management (cmk_store_in_load): a fetch of "RSA" anywhere else, and its cached
 * result, never lands on cmk (docs/architecture-provider.md).
 */
#include <string.h>
#include <strings.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/params.h>
#include <openssl/store.h>
#include "prov_algs.h"
#include "key_state.h"
#include "rsa_key.h"

static OSSL_FUNC_store_open_fn store_open;
static OSSL_FUNC_store_settable_ctx_params_fn store_settable_ctx_params;
static OSSL_FUNC_store_set_ctx_params_fn store_set_ctx_params;
static OSSL_FUNC_store_load_fn store_load;
static OSSL_FUNC_store_eof_fn store_eof;
static OSSL_FUNC_store_close_fn store_close;
static OSSL_FUNC_store_export_object_fn store_export_object;

typedef struct cmk_store_ctx {
    CMK_PROV *prov;
    p11_key *key;
    int expect; /* OSSL_STORE_INFO_* or 0 for any */
    int done;
} CMK_STORE_CTX;

static _Thread_local int keymgmt_window;

int cmk_store_in_load(void)
{
    return keymgmt_window;
}

void cmk_store_load_done(void)
{
    keymgmt_window = 0;
}

static void *store_open(void *provctx, const char *uri)
{
    CMK_PROV *prov = provctx;
    CMK_STORE_CTX *ctx;
    p11_token *t;
    CK_RV rv;

    if (uri == NULL || strncasecmp(uri, "pkcs11:", 7) != 0)
        return NULL; /* not ours: OSSL_STORE tries another loader */
    if ((t = cmk_prov_token_get(prov, uri)) == NULL)
        return NULL;
    if ((ctx = OPENSSL_zalloc(sizeof(*ctx))) == NULL) {
        CMK_ERR(prov, CMK_R_INTERNAL, "out of memory");
        return NULL;
    }
    ctx->prov = prov;
    ERR_set_mark();
    rv = p11_key_find(t, uri, &ctx->key);
    ERR_pop_to_mark(); /* the module's own OpenSSL errors are not the application's */
    if (rv != CKR_OK) {
        CMK_ERR_P11(prov, rv);
        OPENSSL_free(ctx);
        return NULL;
    }
    return ctx;
}

static const OSSL_PARAM *store_settable_ctx_params(void *provctx)
{
    static const OSSL_PARAM settable[] = {
        OSSL_PARAM_int(OSSL_STORE_PARAM_EXPECT, NULL),
        OSSL_PARAM_END,
    };

    (void)provctx;
    return settable;
}

static int store_set_ctx_params(void *loaderctx, const OSSL_PARAM params[])
{
    CMK_STORE_CTX *ctx = loaderctx;
    const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_EXPECT);

    if (p != NULL && !OSSL_PARAM_get_int(p, &ctx->expect)) {
        CMK_ERR(ctx->prov, CMK_R_BAD_PARAMETER, "bad %s", OSSL_STORE_PARAM_EXPECT);
        return 0;
    }
    return 1; /* the other search criteria (subject, fingerprint, ...) name no key of ours */
}

/* The one key the URI names: the private key unless the caller expects a public key or the
 * URI selects one (type=public); a private key must be a CMK (sensitive, not extractable). */
static int store_load(void *loaderctx, OSSL_CALLBACK *object_cb, void *object_cbarg,
                      OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    CMK_STORE_CTX *ctx = loaderctx;
    int type = OSSL_OBJECT_PKEY, ret;
    CMK_RSA_REF ref = {CMK_RSA_REF_MAGIC, ctx->prov, ctx->key, 0};
    OSSL_PARAM params[4];
    CK_RV rv;

    (void)pw_cb, (void)pw_cbarg; /* the PIN comes from openssl.cnf or the URI */
    if (ctx->done)
        return 0;
    ctx->done = 1;
    if (ctx->expect != 0 && ctx->expect != OSSL_STORE_INFO_PKEY &&
        ctx->expect != OSSL_STORE_INFO_PUBKEY)
        return 1; /* certificates, CRLs, parameters: the token holds none we serve */
    ref.public_only = ctx->expect == OSSL_STORE_INFO_PUBKEY || !p11_key_has_private(ctx->key);
    if (ctx->expect == OSSL_STORE_INFO_PKEY && ref.public_only) {
        CMK_ERR(ctx->prov, CMK_R_NO_PRIVATE_KEY, "'%s' names a public key only",
                p11_key_label(ctx->key));
        return 0;
    }
    if (!ref.public_only && (rv = p11_key_check_cmk(ctx->key)) != CKR_OK) {
        CMK_ERR_P11(ctx->prov, rv);
        return 0;
    }
    if (!cmk_key_state_load_check(ctx->prov, ctx->key))
        return 0;
    params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &type);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE, "RSA", 0);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &ref, sizeof(ref));
    params[3] = OSSL_PARAM_construct_end();
    ret = object_cb(params, object_cbarg);
    keymgmt_window = 0;
    return ret;
}

static int store_eof(void *loaderctx)
{
    CMK_STORE_CTX *ctx = loaderctx;

    return ctx->done;
}

static int store_close(void *loaderctx)
{
    CMK_STORE_CTX *ctx = loaderctx;

    if (ctx == NULL)
        return 1;
    p11_key_free(ctx->key);
    OPENSSL_free(ctx);
    return 1;
}

/* Called when the "RSA" key management OpenSSL found is another provider's: a token key is
 * not exported (its private half cannot be; its public half stays with cmk so encryption uses
 * the token's public object), and OpenSSL's next step is to fetch ours. */
static int store_export_object(void *loaderctx, const void *reference, size_t reference_sz,
                               OSSL_CALLBACK *export_cb, void *export_cbarg)
{
    const CMK_RSA_REF *ref = reference;

    (void)loaderctx, (void)export_cb, (void)export_cbarg;
    if (reference_sz == sizeof(*ref) && ref->magic == CMK_RSA_REF_MAGIC)
        keymgmt_window = 1;
    return 0;
}

static const OSSL_DISPATCH store_functions[] = {
    {OSSL_FUNC_STORE_OPEN, (void (*)(void))store_open},
    {OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS, (void (*)(void))store_settable_ctx_params},
    {OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*)(void))store_set_ctx_params},
    {OSSL_FUNC_STORE_LOAD, (void (*)(void))store_load},
    {OSSL_FUNC_STORE_EOF, (void (*)(void))store_eof},
    {OSSL_FUNC_STORE_CLOSE, (void (*)(void))store_close},
    {OSSL_FUNC_STORE_EXPORT_OBJECT, (void (*)(void))store_export_object},
    {0, NULL},
};

static const OSSL_ALGORITHM store_algorithms[] = {
    {"pkcs11", "provider=cmk", store_functions, "keys in a PKCS#11 token by pkcs11: URI"},
    {NULL, NULL, NULL, NULL},
};

const OSSL_ALGORITHM *cmk_store_algorithms(CMK_PROV *prov)
{
    (void)prov;
    return store_algorithms;
}
