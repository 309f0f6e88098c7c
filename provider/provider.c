/*
 * provider.c - the cmk provider's entry point and its algorithm tables.
 *
 * OpenSSL calls OSSL_provider_init once per library context that loads the module (through
 * openssl.cnf or OSSL_PROVIDER_load). Each operation family lives in its own file and exports
 * only its dispatch table; this file lists them. The PKCS#11 module is not touched here: it is
 * loaded at the first operation that needs a token, so `openssl list -providers` works even
 * when the token is away.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include "prov.h"
#include "prov_algs.h"

#define CMK_PROV_NAME "cmk"
#ifndef CMK_VERSION
#define CMK_VERSION "0.0.0"
#endif

static OSSL_FUNC_provider_teardown_fn cmk_teardown;
static OSSL_FUNC_provider_gettable_params_fn cmk_gettable_params;
static OSSL_FUNC_provider_get_params_fn cmk_get_params;
static OSSL_FUNC_provider_query_operation_fn cmk_query_operation;
static OSSL_FUNC_provider_get_reason_strings_fn cmk_get_reason_strings;

static const OSSL_PARAM *cmk_gettable_params(void *provctx)
{
    static const OSSL_PARAM gettable[] = {
        OSSL_PARAM_DEFN(OSSL_PROV_PARAM_NAME, OSSL_PARAM_UTF8_PTR, NULL, 0),
        OSSL_PARAM_DEFN(OSSL_PROV_PARAM_VERSION, OSSL_PARAM_UTF8_PTR, NULL, 0),
        OSSL_PARAM_DEFN(OSSL_PROV_PARAM_BUILDINFO, OSSL_PARAM_UTF8_PTR, NULL, 0),
        OSSL_PARAM_DEFN(OSSL_PROV_PARAM_STATUS, OSSL_PARAM_INTEGER, NULL, 0),
        OSSL_PARAM_END,
    };

    (void)provctx;
    return gettable;
}

static int cmk_get_params(void *provctx, OSSL_PARAM params[])
{
    OSSL_PARAM *p;

    (void)provctx;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, "cmk: customer-managed keys in a PKCS#11 token"))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, CMK_VERSION))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, CMK_VERSION))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS);
    if (p != NULL && !OSSL_PARAM_set_int(p, 1))
        return 0;
    return 1;
}

static const OSSL_ALGORITHM *cmk_query_operation(void *provctx, int operation_id, int *no_cache)
{
    CMK_PROV *prov = provctx;

    *no_cache = 0;
    switch (operation_id) {
    case OSSL_OP_CIPHER:
        return cmk_cipher_algorithms(prov);
    case OSSL_OP_STORE:
        return cmk_store_algorithms(prov);
    case OSSL_OP_KEYMGMT:
        /* Offered, uncached, only to this provider's own store loads: OpenSSL 3.0 gives a
         * fetch of "RSA" without properties to the provider listed first in openssl.cnf. */
        *no_cache = 1;
        return cmk_store_in_load() ? cmk_keymgmt_algorithms(prov) : NULL;
    case OSSL_OP_ASYM_CIPHER:
        return cmk_asym_cipher_algorithms(prov);
    case OSSL_OP_KEM:
        return cmk_kem_algorithms(prov);
    case OSSL_OP_SIGNATURE:
        return cmk_signature_algorithms(prov);
    default:
        return NULL;
    }
}

static const OSSL_ITEM *cmk_get_reason_strings(void *provctx)
{
    (void)provctx;
    return cmk_reason_strings();
}

static void cmk_prov_free(CMK_PROV *prov)
{
    if (prov == NULL)
        return;
    cmk_prov_tokens_free(prov);
    pthread_mutex_destroy(&prov->lock);
    OSSL_LIB_CTX_free(prov->libctx);
    free(prov->module_path);
    OPENSSL_clear_free(prov->token_pin, prov->token_pin ? strlen(prov->token_pin) : 0);
    free(prov->init_args);
    free(prov->audit_log);
    free(prov);
}

static void cmk_teardown(void *provctx)
{
    cmk_prov_free(provctx);
}

static const OSSL_DISPATCH cmk_dispatch[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))cmk_teardown},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))cmk_gettable_params},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))cmk_get_params},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))cmk_query_operation},
    {OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, (void (*)(void))cmk_get_reason_strings},
    {0, NULL},
};

/* Copies the provider section's options (names as latchset/pkcs11-provider spells them, so
 * configurations carry over). */
static int cmk_config_read(CMK_PROV *prov, OSSL_FUNC_core_get_params_fn *core_get_params)
{
    char *path = NULL, *pin = NULL, *init_args = NULL, *audit = NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_ptr("pkcs11-module-path", &path, 0),
        OSSL_PARAM_utf8_ptr("pkcs11-module-token-pin", &pin, 0),
        OSSL_PARAM_utf8_ptr("pkcs11-module-init-args", &init_args, 0),
        OSSL_PARAM_utf8_ptr("audit-log", &audit, 0),
        OSSL_PARAM_END,
    };

    if (core_get_params == NULL || !core_get_params(prov->handle, params))
        return 0;
    if ((path != NULL && (prov->module_path = strdup(path)) == NULL) ||
        (pin != NULL && (prov->token_pin = strdup(pin)) == NULL) ||
        (init_args != NULL && (prov->init_args = strdup(init_args)) == NULL) ||
        (audit != NULL && (prov->audit_log = strdup(audit)) == NULL))
        return 0;
    return 1;
}

__attribute__((visibility("default"))) OSSL_provider_init_fn OSSL_provider_init;

int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                       const OSSL_DISPATCH **out, void **provctx)
{
    OSSL_FUNC_core_get_params_fn *core_get_params = NULL;
    CMK_PROV *prov;

    if ((prov = calloc(1, sizeof(*prov))) == NULL)
        return 0;
    prov->handle = handle;
    pthread_mutex_init(&prov->lock, NULL);
    for (const OSSL_DISPATCH *f = in; f->function_id != 0; f++) {
        switch (f->function_id) {
        case OSSL_FUNC_CORE_GET_PARAMS:
            core_get_params = OSSL_FUNC_core_get_params(f);
            break;
        case OSSL_FUNC_CORE_NEW_ERROR:
            prov->core_new_error = OSSL_FUNC_core_new_error(f);
            break;
        case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
            prov->core_set_error_debug = OSSL_FUNC_core_set_error_debug(f);
            break;
        case OSSL_FUNC_CORE_VSET_ERROR:
            prov->core_vset_error = OSSL_FUNC_core_vset_error(f);
            break;
        default:
            break;
        }
    }
    /* A child library context of the caller's, for the few fetches done in memory (public-key
     * encryption where the token keeps no public object, HKDF): they are made with
     * "provider!=cmk" so the provider never recurses into itself. */
    prov->libctx = OSSL_LIB_CTX_new_child(handle, in);
    if (prov->libctx == NULL || !cmk_config_read(prov, core_get_params)) {
        cmk_prov_free(prov);
        return 0;
    }
    *out = cmk_dispatch;
    *provctx = prov;
    return 1;
}
