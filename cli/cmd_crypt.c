/*
 * cmd_crypt.c - `cmk encrypt` and `cmk decrypt`: files or a stream, under a key in the token.
 *
 *   cmk encrypt --key NAME [--context k=v]... [--chunk-size BYTES] [--threads N] [--force]
 *               [--sync] [--json] [-o OUT] [IN|-]...
 *   cmk decrypt [--context k=v]... [--threads N] [--force] [--sync] [--json] [-o OUT] [IN|-]...
 *
 * Several inputs write IN.cmk beside each (and back on decrypt). One intermediate key is
 * wrapped per call and shared by its files; each file still has its own data key (HKDF over
 * its own salt and header). Outputs appear under their final name only once complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "cmds.h"
#include "outfile.h"
#include "progress.h"
#include "token.h"
#include "wrap.h"
#include "../envelope/secret.h"
#include "../envelope/stream.h"

#define CMK_DEFAULT_CHUNK_BYTES (1u << 20) /* docs/benchmarks.md: why 1 MiB */
#define CMK_SUFFIX              ".cmk"

typedef struct crypt_args {
    int encrypt, force, json, sync;
    const char *key, *output;
    env_header ctx; /* only its context pairs: what the caller gave with --context */
    int have_ctx;
    unsigned long chunk_bytes;
    unsigned threads;
} crypt_args;

static int context_add(env_header *h, const char *kv)
{
    char key[ENV_MAX_CONTEXT_BYTES + 1];
    const char *eq = strchr(kv, '=');

    if (eq == NULL || eq == kv || (size_t)(eq - kv) > ENV_MAX_CONTEXT_BYTES)
        return 0;
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    return env_header_context_set(h, key, eq + 1);
}

static int crypt_args_parse(crypt_args *a, int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"context", required_argument, NULL, 'c'},
        {"output", required_argument, NULL, 'o'},
        {"chunk-size", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"force", no_argument, NULL, 'f'},
        {"json", no_argument, NULL, 'j'},
        {"sync", no_argument, NULL, 'y'},
        {NULL, 0, NULL, 0},
    };
    int c;

    a->chunk_bytes = CMK_DEFAULT_CHUNK_BYTES;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+o:", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            a->key = optarg;
            break;
        case 'c':
            if (!context_add(&a->ctx, optarg))
                return cli_fail(CMK_EXIT_USAGE, "--context wants key=value (at most %d pairs)",
                                ENV_MAX_CONTEXT_PAIRS);
            a->have_ctx = 1;
            break;
        case 'o':
            a->output = optarg;
            break;
        case 's':
            a->chunk_bytes = strtoul(optarg, NULL, 10);
            if (a->chunk_bytes < ENV_MIN_CHUNK_BYTES || a->chunk_bytes > ENV_MAX_CHUNK_BYTES)
                return cli_fail(CMK_EXIT_USAGE, "--chunk-size must be %u..%u bytes",
                                ENV_MIN_CHUNK_BYTES, ENV_MAX_CHUNK_BYTES);
            break;
        case 't':
            a->threads = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'f':
            a->force = 1;
            break;
        case 'j':
            a->json = 1;
            break;
        case 'y':
            a->sync = 1;
            break;
        default:
            return cli_fail(CMK_EXIT_USAGE, "%s: unknown option or missing value: %s", argv[0],
                            argv[optind - 1]);
        }
    }
    if (a->encrypt && a->key == NULL)
        return cli_fail(CMK_EXIT_USAGE, "encrypt needs --key NAME");
    if (!a->encrypt && a->key != NULL)
        return cli_fail(CMK_EXIT_USAGE, "decrypt takes the key from the file; drop --key");
    if (a->output != NULL && argc - optind > 1)
        return cli_fail(CMK_EXIT_USAGE, "-o goes with one input only");
    if (a->json && (argc == optind || (a->output != NULL && strcmp(a->output, "-") == 0)))
        return cli_fail(CMK_EXIT_USAGE, "--json prints on stdout: it needs file outputs");
    return CMK_EXIT_OK;
}

/* Where IN's result goes: -o, stdout for a stream, else IN.cmk / IN without .cmk. */
static int out_path_for(const crypt_args *a, const char *in, char **out)
{
    size_t n = strlen(in), sl = strlen(CMK_SUFFIX);

    *out = NULL;
    if (a->output != NULL)
        return (*out = strdup(a->output)) != NULL ? CMK_EXIT_OK : CMK_EXIT_FAIL;
    if (strcmp(in, "-") == 0)
        return (*out = strdup("-")) != NULL ? CMK_EXIT_OK : CMK_EXIT_FAIL;
    if (a->encrypt)
        return asprintf(out, "%s%s", in, CMK_SUFFIX) < 0 ? CMK_EXIT_FAIL : CMK_EXIT_OK;
    if (n <= sl || strcmp(in + n - sl, CMK_SUFFIX) != 0)
        return cli_fail(CMK_EXIT_USAGE, "%s: does not end in %s; name the output with -o", in,
                        CMK_SUFFIX);
    return (*out = strndup(in, n - sl)) != NULL ? CMK_EXIT_OK : CMK_EXIT_FAIL;
}

/* The given context must be exactly the file's. */
static int context_matches(const env_header *given, const env_header *file)
{
    if (given->ncontext != file->ncontext)
        return 0;
    for (size_t i = 0; i < given->ncontext; i++)
        if (strcmp(given->context[i].key, file->context[i].key) != 0 ||
            strcmp(given->context[i].value, file->context[i].value) != 0)
            return 0;
    return 1;
}

static int stream_status(env_err e, const char *in, const char *out)
{
    switch (e) {
    case ENV_OK:
        return CMK_EXIT_OK;
    case ENV_E_READ:
        return cli_fail(CMK_EXIT_FAIL, "%s: read failed: %s", in, strerror(errno));
    case ENV_E_WRITE:
        return cli_fail(CMK_EXIT_FAIL, "%s: write failed: %s", out, strerror(errno));
    case ENV_E_COMMIT:
    case ENV_E_AUTH:
    case ENV_E_TRUNCATED:
        return cli_fail(CMK_EXIT_TAMPERED, "%s: %s; nothing was written", in, env_err_str(e));
    default:
        return cli_fail(CMK_EXIT_FAIL, "%s: %s", in, env_err_str(e));
    }
}

/* Options for one file's stream: threads, and a progress line for a large regular file. The
 * output's blocks are reserved ahead only in an output file of ours (outfile.h), which a
 * failure discards. */
static env_stream_opts stream_opts(cmk_cli *cli, const crypt_args *a, cli_progress *pr, int in_fd,
                                   const char *in, const cli_out *out)
{
    /* cmk's own AES-GCM (intel-ipsec-mb) where the provider offers it, else OpenSSL's. */
    env_stream_opts o = {.libctx = cli_libctx(cli),
                         .propq = "?provider=cmk",
                         .threads = a->threads,
                         .reserve_out = out->final_path != NULL};
    struct stat st;

    cli_progress_start(pr, a->encrypt ? "encrypting" : "decrypting", in,
                       fstat(in_fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
    o.progress = cli_progress_update;
    o.progress_arg = pr;
    return o;
}

static int file_encrypt(cmk_cli *cli, const crypt_args *a, const env_header *tmpl,
                        const uint8_t *ikm, int in_fd, const cli_out *of, const char *in,
                        const char *out)
{
    cli_progress pr;
    env_stream_opts o = stream_opts(cli, a, &pr, in_fd, in, of);
    env_header h = *tmpl;
    env_err e = env_stream_encrypt(&o, &h, ikm, in_fd, of->fd);

    cli_progress_end(&pr);
    return stream_status(e, in, out);
}

static int file_decrypt(cmk_cli *cli, const crypt_args *a, int in_fd, const cli_out *of,
                        const char *in, const char *out)
{
    cli_progress pr;
    env_stream_opts o = stream_opts(cli, a, &pr, in_fd, in, of);
    env_header h;
    env_header_err herr;
    env_buf raw = {0};
    uint8_t *ikm = env_secret_new(ENV_KEY_BYTES);
    env_err e;
    int rc;

    if (ikm == NULL) {
        rc = cli_fail(CMK_EXIT_FAIL, "out of memory");
        goto end;
    }
    if ((e = env_stream_header_read(in_fd, &h, &raw, &herr)) != ENV_OK) {
        rc = e == ENV_E_HEADER ? cli_fail(CMK_EXIT_FAIL, "%s: %s", in, env_header_err_str(herr))
                               : stream_status(e, in, out);
        goto end;
    }
    if (a->have_ctx && !context_matches(&a->ctx, &h)) {
        rc = cli_fail(CMK_EXIT_REFUSED,
                      "%s: the encryption context does not match the file's "
                      "(see cmk inspect)",
                      in);
        goto end;
    }
    if ((rc = cli_unwrap(cli, &h, ikm)) != CMK_EXIT_OK)
        goto end;
    e = env_stream_decrypt(&o, &h, ikm, in_fd, of->fd);
    cli_progress_end(&pr);
    rc = stream_status(e, in, out);
end:
    cli_progress_end(&pr);
    env_secret_free(ikm, ENV_KEY_BYTES);
    env_buf_free(&raw);
    return rc;
}

static int input_changed(int fd, const struct stat *before)
{
    struct stat now;

    return fstat(fd, &now) != 0 || now.st_size != before->st_size ||
           now.st_mtim.tv_sec != before->st_mtim.tv_sec ||
           now.st_mtim.tv_nsec != before->st_mtim.tv_nsec;
}

static int crypt_one(cmk_cli *cli, const crypt_args *a, const env_header *tmpl, const uint8_t *ikm,
                     const char *in)
{
    char *out_path = NULL;
    cli_out out;
    struct stat st, before;
    int in_fd = STDIN_FILENO, rc, before_ok;

    if ((rc = out_path_for(a, in, &out_path)) != CMK_EXIT_OK)
        return rc;
    if (strcmp(in, "-") != 0 && (in_fd = open(in, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = cli_fail(CMK_EXIT_FAIL, "%s: %s", in, strerror(errno));
        goto end;
    }
    if (strcmp(out_path, "-") != 0 && !a->force && stat(out_path, &st) == 0) {
        rc = cli_fail(CMK_EXIT_FAIL, "%s exists (use --force to replace it)", out_path);
        goto end;
    }
    if (!cli_out_open(&out, out_path)) {
        rc = cli_fail(CMK_EXIT_FAIL, "%s: %s", out_path, strerror(errno));
        goto end;
    }
    before_ok = fstat(in_fd, &before) == 0 && S_ISREG(before.st_mode);
    rc = a->encrypt ? file_encrypt(cli, a, tmpl, ikm, in_fd, &out, in, out_path)
                    : file_decrypt(cli, a, in_fd, &out, in, out_path);
    /* A file another program changed while we read it gave us a mix, or a prefix: refuse. */
    if (rc == CMK_EXIT_OK && before_ok && input_changed(in_fd, &before))
        rc = cli_fail(CMK_EXIT_FAIL, "%s: changed while it was read; nothing was written", in);
    if (rc != CMK_EXIT_OK)
        cli_out_abort(&out);
    else if (!cli_out_commit(&out, a->sync))
        rc = cli_fail(CMK_EXIT_FAIL, "%s: %s", out_path, strerror(errno));
end:
    if (in_fd != STDIN_FILENO && in_fd >= 0)
        close(in_fd);
    free(out_path);
    return rc;
}

static int crypt_main(cmk_cli *cli, int argc, char **argv, int encrypt)
{
    crypt_args a = {.encrypt = encrypt};
    env_header tmpl = {0};
    uint8_t *ikm = NULL;
    p11_key *k = NULL;
    char *version = NULL;
    int rc, nin, nfailed = 0;

    if ((rc = crypt_args_parse(&a, argc, argv)) != CMK_EXIT_OK)
        return rc;
    if (encrypt) {
        /* The intermediate key of this call: in locked memory, wiped at the end. */
        if ((ikm = env_secret_new(ENV_KEY_BYTES)) == NULL)
            return cli_fail(CMK_EXIT_FAIL, "out of memory");
        if ((k = cli_key_current(cli, a.key)) == NULL || (version = cli_key_version(k)) == NULL) {
            env_secret_free(ikm, ENV_KEY_BYTES);
            return cli_failed();
        }
        snprintf(tmpl.key_name, sizeof(tmpl.key_name), "%s", a.key);
        snprintf(tmpl.key_version, sizeof(tmpl.key_version), "%s", version);
        memcpy(tmpl.context, a.ctx.context, sizeof(tmpl.context));
        tmpl.ncontext = a.ctx.ncontext;
        tmpl.chunk_bytes = (uint32_t)a.chunk_bytes;
        p11_key_free(k);
        free(version);
        if (!cli_wrap_new(cli, &tmpl, ikm)) {
            env_secret_free(ikm, ENV_KEY_BYTES);
            return cli_failed();
        }
    }
    cli_out_signals_install();
    nin = argc - optind;
    if (nin == 0)
        rc = crypt_one(cli, &a, &tmpl, ikm, "-");
    for (int i = optind; i < argc; i++) {
        int one = crypt_one(cli, &a, &tmpl, ikm, argv[i]);

        nfailed += one != CMK_EXIT_OK;
        if (rc == CMK_EXIT_OK)
            rc = one; /* keep going, report the first failure's code */
    }
    if (a.json)
        printf("{\"files\":%d,\"failed\":%d,\"token_operations\":%lu}\n", nin, nfailed,
               cli_wrap_token_ops());
    env_secret_free(ikm, ENV_KEY_BYTES);
    cli_wrap_cache_wipe();
    return rc;
}

int cmd_encrypt(cmk_cli *cli, int argc, char **argv)
{
    return crypt_main(cli, argc, argv, 1);
}

int cmd_decrypt(cmk_cli *cli, int argc, char **argv)
{
    return crypt_main(cli, argc, argv, 0);
}
