/* test_provider_fork.c - a child made by fork() unwraps with the key its parent loaded (and
 * used) before the fork, through a new EVP_PKEY_CTX and through one the parent had set up; the
 * parent goes on unwrapping afterwards; children running side by side and a grandchild do too.
 * (PKCS#11 v2.40 section 6.6: a child must re-initialize the module; cmk does it for them.)
 * A successful unwrap leaves nothing on the caller's error queue, in the child too. A process
 * whose other threads are unwrapping when it forks has children that unwrap too (none may hang
 * or crash: each has CHILD_SECONDS to finish). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/err.h>
#include "testlib.h"
#include "testprov.h"

#define KEYS          8
#define BUSY_THREADS  4
#define BUSY_FORKS    40
#define CHILD_SECONDS 5

static OSSL_LIB_CTX *libctx;
static const char *skip_why;
static EVP_PKEY *key;
static testprov_wrapped keys[KEYS];

/* Unwraps every test key with ctx (a new one per key when ctx is NULL); returns how many
 * failed or gave a wrong plaintext, printing the first error under who. Errors a success
 * left on the queue are cleared (counted as bad only in the test for them). */
static int check_queue; /* also count a success that left errors on the queue as bad */

static unsigned unwrap_all(EVP_PKEY_CTX *ctx, const char *who)
{
    unsigned bad = 0;

    for (size_t i = 0; i < KEYS; i++) {
        EVP_PKEY_CTX *c = ctx != NULL ? ctx : testprov_unwrap_ctx(libctx, key);
        int r = testprov_unwrap_check(c, &keys[i]);
        /* A success leaves the application's error queue as it was (empty). */
        int stale = check_queue && r == 1 && ERR_peek_error() != 0;

        if ((r != 1 || stale) && bad++ == 0) {
            char *e = testprov_errors();

            printf("%s (pid %d): key %zu: %s %s\n", who, (int)getpid(), i,
                   r < 0   ? "wrong plaintext"
                   : stale ? "unwrapped, but left errors on the queue:"
                           : "unwrap failed:",
                   e);
            free(e);
        }
        if (c != ctx)
            EVP_PKEY_CTX_free(c);
        ERR_clear_error();
    }
    return bad;
}

/* Forks a child that runs unwrap_all (with ctx, or new ctxs) and exits with 0 when all were
 * right; returns its pid. */
static pid_t child_unwrap(EVP_PKEY_CTX *ctx, const char *who)
{
    pid_t pid;

    fflush(NULL);
    if ((pid = fork()) == 0)
        _exit(unwrap_all(ctx, who) == 0 ? 0 : 1);
    return pid;
}

static int child_status(pid_t pid)
{
    int status;

    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    if (WIFSIGNALED(status))
        printf("child %d died of signal %d\n", (int)pid, WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_child_unwraps_key_parent_only_loaded(void)
{
    if (testprov_unwrap_skipped(__func__, key, skip_why))
        return;
    CU_ASSERT_EQUAL(child_status(child_unwrap(NULL, "child of a parent that never unwrapped")), 0);
}

static void test_child_unwrap_leaves_error_queue_empty(void)
{
    if (testprov_unwrap_skipped(__func__, key, skip_why))
        return;
    ERR_clear_error();
    check_queue = 1;
    CU_ASSERT_EQUAL(unwrap_all(NULL, "parent"), 0);
    CU_ASSERT_EQUAL(child_status(child_unwrap(NULL, "child")), 0);
    check_queue = 0;
}

static void test_child_unwraps_with_key_loaded_before_fork(void)
{
    EVP_PKEY_CTX *ctx;

    if (testprov_unwrap_skipped(__func__, key, skip_why))
        return;
    ERR_clear_error();
    ctx = testprov_unwrap_ctx(libctx, key);
    CU_ASSERT_EQUAL(unwrap_all(ctx, "parent before fork"), 0); /* sessions exist now */
    CU_ASSERT_EQUAL(child_status(child_unwrap(NULL, "child, new ctx")), 0);
    CU_ASSERT_EQUAL(child_status(child_unwrap(ctx, "child, parent's ctx")), 0);
    CU_ASSERT_EQUAL(unwrap_all(ctx, "parent after the children"), 0);
    CU_ASSERT_EQUAL(unwrap_all(NULL, "parent after the children, new ctx"), 0);
    EVP_PKEY_CTX_free(ctx);
}

static void test_children_side_by_side_and_parent_meanwhile(void)
{
    pid_t a, b;
    unsigned parent_bad;

    if (testprov_unwrap_skipped(__func__, key, skip_why))
        return;
    a = child_unwrap(NULL, "child a");
    b = child_unwrap(NULL, "child b");
    parent_bad = unwrap_all(NULL, "parent while children run");
    CU_ASSERT_EQUAL(child_status(a), 0);
    CU_ASSERT_EQUAL(child_status(b), 0);
    CU_ASSERT_EQUAL(parent_bad, 0);
}

static void test_grandchild_unwraps(void)
{
    pid_t pid;

    if (testprov_unwrap_skipped(__func__, key, skip_why))
        return;
    fflush(NULL);
    if ((pid = fork()) == 0) {
        /* The child uses the key, then forks again. */
        unsigned bad = unwrap_all(NULL, "child");

        bad += child_status(child_unwrap(NULL, "grandchild")) != 0;
        bad += unwrap_all(NULL, "child after grandchild");
        _exit(bad == 0 ? 0 : 1);
    }
    CU_ASSERT_EQUAL(child_status(pid), 0);
}

static atomic_int busy_stop;

static void *busy_run(void *arg)
{
    EVP_PKEY_CTX *ctx = testprov_unwrap_ctx(libctx, key);

    (void)arg;
    while (!atomic_load(&busy_stop)) {
        testprov_unwrap_check(ctx, &keys[0]);
        ERR_clear_error();
    }
    EVP_PKEY_CTX_free(ctx);
    return NULL;
}

static void test_child_forked_while_threads_unwrap(void)
{
    pthread_t busy[BUSY_THREADS];
    TESTLIB_CHILDREN c = {0, 0, 0, 0};

    if (testprov_unwrap_skipped(__func__, key, skip_why))
        return;
    /* memcheck's leak check in each child (at _exit) reports as definitely lost the blocks only
     * the parent's other threads' stacks pointed to: those threads are not in the child. The
     * plain, ASan and TSan runs prove this test; valgrind would only fail it. */
    if (getenv("CMK_TEST_VALGRIND") != NULL) {
        TEST_SKIP("under valgrind a child forked while threads run reports the other threads' "
                  "blocks as leaked");
        return;
    }
    atomic_store(&busy_stop, 0);
    for (int i = 0; i < BUSY_THREADS; i++)
        CU_ASSERT_FATAL(pthread_create(&busy[i], NULL, busy_run, NULL) == 0);
    for (int i = 0; i < BUSY_FORKS; i++) {
        pid_t pid;

        usleep(20000);
        fflush(NULL);
        if ((pid = fork()) == 0) {
            EVP_PKEY_CTX *ctx;

            alarm(CHILD_SECONDS);
            ctx = testprov_unwrap_ctx(libctx, key);
            _exit(testprov_unwrap_check(ctx, &keys[1]) == 1 ? 0 : 1);
        }
        testlib_child_count(pid, &c);
    }
    atomic_store(&busy_stop, 1);
    for (int i = 0; i < BUSY_THREADS; i++)
        pthread_join(busy[i], NULL);
    printf("%d forks while %d threads unwrap: %u children unwrapped, %u failed, %u hung "
           "(killed after %d s), %u crashed\n",
           BUSY_FORKS, BUSY_THREADS, c.ok, c.failed, c.hung, CHILD_SECONDS, c.crashed);
    /* The fork waits at the p11 layer's gate until no other thread is inside SoftHSM or
     * holds a lock of the layer (docs/pkcs11-layer.md, "Locking and the gate"). */
    CU_ASSERT_EQUAL(c.ok, BUSY_FORKS);
}

int main(void)
{
    static const CU_TestInfo tests[] = {
        {"child_unwraps_key_parent_only_loaded", test_child_unwraps_key_parent_only_loaded},
        {"child_unwraps_with_key_loaded_before_fork",
         test_child_unwraps_with_key_loaded_before_fork},
        {"children_side_by_side_and_parent_meanwhile",
         test_children_side_by_side_and_parent_meanwhile},
        {"grandchild_unwraps", test_grandchild_unwraps},
        {"child_forked_while_threads_unwrap", test_child_forked_while_threads_unwrap},
        {"child_unwrap_leaves_error_queue_empty", test_child_unwrap_leaves_error_queue_empty},
        CU_TEST_INFO_NULL,
    };

    return testprov_unwrap_main("provider_fork", tests, &libctx, &key, &skip_why, keys, KEYS);
}
