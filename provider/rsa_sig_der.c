/* rsa_sig_der.c - DigestInfo and signature AlgorithmIdentifier, by OpenSSL's encoders. */
#include <string.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include "rsa_sig_der.h"

/* i2d into the caller's buffer when it fits; len < 0 or too long gives 0. */
static size_t der_copy(const unsigned char *der, int len, unsigned char *out, size_t cap)
{
    if (len <= 0 || (size_t)len > cap)
        return 0;
    memcpy(out, der, (size_t)len);
    return (size_t)len;
}

size_t cmk_rsa_digest_info(const EVP_MD *md, const unsigned char *hash, size_t hash_len,
                           unsigned char *out, size_t cap)
{
    X509_SIG *sig = X509_SIG_new();
    X509_ALGOR *alg;
    ASN1_OCTET_STRING *digest;
    unsigned char *der = NULL;
    size_t n = 0;
    int len;

    if (sig == NULL)
        return 0;
    X509_SIG_getm(sig, &alg, &digest);
    /* RFC 8017 section 9.2 note 1: the hash's parameters are NULL, not absent. */
    if (X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL, NULL) &&
        ASN1_OCTET_STRING_set(digest, hash, (int)hash_len)) {
        len = i2d_X509_SIG(sig, &der);
        n = der_copy(der, len, out, cap);
    }
    OPENSSL_free(der);
    X509_SIG_free(sig);
    return n;
}

/* A hash's AlgorithmIdentifier with NULL parameters, as OpenSSL 3.0's own provider writes it
 * in RSASSA-PSS parameters (RFC 4055 section 2.1: both NULL and absent MUST be accepted). */
static X509_ALGOR *hash_algor_new(const EVP_MD *md)
{
    X509_ALGOR *a = X509_ALGOR_new();

    if (a != NULL && !X509_ALGOR_set0(a, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL, NULL)) {
        X509_ALGOR_free(a);
        return NULL;
    }
    return a;
}

/* RFC 4055 section 3.1: hashAlgorithm and maskGenAlgorithm default to SHA-1, saltLength to 20. */
static RSA_PSS_PARAMS *pss_params_new(const EVP_MD *md, const EVP_MD *mgf1, size_t salt_len)
{
    RSA_PSS_PARAMS *pss = RSA_PSS_PARAMS_new();
    X509_ALGOR *mgf1_hash = NULL;
    ASN1_STRING *packed = NULL;
    int ok = pss != NULL;

    if (ok && !EVP_MD_is_a(md, "SHA1"))
        ok = (pss->hashAlgorithm = hash_algor_new(md)) != NULL;
    if (ok && !EVP_MD_is_a(mgf1, "SHA1")) {
        ok = (mgf1_hash = hash_algor_new(mgf1)) != NULL &&
             (packed = ASN1_item_pack(mgf1_hash, ASN1_ITEM_rptr(X509_ALGOR), NULL)) != NULL &&
             (pss->maskGenAlgorithm = X509_ALGOR_new()) != NULL &&
             X509_ALGOR_set0(pss->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1), V_ASN1_SEQUENCE, packed);
        if (ok)
            packed = NULL; /* owned by maskGenAlgorithm now */
    }
    if (ok && salt_len != 20)
        ok = (pss->saltLength = ASN1_INTEGER_new()) != NULL &&
             ASN1_INTEGER_set(pss->saltLength, (long)salt_len);
    ASN1_STRING_free(packed);
    X509_ALGOR_free(mgf1_hash);
    if (!ok) {
        RSA_PSS_PARAMS_free(pss);
        return NULL;
    }
    return pss;
}

size_t cmk_rsa_sig_algorithm_id(int pss, const EVP_MD *md, const EVP_MD *mgf1, size_t salt_len,
                                unsigned char *out, size_t cap)
{
    X509_ALGOR *alg = X509_ALGOR_new();
    RSA_PSS_PARAMS *params = NULL;
    ASN1_STRING *packed = NULL;
    unsigned char *der = NULL;
    size_t n = 0;
    int nid, ok;

    if (alg == NULL)
        return 0;
    if (!pss) {
        /* sha256WithRSAEncryption and friends carry NULL parameters (RFC 4055 section 5). */
        ok = OBJ_find_sigid_by_algs(&nid, EVP_MD_get_type(md), NID_rsaEncryption) &&
             X509_ALGOR_set0(alg, OBJ_nid2obj(nid), V_ASN1_NULL, NULL);
    } else {
        ok = (params = pss_params_new(md, mgf1, salt_len)) != NULL &&
             (packed = ASN1_item_pack(params, ASN1_ITEM_rptr(RSA_PSS_PARAMS), NULL)) != NULL &&
             X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE, packed);
        if (ok)
            packed = NULL;
    }
    if (ok) {
        int len = i2d_X509_ALGOR(alg, &der);

        n = der_copy(der, len, out, cap);
    }
    OPENSSL_free(der);
    ASN1_STRING_free(packed);
    RSA_PSS_PARAMS_free(params);
    X509_ALGOR_free(alg);
    return n;
}
