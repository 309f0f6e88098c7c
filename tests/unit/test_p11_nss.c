/* test_p11_nss.c - the same layer against a second token, NSS softokn: init args reach
 * C_Initialize (configdir=), the PIN logs in, keys are made and found, and OAEP with SHA-256
 * and a label works in the token (SoftHSM 2.6.1 can do neither). Skips where NSS is absent. */
#include <sys/wait.h>
#include "test_p11_util.h"
#include "test_prov_util.h"

#define NSS_TOKEN_URI "pkcs11:token=NSS%20Certificate%20DB"

static tp_nss db;
static p11_module *nss;
static p11_token *tok;
static p11_key *key;
static const char *why_not;

/* A throw-away NSS database with a PIN (tp_nss_new), a key made in it by the layer. */
static int suite_setup(void)
{
    char pin_spec[160];

    if ((why_not = tp_nss_new(&db)) != NULL)
        return 0;
    snprintf(pin_spec, sizeof(pin_spec), "file:%s", db.pin_file);
    if (p11_module_get(db.module, db.init_args, &nss) != CKR_OK ||
        p11_token_open(nss, NSS_TOKEN_URI, pin_spec, &tok) != CKR_OK ||
        p11_key_generate(tok, "cmk-nss", (const uint8_t *)"\x01", 1, 2048, P11_OP_DECRYPT) !=
            CKR_OK ||
        p11_key_find(tok, "pkcs11:object=cmk-nss", &key) != CKR_OK) {
        printf("NSS setup: %s\n", p11_err_detail());
        return 1;
    }
    return 0;
}

static int suite_teardown(void)
{
    p11_key_free(key);
    p11_token_free(tok);
    p11_module_put(nss);
    tp_nss_free(&db);
    return 0;
}

static void test_nss_key_is_a_cmk(void)
{
    TP_NSS_NEED(why_not);
    CU_ASSERT_STRING_EQUAL(p11_module_description(nss), "NSS Internal Crypto Services");
    CU_ASSERT_TRUE(p11_key_has_private(key));
    CU_ASSERT_EQUAL(p11_key_bits(key), 2048);
    CU_ASSERT_EQUAL(p11_key_check_cmk(key), CKR_OK);
    CU_ASSERT_FALSE(nss->quirks & (P11_QUIRK_NO_FINALIZE | P11_QUIRK_OAEP_NO_LABEL));
}

static void round_trip(const p11_rsa_params *p)
{
    const uint8_t msg[32] = "a 256-bit data key, for example";
    uint8_t ct[256], pt[256];
    size_t ct_len = sizeof(ct), pt_len = sizeof(pt);
    CK_RV rv;

    if (!p11_key_has_public_object(key)) {
        TEST_SKIP("this NSS keeps no public object: nothing to encrypt with in the token");
        return;
    }
    rv = p11_rsa_encrypt(key, p, msg, sizeof(msg), ct, &ct_len);
    CU_ASSERT_EQUAL_FATAL(rv, CKR_OK);
    rv = p11_rsa_decrypt(key, p, ct, ct_len, pt, &pt_len);
    if (rv != CKR_OK)
        printf("  %s\n", p11_err_detail());
    CU_ASSERT_EQUAL_FATAL(rv, CKR_OK);
    TEST_ASSERT_BYTES(pt, pt_len, msg, sizeof(msg));
}

static void test_nss_oaep_sha256_with_label_round_trip(void)
{
    const p11_rsa_params p = {P11_RSA_OAEP, P11_HASH_SHA256, P11_HASH_SHA256,
                              (const uint8_t *)"cmk label", 9};

    TP_NSS_NEED(why_not);
    round_trip(&p);
}

static void test_nss_pkcs1_round_trip(void)
{
    const p11_rsa_params p = {P11_RSA_PKCS1, 0, 0, NULL, 0};

    TP_NSS_NEED(why_not);
    round_trip(&p);
}

static void test_nss_oaep_probe_finds_sha256(void)
{
    unsigned mask;

    TP_NSS_NEED(why_not);
    mask = p11_rsa_oaep_hashes(key);
    printf("  NSS OAEP hashes: mask 0x%x\n", mask);
    CU_ASSERT_TRUE(mask & (1u << P11_HASH_SHA1));
    CU_ASSERT_TRUE(mask & (1u << P11_HASH_SHA256));
}

static void test_nss_wrong_pin_is_pin_incorrect(void)
{
    int status = -1;
    pid_t pid;

    TP_NSS_NEED(why_not);
    /* a second p11_token in this process shares the login (section 5.6), so in a child */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        p11_token *t = NULL;
        p11_key *k = NULL;
        CK_RV rv = p11_token_open(nss, NSS_TOKEN_URI, "wrong-pin", &t);

        if (rv == CKR_OK)
            rv = p11_key_find(t, "pkcs11:object=cmk-nss", &k);
        _exit(rv == CKR_PIN_INCORRECT ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int child_decrypts(void)
{
    const p11_rsa_params p = {P11_RSA_OAEP, P11_HASH_SHA256, P11_HASH_SHA256, NULL, 0};
    const uint8_t msg[8] = "8 bytes";
    uint8_t ct[256], pt[256];
    size_t ct_len = sizeof(ct), pt_len = sizeof(pt);

    return p11_rsa_encrypt(key, &p, msg, sizeof(msg), ct, &ct_len) == CKR_OK &&
                   p11_rsa_decrypt(key, &p, ct, ct_len, pt, &pt_len) == CKR_OK &&
                   pt_len == sizeof(msg)
               ? 0
               : 1;
}

static void test_nss_fork_child_decrypts(void)
{
    int status = -1;
    pid_t pid;

    TP_NSS_NEED(why_not);
    if (!p11_key_has_public_object(key)) {
        TEST_SKIP("this NSS keeps no public object");
        return;
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int rc = child_decrypts();

        if (rc != 0)
            printf("child: %s\n", p11_err_detail());
        fflush(stdout);
        _exit(rc);
    }
    waitpid(pid, &status, 0);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("p11_nss", suite_setup, suite_teardown);
    CU_add_test(s, "nss_key_is_a_cmk", test_nss_key_is_a_cmk);
    CU_add_test(s, "nss_pkcs1_round_trip", test_nss_pkcs1_round_trip);
    CU_add_test(s, "nss_oaep_sha256_with_label_round_trip",
                test_nss_oaep_sha256_with_label_round_trip);
    CU_add_test(s, "nss_oaep_probe_finds_sha256", test_nss_oaep_probe_finds_sha256);
    CU_add_test(s, "nss_wrong_pin_is_pin_incorrect", test_nss_wrong_pin_is_pin_incorrect);
    CU_add_test(s, "nss_fork_child_decrypts", test_nss_fork_child_decrypts);
    return testlib_run();
}
