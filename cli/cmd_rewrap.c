/*
 * cmd_rewrap.c - `cmk rewrap [--key NAME] FILE...`: moves files to a key's current version (or
 * to another key) by replacing only the header's wrap section; the body is copied as it is.
 * This is how existing data follows a rotation, or leaves a version about to be disabled,
 * without being decrypted or re-encrypted. Each file is replaced atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "cmds.h"
#include "outfile.h"
#include "token.h"
#include "wrap.h"
#include "../envelope/secret.h"
#include "../envelope/stream.h"

/* Copies the rest of in_fd to out_fd (the body), in the kernel where it can. */
static int body_copy(int in_fd, int out_fd)
{
    char buf[1 << 16];
    ssize_t n;

    for (;;) {
        n = copy_file_range(in_fd, NULL, out_fd, NULL, 1 << 30, 0);
        if (n == 0)
            return 1;
        if (n < 0)
            break;
    }
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return 0;
    while ((n = read(in_fd, buf, sizeof(buf))) > 0)
        if (write(out_fd, buf, (size_t)n) != n)
            return 0;
    return n == 0;
}

static int rewrap_one(cmk_cli *cli, const char *target, const char *path)
{
    env_header h;
    env_header_err herr;
    env_buf raw = {0}, hdr = {0};
    uint8_t *ikm = NULL;
    p11_key *k = NULL;
    char *version = NULL;
    cli_out out = {.fd = -1};
    struct stat st;
    int fd, rc;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return cli_fail(CMK_EXIT_FAIL, "%s: %s", path, strerror(errno));
    if (env_stream_header_read(fd, &h, &raw, &herr) != ENV_OK) {
        rc = cli_fail(CMK_EXIT_FAIL, "%s: %s", path, env_header_err_str(herr));
        goto end;
    }
    if ((ikm = env_secret_new(ENV_KEY_BYTES)) == NULL) {
        rc = cli_fail(CMK_EXIT_FAIL, "out of memory");
        goto end;
    }
    if ((rc = cli_unwrap(cli, &h, ikm)) != CMK_EXIT_OK)
        goto end;
    if ((k = cli_key_current(cli, target != NULL ? target : h.key_name)) == NULL ||
        (version = cli_key_version(k)) == NULL) {
        rc = cli_failed();
        goto end;
    }
    rc = CMK_EXIT_FAIL;
    if (target != NULL)
        snprintf(h.key_name, sizeof(h.key_name), "%s", target);
    snprintf(h.key_version, sizeof(h.key_version), "%s", version);
    if (!cli_wrap(cli, &h, ikm))
        goto end;
    if (!env_header_encode(&h, &hdr)) {
        rc = cli_fail(CMK_EXIT_FAIL, "%s: cannot encode the new header", path);
        goto end;
    }
    if (!cli_out_open(&out, path) || fstat(fd, &st) != 0 || fchmod(out.fd, st.st_mode) != 0 ||
        write(out.fd, hdr.data, hdr.len) != (ssize_t)hdr.len || !body_copy(fd, out.fd)) {
        rc = cli_fail(CMK_EXIT_FAIL, "%s: %s", path, strerror(errno));
        cli_out_abort(&out);
        goto end;
    }
    if (!cli_out_commit(&out, 1)) {
        rc = cli_fail(CMK_EXIT_FAIL, "%s: %s", path, strerror(errno));
        goto end;
    }
    rc = CMK_EXIT_OK;
end:
    env_secret_free(ikm, ENV_KEY_BYTES);
    env_buf_free(&raw);
    env_buf_free(&hdr);
    p11_key_free(k);
    free(version);
    close(fd);
    return rc;
}

int cmd_rewrap(cmk_cli *cli, int argc, char **argv)
{
    const char *target = NULL;
    int i = 1, rc = CMK_EXIT_OK;

    if (i + 1 < argc && strcmp(argv[i], "--key") == 0) {
        target = argv[i + 1];
        i += 2;
    }
    if (i == argc)
        return cli_fail(CMK_EXIT_USAGE, "usage: cmk rewrap [--key NAME] FILE...");
    cli_out_signals_install();
    for (; i < argc; i++) {
        int one = rewrap_one(cli, target, argv[i]);

        if (rc == CMK_EXIT_OK)
            rc = one;
    }
    cli_wrap_cache_wipe();
    return rc;
}
