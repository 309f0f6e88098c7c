/* test_env_chunk.c - body chunks open only at their own place, in their own file, untouched;
 * a failed open releases nothing. */
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "testlib.h"
#include "../../envelope/chunk.h"

static env_file_keys file_keys(void)
{
    env_file_keys k;

    RAND_bytes((uint8_t *)&k, sizeof(k));
    return k;
}

static void test_chunk_round_trip_all_sizes(void)
{
    env_file_keys k = file_keys();
    env_chunker *c = env_chunker_new(NULL, NULL, &k);
    uint8_t in[1100], sealed[1100 + ENV_TAG_BYTES], out[1100];

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    RAND_bytes(in, sizeof(in));
    for (size_t len = 0; len <= sizeof(in); len += (len < 40 ? 1 : 97)) {
        CU_ASSERT_TRUE(env_chunk_seal(c, 7, len % 2, in, len, sealed));
        CU_ASSERT_TRUE(env_chunk_open(c, 7, len % 2, sealed, len + ENV_TAG_BYTES, out));
        TEST_ASSERT_BYTES(out, len, in, len);
    }
    env_chunker_free(c);
}

/* The stream seals and opens in place (one buffer per chunk in flight): same bytes out. */
static void test_chunk_in_place_matches_out_of_place(void)
{
    env_file_keys k = file_keys();
    env_chunker *c = env_chunker_new(NULL, NULL, &k);
    uint8_t in[3000], sealed[3000 + ENV_TAG_BYTES], buf[3000 + ENV_TAG_BYTES];

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    RAND_bytes(in, sizeof(in));
    for (size_t len = 0; len <= sizeof(in); len += 1 + len / 2) {
        memcpy(buf, in, len);
        CU_ASSERT_TRUE(env_chunk_seal(c, 3, 0, in, len, sealed));
        CU_ASSERT_TRUE(env_chunk_seal(c, 3, 0, buf, len, buf));
        TEST_ASSERT_BYTES(buf, len + ENV_TAG_BYTES, sealed, len + ENV_TAG_BYTES);
        CU_ASSERT_TRUE(env_chunk_open(c, 3, 0, buf, len + ENV_TAG_BYTES, buf));
        TEST_ASSERT_BYTES(buf, len, in, len);
        /* a refused chunk opened in place is wiped, not left as ciphertext or plaintext */
        memcpy(buf, sealed, len + ENV_TAG_BYTES);
        buf[len] ^= 1;
        CU_ASSERT_FALSE(env_chunk_open(c, 3, 0, buf, len + ENV_TAG_BYTES, buf));
        for (size_t i = 0; i < len; i++)
            if (buf[i] != 0) {
                CU_FAIL("refused chunk not wiped");
                break;
            }
    }
    env_chunker_free(c);
}

static void test_chunk_refuses_every_flipped_bit(void)
{
    env_file_keys k = file_keys();
    env_chunker *c = env_chunker_new(NULL, NULL, &k);
    uint8_t in[64], sealed[64 + ENV_TAG_BYTES], out[64];
    unsigned refused = 0;

    RAND_bytes(in, sizeof(in));
    CU_ASSERT_FATAL(env_chunk_seal(c, 0, 0, in, sizeof(in), sealed));
    for (size_t bit = 0; bit < 8 * sizeof(sealed); bit++) {
        sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        memset(out, 0xee, sizeof(out));
        if (!env_chunk_open(c, 0, 0, sealed, sizeof(sealed), out)) {
            uint8_t zero[sizeof(out)] = {0};

            refused++;
            /* nothing unauthenticated is released: the output was wiped */
            CU_ASSERT_EQUAL(memcmp(out, zero, sizeof(out)), 0);
        }
        sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    CU_ASSERT_EQUAL(refused, 8 * sizeof(sealed));
    env_chunker_free(c);
}

static void test_chunk_is_bound_to_index_last_flag_and_file(void)
{
    env_file_keys k = file_keys(), other = file_keys();
    env_chunker *c = env_chunker_new(NULL, NULL, &k);
    env_chunker *o = env_chunker_new(NULL, NULL, &other);
    uint8_t in[32] = "thirty-two bytes of plain text!", sealed[32 + ENV_TAG_BYTES], out[32];

    CU_ASSERT_FATAL(env_chunk_seal(c, 5, 0, in, sizeof(in), sealed));
    CU_ASSERT_TRUE(env_chunk_open(c, 5, 0, sealed, sizeof(sealed), out));
    CU_ASSERT_FALSE(env_chunk_open(c, 4, 0, sealed, sizeof(sealed), out)); /* reordered */
    CU_ASSERT_FALSE(env_chunk_open(c, 5, 1, sealed, sizeof(sealed), out)); /* truncated here */
    CU_ASSERT_FALSE(env_chunk_open(o, 5, 0, sealed, sizeof(sealed), out)); /* spliced */
    CU_ASSERT_FALSE(env_chunk_open(c, 5, 0, sealed, sizeof(sealed) - 1, out));
    CU_ASSERT_FALSE(env_chunk_open(c, 5, 0, sealed, ENV_TAG_BYTES - 1, out));
    env_chunker_free(c);
    env_chunker_free(o);
}

static void test_chunk_empty_last_chunk_is_authenticated(void)
{
    env_file_keys k = file_keys();
    env_chunker *c = env_chunker_new(NULL, NULL, &k);
    uint8_t tag[ENV_TAG_BYTES], out[1];

    CU_ASSERT_FATAL(env_chunk_seal(c, 0, 1, NULL, 0, tag));
    CU_ASSERT_TRUE(env_chunk_open(c, 0, 1, tag, sizeof(tag), out));
    tag[3] ^= 0x80;
    CU_ASSERT_FALSE(env_chunk_open(c, 0, 1, tag, sizeof(tag), out));
    env_chunker_free(c);
}

static void test_chunk_index_range_is_enforced(void)
{
    env_file_keys k = file_keys();
    env_chunker *c = env_chunker_new(NULL, NULL, &k);
    uint8_t buf[ENV_TAG_BYTES];

    CU_ASSERT_TRUE(env_chunk_seal(c, ENV_MAX_CHUNK_INDEX, 1, NULL, 0, buf));
    CU_ASSERT_FALSE(env_chunk_seal(c, ENV_MAX_CHUNK_INDEX + 1, 1, NULL, 0, buf));
    env_chunker_free(c);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("env_chunk", NULL, NULL);
    CU_add_test(s, "chunk_round_trip_all_sizes", test_chunk_round_trip_all_sizes);
    CU_add_test(s, "chunk_in_place_matches_out_of_place", test_chunk_in_place_matches_out_of_place);
    CU_add_test(s, "chunk_refuses_every_flipped_bit", test_chunk_refuses_every_flipped_bit);
    CU_add_test(s, "chunk_is_bound_to_index_last_flag_and_file",
                test_chunk_is_bound_to_index_last_flag_and_file);
    CU_add_test(s, "chunk_empty_last_chunk_is_authenticated",
                test_chunk_empty_last_chunk_is_authenticated);
    CU_add_test(s, "chunk_index_range_is_enforced", test_chunk_index_range_is_enforced);
    return testlib_run();
}
