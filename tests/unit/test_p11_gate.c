/* test_p11_gate.c - the gate (pkcs11/p11_gate.c) makes the points where a module's state is
 * replaced quiet ones: children forked while other threads decrypt all decrypt (none hangs or
 * crashes: each has CHILD_SECONDS); a module reloaded again and again while other threads
 * decrypt fails none of their decryptions; a reload from inside a call is refused, not a
 * deadlock; nested gets of one thread do not block a waiting reload's way in. */
#include <pthread.h>
#include <stdatomic.h>
#include "test_p11_util.h"

#define THREADS       4
#define FORKS         30
#define RELOADS       30
#define CHILD_SECONDS 5

static int suite_setup(void)
{
    return tu_oaep_setup("gate");
}

/* ---- threads that decrypt until told to stop, counting what failed ---- */

static atomic_int stop;
static atomic_uint done, bad;

static void *busy_run(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        if (!tu_oaep_decrypt_ok())
            atomic_fetch_add(&bad, 1);
        atomic_fetch_add(&done, 1);
    }
    return NULL;
}

static void busy_start(pthread_t *th)
{
    atomic_store(&stop, 0);
    atomic_store(&done, 0);
    atomic_store(&bad, 0);
    for (int i = 0; i < THREADS; i++)
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, busy_run, NULL) == 0);
    while (atomic_load(&done) < THREADS) /* every thread is at work */
        usleep(1000);
}

static void busy_stop(pthread_t *th)
{
    atomic_store(&stop, 1);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
}

static void test_gate_fork_while_threads_decrypt(void)
{
    pthread_t th[THREADS];
    TESTLIB_CHILDREN c = {0, 0, 0, 0};

    busy_start(th);
    for (int i = 0; i < FORKS; i++) {
        pid_t pid;

        usleep(10000);
        fflush(stdout);
        if ((pid = fork()) == 0) {
            alarm(CHILD_SECONDS);
            _exit(tu_oaep_decrypt_ok() ? 0 : 1);
        }
        testlib_child_count(pid, &c);
    }
    busy_stop(th);
    printf("%d forks while %d threads decrypt: %u children decrypted, %u failed, %u hung, "
           "%u crashed; the threads did %u decryptions, %u failed\n",
           FORKS, THREADS, c.ok, c.failed, c.hung, c.crashed, atomic_load(&done),
           atomic_load(&bad));
    CU_ASSERT_EQUAL(c.ok, FORKS);
    CU_ASSERT_EQUAL(atomic_load(&bad), 0);
}

static void test_gate_reload_while_threads_decrypt(void)
{
    pthread_t th[THREADS];
    unsigned long gen0 = p11_module_generation(tu_module);
    unsigned failed = 0;

    busy_start(th);
    for (int i = 0; i < RELOADS; i++) {
        usleep(5000);
        failed += p11_module_reload(tu_module, p11_module_generation(tu_module)) != CKR_OK;
    }
    busy_stop(th);
    printf("%d reloads while %d threads decrypt: %u failed; the threads did %u decryptions, "
           "%u failed\n",
           RELOADS, THREADS, failed, atomic_load(&done), atomic_load(&bad));
    CU_ASSERT_EQUAL(failed, 0);
    CU_ASSERT_EQUAL(p11_module_generation(tu_module), gen0 + RELOADS);
    CU_ASSERT_EQUAL(atomic_load(&bad), 0);
    CU_ASSERT_TRUE(tu_oaep_decrypt_ok()); /* and afterwards, in this thread */
}

static void test_gate_reload_of_a_stale_generation_is_skipped(void)
{
    unsigned long gen = p11_module_generation(tu_module);

    CU_ASSERT_EQUAL(p11_module_reload(tu_module, gen - 1), CKR_OK);
    CU_ASSERT_EQUAL(p11_module_generation(tu_module), gen);
}

static void test_gate_reload_from_inside_a_call_is_refused(void)
{
    unsigned long gen = p11_module_generation(tu_module);

    p11_gate_get();
    p11_gate_get(); /* nested: counted */
    CU_ASSERT_TRUE(p11_gate_held());
    CU_ASSERT_EQUAL(p11_module_reload(tu_module, gen), P11_R_BAD_ARGUMENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(p11_err_detail(), "inside a call"));
    p11_gate_put();
    CU_ASSERT_TRUE(p11_gate_held());
    p11_gate_put();
    CU_ASSERT_FALSE(p11_gate_held());
    CU_ASSERT_EQUAL(p11_module_generation(tu_module), gen);
    CU_ASSERT_TRUE(tu_oaep_decrypt_ok());
}

/* A thread inside the gate (nested twice) while a reload waits: its inner get and put must not
 * queue behind the reload (that would deadlock); the reload goes in once it has left. */
static atomic_int holder_stage;

static void *holder_run(void *arg)
{
    (void)arg;
    p11_gate_get();
    atomic_store(&holder_stage, 1);
    while (atomic_load(&holder_stage) != 2) /* the reload is waiting now */
        usleep(1000);
    usleep(20000);
    p11_gate_get();
    p11_gate_put();
    p11_gate_put();
    return NULL;
}

static void test_gate_nested_get_passes_a_waiting_reload(void)
{
    pthread_t th;
    unsigned long gen = p11_module_generation(tu_module);

    atomic_store(&holder_stage, 0);
    CU_ASSERT_FATAL(pthread_create(&th, NULL, holder_run, NULL) == 0);
    while (atomic_load(&holder_stage) != 1)
        usleep(1000);
    atomic_store(&holder_stage, 2);
    CU_ASSERT_EQUAL(p11_module_reload(tu_module, gen), CKR_OK);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(p11_module_generation(tu_module), gen + 1);
    CU_ASSERT_TRUE(tu_oaep_decrypt_ok());
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("p11_gate", suite_setup, tu_oaep_teardown);
    CU_add_test(s, "gate_fork_while_threads_decrypt", test_gate_fork_while_threads_decrypt);
    CU_add_test(s, "gate_reload_while_threads_decrypt", test_gate_reload_while_threads_decrypt);
    CU_add_test(s, "gate_reload_of_a_stale_generation_is_skipped",
                test_gate_reload_of_a_stale_generation_is_skipped);
    CU_add_test(s, "gate_reload_from_inside_a_call_is_refused",
                test_gate_reload_from_inside_a_call_is_refused);
    CU_add_test(s, "gate_nested_get_passes_a_waiting_reload",
                test_gate_nested_get_passes_a_waiting_reload);
    return testlib_run();
}
