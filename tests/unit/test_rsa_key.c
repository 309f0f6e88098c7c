/*
 * test_rsa_key.c - the RSA pad-mode parameter both the asymmetric cipher and the signature take
 * (provider/rsa_key.c, cmk_rsa_pad_mode_get): as an int or as OpenSSL's name, only the modes
 * the caller allows, never a parameter of another type. Linked with rsa_key.o itself.
 */
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include "testlib.h"
#include "../../provider/rsa_key.h"

static const int cipher_modes[] = {RSA_PKCS1_PADDING, RSA_PKCS1_OAEP_PADDING};
static const int sig_modes[] = {RSA_PKCS1_PADDING, RSA_PKCS1_PSS_PADDING};

/* cmk_rsa_pad_mode_get on p with the cipher's (sig 0) or the signature's (sig 1) modes; the
 * mode it gives, or -2 when it refuses (and then leaves *mode alone). */
static int pad_get(const OSSL_PARAM *p, int sig)
{
    int mode = -2;

    if (!cmk_rsa_pad_mode_get(p, sig ? sig_modes : cipher_modes, 2, &mode))
        CU_ASSERT_EQUAL(mode, -2);
    return mode;
}

static void test_pad_mode_int(void)
{
    int v = RSA_PKCS1_OAEP_PADDING;
    OSSL_PARAM p = OSSL_PARAM_construct_int(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, &v);

    CU_ASSERT_EQUAL(pad_get(&p, 0), RSA_PKCS1_OAEP_PADDING);
    v = RSA_PKCS1_PADDING;
    CU_ASSERT_EQUAL(pad_get(&p, 0), RSA_PKCS1_PADDING);
    CU_ASSERT_EQUAL(pad_get(&p, 1), RSA_PKCS1_PADDING);
    v = RSA_PKCS1_PSS_PADDING;
    CU_ASSERT_EQUAL(pad_get(&p, 1), RSA_PKCS1_PSS_PADDING);
}

static void test_pad_mode_name(void)
{
    OSSL_PARAM p = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
                                                    (char *)OSSL_PKEY_RSA_PAD_MODE_OAEP, 0);

    CU_ASSERT_EQUAL(pad_get(&p, 0), RSA_PKCS1_OAEP_PADDING);
    p.data = (char *)OSSL_PKEY_RSA_PAD_MODE_PKCSV15;
    p.data_size = strlen(p.data);
    CU_ASSERT_EQUAL(pad_get(&p, 0), RSA_PKCS1_PADDING);
    p.data = (char *)OSSL_PKEY_RSA_PAD_MODE_PSS;
    p.data_size = strlen(p.data);
    CU_ASSERT_EQUAL(pad_get(&p, 1), RSA_PKCS1_PSS_PADDING);
}

/* A mode OpenSSL knows that this operation does not offer, by int and by name; and names
 * OpenSSL does not know. */
static void test_pad_mode_not_allowed(void)
{
    int v = RSA_NO_PADDING;
    OSSL_PARAM pi = OSSL_PARAM_construct_int(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, &v);
    OSSL_PARAM ps = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
                                                     (char *)OSSL_PKEY_RSA_PAD_MODE_PSS, 0);
    const char *others[] = {OSSL_PKEY_RSA_PAD_MODE_NONE, OSSL_PKEY_RSA_PAD_MODE_X931, "OAEP",
                            "oaep ", ""};

    CU_ASSERT_EQUAL(pad_get(&pi, 0), -2);
    CU_ASSERT_EQUAL(pad_get(&pi, 1), -2);
    v = RSA_PKCS1_PSS_PADDING;
    CU_ASSERT_EQUAL(pad_get(&pi, 0), -2);
    v = RSA_PKCS1_OAEP_PADDING;
    CU_ASSERT_EQUAL(pad_get(&pi, 1), -2);
    v = RSA_X931_PADDING;
    CU_ASSERT_EQUAL(pad_get(&pi, 1), -2);
    v = -1;
    CU_ASSERT_EQUAL(pad_get(&pi, 0), -2);
    CU_ASSERT_EQUAL(pad_get(&ps, 0), -2);
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        ps.data = (char *)others[i];
        ps.data_size = strlen(others[i]);
        CU_ASSERT_EQUAL(pad_get(&ps, 0), -2);
        CU_ASSERT_EQUAL(pad_get(&ps, 1), -2);
    }
    CU_ASSERT_EQUAL(cmk_rsa_pad_mode_get(&pi, cipher_modes, 0, &v), 0);
}

/* Neither an int nor a UTF-8 string: an octet string holding a mode's name or an int's bytes,
 * a UTF-8 pointer (not what OpenSSL's own RSA takes either). */
static void test_pad_mode_wrong_type(void)
{
    int v = RSA_PKCS1_PADDING;
    OSSL_PARAM oct =
        OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, &v, sizeof(v));
    OSSL_PARAM name = OSSL_PARAM_construct_octet_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
                                                        (char *)OSSL_PKEY_RSA_PAD_MODE_OAEP, 4);
    OSSL_PARAM ptr = OSSL_PARAM_construct_utf8_ptr(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
                                                   (char **)&OSSL_PKEY_RSA_PAD_MODE_OAEP, 0);

    CU_ASSERT_EQUAL(pad_get(&oct, 0), -2);
    CU_ASSERT_EQUAL(pad_get(&name, 0), -2);
    CU_ASSERT_EQUAL(pad_get(&ptr, 0), -2);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("rsa_key", NULL, NULL);
    CU_add_test(s, "pad_mode_int", test_pad_mode_int);
    CU_add_test(s, "pad_mode_name", test_pad_mode_name);
    CU_add_test(s, "pad_mode_not_allowed", test_pad_mode_not_allowed);
    CU_add_test(s, "pad_mode_wrong_type", test_pad_mode_wrong_type);
    return testlib_run();
}
