/*
 * test_asymcipher_rsa.c - RSA-OAEP and PKCS#1 v1.5 with a token key through EVP_PKEY_encrypt /
 * EVP_PKEY_decrypt (provider/asymcipher_rsa.c): size queries, buffers smaller than the modulus,
 * the context parameters OpenSSL's own RSA cipher takes, dup of a context with a label.
 */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include "test_prov_util.h"

static EVP_PKEY *key;
static const unsigned char dk[32] = "0123456789abcdef0123456789abcdef";

static int suite_setup(void)
{
    return tp_suite_keys("asym", &key, NULL);
}

static int suite_teardown(void)
{
    EVP_PKEY_free(key);
    return 0;
}

static EVP_PKEY_CTX *ctx_new(int decrypt, int pad)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

    CU_ASSERT_FATAL(ctx != NULL);
    CU_ASSERT_FATAL((decrypt ? EVP_PKEY_decrypt_init(ctx) : EVP_PKEY_encrypt_init(ctx)) > 0);
    CU_ASSERT_FATAL(EVP_PKEY_CTX_set_rsa_padding(ctx, pad) > 0);
    return ctx;
}

static size_t wrap(int pad, unsigned char *out)
{
    EVP_PKEY_CTX *ctx = ctx_new(0, pad);
    size_t len = 256;

    CU_ASSERT_FATAL(EVP_PKEY_encrypt(ctx, out, &len, dk, sizeof(dk)) > 0);
    EVP_PKEY_CTX_free(ctx);
    return len;
}

static void test_asym_size_queries_give_the_modulus_size(void)
{
    EVP_PKEY_CTX *e = ctx_new(0, RSA_PKCS1_OAEP_PADDING), *d = ctx_new(1, RSA_PKCS1_OAEP_PADDING);
    unsigned char in[256] = {0};
    size_t elen = 0, dlen = 0;

    CU_ASSERT_TRUE(EVP_PKEY_encrypt(e, NULL, &elen, dk, sizeof(dk)) > 0);
    CU_ASSERT_TRUE(EVP_PKEY_decrypt(d, NULL, &dlen, in, sizeof(in)) > 0);
    CU_ASSERT_EQUAL(elen, 256);
    CU_ASSERT_EQUAL(dlen, 256);
    CU_ASSERT_EQUAL(EVP_PKEY_get_bits(key), 2048);
    EVP_PKEY_CTX_free(e);
    EVP_PKEY_CTX_free(d);
}

static void test_asym_oaep_and_pkcs1_round_trip(void)
{
    int pads[] = {RSA_PKCS1_OAEP_PADDING, RSA_PKCS1_PADDING};

    for (size_t i = 0; i < 2; i++) {
        unsigned char w[256], back[256];
        size_t wlen = wrap(pads[i], w), blen = sizeof(back);
        EVP_PKEY_CTX *d = ctx_new(1, pads[i]);

        CU_ASSERT_EQUAL(wlen, 256);
        CU_ASSERT_TRUE(EVP_PKEY_decrypt(d, back, &blen, w, wlen) > 0);
        TEST_ASSERT_BYTES(dk, sizeof(dk), back, blen);
        EVP_PKEY_CTX_free(d);
    }
}

/* A caller buffer just big enough for the plaintext, far smaller than the modulus. */
static void test_asym_decrypt_into_a_small_buffer(void)
{
    unsigned char w[256], back[32];
    size_t wlen = wrap(RSA_PKCS1_OAEP_PADDING, w), blen = sizeof(back);
    EVP_PKEY_CTX *d = ctx_new(1, RSA_PKCS1_OAEP_PADDING);

    CU_ASSERT_TRUE(EVP_PKEY_decrypt(d, back, &blen, w, wlen) > 0);
    TEST_ASSERT_BYTES(dk, sizeof(dk), back, blen);
    blen = 16;
    CU_ASSERT_FALSE(EVP_PKEY_decrypt(d, back, &blen, w, wlen) > 0);
    ERR_clear_error();
    EVP_PKEY_CTX_free(d);
}

/* pad-mode as a string, as `-pkeyopt rsa_padding_mode:oaep` gives it, and read back. */
static void test_asym_pad_mode_string_and_params_read_back(void)
{
    EVP_PKEY_CTX *d = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    char pad[16] = "", md[32] = "", mgf1[32] = "";
    OSSL_PARAM get[] = {
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, pad, sizeof(pad)),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, md, sizeof(md)),
        OSSL_PARAM_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, mgf1, sizeof(mgf1)),
        OSSL_PARAM_END,
    };

    CU_ASSERT_FATAL(d != NULL && EVP_PKEY_decrypt_init(d) > 0);
    CU_ASSERT_TRUE(EVP_PKEY_CTX_ctrl_str(d, "rsa_padding_mode", "oaep") > 0);
    CU_ASSERT_TRUE(EVP_PKEY_CTX_ctrl_str(d, "rsa_oaep_md", "sha256") > 0);
    CU_ASSERT_TRUE(EVP_PKEY_CTX_get_params(d, get) > 0);
    CU_ASSERT_STRING_EQUAL(pad, "oaep");
    CU_ASSERT_STRING_EQUAL(md, "SHA2-256");
    CU_ASSERT_STRING_EQUAL(mgf1, "SHA2-256"); /* MGF1 follows the OAEP digest */
    CU_ASSERT_TRUE(EVP_PKEY_CTX_ctrl_str(d, "rsa_mgf1_md", "sha1") > 0);
    CU_ASSERT_TRUE(EVP_PKEY_CTX_get_params(d, get) > 0);
    CU_ASSERT_STRING_EQUAL(mgf1, "SHA1");
    CU_ASSERT_FALSE(EVP_PKEY_CTX_ctrl_str(d, "rsa_padding_mode", "x931") > 0);
    ERR_clear_error();
    EVP_PKEY_CTX_free(d);
}

/* A duplicated context keeps its own copy of the OAEP label. */
static void test_asym_dup_keeps_the_label(void)
{
    unsigned char lbl[] = "label", w[256];
    size_t wlen = sizeof(w);
    EVP_PKEY_CTX *e = ctx_new(0, RSA_PKCS1_OAEP_PADDING), *e2;
    unsigned char *copy = OPENSSL_memdup(lbl, sizeof(lbl));
    void *got = NULL;
    OSSL_PARAM get[] = {
        OSSL_PARAM_octet_ptr(OSSL_ASYM_CIPHER_PARAM_OAEP_LABEL, &got, 0),
        OSSL_PARAM_END,
    };

    CU_ASSERT_FATAL(EVP_PKEY_CTX_set0_rsa_oaep_label(e, copy, sizeof(lbl)) > 0);
    e2 = EVP_PKEY_CTX_dup(e);
    CU_ASSERT_FATAL(e2 != NULL);
    EVP_PKEY_CTX_free(e);
    CU_ASSERT_TRUE(EVP_PKEY_CTX_get_params(e2, get) > 0);
    CU_ASSERT_EQUAL(get[0].return_size, sizeof(lbl));
    CU_ASSERT_TRUE(get[0].return_size == sizeof(lbl) && got != NULL &&
                   memcmp(got, lbl, sizeof(lbl)) == 0);
    CU_ASSERT_TRUE(EVP_PKEY_encrypt(e2, w, &wlen, dk, sizeof(dk)) > 0);
    EVP_PKEY_CTX_free(e2);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("asymcipher_rsa", suite_setup, suite_teardown);
    CU_add_test(s, "asym_size_queries_give_the_modulus_size",
                test_asym_size_queries_give_the_modulus_size);
    CU_add_test(s, "asym_oaep_and_pkcs1_round_trip", test_asym_oaep_and_pkcs1_round_trip);
    CU_add_test(s, "asym_decrypt_into_a_small_buffer", test_asym_decrypt_into_a_small_buffer);
    CU_add_test(s, "asym_pad_mode_string_and_params_read_back",
                test_asym_pad_mode_string_and_params_read_back);
    CU_add_test(s, "asym_dup_keeps_the_label", test_asym_dup_keeps_the_label);
    return testlib_run();
}
