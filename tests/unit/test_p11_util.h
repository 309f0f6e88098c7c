/*
 * test_p11_util.h - what the PKCS#11-layer tests share: the test token from the environment
 * tests/run.sh sets (CMK_TEST_MODULE, CMK_TEST_TOKEN, CMK_TEST_PIN_FILE) and unique key labels.
 * The tests reach into pkcs11/p11_internal.h where they must act behind the layer's back
 * (close sessions, force token flags, count C_Login calls).
 */
#ifndef CMK_TEST_P11_UTIL_H
#define CMK_TEST_P11_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include "testlib.h"
#include "../../pkcs11/p11_internal.h"
#include "../../pkcs11/p11_key_internal.h"
#include "../../pkcs11/p11_rsa.h"

static p11_module *tu_module;
static p11_token *tu_token;
static char tu_pin_spec[4200];
static char tu_uri[200];

/* Suite setup: the module and the test token, logged in with the PIN file. */
static inline int tu_setup(void)
{
    const char *mod = testlib_env("CMK_TEST_MODULE"), *tok = testlib_env("CMK_TEST_TOKEN");
    const char *pin = testlib_env("CMK_TEST_PIN_FILE");

    if (mod == NULL || tok == NULL || pin == NULL) {
        printf("no test token: run through make check (tests/run.sh)\n");
        return 1;
    }
    snprintf(tu_pin_spec, sizeof(tu_pin_spec), "file:%s", pin);
    snprintf(tu_uri, sizeof(tu_uri), "pkcs11:token=%s", tok);
    if (p11_module_get(mod, NULL, &tu_module) != CKR_OK ||
        p11_token_open(tu_module, tu_uri, tu_pin_spec, &tu_token) != CKR_OK) {
        printf("setup: %s\n", p11_err_detail());
        return 1;
    }
    return 0;
}

static inline int tu_teardown(void)
{
    p11_token_free(tu_token);
    p11_module_put(tu_module);
    tu_token = NULL;
    tu_module = NULL;
    return 0;
}

/* A label no other test (or earlier run on the same token) uses. */
static inline const char *tu_label(const char *what)
{
    static char buf[8][64];
    static unsigned n;
    char *b = buf[n++ % 8];

    snprintf(b, 64, "%s-%ld-%u", what, (long)getpid(), n);
    return b;
}

/* The user PIN, read from the PIN file (for pkcs11-tool). */
static inline const char *tu_pin(void)
{
    static char pin[300];
    FILE *f = fopen(testlib_env("CMK_TEST_PIN_FILE"), "r");

    pin[0] = '\0';
    if (f != NULL) {
        if (fgets(pin, sizeof(pin), f) == NULL)
            pin[0] = '\0';
        fclose(f);
    }
    pin[strcspn(pin, "\r\n")] = '\0';
    return pin;
}

/* Generates a decrypt key and finds it by its label; NULL on failure (asserted). */
static inline p11_key *tu_key_new(const char *label, const uint8_t *id, size_t id_len)
{
    char uri[128];
    p11_key *k = NULL;
    CK_RV rv = p11_key_generate(tu_token, label, id, id_len, 2048, P11_OP_DECRYPT);

    CU_ASSERT_EQUAL_FATAL(rv, CKR_OK);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    rv = p11_key_find(tu_token, uri, &k);
    if (rv != CKR_OK)
        printf("tu_key_new: %s\n", p11_err_detail());
    CU_ASSERT_EQUAL_FATAL(rv, CKR_OK);
    return k;
}

/* A token of its own (its own pool, limit and counts, not shared with other tests) and the key
 * labelled label found on it. */
static inline p11_key *tu_key_own(const char *label, p11_token **t)
{
    p11_key *k = NULL;
    char uri[128];

    CU_ASSERT_EQUAL_FATAL(p11_token_open(tu_module, tu_uri, tu_pin_spec, t), CKR_OK);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    CU_ASSERT_EQUAL_FATAL(p11_key_find(*t, uri, &k), CKR_OK);
    return k;
}

/* A decrypt key of the suite's own and a message encrypted to it (OAEP SHA-1), for tests that
 * decrypt again and again from threads and children (fork, module reloads). */
static struct {
    p11_key *key;
    uint8_t ct[256];
    size_t ct_len;
} tu_oaep_data;
static const uint8_t tu_oaep_msg[16] = "decrypt me, ok!";
static const p11_rsa_params tu_oaep = {P11_RSA_OAEP, P11_HASH_SHA1, P11_HASH_SHA1, NULL, 0};

/* Suite setup: tu_setup, then the key (labelled after what) and the message; 0 on success. */
static inline int tu_oaep_setup(const char *what)
{
    const char *label;
    char uri[128];

    if (tu_setup() != 0)
        return 1;
    label = tu_label(what);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    tu_oaep_data.ct_len = sizeof(tu_oaep_data.ct);
    return p11_key_generate(tu_token, label, NULL, 0, 2048, P11_OP_DECRYPT) != CKR_OK ||
           p11_key_find(tu_token, uri, &tu_oaep_data.key) != CKR_OK ||
           p11_rsa_encrypt(tu_oaep_data.key, &tu_oaep, tu_oaep_msg, sizeof(tu_oaep_msg),
                           tu_oaep_data.ct, &tu_oaep_data.ct_len) != CKR_OK;
}

static inline int tu_oaep_teardown(void)
{
    p11_key_free(tu_oaep_data.key);
    tu_oaep_data.key = NULL;
    return tu_teardown();
}

/* Decrypts the message once and checks it; prints why not (with the pid) on failure. */
static inline int tu_oaep_decrypt_ok(void)
{
    uint8_t pt[256];
    size_t pt_len = sizeof(pt);
    CK_RV rv = p11_rsa_decrypt(tu_oaep_data.key, &tu_oaep, tu_oaep_data.ct, tu_oaep_data.ct_len, pt,
                               &pt_len);

    if (rv != CKR_OK)
        printf("[%ld] decrypt: %s\n", (long)getpid(), p11_err_detail());
    return rv == CKR_OK && pt_len == sizeof(tu_oaep_msg) && memcmp(pt, tu_oaep_msg, pt_len) == 0;
}

/* The CRT components of an OpenSSL RSA key (freed by tu_components_free). */
static inline uint8_t *tu_bn(const EVP_PKEY *pk, const char *name, size_t *len)
{
    BIGNUM *bn = NULL;
    uint8_t *buf = NULL;

    if (EVP_PKEY_get_bn_param(pk, name, &bn) && (buf = malloc(BN_num_bytes(bn) + 1)) != NULL)
        *len = (size_t)BN_bn2bin(bn, buf);
    BN_clear_free(bn);
    return buf;
}

static inline void tu_components(const EVP_PKEY *pk, p11_rsa_components *c)
{
    c->n = tu_bn(pk, OSSL_PKEY_PARAM_RSA_N, &c->n_len);
    c->e = tu_bn(pk, OSSL_PKEY_PARAM_RSA_E, &c->e_len);
    c->d = tu_bn(pk, OSSL_PKEY_PARAM_RSA_D, &c->d_len);
    c->p = tu_bn(pk, OSSL_PKEY_PARAM_RSA_FACTOR1, &c->p_len);
    c->q = tu_bn(pk, OSSL_PKEY_PARAM_RSA_FACTOR2, &c->q_len);
    c->dp = tu_bn(pk, OSSL_PKEY_PARAM_RSA_EXPONENT1, &c->dp_len);
    c->dq = tu_bn(pk, OSSL_PKEY_PARAM_RSA_EXPONENT2, &c->dq_len);
    c->qi = tu_bn(pk, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, &c->qi_len);
}

static inline void tu_components_free(p11_rsa_components *c)
{
    const uint8_t *all[] = {c->n, c->e, c->d, c->p, c->q, c->dp, c->dq, c->qi};

    for (size_t i = 0; i < 8; i++)
        free((void *)all[i]);
}

#endif
