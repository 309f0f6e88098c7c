/*
 * prov.h - the cmk provider's context and its one error idiom.
 *
 * One CMK_PROV exists per load of the provider into a library context. It holds the core's
 * callbacks, the openssl.cnf options of its section, and the PKCS#11 state that its
 * operation families share (module, open tokens). Operation contexts keep a pointer to it.
 *
 * Errors: functions return 1 on success and 0 on failure, raising the error where it happens
 * with CMK_ERR / CMK_ERR_P11; nothing above converts again.
 */
#ifndef CMK_PROV_H
#define CMK_PROV_H

#include <pthread.h>
#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <p11-kit/pkcs11.h>

typedef struct p11_module p11_module;
typedef struct p11_token p11_token;

#define CMK_MAX_TOKENS 16

typedef struct cmk_prov {
    const OSSL_CORE_HANDLE *handle;
    OSSL_LIB_CTX *libctx; /* for fetches on behalf of this provider's callers */
    OSSL_FUNC_core_new_error_fn *core_new_error;
    OSSL_FUNC_core_set_error_debug_fn *core_set_error_debug;
    OSSL_FUNC_core_vset_error_fn *core_vset_error;

    /* openssl.cnf options of the provider's section (NULL when absent) */
    char *module_path; /* pkcs11-module-path */
    char *token_pin;   /* pkcs11-module-token-pin: file:PATH, env:VAR or literal */
    char *init_args;   /* pkcs11-module-init-args: C_Initialize pReserved */
    char *audit_log;   /* audit-log: where wraps, unwraps and refusals are recorded, or NULL */

    pthread_mutex_t lock; /* guards module and tokens */
    p11_module *module;   /* loaded at first use, not at provider init */
    p11_token *tokens[CMK_MAX_TOKENS];
    size_t ntokens;
} CMK_PROV;

/* Reason codes: the strings are in prov_err.c and reach OpenSSL through get_reason_strings. */
enum cmk_reason {
    CMK_R_PKCS11 = 1,    /* a PKCS#11 call failed: the message names the CKR */
    CMK_R_CONFIG,        /* an openssl.cnf option is missing or wrong */
    CMK_R_BAD_URI,       /* a pkcs11: URI that is malformed or selects nothing */
    CMK_R_NOT_A_CMK,     /* the key is extractable or not sensitive */
    CMK_R_OAEP_HASH,     /* the token cannot do OAEP with the requested hash */
    CMK_R_BAD_PARAMETER, /* an unsupported or malformed OSSL_PARAM */
    CMK_R_BUFFER_TOO_SMALL,
    CMK_R_NO_PRIVATE_KEY, /* a private operation on a public-only key */
    CMK_R_INTERNAL,
    CMK_R_BAD_TAG,       /* AEAD tag mismatch */
    CMK_R_KEY_STATE,     /* the key is disabled, deleted, expired or not yet valid (key_state.h) */
    CMK_R_NOT_PERMITTED, /* the key's usage attributes forbid the operation (CKA_SIGN false) */
};

const OSSL_ITEM *cmk_reason_strings(void);

/* Raises reason with a printf-style message on OpenSSL's error queue. */
void cmk_err_raise(const CMK_PROV *prov, const char *file, int line, const char *func, int reason,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));
#define CMK_ERR(prov, reason, ...)                                                                 \
    cmk_err_raise((prov), __FILE__, __LINE__, __func__, (reason), __VA_ARGS__)

/* Raises the PKCS#11 layer's failure rv, with the detail pkcs11/ recorded for this thread
 * (it names the CKR), under the reason that fits it best. */
void cmk_err_raise_p11(const CMK_PROV *prov, const char *file, int line, const char *func,
                       CK_RV rv);
#define CMK_ERR_P11(prov, rv) cmk_err_raise_p11((prov), __FILE__, __LINE__, __func__, (rv))

/* The token a pkcs11: URI names, opened (and logged in lazily) at first use and then shared
 * by every operation of this provider instance. Returns NULL with the error raised. */
p11_token *cmk_prov_token_get(CMK_PROV *prov, const char *uri);
/* Closes the provider's tokens and puts its module (at teardown). */
void cmk_prov_tokens_free(CMK_PROV *prov);

#endif
