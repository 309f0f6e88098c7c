/* testlib.c - runner, skips, environment and hex helpers shared by the CUnit programs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
#include <CUnit/Basic.h>
#include <openssl/crypto.h>
#include "testlib.h"

static unsigned skipped;

void testlib_skip(const char *test, const char *why)
{
    skipped++;
    printf("SKIP: %s: %s\n", test, why);
}

const char *testlib_env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

const char *testlib_vectors_dir(void)
{
    static char path[4096];
    const char *v = testlib_env("CMK_VECTORS");

    if (v == NULL) {
        const char *top = testlib_env("CMK_TOP");

        snprintf(path, sizeof(path), "%s/../shared/vectors", top != NULL ? top : ".");
        v = path;
    }
    return access(v, R_OK) == 0 ? v : NULL;
}

int testlib_evp_init(TESTLIB_EVP *e, int default_first)
{
    const char *build = testlib_env("CMK_BUILD");

    e->cmk = e->dflt = NULL;
    if ((e->libctx = OSSL_LIB_CTX_new()) == NULL ||
        !OSSL_PROVIDER_set_default_search_path(e->libctx, build != NULL ? build : "build"))
        return 0;
    if (default_first)
        e->dflt = OSSL_PROVIDER_load(e->libctx, "default");
    e->cmk = OSSL_PROVIDER_load(e->libctx, "cmk");
    if (!default_first)
        e->dflt = OSSL_PROVIDER_load(e->libctx, "default");
    return e->cmk != NULL && e->dflt != NULL;
}

void testlib_evp_cleanup(TESTLIB_EVP *e)
{
    if (e->cmk != NULL)
        OSSL_PROVIDER_unload(e->cmk);
    if (e->dflt != NULL)
        OSSL_PROVIDER_unload(e->dflt);
    OSSL_LIB_CTX_free(e->libctx);
    e->libctx = NULL;
    e->cmk = e->dflt = NULL;
}

uint8_t *testlib_unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *out = malloc(n + 1);

    for (size_t i = 0; out != NULL && i < n; i++) {
        unsigned v;

        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            free(out);
            return NULL;
        }
        out[i] = (uint8_t)v;
    }
    *len = n;
    return out;
}

char *testlib_hex(const uint8_t *buf, size_t len)
{
    char *out = malloc(2 * len + 1);

    for (size_t i = 0; out != NULL && i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", buf[i]);
    if (out != NULL)
        out[2 * len] = '\0';
    return out;
}

int testlib_bytes_equal(const char *file, int line, const uint8_t *a, size_t alen, const uint8_t *b,
                        size_t blen)
{
    char *ha, *hb;

    if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0))
        return 1;
    ha = testlib_hex(a, alen);
    hb = testlib_hex(b, blen);
    printf("%s:%d: bytes differ\n  got:  %s\n  want: %s\n", file, line, ha, hb);
    free(ha);
    free(hb);
    return 0;
}

int testlib_run(void)
{
    unsigned run, failed;

    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    run = CU_get_number_of_tests_run();
    failed = CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    /* A skipped test returns early and so counts as run and passed in CUnit's figures. */
    printf("cmk-tests: %u passed, %u failed, %u skipped\n", run - failed - skipped, failed,
           skipped);
    return failed == 0 ? 0 : 1;
}

void testlib_child_count(int pid, TESTLIB_CHILDREN *c)
{
    int status;

    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        c->failed++;
    else if (WIFEXITED(status))
        WEXITSTATUS(status) == 0 ? c->ok++ : c->failed++;
    else if (WTERMSIG(status) == SIGALRM)
        c->hung++;
    else
        c->crashed++;
}
