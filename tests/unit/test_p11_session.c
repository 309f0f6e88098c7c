/* test_p11_session.c - the session pool: concurrent threads get their own sessions up to the
 * limit and wait beyond it, sessions are reused, freed with the token, and re-opened (with a
 * new login) when they were closed behind the pool's back. */
#include <pthread.h>
#include "test_p11_util.h"

#define THREADS 8
#define ROUNDS  25

static p11_key *key;
static uint8_t ct[256];
static size_t ct_len = sizeof(ct);
static const uint8_t msg[32] = "thirty-two bytes of a data key!";

static int suite_setup(void)
{
    char uri[128];
    const char *label;
    const p11_rsa_params pkcs1 = {P11_RSA_PKCS1, 0, 0, NULL, 0};

    if (tu_setup() != 0)
        return 1;
    label = tu_label("pool");
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

static CK_RV decrypt_once(p11_key *k)
{
    const p11_rsa_params pkcs1 = {P11_RSA_PKCS1, 0, 0, NULL, 0};
    uint8_t pt[256];
    size_t pt_len = sizeof(pt);
    CK_RV rv = p11_rsa_decrypt(k, &pkcs1, ct, ct_len, pt, &pt_len);

    if (rv == CKR_OK && (pt_len != sizeof(msg) || memcmp(pt, msg, pt_len) != 0))
        rv = CKR_GENERAL_ERROR;
    if (rv != CKR_OK)
        printf("decrypt: %s\n", p11_err_detail());
    return rv;
}

struct worker {
    p11_key *k;
    unsigned failures;
    unsigned long most_open;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < ROUNDS; i++) {
        unsigned long n;

        if (decrypt_once(w->k) != CKR_OK)
            w->failures++;
        n = p11_token_session_count(p11_key_token(w->k));
        if (n > w->most_open)
            w->most_open = n;
    }
    return NULL;
}

/* Runs THREADS workers; returns failures, and the most sessions any of them saw open. */
static unsigned run_threads(p11_key *k, unsigned long *most_open)
{
    pthread_t th[THREADS];
    struct worker w[THREADS];
    unsigned failures = 0;

    *most_open = 0;
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){k, 0, 0};
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, worker_run, &w[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        failures += w[i].failures;
        if (w[i].most_open > *most_open)
            *most_open = w[i].most_open;
    }
    return failures;
}

static void test_session_threads_get_own_sessions_and_reuse_them(void)
{
    p11_token *t = NULL;
    p11_key *k = tu_key_own(p11_key_label(key), &t);
    unsigned long most;

    CU_ASSERT_EQUAL(p11_token_session_limit(t), 64); /* SoftHSM: effectively infinite */
    CU_ASSERT_EQUAL(run_threads(k, &most), 0);
    CU_ASSERT_TRUE(most >= 1 && most <= THREADS);
    CU_ASSERT_TRUE(p11_token_session_count(t) <= THREADS);
    printf("  %d threads x %d decryptions: at most %lu sessions\n", THREADS, ROUNDS, most);
    p11_key_free(k);
    p11_token_free(t);
}

static void test_session_limit_is_honoured_and_callers_wait(void)
{
    p11_token *t = NULL;
    p11_key *k = tu_key_own(p11_key_label(key), &t);
    unsigned long most;

    CU_ASSERT_EQUAL(p11_token_session_limit_set(t, 3), 3);
    CU_ASSERT_EQUAL(run_threads(k, &most), 0);
    CU_ASSERT_TRUE(most <= 3);
    CU_ASSERT_TRUE(p11_token_session_count(t) <= 3);
    CU_ASSERT_EQUAL(p11_token_session_limit_set(t, 1), 1);
    CU_ASSERT_EQUAL(run_threads(k, &most), 0);
    CU_ASSERT_EQUAL(p11_token_session_limit_set(t, 0), 1); /* 0 is not a limit */
    p11_key_free(k);
    p11_token_free(t);
}

static void test_session_reused_one_at_a_time(void)
{
    p11_token *t = NULL;
    p11_key *k = tu_key_own(p11_key_label(key), &t);

    for (int i = 0; i < 20; i++)
        CU_ASSERT_EQUAL(decrypt_once(k), CKR_OK);
    CU_ASSERT_EQUAL(p11_token_session_count(t), 1);
    p11_key_free(k);
    p11_token_free(t);
}

static void test_session_token_free_closes_sessions(void)
{
    p11_token *t = NULL;
    p11_key *k = tu_key_own(p11_key_label(key), &t);
    CK_SESSION_HANDLE idle[THREADS];
    unsigned long n, most;
    CK_SESSION_INFO si;

    CU_ASSERT_EQUAL(run_threads(k, &most), 0);
    n = t->nfree;
    CU_ASSERT_TRUE(n >= 1 && n == p11_token_session_count(t));
    memcpy(idle, t->free_list, n * sizeof(idle[0]));
    for (unsigned long i = 0; i < n; i++)
        CU_ASSERT_EQUAL(tu_token->f->C_GetSessionInfo(idle[i], &si), CKR_OK);
    p11_key_free(k); /* the key held the last reference but one */
    p11_token_free(t);
    for (unsigned long i = 0; i < n; i++)
        CU_ASSERT_EQUAL(tu_token->f->C_GetSessionInfo(idle[i], &si), CKR_SESSION_HANDLE_INVALID);
}

static void test_session_closed_behind_our_back_is_reopened(void)
{
    p11_token *t = NULL;
    p11_key *k = tu_key_own(p11_key_label(key), &t);
    unsigned long logins;

    CU_ASSERT_EQUAL(decrypt_once(k), CKR_OK);
    logins = t->login_calls;
    /* closes every session of this application on the slot, and so logs it out (5.6) */
    CU_ASSERT_EQUAL_FATAL(t->f->C_CloseAllSessions(t->slot), CKR_OK);
    CU_ASSERT_EQUAL(decrypt_once(k), CKR_OK);
    CU_ASSERT_EQUAL(t->login_calls, logins + 1);
    CU_ASSERT_EQUAL(p11_token_session_count(t), 1);
    /* the same through p11_token_run (object search) */
    CU_ASSERT_EQUAL_FATAL(t->f->C_CloseAllSessions(t->slot), CKR_OK);
    {
        p11_key *k2 = NULL;
        char uri[128];

        snprintf(uri, sizeof(uri), "pkcs11:object=%s", p11_key_label(key));
        CU_ASSERT_EQUAL(p11_key_find(t, uri, &k2), CKR_OK);
        p11_key_free(k2);
    }
    p11_key_free(k);
    p11_token_free(t);
    /* the suite's own token lost its sessions too: it recovers the same way */
    CU_ASSERT_EQUAL(decrypt_once(key), CKR_OK);
}

static void test_session_logged_out_behind_our_back_logs_in_again(void)
{
    p11_token *t = NULL;
    p11_key *k = tu_key_own(p11_key_label(key), &t);
    p11_session s;

    CU_ASSERT_EQUAL(decrypt_once(k), CKR_OK);
    CU_ASSERT_EQUAL_FATAL(p11_session_get(t, &s), CKR_OK);
    CU_ASSERT_EQUAL(t->f->C_Logout(s.h), CKR_OK);
    p11_session_put(t, s);
    CU_ASSERT_EQUAL(decrypt_once(k), CKR_OK);
    p11_key_free(k);
    p11_token_free(t);
}

/* SoftHSM cannot pull a token out; the pool is told the token went away, as a token's
 * CKR_DEVICE_REMOVED would, and must find it again (by label and serial) and carry on. */
static void test_session_token_gone_is_found_again(void)
{
    p11_token *t = NULL;
    p11_key *k = tu_key_own(p11_key_label(key), &t);
    CK_SLOT_ID slot = t->slot;
    unsigned long epoch;
    p11_session s;

    CU_ASSERT_EQUAL(decrypt_once(k), CKR_OK);
    CU_ASSERT_EQUAL_FATAL(p11_session_get(t, &s), CKR_OK);
    epoch = t->epoch;
    p11_session_drop(t, s, CKR_DEVICE_REMOVED);
    CU_ASSERT_EQUAL(t->epoch, epoch + 1);
    CU_ASSERT_EQUAL(t->slot, slot);
    CU_ASSERT_EQUAL(p11_token_session_count(t), 0);
    CU_ASSERT_EQUAL(decrypt_once(k), CKR_OK);
    CU_ASSERT_EQUAL(p11_token_session_count(t), 1);
    p11_key_free(k);
    p11_token_free(t);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("p11_session", suite_setup, suite_teardown);
    CU_add_test(s, "session_threads_get_own_sessions_and_reuse_them",
                test_session_threads_get_own_sessions_and_reuse_them);
    CU_add_test(s, "session_limit_is_honoured_and_callers_wait",
                test_session_limit_is_honoured_and_callers_wait);
    CU_add_test(s, "session_reused_one_at_a_time", test_session_reused_one_at_a_time);
    CU_add_test(s, "session_token_free_closes_sessions", test_session_token_free_closes_sessions);
    CU_add_test(s, "session_closed_behind_our_back_is_reopened",
                test_session_closed_behind_our_back_is_reopened);
    CU_add_test(s, "session_logged_out_behind_our_back_logs_in_again",
                test_session_logged_out_behind_our_back_logs_in_again);
    CU_add_test(s, "session_token_gone_is_found_again", test_session_token_gone_is_found_again);
    return testlib_run();
}
