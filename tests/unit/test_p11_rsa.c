/* test_p11_rsa.c - RSA in the token: PKCS#1 v1.5 and OAEP round trips (also against OpenSSL),
 * refused OAEP hashes named, failed decryptions wiped, stale handles re-found; PKCS#1 v1.5 and
 * PSS signatures OpenSSL verifies, and a key without CKA_SIGN refused saying so. */
#include <openssl/err.h>
#include "test_p11_util.h"

static EVP_PKEY *ossl_key; /* the same key as imported into the token */
static p11_key *key;

static int suite_setup(void)
{
    p11_rsa_components c = {0};
    const char *label;
    char uri[128];

    if (tu_setup() != 0)
        return 1;
    label = tu_label("rsa");
    ossl_key = EVP_RSA_gen(2048);
    if (ossl_key == NULL)
        return 1;
    tu_components(ossl_key, &c);
    if (p11_key_import(tu_token, label, NULL, 0, &c, P11_OP_DECRYPT) != CKR_OK) {
        printf("setup: %s\n", p11_err_detail());
        return 1;
    }
    tu_components_free(&c);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    return p11_key_find(tu_token, uri, &key) != CKR_OK;
}

static int suite_teardown(void)
{
    p11_key_free(key);
    EVP_PKEY_free(ossl_key);
    return tu_teardown();
}

static const p11_rsa_params pkcs1 = {P11_RSA_PKCS1, 0, 0, NULL, 0};
static const p11_rsa_params oaep1 = {P11_RSA_OAEP, P11_HASH_SHA1, P11_HASH_SHA1, NULL, 0};
static const p11_rsa_params oaep1_label = {P11_RSA_OAEP, P11_HASH_SHA1, P11_HASH_SHA1,
                                           (const uint8_t *)"cmk label", 9};

/* OpenSSL with the same key: encrypt (enc) or decrypt, padding as p says. */
static size_t ossl_rsa(int enc, const p11_rsa_params *p, const uint8_t *in, size_t in_len,
                       uint8_t *out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(ossl_key, NULL);
    size_t out_len = 256;
    int ok = ctx != NULL && (enc ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) > 0;

    if (ok && p->padding == P11_RSA_PKCS1)
        ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
    if (ok && p->padding == P11_RSA_OAEP)
        ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
             EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) > 0;
    if (ok && p->label_len > 0) {
        void *l = OPENSSL_memdup(p->label, p->label_len);

        ok = EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, l, (int)p->label_len) > 0;
    }
    if (ok)
        ok = (enc ? EVP_PKEY_encrypt(ctx, out, &out_len, in, in_len)
                  : EVP_PKEY_decrypt(ctx, out, &out_len, in, in_len)) > 0;
    EVP_PKEY_CTX_free(ctx);
    return ok ? out_len : 0;
}

static void round_trip(const p11_rsa_params *p)
{
    const uint8_t msg[32] = "a 256-bit data key, for example";
    uint8_t ct[256], pt[256];
    size_t ct_len = sizeof(ct), pt_len = sizeof(pt);

    /* token to token */
    CU_ASSERT_EQUAL_FATAL(p11_rsa_encrypt(key, p, msg, sizeof(msg), ct, &ct_len), CKR_OK);
    CU_ASSERT_EQUAL(ct_len, 256);
    CU_ASSERT_EQUAL_FATAL(p11_rsa_decrypt(key, p, ct, ct_len, pt, &pt_len), CKR_OK);
    TEST_ASSERT_BYTES(pt, pt_len, msg, sizeof(msg));
    /* token to OpenSSL */
    pt_len = ossl_rsa(0, p, ct, ct_len, pt);
    TEST_ASSERT_BYTES(pt, pt_len, msg, sizeof(msg));
    /* OpenSSL to token */
    ct_len = ossl_rsa(1, p, msg, sizeof(msg), ct);
    CU_ASSERT_EQUAL_FATAL(ct_len, 256);
    pt_len = sizeof(pt);
    CU_ASSERT_EQUAL_FATAL(p11_rsa_decrypt(key, p, ct, ct_len, pt, &pt_len), CKR_OK);
    TEST_ASSERT_BYTES(pt, pt_len, msg, sizeof(msg));
}

static void test_rsa_pkcs1_round_trip(void)
{
    round_trip(&pkcs1);
}

static void test_rsa_oaep_sha1_round_trip(void)
{
    round_trip(&oaep1);
}

static int softhsm_no_label(void)
{
    return (key->t->m->quirks & P11_QUIRK_OAEP_NO_LABEL) != 0;
}

static void test_rsa_oaep_sha1_label_round_trip(void)
{
    uint8_t ct[256] = {0}, pt[256];
    size_t ct_len = sizeof(ct), pt_len = sizeof(pt);

    if (!softhsm_no_label()) {
        round_trip(&oaep1_label);
        return;
    }
    /* SoftHSM 2.6.1 cannot: refused here rather than silently ignored by the token */
    CU_ASSERT_EQUAL(p11_rsa_encrypt(key, &oaep1_label, ct, 16, ct, &ct_len), P11_R_UNSUPPORTED);
    CU_ASSERT_EQUAL(p11_rsa_decrypt(key, &oaep1_label, ct, 256, pt, &pt_len), P11_R_UNSUPPORTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "cannot do RSA-OAEP with a label"));
}

/* The evidence for P11_QUIRK_OAEP_NO_LABEL, straight to the token: it fails if a later
 * SoftHSM fixes this, so the quirk's version bound can be moved. */
static void test_rsa_softhsm_ignores_oaep_label(void)
{
    CK_RSA_PKCS_OAEP_PARAMS op = {CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, "L", 1};
    CK_MECHANISM m = {CKM_RSA_PKCS_OAEP, &op, sizeof(op)};
    const uint8_t msg[8] = "8 bytes";
    uint8_t ct[256], pt[256];
    CK_ULONG pt_len = sizeof(pt);
    size_t ct_len;
    p11_session s;

    if (!softhsm_no_label()) {
        TEST_SKIP("not SoftHSM 2.6");
        return;
    }
    ct_len = ossl_rsa(1, &oaep1, msg, sizeof(msg), ct); /* made without a label */
    CU_ASSERT_EQUAL_FATAL(ct_len, 256);
    CU_ASSERT_EQUAL_FATAL(p11_session_get(tu_token, &s), CKR_OK);
    CU_ASSERT_EQUAL(tu_token->f->C_DecryptInit(s.h, &m, atomic_load(&key->priv_h)), CKR_OK);
    CU_ASSERT_EQUAL(tu_token->f->C_Decrypt(s.h, ct, ct_len, pt, &pt_len), CKR_OK);
    p11_session_put(tu_token, s);
}

static void test_rsa_raw_gives_the_padded_block(void)
{
    const uint8_t msg[8] = "8 bytes";
    const p11_rsa_params raw = {P11_RSA_RAW, 0, 0, NULL, 0};
    uint8_t ct[256], pt[256];
    size_t ct_len = ossl_rsa(1, &pkcs1, msg, sizeof(msg), ct), pt_len = sizeof(pt);

    CU_ASSERT_EQUAL_FATAL(ct_len, 256);
    CU_ASSERT_EQUAL_FATAL(p11_rsa_decrypt(key, &raw, ct, ct_len, pt, &pt_len), CKR_OK);
    CU_ASSERT_EQUAL_FATAL(pt_len, 256);
    CU_ASSERT_TRUE(pt[0] == 0x00 && pt[1] == 0x02 && pt[256 - sizeof(msg) - 1] == 0x00);
    TEST_ASSERT_BYTES(pt + 256 - sizeof(msg), sizeof(msg), msg, sizeof(msg));
}

static int all_zero(const uint8_t *b, size_t n)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    return acc == 0;
}

static void test_rsa_wrong_label_fails_and_wipes_output(void)
{
    const uint8_t msg[16] = "sixteen bytes!!";
    uint8_t ct[256], pt[256];
    size_t ct_len = sizeof(ct), pt_len = sizeof(pt);
    CK_RV rv;

    /* a label SoftHSM cannot check: made by OpenSSL */
    ct_len = ossl_rsa(1, &oaep1_label, msg, sizeof(msg), ct);
    CU_ASSERT_EQUAL_FATAL(ct_len, 256);
    memset(pt, 0xaa, sizeof(pt));
    rv = p11_rsa_decrypt(key, &oaep1, ct, ct_len, pt, &pt_len);
    CU_ASSERT_NOT_EQUAL(rv, CKR_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "C_Decrypt"));
    CU_ASSERT_TRUE(all_zero(pt, sizeof(pt)));
}

static void test_rsa_oaep_sha256_is_oaep_hash_on_softhsm(void)
{
    const p11_rsa_params p = {P11_RSA_OAEP, P11_HASH_SHA256, P11_HASH_SHA256, NULL, 0};
    uint8_t ct[256] = {1}, pt[256];
    size_t pt_len = sizeof(pt);
    CK_RV rv = p11_rsa_decrypt(key, &p, ct, sizeof(ct), pt, &pt_len);

    if (!(key->t->m->quirks & P11_QUIRK_OAEP_SHA1_ONLY)) {
        TEST_SKIP("this token is not SoftHSM 2.6: it may do SHA-256 OAEP");
        return;
    }
    CU_ASSERT_EQUAL(rv, P11_R_OAEP_HASH);
    printf("  detail: %s\n", p11_err_detail());
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "token 'cmk-test' cannot do RSA-OAEP with "
                                                    "SHA-256 (C_DecryptInit: CKR_"));
}

static void test_rsa_oaep_probe_finds_sha1_only_on_softhsm(void)
{
    unsigned mask = p11_rsa_oaep_hashes(key);

    CU_ASSERT_EQUAL(mask, 1u << P11_HASH_SHA1);
    CU_ASSERT_EQUAL(p11_rsa_oaep_hashes(key), mask); /* cached */
    CU_ASSERT_STRING_EQUAL(p11_hash_name(P11_HASH_SHA256), "SHA-256");
}

static void test_rsa_small_output_is_bad_argument(void)
{
    uint8_t ct[256] = {0}, pt[100];
    size_t pt_len = sizeof(pt);

    CU_ASSERT_EQUAL(p11_rsa_decrypt(key, &pkcs1, ct, sizeof(ct), pt, &pt_len), P11_R_BAD_ARGUMENT);
}

static void test_rsa_without_public_object(void)
{
    const char *label = tu_label("nopub");
    char uri[128];
    p11_key *k = tu_key_new(label, NULL, 0), *k2 = NULL;
    p11_session s;
    const uint8_t msg[8] = "8 bytes";
    uint8_t ct[256], pt[256];
    size_t ct_len = sizeof(ct), pt_len = sizeof(pt);

    CU_ASSERT_EQUAL_FATAL(p11_rsa_encrypt(k, &pkcs1, msg, sizeof(msg), ct, &ct_len), CKR_OK);
    /* as NSS softokn: the token keeps no public object */
    CU_ASSERT_EQUAL_FATAL(p11_session_get(tu_token, &s), CKR_OK);
    CU_ASSERT_EQUAL(tu_token->f->C_DestroyObject(s.h, atomic_load(&k->pub_h)), CKR_OK);
    p11_session_put(tu_token, s);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    CU_ASSERT_EQUAL_FATAL(p11_key_find(tu_token, uri, &k2), CKR_OK);
    CU_ASSERT_FALSE(p11_key_has_public_object(k2));
    CU_ASSERT_EQUAL(p11_key_bits(k2), 2048); /* read off the private key */
    CU_ASSERT_EQUAL(p11_rsa_encrypt(k2, &pkcs1, msg, sizeof(msg), ct + 1, &pt_len),
                    P11_R_NO_PUBLIC_OBJECT);
    pt_len = sizeof(pt);
    CU_ASSERT_EQUAL(p11_rsa_decrypt(k2, &pkcs1, ct, ct_len, pt, &pt_len), CKR_OK);
    TEST_ASSERT_BYTES(pt, pt_len, msg, sizeof(msg));
    p11_key_free(k2);
    p11_key_free(k);
}

static void test_rsa_stale_handle_is_found_again(void)
{
    const uint8_t msg[8] = "8 bytes";
    uint8_t ct[256], pt[256];
    size_t ct_len = sizeof(ct), pt_len = sizeof(pt);

    CU_ASSERT_EQUAL_FATAL(p11_rsa_encrypt(key, &pkcs1, msg, sizeof(msg), ct, &ct_len), CKR_OK);
    atomic_store(&key->priv_h, 0x7ffffff0UL); /* a handle the token never gave out */
    CU_ASSERT_EQUAL(p11_rsa_decrypt(key, &pkcs1, ct, ct_len, pt, &pt_len), CKR_OK);
    TEST_ASSERT_BYTES(pt, pt_len, msg, sizeof(msg));
    CU_ASSERT_NOT_EQUAL(atomic_load(&key->priv_h), 0x7ffffff0UL);
}

/* A key whose CKA_DECRYPT is false (a sign key, or a CMK disabled in the token) is refused by
 * the token, and the detail says so. */
static void test_rsa_decrypt_refused_without_cka_decrypt(void)
{
    const char *label = tu_label("signonly");
    uint8_t ct[256] = {0}, pt[256];
    size_t pt_len = sizeof(pt);
    char uri[128];
    p11_key *k = NULL;

    CU_ASSERT_EQUAL_FATAL(p11_key_generate(tu_token, label, NULL, 0, 2048, P11_OP_SIGN), CKR_OK);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    CU_ASSERT_EQUAL_FATAL(p11_key_find(tu_token, uri, &k), CKR_OK);
    CU_ASSERT_EQUAL(p11_rsa_decrypt(k, &pkcs1, ct, sizeof(ct), pt, &pt_len),
                    CKR_KEY_FUNCTION_NOT_PERMITTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "C_DecryptInit with key '"));
    /* a key that may not decrypt cannot tell which hashes the token does: not cached */
    {
        p11_token *t = NULL;
        p11_key *k2 = NULL;

        CU_ASSERT_EQUAL_FATAL(p11_token_open(tu_module, tu_uri, tu_pin_spec, &t), CKR_OK);
        CU_ASSERT_EQUAL_FATAL(p11_key_find(t, uri, &k2), CKR_OK);
        CU_ASSERT_EQUAL(p11_rsa_oaep_hashes(k2), 0);
        CU_ASSERT_EQUAL(atomic_load(&t->oaep_mask), 0);
        p11_key_free(k2);
        p11_token_free(t);
    }
    p11_key_free(k);
}

/* The suite's key once more, imported for signing: OpenSSL verifies with the same key. */
static p11_key *sign_key_get(void)
{
    p11_rsa_components c = {0};
    const char *label = tu_label("rsasign");
    char uri[128];
    p11_key *k = NULL;

    tu_components(ossl_key, &c);
    CU_ASSERT_EQUAL(p11_key_import(tu_token, label, NULL, 0, &c, P11_OP_SIGN), CKR_OK);
    tu_components_free(&c);
    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    CU_ASSERT_EQUAL(p11_key_find(tu_token, uri, &k), CKR_OK);
    return k;
}

static int ossl_verify(int pad, int salt, const uint8_t *sig, size_t sig_len, const uint8_t *h)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(ossl_key, NULL);
    int ok = ctx != NULL && EVP_PKEY_verify_init(ctx) > 0 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, pad) > 0 &&
             EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0 &&
             (pad != RSA_PKCS1_PSS_PADDING || EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt) > 0) &&
             EVP_PKEY_verify(ctx, sig, sig_len, h, 32) == 1;

    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

/* PKCS#1 v1.5 over a DigestInfo (RFC 8017 section 9.2 note 1: the SHA-256 prefix), and PSS
 * over the bare hash with a 32-byte salt and a 0-byte one. */
static void test_rsa_sign_pkcs1_and_pss_verified_by_openssl(void)
{
    static const uint8_t prefix[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                       0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    const p11_rsa_sign_params v15 = {P11_SIG_PKCS1, 0, 0, 0};
    const size_t salts[] = {32, 0};
    uint8_t h[32], di[51], sig[256];
    size_t sig_len = sizeof(sig);
    p11_key *k = sign_key_get();

    CU_ASSERT_FATAL(k != NULL);
    CU_ASSERT_FATAL(EVP_Digest("cmk", 3, h, NULL, EVP_sha256(), NULL));
    memcpy(di, prefix, sizeof(prefix));
    memcpy(di + sizeof(prefix), h, sizeof(h));
    CU_ASSERT_EQUAL(p11_rsa_sign(k, &v15, di, sizeof(di), sig, &sig_len), CKR_OK);
    CU_ASSERT_EQUAL(sig_len, 256);
    CU_ASSERT_TRUE(ossl_verify(RSA_PKCS1_PADDING, 0, sig, sig_len, h));
    for (size_t i = 0; i < 2; i++) {
        p11_rsa_sign_params pss = {P11_SIG_PSS, P11_HASH_SHA256, P11_HASH_SHA256, salts[i]};

        sig_len = sizeof(sig);
        CU_ASSERT_EQUAL(p11_rsa_sign(k, &pss, h, sizeof(h), sig, &sig_len), CKR_OK);
        CU_ASSERT_TRUE(ossl_verify(RSA_PKCS1_PSS_PADDING, (int)salts[i], sig, sig_len, h));
        CU_ASSERT_FALSE(ossl_verify(RSA_PKCS1_PSS_PADDING, (int)salts[i] + 1, sig, sig_len, h));
    }
    sig_len = 255;
    CU_ASSERT_EQUAL(p11_rsa_sign(k, &v15, di, sizeof(di), sig, &sig_len), P11_R_BAD_ARGUMENT);
    p11_key_free(k);
}

/* The suite's key is for decryption only: the token refuses C_SignInit and the detail says
 * which key may not sign (PKCS#11 v2.40 section 5.2). */
static void test_rsa_sign_refused_without_cka_sign(void)
{
    const p11_rsa_sign_params v15 = {P11_SIG_PKCS1, 0, 0, 0};
    uint8_t in[51] = {0}, sig[256];
    size_t sig_len = sizeof(sig);
    CK_RV rv = p11_rsa_sign(key, &v15, in, sizeof(in), sig, &sig_len);

    CU_ASSERT_TRUE(rv == CKR_KEY_FUNCTION_NOT_PERMITTED || rv == CKR_KEY_TYPE_INCONSISTENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "is not permitted to sign (C_SignInit: CKR_"));
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("p11_rsa", suite_setup, suite_teardown);
    CU_add_test(s, "rsa_pkcs1_round_trip", test_rsa_pkcs1_round_trip);
    CU_add_test(s, "rsa_oaep_sha1_round_trip", test_rsa_oaep_sha1_round_trip);
    CU_add_test(s, "rsa_oaep_sha1_label_round_trip", test_rsa_oaep_sha1_label_round_trip);
    CU_add_test(s, "rsa_softhsm_ignores_oaep_label", test_rsa_softhsm_ignores_oaep_label);
    CU_add_test(s, "rsa_raw_gives_the_padded_block", test_rsa_raw_gives_the_padded_block);
    CU_add_test(s, "rsa_wrong_label_fails_and_wipes_output",
                test_rsa_wrong_label_fails_and_wipes_output);
    CU_add_test(s, "rsa_oaep_sha256_is_oaep_hash_on_softhsm",
                test_rsa_oaep_sha256_is_oaep_hash_on_softhsm);
    CU_add_test(s, "rsa_oaep_probe_finds_sha1_only_on_softhsm",
                test_rsa_oaep_probe_finds_sha1_only_on_softhsm);
    CU_add_test(s, "rsa_small_output_is_bad_argument", test_rsa_small_output_is_bad_argument);
    CU_add_test(s, "rsa_without_public_object", test_rsa_without_public_object);
    CU_add_test(s, "rsa_stale_handle_is_found_again", test_rsa_stale_handle_is_found_again);
    CU_add_test(s, "rsa_sign_pkcs1_and_pss_verified_by_openssl",
                test_rsa_sign_pkcs1_and_pss_verified_by_openssl);
    CU_add_test(s, "rsa_sign_refused_without_cka_sign", test_rsa_sign_refused_without_cka_sign);
    CU_add_test(s, "rsa_decrypt_refused_without_cka_decrypt",
                test_rsa_decrypt_refused_without_cka_decrypt);
    return testlib_run();
}
