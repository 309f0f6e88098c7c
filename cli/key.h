/*
 * key.h - a customer-managed key as the management plane sees it: its state object and its
 * versions, both read from the token (design.md, "Key kinds and life cycle").
 *
 * Key-level state lives in one CKO_DATA object per key (keystate/keystate.h).
 *
 * Per-version state (enabled/disabled) is the versions' usage attributes in the token.
 */
#ifndef CMK_CLI_KEY_H
#define CMK_CLI_KEY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "cli.h"
#include "../keystate/keystate.h"
#include "../pkcs11/p11_version.h"

/* A key: its state and versions (oldest first, so the last is current). */
typedef struct cli_key {
    char name[65];
    ks_state st;
    p11_version *v;
    size_t nv;
} cli_key;

/* Reads key name from the token. Returns CMK_EXIT_OK, or prints why and returns an exit code
 * (CMK_EXIT_FAIL when there is no such key). */
int cli_key_get(cmk_cli *cli, const char *name, cli_key *k);
/* The same for the data plane: a key made by another tool (RSA objects labelled name but no
 * state object) is accepted, held only to its usage attributes. */
int cli_key_get_for_use(cmk_cli *cli, const char *name, cli_key *k);
void cli_key_free(cli_key *k);
/* Calls fn for every key (state object) in the token; a key that cannot be read, or fn not
 * returning CMK_EXIT_OK, makes the result CMK_EXIT_FAIL, but the walk goes on. */
int cli_keys_each(cmk_cli *cli, int (*fn)(cli_key *k, void *arg), void *arg);
/* Writes k->st back to the token. */
int cli_key_state_put(cmk_cli *cli, cli_key *k);

/* A version's state, from its usage attributes: 1 enabled, 0 disabled. */
int cli_version_enabled(const p11_version *v);
/* The version whose hex id is hex (NULL: the current one); NULL when none. */
const p11_version *cli_version_find(const cli_key *k, const char *hex);
/* Hex of a version id into buf (2 * P11_ID_MAX_BYTES + 1). */
void cli_version_hex(const p11_version *v, char *buf);
/* A new version id: microseconds since the epoch (big-endian) || 4 random bytes. */
int cli_version_id_new(uint8_t id[P11_VERSION_ID_BYTES]);
/* When a version was made (from its id), seconds; 0 when the id is not a cmk version id. */
long long cli_version_created(const p11_version *v);

/* Key status: "enabled", "disabled", "deleted", "not-yet-valid", "expired". */
const char *cli_key_status(const cli_key *k, long long now);

/* The SHA-256 fingerprint (hex) of a version's SubjectPublicKeyInfo, and its PEM. */
int cli_version_fingerprint(const p11_version *v, char hex[65]);
int cli_version_pem_write(const p11_version *v, FILE *out);

/* Appends an audit record (key, version hex or NULL, op, outcome, detail); a failure to log is
 * reported on stderr and returned as CMK_EXIT_FAIL so that no operation goes unrecorded
 * silently. */
int cli_audit(cmk_cli *cli, const char *key, const char *version, const char *op,
              const char *outcome, const char *detail);
/* Prints msg (one line, exit code CMK_EXIT_REFUSED), records it in the audit log as a refusal
 * of op, and returns CMK_EXIT_REFUSED. */
int cli_key_refuse(cmk_cli *cli, const char *key, const char *version, const char *op,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Path of the audit log: the `audit-log` setting, $CMK_AUDIT_LOG, else
 * $XDG_DATA_HOME/cmk/audit.log (~/.local/share/cmk/audit.log); NULL when none can be named. */
char *cli_audit_path(const cmk_cli *cli);
/* The same, with the log's folder made (mode 0700) when it is missing. */
char *cli_audit_path_ready(const cmk_cli *cli);

#endif
