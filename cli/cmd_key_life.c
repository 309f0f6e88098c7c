/*
 * cmd_key_life.c - changing a key's state: `cmk key update`, `disable`, `enable`, `delete`,
 * `recover`, `purge`. Revocation is the versions' usage attributes in the token (so every
 * PKCS#11 application is refused); deletion and policies are the key's state object.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "key_cmds.h"
#include "token.h"
#include "../pkcs11/p11_data.h"

/* Parses NAME [--version V] [--due]. */
static int args_get(int argc, char **argv, const char **name, const char **version, int *due)
{
    static const struct option opts[] = {
        {"version", required_argument, NULL, 'v'},
        {"due", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 0;
    opterr = 0;
    *name = NULL;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'v' && version != NULL)
            *version = optarg;
        else if (c == 'd' && due != NULL)
            *due = 1;
        else
            return cli_fail(CMK_EXIT_USAGE, "cmk key %s: unknown option or missing value", argv[0]);
    }
    if (due != NULL && *due && optind == argc)
        return CMK_EXIT_OK;
    if (optind + 1 != argc || (due != NULL && *due))
        return cli_fail(CMK_EXIT_USAGE, "usage: cmk key %s NAME%s%s", argv[0],
                        version != NULL ? " [--version V]" : "", due != NULL ? " | --due" : "");
    *name = argv[optind];
    return CMK_EXIT_OK;
}

/* Turns the permitted operations of one version, or of all (version NULL), off or on. */
static int versions_switch(cmk_cli *cli, cli_key *k, const char *version, int on, const char *op)
{
    p11_token *t = cli_token(cli);
    const p11_version *only = NULL;
    char hex[2 * P11_ID_MAX_BYTES + 1];
    int rc = CMK_EXIT_OK;

    if (version != NULL && (only = cli_version_find(k, version)) == NULL)
        return cli_fail(CMK_EXIT_FAIL, "key '%s' has no version %s (see cmk key show %s)", k->name,
                        version, k->name);
    for (size_t i = 0; i < k->nv; i++) {
        const p11_version *v = &k->v[i];
        /* off: every usage, even one set outside cmk; on: only what the key permits */
        unsigned ops = on ? ks_ops_p11(k->st.ops) : P11_OP_DECRYPT | P11_OP_SIGN;
        CK_RV rv;

        if (only != NULL && v != only)
            continue;
        cli_version_hex(v, hex);
        rv = p11_version_ops_set(t, k->name, v->id, v->id_len, ops, on);
        if (rv != CKR_OK) {
            cli_audit(cli, k->name, hex, op, "failed", p11_err_detail());
            return cli_fail(CMK_EXIT_FAIL, "key '%s' version %s: %s", k->name, hex,
                            p11_err_detail());
        }
        if ((rc = cli_audit(cli, k->name, hex, op, "ok", NULL)) != CMK_EXIT_OK)
            return rc;
    }
    return rc;
}

static int enable_disable(cmk_cli *cli, int argc, char **argv, int on)
{
    const char *name, *version = NULL, *op = on ? "enable" : "disable";
    int rc = args_get(argc, argv, &name, &version, NULL);
    cli_key k;

    if (rc != CMK_EXIT_OK || (rc = cli_key_get(cli, name, &k)) != CMK_EXIT_OK)
        return rc;
    if (k.st.deleted_at != 0)
        rc = cli_key_refuse(cli, name, version, op, "key '%s' is deleted: recover it first", name);
    else
        rc = versions_switch(cli, &k, version, on, op);
    if (rc == CMK_EXIT_OK)
        printf("%sd key %s%s%s\n", op, name, version != NULL ? " version " : "",
               version != NULL ? version : "");
    cli_key_free(&k);
    return rc;
}

int cmd_key_disable(cmk_cli *cli, int argc, char **argv)
{
    return enable_disable(cli, argc, argv, 0);
}

int cmd_key_enable(cmk_cli *cli, int argc, char **argv)
{
    return enable_disable(cli, argc, argv, 1);
}

int cmd_key_delete(cmk_cli *cli, int argc, char **argv)
{
    const char *name;
    char hex[2 * P11_ID_MAX_BYTES + 1], t[40];
    size_t o = 0;
    int rc = args_get(argc, argv, &name, NULL, NULL);
    cli_key k;

    if (rc != CMK_EXIT_OK || (rc = cli_key_get(cli, name, &k)) != CMK_EXIT_OK)
        return rc;
    if (k.st.deleted_at != 0) {
        rc = cli_key_refuse(cli, name, NULL, "delete", "key '%s' is already deleted", name);
        goto end;
    }
    /* recover turns back on what delete turned off, and nothing else */
    k.st.recover_enable[0] = '\0';
    for (size_t i = 0; i < k.nv; i++) {
        if (!cli_version_enabled(&k.v[i]))
            continue;
        cli_version_hex(&k.v[i], hex);
        if (o + strlen(hex) + 1 > KS_RECOVER_MAX_BYTES) {
            rc = cli_fail(CMK_EXIT_FAIL,
                          "key '%s' has too many enabled versions to delete; "
                          "disable old ones first",
                          name);
            goto end;
        }
        o += (size_t)snprintf(k.st.recover_enable + o, sizeof(k.st.recover_enable) - o, "%s%s",
                              o > 0 ? "," : "", hex);
    }
    if ((rc = versions_switch(cli, &k, NULL, 0, "delete")) != CMK_EXIT_OK)
        goto end;
    k.st.deleted_at = (long long)time(NULL);
    if ((rc = cli_key_state_put(cli, &k)) != CMK_EXIT_OK)
        goto end;
    ks_time_format(k.st.deleted_at + (long long)k.st.retention_days * KS_SECONDS_PER_DAY, t,
                   sizeof(t));
    printf("deleted key %s: recoverable until %s (cmk key recover %s)\n", name, t, name);
end:
    cli_key_free(&k);
    return rc;
}

int cmd_key_recover(cmk_cli *cli, int argc, char **argv)
{
    const char *name;
    char t[40], ids[KS_RECOVER_MAX_BYTES + 1];
    long long until;
    int rc = args_get(argc, argv, &name, NULL, NULL);
    cli_key k;

    if (rc != CMK_EXIT_OK || (rc = cli_key_get(cli, name, &k)) != CMK_EXIT_OK)
        return rc;
    until = k.st.deleted_at + (long long)k.st.retention_days * KS_SECONDS_PER_DAY;
    ks_time_format(until, t, sizeof(t));
    if (k.st.deleted_at == 0)
        rc = cli_key_refuse(cli, name, NULL, "recover", "key '%s' is not deleted", name);
    else if ((long long)time(NULL) >= until)
        rc = cli_key_refuse(cli, name, NULL, "recover",
                            "key '%s' was kept until %s: its retention has run out (purge it)",
                            name, t);
    if (rc != CMK_EXIT_OK)
        goto end;
    memcpy(ids, k.st.recover_enable, sizeof(ids));
    for (char *save = NULL, *p = strtok_r(ids, ",", &save); p != NULL && rc == CMK_EXIT_OK;
         p = strtok_r(NULL, ",", &save))
        if (cli_version_find(&k, p) != NULL)
            rc = versions_switch(cli, &k, p, 1, "recover");
    if (rc != CMK_EXIT_OK)
        goto end;
    k.st.deleted_at = 0;
    k.st.recover_enable[0] = '\0';
    if ((rc = cli_key_state_put(cli, &k)) == CMK_EXIT_OK)
        printf("recovered key %s\n", name);
end:
    cli_key_free(&k);
    return rc;
}

/* Destroys every version and the state object of k, once its state allows it. */
static int purge_one(cmk_cli *cli, cli_key *k, int quiet)
{
    p11_token *t = cli_token(cli);
    long long until = k->st.deleted_at + (long long)k->st.retention_days * KS_SECONDS_PER_DAY;
    char when[40];
    size_t n = 0;
    CK_RV rv;

    ks_time_format(until, when, sizeof(when));
    if (k->st.deleted_at == 0)
        return cli_key_refuse(cli, k->name, NULL, "purge",
                              "key '%s' is not deleted: delete it first (purge is final)", k->name);
    if (k->st.purge_protection && (long long)time(NULL) < until)
        return cli_key_refuse(cli, k->name, NULL, "purge",
                              "key '%s' has purge protection: it can be purged from %s", k->name,
                              when);
    rv = p11_versions_destroy(t, k->name, &n);
    if (rv == CKR_OK)
        rv = p11_data_destroy(t, KS_APP, k->name);
    if (rv != CKR_OK) {
        cli_audit(cli, k->name, NULL, "purge", "failed", p11_err_detail());
        return cli_fail(CMK_EXIT_FAIL, "purging key '%s': %s", k->name, p11_err_detail());
    }
    snprintf(when, sizeof(when), "%zu objects", n);
    if (cli_audit(cli, k->name, NULL, "purge", "ok", when) != CMK_EXIT_OK)
        return CMK_EXIT_FAIL;
    if (!quiet)
        printf("purged key %s: %zu versions destroyed\n", k->name, n / 2);
    return CMK_EXIT_OK;
}

/* Purges k when it is deleted and its retention has run out (cli_keys_each, for cron). */
static int purge_if_due(cli_key *k, void *arg)
{
    long long now = (long long)time(NULL);

    if (k->st.deleted_at == 0 ||
        now < k->st.deleted_at + (long long)k->st.retention_days * KS_SECONDS_PER_DAY)
        return CMK_EXIT_OK;
    return purge_one(arg, k, 0);
}

int cmd_key_purge(cmk_cli *cli, int argc, char **argv)
{
    const char *name;
    int due = 0, rc = args_get(argc, argv, &name, NULL, &due);
    cli_key k;

    if (rc != CMK_EXIT_OK)
        return rc;
    if (due)
        return cli_keys_each(cli, purge_if_due, cli);
    if ((rc = cli_key_get(cli, name, &k)) != CMK_EXIT_OK)
        return rc;
    rc = purge_one(cli, &k, 0);
    cli_key_free(&k);
    return rc;
}

/* --- update: policies that may change after creation --- */

static int update_apply(cmk_cli *cli, cli_key *k, int c, const char *arg)
{
    long long t;

    switch (c) {
    case 'n':
    case 'e':
        if (strcmp(arg, "none") == 0)
            t = 0;
        else if ((t = ks_time_parse(arg)) < 0)
            return cli_fail(CMK_EXIT_USAGE,
                            "'%s' is not a time (2026-12-31, @SECONDS, +30d or "
                            "none)",
                            arg);
        *(c == 'n' ? &k->st.not_before : &k->st.expires) = t;
        break;
    case 'r':
        if (strcmp(arg, "none") == 0)
            k->st.rotate_after_days = 0;
        else if (!cli_days_parse(arg, 1, 36500, &k->st.rotate_after_days))
            return cli_fail(CMK_EXIT_USAGE, "--rotate-after is 1..36500 days or none");
        break;
    case 'R':
        if (!cli_days_parse(arg, KS_RETENTION_MIN_DAYS, KS_RETENTION_MAX_DAYS,
                            &k->st.retention_days))
            return cli_fail(CMK_EXIT_USAGE, "--retention-days is %d..%d", KS_RETENTION_MIN_DAYS,
                            KS_RETENTION_MAX_DAYS);
        break;
    case 'p':
        k->st.purge_protection = 1;
        break;
    case 'P':
        if (k->st.purge_protection)
            return cli_key_refuse(cli, k->name, NULL, "update",
                                  "key '%s' has purge protection: it cannot be turned off",
                                  k->name);
        break;
    default:
        return cli_fail(CMK_EXIT_USAGE, "usage: cmk key update NAME [--not-before T|none] "
                                        "[--expires T|none] [--rotate-after DAYS|none] "
                                        "[--retention-days N] [--purge-protection]");
    }
    return CMK_EXIT_OK;
}

int cmd_key_update(cmk_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"not-before", required_argument, NULL, 'n'},
        {"expires", required_argument, NULL, 'e'},
        {"rotate-after", required_argument, NULL, 'r'},
        {"retention-days", required_argument, NULL, 'R'},
        {"purge-protection", no_argument, NULL, 'p'},
        {"no-purge-protection", no_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    struct {
        int c;
        char *arg;
    } seen[16];
    int n = 0, c, rc;
    cli_key k;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1 && n < 16) {
        seen[n].c = c;
        seen[n++].arg = optarg;
    }
    if (optind + 1 != argc || n == 0)
        return cli_fail(CMK_EXIT_USAGE, "usage: cmk key update NAME [--not-before T|none] "
                                        "[--expires T|none] [--rotate-after DAYS|none] "
                                        "[--retention-days N] [--purge-protection]");
    if ((rc = cli_key_get(cli, argv[optind], &k)) != CMK_EXIT_OK)
        return rc;
    if (k.st.deleted_at != 0)
        rc = cli_key_refuse(cli, k.name, NULL, "update", "key '%s' is deleted: recover it first",
                            k.name);
    for (int i = 0; i < n && rc == CMK_EXIT_OK; i++)
        rc = update_apply(cli, &k, seen[i].c, seen[i].arg);
    if (rc == CMK_EXIT_OK && k.st.expires != 0 && k.st.not_before >= k.st.expires)
        rc = cli_fail(CMK_EXIT_USAGE, "expires must come after not-before");
    if (rc == CMK_EXIT_OK && (rc = cli_key_state_put(cli, &k)) == CMK_EXIT_OK &&
        (rc = cli_audit(cli, k.name, NULL, "update", "ok", NULL)) == CMK_EXIT_OK)
        printf("updated key %s\n", k.name);
    cli_key_free(&k);
    return rc;
}
