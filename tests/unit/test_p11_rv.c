/* test_p11_rv.c - CKR codes are reported by name, and the thread's detail says what failed. */
#include <string.h>
#include "testlib.h"
#include "../../pkcs11/p11_rv.h"

static void test_rv_name_knows_standard_codes(void)
{
    CU_ASSERT_STRING_EQUAL(p11_rv_name(CKR_OK), "CKR_OK");
    CU_ASSERT_STRING_EQUAL(p11_rv_name(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
    CU_ASSERT_STRING_EQUAL(p11_rv_name(CKR_SESSION_HANDLE_INVALID), "CKR_SESSION_HANDLE_INVALID");
    CU_ASSERT_STRING_EQUAL(p11_rv_name(CKR_ARGUMENTS_BAD), "CKR_ARGUMENTS_BAD");
}

static void test_rv_name_knows_project_codes(void)
{
    CU_ASSERT_STRING_EQUAL(p11_rv_name(P11_R_OAEP_HASH), "P11_R_OAEP_HASH");
    CU_ASSERT_STRING_EQUAL(p11_rv_name(P11_R_TOKEN_NOT_FOUND), "P11_R_TOKEN_NOT_FOUND");
}

static void test_rv_name_prints_unknown_in_hex(void)
{
    CU_ASSERT_STRING_EQUAL(p11_rv_name(0x7fff1234UL), "CKR_0x7fff1234");
}

static void test_err_detail_names_what_failed_and_the_ckr(void)
{
    CK_RV rv = p11_err_set(CKR_PIN_INCORRECT, "C_Login on token '%s'", "prod");

    CU_ASSERT_EQUAL(rv, CKR_PIN_INCORRECT);
    CU_ASSERT_EQUAL(p11_err_rv(), CKR_PIN_INCORRECT);
    CU_ASSERT_STRING_EQUAL(p11_err_detail(), "C_Login on token 'prod': CKR_PIN_INCORRECT");
    p11_err_clear();
    CU_ASSERT_STRING_EQUAL(p11_err_detail(), "");
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("p11_rv", NULL, NULL);
    CU_add_test(s, "rv_name_knows_standard_codes", test_rv_name_knows_standard_codes);
    CU_add_test(s, "rv_name_knows_project_codes", test_rv_name_knows_project_codes);
    CU_add_test(s, "rv_name_prints_unknown_in_hex", test_rv_name_prints_unknown_in_hex);
    CU_add_test(s, "err_detail_names_what_failed_and_the_ckr",
                test_err_detail_names_what_failed_and_the_ckr);
    return testlib_run();
}
