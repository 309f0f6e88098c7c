/* token.c - the token the cmk command manages keys in; see token.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "key.h"
#include "token.h"
#include "../envelope/header.h"
#include "../pkcs11/p11_data.h"

static p11_module *cli_module;
static p11_token *cli_tok;

/* Opens the token and logs in now (a search needs the login), so that a wrong PIN is told as
 * a configuration error before any command starts. SoftHSM's read race (a token unseen or a
 * login failing while another process writes the token) is retried inside pkcs11/. */
static CK_RV token_open(cmk_cli *cli)
{
    char **names = NULL;
    size_t n = 0;
    CK_RV rv = p11_token_open(cli_module, cli->s.token, cli->s.pin_source, &cli_tok);

    if (rv == CKR_OK)
        rv = p11_data_labels_get(cli_tok, "cmk", &names, &n);
    p11_labels_free(names, n);
    return rv;
}

p11_token *cli_token(cmk_cli *cli)
{
    CK_RV rv;

    if (cli_tok != NULL)
        return cli_tok;
    if (cli_embedded_ensure(&cli->s) != CMK_EXIT_OK)
        return NULL;
    if (cli->s.softhsm_conf != NULL)
        setenv("SOFTHSM2_CONF", cli->s.softhsm_conf, 1);
    rv = p11_module_get(cli->s.module, cli->s.init_args, &cli_module);
    if (rv == CKR_OK)
        rv = token_open(cli);
    if (rv != CKR_OK) {
        cli_fail(CMK_EXIT_CONFIG, "%s", p11_err_detail());
        cli_token_close();
        return NULL;
    }
    return cli_tok;
}

void cli_token_close(void)
{
    p11_token_free(cli_tok);
    cli_tok = NULL;
    if (cli_module != NULL)
        p11_module_put(cli_module);
    cli_module = NULL;
}

int cli_exit_for_rv(CK_RV rv)
{
    switch (rv) {
    case CKR_PIN_INCORRECT:
    case CKR_PIN_LOCKED:
    case CKR_PIN_EXPIRED:
    case CKR_TOKEN_NOT_PRESENT:
    case P11_R_PIN_SOURCE:
    case P11_R_PIN_ALREADY_FAILED:
    case P11_R_NO_PIN:
    case P11_R_MODULE_LOAD:
    case P11_R_TOKEN_NOT_FOUND:
        return CMK_EXIT_CONFIG;
    default:
        return CMK_EXIT_FAIL;
    }
}

int cli_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 64)
        return 0;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* The current version may wrap new data: the key is not deleted, its current version is
 * enabled, it permits wrap, and now is inside its not-before/expiry window. */
static int key_current_check(cmk_cli *cli, const cli_key *k, const char *hex)
{
    char why[200];

    if (k->st.deleted_at == 0 && !cli_version_enabled(&k->v[k->nv - 1]))
        return cli_key_refuse(cli, k->name, hex, "wrap",
                              "key '%s' is disabled (current version %s): enable it to use it",
                              k->name, hex);
    if (!ks_state_wrap_ok(&k->st, (long long)time(NULL), why, sizeof(why)))
        return cli_key_refuse(cli, k->name, hex, "wrap", "key '%s' %s", k->name, why);
    return CMK_EXIT_OK;
}

int cli_key_current_get(cmk_cli *cli, const char *name, p11_key **out)
{
    p11_token *t = cli_token(cli);
    char hex[2 * P11_ID_MAX_BYTES + 1], pct[3 * P11_ID_MAX_BYTES + 1], *uri = NULL;
    const p11_version *v;
    cli_key k;
    CK_RV rv;
    int rc;

    *out = NULL;
    if (t == NULL)
        return CMK_EXIT_CONFIG;
    if ((rc = cli_key_get_for_use(cli, name, &k)) != CMK_EXIT_OK)
        return rc;
    if ((v = cli_version_find(&k, NULL)) == NULL) {
        rc = cli_fail(CMK_EXIT_FAIL, "key '%s' has no version in token '%s'", name,
                      p11_token_label(t));
        goto end;
    }
    cli_version_hex(v, hex);
    if ((rc = key_current_check(cli, &k, hex)) != CMK_EXIT_OK)
        goto end;
    /* the version by its id (RFC 7512 percent-encoding), not "the newest": it was checked */
    for (size_t i = 0; i < v->id_len; i++)
        snprintf(pct + 3 * i, 4, "%%%02x", v->id[i]);
    if (asprintf(&uri, "pkcs11:object=%s;type=private;id=%s", name, pct) < 0) {
        rc = cli_fail(CMK_EXIT_FAIL, "out of memory");
        goto end;
    }
    rv = p11_key_find(t, uri, out);
    free(uri);
    if (rv != CKR_OK)
        rc = cli_fail(cli_exit_for_rv(rv), "key '%s': %s", name, p11_err_detail());
end:
    cli_key_free(&k);
    return rc;
}

p11_key *cli_key_current(cmk_cli *cli, const char *name)
{
    p11_key *k = NULL;

    cli_key_current_get(cli, name, &k);
    return k;
}

char *cli_key_version(const p11_key *k)
{
    size_t n;
    const uint8_t *id = p11_key_id(k, &n);
    char *hex;

    /* A file's header names the version by this id (docs/format.md): a key made by another tool
     * may have none, or one too long to name. */
    if (n == 0 || 2 * n > ENV_MAX_VERSION_BYTES) {
        cli_fail(CMK_EXIT_CONFIG,
                 "key '%s' has %s CKA_ID: cmk names a key's versions by their id (1 to %d bytes); "
                 "import it with `cmk key create --import`, or set one with pkcs11-tool",
                 p11_key_label(k), n == 0 ? "no" : "too long a", ENV_MAX_VERSION_BYTES / 2);
        return NULL;
    }
    if ((hex = malloc(2 * n + 1)) == NULL) {
        cli_fail(CMK_EXIT_FAIL, "out of memory");
        return NULL;
    }

    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    hex[2 * n] = '\0';
    return hex;
}
