/*
 * key.h - a customer-managed key as the management plane sees it: its state object and its
 * versions, both read from the token (design.md, "Key kinds and life cycle").
 *
 * Key-level state lives in one CKO_DATA object per key (CKA_APPLICATION "cmk", CKA_LABEL the
 * key's name); its CKA_VALUE is the encoding below (docs/cmk-key.md, "State object"):
 *   v=1\n updated=MICROSECONDS(20 digits)\n kind=RSA-HSM|RSA\n ops=wrap,unwrap[,sign,verify]\n
 * bits=2048\n created=SECONDS\n not-before=SECONDS\n expires=SECONDS\n rotate-after-days=N\n
 * retention-days=N\n purge-protection=0|1\n deleted-at=SECONDS\n recover-enable=HEXID,HEXID...\n
 * `updated` comes first and is zero-padded so that, when two writers raced and the token holds
 * two objects for a moment, the newer state is the greater value (p11_data.h).
 * Times are seconds since the epoch, 0 meaning none. Lines are "name=value", at most
 * CLI_STATE_LINE_MAX bytes; unknown names are refused so that a newer writer is not silently
 * misread (a new field bumps v).
 *
 * Per-version state (enabled/disabled) is the versions' usage attributes in the token.
 */
#ifndef CMK_CLI_KEY_H
#define CMK_CLI_KEY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "cli.h"
#include "../pkcs11/p11_version.h"

#define CLI_STATE_APP          "cmk"
#define CLI_STATE_VERSION      1
#define CLI_STATE_LINE_MAX     1024
#define CLI_RECOVER_MAX_BYTES  800 /* hex ids re-enabled on recover, comma-separated */
#define CLI_RETENTION_MIN_DAYS 7
#define CLI_RETENTION_MAX_DAYS 90
#define CLI_SECONDS_PER_DAY    86400

/* Permitted operations (--ops). wrap/unwrap and sign/verify go in pairs in the token. */
#define CLI_OP_WRAP   0x01u
#define CLI_OP_UNWRAP 0x02u
#define CLI_OP_SIGN   0x04u
#define CLI_OP_VERIFY 0x08u

typedef struct cli_key_state {
    char kind[16]; /* "RSA-HSM" or "RSA" as created */
    unsigned ops;  /* CLI_OP_* */
    unsigned bits;
    long long updated;                                  /* microseconds, when written */
    long long created, not_before, expires, deleted_at; /* seconds; 0: none */
    unsigned rotate_after_days, retention_days;
    int purge_protection;
    char recover_enable[CLI_RECOVER_MAX_BYTES + 1];
} cli_key_state;

/* Parses a state object's value; 0 with *why set when it is not a valid v=1 encoding. */
int cli_key_state_parse(const uint8_t *buf, size_t len, cli_key_state *s, const char **why);
/* Formats s into buf (cap bytes); returns the length, or 0 when it does not fit. */
size_t cli_key_state_format(const cli_key_state *s, char *buf, size_t cap);

/* "wrap,unwrap" <-> CLI_OP_*; 0 when a name is unknown or a pair is split. */
unsigned cli_ops_parse(const char *s);
void cli_ops_format(unsigned ops, char *buf, size_t cap);
/* CLI_OP_* -> P11_OP_* (the token's pairs). */
unsigned cli_ops_p11(unsigned ops);

/* A key: its state and versions (oldest first, so the last is current). */
typedef struct cli_key {
    char name[65];
    cli_key_state st;
    p11_version *v;
    size_t nv;
} cli_key;

/* Reads key name from the token. Returns CMK_EXIT_OK, or prints why and returns an exit code
 * (CMK_EXIT_FAIL when there is no such key). */
int cli_key_get(cmk_cli *cli, const char *name, cli_key *k);
void cli_key_free(cli_key *k);
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

/* Times: "2026-11-25T16:52:27Z", "2026-11-25" (midnight UTC), "@SECONDS", "+30d"/"+12h"
 * (from now); -1 when not a time. Format writes RFC 3339 UTC ("-" for 0). */
long long cli_time_parse(const char *s);
void cli_time_format(long long t, char *buf, size_t cap);

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

#endif
