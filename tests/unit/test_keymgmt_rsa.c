/*
 * test_keymgmt_rsa.c - the RSA key management over token keys (provider/keymgmt_rsa.c): the
 * key is an RSA key with its size parameters, its public half matches the same key in memory,
 * its private half is never exported, and a plain fetch of "RSA" never selects cmk
 * (docs/architecture-provider.md), before or after a token key was loaded.
 */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include "test_prov_util.h"

static EVP_PKEY *key, *pub;

static int suite_setup(void)
{
    return tp_suite_keys("kmgmt", &key, &pub);
}

static int suite_teardown(void)
{
    EVP_PKEY_free(key);
    EVP_PKEY_free(pub);
    return 0;
}

/* The same public key, decoded into memory by the default provider. */
static EVP_PKEY *in_memory(EVP_PKEY *k)
{
    unsigned char *der = NULL, *p;
    const unsigned char *q;
    int len = i2d_PUBKEY(k, &der);
    EVP_PKEY *m;

    CU_ASSERT_FATAL(len > 0);
    q = p = der;
    m = d2i_PUBKEY(NULL, &q, len);
    OPENSSL_free(p);
    CU_ASSERT_FATAL(m != NULL);
    return m;
}

static void test_keymgmt_key_is_rsa_with_its_sizes(void)
{
    int bits = 0, sec = 0, max = 0;
    BIGNUM *n = NULL, *e = NULL;

    CU_ASSERT_TRUE(EVP_PKEY_is_a(key, "RSA"));
    CU_ASSERT_EQUAL(EVP_PKEY_get_base_id(key), EVP_PKEY_RSA);
    CU_ASSERT_TRUE(EVP_PKEY_get_int_param(key, OSSL_PKEY_PARAM_BITS, &bits));
    CU_ASSERT_TRUE(EVP_PKEY_get_int_param(key, OSSL_PKEY_PARAM_SECURITY_BITS, &sec));
    CU_ASSERT_TRUE(EVP_PKEY_get_int_param(key, OSSL_PKEY_PARAM_MAX_SIZE, &max));
    CU_ASSERT_EQUAL(bits, 2048);
    CU_ASSERT_EQUAL(sec, 112);
    CU_ASSERT_EQUAL(max, 256);
    CU_ASSERT_EQUAL(EVP_PKEY_get_size(key), 256);
    CU_ASSERT_TRUE(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n));
    CU_ASSERT_TRUE(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e));
    CU_ASSERT_EQUAL(BN_num_bits(n), 2048);
    CU_ASSERT_TRUE(BN_is_word(e, 65537));
    BN_free(n);
    BN_free(e);
}

static void test_keymgmt_public_half_matches_memory_copy(void)
{
    EVP_PKEY *m = in_memory(key), *other = EVP_RSA_gen(2048);

    CU_ASSERT_EQUAL(EVP_PKEY_eq(key, m), 1);
    CU_ASSERT_EQUAL(EVP_PKEY_eq(m, key), 1);
    CU_ASSERT_EQUAL(EVP_PKEY_eq(pub, key), 1);
    CU_ASSERT_NOT_EQUAL(EVP_PKEY_eq(key, other), 1);
    EVP_PKEY_free(m);
    EVP_PKEY_free(other);
    ERR_clear_error();
}

static void test_keymgmt_private_half_never_exported(void)
{
    OSSL_PARAM *params = NULL;

    CU_ASSERT_FALSE(EVP_PKEY_todata(key, EVP_PKEY_KEYPAIR, &params));
    ERR_clear_error();
    CU_ASSERT_TRUE(EVP_PKEY_todata(key, EVP_PKEY_PUBLIC_KEY, &params));
    CU_ASSERT_PTR_NOT_NULL(OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_RSA_N));
    CU_ASSERT_PTR_NULL(OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_RSA_D));
    OSSL_PARAM_free(params);
}

static void test_keymgmt_public_view_cannot_decrypt(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);

    CU_ASSERT_FATAL(ctx != NULL);
    CU_ASSERT_FALSE(EVP_PKEY_decrypt_init(ctx) > 0);
    CU_ASSERT_TRUE(EVP_PKEY_encrypt_init(ctx) > 0);
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
}

/* EVP_PKEY_dup of a token key is the same token key, still able to decrypt. */
static void test_keymgmt_dup_is_the_same_token_key(void)
{
    EVP_PKEY *d = EVP_PKEY_dup(key);
    EVP_PKEY_CTX *ctx;

    CU_ASSERT_FATAL(d != NULL);
    CU_ASSERT_EQUAL(EVP_PKEY_eq(d, key), 1);
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, d, NULL);
    CU_ASSERT_TRUE(ctx != NULL && EVP_PKEY_decrypt_init(ctx) > 0);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(d);
}

/* OpenSSL 3.0 gives a fetch without properties to the first provider in openssl.cnf that
 * offers the name; cmk offers its RSA key management only to its own store. */
static void test_keymgmt_never_chosen_for_rsa_by_name(void)
{
    EVP_KEYMGMT *km = EVP_KEYMGMT_fetch(NULL, "RSA", NULL);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *gen = NULL;

    CU_ASSERT_FATAL(km != NULL);
    CU_ASSERT_STRING_NOT_EQUAL(OSSL_PROVIDER_get0_name(EVP_KEYMGMT_get0_provider(km)), "cmk");
    CU_ASSERT_FATAL(ctx != NULL);
    CU_ASSERT_TRUE(EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_generate(ctx, &gen) > 0);
    CU_ASSERT_PTR_NOT_NULL(gen);
    EVP_PKEY_free(gen);
    EVP_PKEY_CTX_free(ctx);
    EVP_KEYMGMT_free(km);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("keymgmt_rsa", suite_setup, suite_teardown);
    CU_add_test(s, "keymgmt_rsa_by_name_is_not_cmk_after_a_first_store_load",
                test_keymgmt_never_chosen_for_rsa_by_name);
    CU_add_test(s, "keymgmt_key_is_rsa_with_its_sizes", test_keymgmt_key_is_rsa_with_its_sizes);
    CU_add_test(s, "keymgmt_public_half_matches_memory_copy",
                test_keymgmt_public_half_matches_memory_copy);
    CU_add_test(s, "keymgmt_private_half_never_exported", test_keymgmt_private_half_never_exported);
    CU_add_test(s, "keymgmt_public_view_cannot_decrypt", test_keymgmt_public_view_cannot_decrypt);
    CU_add_test(s, "keymgmt_dup_is_the_same_token_key", test_keymgmt_dup_is_the_same_token_key);
    CU_add_test(s, "keymgmt_rsa_by_name_is_not_cmk_after_token_operations",
                test_keymgmt_never_chosen_for_rsa_by_name);
    return testlib_run();
}
