/*
 * cmd_audit.c - `cmk audit [--key NAME] [--since T] [--json]` lists the audit log;
 * `cmk audit verify [--json]` checks its hash chain (audit/audit.h, docs/cmk-key.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "cmds.h"
#include "key.h"
#include "../audit/audit.h"

struct audit_list {
    const char *key;
    long long since;
    int json;
    json_object *arr;
    unsigned long shown;
};

static int list_one(const audit_record *r, void *arg)
{
    struct audit_list *a = arg;
    char t[32];

    if (a->key != NULL && strcmp(r->key, a->key) != 0)
        return 0;
    snprintf(t, sizeof(t), "%.19sZ", r->time); /* to the second, for --since */
    if (a->since > 0 && ks_time_parse(t) < a->since)
        return 0;
    a->shown++;
    if (!a->json) {
        printf("%s  %-6llu %-16s %-24s %-8s %-8s %s@%s[%ld] %s\n", r->time, r->seq, r->key,
               r->version, r->op, r->outcome, r->user, r->prog, r->pid, r->detail);
        return 0;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "seq", json_object_new_int64((int64_t)r->seq));
    json_object_object_add(o, "time", json_object_new_string(r->time));
    json_object_object_add(o, "key", json_object_new_string(r->key));
    json_object_object_add(o, "version", json_object_new_string(r->version));
    json_object_object_add(o, "op", json_object_new_string(r->op));
    json_object_object_add(o, "outcome", json_object_new_string(r->outcome));
    json_object_object_add(o, "pid", json_object_new_int64(r->pid));
    json_object_object_add(o, "user", json_object_new_string(r->user));
    json_object_object_add(o, "prog", json_object_new_string(r->prog));
    json_object_object_add(o, "detail", json_object_new_string(r->detail));
    json_object_object_add(o, "hash", json_object_new_string(r->hash));
    json_object_array_add(a->arr, o);
    return 0;
}

static int audit_verify(const char *path, int json)
{
    audit_report r;
    int err = audit_log_verify(path, &r);

    if (err != 0)
        return cli_fail(CMK_EXIT_FAIL, "audit log %s: %s", path, strerror(err));
    if (json) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "log", json_object_new_string(path));
        json_object_object_add(o, "ok", json_object_new_boolean(r.ok));
        json_object_object_add(o, "records", json_object_new_int64((int64_t)r.records));
        json_object_object_add(o, "line", r.ok ? NULL : json_object_new_int64((int64_t)r.line));
        json_object_object_add(o, "error", r.ok ? NULL : json_object_new_string(r.why));
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
    } else if (r.ok) {
        printf("audit log %s: %llu records, chain verified\n", path, r.records);
    }
    if (!r.ok)
        return json ? CMK_EXIT_TAMPERED
                    : cli_fail(CMK_EXIT_TAMPERED, "audit log %s: %s", path, r.why);
    return CMK_EXIT_OK;
}

int cmd_audit(cmk_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"since", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct audit_list a = {NULL, 0, cli->json, NULL, 0};
    char *path = cli_audit_path(cli);
    int c, rc = CMK_EXIT_OK, err;

    if (path == NULL)
        return cli_fail(CMK_EXIT_CONFIG, "no audit log: set audit-log in the config, "
                                         "CMK_AUDIT_LOG, or HOME");
    optind = 0;
    opterr = 0;
    while (rc == CMK_EXIT_OK && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'k')
            a.key = optarg;
        else if (c == 's' && (a.since = ks_time_parse(optarg)) < 0)
            rc = cli_fail(CMK_EXIT_USAGE, "--since '%s' is not a time", optarg);
        else if (c == 'j')
            a.json = 1;
        else if (c != 's')
            rc = cli_fail(CMK_EXIT_USAGE, "usage: cmk audit [--key NAME] [--since T] [--json] | "
                                          "cmk audit verify [--json]");
    }
    if (rc == CMK_EXIT_OK && optind < argc) {
        if (strcmp(argv[optind], "verify") == 0 && optind + 1 == argc && a.key == NULL)
            rc = audit_verify(path, a.json);
        else
            rc = cli_fail(CMK_EXIT_USAGE, "usage: cmk audit [--key NAME] [--since T] [--json] | "
                                          "cmk audit verify [--json]");
        free(path);
        return rc;
    }
    if (rc == CMK_EXIT_OK) {
        if (a.json)
            a.arr = json_object_new_array();
        err = audit_log_read(path, list_one, &a);
        if (err != 0 && !(err == ENOENT && a.json))
            rc = err == ENOENT ? cli_fail(CMK_EXIT_OK, "audit log %s: no records yet", path)
                               : cli_fail(CMK_EXIT_FAIL, "audit log %s: %s", path, strerror(err));
        if (a.json) {
            json_object *o = json_object_new_object();

            json_object_object_add(o, "records", a.arr);
            puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
            json_object_put(o);
        }
    }
    free(path);
    return rc;
}
