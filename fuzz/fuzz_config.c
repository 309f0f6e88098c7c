/*
 * fuzz_config.c - the text formats cmk reads back from disk or from the token: the `cmk`
 * config file (cli/settings.c, read through a path: the input is an in-memory file named by
 * /proc/self/fd/N), a key's state object (keystate/keystate.c) and the audit log's records
 * (audit/audit_read.c, one line and a whole log); its first line also goes to the option
 * values keystate parses (times, --ops). Every input goes to all of them.
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *   - a config that loads has module and token, and nothing leaks when it is freed;
 *   - a state object that parses formats to one that parses and formats to the same text;
 *   - an audit line that parses has a 64-hex prev and hash; verifying a log terminates with a
 *     report whose reason is a NUL-terminated line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz_util.h"
#include "../audit/audit.h"
#include "../cli/cli.h"
#include "../keystate/keystate.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* settings.c reads $CMK_CONFIG only when given no path; it is always given one here */
    unsetenv("CMK_CONFIG");
    return 0;
}

static void config_check(int fd)
{
    char path[64];
    cmk_settings s = {0};

    fuzz_fd_path(fd, path, sizeof(path));
    lseek(fd, 0, SEEK_SET);
    if (cli_settings_load(&s, path) == CMK_EXIT_OK)
        FUZZ_CHECK(s.module != NULL && s.token != NULL && !s.embedded);
    cli_settings_free(&s);
}

static void state_check(const uint8_t *data, size_t size)
{
    ks_state s, back;
    const char *why = NULL;
    char buf[4096], again[4096];
    size_t n;

    if (!ks_state_parse(data, size, &s, &why)) {
        FUZZ_CHECK(why != NULL);
        return;
    }
    n = ks_state_format(&s, buf, sizeof(buf));
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK(ks_state_parse((const uint8_t *)buf, n, &back, &why));
    /* the same state: the same canonical text (bytes past a string's NUL may differ) */
    FUZZ_CHECK(ks_state_format(&back, again, sizeof(again)) == n && memcmp(buf, again, n) == 0);
}

/* The first line as an option value: a time (--expires, --since) and an --ops list. */
static void values_check(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    char *v = fuzz_str(data, nl != NULL ? (size_t)(nl - data) : size), t[64], ops[64];
    long long when = ks_time_parse(v);
    unsigned o = ks_ops_parse(v);

    ks_time_format(when, t, sizeof(t));
    FUZZ_CHECK(memchr(t, '\0', sizeof(t)) != NULL);
    if (o != 0) {
        ks_ops_format(o, ops, sizeof(ops));
        FUZZ_CHECK(ks_ops_parse(ops) == o);
    }
    free(v);
}

static void audit_check(const uint8_t *data, size_t size, int fd)
{
    const uint8_t *nl = memchr(data, '\n', size);
    audit_record r;
    audit_report rep;
    char path[64];

    if (audit_line_parse((const char *)data, nl != NULL ? (size_t)(nl - data) : size, &r))
        FUZZ_CHECK(strlen(r.prev) == AUDIT_HASH_HEX && strlen(r.hash) == AUDIT_HASH_HEX);
    fuzz_fd_path(fd, path, sizeof(path));
    FUZZ_CHECK(audit_log_verify(path, &rep) == 0);
    FUZZ_CHECK(memchr(rep.why, '\0', sizeof(rep.why)) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so that a read past its end is caught */
    uint8_t *copy = malloc(size > 0 ? size : 1);
    int fd;

    memcpy(copy, data, size);
    fd = fuzz_fd_with(copy, size);
    config_check(fd);
    state_check(copy, size);
    values_check(copy, size);
    audit_check(copy, size, fd);
    close(fd);
    free(copy);
    return 0;
}
