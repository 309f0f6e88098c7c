/*
 * test_cipher_aes_gcm_params.c - cmk's AES-GCM keeps OpenSSL's EVP contract: the same
 * parameters and flags as the default provider's GCM, tags of 1..16 bytes, reinit with a new
 * IV, EVP_CIPHER_CTX_copy, generated IVs, the same refusals, and many threads at once. The TLS
 * record path is proved by test_cipher_aes_gcm_tls.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include "test_gcm_util.h"

static const uint8_t key[32] = {0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae,
                                0xf0, 0x85, 0x7d, 0x77, 0x81, 0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61,
                                0x08, 0xd7, 0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4};
static const uint8_t iv[12] = {0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8};
static const uint8_t aad[20] = "record header, etc.";
static uint8_t msg[1000];

static int suite_init(void)
{
    return tg_suite_init(msg, sizeof(msg), 7, 3);
}

static int suite_clean(void)
{
    return tg_suite_clean();
}

/* Seals msg[0..len) with AAD; returns the context after final (caller frees) or NULL. */
static EVP_CIPHER_CTX *seal(const EVP_CIPHER *c, size_t len, uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n, m;

    if (!EVP_EncryptInit_ex(ctx, c, NULL, key, iv) ||
        !EVP_EncryptUpdate(ctx, NULL, &n, aad, sizeof(aad)) ||
        !EVP_EncryptUpdate(ctx, out, &n, msg, (int)len) || !EVP_EncryptFinal_ex(ctx, out + n, &m)) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Opens ct[0..len) with a tag of taglen bytes; 1 when it authenticates. */
static int open_ct(const EVP_CIPHER *c, const uint8_t *ct, size_t len, const uint8_t *tag,
                   int taglen, uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n, m, ok;

    ok = EVP_DecryptInit_ex(ctx, c, NULL, key, iv) &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, taglen, (void *)tag) > 0 &&
         EVP_DecryptUpdate(ctx, NULL, &n, aad, sizeof(aad)) &&
         EVP_DecryptUpdate(ctx, out, &n, ct, (int)len) && EVP_DecryptFinal_ex(ctx, out + n, &m);
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

static void test_algorithm_params_and_flags_match_default(void)
{
    const char *ints[] = {OSSL_CIPHER_PARAM_AEAD, OSSL_CIPHER_PARAM_CUSTOM_IV,
                          OSSL_CIPHER_PARAM_CTS, OSSL_CIPHER_PARAM_TLS1_MULTIBLOCK,
                          OSSL_CIPHER_PARAM_HAS_RAND_KEY};

    NEED_GCM();
    CU_ASSERT_EQUAL(EVP_CIPHER_get_flags(cmk_gcm), EVP_CIPHER_get_flags(ref_gcm));
    CU_ASSERT_EQUAL(EVP_CIPHER_get_mode(cmk_gcm), EVP_CIPH_GCM_MODE);
    CU_ASSERT_EQUAL(EVP_CIPHER_get_key_length(cmk_gcm), 32);
    CU_ASSERT_EQUAL(EVP_CIPHER_get_iv_length(cmk_gcm), 12);
    CU_ASSERT_EQUAL(EVP_CIPHER_get_block_size(cmk_gcm), 1);
    CU_ASSERT_EQUAL(EVP_CIPHER_get_nid(cmk_gcm), EVP_CIPHER_get_nid(ref_gcm));
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        int a = -1, b = -2;
        OSSL_PARAM pa[] = {OSSL_PARAM_int(ints[i], &a), OSSL_PARAM_END};
        OSSL_PARAM pb[] = {OSSL_PARAM_int(ints[i], &b), OSSL_PARAM_END};

        CU_ASSERT_TRUE(EVP_CIPHER_get_params(cmk_gcm, pa) && EVP_CIPHER_get_params(ref_gcm, pb));
        CU_ASSERT_EQUAL(a, b);
    }
}

/* Every parameter the default's GCM lists is listed by ours, and the other way round. */
static int same_names(const OSSL_PARAM *a, const OSSL_PARAM *b)
{
    int ok = 1;

    for (const OSSL_PARAM *p = a; p->key != NULL; p++)
        if (OSSL_PARAM_locate_const(b, p->key) == NULL) {
            printf("  parameter %s missing\n", p->key);
            ok = 0;
        }
    return ok;
}

static void test_ctx_param_lists_match_default(void)
{
    NEED_GCM();
    CU_ASSERT_TRUE(same_names(EVP_CIPHER_gettable_ctx_params(ref_gcm),
                              EVP_CIPHER_gettable_ctx_params(cmk_gcm)));
    CU_ASSERT_TRUE(same_names(EVP_CIPHER_gettable_ctx_params(cmk_gcm),
                              EVP_CIPHER_gettable_ctx_params(ref_gcm)));
    CU_ASSERT_TRUE(same_names(EVP_CIPHER_settable_ctx_params(ref_gcm),
                              EVP_CIPHER_settable_ctx_params(cmk_gcm)));
    CU_ASSERT_TRUE(same_names(EVP_CIPHER_settable_ctx_params(cmk_gcm),
                              EVP_CIPHER_settable_ctx_params(ref_gcm)));
    CU_ASSERT_TRUE(
        same_names(EVP_CIPHER_gettable_params(ref_gcm), EVP_CIPHER_gettable_params(cmk_gcm)));
    CU_ASSERT_TRUE(
        same_names(EVP_CIPHER_gettable_params(cmk_gcm), EVP_CIPHER_gettable_params(ref_gcm)));
}

/* Tags of every length: get and set behave as the default's, a flipped bit is refused. */
static void test_tag_lengths_1_to_16_as_default(void)
{
    uint8_t ct1[100], ct2[100], pt[100], t1[17], t2[17];
    EVP_CIPHER_CTX *a, *b;

    NEED_GCM();
    CU_ASSERT_FATAL((a = seal(cmk_gcm, 100, ct1)) != NULL && (b = seal(ref_gcm, 100, ct2)) != NULL);
    TEST_ASSERT_BYTES(ct1, 100, ct2, 100);
    for (int len = 0; len <= 17; len++) {
        int ga = EVP_CIPHER_CTX_ctrl(a, EVP_CTRL_AEAD_GET_TAG, len, t1) > 0;
        int gb = EVP_CIPHER_CTX_ctrl(b, EVP_CTRL_AEAD_GET_TAG, len, t2) > 0;

        CU_ASSERT_EQUAL(ga, gb);
        CU_ASSERT_EQUAL(ga, len >= 1 && len <= 16);
        if (!ga)
            continue;
        TEST_ASSERT_BYTES(t1, (size_t)len, t2, (size_t)len);
        CU_ASSERT_TRUE(open_ct(cmk_gcm, ct1, 100, t1, len, pt));
        TEST_ASSERT_BYTES(pt, 100, msg, 100);
        t1[len - 1] ^= 0x80;
        CU_ASSERT_FALSE(open_ct(cmk_gcm, ct1, 100, t1, len, pt));
        CU_ASSERT_FALSE(open_ct(ref_gcm, ct1, 100, t1, len, pt));
    }
    ct1[50] ^= 1;
    CU_ASSERT_TRUE(EVP_CIPHER_CTX_ctrl(a, EVP_CTRL_AEAD_GET_TAG, 16, t1) > 0);
    CU_ASSERT_FALSE(open_ct(cmk_gcm, ct1, 100, t1, 16, pt));
    ERR_clear_error();
    EVP_CIPHER_CTX_free(a);
    EVP_CIPHER_CTX_free(b);
}

/* What OpenSSL refuses, cmk refuses: each step is run on both providers. */
static int refusals(const EVP_CIPHER *c, int step)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t out[64], tag[16] = {0};
    int n, ok = 0;

    switch (step) {
    case 0: /* decryption final without a tag */
        ok = EVP_DecryptInit_ex(ctx, c, NULL, key, iv) &&
             EVP_DecryptUpdate(ctx, out, &n, msg, 10) && EVP_DecryptFinal_ex(ctx, out, &n);
        break;
    case 1: /* AAD after data */
        ok = EVP_EncryptInit_ex(ctx, c, NULL, key, iv) &&
             EVP_EncryptUpdate(ctx, out, &n, msg, 10) && EVP_EncryptUpdate(ctx, NULL, &n, aad, 5);
        break;
    case 2: /* data after final, without a new IV */
        ok = EVP_EncryptInit_ex(ctx, c, NULL, key, iv) && EVP_EncryptFinal_ex(ctx, out, &n) &&
             EVP_EncryptUpdate(ctx, out, &n, msg, 10);
        break;
    case 3: /* IV length 0 */
        ok = EVP_EncryptInit_ex(ctx, c, NULL, NULL, NULL) &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 0, NULL) > 0;
        break;
    case 4: /* setting a tag while encrypting */
        ok = EVP_EncryptInit_ex(ctx, c, NULL, key, iv) &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) > 0;
        break;
    case 5: /* getting the tag before final */
        ok = EVP_EncryptInit_ex(ctx, c, NULL, key, iv) &&
             EVP_EncryptUpdate(ctx, out, &n, msg, 10) &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) > 0;
        break;
    case 6: /* a decryption without an IV */
        ok =
            EVP_DecryptInit_ex(ctx, c, NULL, key, NULL) && EVP_DecryptUpdate(ctx, out, &n, msg, 10);
        break;
    }
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

static void test_refuses_what_default_refuses(void)
{
    NEED_GCM();
    for (int step = 0; step <= 6; step++) {
        CU_ASSERT_FALSE(refusals(cmk_gcm, step));
        CU_ASSERT_FALSE(refusals(ref_gcm, step));
    }
}

/* EVP_CipherInit with only a new IV keeps the key: the second message is as if fresh. */
static void test_reinit_with_new_iv_keeps_key(void)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new(), *fresh;
    uint8_t out[100], want[100], t1[16], t2[16];
    int n;

    NEED_GCM();
    CU_ASSERT_FATAL((fresh = seal(cmk_gcm, 100, want)) != NULL);
    CU_ASSERT_TRUE(EVP_CIPHER_CTX_ctrl(fresh, EVP_CTRL_AEAD_GET_TAG, 16, t2) > 0);
    CU_ASSERT_TRUE(EVP_EncryptInit_ex(ctx, cmk_gcm, NULL, key, msg) &&
                   EVP_EncryptUpdate(ctx, out, &n, msg, 77) && EVP_EncryptFinal_ex(ctx, out, &n));
    CU_ASSERT_TRUE(EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) &&
                   EVP_EncryptUpdate(ctx, NULL, &n, aad, sizeof(aad)) &&
                   EVP_EncryptUpdate(ctx, out, &n, msg, 100) && EVP_EncryptFinal_ex(ctx, out, &n));
    CU_ASSERT_TRUE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, t1) > 0);
    TEST_ASSERT_BYTES(out, 100, want, 100);
    TEST_ASSERT_BYTES(t1, 16, t2, 16);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_CTX_free(fresh);
}

/* One context through keys A, B, A (and A again) seals as fresh contexts do: a new key is
 * expanded, the same key may keep its schedule. */
static void test_rekey_on_one_ctx_as_fresh(void)
{
    const uint8_t *keys[4] = {key, msg, key, key};
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new(), *fresh = EVP_CIPHER_CTX_new();
    uint8_t a[64], b[64], ta[16], tb[16];
    int n;

    NEED_GCM();
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_TRUE(EVP_EncryptInit_ex(ctx, i == 0 ? cmk_gcm : NULL, NULL, keys[i], iv) &&
                       EVP_EncryptUpdate(ctx, a, &n, msg, 64) && EVP_EncryptFinal_ex(ctx, a, &n) &&
                       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, ta) > 0);
        CU_ASSERT_TRUE(EVP_EncryptInit_ex(fresh, ref_gcm, NULL, keys[i], iv) &&
                       EVP_EncryptUpdate(fresh, b, &n, msg, 64) &&
                       EVP_EncryptFinal_ex(fresh, b, &n) &&
                       EVP_CIPHER_CTX_ctrl(fresh, EVP_CTRL_AEAD_GET_TAG, 16, tb) > 0);
        TEST_ASSERT_BYTES(a, 64, b, 64);
        TEST_ASSERT_BYTES(ta, 16, tb, 16);
    }
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_CTX_free(fresh);
}

/* A copy taken while a long AAD (on the heap, not inline) waits for the data. */
static void test_ctx_copy_with_long_aad(void)
{
    EVP_CIPHER_CTX *ctx[3] = {EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_new()};
    uint8_t out[3][50], tag[3][16];
    int n;

    NEED_GCM();
    CU_ASSERT_TRUE(EVP_EncryptInit_ex(ctx[0], cmk_gcm, NULL, key, iv) &&
                   EVP_EncryptUpdate(ctx[0], NULL, &n, msg, 300) &&
                   EVP_CIPHER_CTX_copy(ctx[1], ctx[0]) &&
                   EVP_EncryptInit_ex(ctx[2], ref_gcm, NULL, key, iv) &&
                   EVP_EncryptUpdate(ctx[2], NULL, &n, msg, 300));
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_TRUE(EVP_EncryptUpdate(ctx[i], NULL, &n, msg + 300, 10) &&
                       EVP_EncryptUpdate(ctx[i], out[i], &n, msg, 50) &&
                       EVP_EncryptFinal_ex(ctx[i], out[i], &n) &&
                       EVP_CIPHER_CTX_ctrl(ctx[i], EVP_CTRL_AEAD_GET_TAG, 16, tag[i]) > 0);
        EVP_CIPHER_CTX_free(ctx[i]);
    }
    for (int i = 0; i < 2; i++) {
        TEST_ASSERT_BYTES(out[i], 50, out[2], 50);
        TEST_ASSERT_BYTES(tag[i], 16, tag[2], 16);
    }
}

/* docs/aes-gcm.md: `default_properties = ?provider=cmk` gives cmk's GCM to applications that
 * ask for no provider (EVP_aes_256_gcm(), fetch with a NULL query); provider=default still
 * gets OpenSSL's own. */
static const char *gcm_provider(OSSL_LIB_CTX *lc, const char *query)
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(lc, "AES-256-GCM", query);
    const char *name = c != NULL ? OSSL_PROVIDER_get0_name(EVP_CIPHER_get0_provider(c)) : "none";

    EVP_CIPHER_free(c); /* the name belongs to the provider, which stays loaded */
    return name;
}

static void test_default_properties_prefer_cmk(void)
{
    TESTLIB_EVP e;

    NEED_GCM();
    /* default activated first, as in the test token's openssl.cnf */
    CU_ASSERT_FATAL(testlib_evp_init(&e, 1));
    printf("  no query, default loaded first: %s\n", gcm_provider(e.libctx, NULL));
    CU_ASSERT_FATAL(EVP_set_default_properties(e.libctx, "?provider=cmk"));
    CU_ASSERT_STRING_EQUAL(gcm_provider(e.libctx, NULL), "cmk");
    CU_ASSERT_STRING_EQUAL(gcm_provider(e.libctx, "provider=default"), "default");
    testlib_evp_cleanup(&e);
}

/* The one-call interface: EVP_Cipher with out == NULL for AAD, in == NULL to finish. */
static int seal_evp_cipher(const EVP_CIPHER *c, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = EVP_EncryptInit_ex(ctx, c, NULL, key, iv) &&
             EVP_Cipher(ctx, NULL, aad, sizeof(aad)) == (int)sizeof(aad) &&
             EVP_Cipher(ctx, out, msg, 100) == 100 &&
             EVP_Cipher(ctx, out + 100, msg + 100, 1) == 1 && EVP_Cipher(ctx, NULL, NULL, 0) >= 0 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) > 0;

    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

static void test_evp_cipher_calls_as_default(void)
{
    uint8_t a[101], b[101], ta[16], tb[16];

    NEED_GCM();
    CU_ASSERT_TRUE(seal_evp_cipher(cmk_gcm, a, ta));
    CU_ASSERT_TRUE(seal_evp_cipher(ref_gcm, b, tb));
    TEST_ASSERT_BYTES(a, 101, b, 101);
    TEST_ASSERT_BYTES(ta, 16, tb, 16);
}

/* A copy taken mid-message (AAD given, 33 bytes sealed) finishes the message on its own. */
static void test_ctx_copy_mid_message(void)
{
    EVP_CIPHER_CTX *a = EVP_CIPHER_CTX_new(), *b = EVP_CIPHER_CTX_new(), *ref;
    uint8_t want[100], oa[100], ob[100], tb[16], tw[16];
    int n;

    NEED_GCM();
    CU_ASSERT_FATAL((ref = seal(ref_gcm, 100, want)) != NULL);
    CU_ASSERT_TRUE(EVP_CIPHER_CTX_ctrl(ref, EVP_CTRL_AEAD_GET_TAG, 16, tw) > 0);
    CU_ASSERT_TRUE(EVP_EncryptInit_ex(a, cmk_gcm, NULL, key, iv) &&
                   EVP_EncryptUpdate(a, NULL, &n, aad, 7) &&
                   EVP_EncryptUpdate(a, NULL, &n, aad + 7, sizeof(aad) - 7) &&
                   EVP_EncryptUpdate(a, oa, &n, msg, 33));
    CU_ASSERT_FATAL(EVP_CIPHER_CTX_copy(b, a));
    memcpy(ob, oa, 33);
    CU_ASSERT_TRUE(EVP_EncryptUpdate(a, oa + 33, &n, msg + 33, 67) &&
                   EVP_EncryptFinal_ex(a, oa, &n));
    EVP_CIPHER_CTX_free(a); /* the copy must not depend on the original */
    CU_ASSERT_TRUE(EVP_EncryptUpdate(b, ob + 33, &n, msg + 33, 60) &&
                   EVP_EncryptUpdate(b, ob + 93, &n, msg + 93, 7) &&
                   EVP_EncryptFinal_ex(b, ob, &n));
    CU_ASSERT_TRUE(EVP_CIPHER_CTX_ctrl(b, EVP_CTRL_AEAD_GET_TAG, 16, tb) > 0);
    TEST_ASSERT_BYTES(oa, 100, want, 100);
    TEST_ASSERT_BYTES(ob, 100, want, 100);
    TEST_ASSERT_BYTES(tb, 16, tw, 16);
    EVP_CIPHER_CTX_free(b);
    EVP_CIPHER_CTX_free(ref);
}

/* An encryption given no IV makes a random one; the IV parameter tells it to the decryptor. */
static void test_generated_iv_is_readable(void)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new(), *d = EVP_CIPHER_CTX_new();
    uint8_t out[64], pt[64], got[12], tag[16];
    int n;

    NEED_GCM();
    CU_ASSERT_TRUE(EVP_EncryptInit_ex(ctx, cmk_gcm, NULL, key, NULL) &&
                   EVP_EncryptUpdate(ctx, out, &n, msg, 64) && EVP_EncryptFinal_ex(ctx, out, &n));
    CU_ASSERT_TRUE(EVP_CIPHER_CTX_get_original_iv(ctx, got, sizeof(got)) ||
                   EVP_CIPHER_CTX_get_updated_iv(ctx, got, sizeof(got)));
    CU_ASSERT_TRUE(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) > 0);
    CU_ASSERT_TRUE(EVP_DecryptInit_ex(d, ref_gcm, NULL, key, got) &&
                   EVP_CIPHER_CTX_ctrl(d, EVP_CTRL_AEAD_SET_TAG, 16, tag) > 0 &&
                   EVP_DecryptUpdate(d, pt, &n, out, 64) && EVP_DecryptFinal_ex(d, pt, &n));
    TEST_ASSERT_BYTES(pt, 64, msg, 64);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_CTX_free(d);
}

/* Threads share the EVP_CIPHER (and the back end), each with its own contexts. */
static void *thread_run(void *arg)
{
    size_t t = (size_t)arg, bad = 0;
    uint8_t a[1000], b[1000];

    for (size_t i = 0; i < 300; i++) {
        size_t len = (t * 131 + i * 17) % sizeof(msg);
        EVP_CIPHER_CTX *x = seal(cmk_gcm, len, a), *y = seal(ref_gcm, len, b);
        uint8_t tx[16], ty[16];

        if (x == NULL || y == NULL || memcmp(a, b, len) != 0 ||
            EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, tx) <= 0 ||
            EVP_CIPHER_CTX_ctrl(y, EVP_CTRL_AEAD_GET_TAG, 16, ty) <= 0 || memcmp(tx, ty, 16) != 0 ||
            !open_ct(cmk_gcm, a, len, tx, 16, b) || memcmp(b, msg, len) != 0)
            bad++;
        EVP_CIPHER_CTX_free(x);
        EVP_CIPHER_CTX_free(y);
    }
    return (void *)bad;
}

static void test_many_threads_at_once(void)
{
    pthread_t th[8];
    void *bad;

    NEED_GCM();
    for (size_t t = 0; t < 8; t++)
        CU_ASSERT_FATAL(pthread_create(&th[t], NULL, thread_run, (void *)t) == 0);
    for (size_t t = 0; t < 8; t++) {
        CU_ASSERT_FATAL(pthread_join(th[t], &bad) == 0);
        CU_ASSERT_EQUAL((size_t)bad, 0);
    }
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("cipher_aes_gcm_params", suite_init, suite_clean);
    CU_add_test(s, "algorithm_params_and_flags_match_default",
                test_algorithm_params_and_flags_match_default);
    CU_add_test(s, "ctx_param_lists_match_default", test_ctx_param_lists_match_default);
    CU_add_test(s, "tag_lengths_1_to_16_as_default", test_tag_lengths_1_to_16_as_default);
    CU_add_test(s, "refuses_what_default_refuses", test_refuses_what_default_refuses);
    CU_add_test(s, "reinit_with_new_iv_keeps_key", test_reinit_with_new_iv_keeps_key);
    CU_add_test(s, "rekey_on_one_ctx_as_fresh", test_rekey_on_one_ctx_as_fresh);
    CU_add_test(s, "ctx_copy_mid_message", test_ctx_copy_mid_message);
    CU_add_test(s, "ctx_copy_with_long_aad", test_ctx_copy_with_long_aad);
    CU_add_test(s, "default_properties_prefer_cmk", test_default_properties_prefer_cmk);
    CU_add_test(s, "evp_cipher_calls_as_default", test_evp_cipher_calls_as_default);
    CU_add_test(s, "generated_iv_is_readable", test_generated_iv_is_readable);
    CU_add_test(s, "many_threads_at_once", test_many_threads_at_once);
    return testlib_run();
}
