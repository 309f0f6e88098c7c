/*
 * prov_token.c - the tokens a provider instance has opened, shared by its operations.
 *
 * The module is loaded at the first operation that needs a token (not at provider init, so
 * `openssl list -providers` works with the token away); each token is opened once, logged in
 * with the PIN of pkcs11-module-token-pin (or the URI's pin-value/pin-source), and reused by
 * every later URI naming it.
 */
#include <stdlib.h>
#include <openssl/err.h>
#include "prov.h"
#include "../pkcs11/p11_token.h"

/* An exit handler registered after OpenSSL's own runs before it: when OpenSSL's exit-time
 * cleanup then tears the provider down, SoftHSM 2.6.1 is already destroyed and crashes in
 * C_CloseSession (as in C_Finalize), so the PKCS#11 layer frees its memory without calling the
 * module; the process is ending anyway. OSSL_PROVIDER_unload during the process still closes
 * every session. */
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

static void exit_mark(void)
{
    p11_exiting_set();
}

static void exit_register(void)
{
    atexit(exit_mark);
}

static int module_get_locked(CMK_PROV *prov)
{
    CK_RV rv;

    if (prov->module != NULL)
        return 1;
    if (prov->module_path == NULL) {
        CMK_ERR(prov, CMK_R_CONFIG, "pkcs11-module-path is not set in the provider's section");
        return 0;
    }
    ERR_set_mark();
    rv = p11_module_get(prov->module_path, prov->init_args, &prov->module);
    ERR_pop_to_mark(); /* the module's own OpenSSL errors are not the application's */
    if (rv != CKR_OK) {
        CMK_ERR_P11(prov, rv); /* the detail names the path */
        prov->module = NULL;
        return 0;
    }
    return 1;
}

p11_token *cmk_prov_token_get(CMK_PROV *prov, const char *uri)
{
    p11_token *t = NULL;
    CK_RV rv;

    pthread_once(&exit_once, exit_register);
    pthread_mutex_lock(&prov->lock);
    if (!module_get_locked(prov))
        goto end;
    for (size_t i = 0; i < prov->ntokens; i++) {
        if (p11_token_matches(prov->tokens[i], uri)) {
            t = prov->tokens[i];
            goto end;
        }
    }
    if (prov->ntokens == CMK_MAX_TOKENS) {
        CMK_ERR(prov, CMK_R_CONFIG, "more than %d tokens in use", CMK_MAX_TOKENS);
        goto end;
    }
    ERR_set_mark();
    rv = p11_token_open(prov->module, uri, prov->token_pin, &t);
    ERR_pop_to_mark();
    if (rv != CKR_OK) {
        CMK_ERR_P11(prov, rv);
        t = NULL;
        goto end;
    }
    prov->tokens[prov->ntokens++] = t;
end:
    pthread_mutex_unlock(&prov->lock);
    return t;
}

void cmk_prov_tokens_free(CMK_PROV *prov)
{
    pthread_mutex_lock(&prov->lock);
    for (size_t i = 0; i < prov->ntokens; i++)
        p11_token_free(prov->tokens[i]);
    prov->ntokens = 0;
    if (prov->module != NULL)
        p11_module_put(prov->module);
    prov->module = NULL;
    pthread_mutex_unlock(&prov->lock);
}
