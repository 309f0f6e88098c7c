/*
 * keystate.h - a customer-managed key's key-level state, as kept in the token and read by both
 * the cmk command and the provider (no OpenSSL types; the token is reached through pkcs11/).
 *
 * Key-level state lives in one CKO_DATA object per key (CKA_APPLICATION "cmk", CKA_LABEL the
 * key's name); its CKA_VALUE is the encoding below (docs/cmk-key.md, "State object"):
 *   v=1\n updated=MICROSECONDS(20 digits)\n kind=RSA-HSM|RSA\n ops=wrap,unwrap[,sign,verify]\n
 * bits=2048\n created=SECONDS\n not-before=SECONDS\n expires=SECONDS\n rotate-after-days=N\n
 * retention-days=N\n purge-protection=0|1\n deleted-at=SECONDS\n recover-enable=HEXID,HEXID...\n
 * `updated` comes first and is zero-padded so that, when two writers raced and the token holds
 * two objects for a moment, the newer state is the greater value (p11_data.h).
 * Times are seconds since the epoch, 0 meaning none. Lines are "name=value", at most
 * KS_LINE_MAX bytes; unknown names are refused so that a newer writer is not silently
 * misread (a new field bumps v).
 *
 */
#ifndef CMK_KEYSTATE_H
#define CMK_KEYSTATE_H

#include <stddef.h>
#include <stdint.h>
#include "../pkcs11/p11_data.h"
#include "../pkcs11/p11_token.h"

#define KS_APP                "cmk"
#define KS_VERSION            1
#define KS_LINE_MAX           1024
#define KS_RECOVER_MAX_BYTES  800 /* hex ids re-enabled on recover, comma-separated */
#define KS_RETENTION_MIN_DAYS 7
#define KS_RETENTION_MAX_DAYS 90
#define KS_SECONDS_PER_DAY    86400

/* Permitted operations (--ops). wrap/unwrap and sign/verify go in pairs in the token. */
#define KS_OP_WRAP   0x01u
#define KS_OP_UNWRAP 0x02u
#define KS_OP_SIGN   0x04u
#define KS_OP_VERIFY 0x08u

typedef struct ks_state {
    char kind[16]; /* "RSA-HSM" or "RSA" as created */
    unsigned ops;  /* KS_OP_* */
    unsigned bits;
    long long updated;                                  /* microseconds, when written */
    long long created, not_before, expires, deleted_at; /* seconds; 0: none */
    unsigned rotate_after_days, retention_days;
    int purge_protection;
    char recover_enable[KS_RECOVER_MAX_BYTES + 1];
} ks_state;

/* Parses a state object's value; 0 with *why set when it is not a valid v=1 encoding. */
int ks_state_parse(const uint8_t *buf, size_t len, ks_state *s, const char **why);
/* Formats s into buf (cap bytes); returns the length, or 0 when it does not fit. */
size_t ks_state_format(const ks_state *s, char *buf, size_t cap);

/* "wrap,unwrap" <-> KS_OP_*; 0 when a name is unknown or a pair is split. */
unsigned ks_ops_parse(const char *s);
void ks_ops_format(unsigned ops, char *buf, size_t cap);
/* KS_OP_* -> P11_OP_* (the token's pairs). */
unsigned ks_ops_p11(unsigned ops);

/* Times: "2026-11-25T16:52:27Z", "2026-11-25" (midnight UTC), "@SECONDS", "+30d"/"+12h"
 * (from now); -1 when not a time. Format writes RFC 3339 UTC ("-" for 0). */
long long ks_time_parse(const char *s);
void ks_time_format(long long t, char *buf, size_t cap);

/* Reads key name's state object from the token: CKR_OK, P11_R_OBJECT_NOT_FOUND (no state
 * object: not a key cmk made), or another CK_RV with p11_err_detail set (a state object that
 * does not parse is P11_R_BAD_ARGUMENT, the detail saying why). hint (may be NULL) remembers
 * where the object is, so that the next read costs one C_GetAttributeValue instead of a search
 * (p11_data_get_hinted): the value is read afresh either way. */
CK_RV ks_state_get(p11_token *t, const char *name, p11_data_hint *hint, ks_state *s);

/* May the key wrap (or sign) new data now? 1, or 0 with why (one line: "is deleted (since
 * T)", "is not valid before T", "expired on T", "is not permitted to wrap"). Unwrap is never
 * refused here: the token itself refuses a disabled or deleted key's unwrap. */
int ks_state_wrap_ok(const ks_state *s, long long now, char *why, size_t cap);
/* The same for a new signature: "is not permitted to sign" when the key was made without
 * sign,verify; "expired on T: it still verifies, but signs nothing new". */
int ks_state_sign_ok(const ks_state *s, long long now, char *why, size_t cap);

#endif
