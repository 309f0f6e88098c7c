/*
 * test_gcm_util.h - what the AES-GCM unit tests share: cmk's and the default provider's
 * AES-256-GCM fetched side by side in one library context, so every test compares the two.
 * Each test program includes it once, sets tg_msg's pattern in its suite init and uses NEED_GCM()
 * first in each test (cmk offers no GCM without intel-ipsec-mb or AES-NI).
 */
#ifndef CMK_TEST_GCM_UTIL_H
#define CMK_TEST_GCM_UTIL_H

#include <openssl/err.h>
#include <openssl/evp.h>
#include "testlib.h"

static TESTLIB_EVP tg_evp;
static EVP_CIPHER *cmk_gcm, *ref_gcm; /* AES-256-GCM from cmk and from default */

#define NEED_GCM()                                                                                 \
    do {                                                                                           \
        if (cmk_gcm == NULL) {                                                                     \
            TEST_SKIP("cmk offers no AES-GCM here (built without intel-ipsec-mb, or no AES-NI)");  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Fills msg[0..len) with i * mul + add, then fetches both ciphers. 0 on success (CUnit's
 * suite-init convention); only the default provider's cipher is required. */
static inline int tg_suite_init(uint8_t *msg, size_t len, unsigned mul, unsigned add)
{
    for (size_t i = 0; i < len; i++)
        msg[i] = (uint8_t)(i * mul + add);
    if (!testlib_evp_init(&tg_evp, 0))
        return 1;
    cmk_gcm = EVP_CIPHER_fetch(tg_evp.libctx, "AES-256-GCM", "provider=cmk");
    ref_gcm = EVP_CIPHER_fetch(tg_evp.libctx, "AES-256-GCM", "provider=default");
    ERR_clear_error();
    return ref_gcm == NULL;
}

static inline int tg_suite_clean(void)
{
    EVP_CIPHER_free(cmk_gcm);
    EVP_CIPHER_free(ref_gcm);
    testlib_evp_cleanup(&tg_evp);
    return 0;
}

#endif
