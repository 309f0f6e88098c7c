/* test_p11_key.c - keys are made with CMK attributes, found by object=/id=/type=, refused
 * when missing, ambiguous or extractable. */
#include "test_p11_util.h"

static void test_key_generate_then_find_by_object_and_id(void)
{
    uint32_t pid = (uint32_t)getpid();
    const uint8_t id[] = {0xc0, (uint8_t)(pid >> 24), (uint8_t)(pid >> 16), (uint8_t)(pid >> 8),
                          (uint8_t)pid};
    const char *label = tu_label("gen");
    char uri[160];
    p11_key *k = tu_key_new(label, id, sizeof(id)), *k2 = NULL;
    const uint8_t *v, *n;
    size_t len, len2;

    CU_ASSERT_STRING_EQUAL(p11_key_label(k), label);
    v = p11_key_id(k, &len);
    TEST_ASSERT_BYTES(v, len, id, sizeof(id));
    CU_ASSERT_TRUE(p11_key_has_private(k));
    CU_ASSERT_TRUE(p11_key_has_public_object(k));
    CU_ASSERT_EQUAL(p11_key_bits(k), 2048);
    v = p11_key_public_exponent(k, &len);
    TEST_ASSERT_BYTES(v, len, (const uint8_t *)"\x01\x00\x01", 3);
    CU_ASSERT_PTR_EQUAL(p11_key_token(k), tu_token);

    snprintf(uri, sizeof(uri), "pkcs11:id=%%c0%%%02x%%%02x%%%02x%%%02x", id[1], id[2], id[3],
             id[4]);
    CU_ASSERT_EQUAL_FATAL(p11_key_find(tu_token, uri, &k2), CKR_OK);
    v = p11_key_modulus(k2, &len2);
    n = p11_key_modulus(k, &len);
    TEST_ASSERT_BYTES(v, len2, n, len);
    p11_key_free(k2);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s;type=public", label);
    CU_ASSERT_EQUAL_FATAL(p11_key_find(tu_token, uri, &k2), CKR_OK);
    CU_ASSERT_FALSE(p11_key_has_private(k2));
    CU_ASSERT_TRUE(p11_key_has_public_object(k2));
    p11_key_free(k2);
    p11_key_free(p11_key_ref(k));
    p11_key_free(k);
}

static void test_key_generated_has_cmk_attributes(void)
{
    p11_key *k = tu_key_new(tu_label("attrs"), (const uint8_t *)"\x0a", 1);
    p11_key_attrs a;

    CU_ASSERT_EQUAL_FATAL(p11_key_attrs_get(k, &a), CKR_OK);
    CU_ASSERT_TRUE(a.sensitive && a.always_sensitive && a.never_extractable && a.local);
    CU_ASSERT_FALSE(a.extractable);
    CU_ASSERT_TRUE(a.decrypt && a.unwrap && a.encrypt && a.wrap);
    CU_ASSERT_FALSE(a.sign || a.verify);
    CU_ASSERT_EQUAL(p11_key_check_cmk(k), CKR_OK);
    p11_key_free(k);
}

static void test_key_sign_ops_set_sign_and_verify(void)
{
    const char *label = tu_label("sign");
    char uri[128];
    p11_key *k = NULL;
    p11_key_attrs a;

    CU_ASSERT_EQUAL_FATAL(p11_key_generate(tu_token, label, NULL, 0, 2048, P11_OP_SIGN), CKR_OK);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    CU_ASSERT_EQUAL_FATAL(p11_key_find(tu_token, uri, &k), CKR_OK);
    CU_ASSERT_EQUAL_FATAL(p11_key_attrs_get(k, &a), CKR_OK);
    CU_ASSERT_TRUE(a.sign && a.verify);
    CU_ASSERT_FALSE(a.decrypt || a.unwrap || a.encrypt || a.wrap);
    p11_key_free(k);
}

static void test_key_missing_is_object_not_found(void)
{
    p11_key *k = NULL;
    CK_RV rv = p11_key_find(tu_token, "pkcs11:object=no-such-key", &k);

    CU_ASSERT_EQUAL(rv, P11_R_OBJECT_NOT_FOUND);
    CU_ASSERT_PTR_NULL(k);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "pkcs11:object=no-such-key"));
    rv = p11_key_find(tu_token, "pkcs11:object=x;type=cert", &k);
    CU_ASSERT_EQUAL(rv, P11_R_OBJECT_NOT_FOUND);
    rv = p11_key_find(tu_token, "pkcs11:token=another;object=x", &k);
    CU_ASSERT_EQUAL(rv, P11_R_OBJECT_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "names another token than 'cmk-test'"));
}

static void test_key_two_matches_are_ambiguous(void)
{
    const char *label = tu_label("twice");
    char uri[128];
    p11_key *k = NULL;
    CK_RV rv;

    CU_ASSERT_EQUAL_FATAL(
        p11_key_generate(tu_token, label, (const uint8_t *)"\x01", 1, 2048, P11_OP_DECRYPT),
        CKR_OK);
    CU_ASSERT_EQUAL_FATAL(
        p11_key_generate(tu_token, label, (const uint8_t *)"\x02", 1, 2048, P11_OP_DECRYPT),
        CKR_OK);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    rv = p11_key_find(tu_token, uri, &k);
    CU_ASSERT_EQUAL(rv, P11_R_OBJECT_AMBIGUOUS);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), uri));
    snprintf(uri, sizeof(uri), "pkcs11:object=%s;id=%%02", label);
    CU_ASSERT_EQUAL(p11_key_find(tu_token, uri, &k), CKR_OK);
    p11_key_free(k);
}

static void test_key_extractable_is_not_a_cmk(void)
{
    const char *label = tu_label("extractable");
    char cmd[1024], uri[128];
    p11_key *k = NULL;
    CK_RV rv;

    snprintf(cmd, sizeof(cmd),
             "env -u OPENSSL_CONF pkcs11-tool --module '%s' --token-label '%s' --login --pin '%s' "
             "--keypairgen "
             "--key-type rsa:2048 --label '%s' --usage-decrypt --extractable >/dev/null 2>&1",
             testlib_env("CMK_TEST_MODULE"), testlib_env("CMK_TEST_TOKEN"), tu_pin(), label);
    if (system(cmd) != 0) {
        TEST_SKIP("pkcs11-tool could not make an extractable key");
        return;
    }
    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    CU_ASSERT_EQUAL_FATAL(p11_key_find(tu_token, uri, &k), CKR_OK);
    rv = p11_key_check_cmk(k);
    CU_ASSERT_EQUAL(rv, P11_R_KEY_EXTRACTABLE);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), label));
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "CKA_EXTRACTABLE"));
    p11_key_free(k);
}

/* Made behind the layer's back with C_CreateObject: p11_key_import would not allow it. */
static void test_key_not_sensitive_is_not_a_cmk(void)
{
    const char *label = tu_label("clear");
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_RSA;
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    p11_rsa_components c = {0};
    CK_OBJECT_HANDLE h;
    char uri[128];
    p11_session s;
    p11_key *k = NULL;
    CK_RV rv;

    CU_ASSERT_PTR_NOT_NULL_FATAL(pk);
    tu_components(pk, &c);
    {
        CK_ATTRIBUTE t[] = {
            {CKA_CLASS, &cls, sizeof(cls)},
            {CKA_KEY_TYPE, &kt, sizeof(kt)},
            {CKA_TOKEN, &yes, sizeof(yes)},
            {CKA_PRIVATE, &yes, sizeof(yes)},
            {CKA_SENSITIVE, &no, sizeof(no)},
            {CKA_EXTRACTABLE, &no, sizeof(no)},
            {CKA_DECRYPT, &yes, sizeof(yes)},
            {CKA_LABEL, (void *)label, strlen(label)},
            {CKA_MODULUS, (void *)c.n, c.n_len},
            {CKA_PUBLIC_EXPONENT, (void *)c.e, c.e_len},
            {CKA_PRIVATE_EXPONENT, (void *)c.d, c.d_len},
            {CKA_PRIME_1, (void *)c.p, c.p_len},
            {CKA_PRIME_2, (void *)c.q, c.q_len},
            {CKA_EXPONENT_1, (void *)c.dp, c.dp_len},
            {CKA_EXPONENT_2, (void *)c.dq, c.dq_len},
            {CKA_COEFFICIENT, (void *)c.qi, c.qi_len},
        };

        CU_ASSERT_EQUAL_FATAL(p11_session_get(tu_token, &s), CKR_OK);
        rv = tu_token->f->C_CreateObject(s.h, t, sizeof(t) / sizeof(t[0]), &h);
        p11_session_put(tu_token, s);
    }
    tu_components_free(&c);
    EVP_PKEY_free(pk);
    CU_ASSERT_EQUAL_FATAL(rv, CKR_OK);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    CU_ASSERT_EQUAL_FATAL(p11_key_find(tu_token, uri, &k), CKR_OK);
    CU_ASSERT_FALSE(p11_key_has_public_object(k));
    rv = p11_key_check_cmk(k);
    CU_ASSERT_EQUAL(rv, P11_R_KEY_NOT_SENSITIVE);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), label));
    p11_key_free(k);
}

static void test_key_import_makes_a_cmk_pair(void)
{
    const char *label = tu_label("imported");
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    p11_rsa_components c = {0};
    p11_key_attrs a;
    p11_key *k = NULL;
    const uint8_t *n;
    size_t len;
    char uri[128];

    CU_ASSERT_PTR_NOT_NULL_FATAL(pk);
    tu_components(pk, &c);
    CU_ASSERT_EQUAL(p11_key_import(tu_token, label, (const uint8_t *)"\x77", 1, &c, P11_OP_DECRYPT),
                    CKR_OK);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s;id=%%77", label);
    CU_ASSERT_EQUAL_FATAL(p11_key_find(tu_token, uri, &k), CKR_OK);
    CU_ASSERT_TRUE(p11_key_has_private(k) && p11_key_has_public_object(k));
    n = p11_key_modulus(k, &len);
    TEST_ASSERT_BYTES(n, len, c.n, c.n_len);
    CU_ASSERT_EQUAL_FATAL(p11_key_attrs_get(k, &a), CKR_OK);
    CU_ASSERT_TRUE(a.sensitive && !a.extractable && !a.local && a.decrypt && a.encrypt);
    CU_ASSERT_EQUAL(p11_key_check_cmk(k), CKR_OK);
    p11_key_free(k);
    tu_components_free(&c);
    EVP_PKEY_free(pk);
}

static void test_key_import_refuses_missing_components(void)
{
    p11_rsa_components c = {0};
    CK_RV rv = p11_key_import(tu_token, tu_label("imp"), NULL, 0, &c, P11_OP_DECRYPT);

    CU_ASSERT_EQUAL(rv, P11_R_BAD_ARGUMENT);
    rv = p11_key_generate(tu_token, tu_label("small"), NULL, 0, 1024, P11_OP_DECRYPT);
    CU_ASSERT_EQUAL(rv, P11_R_BAD_ARGUMENT);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("p11_key", tu_setup, tu_teardown);
    CU_add_test(s, "key_generate_then_find_by_object_and_id",
                test_key_generate_then_find_by_object_and_id);
    CU_add_test(s, "key_generated_has_cmk_attributes", test_key_generated_has_cmk_attributes);
    CU_add_test(s, "key_sign_ops_set_sign_and_verify", test_key_sign_ops_set_sign_and_verify);
    CU_add_test(s, "key_missing_is_object_not_found", test_key_missing_is_object_not_found);
    CU_add_test(s, "key_two_matches_are_ambiguous", test_key_two_matches_are_ambiguous);
    CU_add_test(s, "key_extractable_is_not_a_cmk", test_key_extractable_is_not_a_cmk);
    CU_add_test(s, "key_not_sensitive_is_not_a_cmk", test_key_not_sensitive_is_not_a_cmk);
    CU_add_test(s, "key_import_makes_a_cmk_pair", test_key_import_makes_a_cmk_pair);
    CU_add_test(s, "key_import_refuses_missing_components",
                test_key_import_refuses_missing_components);
    return testlib_run();
}
