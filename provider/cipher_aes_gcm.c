/* cipher_aes_gcm.c - AES-GCM on intel-ipsec-mb: placeholder until the back end lands. */
#include "prov_algs.h"

const OSSL_ALGORITHM *cmk_cipher_algorithms(CMK_PROV *prov)
{
    (void)prov;
    return NULL;
}
