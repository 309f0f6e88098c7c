/*
 * key_import.c - bring your own key: an RSA private key from a PEM or DER file (read by
 * OpenSSL's decoders), given to the token as its CRT components (PKCS#11 v2.40 curr.
 * mechanisms 2.1.3) and made sensitive and non-extractable there. The in-memory copy is freed
 * with the key (OpenSSL clears BIGNUMs holding secrets on free; our byte copies are cleansed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include "key_cmds.h"

#define CRT_PARTS 8

static EVP_PKEY *key_read(const char *file)
{
    FILE *f = fopen(file, "rb");
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx;

    if (f == NULL)
        return NULL;
    /* NULL input type: PEM and DER alike, PKCS#8 or PKCS#1 */
    dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, "RSA", OSSL_KEYMGMT_SELECT_KEYPAIR,
                                         NULL, NULL);
    if (dctx == NULL || OSSL_DECODER_from_fp(dctx, f) != 1)
        pkey = NULL;
    OSSL_DECODER_CTX_free(dctx);
    fclose(f);
    return pkey;
}

int cli_key_import(p11_token *t, const char *name, const uint8_t *id, size_t id_len,
                   const char *file, unsigned bits, unsigned p11_ops, unsigned *bits_out)
{
    static const char *params[CRT_PARTS] = {
        OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
        OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
        OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
        OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
    };
    uint8_t *part[CRT_PARTS] = {0};
    size_t len[CRT_PARTS] = {0};
    EVP_PKEY *pkey = key_read(file);
    p11_rsa_components c;
    int rc = CMK_EXIT_FAIL, have;
    CK_RV rv;

    if (pkey == NULL)
        return cli_fail(CMK_EXIT_FAIL, "%s: not an RSA private key (PEM or DER)", file);
    have = EVP_PKEY_get_bits(pkey);
    if (have < 2048 || (bits != 0 && (unsigned)have != bits)) {
        rc = cli_fail(CMK_EXIT_USAGE, "%s: an RSA-%d key; %s", file, have,
                      have < 2048 ? "CMKs have at least 2048 bits" : "--size says otherwise");
        goto end;
    }
    for (int i = 0; i < CRT_PARTS; i++) {
        BIGNUM *bn = NULL;

        if (EVP_PKEY_get_bn_param(pkey, params[i], &bn) != 1 ||
            (part[i] = malloc((size_t)BN_num_bytes(bn) + 1)) == NULL) {
            BN_clear_free(bn);
            rc = cli_fail(CMK_EXIT_FAIL, "%s: an RSA key without its CRT components", file);
            goto end;
        }
        len[i] = (size_t)BN_bn2bin(bn, part[i]);
        BN_clear_free(bn);
    }
    c = (p11_rsa_components){part[0], part[1], part[2], part[3], part[4], part[5], part[6], part[7],
                             len[0],  len[1],  len[2],  len[3],  len[4],  len[5],  len[6],  len[7]};
    rv = p11_key_import(t, name, id, id_len, &c, p11_ops);
    if (rv != CKR_OK) {
        rc = cli_fail(CMK_EXIT_FAIL, "key '%s': %s", name, p11_err_detail());
        goto end;
    }
    *bits_out = (unsigned)have;
    rc = CMK_EXIT_OK;
end:
    for (int i = 0; i < CRT_PARTS; i++)
        if (part[i] != NULL)
            OPENSSL_clear_free(part[i], len[i] + 1);
    EVP_PKEY_free(pkey);
    return rc;
}
