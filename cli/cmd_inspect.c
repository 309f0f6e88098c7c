/*
 * cmd_inspect.c - `cmk inspect FILE [--json]`: a file's header, read without any key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cmds.h"
#include "../envelope/stream.h"

static const char *wrap_alg_name(env_wrap_alg a)
{
    return a == ENV_WRAP_RSA_OAEP_256 ? "RSA-OAEP-256" : "RSA-OAEP";
}

/* JSON string: the header's text fields exclude NUL; escape quotes, backslashes, controls. */
static void json_str(const char *s)
{
    putchar('"');
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void inspect_json(const env_header *h, size_t header_len)
{
    printf("{\"format\":%d,\"header_bytes\":%zu,\"key\":", ENV_FORMAT_VERSION, header_len);
    json_str(h->key_name);
    printf(",\"key_version\":");
    json_str(h->key_version);
    printf(",\"wrap_algorithm\":\"%s\",\"wrapped_key_bytes\":%zu,\"chunk_bytes\":%u,"
           "\"context\":{",
           wrap_alg_name(h->wrap_alg), h->wrapped_len, h->chunk_bytes);
    for (size_t i = 0; i < h->ncontext; i++) {
        if (i > 0)
            putchar(',');
        json_str(h->context[i].key);
        putchar(':');
        json_str(h->context[i].value);
    }
    printf("}}\n");
}

static void inspect_text(const char *path, const env_header *h, size_t header_len)
{
    printf("%s: cmk file, format %d, header %zu bytes\n", path, ENV_FORMAT_VERSION, header_len);
    printf("  key:          %s\n  key version:  %s\n", h->key_name, h->key_version);
    printf("  wrap:         %s (%zu-byte wrapped key)\n", wrap_alg_name(h->wrap_alg),
           h->wrapped_len);
    printf("  chunk size:   %u bytes\n", h->chunk_bytes);
    for (size_t i = 0; i < h->ncontext; i++)
        printf("  context:      %s=%s\n", h->context[i].key, h->context[i].value);
}

int cmd_inspect(cmk_cli *cli, int argc, char **argv)
{
    const char *path = NULL;
    env_header h;
    env_header_err herr;
    env_buf raw = {0};
    int json = 0, fd, rc = CMK_EXIT_OK;

    (void)cli;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (path == NULL)
            path = argv[i];
        else
            return cli_fail(CMK_EXIT_USAGE, "usage: cmk inspect FILE [--json]");
    }
    if (path == NULL)
        return cli_fail(CMK_EXIT_USAGE, "usage: cmk inspect FILE [--json]");
    fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cli_fail(CMK_EXIT_FAIL, "%s: %s", path, strerror(errno));
    if (env_stream_header_read(fd, &h, &raw, &herr) != ENV_OK)
        rc = cli_fail(CMK_EXIT_FAIL, "%s: %s", path, env_header_err_str(herr));
    else if (json)
        inspect_json(&h, raw.len);
    else
        inspect_text(path, &h, raw.len);
    if (fd != STDIN_FILENO)
        close(fd);
    env_buf_free(&raw);
    return rc;
}
