/* test_p11_token.c - tokens are found by URI; PINs come from file:, env:, literals and the
 * URI; a wrong PIN is reported and never tried in a loop; new tokens can be made. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "test_p11_util.h"

static p11_token *open_or_null(const char *uri, const char *pin_spec, CK_RV *rv)
{
    p11_token *t = NULL;

    *rv = p11_token_open(tu_module, uri, pin_spec, &t);
    return t;
}

/* Opens a token with this PIN spec and makes it log in (by opening a session). */
static CK_RV login_with(const char *uri, const char *pin_spec, p11_token **out)
{
    p11_session s;
    CK_RV rv;
    p11_token *t = open_or_null(uri, pin_spec, &rv);

    if (rv != CKR_OK)
        return rv;
    rv = p11_session_get(t, &s);
    if (rv == CKR_OK)
        p11_session_put(t, s);
    if (out != NULL)
        *out = t;
    else
        p11_token_free(t);
    return rv;
}

static void test_token_found_by_label_serial_and_slot(void)
{
    char uri[200];
    CK_RV rv;
    p11_token *t = open_or_null(tu_uri, NULL, &rv);

    CU_ASSERT_EQUAL_FATAL(rv, CKR_OK);
    CU_ASSERT_STRING_EQUAL(p11_token_label(t), testlib_env("CMK_TEST_TOKEN"));
    CU_ASSERT_PTR_EQUAL(p11_token_module(t), tu_module);
    CU_ASSERT_TRUE(p11_token_matches(t, tu_uri));
    CU_ASSERT_FALSE(p11_token_matches(t, "pkcs11:token=some-other-token"));
    snprintf(uri, sizeof(uri), "pkcs11:serial=%s;manufacturer=SoftHSM%%20project", t->serial);
    p11_token_free(open_or_null(uri, NULL, &rv));
    CU_ASSERT_EQUAL(rv, CKR_OK);
    snprintf(uri, sizeof(uri), "pkcs11:slot-id=%lu;model=SoftHSM%%20v2", (unsigned long)t->slot);
    p11_token_free(open_or_null(uri, NULL, &rv));
    CU_ASSERT_EQUAL(rv, CKR_OK);
    p11_token_free(t);
}

static void test_token_missing_is_token_not_found(void)
{
    CK_RV rv;
    p11_token *t = open_or_null("pkcs11:token=no-such-token", NULL, &rv);

    CU_ASSERT_EQUAL(rv, P11_R_TOKEN_NOT_FOUND);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "pkcs11:token=no-such-token"));
    t = open_or_null("pkcs11:slot-id=4242424242", NULL, &rv);
    CU_ASSERT_EQUAL(rv, P11_R_TOKEN_NOT_FOUND);
}

static void test_token_bad_uri_is_bad_uri(void)
{
    CK_RV rv;

    open_or_null("http://example.com/", NULL, &rv);
    CU_ASSERT_EQUAL(rv, P11_R_BAD_URI);
}

/* p11-kit parses an unknown attribute and then matches nothing: a misspelling must not read as
 * "no such token". */
static void test_token_misspelled_attribute_is_named(void)
{
    CK_RV rv;

    open_or_null("pkcs11:tokn=cmk-test", NULL, &rv);
    CU_ASSERT_EQUAL(rv, P11_R_BAD_URI);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "unknown attribute 'tokn'"));
    open_or_null("pkcs11:token=cmk-test;object=k;tpye=private", NULL, &rv);
    CU_ASSERT_EQUAL(rv, P11_R_BAD_URI);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "unknown attribute 'tpye'"));
}

static void test_token_login_with_pin_file(void)
{
    CU_ASSERT_EQUAL(login_with(tu_uri, tu_pin_spec, NULL), CKR_OK);
}

static void test_token_login_with_pin_env(void)
{
    setenv("CMK_TEST_P11_PIN", tu_pin(), 1);
    CU_ASSERT_EQUAL(login_with(tu_uri, "env:CMK_TEST_P11_PIN", NULL), CKR_OK);
    unsetenv("CMK_TEST_P11_PIN");
    CU_ASSERT_EQUAL(login_with(tu_uri, "env:CMK_TEST_P11_PIN", NULL), P11_R_PIN_SOURCE);
}

static void test_token_login_with_literal_pin(void)
{
    CU_ASSERT_EQUAL(login_with(tu_uri, tu_pin(), NULL), CKR_OK);
}

static void test_token_login_with_uri_pin_value_and_pin_source(void)
{
    char uri[4500];

    snprintf(uri, sizeof(uri), "%s?pin-value=%s", tu_uri, tu_pin());
    CU_ASSERT_EQUAL(login_with(uri, NULL, NULL), CKR_OK);
    /* the URI's PIN wins over the one given at open */
    CU_ASSERT_EQUAL(login_with(uri, "wrong-pin", NULL), CKR_OK);
    snprintf(uri, sizeof(uri), "%s?pin-source=%s", tu_uri, tu_pin_spec);
    CU_ASSERT_EQUAL(login_with(uri, NULL, NULL), CKR_OK);
}

static void test_token_missing_pin_file_is_pin_source(void)
{
    CK_RV rv = login_with(tu_uri, "file:/nonexistent/pin", NULL);

    CU_ASSERT_EQUAL(rv, P11_R_PIN_SOURCE);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "/nonexistent/pin"));
}

static void test_token_wrong_pin_is_pin_incorrect_and_tried_once(void)
{
    p11_token *t = NULL;
    p11_key *k = NULL;
    CK_RV rv = login_with(tu_uri, "not-the-pin", &t);

    CU_ASSERT_EQUAL(rv, CKR_PIN_INCORRECT);
    CU_ASSERT_STRING_EQUAL(p11_err_detail(), "C_Login on token 'cmk-test': CKR_PIN_INCORRECT");
    CU_ASSERT_EQUAL(t->login_calls, 1);
    /* an operation with the retry rule does not log in again and again */
    rv = p11_key_find(t, "pkcs11:object=anything", &k);
    CU_ASSERT_EQUAL(rv, CKR_PIN_INCORRECT);
    CU_ASSERT_EQUAL(t->login_calls, 2);
    p11_token_free(t);
}

static void test_token_failed_pin_not_tried_at_final_try(void)
{
    char path[] = "/tmp/cmk-test-pin-XXXXXX", spec[64];
    int fd = mkstemp(path);
    p11_token *t = NULL;
    p11_session s;
    CK_RV rv;

    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, "wrong\n", 6) == 6);
    close(fd);
    snprintf(spec, sizeof(spec), "file:%s", path);
    CU_ASSERT_EQUAL(login_with(tu_uri, spec, &t), CKR_PIN_INCORRECT);
    /* SoftHSM keeps no retry counter, so the flag is forced: as a token with one try left */
    t->test_flags = CKF_USER_PIN_FINAL_TRY;
    rv = p11_session_get(t, &s);
    CU_ASSERT_EQUAL(rv, P11_R_PIN_ALREADY_FAILED);
    CU_ASSERT_EQUAL(t->login_calls, 1);
    /* a different PIN (the file was fixed) is tried */
    fd = open(path, O_WRONLY | O_TRUNC);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, tu_pin(), strlen(tu_pin())) == (ssize_t)strlen(tu_pin()));
    close(fd);
    rv = p11_session_get(t, &s);
    CU_ASSERT_EQUAL(rv, CKR_OK);
    CU_ASSERT_EQUAL(t->login_calls, 2);
    if (rv == CKR_OK)
        p11_session_put(t, s);
    p11_token_free(t);
    unlink(path);
}

/* Login is per process (PKCS#11 v2.40 section 5.6), and this process is logged in: the check
 * runs in a child, which re-initializes the module and starts logged out. */
static void test_token_without_pin_sees_no_private_key(void)
{
    const char *label = tu_label("nopin");
    char uri[128];
    int status = -1;
    pid_t pid;

    CU_ASSERT_EQUAL_FATAL(p11_key_generate(tu_token, label, NULL, 0, 2048, P11_OP_DECRYPT), CKR_OK);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    fflush(stdout);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        p11_token *t = NULL;
        p11_key *k = NULL, *k2 = NULL;
        uint8_t buf[256] = {0};
        size_t len = sizeof(buf);
        int ok = p11_token_open(tu_module, tu_uri, NULL, &t) == CKR_OK &&
                 p11_key_find(t, uri, &k) == CKR_OK && !p11_key_has_private(k) &&
                 p11_key_has_public_object(k) &&
                 p11_rsa_decrypt(k, NULL, buf, sizeof(buf), buf, &len) == P11_R_NO_PIN &&
                 p11_key_find(t, "pkcs11:object=no-such-key", &k2) == P11_R_NO_PIN;

        if (!ok)
            printf("child: %s\n", p11_err_detail());
        fflush(stdout);
        _exit(ok ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_token_init_makes_a_usable_token(void)
{
    char so[] = "/tmp/cmk-test-so-XXXXXX", user[] = "/tmp/cmk-test-user-XXXXXX";
    char so_spec[64], user_spec[64], uri[96], cmd[160];
    const char *label = tu_label("tok");
    int fs = mkstemp(so), fu = mkstemp(user);

    CU_ASSERT_FATAL(fs >= 0 && fu >= 0);
    CU_ASSERT_FATAL(write(fs, "so-secret-1\n", 12) == 12);
    CU_ASSERT_FATAL(write(fu, "user-secret-1\n", 14) == 14);
    close(fs);
    close(fu);
    snprintf(so_spec, sizeof(so_spec), "file:%s", so);
    snprintf(user_spec, sizeof(user_spec), "file:%s", user);
    CU_ASSERT_EQUAL(p11_token_init(tu_module, label, so_spec, user_spec), CKR_OK);
    snprintf(uri, sizeof(uri), "pkcs11:token=%s", label);
    CU_ASSERT_EQUAL(login_with(uri, user_spec, NULL), CKR_OK);
    CU_ASSERT_EQUAL(login_with(uri, "user-secret-2", NULL), CKR_PIN_INCORRECT);
    unlink(so);
    unlink(user);
    /* leave the test token the first one again, for the tests that follow */
    snprintf(cmd, sizeof(cmd), "softhsm2-util --delete-token --token '%s' >/dev/null 2>&1", label);
    if (system(cmd) != 0)
        printf("  (could not delete token '%s')\n", label);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("p11_token", tu_setup, tu_teardown);
    CU_add_test(s, "token_found_by_label_serial_and_slot",
                test_token_found_by_label_serial_and_slot);
    CU_add_test(s, "token_missing_is_token_not_found", test_token_missing_is_token_not_found);
    CU_add_test(s, "token_bad_uri_is_bad_uri", test_token_bad_uri_is_bad_uri);
    CU_add_test(s, "token_misspelled_attribute_is_named", test_token_misspelled_attribute_is_named);
    CU_add_test(s, "token_login_with_pin_file", test_token_login_with_pin_file);
    CU_add_test(s, "token_login_with_pin_env", test_token_login_with_pin_env);
    CU_add_test(s, "token_login_with_literal_pin", test_token_login_with_literal_pin);
    CU_add_test(s, "token_login_with_uri_pin_value_and_pin_source",
                test_token_login_with_uri_pin_value_and_pin_source);
    CU_add_test(s, "token_missing_pin_file_is_pin_source",
                test_token_missing_pin_file_is_pin_source);
    CU_add_test(s, "token_wrong_pin_is_pin_incorrect_and_tried_once",
                test_token_wrong_pin_is_pin_incorrect_and_tried_once);
    CU_add_test(s, "token_failed_pin_not_tried_at_final_try",
                test_token_failed_pin_not_tried_at_final_try);
    CU_add_test(s, "token_without_pin_sees_no_private_key",
                test_token_without_pin_sees_no_private_key);
    CU_add_test(s, "token_init_makes_a_usable_token", test_token_init_makes_a_usable_token);
    return testlib_run();
}
