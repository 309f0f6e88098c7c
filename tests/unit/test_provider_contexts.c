/* test_provider_contexts.c - cmk unloaded and loaded again, and several cmk instances in one
 * process, each in a library context of its own (issue #4).
 *
 * - Reload: a library context whose openssl.cnf declares cmk without activating it; 10 rounds
 *   of OSSL_PROVIDER_load, open the key, unwrap, free the key, OSSL_PROVIDER_unload (then cmk
 *   is no longer available there). A key opened before an unload keeps its provider and still
 *   unwraps after it.
 * - Two contexts on the same SoftHSM token (one module in the process, two providers): unwraps
 *   interleaved, then one context per thread, every one correct; freeing one context does not
 *   disturb the other's key.
 * - A SoftHSM context and an NSS softokn context: each opens only its own token's key (the
 *   other's URI finds nothing), both unwrap from two threads at once, and freeing the NSS
 *   context leaves the SoftHSM one working. Skipped, with why, where NSS is absent.
 * Leaks and bad frees are for ASan: `make check SANITIZE=address,undefined TESTS=contexts`. */
#include <pthread.h>
#include <openssl/provider.h>
#include "test_prov_util.h"
#include "testprov.h"

#define LABEL     TESTPROV_UNWRAP_LABEL
#define NSS_LABEL "ctx-nss"
#define KEYS      8
#define RELOADS   10
#define UNWRAPS   40 /* per thread */

static const char *skip_why;
static OSSL_LIB_CTX *libctx;
static EVP_PKEY *key;
static testprov_wrapped keys[KEYS];

/* Unwraps every test key with k in ctx; returns how many gave their own plaintext. */
static int unwrap_all(OSSL_LIB_CTX *ctx, EVP_PKEY *k, const testprov_wrapped *w)
{
    EVP_PKEY_CTX *c = testprov_unwrap_ctx(ctx, k);
    int ok = 0;

    for (size_t i = 0; c != NULL && i < KEYS; i++)
        ok += testprov_unwrap_check(c, &w[i]) == 1;
    if (ok != KEYS) {
        char *e = testprov_errors();

        printf("%d of %d unwraps right: %s\n", ok, KEYS, e);
        free(e);
    }
    EVP_PKEY_CTX_free(c);
    return ok;
}

/* ---- unload and load again ---- */

/* $OPENSSL_CONF with cmk declared but not activated, so that OSSL_PROVIDER_load activates it
 * with its section's settings. */
static OSSL_LIB_CTX *libctx_cmk_inactive(void)
{
    const char *conf = testlib_env("OPENSSL_CONF"), *dir = testlib_env("CMK_TEST_DIR");
    char path[4096], line[4096];
    int in_cmk = 0, ok = 1;
    OSSL_LIB_CTX *ctx = NULL;
    FILE *in, *out;

    if (conf == NULL || dir == NULL)
        return NULL;
    snprintf(path, sizeof(path), "%s/openssl-inactive-%ld.cnf", dir, (long)getpid());
    if ((in = fopen(conf, "r")) == NULL || (out = fopen(path, "w")) == NULL) {
        if (in != NULL)
            fclose(in);
        return NULL;
    }
    while (fgets(line, sizeof(line), in) != NULL) {
        if (line[0] == '[')
            in_cmk = strncmp(line, "[cmk_sect]", 10) == 0;
        if (!(in_cmk && strncmp(line, "activate", 8) == 0))
            ok &= fputs(line, out) >= 0;
    }
    fclose(in);
    if (fclose(out) == 0 && ok && (ctx = OSSL_LIB_CTX_new()) != NULL &&
        !OSSL_LIB_CTX_load_config(ctx, path)) {
        ERR_print_errors_fp(stdout);
        OSSL_LIB_CTX_free(ctx);
        ctx = NULL;
    }
    remove(path);
    return ctx;
}

static void test_unload_and_load_again_keeps_unwrapping(void)
{
    OSSL_LIB_CTX *ctx;
    EVP_PKEY *kept = NULL;

    if (testprov_unwrap_skipped(__func__, key, skip_why))
        return;
    ctx = libctx_cmk_inactive();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    CU_ASSERT_FALSE(OSSL_PROVIDER_available(ctx, "cmk"));
    for (int round = 0; round < RELOADS; round++) {
        OSSL_PROVIDER *p = OSSL_PROVIDER_load(ctx, "cmk");
        EVP_PKEY *k;

        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        k = testprov_key_load(ctx, LABEL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(k);
        CU_ASSERT_EQUAL(unwrap_all(ctx, k, keys), KEYS);
        if (round == RELOADS / 2)
            kept = k; /* held across the unload below */
        else
            EVP_PKEY_free(k);
        CU_ASSERT_EQUAL(OSSL_PROVIDER_unload(p), 1);
        if (kept == NULL)
            CU_ASSERT_FALSE(OSSL_PROVIDER_available(ctx, "cmk"));
        if (kept != NULL && round == RELOADS / 2)
            CU_ASSERT_EQUAL(unwrap_all(ctx, kept, keys), KEYS);
    }
    EVP_PKEY_free(kept);
    CU_ASSERT_FALSE(OSSL_PROVIDER_available(ctx, "cmk"));
    OSSL_LIB_CTX_free(ctx);
}

/* ---- two contexts ---- */

typedef struct ctx_key {
    OSSL_LIB_CTX *libctx;
    EVP_PKEY *key;
    const testprov_wrapped *wrapped;
    int right; /* unwraps that gave their own plaintext */
} ctx_key;

static void *thread_unwrap(void *arg)
{
    ctx_key *ck = arg;

    for (int i = 0; i < UNWRAPS / KEYS; i++)
        ck->right += unwrap_all(ck->libctx, ck->key, ck->wrapped);
    return NULL;
}

/* Both unwrap UNWRAPS times, each in a thread of its own, at the same time. */
static void two_threads(ctx_key *a, ctx_key *b)
{
    pthread_t ta, tb;

    a->right = b->right = 0;
    CU_ASSERT_FATAL(pthread_create(&ta, NULL, thread_unwrap, a) == 0);
    CU_ASSERT_FATAL(pthread_create(&tb, NULL, thread_unwrap, b) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CU_ASSERT_EQUAL(a->right, UNWRAPS);
    CU_ASSERT_EQUAL(b->right, UNWRAPS);
}

static void ctx_key_free(ctx_key *ck)
{
    EVP_PKEY_free(ck->key);
    OSSL_LIB_CTX_free(ck->libctx);
}

/* Both unwrap, interleaved, then from two threads at once; then gone is freed, sessions, key
 * and all, and stays must go on unwrapping. Frees both. */
static void both_then_one(ctx_key *gone, ctx_key *stays)
{
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(unwrap_all(gone->libctx, gone->key, gone->wrapped), KEYS);
        CU_ASSERT_EQUAL(unwrap_all(stays->libctx, stays->key, stays->wrapped), KEYS);
    }
    two_threads(gone, stays);
    ctx_key_free(gone);
    CU_ASSERT_EQUAL(unwrap_all(stays->libctx, stays->key, stays->wrapped), KEYS);
    ctx_key_free(stays);
}

static void test_two_contexts_on_one_token_interleaved_and_threaded(void)
{
    const char *why;
    ctx_key a = {.wrapped = keys}, b = {.wrapped = keys};

    if (testprov_unwrap_skipped(__func__, key, skip_why))
        return;
    a.libctx = testprov_libctx_new(&why);
    b.libctx = testprov_libctx_new(&why);
    CU_ASSERT_FATAL(a.libctx != NULL && b.libctx != NULL);
    a.key = testprov_key_load(a.libctx, LABEL);
    b.key = testprov_key_load(b.libctx, LABEL);
    CU_ASSERT_FATAL(a.key != NULL && b.key != NULL);
    both_then_one(&a, &b);
}

/* The NSS database with a key made by cmk-keygen, its public key in pub_path, and a context
 * with cmk for it. NULL when NSS is absent (*why set) or setup fails. */
static OSSL_LIB_CTX *nss_setup(tp_nss *db, EVP_PKEY **k, testprov_wrapped *w, const char **why)
{
    testprov_token tok;
    char pub_path[128];
    OSSL_LIB_CTX *ctx;

    if ((*why = tp_nss_new(db)) != NULL)
        return NULL;
    *why = "could not make the NSS key, its context or its wrapped keys (see above)";
    tok = (testprov_token){db->module, TP_NSS_TOKEN, db->pin_file, db->init_args};
    snprintf(pub_path, sizeof(pub_path), "%s/pub.pem", db->dir);
    if (!testprov_key_make_in(&tok, NSS_LABEL, NULL, pub_path) ||
        !testprov_wrap_random(pub_path, w, KEYS) || (ctx = tp_nss_libctx_new(db)) == NULL)
        return NULL;
    if ((*k = testprov_key_load_in(ctx, TP_NSS_TOKEN, NSS_LABEL)) == NULL) {
        OSSL_LIB_CTX_free(ctx);
        return NULL;
    }
    *why = NULL;
    return ctx;
}

static void test_softhsm_and_nss_contexts_each_see_only_their_own(void)
{
    const char *why, *softhsm_token = testlib_env("CMK_TEST_TOKEN");
    static testprov_wrapped nss_keys[KEYS];
    ctx_key s = {.wrapped = keys}, n = {.wrapped = nss_keys};
    tp_nss db;

    if (testprov_unwrap_skipped(__func__, key, skip_why))
        return;
    if ((n.libctx = nss_setup(&db, &n.key, nss_keys, &why)) == NULL) {
        tp_nss_free(&db);
        TEST_SKIP(why);
        return;
    }
    s.libctx = testprov_libctx_new(&why);
    CU_ASSERT_FATAL(s.libctx != NULL && softhsm_token != NULL);
    s.key = testprov_key_load(s.libctx, LABEL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s.key);
    /* each provider reaches its own token only */
    CU_ASSERT_PTR_NULL(testprov_key_load_in(s.libctx, TP_NSS_TOKEN, NSS_LABEL));
    CU_ASSERT_PTR_NULL(testprov_key_load_in(n.libctx, softhsm_token, LABEL));
    CU_ASSERT_PTR_NULL(testprov_key_load_in(n.libctx, TP_NSS_TOKEN, LABEL));
    ERR_clear_error();
    both_then_one(&n, &s);
    tp_nss_free(&db);
}

int main(void)
{
    static const CU_TestInfo tests[] = {
        {"unload_and_load_again_keeps_unwrapping", test_unload_and_load_again_keeps_unwrapping},
        {"two_contexts_on_one_token_interleaved_and_threaded",
         test_two_contexts_on_one_token_interleaved_and_threaded},
        {"softhsm_and_nss_contexts_each_see_only_their_own",
         test_softhsm_and_nss_contexts_each_see_only_their_own},
        CU_TEST_INFO_NULL,
    };

    return testprov_unwrap_main("provider_contexts", tests, &libctx, &key, &skip_why, keys, KEYS);
}
