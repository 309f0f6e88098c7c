/*
 * test_fault_util.h - what the fault-injection tests share: the test token reached through
 * build/cmk-faultmod.so (docs/testing-faults.md), rules armed by rewriting its control file,
 * and the count of faults it fired, read from its log.
 *
 * tf_setup must run before tu_setup: it points CMK_TEST_MODULE at the fault module (the real
 * module goes to CMK_FAULT_MODULE), so every tu_* helper works through it.
 */
#ifndef CMK_TEST_FAULT_UTIL_H
#define CMK_TEST_FAULT_UTIL_H

#include <sys/stat.h>
#include "test_p11_util.h"

static char tf_module[4096], tf_ctl[2100], tf_log[2100];
static unsigned tf_seq;

/* Returns 0, or 1 with a message when the fault module or the test token is missing. */
static inline int tf_setup(void)
{
    const char *build = testlib_env("CMK_BUILD"), *dir = testlib_env("CMK_TEST_DIR");
    const char *real = testlib_env("CMK_TEST_MODULE");
    char sub[2048];

    if (build == NULL || dir == NULL || real == NULL) {
        printf("no test token: run through make check (tests/run.sh)\n");
        return 1;
    }
    snprintf(tf_module, sizeof(tf_module), "%s/cmk-faultmod.so", build);
    if (access(tf_module, R_OK) != 0) {
        printf("no %s: make tests builds it\n", tf_module);
        return 1;
    }
    snprintf(sub, sizeof(sub), "%s/faults-%ld", dir, (long)getpid());
    mkdir(sub, 0700);
    snprintf(tf_ctl, sizeof(tf_ctl), "%s/control", sub);
    snprintf(tf_log, sizeof(tf_log), "%s/log", sub);
    unlink(tf_ctl);
    unlink(tf_log);
    setenv("CMK_FAULT_MODULE", real, 1);
    setenv("CMK_FAULT_CONTROL", tf_ctl, 1);
    setenv("CMK_FAULT_LOG", tf_log, 1);
    setenv("CMK_TEST_MODULE", tf_module, 1);
    return 0;
}

/* Replaces the rules (lines of the control language) and empties the log. The file is
 * replaced by a rename, so the module never reads half of it; a sequence comment makes each
 * text new, so "once" rules fire again. */
static inline void tf_arm(const char *rules)
{
    char tmp[2200];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", tf_ctl);
    f = fopen(tmp, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "# %u\n%s\n", ++tf_seq, rules);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(rename(tmp, tf_ctl), 0);
    unlink(tf_log);
}

static inline void tf_clear(void)
{
    tf_arm("");
}

/* How many log lines start with what ("C_Decrypt CKR_DEVICE_REMOVED", "C_Decrypt delay"). */
static inline unsigned tf_fired(const char *what)
{
    char line[200];
    unsigned n = 0;
    FILE *f = fopen(tf_log, "r");

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        n += strncmp(line, what, strlen(what)) == 0;
    fclose(f);
    return n;
}

/* Objects of class cls labelled label on the test token, counted through the layer (faults
 * cleared first). */
static inline unsigned long tf_objects(const char *label, CK_OBJECT_CLASS cls)
{
    CK_ATTRIBUTE tmpl[] = {{CKA_LABEL, (void *)label, strlen(label)},
                           {CKA_CLASS, &cls, sizeof(cls)}};
    CK_OBJECT_HANDLE h[16];
    CK_ULONG n = 0, total = 0;
    p11_session s;

    tf_clear();
    CU_ASSERT_EQUAL_FATAL(p11_session_get(tu_token, &s), CKR_OK);
    CU_ASSERT_EQUAL(tu_token->f->C_FindObjectsInit(s.h, tmpl, 2), CKR_OK);
    while (tu_token->f->C_FindObjects(s.h, h, 16, &n) == CKR_OK && n > 0)
        total += n;
    tu_token->f->C_FindObjectsFinal(s.h);
    p11_session_put(tu_token, s);
    return total;
}

/* Does the thread's error detail name all of a, b and c? Prints it when not. */
static inline int tf_detail_names(const char *a, const char *b, const char *c)
{
    const char *d = p11_err_detail();
    int ok = strstr(d, a) != NULL && strstr(d, b) != NULL && (c == NULL || strstr(d, c) != NULL);

    if (!ok)
        printf("detail '%s' does not name '%s', '%s'%s%s\n", d, a, b, c != NULL ? ", " : "",
               c != NULL ? c : "");
    return ok;
}

#endif
