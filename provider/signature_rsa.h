/*
 * signature_rsa.h - the RSA signature context shared by signature_rsa.c (the operations) and
 * signature_rsa_params.c (its parameters, as OpenSSL's own RSA signature takes them).
 * A context belongs to one EVP_PKEY_CTX: no locking.
 */
#ifndef CMK_SIGNATURE_RSA_H
#define CMK_SIGNATURE_RSA_H

#include <openssl/core_dispatch.h>
#include "rsa_key.h"

typedef struct cmk_rsa_sig_ctx {
    CMK_PROV *prov;
    CMK_RSA_KEY *key;  /* the EVP_PKEY_CTX keeps it alive */
    int pad;           /* RSA_PKCS1_PADDING or RSA_PKCS1_PSS_PADDING */
    EVP_MD *md;        /* NULL: PKCS#1 v1.5 over the caller's bytes as they are */
    EVP_MD *mgf1;      /* NULL: MGF1 follows md */
    int saltlen;       /* OpenSSL's: bytes, or RSA_PSS_SALTLEN_DIGEST/AUTO/MAX */
    EVP_MD_CTX *mdctx; /* digest_sign/verify: the message's hash so far */
} CMK_RSA_SIG_CTX;

/* A digest the token's PKCS#11 mechanisms name (SHA-1, SHA-2), fetched from another provider;
 * NULL with the error raised for any other. */
EVP_MD *cmk_rsa_sig_md_fetch(CMK_PROV *prov, const char *name);

/* The PSS salt in bytes that signing with ctx's key and digest (set) uses for ctx->saltlen;
 * 0 with the error raised when it does not fit the key. */
int cmk_rsa_sig_salt_resolve(CMK_RSA_SIG_CTX *ctx, size_t *out);

/* pad-mode, digest, mgf1-digest, saltlen (int or string) and, to get, algorithm-id. */
OSSL_FUNC_signature_get_ctx_params_fn cmk_rsa_sig_get_ctx_params;
OSSL_FUNC_signature_gettable_ctx_params_fn cmk_rsa_sig_gettable_ctx_params;
OSSL_FUNC_signature_set_ctx_params_fn cmk_rsa_sig_set_ctx_params;
OSSL_FUNC_signature_settable_ctx_params_fn cmk_rsa_sig_settable_ctx_params;

#endif
