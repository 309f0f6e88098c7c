/*
 * rsa_key.h - the RSA key object that keymgmt_rsa.c manages and the store, the asymmetric
 * cipher and the KEM use.
 *
 * A CMK_RSA_KEY is either a reference to a key pair in a token (p11 set; the private half, when
 * the key is not a public-only view, is used only through the token), or a public key imported
 * in memory (p11 NULL: an RSA public key another provider exported to us, e.g. a certificate's
 * key compared with a token key). Both carry the public half in memory (pub, an EVP_PKEY of
 * another provider, fetched with CMK_PROPQ_NOT_US) for export and in-memory encryption.
 *
 * The store hands keys to OpenSSL as an OSSL_OBJECT_PARAM_REFERENCE: the bytes of a
 * CMK_RSA_REF, which keymgmt's load turns into a new key object holding its own references.
 *
 * Thread safety: a key is immutable once made; any number of operations may share it.
 */
#ifndef CMK_RSA_KEY_H
#define CMK_RSA_KEY_H

#include <openssl/evp.h>
#include "prov.h"
#include "../pkcs11/p11_rsa.h"

/* Property query for every fetch the provider makes for itself: it must never select cmk,
 * whether cmk is listed before or after the default provider (docs/architecture-provider.md). */
#define CMK_PROPQ_NOT_US "provider!=cmk"

/* Largest modulus the provider handles (bytes): bounds the stack buffers of the hot path. */
#define CMK_RSA_MAX_BYTES 1024

typedef struct cmk_rsa_key {
    CMK_PROV *prov;
    p11_key *p11;    /* token key; NULL for a public key imported in memory */
    int has_private; /* 1 when p11 has a private half and this is not a public-only view */
    EVP_PKEY *pub;   /* the public half, in another provider */
    size_t bytes;    /* modulus size */
} CMK_RSA_KEY;

/* What the store passes as OSSL_OBJECT_PARAM_REFERENCE. */
#define CMK_RSA_REF_MAGIC 0x636d6b52u /* "cmkR" */
typedef struct cmk_rsa_ref {
    unsigned magic;
    CMK_PROV *prov;
    p11_key *p11;
    int public_only;
} CMK_RSA_REF;

/* A key over the token key k (takes a new reference to k); public_only hides its private half.
 * Returns NULL with the error raised. */
CMK_RSA_KEY *cmk_rsa_key_new_p11(CMK_PROV *prov, p11_key *k, int public_only);
/* A public key in memory from n and e (copied). Returns NULL with the error raised. */
CMK_RSA_KEY *cmk_rsa_key_new_public(CMK_PROV *prov, const BIGNUM *n, const BIGNUM *e);
void cmk_rsa_key_free(CMK_RSA_KEY *key);

/* Encrypts with the public half, in the token when it keeps a public key object that can do
 * the padding, else in memory through another provider. *outlen: capacity in, length out. */
int cmk_rsa_key_encrypt(const CMK_RSA_KEY *key, const p11_rsa_params *p, unsigned char *out,
                        size_t *outlen, const unsigned char *in, size_t inlen);

/* Maps a digest name ("SHA256", "SHA2-256", "sha1", ...) to the token's hash; 0 (raised) for
 * digests OAEP or signatures in a token cannot use (not SHA-1 or SHA-2). */
int cmk_rsa_hash_from_name(CMK_PROV *prov, const char *name, p11_hash *out);
/* OpenSSL's canonical name of h ("SHA1", "SHA2-256", ...). */
const char *cmk_rsa_hash_name(p11_hash h);

/* The RSA pad-mode parameter (asymmetric cipher and signature) as OpenSSL gives it: an int
 * (RSA_PKCS1_PADDING, RSA_PKCS1_OAEP_PADDING, RSA_PKCS1_PSS_PADDING, ...) or a UTF-8 name
 * ("pkcs1", "oaep", "pss", "none", "x931"). 1 with *mode set when p names one of the n modes in
 * allowed; 0, raising nothing (the caller says which modes it offers), for another mode, an
 * unknown name or a parameter of another type. */
int cmk_rsa_pad_mode_get(const OSSL_PARAM *p, const int *allowed, size_t n, int *mode);

/* The other way: sets p to mode, as an int or, for a UTF-8 parameter, its name. */
int cmk_rsa_pad_mode_set(OSSL_PARAM *p, int mode);

/* RFC 8017 section 7.1.2 steps 3-4 on an encoded message em (the raw RSADP output of em_len
 * bytes for a modulus of k bytes), with p's OAEP hash, MGF1 hash and label, in constant time
 * (OpenSSL's implementation). Returns the message length written to to, or -1. */
int cmk_rsa_oaep_decode(CMK_PROV *prov, unsigned char *to, size_t tlen, const unsigned char *em,
                        size_t em_len, size_t k, const p11_rsa_params *p);

#endif
