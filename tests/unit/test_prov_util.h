/*
 * test_prov_util.h - what the provider's unit tests share: keys made in the test token with
 * build/cmk-keygen (so the test process holds no second copy of the PKCS#11 layer) and
 * loaded through OSSL_STORE with the openssl.cnf tests/run.sh exports (OPENSSL_CONF).
 */
#ifndef CMK_TEST_PROV_UTIL_H
#define CMK_TEST_PROV_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/store.h>
#include "testlib.h"

/* Makes an RSA-2048 key labelled "<what>-<pid>" in the test token for ops (cmk-keygen --ops:
 * "decrypt", "sign", "decrypt,sign") and writes its pkcs11: URI to uri. Returns 0 on success. */
static inline int tp_keygen_ops(const char *what, const char *ops, char *uri, size_t uri_len)
{
    const char *build = testlib_env("CMK_BUILD"), *mod = testlib_env("CMK_TEST_MODULE");
    const char *tok = testlib_env("CMK_TEST_TOKEN"), *pin = testlib_env("CMK_TEST_PIN_FILE");
    char cmd[4096];

    if (build == NULL || mod == NULL || tok == NULL || pin == NULL)
        return -1;
    snprintf(uri, uri_len, "pkcs11:token=%s;object=%s-%ld", tok, what, (long)getpid());
    snprintf(cmd, sizeof(cmd),
             "'%s/cmk-keygen' --module '%s' --token '%s' --pin-source 'file:%s' "
             "--label '%s-%ld' --ops '%s' >/dev/null",
             build, mod, tok, pin, what, (long)getpid(), ops);
    return system(cmd) == 0 ? 0 : -1;
}

/* tp_keygen_ops for a decrypt key, the CMK's usual kind. */
static inline int tp_keygen(const char *what, char *uri, size_t uri_len)
{
    return tp_keygen_ops(what, "decrypt", uri, uri_len);
}

/* Loads the key uri names through OSSL_STORE, as a private key (expect OSSL_STORE_INFO_PKEY)
 * or a public key (OSSL_STORE_INFO_PUBKEY). NULL (errors printed) on failure. */
static inline EVP_PKEY *tp_key_load(const char *uri, int expect)
{
    OSSL_STORE_CTX *s = OSSL_STORE_open(uri, NULL, NULL, NULL, NULL);
    OSSL_STORE_INFO *info;
    EVP_PKEY *pkey = NULL;

    if (s == NULL || !OSSL_STORE_expect(s, expect))
        goto end;
    while (pkey == NULL && !OSSL_STORE_eof(s) && (info = OSSL_STORE_load(s)) != NULL) {
        if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            pkey = OSSL_STORE_INFO_get1_PKEY(info);
        else if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PUBKEY)
            pkey = OSSL_STORE_INFO_get1_PUBKEY(info);
        OSSL_STORE_INFO_free(info);
    }
end:
    if (pkey == NULL)
        ERR_print_errors_fp(stdout);
    OSSL_STORE_close(s);
    return pkey;
}

/* Suite setup: a new key "<what>-<pid>" in the token, loaded as a private key and as a
 * public-only key. Returns 0 on success, as CUnit wants. */
static inline int tp_suite_keys(const char *what, EVP_PKEY **key, EVP_PKEY **pub)
{
    char uri[256];

    if (tp_keygen(what, uri, sizeof(uri)) != 0) {
        printf("no test token or cmk-keygen failed: run through make check\n");
        return 1;
    }
    *key = tp_key_load(uri, OSSL_STORE_INFO_PKEY);
    if (pub != NULL)
        *pub = tp_key_load(uri, OSSL_STORE_INFO_PUBKEY);
    return *key == NULL || (pub != NULL && *pub == NULL);
}

/* Is the test token SoftHSM (SHA-1-only OAEP, labels ignored)? */
static inline int tp_softhsm(void)
{
    const char *mod = testlib_env("CMK_TEST_MODULE");

    return mod != NULL && strstr(mod, "softhsm") != NULL;
}

/* An NSS softokn database in a temporary folder, the second token of the tests: NSS does OAEP
 * with SHA-256 and labels in the token, and keeps no public-key objects. The module is
 * $CMK_NSS_MODULE, else TP_NSS_MODULE (as for tests/tokens/nss.sh). */
#define TP_NSS_MODULE "/usr/lib/x86_64-linux-gnu/libsoftokn3.so"
#define TP_NSS_TOKEN  "NSS Certificate DB"
typedef struct tp_nss {
    const char *module;
    char dir[64];
    char pin_file[96];   /* the user PIN, for pin-source file: */
    char init_args[256]; /* C_Initialize's pReserved (configdir=...) */
} tp_nss;

static inline int tp_file_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL && fputs(text, f) >= 0;

    return f != NULL && fclose(f) == 0 && ok;
}

/* Makes an empty NSS database with a user PIN in a new temporary folder. Returns NULL, or why
 * it could not (NSS or certutil absent, certutil failed). */
static inline const char *tp_nss_new(tp_nss *n)
{
    char cmd[320];

    memset(n, 0, sizeof(*n));
    if ((n->module = testlib_env("CMK_NSS_MODULE")) == NULL)
        n->module = TP_NSS_MODULE;
    if (access(n->module, R_OK) != 0 || system("command -v certutil >/dev/null") != 0)
        return "NSS softokn or certutil is not installed";
    snprintf(n->dir, sizeof(n->dir), "/tmp/cmk-test-nss-XXXXXX");
    if (mkdtemp(n->dir) == NULL)
        return "cannot make a temporary folder";
    snprintf(n->pin_file, sizeof(n->pin_file), "%s/pin", n->dir);
    snprintf(n->init_args, sizeof(n->init_args),
             "configdir='sql:%s' certPrefix='' keyPrefix='' secmod='secmod.db'", n->dir);
    snprintf(cmd, sizeof(cmd), "certutil -N -d sql:%s -f %s >/dev/null 2>&1", n->dir, n->pin_file);
    if (!tp_file_write(n->pin_file, "nss-test-pin-1\n") || system(cmd) != 0)
        return "certutil could not make an NSS database";
    return NULL;
}

/* A new library context with cmk (and default) loaded for the NSS database, from an
 * openssl.cnf written into its folder. NULL (errors printed) on failure. */
static inline OSSL_LIB_CTX *tp_nss_libctx_new(const tp_nss *n)
{
    const char *build = testlib_env("CMK_BUILD");
    char cnf[1024], path[128];
    OSSL_LIB_CTX *libctx;

    if (build == NULL)
        return NULL;
    /* openssl.cnf strips quotes: the init args go in double quotes to keep their own. */
    snprintf(cnf, sizeof(cnf),
             "openssl_conf = init\n[init]\nproviders = provs\n[provs]\ncmk = cmk_sect\n"
             "default = default_sect\n[default_sect]\nactivate = 1\n[cmk_sect]\n"
             "module = %s/cmk.so\npkcs11-module-path = %s\npkcs11-module-token-pin = file:%s\n"
             "pkcs11-module-init-args = \"%s\"\nactivate = 1\n",
             build, n->module, n->pin_file, n->init_args);
    snprintf(path, sizeof(path), "%s/openssl.cnf", n->dir);
    if (!tp_file_write(path, cnf) || (libctx = OSSL_LIB_CTX_new()) == NULL)
        return NULL;
    if (!OSSL_LIB_CTX_load_config(libctx, path)) {
        ERR_print_errors_fp(stdout);
        OSSL_LIB_CTX_free(libctx);
        return NULL;
    }
    return libctx;
}

/* In a test on the NSS database: skips it, saying why, when why (what tp_nss_new or the suite's
 * setup answered) is set. */
#define TP_NSS_NEED(why)                                                                           \
    do {                                                                                           \
        if ((why) != NULL) {                                                                       \
            TEST_SKIP(why);                                                                        \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Removes the database's folder. */
static inline void tp_nss_free(tp_nss *n)
{
    char cmd[96];

    if (n->dir[0] == '\0')
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", n->dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", n->dir);
    n->dir[0] = '\0';
}

#endif
