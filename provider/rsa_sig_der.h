/*
 * rsa_sig_der.h - the DER that RSA signatures with a token key need, written by OpenSSL's
 * ASN.1 encoders: the DigestInfo the token signs for PKCS#1 v1.5 (RFC 8017 section 9.2), and
 * the signature's X.509 AlgorithmIdentifier that req, x509, cms and libssl ask the signature
 * context for (RFC 4055: sha256WithRSAEncryption..., RSASSA-PSS with its parameters).
 *
 * Both write into the caller's buffer of cap bytes and return the length, or 0 when the digest
 * has no encoding or the buffer is too small (nothing raised: the caller says what failed).
 * Thread safety: none needed (no shared state).
 */
#ifndef CMK_RSA_SIG_DER_H
#define CMK_RSA_SIG_DER_H

#include <stddef.h>
#include <openssl/evp.h>

/* Largest DigestInfo (SHA-512: 19 + 64 bytes) and AlgorithmIdentifier (PSS, all fields) here. */
#define CMK_RSA_DER_MAX_BYTES 128

/* DigestInfo ::= SEQUENCE { digestAlgorithm (md, NULL parameters), digest OCTET STRING }. */
size_t cmk_rsa_digest_info(const EVP_MD *md, const unsigned char *hash, size_t hash_len,
                           unsigned char *out, size_t cap);

/* The AlgorithmIdentifier of a signature: PKCS#1 v1.5 with md (pss 0), or RSASSA-PSS with md,
 * MGF1 with mgf1 and a salt of salt_len bytes (pss 1; fields equal to RFC 4055's defaults,
 * SHA-1 and 20 bytes, are left out as DER requires). */
size_t cmk_rsa_sig_algorithm_id(int pss, const EVP_MD *md, const EVP_MD *mgf1, size_t salt_len,
                                unsigned char *out, size_t cap);

#endif
