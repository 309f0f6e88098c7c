/*
 * test_cipher_aes_gcm_tls.c - cmk's AES-GCM TLS 1.2 record path (RFC 5288, driven as libssl
 * drives it: fixed IV, 13-byte AAD, one in-place call per record) gives the default provider's
 * records byte for byte, opens them and has its own opened, and refuses malformed records.
 * tests/e2e/tls_aes_gcm.sh runs real TLS 1.2 and 1.3 connections.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include "test_gcm_util.h"

static const uint8_t key[32] = "TLS 1.2 record key, 32 bytes...";
static const uint8_t iv[12] = "fixd+explct!";
static uint8_t msg[1000];

static int suite_init(void)
{
    return tg_suite_init(msg, sizeof(msg), 13, 5);
}

static int suite_clean(void)
{
    return tg_suite_clean();
}

/* A TLS 1.2 sender or receiver as libssl drives one (ssl/record/ssl3_record.c): fixed IV,
 * then per record the 13-byte AAD and one in-place call. The sender restores a whole IV (-1)
 * so that both providers' records can be compared byte for byte. */
static EVP_CIPHER_CTX *tls_ctx(const EVP_CIPHER *c, int enc)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

    if (!EVP_CipherInit_ex(ctx, c, NULL, key, NULL, enc) ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IV_FIXED, enc ? -1 : 4, (void *)iv) <= 0) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* One record of payload length len in rec (8 + len + 16 bytes); returns the output length
 * or -1. Even records go through EVP_CipherUpdate (libssl), odd ones through EVP_Cipher. */
static int tls_record(EVP_CIPHER_CTX *ctx, int enc, uint64_t seq, uint8_t *rec, size_t len)
{
    size_t reclen = 8 + len + 16, field = enc ? 8 + len : reclen;
    uint8_t hdr[13];
    int outl;

    for (int i = 0; i < 8; i++)
        hdr[i] = (uint8_t)(seq >> (56 - 8 * i));
    hdr[8] = 23, hdr[9] = 3, hdr[10] = 3, hdr[11] = (uint8_t)(field >> 8), hdr[12] = (uint8_t)field;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_TLS1_AAD, sizeof(hdr), hdr) != 16)
        return -1;
    if (seq % 2 == 1)
        return EVP_Cipher(ctx, rec, rec, (unsigned)reclen) > 0 ? (int)(enc ? reclen : len) : -1;
    return EVP_CipherUpdate(ctx, rec, &outl, rec, (int)reclen) ? outl : -1;
}

static void test_tls12_records_match_default(void)
{
    EVP_CIPHER_CTX *se[2], *re[2];
    static uint8_t recs[2][6][8 + 1000 + 16];
    const size_t lens[6] = {0, 1, 16, 300, 999, 1000};

    NEED_GCM();
    se[0] = tls_ctx(cmk_gcm, 1), se[1] = tls_ctx(ref_gcm, 1);
    CU_ASSERT_FATAL(se[0] != NULL && se[1] != NULL);
    for (int p = 0; p < 2; p++)
        for (uint64_t r = 0; r < 6; r++) {
            memcpy(recs[p][r] + 8, msg, lens[r]);
            CU_ASSERT_EQUAL(tls_record(se[p], 1, r, recs[p][r], lens[r]), (int)(lens[r] + 24));
        }
    for (int r = 0; r < 6; r++)
        TEST_ASSERT_BYTES(recs[0][r], lens[r] + 24, recs[1][r], lens[r] + 24);
    /* each side opens the other's records; then a flipped tag bit is refused and wiped */
    re[0] = tls_ctx(cmk_gcm, 0), re[1] = tls_ctx(ref_gcm, 0);
    CU_ASSERT_FATAL(re[0] != NULL && re[1] != NULL);
    for (int p = 0; p < 2; p++)
        for (uint64_t r = 0; r < 6; r++) {
            CU_ASSERT_EQUAL(tls_record(re[p], 0, r, recs[1 - p][r], lens[r]), (int)lens[r]);
            TEST_ASSERT_BYTES(recs[1 - p][r] + 8, lens[r], msg, lens[r]);
        }
    memcpy(recs[0][0] + 8, msg, 300);
    CU_ASSERT_EQUAL(tls_record(se[0], 1, 6, recs[0][0], 300), 324);
    recs[0][0][8 + 300] ^= 1;
    CU_ASSERT_EQUAL(tls_record(re[0], 0, 6, recs[0][0], 300), -1);
    for (int i = 0; i < 300; i++)
        CU_ASSERT_EQUAL_FATAL(recs[0][0][8 + i], 0);
    ERR_clear_error();
    for (int p = 0; p < 2; p++) {
        EVP_CIPHER_CTX_free(se[p]);
        EVP_CIPHER_CTX_free(re[p]);
    }
}

/* Malformed TLS records and AADs are refused by both providers. */
static int tls_refusal(const EVP_CIPHER *c, int step)
{
    EVP_CIPHER_CTX *ctx = tls_ctx(c, step >= 2 ? 0 : 1);
    uint8_t hdr[13] = {0, 0, 0, 0, 0, 0, 0, 1, 23, 3, 3, 0, 40}, rec[64] = {0}, out[64];
    int outl, ok = 0;

    switch (step) {
    case 0: /* AAD of 12 bytes */
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_TLS1_AAD, 12, hdr) > 0;
        break;
    case 1: /* not in place */
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_TLS1_AAD, 13, hdr) > 0 &&
             EVP_CipherUpdate(ctx, out, &outl, rec, 40);
        break;
    case 2: /* received record length shorter than explicit nonce and tag */
        hdr[12] = 23;
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_TLS1_AAD, 13, hdr) > 0;
        break;
    case 3: /* a record of 23 bytes */
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_TLS1_AAD, 13, hdr) > 0 &&
             EVP_CipherUpdate(ctx, rec, &outl, rec, 23);
        break;
    case 4: /* a forged record (all zero) */
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_TLS1_AAD, 13, hdr) > 0 &&
             EVP_CipherUpdate(ctx, rec, &outl, rec, 40);
        break;
    }
    EVP_CIPHER_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

static void test_tls12_refuses_what_default_refuses(void)
{
    NEED_GCM();
    for (int step = 0; step <= 4; step++) {
        CU_ASSERT_FALSE(tls_refusal(cmk_gcm, step));
        CU_ASSERT_FALSE(tls_refusal(ref_gcm, step));
    }
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("cipher_aes_gcm_tls", suite_init, suite_clean);
    CU_add_test(s, "tls12_records_match_default", test_tls12_records_match_default);
    CU_add_test(s, "tls12_refuses_what_default_refuses", test_tls12_refuses_what_default_refuses);
    return testlib_run();
}
