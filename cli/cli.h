/*
 * cli.h - what the `cmk` command's files share: settings, exit codes, the one way to fail.
 *
 * Every verb is `int cmd_<verb>(cmk_cli *cli, int argc, char **argv)` returning an exit code.
 * A failure prints exactly one line on stderr, "cmk: <what failed>: <why>", that a user can act
 * on (cli_fail), and returns the exit code that classifies it.
 */
#ifndef CMK_CLI_H
#define CMK_CLI_H

#include <openssl/types.h>

/* Exit codes (documented in docs/cmk.md). */
enum {
    CMK_EXIT_OK = 0,
    CMK_EXIT_FAIL = 1,     /* the operation failed: bad data, I/O, a refused key */
    CMK_EXIT_USAGE = 2,    /* the command line is wrong */
    CMK_EXIT_CONFIG = 3,   /* module, token, PIN or config file problem */
    CMK_EXIT_REFUSED = 4,  /* the key's state forbids it: disabled, deleted, expired */
    CMK_EXIT_TAMPERED = 5, /* the data did not authenticate */
};

typedef struct cmk_settings {
    char *module;        /* PKCS#11 module path or p11-kit name */
    char *token;         /* pkcs11: URI naming the token */
    char *pin_source;    /* file:PATH or env:VAR */
    char *init_args;     /* C_Initialize pReserved, or NULL */
    char *softhsm_conf;  /* SOFTHSM2_CONF to set before loading the module, or NULL */
    char *provider;      /* path of cmk.so */
    char *cache_seconds; /* how long an unwrapped intermediate key is reused; "0": never */
    char *audit_log;     /* the audit log's path, or NULL for the default (key.h) */
    int embedded;        /* the settings are the embedded SoftHSM token's */
} cmk_settings;

typedef struct cmk_cli {
    cmk_settings s;
    OSSL_LIB_CTX *libctx; /* with the cmk provider configured from s; made on first use */
    int json;
} cmk_cli;

int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The code of the last cli_fail, for a caller that learnt of the failure only from a NULL
 * (CMK_EXIT_FAIL if nothing failed). */
int cli_failed(void);

/* settings.c: reads --config FILE / $CMK_CONFIG, else the embedded token (made at first use).
 * Flags given on the command line override what the file says. */
int cli_settings_load(cmk_settings *s, const char *config_path);
void cli_settings_free(cmk_settings *s);

/* embedded.c: the default token under $XDG_DATA_HOME/cmk (or ~/.local/share/cmk). */
int cli_embedded_settings(cmk_settings *s);
/* Makes the embedded token if the settings are its and it does not exist yet (first use);
 * verbs that need no token (inspect) never make it. */
int cli_embedded_ensure(const cmk_settings *s);

/* ossl.c: the library context for the data plane, with the provider loaded from s. */
OSSL_LIB_CTX *cli_libctx(cmk_cli *cli);
/* The pkcs11: URI of one key version (id_hex may be NULL: the key's current version). */
char *cli_key_uri(const cmk_cli *cli, const char *name, const char *id_hex);

#endif
