/* test_env_stream.c - whole files round-trip at every size around the chunk boundaries, on one
 * or several threads; every kind of tampering with a sealed file is refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <openssl/rand.h>
#include "testlib.h"
#include "../../envelope/chunk.h"
#include "../../envelope/stream.h"

#define CHUNK 1024 /* the smallest chunk the format allows: many chunks from small inputs */

/* The chunk size seal() writes; the tests that take it from here also run with 4 KiB chunks,
 * where the pipeline holds back each record's bytes past a page boundary (pipeline.c). */
static size_t chunk = CHUNK;

static uint8_t ikm[ENV_KEY_BYTES];

static int fd_with(const uint8_t *buf, size_t len)
{
    FILE *f = tmpfile();
    int fd = dup(fileno(f));

    fclose(f);
    if (len > 0 && write(fd, buf, len) != (ssize_t)len)
        abort();
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static uint8_t *fd_read_all(int fd, size_t *len)
{
    off_t end = lseek(fd, 0, SEEK_END);
    uint8_t *buf = malloc((size_t)end + 1);

    lseek(fd, 0, SEEK_SET);
    *len = (size_t)read(fd, buf, (size_t)end);
    return buf;
}

static void header_set(env_header *h)
{
    strcpy(h->key_name, "k");
    strcpy(h->key_version, "1");
    h->wrap_alg = ENV_WRAP_RSA_OAEP;
    h->wrapped_len = 256;
    h->chunk_bytes = chunk;
}

static uint8_t *seal(const uint8_t *pt, size_t len, unsigned threads, size_t *out_len)
{
    env_stream_opts o = {.threads = threads};
    env_header h = {0};
    int in = fd_with(pt, len), out = fd_with(NULL, 0);
    uint8_t *ct;

    header_set(&h);
    CU_ASSERT_EQUAL(env_stream_encrypt(&o, &h, ikm, in, out), ENV_OK);
    ct = fd_read_all(out, out_len);
    close(in);
    close(out);
    return ct;
}

/* Decrypts ct; returns the env_err, and the plaintext in *pt when ENV_OK. */
static env_err open_file(const uint8_t *ct, size_t len, const uint8_t *key, unsigned threads,
                         uint8_t **pt, size_t *pt_len)
{
    env_stream_opts o = {.threads = threads};
    env_header h;
    env_header_err herr;
    env_buf raw = {0};
    int in = fd_with(ct, len), out = fd_with(NULL, 0);
    env_err e = env_stream_header_read(in, &h, &raw, &herr);

    if (e == ENV_OK)
        e = env_stream_decrypt(&o, &h, key, in, out);
    if (e == ENV_OK && pt != NULL)
        *pt = fd_read_all(out, pt_len);
    env_buf_free(&raw);
    close(in);
    close(out);
    return e;
}

static void test_stream_round_trip_around_chunk_boundaries(void)
{
    const size_t sizes[] = {0,         1,         chunk - 1,     chunk,
                            chunk + 1, 2 * chunk, 7 * chunk + 5, 40 * chunk + 1};
    static const unsigned threads[] = {1, 2, 3};
    uint8_t *pt = malloc(40 * chunk + 1);

    RAND_bytes(pt, 40 * chunk + 1);
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
            size_t ct_len, back_len = 0;
            uint8_t *ct = seal(pt, sizes[s], threads[t], &ct_len), *back = NULL;
            size_t chunks = sizes[s] / chunk + 1;

            /* the size is header + plaintext + one tag per chunk, nothing else */
            CU_ASSERT_EQUAL(ct_len, (size_t)(ct[5] << 24 | ct[6] << 16 | ct[7] << 8 | ct[8]) +
                                        sizes[s] + chunks * ENV_TAG_BYTES);
            CU_ASSERT_EQUAL(open_file(ct, ct_len, ikm, threads[(t + 1) % 3], &back, &back_len),
                            ENV_OK);
            TEST_ASSERT_BYTES(back, back_len, pt, sizes[s]);
            free(ct);
            free(back);
        }
    }
    free(pt);
}

/* Buffers are placed by the file offset each record starts at (pipeline.c): a stream that starts
 * mid-file, at any offset within a page, and one through pipes (no offset) round-trip alike. */
static void test_stream_round_trip_at_any_offset_and_through_pipes(void)
{
    static const off_t starts[] = {1, 15, 17, 4095, 4097, 8192 + 333};
    size_t len = 9 * chunk + 77, ct_len, back_len = 0;
    uint8_t *pt = malloc(len), *ct, *back = NULL;
    uint8_t junk[8192 + 333];
    env_stream_opts o = {.threads = 2};

    RAND_bytes(pt, (int)len);
    RAND_bytes(junk, sizeof(junk));
    for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
        env_header h = {0};
        int in = fd_with(junk, (size_t)starts[k]), out = fd_with(junk, (size_t)starts[k] / 2 + 1);
        off_t out_at = starts[k] / 2 + 1;

        header_set(&h);
        CU_ASSERT_EQUAL(pwrite(in, pt, len, starts[k]), (ssize_t)len);
        lseek(in, starts[k], SEEK_SET);
        lseek(out, out_at, SEEK_SET);
        CU_ASSERT_EQUAL(env_stream_encrypt(&o, &h, ikm, in, out), ENV_OK);
        ct_len = (size_t)(lseek(out, 0, SEEK_END) - out_at);
        ct = malloc(ct_len);
        CU_ASSERT_EQUAL(pread(out, ct, ct_len, out_at), (ssize_t)ct_len);
        CU_ASSERT_EQUAL(open_file(ct, ct_len, ikm, 2, &back, &back_len), ENV_OK);
        TEST_ASSERT_BYTES(back, back_len, pt, len);
        free(back);
        back = NULL;
        free(ct);
        close(in);
        close(out);
    }
    { /* pipes, both ways: small enough to sit in the pipes' buffers */
        int pin[2], pout[2];
        env_header h = {0};
        uint8_t got[12 * 4096]; /* 12 chunks of either size */
        ssize_t n;

        CU_ASSERT_EQUAL_FATAL(pipe(pin), 0);
        CU_ASSERT_EQUAL_FATAL(pipe(pout), 0);
        header_set(&h);
        CU_ASSERT_EQUAL(write(pin[1], pt, len), (ssize_t)len);
        close(pin[1]);
        CU_ASSERT_EQUAL(env_stream_encrypt(&o, &h, ikm, pin[0], pout[1]), ENV_OK);
        close(pout[1]);
        n = read(pout[0], got, sizeof(got));
        CU_ASSERT_TRUE(n > (ssize_t)len);
        CU_ASSERT_EQUAL(open_file(got, (size_t)n, ikm, 2, &back, &back_len), ENV_OK);
        TEST_ASSERT_BYTES(back, back_len, pt, len);
        free(back);
        close(pin[0]);
        close(pout[0]);
    }
    free(pt);
}

static void test_stream_refuses_a_flipped_bit_anywhere(void)
{
    uint8_t pt[3 * CHUNK + 100];
    size_t len;
    uint8_t *ct;
    unsigned refused = 0, tried = 0;

    RAND_bytes(pt, sizeof(pt));
    ct = seal(pt, sizeof(pt), 2, &len);
    /* every byte of the header and around each chunk boundary, and a stride elsewhere; the
     * wrap section (from byte 46 here: no context) is checked by the unwrap in the token, which
     * this test bypasses by handing over the intermediate key itself */
    for (size_t at = 0; at < len; at += (at < 400 || (at % (CHUNK + 16)) < 20) ? 1 : 61) {
        size_t hdr = (size_t)(ct[5] << 24 | ct[6] << 16 | ct[7] << 8 | ct[8]);

        if (at >= 46 && at < hdr - ENV_COMMIT_BYTES)
            continue;
        ct[at] ^= 0x10;
        tried++;
        refused += open_file(ct, len, ikm, 2, NULL, NULL) != ENV_OK;
        ct[at] ^= 0x10;
    }
    CU_ASSERT_EQUAL(refused, tried);
    free(ct);
}

static void test_stream_refuses_truncation_at_and_between_chunks(void)
{
    uint8_t pt[3 * CHUNK];
    size_t len, hdr;
    uint8_t *ct;

    RAND_bytes(pt, sizeof(pt));
    ct = seal(pt, sizeof(pt), 1, &len);
    hdr = (size_t)(ct[5] << 24 | ct[6] << 16 | ct[7] << 8 | ct[8]);
    for (size_t cut = 0; cut < len; cut++) {
        env_err e = open_file(ct, cut, ikm, 1, NULL, NULL);

        CU_ASSERT_NOT_EQUAL(e, ENV_OK);
        if (cut < hdr)
            CU_ASSERT_EQUAL(e, ENV_E_HEADER); /* cut inside the header */
        if (cut > hdr && (cut - hdr) % (CHUNK + ENV_TAG_BYTES) == 0)
            CU_ASSERT_EQUAL(e, ENV_E_TRUNCATED); /* cut at a chunk boundary */
    }
    free(ct);
}

static void test_stream_refuses_appended_swapped_and_spliced_data(void)
{
    uint8_t pt[3 * CHUNK + 10];
    size_t len, len2, hdr;
    uint8_t *ct, *ct2, *longer;
    size_t rec = CHUNK + ENV_TAG_BYTES;

    RAND_bytes(pt, sizeof(pt));
    ct = seal(pt, sizeof(pt), 1, &len);
    ct2 = seal(pt, sizeof(pt), 1, &len2); /* same key, same plaintext: another salt */
    hdr = (size_t)(ct[5] << 24 | ct[6] << 16 | ct[7] << 8 | ct[8]);

    longer = malloc(len + 1);
    memcpy(longer, ct, len);
    longer[len] = 0;
    CU_ASSERT_EQUAL(open_file(longer, len + 1, ikm, 1, NULL, NULL), ENV_E_AUTH);

    memcpy(longer, ct, len); /* swap chunks 0 and 1 */
    memcpy(longer + hdr, ct + hdr + rec, rec);
    memcpy(longer + hdr + rec, ct + hdr, rec);
    CU_ASSERT_EQUAL(open_file(longer, len, ikm, 1, NULL, NULL), ENV_E_AUTH);

    memcpy(longer, ct, len); /* chunk 1 duplicated over chunk 2 */
    memcpy(longer + hdr + 2 * rec, ct + hdr + rec, rec);
    CU_ASSERT_EQUAL(open_file(longer, len, ikm, 1, NULL, NULL), ENV_E_AUTH);

    memcpy(longer, ct, len); /* the header of another file of the same key */
    memcpy(longer, ct2, hdr);
    CU_ASSERT_EQUAL(open_file(longer, len, ikm, 1, NULL, NULL), ENV_E_AUTH);

    memcpy(longer, ct, len); /* a chunk from another file */
    memcpy(longer + hdr + rec, ct2 + hdr + rec, rec);
    CU_ASSERT_EQUAL(open_file(longer, len, ikm, 1, NULL, NULL), ENV_E_AUTH);
    free(longer);
    free(ct);
    free(ct2);
}

/* A changed chunk k in the middle of a long file, opened on several threads: exactly the
 * plaintext of chunks 0..k-1 comes out, in order, and nothing of chunk k or after it. The
 * output starts out_at bytes into its file (decrypting to a shell's `>>`). */
static size_t out_at;

static void test_stream_releases_only_chunks_before_a_bad_one(void)
{
    static const unsigned threads[] = {1, 2, 4};
    size_t pt_len = 60 * chunk + 7, len, hdr;
    uint8_t *pt = malloc(pt_len), *ct;

    RAND_bytes(pt, pt_len);
    ct = seal(pt, pt_len, 2, &len);
    hdr = (size_t)(ct[5] << 24 | ct[6] << 16 | ct[7] << 8 | ct[8]);
    for (size_t k = 0; k < 60; k += 13) {
        for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
            env_stream_opts o = {.threads = threads[t]};
            env_header h;
            env_header_err herr;
            env_buf raw = {0};
            size_t at = hdr + k * (chunk + ENV_TAG_BYTES) + 5, out_len;
            int in, out = fd_with(pt, out_at);
            uint8_t *back;

            lseek(out, (off_t)out_at, SEEK_SET);
            ct[at] ^= 0x01;
            in = fd_with(ct, len);
            CU_ASSERT_EQUAL_FATAL(env_stream_header_read(in, &h, &raw, &herr), ENV_OK);
            CU_ASSERT_EQUAL(env_stream_decrypt(&o, &h, ikm, in, out), ENV_E_AUTH);
            back = fd_read_all(out, &out_len);
            CU_ASSERT_EQUAL(out_len, out_at + k * chunk);
            TEST_ASSERT_BYTES(back + out_at, out_len - out_at, pt, k * chunk);
            ct[at] ^= 0x01;
            free(back);
            env_buf_free(&raw);
            close(in);
            close(out);
        }
    }
    free(pt);
    free(ct);
}

/* With 4 KiB chunks a sealed record is 4112 bytes: each write holds back what passes a page
 * boundary for the next one, and a failing record still lets every byte before it out. */
static void test_stream_with_4k_chunks_round_trips_and_releases_whole_chunks(void)
{
    chunk = 4096;
    test_stream_round_trip_around_chunk_boundaries();
    test_stream_round_trip_at_any_offset_and_through_pipes();
    test_stream_releases_only_chunks_before_a_bad_one();
    out_at = 100; /* so decrypted records, too, cross page boundaries */
    test_stream_releases_only_chunks_before_a_bad_one();
    out_at = 0;
    chunk = CHUNK;
}

/* 512-byte sectors a file of len bytes fills in whole 4 KiB blocks (small files: no extent
 * index blocks). */
static long long blocks_for(off_t len)
{
    return (long long)((len + 4095) / 4096 * 8);
}

/* With reserve_out, on ext4, the output's blocks are reserved up front for exactly the output
 * the input implies: a complete file holds no block past its end, whatever its size, each way;
 * one that stops early (a bad chunk) still holds the whole reservation. */
static void test_stream_reserves_exactly_the_output_on_ext4(void)
{
    const size_t sizes[] = {1, CHUNK - 1, CHUNK, CHUNK + 1, 7 * CHUNK + 5, 100 * CHUNK + 1};
    uint8_t *pt = malloc(100 * CHUNK + 1);
    int probe = fd_with(NULL, 0);
    struct statfs fs;

    if (fstatfs(probe, &fs) != 0 || fs.f_type != EXT4_SUPER_MAGIC) {
        TEST_SKIP("the output's blocks are reserved only on ext4, and tmpfile()'s folder is "
                  "on another filesystem (TMPDIR picks it)");
        goto end;
    }
    RAND_bytes(pt, 100 * CHUNK + 1);
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (int reserve = 0; reserve <= 1; reserve++) {
            env_stream_opts o = {.threads = 2, .reserve_out = reserve};
            env_header h = {0};
            env_header_err herr;
            env_buf raw = {0};
            int in = fd_with(pt, sizes[s]), mid = fd_with(NULL, 0), out = fd_with(NULL, 0);
            struct stat st;

            header_set(&h);
            CU_ASSERT_EQUAL(env_stream_encrypt(&o, &h, ikm, in, mid), ENV_OK);
            CU_ASSERT_EQUAL_FATAL(fstat(mid, &st), 0);
            CU_ASSERT_EQUAL(st.st_blocks, blocks_for(st.st_size));
            lseek(mid, 0, SEEK_SET);
            CU_ASSERT_EQUAL_FATAL(env_stream_header_read(mid, &h, &raw, &herr), ENV_OK);
            CU_ASSERT_EQUAL(env_stream_decrypt(&o, &h, ikm, mid, out), ENV_OK);
            CU_ASSERT_EQUAL_FATAL(fstat(out, &st), 0);
            CU_ASSERT_EQUAL(st.st_size, (off_t)sizes[s]);
            CU_ASSERT_EQUAL(st.st_blocks, blocks_for(st.st_size));
            env_buf_free(&raw);
            close(in);
            close(mid);
            close(out);
        }
    }
    { /* chunk 10 of 101 changed: ten chunks out, the blocks of all 101 reserved */
        env_stream_opts o = {.threads = 2, .reserve_out = 1};
        size_t len, hdr;
        uint8_t *ct = seal(pt, 100 * CHUNK + 1, 2, &len);
        env_header h;
        env_header_err herr;
        env_buf raw = {0};
        int in, out = fd_with(NULL, 0);
        struct stat st;

        hdr = (size_t)(ct[5] << 24 | ct[6] << 16 | ct[7] << 8 | ct[8]);
        ct[hdr + 10 * (CHUNK + ENV_TAG_BYTES) + 3] ^= 1;
        in = fd_with(ct, len);
        CU_ASSERT_EQUAL_FATAL(env_stream_header_read(in, &h, &raw, &herr), ENV_OK);
        CU_ASSERT_EQUAL(env_stream_decrypt(&o, &h, ikm, in, out), ENV_E_AUTH);
        CU_ASSERT_EQUAL_FATAL(fstat(out, &st), 0);
        CU_ASSERT_EQUAL(st.st_size, 10 * CHUNK);
        CU_ASSERT_EQUAL(st.st_blocks, blocks_for(100 * CHUNK + 1));
        env_buf_free(&raw);
        close(in);
        close(out);
        free(ct);
    }
end:
    close(probe);
    free(pt);
}

/* Failed reads and writes say which, with the errno of the failing call. */
static void test_stream_io_errors_keep_errno(void)
{
    env_stream_opts o = {.threads = 2};
    env_header h = {0}, got;
    env_header_err herr;
    env_buf raw = {0};
    uint8_t pt[5 * CHUNK];
    size_t len;
    uint8_t *ct;
    int dir = open(".", O_RDONLY | O_DIRECTORY), full = open("/dev/full", O_WRONLY), in;

    if (dir < 0 || full < 0) {
        TEST_SKIP("needs the current directory and /dev/full");
        goto end;
    }
    header_set(&h);
    errno = 0;
    CU_ASSERT_EQUAL(env_stream_encrypt(&o, &h, ikm, dir, fd_with(NULL, 0)), ENV_E_READ);
    CU_ASSERT_EQUAL(errno, EISDIR);
    RAND_bytes(pt, sizeof(pt));
    ct = seal(pt, sizeof(pt), 2, &len);
    in = fd_with(ct, len);
    CU_ASSERT_EQUAL_FATAL(env_stream_header_read(in, &got, &raw, &herr), ENV_OK);
    errno = 0;
    CU_ASSERT_EQUAL(env_stream_decrypt(&o, &got, ikm, in, full), ENV_E_WRITE);
    CU_ASSERT_EQUAL(errno, ENOSPC);
    close(in);
    free(ct);
    env_buf_free(&raw);
end:
    if (dir >= 0)
        close(dir);
    if (full >= 0)
        close(full);
}

static void test_stream_wrong_key_fails_the_commitment(void)
{
    uint8_t pt[10] = "ten bytes", other[ENV_KEY_BYTES];
    size_t len;
    uint8_t *ct = seal(pt, sizeof(pt), 1, &len);

    memcpy(other, ikm, sizeof(other));
    other[0] ^= 1;
    CU_ASSERT_EQUAL(open_file(ct, len, other, 1, NULL, NULL), ENV_E_COMMIT);
    free(ct);
}

static void test_stream_header_errors_are_named(void)
{
    env_header h;
    env_header_err herr;
    env_buf raw = {0};
    int fd = fd_with((const uint8_t *)"hello, world", 12);

    CU_ASSERT_EQUAL(env_stream_header_read(fd, &h, &raw, &herr), ENV_E_HEADER);
    CU_ASSERT_EQUAL(herr, ENV_HDR_NOT_CMK);
    close(fd);
    env_buf_free(&raw);
    fd = fd_with((const uint8_t *)"CMK", 3);
    CU_ASSERT_EQUAL(env_stream_header_read(fd, &h, &raw, &herr), ENV_E_HEADER);
    CU_ASSERT_EQUAL(herr, ENV_HDR_TRUNCATED);
    close(fd);
    env_buf_free(&raw);
}

int main(void)
{
    CU_pSuite s;

    RAND_bytes(ikm, sizeof(ikm));
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("env_stream", NULL, NULL);
    CU_add_test(s, "stream_round_trip_around_chunk_boundaries",
                test_stream_round_trip_around_chunk_boundaries);
    CU_add_test(s, "stream_round_trip_at_any_offset_and_through_pipes",
                test_stream_round_trip_at_any_offset_and_through_pipes);
    CU_add_test(s, "stream_refuses_a_flipped_bit_anywhere",
                test_stream_refuses_a_flipped_bit_anywhere);
    CU_add_test(s, "stream_refuses_truncation_at_and_between_chunks",
                test_stream_refuses_truncation_at_and_between_chunks);
    CU_add_test(s, "stream_refuses_appended_swapped_and_spliced_data",
                test_stream_refuses_appended_swapped_and_spliced_data);
    CU_add_test(s, "stream_releases_only_chunks_before_a_bad_one",
                test_stream_releases_only_chunks_before_a_bad_one);
    CU_add_test(s, "stream_with_4k_chunks_round_trips_and_releases_whole_chunks",
                test_stream_with_4k_chunks_round_trips_and_releases_whole_chunks);
    CU_add_test(s, "stream_reserves_exactly_the_output_on_ext4",
                test_stream_reserves_exactly_the_output_on_ext4);
    CU_add_test(s, "stream_io_errors_keep_errno", test_stream_io_errors_keep_errno);
    CU_add_test(s, "stream_wrong_key_fails_the_commitment",
                test_stream_wrong_key_fails_the_commitment);
    CU_add_test(s, "stream_header_errors_are_named", test_stream_header_errors_are_named);
    return testlib_run();
}
