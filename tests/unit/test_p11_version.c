/*
 * test_p11_version.c - a key's versions in the token (pkcs11/p11_version.c, p11_object.c):
 * listed in id order, the newest picked for a URI without id=, usage turned off and on (and the
 * token then refusing and allowing decryption, also for a key another process disabled), and
 * destroyed.
 */
#include "test_p11_util.h"
#include <pthread.h>
#include <time.h>
#include <openssl/rand.h>
#include "../../pkcs11/p11_version.h"

static const p11_rsa_params oaep1 = {P11_RSA_OAEP, P11_HASH_SHA1, P11_HASH_SHA1, NULL, 0};

/* A 12-byte version id whose first byte orders it. */
static void version_id(uint8_t id[P11_VERSION_ID_BYTES], uint8_t age)
{
    memset(id, 0, P11_VERSION_ID_BYTES);
    id[0] = age;
    id[11] = (uint8_t)getpid();
}

static void test_versions_listed_oldest_first(void)
{
    const char *label = tu_label("versions");
    uint8_t id[P11_VERSION_ID_BYTES];
    p11_version *v = NULL;
    size_t n = 0;
    const uint8_t ages[] = {2, 1, 3};

    for (size_t i = 0; i < 3; i++) {
        version_id(id, ages[i]);
        CU_ASSERT_EQUAL_FATAL(
            p11_key_generate(tu_token, label, id, sizeof(id), 2048, P11_OP_DECRYPT), CKR_OK);
    }
    CU_ASSERT_EQUAL_FATAL(p11_versions_get(tu_token, label, &v, &n), CKR_OK);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(v[i].id[0], i + 1);
        CU_ASSERT_TRUE(v[i].has_public);
        CU_ASSERT_TRUE(v[i].attrs.decrypt && v[i].attrs.unwrap);
        CU_ASSERT_TRUE(v[i].attrs.encrypt && v[i].attrs.wrap);
        CU_ASSERT_TRUE(v[i].attrs.local && v[i].attrs.never_extractable);
        CU_ASSERT_EQUAL(v[i].n_len, 256);
    }
    p11_versions_free(v, n);
    CU_ASSERT_EQUAL(p11_versions_get(tu_token, "no-such-key", &v, &n), CKR_OK);
    CU_ASSERT_EQUAL(n, 0);
}

static void test_uri_without_id_finds_the_newest_version(void)
{
    const char *label = tu_label("current");
    uint8_t id[P11_VERSION_ID_BYTES];
    char uri[128];
    const uint8_t *got;
    size_t len;
    p11_key *k = NULL;

    /* more than one C_FindObjects batch of the old code (8) */
    for (uint8_t age = 10; age > 0; age--) {
        version_id(id, age == 10 ? 0x7f : age);
        CU_ASSERT_EQUAL_FATAL(
            p11_key_generate(tu_token, label, id, sizeof(id), 2048, P11_OP_DECRYPT), CKR_OK);
    }
    snprintf(uri, sizeof(uri), "pkcs11:object=%s;type=private", label);
    CU_ASSERT_EQUAL_FATAL(p11_key_find(tu_token, uri, &k), CKR_OK);
    got = p11_key_id(k, &len);
    CU_ASSERT_EQUAL(len, P11_VERSION_ID_BYTES);
    CU_ASSERT_EQUAL(got[0], 0x7f);
    CU_ASSERT_TRUE(p11_key_has_public_object(k));
    p11_key_free(k);
}

static void test_disabled_version_is_refused_by_the_token(void)
{
    const char *label = tu_label("disable");
    uint8_t id[P11_VERSION_ID_BYTES], msg[32] = "a data key, 32 bytes long......";
    uint8_t ct[512], pt[512];
    size_t ct_len = sizeof(ct), pt_len = sizeof(pt);
    p11_version *v = NULL;
    size_t n = 0;
    p11_key *k;

    version_id(id, 1);
    k = tu_key_new(label, id, sizeof(id));
    CU_ASSERT_EQUAL_FATAL(p11_rsa_encrypt(k, &oaep1, msg, sizeof(msg), ct, &ct_len), CKR_OK);
    CU_ASSERT_EQUAL_FATAL(
        p11_version_ops_set(tu_token, label, id, sizeof(id), P11_OP_DECRYPT | P11_OP_SIGN, 0),
        CKR_OK);
    CU_ASSERT_EQUAL(p11_rsa_decrypt(k, &oaep1, ct, ct_len, pt, &pt_len),
                    CKR_KEY_FUNCTION_NOT_PERMITTED);
    CU_ASSERT_EQUAL(p11_versions_get(tu_token, label, &v, &n), CKR_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_FALSE(v[0].attrs.decrypt || v[0].attrs.unwrap || v[0].attrs.sign);
    CU_ASSERT_FALSE(v[0].attrs.encrypt || v[0].attrs.wrap || v[0].attrs.verify);
    p11_versions_free(v, n);
    CU_ASSERT_EQUAL(p11_version_ops_set(tu_token, label, id, sizeof(id), P11_OP_DECRYPT, 1),
                    CKR_OK);
    pt_len = sizeof(pt);
    CU_ASSERT_EQUAL(p11_rsa_decrypt(k, &oaep1, ct, ct_len, pt, &pt_len), CKR_OK);
    TEST_ASSERT_BYTES(pt, pt_len, msg, sizeof(msg));
    p11_key_free(k);
}

/* Another process (the cmk command) disables a key this process found and used before: this
 * process is refused at its very next operation, since the usage attributes are the token's
 * and nothing is cached above them (docs/operations.md: "bounded time" is zero here). */
static void test_disabled_in_another_process_is_refused_here(void)
{
    const char *label = tu_label("xproc");
    uint8_t msg[32] = {1, 2, 3}, ct[512], pt[512];
    size_t ct_len = sizeof(ct), pt_len = sizeof(pt);
    char cmk[1024], cmd[1200], uri[128];
    p11_key *k = NULL;

    if (testlib_env("CMK_BUILD") == NULL || testlib_env("CMK_TEST_DIR") == NULL) {
        TEST_SKIP("CMK_BUILD unset: run through make check");
        return;
    }
    snprintf(cmk, sizeof(cmk),
             "CMK_AUDIT_LOG=%s/test_p11_version-audit.log %s/cmk --module '%s' "
             "--token 'pkcs11:token=%s' --pin-source 'file:%s'",
             testlib_env("CMK_TEST_DIR"), testlib_env("CMK_BUILD"), testlib_env("CMK_TEST_MODULE"),
             testlib_env("CMK_TEST_TOKEN"), testlib_env("CMK_TEST_PIN_FILE"));
    snprintf(cmd, sizeof(cmd), "%s key create %s >/dev/null", cmk, label);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s;type=private", label);
    CU_ASSERT_EQUAL_FATAL(p11_key_find(tu_token, uri, &k), CKR_OK);
    CU_ASSERT_EQUAL_FATAL(p11_rsa_encrypt(k, &oaep1, msg, sizeof(msg), ct, &ct_len), CKR_OK);
    CU_ASSERT_EQUAL_FATAL(p11_rsa_decrypt(k, &oaep1, ct, ct_len, pt, &pt_len), CKR_OK);
    snprintf(cmd, sizeof(cmd), "%s key disable %s >/dev/null", cmk, label);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    pt_len = sizeof(pt);
    CU_ASSERT_EQUAL(p11_rsa_decrypt(k, &oaep1, ct, ct_len, pt, &pt_len),
                    CKR_KEY_FUNCTION_NOT_PERMITTED);
    snprintf(cmd, sizeof(cmd), "%s key enable %s >/dev/null", cmk, label);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    pt_len = sizeof(pt);
    CU_ASSERT_EQUAL(p11_rsa_decrypt(k, &oaep1, ct, ct_len, pt, &pt_len), CKR_OK);
    p11_key_free(k);
}

static void test_versions_destroyed(void)
{
    const char *label = tu_label("destroy");
    uint8_t id[P11_VERSION_ID_BYTES];
    p11_version *v = NULL;
    size_t n = 0, destroyed = 0;

    for (uint8_t age = 1; age <= 2; age++) {
        version_id(id, age);
        CU_ASSERT_EQUAL_FATAL(
            p11_key_generate(tu_token, label, id, sizeof(id), 2048, P11_OP_DECRYPT), CKR_OK);
    }
    CU_ASSERT_EQUAL(p11_versions_destroy(tu_token, label, &destroyed), CKR_OK);
    CU_ASSERT_EQUAL(destroyed, 4);
    CU_ASSERT_EQUAL(p11_versions_get(tu_token, label, &v, &n), CKR_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(p11_version_ops_set(tu_token, label, id, sizeof(id), P11_OP_DECRYPT, 0),
                    P11_R_OBJECT_NOT_FOUND);
}

/* Four threads rotate one key at once, five times each, with time-based ids as cmk makes them:
 * twenty versions, none lost, distinct ids, and the newest is what object= finds. */
struct rotor {
    const char *label;
    int failed;
};

static void *rotor_run(void *arg)
{
    struct rotor *r = arg;

    for (int i = 0; i < 5; i++) {
        uint8_t id[P11_VERSION_ID_BYTES];
        struct timespec ts;
        unsigned long long us;

        clock_gettime(CLOCK_REALTIME, &ts);
        us = (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000;
        for (int b = 7; b >= 0; b--, us >>= 8)
            id[b] = (uint8_t)us;
        if (RAND_bytes(id + 8, 4) != 1 ||
            p11_key_generate(tu_token, r->label, id, sizeof(id), 2048, P11_OP_DECRYPT) != CKR_OK)
            r->failed++;
    }
    return NULL;
}

static void test_concurrent_rotations_lose_no_version(void)
{
    struct rotor r = {tu_label("rotors"), 0};
    pthread_t th[4];
    p11_version *v = NULL;
    size_t n = 0;
    char uri[128];
    const uint8_t *id;
    size_t len;
    p11_key *k = NULL;

    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, rotor_run, &r), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    CU_ASSERT_EQUAL(r.failed, 0);
    CU_ASSERT_EQUAL_FATAL(p11_versions_get(tu_token, r.label, &v, &n), CKR_OK);
    CU_ASSERT_EQUAL(n, 20);
    for (size_t i = 1; i < n; i++)
        CU_ASSERT_TRUE(memcmp(v[i - 1].id, v[i].id, P11_VERSION_ID_BYTES) < 0);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s;type=private", r.label);
    CU_ASSERT_EQUAL_FATAL(p11_key_find(tu_token, uri, &k), CKR_OK);
    id = p11_key_id(k, &len);
    TEST_ASSERT_BYTES(id, len, v[n - 1].id, v[n - 1].id_len);
    p11_key_free(k);
    p11_versions_free(v, n);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("p11_version", tu_setup, tu_teardown);
    CU_add_test(s, "versions_listed_oldest_first", test_versions_listed_oldest_first);
    CU_add_test(s, "uri_without_id_finds_the_newest_version",
                test_uri_without_id_finds_the_newest_version);
    CU_add_test(s, "disabled_version_is_refused_by_the_token",
                test_disabled_version_is_refused_by_the_token);
    CU_add_test(s, "disabled_in_another_process_is_refused_here",
                test_disabled_in_another_process_is_refused_here);
    CU_add_test(s, "versions_destroyed", test_versions_destroyed);
    CU_add_test(s, "concurrent_rotations_lose_no_version",
                test_concurrent_rotations_lose_no_version);
    return testlib_run();
}
