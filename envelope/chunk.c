/* chunk.c - one chunk of a cmk file body under AES-256-GCM; see chunk.h. */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "chunk.h"
#include "secret.h"

struct env_chunker {
    EVP_CIPHER_CTX *ctx; /* key schedule set once; only the nonce changes per chunk */
    uint8_t prefix[ENV_NONCE_PREFIX_BYTES];
};

env_chunker *env_chunker_new(OSSL_LIB_CTX *libctx, const char *propq, const env_file_keys *keys)
{
    env_chunker *c = env_secret_new(sizeof(*c));
    EVP_CIPHER *aes = EVP_CIPHER_fetch(libctx, "AES-256-GCM", propq);

    if (c == NULL || aes == NULL || (c->ctx = EVP_CIPHER_CTX_new()) == NULL ||
        !EVP_CipherInit_ex2(c->ctx, aes, keys->data_key, NULL, 1, NULL)) {
        EVP_CIPHER_free(aes);
        env_chunker_free(c);
        return NULL;
    }
    EVP_CIPHER_free(aes); /* the context keeps its own reference */
    memcpy(c->prefix, keys->nonce_prefix, ENV_NONCE_PREFIX_BYTES);
    return c;
}

void env_chunker_free(env_chunker *c)
{
    if (c == NULL)
        return;
    EVP_CIPHER_CTX_free(c->ctx); /* the GCM implementations wipe their key schedules */
    env_secret_free(c, sizeof(*c));
}

static int chunk_start(env_chunker *c, uint64_t index, int last, int enc)
{
    uint8_t nonce[ENV_NONCE_BYTES];

    if (index > ENV_MAX_CHUNK_INDEX)
        return 0;
    memcpy(nonce, c->prefix, ENV_NONCE_PREFIX_BYTES);
    for (int i = 0; i < 7; i++)
        nonce[ENV_NONCE_PREFIX_BYTES + i] = (uint8_t)(index >> (8 * (6 - i)));
    nonce[ENV_NONCE_BYTES - 1] = last ? 1 : 0;
    return EVP_CipherInit_ex2(c->ctx, NULL, NULL, nonce, enc, NULL);
}

int env_chunk_seal(env_chunker *c, uint64_t index, int last, const uint8_t *in, size_t len,
                   uint8_t *out)
{
    int n = 0, fin = 0;

    if (len > ENV_MAX_CHUNK_BYTES || !chunk_start(c, index, last, 1) ||
        (len > 0 && !EVP_CipherUpdate(c->ctx, out, &n, in, (int)len)) ||
        !EVP_CipherFinal_ex(c->ctx, out + n, &fin) || (size_t)(n + fin) != len ||
        !EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_GET_TAG, ENV_TAG_BYTES, out + len))
        return 0;
    return 1;
}

int env_chunk_open(env_chunker *c, uint64_t index, int last, const uint8_t *in, size_t len,
                   uint8_t *out)
{
    size_t ct_len;
    int n = 0, fin = 0;

    if (len < ENV_TAG_BYTES || len - ENV_TAG_BYTES > ENV_MAX_CHUNK_BYTES)
        return 0;
    ct_len = len - ENV_TAG_BYTES;
    if (!chunk_start(c, index, last, 0) ||
        !EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_SET_TAG, ENV_TAG_BYTES, (void *)(in + ct_len)) ||
        (ct_len > 0 && !EVP_CipherUpdate(c->ctx, out, &n, in, (int)ct_len)) ||
        EVP_CipherFinal_ex(c->ctx, out + n, &fin) != 1 || (size_t)(n + fin) != ct_len) {
        /* Unauthenticated plaintext never leaves this function. */
        OPENSSL_cleanse(out, ct_len);
        return 0;
    }
    return 1;
}
