/*
 * test_asymcipher_rsa_nss.c - the provider against a second token, NSS softokn, which keeps no
 * public key objects (the public half is read off the private key, encryption is done in
 * memory) and does OAEP with SHA-256 and labels in the token, and PKCS#1 v1.5 and PSS
 * signatures (also with an MGF1 hash other than the PSS hash). openssl.cnf passes
 * pkcs11-module-init-args (configdir=) to C_Initialize. Skips where NSS is absent.
 *
 * The key is made by a child process through the PKCS#11 layer (so this process holds only
 * the provider's copy of the layer); the provider is loaded into a library context of its own
 * from a generated openssl.cnf.
 */
#include <sys/wait.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include "test_prov_util.h"
#include "../../pkcs11/p11_key.h"

#define NSS_KEY "pkcs11:token=NSS%20Certificate%20DB;object=cmk-nss"

static tp_nss nss;
static const char *why_not;
static OSSL_LIB_CTX *libctx;
static EVP_PKEY *key;
static const unsigned char dk[32] = "0123456789abcdef0123456789abcdef";

/* In a child: the key pair, made in the NSS database through the PKCS#11 layer. */
static int nss_keygen(void)
{
    p11_module *m = NULL;
    p11_token *t = NULL;
    int status = 1;
    pid_t pid = fork();

    if (pid == 0) {
        char pin_spec[160];
        CK_RV rv = p11_module_get(nss.module, nss.init_args, &m);

        snprintf(pin_spec, sizeof(pin_spec), "file:%s", nss.pin_file);
        if (rv == CKR_OK)
            rv = p11_token_open(m, "pkcs11:token=NSS%20Certificate%20DB", pin_spec, &t);
        if (rv == CKR_OK)
            rv = p11_key_generate(t, "cmk-nss", (const uint8_t *)"\x01", 1, 2048,
                                  P11_OP_DECRYPT | P11_OP_SIGN);
        if (rv != CKR_OK)
            printf("NSS keygen: %s\n", p11_err_detail());
        fflush(stdout);
        _exit(rv == CKR_OK ? 0 : 1);
    }
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

static int suite_setup(void)
{
    OSSL_STORE_CTX *s;
    OSSL_STORE_INFO *info;

    if ((why_not = tp_nss_new(&nss)) != NULL)
        return 0;
    if (!nss_keygen()) {
        why_not = "could not make a key in the NSS database";
        return 0;
    }
    if ((libctx = tp_nss_libctx_new(&nss)) == NULL)
        return 1;
    s = OSSL_STORE_open_ex(NSS_KEY, libctx, NULL, NULL, NULL, NULL, NULL, NULL);
    while (s != NULL && key == NULL && !OSSL_STORE_eof(s) && (info = OSSL_STORE_load(s)) != NULL) {
        key = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(s);
    if (key == NULL)
        ERR_print_errors_fp(stdout);
    return key == NULL;
}

static int suite_teardown(void)
{
    EVP_PKEY_free(key);
    OSSL_LIB_CTX_free(libctx);
    tp_nss_free(&nss);
    return 0;
}

/* Wraps through the provider and unwraps in the token with OAEP digest md and label. */
static void round_trip(const char *md, const char *label_hex)
{
    EVP_PKEY_CTX *e = EVP_PKEY_CTX_new_from_pkey(libctx, key, NULL);
    EVP_PKEY_CTX *d = EVP_PKEY_CTX_new_from_pkey(libctx, key, NULL);
    unsigned char w[256], back[256];
    size_t wlen = sizeof(w), blen = sizeof(back);

    CU_ASSERT_FATAL(e != NULL && d != NULL);
    CU_ASSERT_FATAL(EVP_PKEY_encrypt_init(e) > 0 && EVP_PKEY_decrypt_init(d) > 0);
    for (EVP_PKEY_CTX **c = (EVP_PKEY_CTX *[]){e, d, NULL}; *c != NULL; c++) {
        CU_ASSERT(EVP_PKEY_CTX_ctrl_str(*c, "rsa_padding_mode", "oaep") > 0);
        CU_ASSERT(EVP_PKEY_CTX_ctrl_str(*c, "rsa_oaep_md", md) > 0);
        if (label_hex != NULL)
            CU_ASSERT(EVP_PKEY_CTX_ctrl_str(*c, "rsa_oaep_label", label_hex) > 0);
    }
    CU_ASSERT(EVP_PKEY_encrypt(e, w, &wlen, dk, sizeof(dk)) > 0);
    CU_ASSERT(EVP_PKEY_decrypt(d, back, &blen, w, wlen) > 0);
    TEST_ASSERT_BYTES(dk, sizeof(dk), back, blen);
    ERR_print_errors_fp(stdout);
    EVP_PKEY_CTX_free(e);
    EVP_PKEY_CTX_free(d);
}

static void test_nss_public_half_read_off_the_private_key(void)
{
    TP_NSS_NEED(why_not);
    CU_ASSERT_TRUE(EVP_PKEY_is_a(key, "RSA"));
    CU_ASSERT_EQUAL(EVP_PKEY_get_bits(key), 2048);
}

static void test_nss_oaep_sha1_round_trip(void)
{
    TP_NSS_NEED(why_not);
    round_trip("sha1", NULL);
}

static void test_nss_oaep_sha256_with_label_in_the_token(void)
{
    TP_NSS_NEED(why_not);
    round_trip("sha256", "6c6162656c");
}

static void test_nss_kem_sha256(void)
{
    unsigned char w[256], secret[32], back[32];
    size_t wlen = sizeof(w), slen = sizeof(secret), blen = sizeof(back);
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_KEM_PARAM_OPERATION, "OAEP", 0),
        OSSL_PARAM_utf8_string("digest", "SHA256", 0),
        OSSL_PARAM_END,
    };
    EVP_PKEY_CTX *c;

    TP_NSS_NEED(why_not);
    c = EVP_PKEY_CTX_new_from_pkey(libctx, key, NULL);
    CU_ASSERT_FATAL(c != NULL);
    CU_ASSERT(EVP_PKEY_encapsulate_init(c, params) > 0 &&
              EVP_PKEY_encapsulate(c, w, &wlen, secret, &slen) > 0);
    CU_ASSERT(EVP_PKEY_decapsulate_init(c, params) > 0 &&
              EVP_PKEY_decapsulate(c, back, &blen, w, wlen) > 0);
    TEST_ASSERT_BYTES(secret, slen, back, blen);
    EVP_PKEY_CTX_free(c);
}

/* Signed by NSS through the provider, verified by the default provider on the public half. */
static void sign_verify(int pad, const char *mgf1)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new(), *v = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pm = NULL, *pv = NULL;
    unsigned char sig[256], *der = NULL;
    const unsigned char *q;
    size_t len = sizeof(sig);
    EVP_PKEY *pub = NULL;
    int der_len = i2d_PUBKEY(key, &der);

    q = der;
    CU_ASSERT_FATAL(der_len > 0 && (pub = d2i_PUBKEY_ex(NULL, &q, der_len, libctx, NULL)) != NULL);
    CU_ASSERT_STRING_EQUAL(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(pub)), "default");
    CU_ASSERT_FATAL(EVP_DigestSignInit_ex(m, &pm, "SHA384", libctx, NULL, key, NULL) > 0);
    CU_ASSERT_FATAL(EVP_DigestVerifyInit_ex(v, &pv, "SHA384", libctx, NULL, pub, NULL) > 0);
    for (EVP_PKEY_CTX **c = (EVP_PKEY_CTX *[]){pm, pv, NULL}; *c != NULL; c++) {
        CU_ASSERT(EVP_PKEY_CTX_set_rsa_padding(*c, pad) > 0);
        if (mgf1 != NULL)
            CU_ASSERT(EVP_PKEY_CTX_set_rsa_mgf1_md_name(*c, mgf1, NULL) > 0);
    }
    CU_ASSERT(EVP_DigestSign(m, sig, &len, dk, sizeof(dk)) > 0);
    CU_ASSERT_EQUAL(EVP_DigestVerify(v, sig, len, dk, sizeof(dk)), 1);
    ERR_print_errors_fp(stdout);
    OPENSSL_free(der);
    EVP_PKEY_free(pub);
    EVP_MD_CTX_free(m);
    EVP_MD_CTX_free(v);
}

static void test_nss_sign_pkcs1_and_pss(void)
{
    TP_NSS_NEED(why_not);
    sign_verify(RSA_PKCS1_PADDING, NULL);
    sign_verify(RSA_PKCS1_PSS_PADDING, NULL);
    sign_verify(RSA_PKCS1_PSS_PADDING, "SHA256");
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("asymcipher_rsa_nss", suite_setup, suite_teardown);
    CU_add_test(s, "nss_public_half_read_off_the_private_key",
                test_nss_public_half_read_off_the_private_key);
    CU_add_test(s, "nss_oaep_sha1_round_trip", test_nss_oaep_sha1_round_trip);
    CU_add_test(s, "nss_oaep_sha256_with_label_in_the_token",
                test_nss_oaep_sha256_with_label_in_the_token);
    CU_add_test(s, "nss_kem_sha256", test_nss_kem_sha256);
    CU_add_test(s, "nss_sign_pkcs1_and_pss", test_nss_sign_pkcs1_and_pss);
    return testlib_run();
}
