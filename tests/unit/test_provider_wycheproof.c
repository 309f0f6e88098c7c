/* test_provider_wycheproof.c - every Wycheproof RSA decryption case, with the vector's key
 * imported into the token and decrypted there through EVP_PKEY_decrypt on the store-loaded key:
 * valid cases give exactly msg, invalid ones fail, none ever yields a wrong plaintext.
 * OAEP with SHA-1 must decrypt every valid case, labels included (SoftHSM 2.6.1 ignores labels:
 * the provider then decrypts raw in the token and checks the label itself). OAEP with SHA-256,
 * which SoftHSM cannot do, may instead be refused with an error that says so; the refusals are
 * counted. The same files run again against NSS softokn (a database made with certutil, keys
 * imported with cmk-keygen --init-args), which does SHA-256 OAEP and labels in the token: there
 * every valid case must decrypt exactly and every invalid one be refused, nothing excused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include "testlib.h"
#include "test_prov_util.h"
#include "testprov.h"

/* A token the vectors run against: its library context with cmk, and where cmk-keygen imports
 * the vectors' keys. */
typedef struct wp_target {
    OSSL_LIB_CTX *libctx;
    const char *why; /* why libctx is NULL */
    testprov_token tok;
} wp_target;

static wp_target softhsm, nss;
static tp_nss nss_db;

/* What may be refused instead of decrypted (with an error that says so). */
#define ALLOW_LABEL 0x1u /* OAEP with a label */
#define ALLOW_HASH  0x2u /* OAEP with SHA-256 */
/* PKCS#1 v1.5: an invalid case may give the token's implicit rejection instead of an error: a
 * message derived from the ciphertext and the key, the same at every try, so that a padding
 * oracle learns nothing (draft-irtf-cfrg-rsa-guidance; NSS 3.87.1-1+deb12u4 does this, tcId 9
 * and 19 more of rsa_pkcs1_2048_test.json decrypt to such messages). */
#define ALLOW_IMPLICIT 0x4u

typedef struct wp_counts {
    unsigned cases, wrong; /* wrong: a success with another plaintext, or an invalid case */
    unsigned valid, valid_ok, valid_refused_label, valid_refused_hash, valid_failed;
    unsigned invalid, invalid_refused, invalid_implicit;
} wp_counts;

static const char *jstr(json_object *o, const char *name)
{
    json_object *v;

    return json_object_object_get_ex(o, name, &v) ? json_object_get_string(v) : "";
}

/* The group's key in the token, labelled wp-<tag>-g<index>: imported from its PEM once per
 * token. */
static EVP_PKEY *wp_key(const wp_target *t, const char *tag, size_t index, const char *pem)
{
    const char *dir = testlib_env("CMK_TEST_DIR");
    char label[64], path[4096];
    EVP_PKEY *key;
    FILE *f;

    snprintf(label, sizeof(label), "wp-%s-g%02zu", tag, index);
    if ((key = testprov_key_load_in(t->libctx, t->tok.token, label)) != NULL)
        return key;
    ERR_clear_error();
    snprintf(path, sizeof(path), "%s/%s.pem", dir != NULL ? dir : ".", label);
    if ((f = fopen(path, "w")) == NULL)
        return NULL;
    fputs(pem, f);
    fclose(f);
    if (testprov_key_make_in(&t->tok, label, path, NULL))
        key = testprov_key_load_in(t->libctx, t->tok.token, label);
    remove(path);
    if (key == NULL) {
        char *e = testprov_errors();

        printf("wycheproof: key %s: import or store load failed: %s\n", label, e);
        free(e);
    }
    return key;
}

/* Does the error text say the token cannot do OAEP with this hash? */
static int says_unsupported_hash(const char *errors)
{
    return strcasestr(errors, "OAEP") != NULL &&
           (strcasestr(errors, "SHA-256") != NULL || strcasestr(errors, "SHA256") != NULL);
}

/* Does it say the token cannot do OAEP with a label (SoftHSM 2.6.1 would ignore it)? */
static int says_unsupported_label(const char *errors)
{
    return strcasestr(errors, "OAEP") != NULL && strcasestr(errors, "label") != NULL;
}

/* Is out, the decryption of an invalid case, an implicit rejection: not the vector's message,
 * and the same again when the ciphertext is decrypted a second time? */
static int implicit_rejection(OSSL_LIB_CTX *libctx, EVP_PKEY *key, const testprov_rsa *p,
                              const uint8_t *ct, size_t ct_len, const uint8_t *out, size_t out_len,
                              const uint8_t *msg, size_t msg_len)
{
    uint8_t again[512];
    size_t again_len = sizeof(again);

    if (out_len == msg_len && memcmp(out, msg, msg_len) == 0)
        return 0;
    return testprov_decrypt(libctx, key, p, ct, ct_len, again, &again_len) &&
           again_len == out_len && memcmp(again, out, out_len) == 0;
}

static void wp_case(OSSL_LIB_CTX *libctx, EVP_PKEY *key, const testprov_rsa *p, json_object *t,
                    unsigned allow, wp_counts *c)
{
    size_t ct_len, msg_len, label_len, out_len;
    uint8_t *ct = testlib_unhex(jstr(t, "ct"), &ct_len);
    uint8_t *msg = testlib_unhex(jstr(t, "msg"), &msg_len);
    uint8_t *label = testlib_unhex(jstr(t, "label"), &label_len);
    int valid = strcmp(jstr(t, "result"), "valid") == 0, id = atoi(jstr(t, "tcId"));
    testprov_rsa rp = *p;
    uint8_t out[512];
    char *errors;
    int ok;

    rp.label = label, rp.label_len = label_len;
    out_len = sizeof(out);
    ok = testprov_decrypt(libctx, key, &rp, ct, ct_len, out, &out_len);
    errors = testprov_errors();
    c->cases++;
    valid ? c->valid++ : c->invalid++;
    if (ok && valid && out_len == msg_len && memcmp(out, msg, msg_len) == 0) {
        c->valid_ok++;
    } else if (ok && !valid && (allow & ALLOW_IMPLICIT) &&
               implicit_rejection(libctx, key, &rp, ct, ct_len, out, out_len, msg, msg_len)) {
        c->invalid_implicit++;
    } else if (ok) {
        char *h = testlib_hex(out, out_len);

        printf("tcId %d (%s, %s): decrypted to a wrong plaintext: %s\n", id, jstr(t, "result"),
               jstr(t, "comment"), h);
        free(h);
        c->wrong++;
    } else if (!valid) {
        c->invalid_refused++;
    } else if ((allow & ALLOW_LABEL) && label_len > 0 && says_unsupported_label(errors)) {
        c->valid_refused_label++;
    } else if ((allow & ALLOW_HASH) && says_unsupported_hash(errors)) {
        c->valid_refused_hash++;
    } else {
        c->valid_failed++;
        printf("tcId %d (valid, %s, label of %zu bytes): decryption failed: %s\n", id,
               jstr(t, "comment"), label_len, errors);
    }
    free(errors);
    free(ct);
    free(msg);
    free(label);
}

/* Runs every case of file; returns its counts (cases == 0 when the file could not be run). */
static wp_counts wp_file(const wp_target *t, const char *file, const char *tag, int padding,
                         unsigned allow)
{
    const char *dir = testlib_vectors_dir();
    wp_counts c = {0};
    json_object *root, *groups;
    char path[4096];

    snprintf(path, sizeof(path), "%s/wycheproof/%s", dir, file);
    if ((root = json_object_from_file(path)) == NULL ||
        !json_object_object_get_ex(root, "testGroups", &groups)) {
        printf("wycheproof: cannot read %s\n", path);
        json_object_put(root);
        return c;
    }
    for (size_t g = 0; g < json_object_array_length(groups); g++) {
        json_object *grp = json_object_array_get_idx(groups, g), *tests;
        EVP_PKEY *key = wp_key(t, tag, g, jstr(grp, "privateKeyPem"));
        testprov_rsa p = {padding, jstr(grp, "sha"), NULL, 0};

        CU_ASSERT_PTR_NOT_NULL_FATAL(key);
        if (!json_object_object_get_ex(grp, "tests", &tests))
            continue;
        if (padding == RSA_PKCS1_OAEP_PADDING && strcmp(jstr(grp, "mgfSha"), p.md) != 0)
            printf("wycheproof: %s: MGF1 hash %s differs from %s, not covered\n", file,
                   jstr(grp, "mgfSha"), p.md);
        for (size_t i = 0; i < json_object_array_length(tests); i++)
            wp_case(t->libctx, key, &p, json_object_array_get_idx(tests, i), allow, &c);
        EVP_PKEY_free(key);
    }
    json_object_put(root);
    printf("wycheproof %s: %u cases; valid: %u, %u decrypted exactly, %u refused for their "
           "OAEP label, %u for their hash, %u failed otherwise; invalid: %u, %u refused, %u "
           "implicitly "
           "rejected; %u wrong "
           "plaintexts\n",
           file, c.cases, c.valid, c.valid_ok, c.valid_refused_label, c.valid_refused_hash,
           c.valid_failed, c.invalid, c.invalid_refused, c.invalid_implicit, c.wrong);
    return c;
}

static int wp_skip(const wp_target *t, const char *test)
{
    if (t->libctx == NULL) {
        testlib_skip(test, t->why);
        return 1;
    }
    if (testlib_vectors_dir() == NULL) {
        testlib_skip(test, "no vectors: set CMK_VECTORS or put them in ../shared/vectors");
        return 1;
    }
    return 0;
}

/* Every case of file: valid ones give exactly msg or (as allow says) are refused clearly,
 * invalid ones fail, nothing gives a wrong plaintext. */
static void wp_expect(const wp_target *t, const char *test, const char *file, const char *tag,
                      int padding, unsigned allow, unsigned cases)
{
    wp_counts c;

    if (wp_skip(t, test))
        return;
    c = wp_file(t, file, tag, padding, allow);
    CU_ASSERT_EQUAL(c.cases, cases);
    CU_ASSERT_EQUAL(c.valid_ok + c.valid_refused_label + c.valid_refused_hash, c.valid);
    CU_ASSERT_EQUAL(c.valid_failed, 0);
    CU_ASSERT_EQUAL(c.invalid_refused + c.invalid_implicit, c.invalid);
    if (!(allow & ALLOW_IMPLICIT))
        CU_ASSERT_EQUAL(c.invalid_implicit, 0);
    CU_ASSERT_EQUAL(c.wrong, 0);
}

static void test_oaep_sha1_valid_cases_decrypt_exactly_invalid_fail(void)
{
    wp_expect(&softhsm, __func__, "rsa_oaep_2048_sha1_mgf1sha1_test.json", "oaep1",
              RSA_PKCS1_OAEP_PADDING, 0, 36);
}

static void test_pkcs1_valid_cases_decrypt_exactly_invalid_fail(void)
{
    wp_expect(&softhsm, __func__, "rsa_pkcs1_2048_test.json", "pkcs1", RSA_PKCS1_PADDING, 0, 67);
}

static void test_oaep_sha256_decrypts_or_is_refused_clearly(void)
{
    wp_expect(&softhsm, __func__, "rsa_oaep_2048_sha256_mgf1sha256_test.json", "oaep256",
              RSA_PKCS1_OAEP_PADDING, ALLOW_HASH, 37);
}

/* Invalid cases are refused or implicitly rejected (see ALLOW_IMPLICIT), never decrypted to
 * their message. */
static void test_nss_pkcs1_valid_cases_decrypt_exactly_invalid_rejected(void)
{
    wp_expect(&nss, __func__, "rsa_pkcs1_2048_test.json", "pkcs1", RSA_PKCS1_PADDING,
              ALLOW_IMPLICIT, 67);
}

/* Nothing excused: NSS does SHA-256 OAEP, labels included, in the token. */
static void test_nss_oaep_sha256_valid_cases_decrypt_exactly_invalid_fail(void)
{
    wp_expect(&nss, __func__, "rsa_oaep_2048_sha256_mgf1sha256_test.json", "oaep256",
              RSA_PKCS1_OAEP_PADDING, 0, 37);
}

static void targets_new(void)
{
    softhsm.libctx = testprov_libctx_new(&softhsm.why);
    softhsm.tok = (testprov_token){testlib_env("CMK_TEST_MODULE"), testlib_env("CMK_TEST_TOKEN"),
                                   testlib_env("CMK_TEST_PIN_FILE"), NULL};
    if ((nss.why = tp_nss_new(&nss_db)) != NULL)
        return;
    nss.tok = (testprov_token){nss_db.module, TP_NSS_TOKEN, nss_db.pin_file, nss_db.init_args};
    if ((nss.libctx = tp_nss_libctx_new(&nss_db)) == NULL)
        nss.why = "cmk does not load for the NSS database";
}

int main(void)
{
    CU_pSuite s;
    int rc;

    targets_new();
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("provider_wycheproof", NULL, NULL);
    CU_add_test(s, "oaep_sha1_valid_cases_decrypt_exactly_invalid_fail",
                test_oaep_sha1_valid_cases_decrypt_exactly_invalid_fail);
    CU_add_test(s, "pkcs1_valid_cases_decrypt_exactly_invalid_fail",
                test_pkcs1_valid_cases_decrypt_exactly_invalid_fail);
    CU_add_test(s, "oaep_sha256_decrypts_or_is_refused_clearly",
                test_oaep_sha256_decrypts_or_is_refused_clearly);
    CU_add_test(s, "nss_pkcs1_valid_cases_decrypt_exactly_invalid_rejected",
                test_nss_pkcs1_valid_cases_decrypt_exactly_invalid_rejected);
    CU_add_test(s, "nss_oaep_sha256_valid_cases_decrypt_exactly_invalid_fail",
                test_nss_oaep_sha256_valid_cases_decrypt_exactly_invalid_fail);
    rc = testlib_run();
    OSSL_LIB_CTX_free(softhsm.libctx);
    OSSL_LIB_CTX_free(nss.libctx);
    tp_nss_free(&nss_db);
    return rc;
}
