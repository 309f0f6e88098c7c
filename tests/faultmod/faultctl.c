/*
 * faultctl.c - the control file of cmk-faultmod.so: which calls fail, are delayed, or find the
 * token gone. The file is read at every call and parsed again when its bytes differ from the
 * last ones parsed: file timestamps are too coarse (a tick) to tell two quick writes apart.
 * Rules keep their counters while the text is the same, so "once" fires once per text.
 *
 * Lines (docs/testing-faults.md):
 *     FUNCTION once   CKR [skip=N] [after]    the next call (after N more) fails with CKR
 *     FUNCTION always CKR [skip=N] [after]    every call (after the first N) fails with CKR
 *     FUNCTION delay  Nms                     every call waits N ms first
 *     token removed                           the token is gone (see faultmod.c)
 *     token moved                             the token is back in another slot
 * FUNCTION is C_Xxx or "all" (every function but C_Initialize, C_Finalize, C_GetInfo and
 * C_GetFunctionList); CKR a CKR_* name or a number; '#' starts a comment.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "faultmod.h"
#include "../../pkcs11/p11_rv.h"

#define CTL_MAX_BYTES 8192
#define CTL_MAX_RULES 64
#define FN_ALL        (-2)

typedef enum rule_mode { RULE_ONCE, RULE_ALWAYS, RULE_DELAY } rule_mode;

typedef struct rule {
    int fn; /* index into faultmod.c's table, or FN_ALL */
    rule_mode mode;
    CK_RV rv;
    unsigned long skip, seen;
    int after, fired;
    unsigned delay_ms;
} rule;

static struct {
    pthread_mutex_t lock;
    char text[CTL_MAX_BYTES];
    size_t len;
    rule rules[CTL_MAX_RULES];
    int nrules;
    int removed, moved;
} ctl = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A CKR by name (the names p11_rv_name knows) or by number. */
static int rv_parse(const char *s, CK_RV *rv)
{
    char *end;

    if (strncmp(s, "CKR_", 4) != 0) {
        *rv = strtoul(s, &end, 0);
        return *end == '\0' && end != s;
    }
    for (CK_RV v = 0; v < 0x400; v++) {
        if (strcmp(p11_rv_name(v), s) == 0) {
            *rv = v;
            return 1;
        }
    }
    if (strcmp(p11_rv_name(CKR_VENDOR_DEFINED), s) == 0) {
        *rv = CKR_VENDOR_DEFINED;
        return 1;
    }
    return 0;
}

/* One line into r; returns 1 for a rule, 0 for nothing (comment, "token ..."), -1 bad. */
static int line_parse(char *line, rule *r)
{
    char *save = NULL, *w[6] = {0};
    int n = 0;

    line[strcspn(line, "#")] = '\0';
    for (char *tok = strtok_r(line, " \t\r", &save); tok != NULL && n < 6;
         tok = strtok_r(NULL, " \t\r", &save))
        w[n++] = tok;
    if (n == 0)
        return 0;
    if (n == 2 && strcmp(w[0], "token") == 0 && strcmp(w[1], "removed") == 0) {
        ctl.removed = 1;
        return 0;
    }
    if (n == 2 && strcmp(w[0], "token") == 0 && strcmp(w[1], "moved") == 0) {
        ctl.moved = 1;
        return 0;
    }
    memset(r, 0, sizeof(*r));
    r->fn = strcmp(w[0], "all") == 0 ? FN_ALL : fault_fn_index(w[0]);
    if (r->fn == -1 || n < 3)
        return -1;
    if (strcmp(w[1], "delay") == 0) {
        char *end;

        r->mode = RULE_DELAY;
        r->delay_ms = (unsigned)strtoul(w[2], &end, 10);
        return n == 3 && end != w[2] && (*end == '\0' || strcmp(end, "ms") == 0) ? 1 : -1;
    }
    if (strcmp(w[1], "once") == 0)
        r->mode = RULE_ONCE;
    else if (strcmp(w[1], "always") == 0)
        r->mode = RULE_ALWAYS;
    else
        return -1;
    if (!rv_parse(w[2], &r->rv) || r->rv == CKR_OK)
        return -1;
    for (int i = 3; i < n; i++) {
        if (strcmp(w[i], "after") == 0)
            r->after = 1;
        else if (strncmp(w[i], "skip=", 5) == 0)
            r->skip = strtoul(w[i] + 5, NULL, 10);
        else
            return -1;
    }
    return 1;
}

/* Called with ctl.lock held: the rules of a new text. A bad line is said on stderr and
 * ignored (the test that wrote it then fails for want of its fault). */
static void ctl_parse(const char *text, size_t len)
{
    char buf[CTL_MAX_BYTES + 1], *save = NULL;
    int lineno = 0;

    memcpy(ctl.text, text, len);
    ctl.len = len;
    memcpy(buf, text, len);
    buf[len] = '\0';
    ctl.nrules = 0;
    ctl.removed = 0;
    ctl.moved = 0;
    for (char *line = strtok_r(buf, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char copy[256];
        int r;

        lineno++;
        snprintf(copy, sizeof(copy), "%s", line);
        if (ctl.nrules == CTL_MAX_RULES)
            break;
        r = line_parse(line, &ctl.rules[ctl.nrules]);
        if (r < 0)
            fprintf(stderr, "cmk-faultmod: control line %d not understood: %s\n", lineno, copy);
        else
            ctl.nrules += r;
    }
}

/* The control file's bytes; len 0 when there is none. */
static size_t ctl_read(char *buf)
{
    const char *path = getenv("CMK_FAULT_CONTROL");
    size_t len = 0;
    ssize_t n;
    int fd;

    if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    while (len < CTL_MAX_BYTES && (n = read(fd, buf + len, CTL_MAX_BYTES - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    return len;
}

static void fault_log(const char *name, const char *what)
{
    const char *path = getenv("CMK_FAULT_LOG");
    char line[160];
    int fd, n;

    if (path == NULL || (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return;
    n = snprintf(line, sizeof(line), "%s %s\n", name, what);
    if (write(fd, line, (size_t)n) != n)
        fprintf(stderr, "cmk-faultmod: cannot write the log\n");
    close(fd);
}

/* Called with ctl.lock held: counts the call against every rule naming fn; the first rule
 * whose turn it is decides. */
static void rules_apply(int fn, fault_kind kind, fault_verdict *v)
{
    for (int i = 0; i < ctl.nrules; i++) {
        rule *r = &ctl.rules[i];
        int fires;

        if (r->fn != fn && !(r->fn == FN_ALL && kind != FK_MODULE))
            continue;
        if (r->mode == RULE_DELAY) {
            if (r->delay_ms > v->delay_ms)
                v->delay_ms = r->delay_ms;
            continue;
        }
        r->seen++;
        fires = r->seen > r->skip && (r->mode == RULE_ALWAYS || !r->fired);
        if (fires && v->rv == CKR_OK) {
            r->fired = 1;
            v->rv = r->rv;
            v->forward = r->after;
        }
    }
}

void fault_decide(int fn, const char *name, fault_kind kind, fault_verdict *v)
{
    char buf[CTL_MAX_BYTES], what[96];
    size_t len = ctl_read(buf);

    memset(v, 0, sizeof(*v));
    pthread_mutex_lock(&ctl.lock);
    if (len != ctl.len || memcmp(buf, ctl.text, len) != 0)
        ctl_parse(buf, len);
    rules_apply(fn, kind, v);
    v->removed = ctl.removed;
    v->moved = ctl.moved;
    pthread_mutex_unlock(&ctl.lock);
    if (v->delay_ms > 0) {
        struct timespec ts = {v->delay_ms / 1000, (long)(v->delay_ms % 1000) * 1000000L};

        snprintf(what, sizeof(what), "delay %ums", v->delay_ms);
        fault_log(name, what);
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    if (v->rv != CKR_OK) {
        snprintf(what, sizeof(what), "%s%s", p11_rv_name(v->rv), v->forward ? " after" : "");
        fault_log(name, what);
    } else if (v->removed && kind != FK_MODULE && kind != FK_CLOSE) {
        fault_log(name, "removed");
    }
}
