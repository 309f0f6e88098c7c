/*
 * p11_version.h - the versions of a customer-managed key: every RSA key pair in the token that
 * carries one CKA_LABEL (the key's name), told apart by CKA_ID (the version id). The private and
 * public halves of one version share label and id.
 *
 * Version ids made by cmk are P11_VERSION_ID_BYTES long: 8 bytes of big-endian microseconds
 * since the epoch at creation, then 4 random bytes, so that byte order is age order and two
 * versions made at once never collide. The current version is the one with the greatest id.
 * p11_key_find uses the same rule: a URI naming a label but no id= that matches several such
 * versions means the current one.
 *
 * Revocation of a version is the key's own usage attributes (PKCS#11 v2.40 section 4.8,
 * table 25: CKA_DECRYPT, CKA_UNWRAP, CKA_SIGN on the private key; CKA_ENCRYPT, CKA_WRAP,
 * CKA_VERIFY on the public key), so that every PKCS#11 application is refused, not only cmk.
 *
 * Errors: the token's CKR, or P11_R_OBJECT_NOT_FOUND / P11_R_OUT_OF_MEMORY /
 * P11_R_BAD_ARGUMENT, with a detail (p11_err_detail).
 * Thread safety: any thread; each call runs in a session of the token's pool.
 */
#ifndef CMK_P11_VERSION_H
#define CMK_P11_VERSION_H

#include <stddef.h>
#include <stdint.h>
#include "p11_key.h"

#define P11_VERSION_ID_BYTES 12 /* 8-byte big-endian microseconds || 4 random bytes */
#define P11_ID_MAX_BYTES     64 /* longest CKA_ID this layer reads into a version */

typedef struct p11_version {
    uint8_t id[P11_ID_MAX_BYTES];
    size_t id_len;
    int has_public;      /* a public key object with this label and id exists */
    p11_key_attrs attrs; /* private half's, plus encrypt/wrap/verify of the public half */
    uint8_t *n, *e;      /* public half, big-endian without leading zeros (owned) */
    size_t n_len, e_len;
} p11_version;

/* Every RSA private key labelled label, in ascending CKA_ID order (so the last is current).
 * *out is a new array of *count versions (NULL and 0 when there is none, which is not an
 * error); release it with p11_versions_free. */
CK_RV p11_versions_get(p11_token *t, const char *label, p11_version **out, size_t *count);
void p11_versions_free(p11_version *v, size_t count);

/* Turns the operations in ops (P11_OP_DECRYPT: decrypt+unwrap / encrypt+wrap; P11_OP_SIGN:
 * sign / verify) on (on != 0) or off for one version, on both of its halves. */
CK_RV p11_version_ops_set(p11_token *t, const char *label, const uint8_t *id, size_t id_len,
                          unsigned ops, int on);

/* Destroys every key object (private and public halves, every version) labelled label;
 * *destroyed (may be NULL) counts the objects destroyed. */
CK_RV p11_versions_destroy(p11_token *t, const char *label, size_t *destroyed);

#endif
