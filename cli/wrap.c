/* wrap.c - wrapping and unwrapping intermediate keys with the CMK; see wrap.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/store.h>
#include "wrap.h"
#include "../envelope/secret.h"

#define CLI_CACHE_SLOTS           8
#define CLI_CACHE_DEFAULT_SECONDS 300 /* a revoked key stops decryption within this */

typedef struct cache_slot {
    uint8_t digest[32];
    uint8_t ikm[ENV_KEY_BYTES];
    time_t at;
    int used;
} cache_slot;

/* Unwrapped intermediate keys, in locked memory (made at first use). */
static cache_slot *cache;

static long cache_seconds(const cmk_cli *cli)
{
    const char *v = cli->s.cache_seconds;

    return v != NULL ? strtol(v, NULL, 10) : CLI_CACHE_DEFAULT_SECONDS;
}

static unsigned long token_ops;

unsigned long cli_wrap_token_ops(void)
{
    return token_ops;
}

void cli_wrap_cache_wipe(void)
{
    env_secret_free(cache, CLI_CACHE_SLOTS * sizeof(*cache));
    cache = NULL;
}

/* The last OpenSSL error's text: the provider's reason names the CKR. */
static const char *ossl_why(void)
{
    static char buf[256];
    const char *data = NULL;
    int flags = 0;
    unsigned long e = ERR_peek_last_error_data(&data, &flags);

    if (e == 0)
        return "unknown error";
    if (data != NULL && (flags & ERR_TXT_STRING) && data[0] != '\0')
        snprintf(buf, sizeof(buf), "%s", data);
    else
        ERR_error_string_n(e, buf, sizeof(buf));
    return buf;
}

/* PIN, module and token problems are configuration (exit 3); the provider's message names the
 * CKR or the layer's code, so the class is read off it. A refusal by the key's state is 4. */
static int ossl_exit_code(const char *why)
{
    static const char *const config[] = {"CKR_PIN_",
                                         "P11_R_PIN",
                                         "P11_R_NO_PIN",
                                         "P11_R_MODULE_LOAD",
                                         "P11_R_TOKEN_NOT_FOUND",
                                         "CKR_TOKEN_NOT_PRESENT",
                                         "cannot load the cmk provider"};
    const char *reason = ERR_reason_error_string(ERR_peek_last_error());

    /* the provider's refusal by key state (disabled, deleted, expired, not yet valid;
     * provider/key_state.h) */
    if (reason != NULL && strncmp(reason, "the key's state forbids it", 26) == 0)
        return CMK_EXIT_REFUSED;
    for (size_t i = 0; i < sizeof(config) / sizeof(config[0]); i++)
        if (strstr(why, config[i]) != NULL)
            return CMK_EXIT_CONFIG;
    return CMK_EXIT_FAIL;
}

static EVP_PKEY *key_load(cmk_cli *cli, const char *name, const char *version)
{
    OSSL_LIB_CTX *ctx = cli_libctx(cli);
    char *uri = ctx != NULL ? cli_key_uri(cli, name, version) : NULL;
    OSSL_STORE_CTX *st = NULL;
    EVP_PKEY *pkey = NULL;

    if (uri == NULL)
        return NULL;
    st = OSSL_STORE_open_ex(uri, ctx, NULL, NULL, NULL, NULL, NULL, NULL);
    while (st != NULL && pkey == NULL && !OSSL_STORE_eof(st)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(st);

        if (info != NULL && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            pkey = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
        if (info == NULL)
            break;
    }
    OSSL_STORE_close(st);
    if (pkey == NULL) {
        const char *why = ossl_why();

        /* The provider's own message names the key when the key's state refused it. */
        if (strstr(why, name) != NULL)
            cli_fail(ossl_exit_code(why), "%s", why);
        else
            cli_fail(ossl_exit_code(why), "key '%s' version %s: %s", name, version, why);
    }
    free(uri);
    return pkey;
}

static EVP_PKEY_CTX *oaep_ctx(cmk_cli *cli, EVP_PKEY *pkey, int encrypt, env_wrap_alg alg)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(cli_libctx(cli), pkey, NULL);
    const char *md = alg == ENV_WRAP_RSA_OAEP_256 ? "SHA256" : "SHA1";

    if (pctx == NULL ||
        (encrypt ? EVP_PKEY_encrypt_init(pctx) : EVP_PKEY_decrypt_init(pctx)) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md_name(pctx, md, NULL) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) != 1) {
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }
    return pctx;
}

int cli_wrap(cmk_cli *cli, env_header *h, const uint8_t ikm[ENV_KEY_BYTES])
{
    EVP_PKEY *pkey = key_load(cli, h->key_name, h->key_version);
    EVP_PKEY_CTX *pctx = NULL;
    size_t len = sizeof(h->wrapped);
    int ok = 0;

    if (pkey == NULL)
        return 0;
    h->wrap_alg = ENV_WRAP_RSA_OAEP; /* what every token here can do (SoftHSM: SHA-1 only) */
    token_ops++;
    if ((pctx = oaep_ctx(cli, pkey, 1, h->wrap_alg)) == NULL ||
        EVP_PKEY_encrypt(pctx, h->wrapped, &len, ikm, ENV_KEY_BYTES) != 1) {
        cli_fail(CMK_EXIT_FAIL, "wrapping a key under '%s': %s", h->key_name, ossl_why());
        goto end;
    }
    h->wrapped_len = len;
    ok = 1;
end:
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_free(pkey);
    return ok;
}

int cli_wrap_new(cmk_cli *cli, env_header *h, uint8_t ikm[ENV_KEY_BYTES])
{
    if (RAND_priv_bytes_ex(cli_libctx(cli), ikm, ENV_KEY_BYTES, 0) != 1) {
        cli_fail(CMK_EXIT_FAIL, "no random bytes for a new key");
        return 0;
    }
    if (!cli_wrap(cli, h, ikm)) {
        OPENSSL_cleanse(ikm, ENV_KEY_BYTES);
        return 0;
    }
    return 1;
}

int cli_unwrap(cmk_cli *cli, const env_header *h, uint8_t ikm[ENV_KEY_BYTES])
{
    uint8_t digest[32], out[1024];
    size_t len = sizeof(out), slot;
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    long ttl = cache_seconds(cli);
    int rc = CMK_EXIT_FAIL;

    if (!EVP_Digest(h->wrapped, h->wrapped_len, digest, NULL, EVP_sha256(), NULL))
        return cli_fail(CMK_EXIT_FAIL, "SHA-256 failed");
    if (cache == NULL && (cache = env_secret_new(CLI_CACHE_SLOTS * sizeof(*cache))) == NULL)
        return cli_fail(CMK_EXIT_FAIL, "out of memory");
    for (slot = 0; slot < CLI_CACHE_SLOTS; slot++) {
        if (!cache[slot].used || CRYPTO_memcmp(cache[slot].digest, digest, 32) != 0)
            continue;
        if (time(NULL) - cache[slot].at < ttl) {
            memcpy(ikm, cache[slot].ikm, ENV_KEY_BYTES);
            return CMK_EXIT_OK;
        }
        OPENSSL_cleanse(&cache[slot], sizeof(cache[slot])); /* expired: ask the token again */
    }
    if ((pkey = key_load(cli, h->key_name, h->key_version)) == NULL)
        return cli_failed();
    token_ops++;
    if ((pctx = oaep_ctx(cli, pkey, 0, h->wrap_alg)) == NULL ||
        EVP_PKEY_decrypt(pctx, out, &len, h->wrapped, h->wrapped_len) != 1 ||
        len != ENV_KEY_BYTES) {
        const char *why = ossl_why();

        rc = cli_fail(ossl_exit_code(why), "unwrapping with key '%s' version %s: %s", h->key_name,
                      h->key_version, why);
        goto end;
    }
    memcpy(ikm, out, ENV_KEY_BYTES);
    rc = CMK_EXIT_OK;
    if (ttl <= 0)
        goto end;
    for (slot = 0; slot < CLI_CACHE_SLOTS && cache[slot].used; slot++)
        ;
    slot %= CLI_CACHE_SLOTS; /* full: reuse the first slot */
    memcpy(cache[slot].digest, digest, 32);
    memcpy(cache[slot].ikm, out, ENV_KEY_BYTES);
    cache[slot].at = time(NULL);
    cache[slot].used = 1;
end:
    OPENSSL_cleanse(out, sizeof(out));
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_free(pkey);
    return rc;
}
