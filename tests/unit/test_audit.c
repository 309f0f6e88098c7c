/*
 * test_audit.c - the hash-chained audit log (audit/): records appended by many processes at
 * once keep one chain; a clean log verifies; a record changed, removed, swapped or cut off,
 * or the head file lost, is caught and named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testlib.h"
#include "../../audit/audit.h"

static char dir[256], path[300];

static int setup(void)
{
    snprintf(dir, sizeof(dir), "%s/cmk-audit-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    return 0;
}

static int teardown(void)
{
    char cmd[400];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

/* A fresh log of n records. */
static void log_new(int n)
{
    char head[320];

    unlink(path);
    snprintf(head, sizeof(head), "%s.head", path);
    unlink(head);
    for (int i = 0; i < n; i++) {
        char ver[32];
        audit_event ev = {"k1", ver, i % 2 ? "rotate" : "create", "ok", "tab\there, 100%"};

        snprintf(ver, sizeof(ver), "%024d", i);
        CU_ASSERT_EQUAL_FATAL(audit_log_append(path, &ev), 0);
    }
}

/* Rewrites the log through a shell command (sed/awk), as an attacker with write access would. */
static void log_edit(const char *cmd)
{
    char full[1200];

    snprintf(full, sizeof(full), "cd '%s' && %s", dir, cmd);
    CU_ASSERT_EQUAL_FATAL(system(full), 0);
}

static void verify_fails(const char *want)
{
    audit_report r;

    CU_ASSERT_EQUAL_FATAL(audit_log_verify(path, &r), 0);
    CU_ASSERT_FALSE(r.ok);
    if (strstr(r.why, want) == NULL)
        printf("\n  verify said '%s', wanted '%s'\n", r.why, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.why, want));
}

static int count_fn(const audit_record *r, void *arg)
{
    unsigned long long *n = arg;

    CU_ASSERT_EQUAL(r->seq, *n + 1);
    CU_ASSERT_STRING_EQUAL(r->detail, "tab%09here, 100%25");
    (*n)++;
    return 0;
}

static void test_clean_log_verifies_and_reads(void)
{
    audit_report r;
    unsigned long long n = 0;

    log_new(5);
    CU_ASSERT_EQUAL(audit_log_verify(path, &r), 0);
    CU_ASSERT_TRUE(r.ok);
    CU_ASSERT_EQUAL(r.records, 5);
    CU_ASSERT_EQUAL(audit_log_read(path, count_fn, &n), 0);
    CU_ASSERT_EQUAL(n, 5);
}

static void test_changed_record_is_caught(void)
{
    log_new(5);
    log_edit("sed -i '3s/op=create/op=delete/' audit.log");
    verify_fails("record 3 (line 3) was changed");
}

static void test_changed_record_with_its_hash_recomputed_is_caught(void)
{
    log_new(5);
    /* record 3 rewritten and its own hash made right: record 4 no longer chains to it */
    log_edit("line=$(sed -n 3p audit.log | sed 's/op=create/op=delete/; s/\\thash=.*//') && "
             "h=$(printf '%s' \"$line\" | sha256sum | cut -d' ' -f1) && "
             "awk -v l=\"$line\" -v h=\"$h\" 'NR==3{print l \"\\thash=\" h; next}{print}' "
             "audit.log >x && mv x audit.log");
    verify_fails("record 4 (line 4) does not chain");
}

static void test_removed_record_is_caught(void)
{
    log_new(5);
    log_edit("sed -i '2d' audit.log");
    verify_fails("records 2..2 were removed");
}

static void test_swapped_records_are_caught(void)
{
    log_new(5);
    log_edit("awk 'NR==2{keep=$0; next} NR==3{print; print keep; next}{print}' audit.log >x && "
             "mv x audit.log");
    verify_fails("reordered");
}

static void test_truncated_log_is_caught(void)
{
    log_new(5);
    log_edit("head -n 3 audit.log >x && mv x audit.log");
    verify_fails("records 4..5 were truncated");
    log_new(5);
    log_edit("truncate -s -10 audit.log");
    verify_fails("truncated (no end of line)");
}

static void test_missing_head_is_caught(void)
{
    log_new(2);
    log_edit("rm audit.log.head");
    verify_fails("head file");
}

/* Eight processes append 25 records each at once: one chain of 200, none lost. */
static void test_concurrent_appenders_keep_one_chain(void)
{
    audit_report r;
    pid_t pids[8];
    int st;

    log_new(0);
    for (int p = 0; p < 8; p++) {
        if ((pids[p] = fork()) == 0) {
            for (int i = 0; i < 25; i++) {
                audit_event ev = {"k", NULL, "unwrap", "ok", NULL};

                if (audit_log_append(path, &ev) != 0)
                    _exit(1);
            }
            _exit(0);
        }
    }
    for (int p = 0; p < 8; p++) {
        CU_ASSERT_EQUAL(waitpid(pids[p], &st, 0), pids[p]);
        CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    CU_ASSERT_EQUAL(audit_log_verify(path, &r), 0);
    CU_ASSERT_TRUE(r.ok);
    CU_ASSERT_EQUAL(r.records, 200);
}

/* A torn last line (a writer died mid-write) is reported; later appends still chain. */
static void test_torn_line_then_append(void)
{
    audit_event ev = {"k", NULL, "wrap", "ok", NULL};
    audit_report r;

    log_new(3);
    log_edit("printf 'seq=4\\ttime=' >>audit.log");
    CU_ASSERT_EQUAL(audit_log_append(path, &ev), 0);
    CU_ASSERT_EQUAL(audit_log_verify(path, &r), 0);
    CU_ASSERT_FALSE(r.ok);
    CU_ASSERT_EQUAL(r.line, 4);
}

static void test_line_parse_refuses_malformed(void)
{
    audit_record r;
    const char *good =
        "seq=1\ttime=t\tkey=k\tversion=-\top=o\toutcome=ok\tpid=1\tuser=u\tprog=p\t"
        "detail=-\tprev=0000000000000000000000000000000000000000000000000000000000000000\t"
        "hash=0000000000000000000000000000000000000000000000000000000000000000";
    char bad[600];

    CU_ASSERT_TRUE(audit_line_parse(good, strlen(good), &r));
    CU_ASSERT_FALSE(audit_line_parse(good, strlen(good) - 1, &r)); /* short hash */
    snprintf(bad, sizeof(bad), "%s\textra=1", good);
    CU_ASSERT_FALSE(audit_line_parse(bad, strlen(bad), &r));
    snprintf(bad, sizeof(bad), "seq=x%s", good + 5);
    CU_ASSERT_FALSE(audit_line_parse(bad, strlen(bad), &r));
    CU_ASSERT_FALSE(audit_line_parse(good + 1, strlen(good) - 1, &r));
    CU_ASSERT_FALSE(audit_line_parse("", 0, &r));
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("audit", setup, teardown);
    CU_add_test(s, "clean_log_verifies_and_reads", test_clean_log_verifies_and_reads);
    CU_add_test(s, "changed_record_is_caught", test_changed_record_is_caught);
    CU_add_test(s, "changed_record_with_its_hash_recomputed_is_caught",
                test_changed_record_with_its_hash_recomputed_is_caught);
    CU_add_test(s, "removed_record_is_caught", test_removed_record_is_caught);
    CU_add_test(s, "swapped_records_are_caught", test_swapped_records_are_caught);
    CU_add_test(s, "truncated_log_is_caught", test_truncated_log_is_caught);
    CU_add_test(s, "missing_head_is_caught", test_missing_head_is_caught);
    CU_add_test(s, "concurrent_appenders_keep_one_chain", test_concurrent_appenders_keep_one_chain);
    CU_add_test(s, "torn_line_then_append", test_torn_line_then_append);
    CU_add_test(s, "line_parse_refuses_malformed", test_line_parse_refuses_malformed);
    return testlib_run();
}
