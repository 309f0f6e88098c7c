/* token.c - the token the cmk command manages keys in; see token.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "token.h"

static p11_module *cli_module;
static p11_token *cli_tok;

p11_token *cli_token(cmk_cli *cli)
{
    CK_RV rv;

    if (cli_tok != NULL)
        return cli_tok;
    if (cli->s.softhsm_conf != NULL)
        setenv("SOFTHSM2_CONF", cli->s.softhsm_conf, 1);
    rv = p11_module_get(cli->s.module, cli->s.init_args, &cli_module);
    if (rv == CKR_OK)
        rv = p11_token_open(cli_module, cli->s.token, cli->s.pin_source, &cli_tok);
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

p11_key *cli_key_current(cmk_cli *cli, const char *name)
{
    p11_token *t = cli_token(cli);
    p11_key *k = NULL;
    char *uri = NULL;
    CK_RV rv;

    if (t == NULL)
        return NULL;
    if (!cli_name_ok(name)) {
        cli_fail(CMK_EXIT_USAGE, "'%s' is not a key name (1-64 of A-Z a-z 0-9 . _ -)", name);
        return NULL;
    }
    if (asprintf(&uri, "pkcs11:object=%s;type=private", name) < 0)
        return NULL;
    rv = p11_key_find(t, uri, &k);
    free(uri);
    if (rv == P11_R_OBJECT_NOT_FOUND) {
        cli_fail(CMK_EXIT_FAIL, "no key named '%s' in token '%s'", name, p11_token_label(t));
        return NULL;
    }
    if (rv != CKR_OK) {
        cli_fail(cli_exit_for_rv(rv), "key '%s': %s", name, p11_err_detail());
        return NULL;
    }
    return k;
}

char *cli_key_version(const p11_key *k)
{
    size_t n;
    const uint8_t *id = p11_key_id(k, &n);
    char *hex = malloc(2 * n + 1);

    for (size_t i = 0; hex != NULL && i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
    if (hex != NULL)
        hex[2 * n] = '\0';
    return hex;
}
