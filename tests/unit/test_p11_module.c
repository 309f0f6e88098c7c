/* test_p11_module.c - modules load by path or registered name, once, and fail clearly. */
#include "test_p11_util.h"

static void test_module_loads_by_path(void)
{
    p11_module *m = NULL;
    CK_RV rv = p11_module_get(testlib_env("CMK_TEST_MODULE"), NULL, &m);

    CU_ASSERT_EQUAL_FATAL(rv, CKR_OK);
    CU_ASSERT_STRING_EQUAL(p11_module_path(m), testlib_env("CMK_TEST_MODULE"));
    CU_ASSERT_STRING_EQUAL(p11_module_description(m), "Implementation of PKCS11");
    CU_ASSERT_EQUAL(p11_module_generation(m), 1);
    CU_ASSERT_EQUAL(p11_module_check(m), CKR_OK);
    p11_module_put(m);
}

static void test_module_is_shared_by_path_and_registered_name(void)
{
    p11_module *a = NULL, *b = NULL;

    CU_ASSERT_EQUAL_FATAL(p11_module_get(testlib_env("CMK_TEST_MODULE"), NULL, &a), CKR_OK);
    if (p11_module_get("softhsm2", NULL, &b) != CKR_OK) {
        p11_module_put(a);
        TEST_SKIP("p11-kit registers no module named softhsm2 here");
        return;
    }
    CU_ASSERT_PTR_EQUAL(a, b);
    p11_module_put(b);
    p11_module_put(a);
}

static void test_module_missing_path_fails_clearly(void)
{
    p11_module *m = (p11_module *)1;
    CK_RV rv = p11_module_get("/nonexistent/libnothing.so", NULL, &m);

    CU_ASSERT_EQUAL(rv, P11_R_MODULE_LOAD);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "/nonexistent/libnothing.so"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "P11_R_MODULE_LOAD"));
}

static void test_module_unknown_name_fails_clearly(void)
{
    p11_module *m = NULL;
    CK_RV rv = p11_module_get("no-such-module-name", NULL, &m);

    CU_ASSERT_EQUAL(rv, P11_R_MODULE_LOAD);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "'no-such-module-name'"));
}

static void test_module_other_init_args_refused(void)
{
    p11_module *m = NULL;
    CK_RV rv = p11_module_get(testlib_env("CMK_TEST_MODULE"), "configDir=/nowhere", &m);

    CU_ASSERT_EQUAL(rv, P11_R_BAD_ARGUMENT);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "other init args"));
}

static void test_module_softhsm_is_never_finalized(void)
{
    p11_module *m = NULL;

    CU_ASSERT_EQUAL_FATAL(p11_module_get(testlib_env("CMK_TEST_MODULE"), NULL, &m), CKR_OK);
    CU_ASSERT_TRUE(m->quirks & P11_QUIRK_NO_FINALIZE);
    CU_ASSERT_TRUE(m->quirks & P11_QUIRK_OAEP_SHA1_ONLY);
    p11_module_put(m);
}

/* What SoftHSM itself gets wrong is known from its token info too: behind p11-kit's client,
 * C_GetInfo names p11-kit (tests/e2e/rsa_hsm_pkeyutl_oaep.sh[p11kit]). */
static void test_module_token_quirks_follow_the_token(void)
{
    CK_TOKEN_INFO ti;
    p11_module *m = NULL;
    p11_token *t = NULL;
    char uri[64];

    memset(&ti, ' ', sizeof(ti));
    memcpy(ti.manufacturerID, "SoftHSM project", 15);
    ti.firmwareVersion = (CK_VERSION){2, 6};
    CU_ASSERT_TRUE(p11_quirks_token_get(&ti) & P11_QUIRK_OAEP_NO_LABEL);
    ti.firmwareVersion = (CK_VERSION){2, 7};
    CU_ASSERT_EQUAL(p11_quirks_token_get(&ti), 0);
    memcpy(ti.manufacturerID, "Mozilla Foundation", 18);
    ti.firmwareVersion = (CK_VERSION){0, 0};
    CU_ASSERT_EQUAL(p11_quirks_token_get(&ti), 0);

    snprintf(uri, sizeof(uri), "pkcs11:token=%s", testlib_env("CMK_TEST_TOKEN"));
    CU_ASSERT_EQUAL_FATAL(p11_module_get(testlib_env("CMK_TEST_MODULE"), NULL, &m), CKR_OK);
    CU_ASSERT_EQUAL_FATAL(p11_token_open(m, uri, NULL, &t), CKR_OK);
    CU_ASSERT_TRUE(t->quirks & P11_QUIRK_OAEP_NO_LABEL);
    CU_ASSERT_TRUE(t->quirks & P11_QUIRK_NO_FINALIZE); /* the module's, too */
    p11_token_free(t);
    p11_module_put(m);
}

static void test_module_last_put_leaves_softhsm_usable(void)
{
    p11_module *m = NULL;
    p11_token *t = NULL;

    /* put to zero, then load again: without C_Finalize the module is still initialized,
     * so the second C_Initialize says CKR_CRYPTOKI_ALREADY_INITIALIZED, which is fine */
    CU_ASSERT_EQUAL_FATAL(p11_module_get(testlib_env("CMK_TEST_MODULE"), NULL, &m), CKR_OK);
    p11_module_put(m);
    CU_ASSERT_EQUAL_FATAL(p11_module_get(testlib_env("CMK_TEST_MODULE"), NULL, &m), CKR_OK);
    CU_ASSERT_EQUAL(p11_token_open(m, tu_uri, tu_pin_spec, &t), CKR_OK);
    p11_token_free(t);
    p11_module_put(m);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("p11_module", tu_setup, tu_teardown);
    CU_add_test(s, "module_loads_by_path", test_module_loads_by_path);
    CU_add_test(s, "module_is_shared_by_path_and_registered_name",
                test_module_is_shared_by_path_and_registered_name);
    CU_add_test(s, "module_missing_path_fails_clearly", test_module_missing_path_fails_clearly);
    CU_add_test(s, "module_unknown_name_fails_clearly", test_module_unknown_name_fails_clearly);
    CU_add_test(s, "module_other_init_args_refused", test_module_other_init_args_refused);
    CU_add_test(s, "module_softhsm_is_never_finalized", test_module_softhsm_is_never_finalized);
    CU_add_test(s, "module_token_quirks_follow_the_token",
                test_module_token_quirks_follow_the_token);
    CU_add_test(s, "module_last_put_leaves_softhsm_usable",
                test_module_last_put_leaves_softhsm_usable);
    return testlib_run();
}
