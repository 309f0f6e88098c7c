/*
 * token.h - the management plane's view of the token (through pkcs11/, never through OpenSSL).
 */
#ifndef CMK_CLI_TOKEN_H
#define CMK_CLI_TOKEN_H

#include "cli.h"
#include "../pkcs11/p11_key.h"

/* Opens (once per process) the token the settings name; NULL after printing why. */
p11_token *cli_token(cmk_cli *cli);
void cli_token_close(void);

/* Serializes the management commands of cmk on one SoftHSM token (token_lock.c): held from
 * cli_token_lock until cli_token_unlock or exit. A no-op for other modules. */
int cli_token_lock(cmk_cli *cli);
void cli_token_unlock(void);

/* The exit code for a PKCS#11 layer failure: PIN, module and token problems are configuration. */
int cli_exit_for_rv(CK_RV rv);

/* Key names are 1..64 of [A-Za-z0-9._-]: safe in a URI, a file name and a header. */
int cli_name_ok(const char *name);

/* Finds the key NAME's current version (the newest, key.h) for wrapping new data. Refused,
 * with one line saying which and CMK_EXIT_REFUSED (recorded in the audit log), when the key is
 * deleted, its current version disabled, it does not permit wrap, or now is outside its
 * not-before/expiry window. Returns CMK_EXIT_OK with *out set, or the exit code. */
int cli_key_current_get(cmk_cli *cli, const char *name, p11_key **out);
/* The same, for callers that only need the key: NULL after printing why. */
p11_key *cli_key_current(cmk_cli *cli, const char *name);
/* Hex of a key's CKA_ID (its version id), in a buffer the caller frees; NULL after printing
 * why (no CKA_ID, or one too long for a file header). */
char *cli_key_version(const p11_key *k);

#endif
