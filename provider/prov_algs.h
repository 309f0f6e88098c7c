/*
 * prov_algs.h - the algorithm tables each operation-family file exports to provider.c.
 * A new family is one file exporting one table, and one line in cmk_query_operation.
 */
#ifndef CMK_PROV_ALGS_H
#define CMK_PROV_ALGS_H

#include <openssl/core.h>
#include "prov.h"

/* AES-GCM on intel-ipsec-mb (cipher_aes_gcm.c); NULL where the CPU or library lacks it, so
 * applications then get OpenSSL's own. */
const OSSL_ALGORITHM *cmk_cipher_algorithms(CMK_PROV *prov);

/* The RSA side: keys in a token by pkcs11: URI (store.c), their key management
 * (keymgmt_rsa.c), RSA-OAEP and PKCS#1 v1.5 in the token (asymcipher_rsa.c), a KEM that
 * wraps a fresh data key with RSA-OAEP (kem_rsa.c), and PKCS#1 v1.5 and PSS signatures made
 * by the token (signature_rsa.c). */
const OSSL_ALGORITHM *cmk_store_algorithms(CMK_PROV *prov);
const OSSL_ALGORITHM *cmk_keymgmt_algorithms(CMK_PROV *prov);
const OSSL_ALGORITHM *cmk_asym_cipher_algorithms(CMK_PROV *prov);
const OSSL_ALGORITHM *cmk_kem_algorithms(CMK_PROV *prov);
const OSSL_ALGORITHM *cmk_signature_algorithms(CMK_PROV *prov);

/* Nonzero on this thread between store.c's export_object (OpenSSL found another provider's
 * "RSA" key management for a token key) and keymgmt_rsa.c's load: only then does the provider
 * offer its RSA key management, so that a plain fetch of "RSA" never selects cmk whatever the
 * order of providers in openssl.cnf (docs/architecture-provider.md). _done closes the window. */
int cmk_store_in_load(void);
void cmk_store_load_done(void);

/* The name cmk's RSA key management gives its operations (query_operation_name): the
 * asymmetric cipher, KEM and signature for token keys are fetched by it, never by "RSA". */
#define CMK_RSA_OP_NAME "CMK-RSA"

#endif
