/*
 * prov_token.c - the tokens a provider instance has opened, shared by its operations.
 *
 * The module is loaded at the first operation that needs a token (not at provider init, so
 * `openssl list -providers` works with the token away); each token is opened once, logged in
 * with the PIN of pkcs11-module-token-pin (or the URI's pin-value/pin-source), and reused by
 * every later URI naming it.
 */
#include <stdlib.h>
#include <string.h>
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

/* prov->lock guards only the list and the module: it is taken inside p11_module_hold (so fork()
 * waits until no thread holds it, p11_module.h) and never across a call into the module, which
 * may wait for a login or reload the module for SoftHSM's read race (docs/pkcs11-layer.md).
 * So a first open takes it twice: to look (token, module), and to record what it opened
 * meanwhile; two threads may both open, and the first to record wins. */
static p11_token *token_find_locked(CMK_PROV *prov, const char *uri)
{
    for (size_t i = 0; i < prov->ntokens; i++)
        if (p11_token_matches(prov->tokens[i], uri))
            return prov->tokens[i];
    return NULL;
}

/* Loads the module named in the provider's section (a new reference). */
static p11_module *module_load(CMK_PROV *prov)
{
    p11_module *m = NULL;
    CK_RV rv;

    if (prov->module_path == NULL) {
        CMK_ERR(prov, CMK_R_CONFIG, "pkcs11-module-path is not set in the provider's section");
        return NULL;
    }
    ERR_set_mark();
    rv = p11_module_get(prov->module_path, prov->init_args, &m);
    ERR_pop_to_mark(); /* the module's own OpenSSL errors are not the application's */
    if (rv != CKR_OK) {
        CMK_ERR_P11(prov, rv); /* the detail names the path */
        return NULL;
    }
    return m;
}

p11_token *cmk_prov_token_get(CMK_PROV *prov, const char *uri)
{
    p11_module *m, *new_m = NULL;
    p11_token *t, *mine = NULL;
    CK_RV rv;

    pthread_once(&exit_once, exit_register);
    p11_module_hold();
    pthread_mutex_lock(&prov->lock);
    t = token_find_locked(prov, uri);
    m = prov->module;
    pthread_mutex_unlock(&prov->lock);
    p11_module_release();
    if (t != NULL)
        return t;
    if (m == NULL && (m = new_m = module_load(prov)) == NULL)
        return NULL;
    ERR_set_mark();
    rv = p11_token_open(m, uri, prov->token_pin, &mine);
    ERR_pop_to_mark();
    if (rv != CKR_OK)
        CMK_ERR_P11(prov, rv);
    p11_module_hold();
    pthread_mutex_lock(&prov->lock);
    if (prov->module == NULL) { /* kept even when the token failed to open: loaded once */
        prov->module = new_m;
        new_m = NULL;
    }
    /* another thread may have opened the same token meanwhile: the first one stays */
    if (rv == CKR_OK && (t = token_find_locked(prov, uri)) == NULL &&
        prov->ntokens < CMK_MAX_TOKENS) {
        t = prov->tokens[prov->ntokens++] = mine;
        mine = NULL;
    }
    pthread_mutex_unlock(&prov->lock);
    p11_module_release();
    p11_module_put(new_m); /* another thread recorded the module first (the same one) */
    if (rv == CKR_OK && t == NULL)
        CMK_ERR(prov, CMK_R_CONFIG, "more than %d tokens in use", CMK_MAX_TOKENS);
    p11_token_free(mine);
    return t;
}

void cmk_prov_tokens_free(CMK_PROV *prov)
{
    p11_token *tokens[CMK_MAX_TOKENS];
    size_t n;
    p11_module *m;

    /* the provider is being torn down: no operation of it runs now */
    p11_module_hold();
    pthread_mutex_lock(&prov->lock);
    n = prov->ntokens;
    memcpy(tokens, prov->tokens, n * sizeof(tokens[0]));
    m = prov->module;
    prov->ntokens = 0;
    prov->module = NULL;
    pthread_mutex_unlock(&prov->lock);
    p11_module_release();
    for (size_t i = 0; i < n; i++)
        p11_token_free(tokens[i]);
    p11_module_put(m);
}
