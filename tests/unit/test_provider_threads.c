/* test_provider_threads.c - many threads unwrap at once on one shared EVP_PKEY, each with its
 * own EVP_PKEY_CTX: 10,000 RSA-OAEP (SHA-1) decryptions of 32-byte keys in all, with 2 and
 * with 8 threads, every one succeeds and gives its own plaintext. The ciphertexts are made by
 * OpenSSL's default provider from the public key cmk-keygen wrote, so the token decrypts what
 * any RSA-OAEP encryptor produced. Run it under ThreadSanitizer with `make check-tsan`.
 * CMK_TEST_UNWRAPS=N changes the 10,000 (TSan runs use fewer). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include "testlib.h"
#include "testprov.h"

#define KEYS        64 /* distinct wrapped keys, used round robin */
#define MAX_THREADS 8

static OSSL_LIB_CTX *libctx;
static const char *skip_why;
static EVP_PKEY *key;
static testprov_wrapped keys[KEYS];

typedef struct worker {
    pthread_t tid;
    unsigned index, count, fresh_ctx; /* fresh_ctx: a new EVP_PKEY_CTX per unwrap */
    testprov_tally t;
} worker;

static void *worker_run(void *arg)
{
    worker *w = arg;
    EVP_PKEY_CTX *ctx = NULL;

    for (unsigned i = 0; i < w->count; i++) {
        if (ctx == NULL || w->fresh_ctx) {
            EVP_PKEY_CTX_free(ctx);
            ctx = testprov_unwrap_ctx(libctx, key);
        }
        testprov_unwrap_count(ctx, &keys[(w->index * 7 + i) % KEYS], &w->t);
    }
    EVP_PKEY_CTX_free(ctx);
    return NULL;
}

static unsigned unwraps_total(void)
{
    const char *v = testlib_env("CMK_TEST_UNWRAPS");

    return v != NULL && atoi(v) > 0 ? (unsigned)atoi(v) : 10000;
}

static void run_threads(const char *test, unsigned nthreads, unsigned total, unsigned fresh_ctx)
{
    worker w[MAX_THREADS] = {{0}};
    unsigned ok = 0, failed = 0, wrong = 0;

    if (testprov_unwrap_skipped(test, key, skip_why))
        return;
    for (unsigned i = 0; i < nthreads; i++) {
        w[i].index = i;
        w[i].count = total / nthreads + (i < total % nthreads);
        w[i].fresh_ctx = fresh_ctx;
        CU_ASSERT_FATAL(pthread_create(&w[i].tid, NULL, worker_run, &w[i]) == 0);
    }
    for (unsigned i = 0; i < nthreads; i++) {
        pthread_join(w[i].tid, NULL);
        ok += (unsigned)w[i].t.ok, failed += (unsigned)w[i].t.failed,
            wrong += (unsigned)w[i].t.wrong;
        if (w[i].t.failed > 0)
            printf("thread %u: %lu failed, first: %s\n", i, (unsigned long)w[i].t.failed,
                   w[i].t.first_error);
    }
    printf("%u threads%s: %u unwraps, %u correct, %u failed, %u wrong plaintexts\n", nthreads,
           fresh_ctx ? " (a new EVP_PKEY_CTX each)" : "", total, ok, failed, wrong);
    CU_ASSERT_EQUAL(ok, total);
    CU_ASSERT_EQUAL(failed, 0);
    CU_ASSERT_EQUAL(wrong, 0);
}

static void test_two_threads_unwrap_correctly(void)
{
    run_threads(__func__, 2, unwraps_total(), 0);
}

static void test_eight_threads_unwrap_correctly(void)
{
    run_threads(__func__, 8, unwraps_total(), 0);
}

static void test_eight_threads_with_a_new_ctx_per_unwrap(void)
{
    run_threads(__func__, 8, unwraps_total() / 10, 1);
}

int main(void)
{
    static const CU_TestInfo tests[] = {
        {"two_threads_unwrap_correctly", test_two_threads_unwrap_correctly},
        {"eight_threads_unwrap_correctly", test_eight_threads_unwrap_correctly},
        {"eight_threads_with_a_new_ctx_per_unwrap", test_eight_threads_with_a_new_ctx_per_unwrap},
        CU_TEST_INFO_NULL,
    };

    return testprov_unwrap_main("provider_threads", tests, &libctx, &key, &skip_why, keys, KEYS);
}
