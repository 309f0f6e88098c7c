/* test_env_secret.c - key material comes from the locked, undumped secure heap once cmk made it. */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "testlib.h"
#include "../../envelope/chunk.h"
#include "../../envelope/secret.h"

static void test_secret_heap_is_locked(void)
{
    uint8_t *k;

    if (!env_secret_heap_init()) {
        TEST_SKIP("the secure heap could not be locked here (RLIMIT_MEMLOCK)");
        return;
    }
    k = env_secret_new(ENV_KEY_BYTES);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    CU_ASSERT_TRUE(env_secret_locked(k));
    CU_ASSERT_EQUAL(k[0] | k[ENV_KEY_BYTES - 1], 0); /* zeroed */
    env_secret_free(k, ENV_KEY_BYTES);
}

static void test_secret_chunker_lives_in_the_secure_heap(void)
{
    env_file_keys keys;
    env_chunker *c;

    if (!env_secret_heap_init()) {
        TEST_SKIP("the secure heap could not be locked here (RLIMIT_MEMLOCK)");
        return;
    }
    RAND_bytes((uint8_t *)&keys, sizeof(keys));
    c = env_chunker_new(NULL, NULL, &keys);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_TRUE(env_secret_locked(c));
    env_chunker_free(c);
    env_file_keys_wipe(&keys);
}

static void test_secret_without_heap_still_works(void)
{
    /* Before any heap exists (another application), secrets come from the ordinary heap. */
    uint8_t *k = env_secret_new(16);

    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    env_secret_free(k, 16);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("env_secret", NULL, NULL);
    CU_add_test(s, "secret_without_heap_still_works", test_secret_without_heap_still_works);
    CU_add_test(s, "secret_heap_is_locked", test_secret_heap_is_locked);
    CU_add_test(s, "secret_chunker_lives_in_the_secure_heap",
                test_secret_chunker_lives_in_the_secure_heap);
    return testlib_run();
}
