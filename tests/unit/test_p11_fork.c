/* test_p11_fork.c - after fork() a child re-initializes the module, drops the parent's
 * sessions without closing them, logs in again, re-finds handles and decrypts; the parent
 * carries on undisturbed. */
#include <sys/wait.h>
#include "test_p11_util.h"
#include "../../pkcs11/p11_data.h"

static int suite_setup(void)
{
    return tu_oaep_setup("fork");
}

/* Runs child() in a forked child; returns its exit status (0 = all well). */
static int in_child(int (*child)(void), int use_exit)
{
    int status = -1;
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int rc = child();

        fflush(stdout);
        if (use_exit)
            exit(rc); /* atexit handlers run: the module must not be finalized by them */
        _exit(rc);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static unsigned long parent_gen;

static int child_decrypts(void)
{
    if (!tu_oaep_decrypt_ok())
        return 1;
    if (p11_module_generation(tu_module) != parent_gen + 1)
        return 2;
    if (p11_token_session_count(tu_token) != 1) /* the parent's are not counted */
        return 3;
    return tu_oaep_decrypt_ok() ? 0 : 4;
}

static void test_fork_child_decrypts(void)
{
    unsigned long logins = tu_token->login_calls;

    CU_ASSERT_TRUE_FATAL(tu_oaep_decrypt_ok()); /* the parent has a session and handles now */
    parent_gen = p11_module_generation(tu_module);
    CU_ASSERT_EQUAL(in_child(child_decrypts, 0), 0);
    /* the parent is undisturbed: same generation, its sessions and login still good */
    CU_ASSERT_EQUAL(p11_module_generation(tu_module), parent_gen);
    CU_ASSERT_TRUE(tu_oaep_decrypt_ok());
    CU_ASSERT_EQUAL(tu_token->login_calls, logins);
}

static p11_data_hint hint;
static char data_label[64];

static int hinted_get_ok(const char *want)
{
    uint8_t *v = NULL;
    size_t len = 0;
    int ok = p11_data_get_hinted(tu_token, "cmk-test", data_label, &hint, &v, &len) == CKR_OK &&
             len == strlen(want) && memcmp(v, want, len) == 0;

    free(v);
    return ok;
}

/* The parent's remembered handle belongs to its epoch: the child searches again, reads the
 * value, and remembers its own handle, for its own epoch. */
static int child_reads_data(void)
{
    unsigned long parent_epoch = atomic_load(&hint.epoch);

    if (!hinted_get_ok("forked"))
        return 1;
    return atomic_load(&hint.epoch) != parent_epoch && hinted_get_ok("forked") ? 0 : 2;
}

static void test_fork_child_reads_remembered_data(void)
{
    snprintf(data_label, sizeof(data_label), "%s", tu_label("forkdata"));
    CU_ASSERT_EQUAL_FATAL(
        p11_data_put(tu_token, "cmk-test", data_label, (const uint8_t *)"forked", 6, 1), CKR_OK);
    CU_ASSERT_TRUE_FATAL(hinted_get_ok("forked"));
    CU_ASSERT_NOT_EQUAL(atomic_load(&hint.epoch), 0);
    CU_ASSERT_EQUAL(in_child(child_reads_data, 0), 0);
    CU_ASSERT_TRUE(hinted_get_ok("forked"));
    CU_ASSERT_EQUAL(p11_data_destroy(tu_token, "cmk-test", data_label), CKR_OK);
}

static int grandchild(void)
{
    return tu_oaep_decrypt_ok() ? 0 : 1;
}

static int child_forks_again(void)
{
    if (!tu_oaep_decrypt_ok())
        return 1;
    return in_child(grandchild, 0) == 0 && tu_oaep_decrypt_ok() ? 0 : 2;
}

static void test_fork_grandchild_decrypts(void)
{
    CU_ASSERT_EQUAL(in_child(child_forks_again, 0), 0);
}

static void test_fork_child_exits_normally(void)
{
    /* exit() runs OpenSSL's and libc's atexit handlers; SoftHSM must not be finalized then */
    CU_ASSERT_EQUAL(in_child(grandchild, 1), 0);
}

static int child_generates_and_finds(void)
{
    p11_key *k = NULL;
    const char *label = tu_label("child");
    char uri[128];

    snprintf(uri, sizeof(uri), "pkcs11:object=%s", label);
    if (p11_key_generate(tu_token, label, NULL, 0, 2048, P11_OP_DECRYPT) != CKR_OK ||
        p11_key_find(tu_token, uri, &k) != CKR_OK) {
        printf("child: %s\n", p11_err_detail());
        return 1;
    }
    p11_key_free(k);
    return 0;
}

static void test_fork_child_makes_keys(void)
{
    CU_ASSERT_EQUAL(in_child(child_generates_and_finds, 0), 0);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("p11_fork", suite_setup, tu_oaep_teardown);
    CU_add_test(s, "fork_child_decrypts", test_fork_child_decrypts);
    CU_add_test(s, "fork_grandchild_decrypts", test_fork_grandchild_decrypts);
    CU_add_test(s, "fork_child_reads_remembered_data", test_fork_child_reads_remembered_data);
    CU_add_test(s, "fork_child_exits_normally", test_fork_child_exits_normally);
    CU_add_test(s, "fork_child_makes_keys", test_fork_child_makes_keys);
    return testlib_run();
}
