/*
 * cipher_aes_gcm_hw_none.c - the GCM back end of builds without intel-ipsec-mb (its header was
 * absent, or not x86-64): there is none, so the provider offers no AES-GCM and applications
 * get OpenSSL's own.
 */
#include "cipher_aes_gcm_hw.h"

const CMK_GCM_HW *cmk_gcm_hw_get(void)
{
    return NULL;
}
