/*
 * rsa_oaep.c - OAEP decoding in memory, for the one case the token cannot check itself: a label
 * on a token that ignores labels (SoftHSM 2.6.1). The RSA decryption is still the token's.
 *
 * OpenSSL 3.0 offers OAEP decoding without a key only through RSA_padding_check_PKCS1_OAEP_mgf1,
 * deprecated in 3.0 but kept, constant-time, and the same code its own RSA decryption runs:
 * better than writing it again. Hence the suppression, confined to this file.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include "rsa_key.h"

int cmk_rsa_oaep_decode(CMK_PROV *prov, unsigned char *to, size_t tlen, const unsigned char *em,
                        size_t em_len, size_t k, const p11_rsa_params *p)
{
    EVP_MD *md = EVP_MD_fetch(prov->libctx, cmk_rsa_hash_name(p->oaep_hash), CMK_PROPQ_NOT_US);
    EVP_MD *mgf1 = EVP_MD_fetch(prov->libctx, cmk_rsa_hash_name(p->mgf1_hash), CMK_PROPQ_NOT_US);
    int len = -1;

    if (md != NULL && mgf1 != NULL && tlen <= INT_MAX && em_len <= k)
        len = RSA_padding_check_PKCS1_OAEP_mgf1(to, (int)tlen, em, (int)em_len, (int)k, p->label,
                                                (int)p->label_len, md, mgf1);
    EVP_MD_free(md);
    EVP_MD_free(mgf1);
    return len;
}
