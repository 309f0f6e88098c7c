/*
 * cmd_key.c - `cmk key VERB`: the key life cycle (docs/cmk-key.md), kept in the token.
 * This file: the verb table, create, rotate and update; cmd_key_show.c: list, show, public,
 * check; cmd_key_life.c: disable, enable, delete, recover, purge.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmds.h"
#include "key.h"
#include "key_cmds.h"
#include "token.h"
#include "../pkcs11/p11_data.h"

#define CLI_DEFAULT_BITS 2048

typedef struct create_args {
    const char *name, *kty, *import;
    unsigned bits, ops;
    long long not_before, expires;
    unsigned rotate_after_days, retention_days;
    int purge_protection, json;
} create_args;

int cli_days_parse(const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    if (*s < '0' || *s > '9' || *end != '\0' || v < min || v > max)
        return 0;
    *out = (unsigned)v;
    return 1;
}

static int create_opt(create_args *a, int c, const char *arg)
{
    switch (c) {
    case 'k':
        a->kty = arg;
        return strcmp(arg, "RSA-HSM") == 0 || strcmp(arg, "RSA") == 0
                   ? CMK_EXIT_OK
                   : cli_fail(CMK_EXIT_USAGE, "--kty is RSA-HSM or RSA");
    case 's':
        a->bits = (unsigned)strtoul(arg, NULL, 10);
        return a->bits == 2048 || a->bits == 3072 || a->bits == 4096
                   ? CMK_EXIT_OK
                   : cli_fail(CMK_EXIT_USAGE, "--size is 2048, 3072 or 4096");
    case 'i':
        a->import = arg;
        return CMK_EXIT_OK;
    case 'o':
        return (a->ops = ks_ops_parse(arg)) != 0
                   ? CMK_EXIT_OK
                   : cli_fail(CMK_EXIT_USAGE, "--ops is wrap,unwrap and/or sign,verify (in pairs)");
    case 'n':
    case 'e': {
        long long t = ks_time_parse(arg);

        if (t < 0)
            return cli_fail(CMK_EXIT_USAGE,
                            "'%s' is not a time (2026-12-31, "
                            "2026-12-31T08:00:00Z, @SECONDS or +30d)",
                            arg);
        *(c == 'n' ? &a->not_before : &a->expires) = t;
        return CMK_EXIT_OK;
    }
    case 'r':
        return cli_days_parse(arg, 1, 36500, &a->rotate_after_days)
                   ? CMK_EXIT_OK
                   : cli_fail(CMK_EXIT_USAGE, "--rotate-after is a number of days (1..36500)");
    case 'R':
        return cli_days_parse(arg, KS_RETENTION_MIN_DAYS, KS_RETENTION_MAX_DAYS, &a->retention_days)
                   ? CMK_EXIT_OK
                   : cli_fail(CMK_EXIT_USAGE, "--retention-days is %d..%d", KS_RETENTION_MIN_DAYS,
                              KS_RETENTION_MAX_DAYS);
    case 'p':
        a->purge_protection = 1;
        return CMK_EXIT_OK;
    case 'j':
        a->json = 1;
        return CMK_EXIT_OK;
    default:
        return cli_fail(CMK_EXIT_USAGE, "unknown option or missing value (see cmk(1))");
    }
}

static int create_args_parse(create_args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"kty", required_argument, NULL, 'k'},
        {"size", required_argument, NULL, 's'},
        {"import", required_argument, NULL, 'i'},
        {"ops", required_argument, NULL, 'o'},
        {"not-before", required_argument, NULL, 'n'},
        {"expires", required_argument, NULL, 'e'},
        {"rotate-after", required_argument, NULL, 'r'},
        {"retention-days", required_argument, NULL, 'R'},
        {"purge-protection", no_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    int c, rc;

    a->ops = KS_OP_WRAP | KS_OP_UNWRAP;
    a->retention_days = KS_RETENTION_MAX_DAYS;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if ((rc = create_opt(a, c, optarg)) != CMK_EXIT_OK)
            return rc;
    if (optind + 1 != argc)
        return cli_fail(CMK_EXIT_USAGE, "usage: cmk key create NAME [--kty RSA-HSM|RSA] "
                                        "[--size BITS] [--import FILE] [--ops OPS] ...");
    a->name = argv[optind];
    if (a->kty == NULL)
        a->kty = a->import != NULL ? "RSA" : "RSA-HSM";
    if (strcmp(a->kty, "RSA") == 0 && a->import == NULL)
        return cli_fail(CMK_EXIT_USAGE, "--kty RSA imports your key: give --import FILE");
    if (strcmp(a->kty, "RSA-HSM") == 0 && a->import != NULL)
        return cli_fail(CMK_EXIT_USAGE, "an RSA-HSM key is made in the token: drop --import, or "
                                        "use --kty RSA");
    if (a->expires != 0 && a->not_before != 0 && a->expires <= a->not_before)
        return cli_fail(CMK_EXIT_USAGE, "--expires must come after --not-before");
    if (!cli_name_ok(a->name))
        return cli_fail(CMK_EXIT_USAGE, "'%s' is not a key name (1-64 of A-Z a-z 0-9 . _ -)",
                        a->name);
    return CMK_EXIT_OK;
}

/* Makes one new version of key name in the token: generated, or imported from file. */
int cli_version_new(cmk_cli *cli, const char *name, const char *import, unsigned bits, unsigned ops,
                    char hex[2 * P11_VERSION_ID_BYTES + 1], unsigned *bits_out)
{
    p11_token *t = cli_token(cli);
    uint8_t id[P11_VERSION_ID_BYTES];
    CK_RV rv;
    int rc;

    if (t == NULL)
        return CMK_EXIT_CONFIG;
    if (!cli_version_id_new(id))
        return cli_fail(CMK_EXIT_FAIL, "no random bytes for a version id");
    for (size_t i = 0; i < sizeof(id); i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    if (import != NULL) {
        rc = cli_key_import(t, name, id, sizeof(id), import, bits, ks_ops_p11(ops), bits_out);
        return rc;
    }
    rv = p11_key_generate(t, name, id, sizeof(id), bits, ks_ops_p11(ops));
    if (rv != CKR_OK)
        return cli_fail(CMK_EXIT_FAIL, "key '%s': %s", name, p11_err_detail());
    *bits_out = bits;
    return CMK_EXIT_OK;
}

/* A name is free when neither a state object nor key objects carry it. */
static int name_free(cmk_cli *cli, p11_token *t, const char *name)
{
    uint8_t *val = NULL;
    size_t len = 0, nv = 0;
    p11_version *v = NULL;
    ks_state st;
    const char *why;
    CK_RV rv = p11_data_get(t, KS_APP, name, &val, &len);

    if (rv == CKR_OK) {
        int deleted = ks_state_parse(val, len, &st, &why) && st.deleted_at != 0;

        free(val);
        if (deleted)
            return cli_key_refuse(cli, name, NULL, "create",
                                  "the name '%s' is held by a deleted key: recover or purge it "
                                  "first",
                                  name);
        return cli_key_refuse(cli, name, NULL, "create", "a key named '%s' already exists", name);
    }
    if (rv != P11_R_OBJECT_NOT_FOUND)
        return cli_fail(CMK_EXIT_FAIL, "key '%s': %s", name, p11_err_detail());
    rv = p11_versions_get(t, name, &v, &nv);
    p11_versions_free(v, nv);
    if (rv != CKR_OK)
        return cli_fail(CMK_EXIT_FAIL, "key '%s': %s", name, p11_err_detail());
    if (nv > 0)
        return cli_key_refuse(cli, name, NULL, "create",
                              "token '%s' already holds RSA keys labelled '%s' that cmk did not "
                              "make",
                              p11_token_label(t), name);
    return CMK_EXIT_OK;
}

static int cmd_key_create(cmk_cli *cli, int argc, char **argv)
{
    create_args a = {0};
    cli_key k = {0};
    char hex[2 * P11_VERSION_ID_BYTES + 1];
    p11_token *t;
    unsigned bits = 0;
    int rc;

    if ((rc = create_args_parse(&a, argc, argv)) != CMK_EXIT_OK)
        return rc;
    if ((t = cli_token(cli)) == NULL)
        return CMK_EXIT_CONFIG;
    if ((rc = name_free(cli, t, a.name)) != CMK_EXIT_OK)
        return rc;
    snprintf(k.name, sizeof(k.name), "%s", a.name);
    snprintf(k.st.kind, sizeof(k.st.kind), "%s", a.kty);
    k.st.ops = a.ops;
    k.st.bits = a.bits != 0 ? a.bits : CLI_DEFAULT_BITS;
    k.st.created = (long long)time(NULL);
    k.st.not_before = a.not_before;
    k.st.expires = a.expires;
    k.st.rotate_after_days = a.rotate_after_days;
    k.st.retention_days = a.retention_days;
    k.st.purge_protection = a.purge_protection;
    /* The state object claims the name first; it goes again if the key cannot be made. */
    if ((rc = cli_key_state_put(cli, &k)) != CMK_EXIT_OK)
        return rc;
    rc = cli_version_new(cli, a.name, a.import, a.import != NULL ? a.bits : k.st.bits, a.ops, hex,
                         &bits);
    if (rc != CMK_EXIT_OK) {
        p11_data_destroy(t, KS_APP, a.name);
        cli_audit(cli, a.name, NULL, "create", "failed", p11_err_detail());
        return rc;
    }
    if (bits != k.st.bits) { /* an imported key's size is its own */
        k.st.bits = bits;
        if ((rc = cli_key_state_put(cli, &k)) != CMK_EXIT_OK)
            return rc;
    }
    if ((rc = cli_audit(cli, a.name, hex, "create", "ok", a.kty)) != CMK_EXIT_OK)
        return rc;
    if (a.json)
        return cli_key_show_json(cli, a.name);
    printf("created key %s (%s, %u bits), version %s\n", a.name, a.kty, bits, hex);
    return CMK_EXIT_OK;
}

/* Rotates one key: a new version of the same size and operations becomes current. */
int cli_key_rotate(cmk_cli *cli, cli_key *k, const char *import, int quiet)
{
    char hex[2 * P11_VERSION_ID_BYTES + 1];
    const char *status = cli_key_status(k, (long long)time(NULL));
    unsigned bits = 0;
    int rc;

    if (strcmp(status, "deleted") == 0)
        return cli_key_refuse(cli, k->name, NULL, "rotate",
                              "key '%s' is deleted: recover it before rotating", k->name);
    if (strcmp(status, "disabled") == 0)
        return cli_key_refuse(cli, k->name, NULL, "rotate",
                              "key '%s' is disabled: enable it before rotating", k->name);
    if (strcmp(k->st.kind, "RSA") == 0 && import == NULL)
        return cli_key_refuse(cli, k->name, NULL, "rotate",
                              "key '%s' is your own (RSA, imported): rotate it with --import FILE",
                              k->name);
    if (strcmp(k->st.kind, "RSA-HSM") == 0 && import != NULL)
        return cli_fail(CMK_EXIT_USAGE, "key '%s' is made in the token (RSA-HSM): drop --import",
                        k->name);
    rc = cli_version_new(cli, k->name, import, k->st.bits, k->st.ops, hex, &bits);
    if (rc != CMK_EXIT_OK) {
        cli_audit(cli, k->name, NULL, "rotate", "failed", p11_err_detail());
        return rc;
    }
    if ((rc = cli_audit(cli, k->name, hex, "rotate", "ok", NULL)) != CMK_EXIT_OK)
        return rc;
    if (!quiet)
        printf("rotated key %s: version %s is current\n", k->name, hex);
    return CMK_EXIT_OK;
}

/* Rotates k when its rotation policy has come due (cli_keys_each, for cron). */
static int rotate_if_due(cli_key *k, void *arg)
{
    cmk_cli *cli = arg;
    long long now = (long long)time(NULL), due = cli_key_rotation_due(k);
    const char *status = cli_key_status(k, now);

    if (due == 0 || due > now || strcmp(k->st.kind, "RSA-HSM") != 0 ||
        strcmp(status, "deleted") == 0 || strcmp(status, "disabled") == 0)
        return CMK_EXIT_OK;
    return cli_key_rotate(cli, k, NULL, 0);
}

static int cmd_key_rotate(cmk_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"due", no_argument, NULL, 'd'},
        {"import", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    const char *import = NULL;
    int c, due = 0, rc;
    cli_key k;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd')
            due = 1;
        else if (c == 'i')
            import = optarg;
        else
            return cli_fail(CMK_EXIT_USAGE, "usage: cmk key rotate NAME [--import FILE] | "
                                            "cmk key rotate --due");
    }
    if (due && optind == argc && import == NULL)
        return cli_keys_each(cli, rotate_if_due, cli);
    if (due || optind + 1 != argc)
        return cli_fail(CMK_EXIT_USAGE, "usage: cmk key rotate NAME [--import FILE] | "
                                        "cmk key rotate --due");
    if ((rc = cli_key_get(cli, argv[optind], &k)) != CMK_EXIT_OK)
        return rc;
    rc = cli_key_rotate(cli, &k, import, 0);
    cli_key_free(&k);
    return rc;
}

static const struct {
    const char *name;
    int (*fn)(cmk_cli *cli, int argc, char **argv);
    const char *help;
} key_verbs[] = {
    {"create", cmd_key_create, "make a key (RSA-HSM in the token, or RSA: import your own)"},
    {"list", cmd_key_list, "list keys (--deleted: the deleted ones)"},
    {"show", cmd_key_show, "a key's state, versions and policies"},
    {"public", cmd_key_public, "print a version's public key (PEM)"},
    {"rotate", cmd_key_rotate, "make a new current version (--due: every key due)"},
    {"update", cmd_key_update, "change expiry, rotation, retention, purge protection"},
    {"disable", cmd_key_disable, "revoke a key or one version, in the token"},
    {"enable", cmd_key_enable, "undo disable"},
    {"check", cmd_key_check, "keys whose expiry or rotation is near (exit 1 if any)"},
    {"delete", cmd_key_delete, "soft-delete (recoverable for its retention period)"},
    {"recover", cmd_key_recover, "undo delete"},
    {"purge", cmd_key_purge, "destroy a deleted key for good (--due: every one due)"},
};

int cmd_key(cmk_cli *cli, int argc, char **argv)
{
    int rc;

    if (argc >= 2)
        for (size_t i = 0; i < sizeof(key_verbs) / sizeof(key_verbs[0]); i++)
            if (strcmp(argv[1], key_verbs[i].name) == 0) {
                cli_token_lock(cli);
                rc = key_verbs[i].fn(cli, argc - 1, argv + 1);
                cli_token_close();
                cli_token_unlock();
                return rc;
            }
    fprintf(stderr, "usage: cmk key VERB [ARGS] (see cmk(1))\n\nverbs:\n");
    for (size_t i = 0; i < sizeof(key_verbs) / sizeof(key_verbs[0]); i++)
        fprintf(stderr, "  %-8s %s\n", key_verbs[i].name, key_verbs[i].help);
    return argc >= 2 ? cli_fail(CMK_EXIT_USAGE, "unknown verb 'key %s'", argv[1]) : CMK_EXIT_USAGE;
}
