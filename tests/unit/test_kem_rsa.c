/*
 * test_kem_rsa.c - the KEM over a token key (provider/kem_rsa.c), through EVP as docs/kem.md
 * shows it: operation "OAEP", a 32-byte data key, its RSA-OAEP wrap, unwrap in the token.
 */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include "test_prov_util.h"

static EVP_PKEY *key, *pub;

static int suite_setup(void)
{
    return tp_suite_keys("kem", &key, &pub);
}

static int suite_teardown(void)
{
    EVP_PKEY_free(key);
    EVP_PKEY_free(pub);
    return 0;
}

/* EVP_PKEY_encapsulate with operation "OAEP" (and optionally an OAEP digest). */
static int encapsulate(EVP_PKEY *k, const char *digest, unsigned char *wrapped, size_t *wlen,
                       unsigned char *secret, size_t *slen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_KEM_PARAM_OPERATION, "OAEP", 0),
        OSSL_PARAM_utf8_string("digest", (char *)digest, 0),
        OSSL_PARAM_END,
    };
    int ok;

    if (digest == NULL)
        params[1] = OSSL_PARAM_construct_end();
    ok = ctx != NULL && EVP_PKEY_encapsulate_init(ctx, params) > 0 &&
         EVP_PKEY_encapsulate(ctx, wrapped, wlen, secret, slen) > 0;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static int decapsulate(const char *op, const unsigned char *wrapped, size_t wlen,
                       unsigned char *secret, size_t *slen)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    int ok = ctx != NULL && EVP_PKEY_decapsulate_init(ctx, NULL) > 0 &&
             EVP_PKEY_CTX_set_kem_op(ctx, op) > 0 &&
             EVP_PKEY_decapsulate(ctx, secret, slen, wrapped, wlen) > 0;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static void test_kem_sizes_are_modulus_and_32(void)
{
    size_t wlen = 0, slen = 0;

    CU_ASSERT_TRUE(encapsulate(key, NULL, NULL, &wlen, NULL, &slen));
    CU_ASSERT_EQUAL(wlen, 256);
    CU_ASSERT_EQUAL(slen, 32);
}

static void test_kem_decapsulate_in_token_gives_the_data_key(void)
{
    unsigned char wrapped[256], secret[32], back[32];
    size_t wlen = sizeof(wrapped), slen = sizeof(secret), blen = sizeof(back);

    CU_ASSERT_FATAL(encapsulate(key, NULL, wrapped, &wlen, secret, &slen));
    CU_ASSERT_EQUAL(wlen, 256);
    CU_ASSERT_EQUAL(slen, 32);
    CU_ASSERT_TRUE(decapsulate("OAEP", wrapped, wlen, back, &blen));
    TEST_ASSERT_BYTES(secret, slen, back, blen);
}

static void test_kem_public_key_encapsulates_too(void)
{
    unsigned char wrapped[256], secret[32], back[32];
    size_t wlen = sizeof(wrapped), slen = sizeof(secret), blen = sizeof(back);

    CU_ASSERT_FATAL(encapsulate(pub, NULL, wrapped, &wlen, secret, &slen));
    CU_ASSERT_TRUE(decapsulate("OAEP", wrapped, wlen, back, &blen));
    TEST_ASSERT_BYTES(secret, slen, back, blen);
}

static void test_kem_two_encapsulations_differ(void)
{
    unsigned char w1[256], w2[256], s1[32], s2[32];
    size_t w1len = sizeof(w1), w2len = sizeof(w2), s1len = sizeof(s1), s2len = sizeof(s2);

    CU_ASSERT_FATAL(encapsulate(key, NULL, w1, &w1len, s1, &s1len));
    CU_ASSERT_FATAL(encapsulate(key, NULL, w2, &w2len, s2, &s2len));
    CU_ASSERT_NOT_EQUAL(memcmp(s1, s2, 32), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(w1, w2, 256), 0);
}

/* The wrapped form is plain RSA-OAEP (SHA-1, MGF1-SHA-1, no label) of the data key. */
static void test_kem_wrap_is_rsa_oaep_sha1(void)
{
    unsigned char wrapped[256], secret[32], back[256];
    size_t wlen = sizeof(wrapped), slen = sizeof(secret), blen = sizeof(back);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

    CU_ASSERT_FATAL(encapsulate(key, NULL, wrapped, &wlen, secret, &slen));
    CU_ASSERT_FATAL(ctx != NULL);
    CU_ASSERT_TRUE(EVP_PKEY_decrypt_init(ctx) > 0 &&
                   EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
                   EVP_PKEY_decrypt(ctx, back, &blen, wrapped, wlen) > 0);
    TEST_ASSERT_BYTES(secret, slen, back, blen);
    EVP_PKEY_CTX_free(ctx);
}

static void test_kem_corrupted_wrap_is_refused(void)
{
    unsigned char wrapped[256], secret[32], back[32];
    size_t wlen = sizeof(wrapped), slen = sizeof(secret), blen = sizeof(back);

    CU_ASSERT_FATAL(encapsulate(key, NULL, wrapped, &wlen, secret, &slen));
    wrapped[100] ^= 1;
    CU_ASSERT_FALSE(decapsulate("OAEP", wrapped, wlen, back, &blen));
    ERR_clear_error();
}

static void test_kem_other_operation_is_refused(void)
{
    unsigned char wrapped[256], secret[32], back[32];
    size_t wlen = sizeof(wrapped), slen = sizeof(secret), blen = sizeof(back);

    CU_ASSERT_FATAL(encapsulate(key, NULL, wrapped, &wlen, secret, &slen));
    CU_ASSERT_FALSE(decapsulate("RSASVE", wrapped, wlen, back, &blen));
    ERR_clear_error();
}

/* A key wrapped with a digest the token cannot unwrap would be lost for good: on SoftHSM
 * (SHA-1-only OAEP) encapsulation with SHA-256 is refused, naming the hash. */
static void test_kem_sha256_refused_where_token_cannot_unwrap(void)
{
    unsigned char wrapped[256], secret[32];
    size_t wlen = sizeof(wrapped), slen = sizeof(secret);
    char msg[512] = "";

    if (!tp_softhsm()) {
        TEST_SKIP("the test token is not SoftHSM (SHA-1-only OAEP)");
        return;
    }
    CU_ASSERT_FALSE(encapsulate(key, "SHA256", wrapped, &wlen, secret, &slen));
    ERR_error_string_n(ERR_peek_last_error(), msg, sizeof(msg));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "cannot do RSA-OAEP"));
    ERR_clear_error();
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("kem_rsa", suite_setup, suite_teardown);
    CU_add_test(s, "kem_sizes_are_modulus_and_32", test_kem_sizes_are_modulus_and_32);
    CU_add_test(s, "kem_decapsulate_in_token_gives_the_data_key",
                test_kem_decapsulate_in_token_gives_the_data_key);
    CU_add_test(s, "kem_public_key_encapsulates_too", test_kem_public_key_encapsulates_too);
    CU_add_test(s, "kem_two_encapsulations_differ", test_kem_two_encapsulations_differ);
    CU_add_test(s, "kem_wrap_is_rsa_oaep_sha1", test_kem_wrap_is_rsa_oaep_sha1);
    CU_add_test(s, "kem_corrupted_wrap_is_refused", test_kem_corrupted_wrap_is_refused);
    CU_add_test(s, "kem_other_operation_is_refused", test_kem_other_operation_is_refused);
    CU_add_test(s, "kem_sha256_refused_where_token_cannot_unwrap",
                test_kem_sha256_refused_where_token_cannot_unwrap);
    return testlib_run();
}
