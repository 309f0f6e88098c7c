/* stress.c - build/stress/cmk-stress SECONDS: the provider under load for a fixed time, run by
 * tests/stress/run.sh (make stress) beside four `cmk` processes on the same token.
 *
 * STRESS_THREADS threads unwrap, through EVP_PKEY_decrypt on a pkcs11: key opened with
 * OSSL_STORE, 32-byte keys that OpenSSL's default provider wrapped (RSA-OAEP, SHA-1) under the
 * token key's public half; each result is compared with the key that was wrapped. Each thread
 * takes a new EVP_PKEY_CTX every CTX_UNWRAPS unwraps. Once a second the main thread samples
 * the unwraps so far, the sessions the process holds on the token (testprov_sessions_open: the
 * module's own C_GetSessionInfo, since SoftHSM does not fill in ulSessionCount), the resident
 * set (/proc/self/statm) and the heap in use (mallinfo2).
 *
 * It passes, and exits 0, when: no unwrap failed or gave another key; the sessions never
 * exceeded SESSIONS_MAX and none is left once the library context is freed; after the warm-up
 * (a sixth of the run, at least one sample), the resident set grew by at most RSS_GROWTH_KIB
 * and the heap by at most HEAP_GROWTH_KIB. The last line is the summary run.sh shows. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include "testprov.h"

#define STRESS_THREADS  8
#define KEYS            64  /* distinct wrapped keys, used round robin */
#define CTX_UNWRAPS     256 /* unwraps per EVP_PKEY_CTX */
#define SESSIONS_MAX    (2 * STRESS_THREADS)
#define RSS_GROWTH_KIB  4096 /* after warm-up: a leak of 100 bytes an unwrap passes this */
#define HEAP_GROWTH_KIB 1024
#define SAMPLES_MAX     3600
#define LABEL           "stress-unwrap"

static OSSL_LIB_CTX *libctx;
static EVP_PKEY *key;
static testprov_wrapped keys[KEYS];
static atomic_int stop;

typedef struct worker {
    pthread_t tid;
    unsigned index;
    testprov_tally t;
} worker;

typedef struct sample {
    unsigned long unwraps;
    long sessions;
    size_t rss_kib, heap_kib;
} sample;

static void *worker_run(void *arg)
{
    worker *w = arg;
    EVP_PKEY_CTX *ctx = NULL;

    for (unsigned long i = 0; !atomic_load(&stop); i++) {
        if (i % CTX_UNWRAPS == 0) {
            EVP_PKEY_CTX_free(ctx);
            ctx = testprov_unwrap_ctx(libctx, key);
        }
        testprov_unwrap_count(ctx, &keys[(w->index * 7 + i) % KEYS], &w->t);
    }
    EVP_PKEY_CTX_free(ctx);
    return NULL;
}

static size_t rss_kib(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f != NULL) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (size_t)sysconf(_SC_PAGESIZE) / 1024;
}

static void sample_take(sample *s, worker *w)
{
    s->unwraps = 0;
    for (unsigned i = 0; i < STRESS_THREADS; i++)
        s->unwraps +=
            atomic_load(&w[i].t.ok) + atomic_load(&w[i].t.failed) + atomic_load(&w[i].t.wrong);
    s->sessions = testprov_sessions_open();
    s->rss_kib = rss_kib();
    s->heap_kib = testprov_heap_bytes() / 1024;
}

/* Runs the workers for seconds, one sample a second into s[0..seconds]; returns the samples. */
static unsigned load_run(worker *w, unsigned seconds, sample *s)
{
    unsigned n = 0;

    for (unsigned i = 0; i < STRESS_THREADS; i++) {
        w[i].index = i;
        if (pthread_create(&w[i].tid, NULL, worker_run, &w[i]) != 0) {
            fprintf(stderr, "cmk-stress: cannot start thread %u\n", i);
            exit(2);
        }
    }
    for (; n <= seconds && n < SAMPLES_MAX; n++) {
        if (n > 0)
            sleep(1);
        sample_take(&s[n], w);
        printf("t=%3u s: %8lu unwraps, %2ld sessions, RSS %6zu KiB, heap %6zu KiB\n", n,
               s[n].unwraps, s[n].sessions, s[n].rss_kib, s[n].heap_kib);
        fflush(stdout);
    }
    atomic_store(&stop, 1);
    for (unsigned i = 0; i < STRESS_THREADS; i++)
        pthread_join(w[i].tid, NULL);
    return n;
}

int main(int argc, char **argv)
{
    static worker w[STRESS_THREADS];
    static sample s[SAMPLES_MAX];
    unsigned seconds = argc > 1 ? (unsigned)atoi(argv[1]) : 60, n, warm;
    unsigned long ok = 0, failed = 0, wrong = 0;
    long start, end, unloaded, max_sessions = 0;
    size_t rss_max = 0;
    const char *why;
    int pass;

    if (seconds == 0 || seconds >= SAMPLES_MAX) {
        fprintf(stderr, "usage: cmk-stress SECONDS (1 to %d)\n", SAMPLES_MAX - 1);
        return 2;
    }
    if ((key = testprov_unwrap_setup(&libctx, LABEL, keys, KEYS, &why)) == NULL ||
        testprov_p11_observe(NULL) == NULL) {
        fprintf(stderr, "cmk-stress: %s\n", key == NULL ? why : "cannot observe the sessions");
        return 2;
    }
    start = testprov_sessions_open();
    n = load_run(w, seconds, s);
    end = testprov_sessions_open();
    EVP_PKEY_free(key);
    OSSL_LIB_CTX_free(libctx);
    unloaded = testprov_sessions_open();

    for (unsigned i = 0; i < STRESS_THREADS; i++) {
        ok += w[i].t.ok, failed += w[i].t.failed, wrong += w[i].t.wrong;
        if (w[i].t.failed > 0)
            printf("thread %u: %lu failed, first: %s\n", i, (unsigned long)w[i].t.failed,
                   w[i].t.first_error);
    }
    for (unsigned i = 0; i < n; i++) {
        max_sessions = s[i].sessions > max_sessions ? s[i].sessions : max_sessions;
        rss_max = s[i].rss_kib > rss_max ? s[i].rss_kib : rss_max;
    }
    warm = n / 6 > 0 ? n / 6 : 1;
    warm = warm < n - 1 ? warm : n - 1;
    pass = ok > 0 && failed == 0 && wrong == 0 && max_sessions <= SESSIONS_MAX && unloaded == 0 &&
           s[n - 1].rss_kib <= s[warm].rss_kib + RSS_GROWTH_KIB &&
           s[n - 1].heap_kib <= s[warm].heap_kib + HEAP_GROWTH_KIB;
    printf("stress-threads: %u s, %d threads: %lu unwraps (%.0f/s), %lu failed, %lu wrong; "
           "sessions start %ld, middle %ld, max %ld, end %ld, after unload %ld; "
           "RSS KiB first %zu, after warm-up (t=%u s) %zu, last %zu, max %zu (bound +%d); "
           "heap KiB after warm-up %zu, last %zu (bound +%d): %s\n",
           seconds, STRESS_THREADS, ok + failed + wrong, (double)(ok + failed + wrong) / seconds,
           failed, wrong, start, s[n / 2].sessions, max_sessions, end, unloaded, s[0].rss_kib, warm,
           s[warm].rss_kib, s[n - 1].rss_kib, rss_max, RSS_GROWTH_KIB, s[warm].heap_kib,
           s[n - 1].heap_kib, HEAP_GROWTH_KIB, pass ? "PASS" : "FAIL");
    return pass ? 0 : 1;
}
