/*
 * test_signature_rsa.c - RSA signatures made by the token (provider/signature_rsa.c) through
 * EVP_DigestSign and EVP_PKEY_sign: PKCS#1 v1.5 and PSS with SHA-256, -384 and -512, each
 * verified by OpenSSL's default provider on a copy of the public key; PSS salt lengths as
 * OpenSSL passes them (ints and strings, -1 digest, -2 auto, -3 max, a number); the context
 * parameters read back and the AlgorithmIdentifier equal to the default provider's; refusals
 * (an encryption-only key, raw padding, PSS without a digest, a salt too long).
 */
#include <limits.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include "test_prov_util.h"

static EVP_PKEY *key;      /* token key with CKA_SIGN */
static EVP_PKEY *enc_only; /* token key made for decryption only */
static EVP_PKEY *mem_pub;  /* key's public half, decoded by the default provider */
static const char *const hashes[] = {"SHA256", "SHA384", "SHA512"};
static const unsigned char msg[] = "a certificate request, a CMS message, a TLS handshake";

static int suite_setup(void)
{
    char uri[256];
    unsigned char *der = NULL;
    const unsigned char *p;
    int len;

    if (tp_keygen_ops("sig", "sign", uri, sizeof(uri)) != 0 ||
        (key = tp_key_load(uri, OSSL_STORE_INFO_PKEY)) == NULL)
        return 1;
    if (tp_keygen_ops("sigenc", "decrypt", uri, sizeof(uri)) != 0 ||
        (enc_only = tp_key_load(uri, OSSL_STORE_INFO_PKEY)) == NULL)
        return 1;
    if ((len = i2d_PUBKEY(key, &der)) <= 0)
        return 1;
    p = der;
    mem_pub = d2i_PUBKEY(NULL, &p, len);
    OPENSSL_free(der);
    return mem_pub == NULL;
}

static int suite_teardown(void)
{
    EVP_PKEY_free(key);
    EVP_PKEY_free(enc_only);
    EVP_PKEY_free(mem_pub);
    return 0;
}

/* Sets padding, salt (PSS; INT_MIN: leave the default) and MGF1 digest (NULL: the default). */
static int params_set(EVP_PKEY_CTX *pctx, int pad, int salt, const char *mgf1)
{
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, pad) <= 0)
        return 0;
    if (pad == RSA_PKCS1_PSS_PADDING && salt != INT_MIN &&
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) <= 0)
        return 0;
    return mgf1 == NULL || EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, mgf1, NULL) > 0;
}

/* EVP_DigestSign of msg with k; returns the signature length, 0 on failure. */
static size_t digest_sign(EVP_PKEY *k, const char *md, int pad, int salt, const char *mgf1,
                          unsigned char *sig)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t len = 512;
    int ok = mctx != NULL && EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL, k, NULL) > 0 &&
             params_set(pctx, pad, salt, mgf1) &&
             EVP_DigestSign(mctx, sig, &len, msg, sizeof(msg)) > 0;

    EVP_MD_CTX_free(mctx);
    return ok ? len : 0;
}

/* EVP_DigestVerify of msg with k (the default provider's key, or the token key through cmk). */
static int digest_verify(EVP_PKEY *k, const char *md, int pad, int salt, const char *mgf1,
                         const unsigned char *sig, size_t len)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = mctx != NULL && EVP_DigestVerifyInit_ex(mctx, &pctx, md, NULL, NULL, k, NULL) > 0 &&
             params_set(pctx, pad, salt, mgf1) &&
             EVP_DigestVerify(mctx, sig, len, msg, sizeof(msg)) == 1;

    EVP_MD_CTX_free(mctx);
    ERR_clear_error();
    return ok;
}

static void test_sig_default_provider_decodes_the_public_copy(void)
{
    CU_ASSERT_STRING_EQUAL(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(mem_pub)), "default");
    CU_ASSERT_STRING_EQUAL(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(key)), "cmk");
    CU_ASSERT_TRUE(EVP_PKEY_is_a(key, "RSA"));
}

static void test_sig_pkcs1_three_hashes_verify_in_memory(void)
{
    for (size_t i = 0; i < 3; i++) {
        unsigned char sig[512];
        size_t len = digest_sign(key, hashes[i], RSA_PKCS1_PADDING, INT_MIN, NULL, sig);

        CU_ASSERT_EQUAL(len, 256);
        CU_ASSERT_TRUE(
            digest_verify(mem_pub, hashes[i], RSA_PKCS1_PADDING, INT_MIN, NULL, sig, len));
        /* PKCS#1 v1.5 is deterministic: the token's signature is the only one */
        CU_ASSERT_EQUAL(digest_sign(key, hashes[i], RSA_PKCS1_PADDING, INT_MIN, NULL, sig + 256),
                        256);
        CU_ASSERT_TRUE(memcmp(sig, sig + 256, 256) == 0);
        sig[10] ^= 1;
        CU_ASSERT_FALSE(
            digest_verify(mem_pub, hashes[i], RSA_PKCS1_PADDING, INT_MIN, NULL, sig, len));
    }
}

static void test_sig_pss_three_hashes_verify_in_memory(void)
{
    for (size_t i = 0; i < 3; i++) {
        unsigned char sig[512];
        size_t len =
            digest_sign(key, hashes[i], RSA_PKCS1_PSS_PADDING, RSA_PSS_SALTLEN_DIGEST, NULL, sig);

        CU_ASSERT_EQUAL(len, 256);
        CU_ASSERT_TRUE(digest_verify(mem_pub, hashes[i], RSA_PKCS1_PSS_PADDING,
                                     RSA_PSS_SALTLEN_DIGEST, NULL, sig, len));
        CU_ASSERT_FALSE(
            digest_verify(mem_pub, hashes[i], RSA_PKCS1_PADDING, INT_MIN, NULL, sig, len));
    }
}

/* The salt the token used, proven by a verifier that accepts that exact length only. */
static void test_sig_pss_salt_lengths_resolved_for_signing(void)
{
    static const struct {
        int asked, used; /* SHA-256 and a 2048-bit key: max = 256 - 32 - 2 = 222 */
    } cases[] = {
        {RSA_PSS_SALTLEN_DIGEST, 32},
        {RSA_PSS_SALTLEN_AUTO, 222},
        {RSA_PSS_SALTLEN_MAX, 222},
        {0, 0},
        {10, 10},
        {222, 222},
        {INT_MIN, 222}, /* the default: longest, as OpenSSL */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned char sig[512];
        size_t len = digest_sign(key, "SHA256", RSA_PKCS1_PSS_PADDING, cases[i].asked, NULL, sig);

        CU_ASSERT_EQUAL(len, 256);
        if (!digest_verify(mem_pub, "SHA256", RSA_PKCS1_PSS_PADDING, cases[i].used, NULL, sig,
                           len)) {
            printf("salt %d: not signed with %d bytes\n", cases[i].asked, cases[i].used);
            CU_FAIL("salt length");
        }
    }
    {
        unsigned char sig[512];

        CU_ASSERT_EQUAL(digest_sign(key, "SHA256", RSA_PKCS1_PSS_PADDING, 223, NULL, sig), 0);
        ERR_clear_error();
    }
}

/* saltlen and pad-mode as the strings `-sigopt rsa_pss_saltlen:max` gives. */
static void test_sig_pss_salt_strings(void)
{
    static const struct {
        const char *asked;
        int used;
    } cases[] = {{"digest", 48}, {"max", 206}, {"auto", 206}, {"17", 17}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        EVP_MD_CTX *mctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        unsigned char sig[512];
        size_t len = sizeof(sig);
        OSSL_PARAM p[] = {
            OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, "pss", 0),
            OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, (char *)cases[i].asked, 0),
            OSSL_PARAM_END,
        };

        CU_ASSERT_FATAL(EVP_DigestSignInit_ex(mctx, &pctx, "SHA384", NULL, NULL, key, p) > 0);
        CU_ASSERT_TRUE(EVP_DigestSign(mctx, sig, &len, msg, sizeof(msg)) > 0);
        CU_ASSERT_TRUE(
            digest_verify(mem_pub, "SHA384", RSA_PKCS1_PSS_PADDING, cases[i].used, NULL, sig, len));
        EVP_MD_CTX_free(mctx);
    }
}

static int errors_contain(const char *what);

/* A token signs rightly with an MGF1 hash other than the PSS hash, or refuses naming both:
 * SoftHSM 2.6.1 refuses (C_SignInit: CKR_ARGUMENTS_BAD), also behind p11-kit's remoting. */
static void test_sig_pss_mgf1_other_than_the_digest(void)
{
    unsigned char sig[512];
    size_t len = digest_sign(key, "SHA512", RSA_PKCS1_PSS_PADDING, 20, "SHA256", sig);

    if (len == 0) {
        CU_ASSERT_TRUE(errors_contain("RSA-PSS with SHA-512, MGF1 with SHA-256"));
        return;
    }
    CU_ASSERT_FALSE(tp_softhsm()); /* SoftHSM 2.6.1 never signs these */
    CU_ASSERT_EQUAL(len, 256);
    CU_ASSERT_TRUE(digest_verify(mem_pub, "SHA512", RSA_PKCS1_PSS_PADDING, 20, "SHA256", sig, len));
    CU_ASSERT_FALSE(digest_verify(mem_pub, "SHA512", RSA_PKCS1_PSS_PADDING, 20, NULL, sig, len));
}

/* Verification through cmk (in memory on the public half) accepts and rejects rightly. */
static void test_sig_verify_with_the_token_key(void)
{
    unsigned char sig[512];
    size_t len =
        digest_sign(key, "SHA256", RSA_PKCS1_PSS_PADDING, RSA_PSS_SALTLEN_DIGEST, NULL, sig);

    CU_ASSERT_TRUE(
        digest_verify(key, "SHA256", RSA_PKCS1_PSS_PADDING, RSA_PSS_SALTLEN_AUTO, NULL, sig, len));
    sig[0] ^= 0x80;
    CU_ASSERT_FALSE(
        digest_verify(key, "SHA256", RSA_PKCS1_PSS_PADDING, RSA_PSS_SALTLEN_AUTO, NULL, sig, len));
}

/* EVP_PKEY_sign: a hash with a digest set (DigestInfo made for it), or raw PKCS#1 v1.5 bytes. */
static void test_sig_pkey_sign_hash_and_raw(void)
{
    unsigned char h[32], sig[256];
    size_t len = sizeof(sig);
    EVP_PKEY_CTX *s = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    EVP_PKEY_CTX *v = EVP_PKEY_CTX_new_from_pkey(NULL, mem_pub, NULL);

    CU_ASSERT_FATAL(s != NULL && v != NULL);
    CU_ASSERT_FATAL(EVP_Digest(msg, sizeof(msg), h, NULL, EVP_sha256(), NULL));
    CU_ASSERT_TRUE(EVP_PKEY_sign_init(s) > 0 && EVP_PKEY_CTX_set_signature_md(s, EVP_sha256()) > 0);
    CU_ASSERT_TRUE(EVP_PKEY_sign(s, NULL, &len, h, sizeof(h)) > 0 && len == 256);
    CU_ASSERT_TRUE(EVP_PKEY_sign(s, sig, &len, h, sizeof(h)) > 0);
    CU_ASSERT_TRUE(EVP_PKEY_verify_init(v) > 0 &&
                   EVP_PKEY_CTX_set_signature_md(v, EVP_sha256()) > 0);
    CU_ASSERT_EQUAL(EVP_PKEY_verify(v, sig, len, h, sizeof(h)), 1);
    CU_ASSERT_FALSE(EVP_PKEY_sign(s, sig, &len, h, 20) > 0); /* not a SHA-256 hash */
    ERR_clear_error();
    EVP_PKEY_CTX_free(s);
    EVP_PKEY_CTX_free(v);

    s = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    v = EVP_PKEY_CTX_new_from_pkey(NULL, mem_pub, NULL);
    len = sizeof(sig);
    CU_ASSERT_TRUE(EVP_PKEY_sign_init(s) > 0 && EVP_PKEY_sign(s, sig, &len, msg, 40) > 0);
    CU_ASSERT_TRUE(EVP_PKEY_verify_init(v) > 0);
    CU_ASSERT_EQUAL(EVP_PKEY_verify(v, sig, len, msg, 40), 1);
    EVP_PKEY_CTX_free(s);
    EVP_PKEY_CTX_free(v);
}

/* The parameters read back as OpenSSL's RSA signature gives them, and the X.509
 * AlgorithmIdentifier (what req, x509, cms, libssl put in the certificate) byte for byte the
 * default provider's for the same parameters. */
static void aid_compare(int pad, int salt, const char *md, const char *mgf1)
{
    unsigned char a[128], b[128];
    OSSL_PARAM pa[] = {OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, a, sizeof(a)),
                       OSSL_PARAM_END};
    OSSL_PARAM pb[] = {OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, b, sizeof(b)),
                       OSSL_PARAM_END};
    EVP_MD_CTX *ma = EVP_MD_CTX_new(), *mb = EVP_MD_CTX_new();
    EVP_PKEY_CTX *ca = NULL, *cb = NULL;

    CU_ASSERT_FATAL(EVP_DigestSignInit_ex(ma, &ca, md, NULL, NULL, key, NULL) > 0);
    CU_ASSERT_FATAL(EVP_DigestVerifyInit_ex(mb, &cb, md, NULL, NULL, mem_pub, NULL) > 0);
    CU_ASSERT_FATAL(params_set(ca, pad, salt, mgf1) && params_set(cb, pad, salt, mgf1));
    CU_ASSERT_TRUE_FATAL(EVP_PKEY_CTX_get_params(ca, pa) > 0 &&
                         EVP_PKEY_CTX_get_params(cb, pb) > 0);
    TEST_ASSERT_BYTES(pb[0].data, pb[0].return_size, pa[0].data, pa[0].return_size);
    EVP_MD_CTX_free(ma);
    EVP_MD_CTX_free(mb);
}

static void test_sig_algorithm_id_is_the_default_providers(void)
{
    for (size_t i = 0; i < 3; i++) {
        aid_compare(RSA_PKCS1_PADDING, INT_MIN, hashes[i], NULL);
        aid_compare(RSA_PKCS1_PSS_PADDING, RSA_PSS_SALTLEN_DIGEST, hashes[i], NULL);
    }
    aid_compare(RSA_PKCS1_PSS_PADDING, 20, "SHA1", NULL); /* all of RFC 4055's defaults */
    aid_compare(RSA_PKCS1_PSS_PADDING, 40, "SHA512", "SHA256");
}

static void test_sig_params_read_back(void)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *c = NULL;
    const EVP_MD *md = NULL;
    int pad = 0, salt = 0;

    CU_ASSERT_FATAL(EVP_DigestSignInit_ex(m, &c, "SHA384", NULL, NULL, key, NULL) > 0);
    CU_ASSERT_TRUE(EVP_PKEY_CTX_get_rsa_padding(c, &pad) > 0 && pad == RSA_PKCS1_PADDING);
    CU_ASSERT_TRUE(params_set(c, RSA_PKCS1_PSS_PADDING, RSA_PSS_SALTLEN_MAX, "SHA256"));
    CU_ASSERT_TRUE(EVP_PKEY_CTX_get_rsa_padding(c, &pad) > 0 && pad == RSA_PKCS1_PSS_PADDING);
    CU_ASSERT_TRUE(EVP_PKEY_CTX_get_rsa_pss_saltlen(c, &salt) > 0 && salt == RSA_PSS_SALTLEN_MAX);
    CU_ASSERT_TRUE(EVP_PKEY_CTX_get_signature_md(c, &md) > 0 && md != NULL &&
                   EVP_MD_is_a(md, "SHA384"));
    CU_ASSERT_TRUE(EVP_PKEY_CTX_get_rsa_mgf1_md(c, &md) > 0 && md != NULL &&
                   EVP_MD_is_a(md, "SHA256"));
    CU_ASSERT_TRUE(EVP_PKEY_CTX_set_rsa_pss_saltlen(c, 33) > 0);
    CU_ASSERT_TRUE(EVP_PKEY_CTX_get_rsa_pss_saltlen(c, &salt) > 0 && salt == 33);
    EVP_MD_CTX_free(m);
}

/* EVP_DigestSignFinal signs a copy: hashing may go on, and the later signature covers it all. */
static void test_sig_final_then_more_data(void)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned char sig[256], full[256];
    size_t len = sizeof(sig), flen = sizeof(full);
    size_t half = sizeof(msg) / 2;

    CU_ASSERT_FATAL(EVP_DigestSignInit_ex(m, NULL, "SHA256", NULL, NULL, key, NULL) > 0);
    CU_ASSERT_TRUE(EVP_DigestSignUpdate(m, msg, half) > 0);
    CU_ASSERT_TRUE(EVP_DigestSignFinal(m, sig, &len) > 0);
    CU_ASSERT_TRUE(EVP_DigestSignUpdate(m, msg + half, sizeof(msg) - half) > 0);
    CU_ASSERT_TRUE(EVP_DigestSignFinal(m, full, &flen) > 0);
    CU_ASSERT_TRUE(digest_verify(mem_pub, "SHA256", RSA_PKCS1_PADDING, INT_MIN, NULL, full, flen));
    EVP_MD_CTX_free(m);
}

/* Drains the error queue; 1 when one of its messages contains what. */
static int errors_contain(const char *what)
{
    const char *data;
    int flags, found = 0;
    unsigned long e;

    while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        if ((flags & ERR_TXT_STRING) && strstr(data, what) != NULL)
            found = 1;
        else
            printf("error: %s: %s\n", ERR_reason_error_string(e),
                   (flags & ERR_TXT_STRING) ? data : "");
    }
    if (!found)
        printf("expected \"%s\" among the errors\n", what);
    return found;
}

/* Refused before the token is asked, with a line naming the key; verify stays allowed. */
static void test_sig_encryption_only_key_refused(void)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, enc_only, NULL);
    EVP_MD_CTX *m = EVP_MD_CTX_new();

    CU_ASSERT_FATAL(c != NULL && m != NULL);
    CU_ASSERT_TRUE(EVP_PKEY_sign_init(c) <= 0);
    CU_ASSERT_TRUE(errors_contain("is not permitted to sign"));
    CU_ASSERT_TRUE(EVP_DigestSignInit_ex(m, NULL, "SHA256", NULL, NULL, enc_only, NULL) <= 0);
    CU_ASSERT_TRUE(errors_contain("is not permitted to sign"));
    CU_ASSERT_TRUE(EVP_PKEY_verify_init(c) > 0);
    EVP_PKEY_CTX_free(c);
    EVP_MD_CTX_free(m);
}

static void test_sig_raw_and_pss_without_digest_refused(void)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    unsigned char sig[256], h[32] = {0};
    size_t len = sizeof(sig);

    CU_ASSERT_FATAL(c != NULL && EVP_PKEY_sign_init(c) > 0);
    CU_ASSERT_TRUE(EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING) <= 0);
    CU_ASSERT_TRUE(errors_contain("only pkcs1 and pss"));
    CU_ASSERT_TRUE(EVP_PKEY_CTX_set_rsa_padding(c, RSA_X931_PADDING) <= 0);
    ERR_clear_error();
    CU_ASSERT_TRUE(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PSS_PADDING) > 0);
    CU_ASSERT_TRUE(EVP_PKEY_sign(c, sig, &len, h, sizeof(h)) <= 0);
    CU_ASSERT_TRUE(errors_contain("RSA-PSS needs a digest"));
    CU_ASSERT_TRUE(EVP_PKEY_CTX_set_signature_md(c, EVP_md5()) <= 0); /* no PKCS#11 hash */
    ERR_clear_error();
    EVP_PKEY_CTX_free(c);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("signature_rsa", suite_setup, suite_teardown);
    CU_add_test(s, "sig_default_provider_decodes_the_public_copy",
                test_sig_default_provider_decodes_the_public_copy);
    CU_add_test(s, "sig_pkcs1_three_hashes_verify_in_memory",
                test_sig_pkcs1_three_hashes_verify_in_memory);
    CU_add_test(s, "sig_pss_three_hashes_verify_in_memory",
                test_sig_pss_three_hashes_verify_in_memory);
    CU_add_test(s, "sig_pss_salt_lengths_resolved_for_signing",
                test_sig_pss_salt_lengths_resolved_for_signing);
    CU_add_test(s, "sig_pss_salt_strings", test_sig_pss_salt_strings);
    CU_add_test(s, "sig_pss_mgf1_other_than_the_digest", test_sig_pss_mgf1_other_than_the_digest);
    CU_add_test(s, "sig_verify_with_the_token_key", test_sig_verify_with_the_token_key);
    CU_add_test(s, "sig_pkey_sign_hash_and_raw", test_sig_pkey_sign_hash_and_raw);
    CU_add_test(s, "sig_algorithm_id_is_the_default_providers",
                test_sig_algorithm_id_is_the_default_providers);
    CU_add_test(s, "sig_params_read_back", test_sig_params_read_back);
    CU_add_test(s, "sig_final_then_more_data", test_sig_final_then_more_data);
    CU_add_test(s, "sig_encryption_only_key_refused", test_sig_encryption_only_key_refused);
    CU_add_test(s, "sig_raw_and_pss_without_digest_refused",
                test_sig_raw_and_pss_without_digest_refused);
    return testlib_run();
}
