/* secret.c - key material in OpenSSL's secure heap; see secret.h. */
#include <openssl/crypto.h>
#include "secret.h"

int env_secret_heap_init(void)
{
    /* 1: heap made and locked; 2: made, but mlock failed (RLIMIT_MEMLOCK); 0: none. */
    return CRYPTO_secure_malloc_initialized() ||
           CRYPTO_secure_malloc_init(ENV_SECRET_HEAP_BYTES, 32) == 1;
}

void *env_secret_new(size_t n)
{
    return OPENSSL_secure_zalloc(n);
}

void env_secret_free(void *p, size_t n)
{
    OPENSSL_secure_clear_free(p, n);
}

int env_secret_locked(const void *p)
{
    return CRYPTO_secure_allocated(p);
}
