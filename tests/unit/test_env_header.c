/* test_env_header.c - the file header encodes byte-exactly and every malformed field is refused
 * with its own error; any changed header byte breaks the key commitment. */
#include <string.h>
#include <openssl/rand.h>
#include "testlib.h"
#include "../../envelope/header.h"
#include "../../envelope/keys.h"

static void header_sample(env_header *h)
{
    memset(h, 0, sizeof(*h));
    strcpy(h->key_name, "orders");
    strcpy(h->key_version, "0001");
    h->wrap_alg = ENV_WRAP_RSA_OAEP;
    h->wrapped_len = 256;
    memset(h->wrapped, 0xa5, h->wrapped_len);
    memset(h->salt, 0x5a, ENV_SALT_BYTES);
    h->chunk_bytes = 1 << 20;
    env_header_context_set(h, "tenant", "acme");
    env_header_context_set(h, "app", "billing");
    memset(h->commitment, 0xcc, ENV_COMMIT_BYTES);
}

static env_buf sample_encoded(void)
{
    env_header h;
    env_buf b = {0};

    header_sample(&h);
    CU_ASSERT_FATAL(env_header_encode(&h, &b));
    return b;
}

static void test_header_round_trip_keeps_every_field(void)
{
    env_header h, back;
    env_buf b = {0};
    size_t used = 0;

    header_sample(&h);
    CU_ASSERT_FATAL(env_header_encode(&h, &b));
    CU_ASSERT_EQUAL(env_header_parse(b.data, b.len, &back, &used), ENV_HDR_OK);
    CU_ASSERT_EQUAL(used, b.len);
    CU_ASSERT_STRING_EQUAL(back.key_name, "orders");
    CU_ASSERT_STRING_EQUAL(back.key_version, "0001");
    CU_ASSERT_EQUAL(back.wrap_alg, ENV_WRAP_RSA_OAEP);
    TEST_ASSERT_BYTES(back.wrapped, back.wrapped_len, h.wrapped, h.wrapped_len);
    TEST_ASSERT_BYTES(back.salt, sizeof(back.salt), h.salt, sizeof(h.salt));
    CU_ASSERT_EQUAL(back.chunk_bytes, 1u << 20);
    CU_ASSERT_EQUAL(back.ncontext, 2);
    CU_ASSERT_STRING_EQUAL(back.context[0].key, "app"); /* sorted */
    CU_ASSERT_STRING_EQUAL(back.context[1].value, "acme");
    TEST_ASSERT_BYTES(back.commitment, sizeof(back.commitment), h.commitment, sizeof(h.commitment));
    env_buf_free(&b);
}

static void test_header_layout_is_byte_exact(void)
{
    env_buf b = sample_encoded();

    /* magic, version, length: the first 9 bytes of docs/format.md */
    CU_ASSERT_EQUAL(memcmp(b.data, "CMKE\x01", 5), 0);
    CU_ASSERT_EQUAL(
        ((size_t)b.data[5] << 24 | (size_t)b.data[6] << 16 | (size_t)b.data[7] << 8 | b.data[8]),
        b.len);
    /* bound section: salt at 9, chunk size at 41, context count at 45, "app" at 46 */
    CU_ASSERT_EQUAL(b.data[9], 0x5a);
    CU_ASSERT_EQUAL(b.data[42], 0x10); /* 0x00100000 */
    CU_ASSERT_EQUAL(b.data[45], 2);
    CU_ASSERT_EQUAL(memcmp(b.data + 46,
                           "\x03"
                           "app"
                           "\x07"
                           "billing",
                           12),
                    0);
    /* wrap section at 70: alg, name, version, wrapped */
    CU_ASSERT_EQUAL(b.data[70], ENV_WRAP_RSA_OAEP);
    CU_ASSERT_EQUAL(memcmp(b.data + 71,
                           "\x06"
                           "orders"
                           "\x04"
                           "0001"
                           "\x01\x00",
                           14),
                    0);
    /* 9 fixed + salt 32 + chunk 4 + count 1 + "app"="billing" 12 + "tenant"="acme" 12 +
     * alg 1 + name 7 + version 5 + wrapped 258 + commitment 32 */
    CU_ASSERT_EQUAL(b.len, 9 + 32 + 4 + 1 + 12 + 12 + 1 + 7 + 5 + 258 + 32);
    env_buf_free(&b);
}

static void test_header_every_truncation_is_reported(void)
{
    env_buf b = sample_encoded();
    env_header h;
    size_t used;

    for (size_t n = 0; n < b.len; n++)
        CU_ASSERT_EQUAL(env_header_parse(b.data, n, &h, &used), ENV_HDR_TRUNCATED);
    env_buf_free(&b);
}

static env_header_err parse_patched(size_t at, uint8_t value)
{
    env_buf b = sample_encoded();
    env_header h;
    size_t used;
    env_header_err e;

    b.data[at] = value;
    e = env_header_parse(b.data, b.len, &h, &used);
    env_buf_free(&b);
    return e;
}

static void test_header_bad_fields_are_refused(void)
{
    CU_ASSERT_EQUAL(parse_patched(0, 'X'), ENV_HDR_NOT_CMK);
    CU_ASSERT_EQUAL(parse_patched(4, 2), ENV_HDR_VERSION);
    CU_ASSERT_EQUAL(parse_patched(8, 0), ENV_HDR_LENGTH);     /* length too small */
    CU_ASSERT_EQUAL(parse_patched(5, 0x7f), ENV_HDR_LENGTH);  /* length absurdly large */
    CU_ASSERT_EQUAL(parse_patched(42, 0), ENV_HDR_FIELD);     /* chunk size 0x00100000 -> 0 */
    CU_ASSERT_EQUAL(parse_patched(41, 0x10), ENV_HDR_FIELD);  /* 257 MiB > 16 MiB */
    CU_ASSERT_EQUAL(parse_patched(45, 33), ENV_HDR_CONTEXT);  /* too many pairs */
    CU_ASSERT_EQUAL(parse_patched(47, 'z'), ENV_HDR_CONTEXT); /* "zpp" > "tenant": unsorted */
    CU_ASSERT_EQUAL(parse_patched(47, 0), ENV_HDR_CONTEXT);   /* NUL in a context key */
    CU_ASSERT_EQUAL(parse_patched(70, 0), ENV_HDR_WRAP_ALG);
    CU_ASSERT_EQUAL(parse_patched(70, 3), ENV_HDR_WRAP_ALG);
    CU_ASSERT_EQUAL(parse_patched(71, 0), ENV_HDR_FIELD);    /* empty key name */
    CU_ASSERT_EQUAL(parse_patched(73, 0), ENV_HDR_FIELD);    /* NUL inside the key name */
    CU_ASSERT_EQUAL(parse_patched(78, 0), ENV_HDR_FIELD);    /* empty version */
    CU_ASSERT_EQUAL(parse_patched(78, 65), ENV_HDR_FIELD);   /* version too long */
    CU_ASSERT_EQUAL(parse_patched(83, 0), ENV_HDR_FIELD);    /* wrapped length 0 */
    CU_ASSERT_EQUAL(parse_patched(83, 0x10), ENV_HDR_FIELD); /* 4096 > 1024 */
}

static void test_header_length_must_match_fields(void)
{
    env_buf b = sample_encoded();
    env_header h;
    size_t used;

    /* One byte of slack claimed inside the header: the fields no longer fill it. */
    env_buf_u8(&b, 0);
    b.data[8]++;
    CU_ASSERT_EQUAL(env_header_parse(b.data, b.len, &h, &used), ENV_HDR_LENGTH);
    env_buf_free(&b);
}

static void test_header_encode_refuses_out_of_range(void)
{
    env_header h;
    env_buf b = {0};

    header_sample(&h);
    h.chunk_bytes = 10;
    CU_ASSERT_FALSE(env_header_encode(&h, &b));
    header_sample(&h);
    h.key_name[0] = '\0';
    CU_ASSERT_FALSE(env_header_encode(&h, &b));
    header_sample(&h);
    CU_ASSERT_FALSE(env_header_context_set(&h, "", "x"));
    env_buf_free(&b);
}

/* Every byte of the bound section (and the fixed prefix) changes the keys or breaks the parse;
 * the wrap section does not enter the derivation, so a rewrap keeps the body valid. */
static void test_bound_section_is_bound_and_wrap_section_is_not(void)
{
    uint8_t ikm[ENV_KEY_BYTES];
    env_file_keys keys, other;
    env_header h;
    env_buf b;
    size_t used, wrap_at = 70, bound = 0, free_bytes = 0;

    RAND_bytes(ikm, sizeof(ikm));
    b = sample_encoded();
    CU_ASSERT_FATAL(env_header_parse(b.data, b.len, &h, &used) == ENV_HDR_OK);
    CU_ASSERT_FATAL(env_file_keys_derive(NULL, NULL, ikm, &h, &keys));
    for (size_t at = 0; at < b.len - ENV_COMMIT_BYTES; at++) {
        int refused;

        b.data[at] ^= 0x01;
        refused = env_header_parse(b.data, b.len, &h, &used) != ENV_HDR_OK ||
                  (env_file_keys_derive(NULL, NULL, ikm, &h, &other) &&
                   !env_file_keys_check(&other, keys.commitment));
        if (at < wrap_at)
            bound += refused;
        else
            free_bytes += !refused; /* parsed and same keys: left to the unwrap to check */
        b.data[at] ^= 0x01;
    }
    CU_ASSERT_EQUAL(bound, wrap_at);
    CU_ASSERT(free_bytes > 256); /* at least the wrapped key's bytes */
    env_file_keys_wipe(&keys);
    env_file_keys_wipe(&other);
    env_buf_free(&b);
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("env_header", NULL, NULL);
    CU_add_test(s, "header_round_trip_keeps_every_field", test_header_round_trip_keeps_every_field);
    CU_add_test(s, "header_layout_is_byte_exact", test_header_layout_is_byte_exact);
    CU_add_test(s, "header_every_truncation_is_reported", test_header_every_truncation_is_reported);
    CU_add_test(s, "header_bad_fields_are_refused", test_header_bad_fields_are_refused);
    CU_add_test(s, "header_length_must_match_fields", test_header_length_must_match_fields);
    CU_add_test(s, "header_encode_refuses_out_of_range", test_header_encode_refuses_out_of_range);
    CU_add_test(s, "bound_section_is_bound_and_wrap_section_is_not",
                test_bound_section_is_bound_and_wrap_section_is_not);
    return testlib_run();
}
