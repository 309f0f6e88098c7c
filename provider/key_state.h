/*
 * key_state.h - the provider honours the key life cycle that `cmk key` keeps in the token
 * (docs/cmk-key.md): revocation is the token's own usage attributes, the rest is the key's
 * state object (keystate/keystate.h). Every check reads the token afresh, so a change made by
 * any process is seen at the next operation (no cache, bounded time zero); only where the
 * state object is (its handle) is remembered per key, since a search of the token is what
 * costs (docs/benchmarks.md, "Key state check"). A key made by another tool has no state
 * object and never gains one (cmk key create makes it before the key, under a name no other
 * key holds): that none was found is remembered for a second (P11_DATA_ABSENT_NS).
 *
 *   load (store)          refused: a disabled version, a deleted key
 *   encrypt/encapsulate   refused: also a not-yet-valid or expired key (wraps nothing new)
 *   sign                  refused: as encrypt, and a key whose CKA_SIGN is false
 *   verify                always allowed (public key in memory)
 *   decrypt/decapsulate   the token itself refuses a disabled version; expiry never does
 *
 * Refusals are raised as CMK_R_KEY_STATE with one line saying which ("key 'app' is deleted
 * (since 2026-11-25T17:00:35Z)"). Keys without a state object (not made by cmk) are held only
 * to their usage attributes.
 *
 * Audit: with `audit-log = PATH` in the provider's openssl.cnf section, every wrap, unwrap,
 * sign and refusal appends a record to that log (audit/audit.h); without it nothing is written.
 */
#ifndef CMK_PROV_KEY_STATE_H
#define CMK_PROV_KEY_STATE_H

#include "prov.h"
#include "../pkcs11/p11_key.h"

/* 1 when key k may be loaded; 0 with the error raised and a refusal recorded. */
int cmk_key_state_load_check(CMK_PROV *prov, p11_key *k);
/* 1 when key k may wrap new data now; 0 with the error raised and a refusal recorded. */
int cmk_key_state_wrap_check(CMK_PROV *prov, p11_key *k);
/* 1 when key k may sign now; 0 with the error raised and a refusal recorded ("sign"). */
int cmk_key_state_sign_check(CMK_PROV *prov, p11_key *k);
/* Raises rv from an operation on k: a usage the token refuses (CKR_KEY_FUNCTION_NOT_PERMITTED)
 * is reported as the key's version being disabled. Records the failure as op. */
void cmk_key_state_raise_p11(CMK_PROV *prov, p11_key *k, const char *op, CK_RV rv);

/* Records op on k (k may be NULL for an in-memory key) with outcome "ok", "refused" or
 * "failed", when the provider has an audit log. */
void cmk_audit(const CMK_PROV *prov, p11_key *k, const char *op, const char *outcome,
               const char *detail);

#endif
