/*
 * p11_rsa.h - RSA operations performed in the token (PKCS#11 v2.40 section 2.1).
 *
 * Decryption and signing always use the private key object (C_DecryptInit + C_Decrypt,
 * C_SignInit + C_Sign); encryption uses
 * the public key object (C_EncryptInit + C_Encrypt) and fails with P11_R_NO_PUBLIC_OBJECT
 * where the token keeps none, so the caller can encrypt with the public half in memory.
 * Both go through the token's session pool and its reopen-and-retry-once rule.
 *
 * Thread safety: any number of threads may call these on one key at once.
 */
#ifndef CMK_P11_RSA_H
#define CMK_P11_RSA_H

#include "p11_key.h"

typedef enum p11_hash {
    P11_HASH_SHA1,
    P11_HASH_SHA224,
    P11_HASH_SHA256,
    P11_HASH_SHA384,
    P11_HASH_SHA512,
} p11_hash;

typedef enum p11_rsa_padding {
    P11_RSA_PKCS1, /* RSAES-PKCS1-v1_5, CKM_RSA_PKCS */
    P11_RSA_OAEP,  /* RSAES-OAEP, CKM_RSA_PKCS_OAEP with the hashes below */
    P11_RSA_RAW,   /* RSADP/RSAEP alone, CKM_RSA_X_509: the caller pads and checks padding
                    * (for OAEP hashes or labels the token cannot do) */
} p11_rsa_padding;

typedef struct p11_rsa_params {
    p11_rsa_padding padding;
    p11_hash oaep_hash, mgf1_hash; /* OAEP only */
    const uint8_t *label;          /* OAEP only; NULL or empty for none */
    size_t label_len;
} p11_rsa_params;

/* *out_len: capacity of out on entry (at least the modulus size), plaintext length on return.
 * A padding error is the token's CKR (CKR_ENCRYPTED_DATA_INVALID, or CKR_GENERAL_ERROR from
 * SoftHSM 2.6.1); out is wiped then. An OAEP hash the token refuses yields P11_R_OAEP_HASH with
 * a detail naming the hash; an OAEP label on a token that cannot do labels (SoftHSM 2.6.1
 * ignores them when decrypting) yields P11_R_UNSUPPORTED before the token is asked. */
CK_RV p11_rsa_decrypt(p11_key *k, const p11_rsa_params *p, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t *out_len);
CK_RV p11_rsa_encrypt(p11_key *k, const p11_rsa_params *p, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t *out_len);

/* Which OAEP hashes (MGF1 with the same hash) the token really does, found by trying with this
 * key and then cached for the token: a mask of 1u << P11_HASH_*. A key that may not encrypt or
 * decrypt cannot tell; then the answer (0) is not cached. SoftHSM 2.6.1: SHA-1 only, though its
 * mechanism list names CKM_RSA_PKCS_OAEP. */
unsigned p11_rsa_oaep_hashes(p11_key *k);

typedef enum p11_sig_padding {
    P11_SIG_PKCS1, /* RSASSA-PKCS1-v1_5, CKM_RSA_PKCS: in is the DER DigestInfo (or raw data) */
    P11_SIG_PSS,   /* RSASSA-PSS, CKM_RSA_PKCS_PSS: in is the hash value of hash */
} p11_sig_padding;

typedef struct p11_rsa_sign_params {
    p11_sig_padding padding;
    p11_hash hash, mgf1_hash; /* PSS only */
    size_t salt_len;          /* PSS only: bytes, already resolved (no special values) */
} p11_rsa_sign_params;

/* Signs in with the private key in the token. *sig_len: capacity of sig on entry (at least the
 * modulus size), signature length on return. A key whose CKA_SIGN is false fails with the
 * token's CKR_KEY_FUNCTION_NOT_PERMITTED (or CKR_KEY_TYPE_INCONSISTENT) and a detail saying
 * "key 'x' on token 't' is not permitted to sign"; PSS parameters the token refuses yield
 * P11_R_UNSUPPORTED. */
CK_RV p11_rsa_sign(p11_key *k, const p11_rsa_sign_params *p, const uint8_t *in, size_t in_len,
                   uint8_t *sig, size_t *sig_len);

const char *p11_hash_name(p11_hash h); /* "SHA-1", "SHA-256", ... */

#endif
