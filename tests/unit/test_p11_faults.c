/* test_p11_faults.c - the PKCS#11 layer against a token that fails (build/cmk-faultmod.so in
 * front of SoftHSM, docs/testing-faults.md): a transient session, login or device fault is
 * mended by one reopen-and-retry; the same fault for good, and the faults that are not about
 * the session, reach the caller named (CKR and token), tried at most twice and once; a token
 * gone for good is named; delays and faults under 8 threads leave the pool sound. */
#include <pthread.h>
#include "test_fault_util.h"

#define THREADS 8
#define ROUNDS  5

static p11_key *key;
static uint8_t ct[256];
static size_t ct_len = sizeof(ct);
static const uint8_t msg[32] = "thirty-two bytes of a data key!";
static const p11_rsa_params pkcs1 = {P11_RSA_PKCS1, 0, 0, NULL, 0};

static int suite_setup(void)
{
    char uri[128];
    const char *label;

    if (tf_setup() != 0 || tu_setup() != 0)
        return 1;
    label = tu_label("faults");
    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    return p11_key_generate(tu_token, label, NULL, 0, 2048, P11_OP_DECRYPT) != CKR_OK ||
           p11_key_find(tu_token, uri, &key) != CKR_OK ||
           p11_rsa_encrypt(key, &pkcs1, msg, sizeof(msg), ct, &ct_len) != CKR_OK;
}

static int suite_teardown(void)
{
    p11_key_free(key);
    return tu_teardown();
}

/* One decryption; on success checks the plaintext. *wiped: the output buffer is all zero. */
static CK_RV decrypt(p11_key *k, int *wiped)
{
    uint8_t pt[256];
    size_t pt_len = sizeof(pt);
    CK_RV rv;

    memset(pt, 0xa5, sizeof(pt));
    rv = p11_rsa_decrypt(k, &pkcs1, ct, ct_len, pt, &pt_len);
    if (rv == CKR_OK && (pt_len != sizeof(msg) || memcmp(pt, msg, pt_len) != 0))
        rv = CKR_GENERAL_ERROR;
    if (wiped != NULL) {
        *wiped = 1;
        for (size_t i = 0; i < sizeof(pt); i++)
            *wiped &= pt[i] == 0;
    }
    return rv;
}

/* Armed with "FN once CKR": the decryption succeeds, the fault fired once, the pool holds one
 * session, and a fault that logged us out costs exactly one more C_Login. */
static void transient(const char *fn, CK_RV rv)
{
    char rule[128], fired[128];
    unsigned long logins = tu_token->login_calls;

    snprintf(rule, sizeof(rule), "%s once %s", fn, p11_rv_name(rv));
    snprintf(fired, sizeof(fired), "%s %s", fn, p11_rv_name(rv));
    CU_ASSERT_EQUAL(decrypt(key, NULL), CKR_OK);
    tf_arm(rule);
    CU_ASSERT_EQUAL(decrypt(key, NULL), CKR_OK);
    CU_ASSERT_EQUAL(tf_fired(fired), 1);
    CU_ASSERT_EQUAL(p11_token_session_count(tu_token), 1);
    CU_ASSERT_EQUAL(tu_token->login_calls, logins + 1); /* new epoch: logged in again */
    tf_clear();
}

static void test_faults_transient_session_handle_invalid_is_mended(void)
{
    transient("C_Decrypt", CKR_SESSION_HANDLE_INVALID);
    transient("C_DecryptInit", CKR_SESSION_HANDLE_INVALID);
}

static void test_faults_transient_session_closed_is_mended(void)
{
    transient("C_Decrypt", CKR_SESSION_CLOSED);
}

static void test_faults_transient_user_not_logged_in_is_mended(void)
{
    transient("C_Decrypt", CKR_USER_NOT_LOGGED_IN);
    transient("C_DecryptInit", CKR_USER_NOT_LOGGED_IN);
}

static void test_faults_transient_device_removed_is_mended(void)
{
    transient("C_Decrypt", CKR_DEVICE_REMOVED);
    transient("C_DecryptInit", CKR_TOKEN_NOT_PRESENT);
}

/* Armed with "C_Decrypt always CKR": the caller gets that CKR, named with the token, after
 * `tries` calls; no plaintext is left in the output; the token works again once it clears. */
static void lasting(CK_RV rv, unsigned tries)
{
    char rule[128], fired[128];
    int wiped = 0;

    snprintf(rule, sizeof(rule), "C_Decrypt always %s", p11_rv_name(rv));
    snprintf(fired, sizeof(fired), "C_Decrypt %s", p11_rv_name(rv));
    tf_arm(rule);
    CU_ASSERT_EQUAL(decrypt(key, &wiped), rv);
    CU_ASSERT_TRUE(tf_detail_names("C_Decrypt", p11_rv_name(rv), "token 'cmk-test'"));
    CU_ASSERT_TRUE(wiped); /* the fault module leaves the real plaintext in the buffer */
    CU_ASSERT_EQUAL(tf_fired(fired), tries);
    CU_ASSERT_TRUE(p11_token_session_count(tu_token) <= 1);
    tf_clear();
    CU_ASSERT_EQUAL(decrypt(key, NULL), CKR_OK);
    CU_ASSERT_EQUAL(p11_token_session_count(tu_token), 1);
}

static void test_faults_lasting_session_fault_is_named_after_one_retry(void)
{
    lasting(CKR_SESSION_HANDLE_INVALID, 2);
    lasting(CKR_SESSION_CLOSED, 2);
    lasting(CKR_USER_NOT_LOGGED_IN, 2);
    lasting(CKR_DEVICE_REMOVED, 2);
}

static void test_faults_device_errors_are_named_not_retried(void)
{
    lasting(CKR_DEVICE_MEMORY, 1);
    lasting(CKR_GENERAL_ERROR, 1);
    lasting(CKR_FUNCTION_FAILED, 1);
    lasting(CKR_DEVICE_ERROR, 1);
}

/* The token is pulled out for good: calls fail naming the token, a new open says no such
 * token; once it is back, the same key works without being found again. */
static void test_faults_token_gone_for_good_is_named(void)
{
    p11_token *t = NULL;
    CK_RV rv;

    tf_arm("token removed");
    rv = decrypt(key, NULL);
    CU_ASSERT_TRUE(rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_REMOVED);
    CU_ASSERT_TRUE(tf_detail_names(p11_rv_name(rv), "token 'cmk-test'", NULL));
    printf("  removed: %s\n", p11_err_detail());
    CU_ASSERT_EQUAL(p11_token_open(tu_module, tu_uri, tu_pin_spec, &t), P11_R_TOKEN_NOT_FOUND);
    CU_ASSERT_TRUE(tf_detail_names("P11_R_TOKEN_NOT_FOUND", "cmk-test", NULL));
    rv = p11_key_generate(tu_token, tu_label("gone"), NULL, 0, 2048, P11_OP_DECRYPT);
    CU_ASSERT_TRUE(rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_REMOVED);
    CU_ASSERT_TRUE(tf_detail_names(p11_rv_name(rv), "token 'cmk-test'", NULL));
    CU_ASSERT_EQUAL(p11_token_session_count(tu_token), 0);
    tf_clear();
    CU_ASSERT_EQUAL(decrypt(key, NULL), CKR_OK);
    CU_ASSERT_EQUAL(p11_token_session_count(tu_token), 1);
}

/* Every call says the token is not there: a clear error, and a bounded number of calls. */
static void test_faults_token_not_present_everywhere_is_named(void)
{
    CK_RV rv;

    tf_arm("all always CKR_TOKEN_NOT_PRESENT");
    rv = decrypt(key, NULL);
    CU_ASSERT_EQUAL(rv, CKR_TOKEN_NOT_PRESENT);
    CU_ASSERT_TRUE(tf_detail_names("CKR_TOKEN_NOT_PRESENT", "token 'cmk-test'", NULL));
    CU_ASSERT_TRUE(tf_fired("C_") <= 8);
    printf("  everywhere: %s (%u calls)\n", p11_err_detail(), tf_fired("C_"));
    tf_clear();
    CU_ASSERT_EQUAL(decrypt(key, NULL), CKR_OK);
}

/* The token is pulled out and comes back in another slot. With a session in hand the failure
 * re-finds it (by label and serial) and the retry works there; when it went away while no
 * session was open, the next operation must find it again as well. */
static void test_faults_token_back_in_another_slot_is_found(void)
{
    p11_token *t = NULL;
    p11_key *k = tu_key_own(p11_key_label(key), &t);
    CK_SLOT_ID first = t->slot;
    CK_RV rv;

    CU_ASSERT_EQUAL(decrypt(k, NULL), CKR_OK);
    tf_arm("token moved\nC_DecryptInit once CKR_DEVICE_REMOVED");
    CU_ASSERT_EQUAL(decrypt(k, NULL), CKR_OK);
    CU_ASSERT_NOT_EQUAL(t->slot, first);
    tf_arm("token removed");
    rv = decrypt(k, NULL);
    CU_ASSERT_TRUE(rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_REMOVED);
    CU_ASSERT_TRUE(tf_detail_names(p11_rv_name(rv), "token 'cmk-test'", NULL));
    CU_ASSERT_EQUAL(p11_token_session_count(t), 0);
    tf_clear(); /* back, in the first slot */
    rv = decrypt(k, NULL);
    if (rv != CKR_OK)
        printf("  back in the first slot: %s\n", p11_err_detail());
    CU_ASSERT_TRUE(rv == CKR_OK && t->slot == first);
    p11_key_free(k);
    p11_token_free(t);
}

struct worker {
    p11_key *k;
    unsigned failures;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < ROUNDS; i++)
        if (decrypt(w->k, NULL) != CKR_OK) {
            printf("  thread: %s\n", p11_err_detail());
            w->failures++;
        }
    return NULL;
}

static unsigned run_threads(p11_key *k)
{
    pthread_t th[THREADS];
    struct worker w[THREADS];
    unsigned failures = 0;

    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){k, 0};
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, worker_run, &w[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        failures += w[i].failures;
    }
    return failures;
}

/* Slow opens and slow decryptions: every caller gets through, sessions stay within the limit
 * (callers wait), and all are reused. */
static void test_faults_delays_under_threads_keep_the_pool(void)
{
    p11_token *t = NULL;
    p11_key *k = tu_key_own(p11_key_label(key), &t);

    tf_arm("C_OpenSession delay 30ms\nC_Decrypt delay 10ms");
    CU_ASSERT_EQUAL(run_threads(k), 0);
    CU_ASSERT_TRUE(p11_token_session_count(t) <= THREADS);
    CU_ASSERT_EQUAL(p11_token_session_limit_set(t, 3), 3);
    CU_ASSERT_EQUAL(run_threads(k), 0);
    CU_ASSERT_TRUE(p11_token_session_count(t) <= THREADS);
    CU_ASSERT_TRUE(tf_fired("C_Decrypt delay") == 2 * THREADS * ROUNDS);
    tf_clear();
    p11_key_free(k);
    p11_token_free(t);
}

/* One fault among 8 busy threads: it fires once, every decryption succeeds, the pool is
 * rebuilt within its limit. (One fault per run: two could hit one operation, whose retry then
 * fails, as it should.) */
static void test_faults_transient_under_threads_fires_once_and_is_mended(void)
{
    static const char *const rules[][2] = {
        {"C_Decrypt delay 5ms\nC_Decrypt once CKR_SESSION_HANDLE_INVALID skip=9",
         "C_Decrypt CKR_SESSION_HANDLE_INVALID"},
        {"C_Decrypt delay 5ms\nC_DecryptInit once CKR_DEVICE_REMOVED skip=20",
         "C_DecryptInit CKR_DEVICE_REMOVED"},
    };
    p11_token *t = NULL;
    p11_key *k = tu_key_own(p11_key_label(key), &t);

    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        tf_arm(rules[i][0]);
        CU_ASSERT_EQUAL(run_threads(k), 0);
        CU_ASSERT_EQUAL(tf_fired(rules[i][1]), 1);
        CU_ASSERT_TRUE(p11_token_session_count(t) <= THREADS);
    }
    tf_clear();
    p11_key_free(k);
    p11_token_free(t);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("p11_faults", suite_setup, suite_teardown);
    CU_add_test(s, "faults_transient_session_handle_invalid_is_mended",
                test_faults_transient_session_handle_invalid_is_mended);
    CU_add_test(s, "faults_transient_session_closed_is_mended",
                test_faults_transient_session_closed_is_mended);
    CU_add_test(s, "faults_transient_user_not_logged_in_is_mended",
                test_faults_transient_user_not_logged_in_is_mended);
    CU_add_test(s, "faults_transient_device_removed_is_mended",
                test_faults_transient_device_removed_is_mended);
    CU_add_test(s, "faults_lasting_session_fault_is_named_after_one_retry",
                test_faults_lasting_session_fault_is_named_after_one_retry);
    CU_add_test(s, "faults_device_errors_are_named_not_retried",
                test_faults_device_errors_are_named_not_retried);
    CU_add_test(s, "faults_token_gone_for_good_is_named", test_faults_token_gone_for_good_is_named);
    CU_add_test(s, "faults_token_not_present_everywhere_is_named",
                test_faults_token_not_present_everywhere_is_named);
    CU_add_test(s, "faults_token_back_in_another_slot_is_found",
                test_faults_token_back_in_another_slot_is_found);
    CU_add_test(s, "faults_delays_under_threads_keep_the_pool",
                test_faults_delays_under_threads_keep_the_pool);
    CU_add_test(s, "faults_transient_under_threads_fires_once_and_is_mended",
                test_faults_transient_under_threads_fires_once_and_is_mended);
    return testlib_run();
}
