/* keys.c - HKDF-SHA256 derivation of a file's keys (RFC 5869); see keys.h. */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include "keys.h"

#define ENV_INFO_LABEL       "cmk file v1"
#define ENV_INFO_LABEL_BYTES (sizeof(ENV_INFO_LABEL) - 1)
#define ENV_SHA256_BYTES     32

int env_file_keys_derive(OSSL_LIB_CTX *libctx, const char *propq,
                         const uint8_t intermediate[ENV_KEY_BYTES], const env_header *h,
                         env_file_keys *out)
{
    env_buf bound = {0};
    uint8_t info[ENV_INFO_LABEL_BYTES + ENV_SHA256_BYTES];
    uint8_t okm[ENV_KEY_BYTES + ENV_COMMIT_BYTES + ENV_NONCE_PREFIX_BYTES];
    unsigned int md_len = 0;
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kctx = NULL;
    EVP_MD *sha256 = NULL;
    OSSL_PARAM params[5];
    int ok = 0;

    if (!env_header_bound_encode(h, &bound))
        goto end;
    memcpy(info, ENV_INFO_LABEL, ENV_INFO_LABEL_BYTES);
    if ((sha256 = EVP_MD_fetch(libctx, "SHA2-256", propq)) == NULL ||
        !EVP_Digest(bound.data, bound.len, info + ENV_INFO_LABEL_BYTES, &md_len, sha256, NULL) ||
        md_len != ENV_SHA256_BYTES)
        goto end;
    if ((kdf = EVP_KDF_fetch(libctx, "HKDF", propq)) == NULL ||
        (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
        goto end;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA2-256", 0);
    params[1] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)intermediate, ENV_KEY_BYTES);
    params[2] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)h->salt, ENV_SALT_BYTES);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info));
    params[4] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kctx, okm, sizeof(okm), params) != 1)
        goto end;
    memcpy(out->data_key, okm, ENV_KEY_BYTES);
    memcpy(out->commitment, okm + ENV_KEY_BYTES, ENV_COMMIT_BYTES);
    memcpy(out->nonce_prefix, okm + ENV_KEY_BYTES + ENV_COMMIT_BYTES, ENV_NONCE_PREFIX_BYTES);
    ok = 1;
end:
    if (!ok)
        env_file_keys_wipe(out);
    OPENSSL_cleanse(okm, sizeof(okm));
    env_buf_free(&bound);
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    EVP_MD_free(sha256);
    return ok;
}

int env_file_keys_check(const env_file_keys *keys, const uint8_t commitment[ENV_COMMIT_BYTES])
{
    return CRYPTO_memcmp(keys->commitment, commitment, ENV_COMMIT_BYTES) == 0;
}

void env_file_keys_wipe(env_file_keys *keys)
{
    OPENSSL_cleanse(keys, sizeof(*keys));
}
