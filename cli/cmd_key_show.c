/*
 * cmd_key_show.c - reading keys: `cmk key list`, `show`, `public`, `check`. The --json shapes
 * are documented in docs/cmk-key.md and stay stable (new fields may be added, none removed).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "key_cmds.h"
#include "token.h"
#include "../pkcs11/p11_data.h"

#define CLI_CHECK_DEFAULT_DAYS 30

long long cli_key_rotation_due(const cli_key *k)
{
    long long created = k->nv > 0 ? cli_version_created(&k->v[k->nv - 1]) : 0;

    if (k->st.rotate_after_days == 0 || created == 0)
        return 0;
    return created + (long long)k->st.rotate_after_days * KS_SECONDS_PER_DAY;
}

static long long purge_date(const cli_key *k)
{
    return k->st.deleted_at != 0
               ? k->st.deleted_at + (long long)k->st.retention_days * KS_SECONDS_PER_DAY
               : 0;
}

/* The kind the token's attributes prove: generated in it and never out of it, or imported. */
static const char *version_kind(const p11_version *v)
{
    const p11_key_attrs *a = &v->attrs;

    return a->local && a->never_extractable && a->always_sensitive ? "RSA-HSM" : "RSA";
}

static json_object *json_time(long long t)
{
    char buf[40];

    if (t == 0)
        return NULL;
    ks_time_format(t, buf, sizeof(buf));
    return json_object_new_string(buf);
}

static json_object *version_json(const cli_key *k, const p11_version *v)
{
    json_object *o = json_object_new_object();
    char hex[2 * P11_ID_MAX_BYTES + 1], fp[65];

    cli_version_hex(v, hex);
    cli_version_fingerprint(v, fp);
    json_object_object_add(o, "id", json_object_new_string(hex));
    json_object_object_add(o, "created", json_time(cli_version_created(v)));
    json_object_object_add(o, "state",
                           json_object_new_string(cli_version_enabled(v) ? "enabled" : "disabled"));
    json_object_object_add(o, "current", json_object_new_boolean(v == &k->v[k->nv - 1]));
    json_object_object_add(o, "kind", json_object_new_string(version_kind(v)));
    json_object_object_add(o, "size", json_object_new_int((int)(v->n_len * 8)));
    json_object_object_add(o, "fingerprint_sha256", json_object_new_string(fp));
    return o;
}

static json_object *key_json(const cli_key *k, long long now)
{
    json_object *o = json_object_new_object(), *ops = json_object_new_array(), *vs;
    char opbuf[64], hex[2 * P11_ID_MAX_BYTES + 1];

    ks_ops_format(k->st.ops, opbuf, sizeof(opbuf));
    for (char *save = NULL, *p = strtok_r(opbuf, ",", &save); p; p = strtok_r(NULL, ",", &save))
        json_object_array_add(ops, json_object_new_string(p));
    json_object_object_add(o, "name", json_object_new_string(k->name));
    json_object_object_add(
        o, "kind", json_object_new_string(k->nv > 0 ? version_kind(&k->v[k->nv - 1]) : k->st.kind));
    json_object_object_add(o, "status", json_object_new_string(cli_key_status(k, now)));
    json_object_object_add(o, "size", json_object_new_int((int)k->st.bits));
    json_object_object_add(o, "operations", ops);
    json_object_object_add(o, "created", json_time(k->st.created));
    json_object_object_add(o, "not_before", json_time(k->st.not_before));
    json_object_object_add(o, "expires", json_time(k->st.expires));
    json_object_object_add(
        o, "rotate_after_days",
        k->st.rotate_after_days ? json_object_new_int((int)k->st.rotate_after_days) : NULL);
    json_object_object_add(o, "rotation_due", json_time(cli_key_rotation_due(k)));
    json_object_object_add(o, "retention_days", json_object_new_int((int)k->st.retention_days));
    json_object_object_add(o, "purge_protection", json_object_new_boolean(k->st.purge_protection));
    json_object_object_add(o, "deleted_at", json_time(k->st.deleted_at));
    json_object_object_add(o, "purge_date", json_time(purge_date(k)));
    if (k->nv > 0)
        cli_version_hex(&k->v[k->nv - 1], hex);
    json_object_object_add(o, "current_version", k->nv > 0 ? json_object_new_string(hex) : NULL);
    vs = json_object_new_array();
    for (size_t i = 0; i < k->nv; i++)
        json_object_array_add(vs, version_json(k, &k->v[i]));
    json_object_object_add(o, "versions", vs);
    return o;
}

static void json_print(json_object *o)
{
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

int cli_key_show_json(cmk_cli *cli, const char *name)
{
    cli_key k;
    int rc = cli_key_get(cli, name, &k);

    if (rc != CMK_EXIT_OK)
        return rc;
    json_print(key_json(&k, (long long)time(NULL)));
    cli_key_free(&k);
    return CMK_EXIT_OK;
}

static void key_text(const cli_key *k, long long now)
{
    char ops[64], t1[40], t2[40], hex[2 * P11_ID_MAX_BYTES + 1], fp[65];
    const p11_version *cur = k->nv > 0 ? &k->v[k->nv - 1] : NULL;

    ks_ops_format(k->st.ops, ops, sizeof(ops));
    printf("name:             %s\n", k->name);
    printf("kind:             %s\n", cur != NULL ? version_kind(cur) : k->st.kind);
    printf("status:           %s\n", cli_key_status(k, now));
    printf("size:             %u\n", k->st.bits);
    printf("operations:       %s\n", ops);
    ks_time_format(k->st.created, t1, sizeof(t1));
    printf("created:          %s\n", t1);
    ks_time_format(k->st.not_before, t1, sizeof(t1));
    ks_time_format(k->st.expires, t2, sizeof(t2));
    printf("not-before:       %s\nexpires:          %s\n", t1, t2);
    ks_time_format(cli_key_rotation_due(k), t1, sizeof(t1));
    if (k->st.rotate_after_days != 0)
        printf("rotation:         every %u days, next due %s\n", k->st.rotate_after_days, t1);
    else
        printf("rotation:         by hand\n");
    printf("retention:        %u days\n", k->st.retention_days);
    printf("purge-protection: %s\n", k->st.purge_protection ? "on" : "off");
    ks_time_format(k->st.deleted_at, t1, sizeof(t1));
    ks_time_format(purge_date(k), t2, sizeof(t2));
    printf("deleted-at:       %s\npurge-date:       %s\n", t1, t2);
    if (cur != NULL)
        cli_version_hex(cur, hex);
    printf("current-version:  %s\nversions:\n", cur != NULL ? hex : "-");
    for (size_t i = 0; i < k->nv; i++) {
        cli_version_hex(&k->v[i], hex);
        ks_time_format(cli_version_created(&k->v[i]), t1, sizeof(t1));
        cli_version_fingerprint(&k->v[i], fp);
        printf("  %s  %s  %-8s  %s  sha256:%s%s\n", hex, t1,
               cli_version_enabled(&k->v[i]) ? "enabled" : "disabled", version_kind(&k->v[i]), fp,
               &k->v[i] == cur ? "  (current)" : "");
    }
}

/* Parses NAME [--json] [--version V]; version may be NULL when not accepted. */
static int name_args(int argc, char **argv, const char **name, int *json, const char **version)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"version", required_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j' && json != NULL)
            *json = 1;
        else if (c == 'v' && version != NULL)
            *version = optarg;
        else
            return cli_fail(CMK_EXIT_USAGE, "cmk key %s: unknown option or missing value", argv[0]);
    }
    if (optind + 1 != argc)
        return cli_fail(CMK_EXIT_USAGE, "usage: cmk key %s NAME%s%s", argv[0],
                        version != NULL ? " [--version V]" : "", json != NULL ? " [--json]" : "");
    *name = argv[optind];
    return CMK_EXIT_OK;
}

int cmd_key_show(cmk_cli *cli, int argc, char **argv)
{
    const char *name;
    int json = 0, rc = name_args(argc, argv, &name, &json, NULL);
    cli_key k;

    if (rc != CMK_EXIT_OK)
        return rc;
    if (json || cli->json)
        return cli_key_show_json(cli, name);
    if ((rc = cli_key_get(cli, name, &k)) != CMK_EXIT_OK)
        return rc;
    key_text(&k, (long long)time(NULL));
    cli_key_free(&k);
    return CMK_EXIT_OK;
}

int cmd_key_public(cmk_cli *cli, int argc, char **argv)
{
    const char *name, *version = NULL;
    const p11_version *v;
    int rc = name_args(argc, argv, &name, NULL, &version);
    cli_key k;

    if (rc != CMK_EXIT_OK || (rc = cli_key_get(cli, name, &k)) != CMK_EXIT_OK)
        return rc;
    if ((v = cli_version_find(&k, version)) == NULL)
        rc = cli_fail(CMK_EXIT_FAIL, "key '%s' has no version %s", name,
                      version != NULL ? version : "(none at all)");
    else if (!cli_version_pem_write(v, stdout))
        rc = cli_fail(CMK_EXIT_FAIL, "key '%s': cannot write its public key", name);
    if (rc == CMK_EXIT_OK)
        rc = cli_audit(cli, name, version, "get", "ok", "public key");
    cli_key_free(&k);
    return rc;
}

struct list_arg {
    int deleted, json;
    long long now;
    json_object *arr;
};

static int list_one(cli_key *k, void *arg)
{
    struct list_arg *a = arg;
    char hex[2 * P11_ID_MAX_BYTES + 1] = "-";

    if ((k->st.deleted_at != 0) != a->deleted)
        return CMK_EXIT_OK;
    if (a->json) {
        json_object_array_add(a->arr, key_json(k, a->now));
        return CMK_EXIT_OK;
    }
    if (k->nv > 0)
        cli_version_hex(&k->v[k->nv - 1], hex);
    printf("%-24s %-13s %-7s %5u %3zu  %s\n", k->name, cli_key_status(k, a->now),
           k->nv > 0 ? version_kind(&k->v[k->nv - 1]) : k->st.kind, k->st.bits, k->nv, hex);
    return CMK_EXIT_OK;
}

int cmd_key_list(cmk_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"deleted", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    struct list_arg a = {0, cli->json, (long long)time(NULL), NULL};
    json_object *o;
    int c, rc;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j')
            a.json = 1;
        else if (c == 'd')
            a.deleted = 1;
        else
            return cli_fail(CMK_EXIT_USAGE, "usage: cmk key list [--deleted] [--json]");
    }
    if (optind != argc)
        return cli_fail(CMK_EXIT_USAGE, "usage: cmk key list [--deleted] [--json]");
    if (a.json)
        a.arr = json_object_new_array();
    else
        printf("%-24s %-13s %-7s %5s %3s  %s\n", "NAME", "STATUS", "KIND", "BITS", "VER",
               "CURRENT");
    rc = cli_keys_each(cli, list_one, &a);
    if (a.json) {
        o = json_object_new_object();
        json_object_object_add(o, "keys", a.arr);
        json_print(o);
    }
    return rc;
}

struct check_arg {
    long long now, horizon;
    int json, found;
    json_object *arr;
};

static void check_report(struct check_arg *a, const cli_key *k, const char *what, long long when)
{
    char t[40];

    a->found++;
    ks_time_format(when, t, sizeof(t));
    if (a->json) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(k->name));
        json_object_object_add(o, "event", json_object_new_string(what));
        json_object_object_add(o, "at", json_object_new_string(t));
        json_object_object_add(o, "overdue", json_object_new_boolean(when <= a->now));
        json_object_array_add(a->arr, o);
    } else {
        printf("%s: %s %s %s\n", k->name, what, when <= a->now ? "was due" : "due", t);
    }
}

static int check_one(cli_key *k, void *arg)
{
    struct check_arg *a = arg;
    long long due = cli_key_rotation_due(k);

    if (k->st.deleted_at != 0)
        return CMK_EXIT_OK;
    if (k->st.expires != 0 && k->st.expires <= a->horizon)
        check_report(a, k, "expiry", k->st.expires);
    if (due != 0 && due <= a->horizon)
        check_report(a, k, "rotation", due);
    return CMK_EXIT_OK;
}

int cmd_key_check(cmk_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"within", required_argument, NULL, 'w'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct check_arg a = {(long long)time(NULL), 0, cli->json, 0, NULL};
    unsigned days = CLI_CHECK_DEFAULT_DAYS;
    int c, rc;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'w' && cli_days_parse(optarg, 0, 36500, &days))
            continue;
        if (c == 'j') {
            a.json = 1;
            continue;
        }
        return cli_fail(CMK_EXIT_USAGE, "usage: cmk key check [--within DAYS] [--json]");
    }
    if (optind != argc)
        return cli_fail(CMK_EXIT_USAGE, "usage: cmk key check [--within DAYS] [--json]");
    a.horizon = a.now + (long long)days * KS_SECONDS_PER_DAY;
    if (a.json)
        a.arr = json_object_new_array();
    rc = cli_keys_each(cli, check_one, &a);
    if (a.json) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "within_days", json_object_new_int((int)days));
        json_object_object_add(o, "due", a.arr);
        json_print(o);
    }
    if (rc != CMK_EXIT_OK)
        return rc;
    return a.found > 0 ? CMK_EXIT_FAIL : CMK_EXIT_OK;
}
