/*
 * test_prov_key_state.c - the provider honours the key life cycle cmk keeps in the token
 * (provider/key_state.c): a key this process loaded and used is refused at its next operation
 * once another process (the cmk command) disables or deletes it, and serves again once enabled
 * or recovered; an expired or not-yet-valid key wraps nothing but still unwraps; a deleted key
 * does not load. Each refusal says which.
 */
#include <openssl/bio.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <sys/wait.h>
#include "test_prov_util.h"

static char cmk[2048], name[64], uri[256];
static EVP_PKEY *key;

/* Runs `cmk ARGS` (the test token, an audit log in the test folder); its exit code. */
static int cmk_run(const char *args)
{
    char cmd[4096];
    int rc;

    snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>&1", cmk, args);
    rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int setup(void)
{
    const char *build = testlib_env("CMK_BUILD"), *dir = testlib_env("CMK_TEST_DIR");
    char args[128];

    if (build == NULL || dir == NULL || testlib_env("CMK_TEST_PIN_FILE") == NULL) {
        printf("no test token: run through make check\n");
        return 1;
    }
    snprintf(cmk, sizeof(cmk),
             "CMK_AUDIT_LOG='%s/test_prov_key_state-audit.log' '%s/cmk' --module '%s' "
             "--token 'pkcs11:token=%s' --pin-source 'file:%s'",
             dir, build, testlib_env("CMK_TEST_MODULE"), testlib_env("CMK_TEST_TOKEN"),
             testlib_env("CMK_TEST_PIN_FILE"));
    snprintf(name, sizeof(name), "pstate-%ld", (long)getpid());
    snprintf(uri, sizeof(uri), "pkcs11:token=%s;object=%s", testlib_env("CMK_TEST_TOKEN"), name);
    snprintf(args, sizeof(args), "key create %s", name);
    if (cmk_run(args) != 0 || (key = tp_key_load(uri, OSSL_STORE_INFO_PKEY)) == NULL) {
        printf("cmk key create %s failed\n", name);
        return 1;
    }
    return 0;
}

static int teardown(void)
{
    EVP_PKEY_free(key);
    return 0;
}

/* The errors OpenSSL holds, as one string (and cleared). */
static const char *errors(void)
{
    static char buf[2048];
    BIO *b = BIO_new(BIO_s_mem());
    int n;

    ERR_print_errors(b);
    n = BIO_read(b, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    BIO_free(b);
    return buf;
}

static int rsa_crypt(int enc, const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    int ok = c != NULL && (enc ? EVP_PKEY_encrypt_init(c) : EVP_PKEY_decrypt_init(c)) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
             (enc ? EVP_PKEY_encrypt(c, out, outlen, in, inlen)
                  : EVP_PKEY_decrypt(c, out, outlen, in, inlen)) == 1;

    EVP_PKEY_CTX_free(c);
    return ok;
}

static void admin(const char *verb, const char *extra)
{
    char args[256];

    snprintf(args, sizeof(args), "key %s %s %s", verb, name, extra);
    CU_ASSERT_EQUAL_FATAL(cmk_run(args), 0);
}

static void expect_refused(int ok, const char *why)
{
    const char *e = errors();

    CU_ASSERT_FALSE(ok);
    if (strstr(e, why) == NULL)
        printf("\n  errors: %s\n  wanted: %s\n", e, why);
    CU_ASSERT_PTR_NOT_NULL(strstr(e, why));
}

static void test_disabled_elsewhere_is_refused_here_at_once(void)
{
    uint8_t dk[32] = {7}, ct[512], pt[512];
    size_t ctlen = sizeof(ct), ptlen = sizeof(pt);

    CU_ASSERT_TRUE_FATAL(rsa_crypt(1, dk, sizeof(dk), ct, &ctlen));
    CU_ASSERT_TRUE_FATAL(rsa_crypt(0, ct, ctlen, pt, &ptlen));
    admin("disable", "");
    ptlen = sizeof(pt);
    expect_refused(rsa_crypt(0, ct, ctlen, pt, &ptlen), "is disabled");
    ctlen = sizeof(ct);
    expect_refused(rsa_crypt(1, dk, sizeof(dk), ct, &ctlen), "is disabled");
    admin("enable", "");
    ctlen = sizeof(ct);
    ptlen = sizeof(pt);
    CU_ASSERT_TRUE(rsa_crypt(1, dk, sizeof(dk), ct, &ctlen));
    CU_ASSERT_TRUE(rsa_crypt(0, ct, ctlen, pt, &ptlen));
    TEST_ASSERT_BYTES(pt, ptlen, dk, sizeof(dk));
}

static void test_outside_window_wraps_nothing(void)
{
    uint8_t dk[32] = {9}, ct[512], pt[512];
    size_t ctlen = sizeof(ct), ptlen = sizeof(pt);

    CU_ASSERT_TRUE_FATAL(rsa_crypt(1, dk, sizeof(dk), ct, &ctlen));
    admin("update", "--expires @1000000");
    ctlen = sizeof(ct);
    expect_refused(rsa_crypt(1, dk, sizeof(dk), ct, &ctlen), "expired on");
    (void)pt, (void)ptlen;
    admin("update", "--expires none --not-before +10d");
    ctlen = sizeof(ct);
    expect_refused(rsa_crypt(1, dk, sizeof(dk), ct, &ctlen), "is not valid before");
    admin("update", "--not-before none");
}

static void test_expired_key_still_unwraps(void)
{
    uint8_t dk[32] = {5}, ct[512], pt[512];
    size_t ctlen = sizeof(ct), ptlen = sizeof(pt);

    CU_ASSERT_TRUE_FATAL(rsa_crypt(1, dk, sizeof(dk), ct, &ctlen));
    admin("update", "--expires @1000000");
    CU_ASSERT_TRUE(rsa_crypt(0, ct, ctlen, pt, &ptlen));
    TEST_ASSERT_BYTES(pt, ptlen, dk, sizeof(dk));
    admin("update", "--expires none");
}

static void test_deleted_is_refused_and_does_not_load(void)
{
    uint8_t dk[32] = {3}, ct[512], ct2[512], pt[512];
    size_t ctlen = sizeof(ct), ct2len, ptlen = sizeof(pt);
    EVP_PKEY *again;

    CU_ASSERT_TRUE_FATAL(rsa_crypt(1, dk, sizeof(dk), ct, &ctlen));
    admin("delete", "");
    expect_refused(rsa_crypt(0, ct, ctlen, pt, &ptlen), "is disabled");
    ct2len = sizeof(ct2); /* the state object cmk replaced is found again: wraps say why */
    expect_refused(rsa_crypt(1, dk, sizeof(dk), ct2, &ct2len), "is deleted");
    again = tp_key_load(uri, OSSL_STORE_INFO_PKEY);
    CU_ASSERT_PTR_NULL(again);
    EVP_PKEY_free(again);
    admin("recover", "");
    ptlen = sizeof(pt);
    CU_ASSERT_TRUE(rsa_crypt(0, ct, ctlen, pt, &ptlen));
    TEST_ASSERT_BYTES(pt, ptlen, dk, sizeof(dk));
    ct2len = sizeof(ct2);
    CU_ASSERT_TRUE(rsa_crypt(1, dk, sizeof(dk), ct2, &ct2len));
    again = tp_key_load(uri, OSSL_STORE_INFO_PKEY);
    CU_ASSERT_PTR_NOT_NULL(again);
    EVP_PKEY_free(again);
}

#define THREADS        4
#define WRAPS_A_THREAD 25

static void *wrapper_run(void *arg)
{
    int *ok = arg;
    uint8_t dk[32] = {1}, ct[512];

    for (int i = 0; i < WRAPS_A_THREAD; i++) {
        size_t ctlen = sizeof(ct);

        *ok += rsa_crypt(1, dk, sizeof(dk), ct, &ctlen);
    }
    return NULL;
}

/* Threads wrapping with one key at once share where its state object is (one remembered
 * handle per key): every wrap's state check succeeds (run under TSan: no race either). */
static void test_threads_share_the_state_check(void)
{
    pthread_t th[THREADS];
    int ok[THREADS] = {0};

    for (int i = 0; i < THREADS; i++)
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, wrapper_run, &ok[i]) == 0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        CU_ASSERT_EQUAL(ok[i], WRAPS_A_THREAD);
    }
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("prov_key_state", setup, teardown);
    CU_add_test(s, "disabled_elsewhere_is_refused_here_at_once",
                test_disabled_elsewhere_is_refused_here_at_once);
    CU_add_test(s, "outside_window_wraps_nothing", test_outside_window_wraps_nothing);
    CU_add_test(s, "expired_key_still_unwraps", test_expired_key_still_unwraps);
    CU_add_test(s, "threads_share_the_state_check", test_threads_share_the_state_check);
    CU_add_test(s, "deleted_is_refused_and_does_not_load",
                test_deleted_is_refused_and_does_not_load);
    return testlib_run();
}
