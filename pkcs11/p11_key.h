/*
 * p11_key.h - a reference to an RSA key pair kept in a token.
 *
 * A p11_key names the token objects that a pkcs11: URI selects (object=, id=, type=): the
 * private key, and the public key object when the token keeps one (NSS softokn does not:
 * then the public half is read off the private key's CKA_MODULUS and CKA_PUBLIC_EXPONENT).
 * The key caches its object handles and re-finds them (by CKA_ID and CKA_LABEL) when the
 * module's generation changed (fork, token removed and back) or a handle went invalid.
 *
 * The private key's bytes never leave the token: this layer only reads public attributes and
 * asks the token to decrypt, unwrap or sign.
 *
 * Thread safety: a key is immutable after p11_key_find except for its handle cache, which is
 * guarded; references may be shared between threads.
 */
#ifndef CMK_P11_KEY_H
#define CMK_P11_KEY_H

#include <stddef.h>
#include <stdint.h>
#include "p11_data.h"
#include "p11_token.h"

typedef struct p11_key p11_key;

/* Finds exactly one RSA key matching uri's object attributes. A key with a private half is
 * preferred; a public-only key (type=public) is returned when that is all there is.
 * Fails with P11_R_OBJECT_NOT_FOUND (also when the URI's token attributes name another token)
 * or P11_R_OBJECT_AMBIGUOUS, or with P11_R_NO_PIN when nothing is visible because the token
 * needs a login and has no PIN. The key holds a reference to t. */
CK_RV p11_key_find(p11_token *t, const char *uri, p11_key **out);
p11_key *p11_key_ref(p11_key *k);
void p11_key_free(p11_key *k); /* drops a reference; NULL is a no-op */

p11_token *p11_key_token(const p11_key *k);
/* Where the key's state object (keystate/) was last found, for p11_data_get_hinted: owned by
 * the key, shared by every thread that uses it. */
p11_data_hint *p11_key_state_hint(p11_key *k);
int p11_key_has_private(const p11_key *k);
int p11_key_has_public_object(const p11_key *k);

/* Public half, big-endian without leading zeros; owned by the key. */
const uint8_t *p11_key_modulus(const p11_key *k, size_t *len);
const uint8_t *p11_key_public_exponent(const p11_key *k, size_t *len);
size_t p11_key_bits(const p11_key *k);

/* CKA_LABEL and CKA_ID (owned by the key; label NUL-terminated, may be ""). */
const char *p11_key_label(const p11_key *k);
const uint8_t *p11_key_id(const p11_key *k, size_t *len);

/* Key attributes as the token reports them. */
typedef struct p11_key_attrs {
    int sensitive, extractable, always_sensitive, never_extractable, local;
    int decrypt, encrypt, unwrap, wrap, sign, verify;
} p11_key_attrs;
CK_RV p11_key_attrs_get(p11_key *k, p11_key_attrs *out);

/* A CMK's private key must be CKA_SENSITIVE and not CKA_EXTRACTABLE: returns CKR_OK, or
 * P11_R_KEY_EXTRACTABLE / P11_R_KEY_NOT_SENSITIVE with a detail naming the key. */
CK_RV p11_key_check_cmk(p11_key *k);

/* Generates an RSA pair in the token (token objects, private half sensitive and
 * non-extractable). ops is a mask of P11_OP_*. */
#define P11_OP_DECRYPT 0x01u /* decrypt + unwrap on the private, encrypt + wrap on the public */
#define P11_OP_SIGN    0x02u /* sign on the private, verify on the public */
CK_RV p11_key_generate(p11_token *t, const char *label, const uint8_t *id, size_t id_len,
                       unsigned bits, unsigned ops);

/* Imports an RSA private key given as its CRT components (big-endian), plus its public key
 * object, both token objects; the private key is made sensitive and non-extractable. */
typedef struct p11_rsa_components {
    const uint8_t *n, *e, *d, *p, *q, *dp, *dq, *qi;
    size_t n_len, e_len, d_len, p_len, q_len, dp_len, dq_len, qi_len;
} p11_rsa_components;
CK_RV p11_key_import(p11_token *t, const char *label, const uint8_t *id, size_t id_len,
                     const p11_rsa_components *c, unsigned ops);

#endif
