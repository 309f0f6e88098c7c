/*
 * test_p11_data.c - application data objects in the token (pkcs11/p11_data.c): made, read,
 * replaced (never missing in between), listed and destroyed; the SoftHSM quirk that made
 * replacement a new object, with its evidence.
 */
#include "test_p11_util.h"
#include "../../pkcs11/p11_data.h"

#define APP "cmk-test"

static void test_data_put_get_replace_destroy(void)
{
    const char *label = tu_label("data");
    uint8_t *v = NULL;
    size_t len = 0;

    CU_ASSERT_EQUAL(p11_data_get(tu_token, APP, label, &v, &len), P11_R_OBJECT_NOT_FOUND);
    CU_ASSERT_EQUAL_FATAL(p11_data_put(tu_token, APP, label, (const uint8_t *)"one", 3, 1), CKR_OK);
    CU_ASSERT_EQUAL(p11_data_put(tu_token, APP, label, (const uint8_t *)"two", 3, 1),
                    P11_R_OBJECT_AMBIGUOUS);
    CU_ASSERT_EQUAL_FATAL(p11_data_get(tu_token, APP, label, &v, &len), CKR_OK);
    TEST_ASSERT_BYTES(v, len, (const uint8_t *)"one", 3);
    free(v);
    CU_ASSERT_EQUAL_FATAL(p11_data_put(tu_token, APP, label, (const uint8_t *)"three", 5, 0),
                          CKR_OK);
    CU_ASSERT_EQUAL_FATAL(p11_data_get(tu_token, APP, label, &v, &len), CKR_OK);
    TEST_ASSERT_BYTES(v, len, (const uint8_t *)"three", 5);
    free(v);
    CU_ASSERT_EQUAL(p11_data_destroy(tu_token, APP, label), CKR_OK);
    CU_ASSERT_EQUAL(p11_data_get(tu_token, APP, label, &v, &len), P11_R_OBJECT_NOT_FOUND);
    CU_ASSERT_EQUAL(p11_data_destroy(tu_token, APP, label), P11_R_OBJECT_NOT_FOUND);
}

/* Two objects for one label (two writers raced): the greater value is read; a later put
 * leaves exactly one. */
static void test_data_two_objects_read_the_greater(void)
{
    const char *label = tu_label("race");
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_TOKEN, &yes, 1},
        {CKA_PRIVATE, &yes, 1},
        {CKA_APPLICATION, APP, strlen(APP)},
        {CKA_LABEL, (void *)label, strlen(label)},
        {CKA_VALUE, "v=1\nupdated=2", 13},
    };
    CK_OBJECT_HANDLE h;
    p11_session s;
    uint8_t *v = NULL;
    size_t len = 0, n = 0;
    char **labels = NULL;

    CU_ASSERT_EQUAL_FATAL(
        p11_data_put(tu_token, APP, label, (const uint8_t *)"v=1\nupdated=1", 13, 1), CKR_OK);
    CU_ASSERT_EQUAL_FATAL(p11_session_get(tu_token, &s), CKR_OK);
    CU_ASSERT_EQUAL(tu_token->f->C_CreateObject(s.h, t, 6, &h), CKR_OK);
    p11_session_put(tu_token, s);
    CU_ASSERT_EQUAL_FATAL(p11_data_get(tu_token, APP, label, &v, &len), CKR_OK);
    TEST_ASSERT_BYTES(v, len, (const uint8_t *)"v=1\nupdated=2", 13);
    free(v);
    CU_ASSERT_EQUAL(p11_data_put(tu_token, APP, label, (const uint8_t *)"v=1\nupdated=3", 13, 0),
                    CKR_OK);
    CU_ASSERT_EQUAL(p11_data_labels_get(tu_token, APP, &labels, &n), CKR_OK);
    size_t mine = 0;
    for (size_t i = 0; i < n; i++)
        mine += strcmp(labels[i], label) == 0;
    CU_ASSERT_EQUAL(mine, 1);
    p11_labels_free(labels, n);
}

/* Evidence for P11_QUIRK_DATA_VALUE_FIXED (pkcs11/p11_quirks.c). */
static void test_data_value_set_is_read_only(void)
{
    const char *label = tu_label("quirk");
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_TOKEN, &yes, 1},
        {CKA_MODIFIABLE, &yes, 1},
        {CKA_LABEL, (void *)label, strlen(label)},
        {CKA_VALUE, "a", 1},
    };
    CK_ATTRIBUTE nv = {CKA_VALUE, "b", 1};
    CK_OBJECT_HANDLE h;
    CK_INFO info;
    p11_session s;
    CK_RV rv;

    CU_ASSERT_EQUAL_FATAL(tu_token->f->C_GetInfo(&info), CKR_OK);
    if (memcmp(info.manufacturerID, "SoftHSM", 7) != 0) {
        TEST_SKIP("the quirk is SoftHSM's");
        return;
    }
    CU_ASSERT_EQUAL_FATAL(p11_session_get(tu_token, &s), CKR_OK);
    CU_ASSERT_EQUAL(tu_token->f->C_CreateObject(s.h, t, 5, &h), CKR_OK);
    rv = tu_token->f->C_SetAttributeValue(s.h, h, &nv, 1);
    if (rv != CKR_ATTRIBUTE_READ_ONLY)
        printf("SoftHSM %d.%d: C_SetAttributeValue(CKA_VALUE) of a data object: %s\n",
               info.libraryVersion.major, info.libraryVersion.minor, p11_rv_name(rv));
    CU_ASSERT_EQUAL(rv, CKR_ATTRIBUTE_READ_ONLY);
    tu_token->f->C_DestroyObject(s.h, h);
    p11_session_put(tu_token, s);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("p11_data", tu_setup, tu_teardown);
    CU_add_test(s, "data_put_get_replace_destroy", test_data_put_get_replace_destroy);
    CU_add_test(s, "data_two_objects_read_the_greater", test_data_two_objects_read_the_greater);
    CU_add_test(s, "data_value_set_is_read_only", test_data_value_set_is_read_only);
    return testlib_run();
}
