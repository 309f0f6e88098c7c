/*
 * fuzz_header.c - the cmk file header parser (envelope/header.c) over untrusted bytes, directly
 * and through env_stream_header_read (envelope/stream.c) reading an in-memory file.
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *   - a header that parses re-encodes to exactly the bytes it was parsed from (one encoding);
 *   - env_stream_header_read accepts exactly what env_header_parse accepts, consumes exactly
 *     the header's bytes and leaves the file positioned right after it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz_util.h"
#include "../envelope/header.h"
#include "../envelope/stream.h"

static void header_reencode(const uint8_t *data, const env_header *h, size_t header_len)
{
    env_buf out = {0}, bound = {0};

    FUZZ_CHECK(env_header_encode(h, &out));
    FUZZ_CHECK(out.len == header_len && memcmp(out.data, data, header_len) == 0);
    /* The bound section is the header's salt, chunk size and context, after magic and version. */
    FUZZ_CHECK(env_header_bound_encode(h, &bound));
    FUZZ_CHECK(bound.len <= header_len);
    env_buf_free(&out);
    env_buf_free(&bound);
}

static void header_read(const uint8_t *data, size_t size, env_header_err want, size_t want_len)
{
    int fd = fuzz_fd_with(data, size);
    env_header h;
    env_header_err herr = ENV_HDR_OK;
    env_buf raw = {0};
    env_err e = env_stream_header_read(fd, &h, &raw, &herr);

    if (want == ENV_HDR_OK) {
        FUZZ_CHECK(e == ENV_OK);
        FUZZ_CHECK(raw.len == want_len && memcmp(raw.data, data, want_len) == 0);
        FUZZ_CHECK(lseek(fd, 0, SEEK_CUR) == (off_t)want_len);
    } else {
        FUZZ_CHECK(e == ENV_E_HEADER);
        FUZZ_CHECK(herr == want);
    }
    env_buf_free(&raw);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    env_header h;
    size_t header_len = 0;
    /* a copy of exactly size bytes, so that any read past the end is caught */
    uint8_t *copy = malloc(size > 0 ? size : 1);
    env_header_err herr;

    memcpy(copy, data, size);
    herr = env_header_parse(copy, size, &h, &header_len);
    if (herr == ENV_HDR_OK) {
        FUZZ_CHECK(header_len >= ENV_FIXED_PREFIX_BYTES && header_len <= size);
        header_reencode(copy, &h, header_len);
    }
    header_read(copy, size, herr, header_len);
    free(copy);
    return 0;
}
