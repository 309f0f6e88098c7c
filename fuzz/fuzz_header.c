/*
 * fuzz_header.c - the cmk file header parser (envelope/header.c) over untrusted bytes, directly
 * and through env_stream_header_read (envelope/stream.c) reading an in-memory file.
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *   - a header that parses re-encodes to exactly the bytes it was parsed from (one encoding);
 *   - env_stream_header_read accepts exactly what env_header_parse accepts, consumes exactly
 *     the header's bytes and leaves the file positioned right after it;
 *   - `cmk inspect --json` (cli/cmd_inspect.c) of a header that parses prints JSON that parses
 *     (json-c) back to the header's key name, version and context.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "fuzz_util.h"
#include "../cli/cmds.h"
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

/* Runs cmd_inspect on the input, its stdout captured; returns what it printed (caller frees). */
static char *inspect_run(const uint8_t *data, size_t size, int json, int *rc)
{
    cmk_cli cli = {0};
    char path[64], *argv[] = {"inspect", path, "--json", NULL};
    int in = fuzz_fd_with(data, size), out = fuzz_fd_with(NULL, 0), saved;
    size_t len;
    uint8_t *printed;

    fuzz_fd_path(in, path, sizeof(path));
    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    FUZZ_CHECK(saved >= 0 && dup2(out, STDOUT_FILENO) == STDOUT_FILENO);
    *rc = cmd_inspect(&cli, json ? 3 : 2, argv);
    fflush(stdout);
    FUZZ_CHECK(dup2(saved, STDOUT_FILENO) == STDOUT_FILENO);
    close(saved);
    printed = fuzz_fd_read_all(out, &len);
    printed[len] = '\0';
    close(in);
    close(out);
    return (char *)printed;
}

static const char *json_str_get(json_object *o, const char *name)
{
    json_object *v = NULL;

    FUZZ_CHECK(json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string));
    return json_object_get_string(v);
}

static void inspect_check(const uint8_t *data, size_t size, const env_header *h)
{
    int rc;
    char *text = inspect_run(data, size, 0, &rc), *js;
    json_object *o, *ctx = NULL;

    FUZZ_CHECK(rc == 0);
    free(text);
    js = inspect_run(data, size, 1, &rc);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK((o = json_tokener_parse(js)) != NULL);
    FUZZ_CHECK(strcmp(json_str_get(o, "key"), h->key_name) == 0);
    FUZZ_CHECK(strcmp(json_str_get(o, "key_version"), h->key_version) == 0);
    FUZZ_CHECK(json_object_object_get_ex(o, "context", &ctx));
    FUZZ_CHECK((size_t)json_object_object_length(ctx) == h->ncontext);
    for (size_t i = 0; i < h->ncontext; i++)
        FUZZ_CHECK(strcmp(json_str_get(ctx, h->context[i].key), h->context[i].value) == 0);
    json_object_put(o);
    free(js);
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
        inspect_check(copy, size, &h);
    }
    header_read(copy, size, herr, header_len);
    free(copy);
    return 0;
}
