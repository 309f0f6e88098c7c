/*
 * main.c - the `cmk` command: global flags, then a verb.
 *   cmk [--config FILE] [--module M] [--token URI] [--pin-source file:P|env:V] VERB ...
 * Global flags come before the verb and override the config file (docs/cmk.md).
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <openssl/crypto.h>
#include "cli.h"
#include "cmds.h"
#include "../envelope/secret.h"

#ifndef CMK_VERSION
#define CMK_VERSION "0.0.0"
#endif

static int last_fail = CMK_EXIT_FAIL;

int cli_failed(void)
{
    return last_fail;
}

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;

    last_fail = code;
    fputs("cmk: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

static const struct {
    const char *name;
    int (*fn)(cmk_cli *cli, int argc, char **argv);
    const char *help;
} verbs[] = {
    {"encrypt", cmd_encrypt, "encrypt files or a stream under a key"},
    {"decrypt", cmd_decrypt, "decrypt files or a stream"},
    {"rewrap", cmd_rewrap, "move files to a key's current version; the body is not touched"},
    {"inspect", cmd_inspect, "show a file's header, without any key"},
    {"key", cmd_key, "the key life cycle: create, rotate, disable, delete, ... (cmk key)"},
    {"audit", cmd_audit, "list the audit log, or verify its chain (cmk audit verify)"},
};

static int usage(FILE *to, int code)
{
    fprintf(to, "usage: cmk [--config FILE] [--module M] [--token URI] "
                "[--pin-source file:PATH|env:VAR] [--key-cache-seconds N] VERB [ARGS]\n\n"
                "verbs:\n");
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        fprintf(to, "  %-9s %s\n", verbs[i].name, verbs[i].help);
    fprintf(to, "\nWithout --config or CMK_CONFIG, cmk uses its own SoftHSM token under "
                "$XDG_DATA_HOME/cmk.\nSee man cmk.\n");
    return code;
}

static int flag_value(int *i, int argc, char **argv, const char *flag, char **dst)
{
    if (strcmp(argv[*i], flag) != 0)
        return 0;
    if (*i + 1 >= argc)
        exit(cli_fail(CMK_EXIT_USAGE, "%s needs a value", flag));
    free(*dst);
    *dst = strdup(argv[++*i]);
    return 1;
}

/* A flag given on the command line wins over the config file. */
static void setting_override(char **setting, char **flag)
{
    if (*flag == NULL)
        return;
    free(*setting);
    *setting = *flag;
    *flag = NULL;
}

/* The global flags before the verb. Returns -1 with *verb the verb's index in argv (argc when
 * none), or the exit code to end with (--version, --help, a wrong flag). */
static int global_flags_parse(int argc, char **argv, cmk_settings *flags, char **config, int *verb)
{
    int i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("cmk %s\n", CMK_VERSION);
            return CMK_EXIT_OK;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout, CMK_EXIT_OK);
        if (strcmp(argv[i], "--pin") == 0)
            return cli_fail(CMK_EXIT_USAGE, "a PIN never goes on the command line: use "
                                            "--pin-source file:PATH or env:VAR");
        if (!flag_value(&i, argc, argv, "--config", config) &&
            !flag_value(&i, argc, argv, "--module", &flags->module) &&
            !flag_value(&i, argc, argv, "--token", &flags->token) &&
            !flag_value(&i, argc, argv, "--pin-source", &flags->pin_source) &&
            !flag_value(&i, argc, argv, "--key-cache-seconds", &flags->cache_seconds))
            return cli_fail(CMK_EXIT_USAGE, "unknown option %s (see cmk --help)", argv[i]);
    }
    *verb = i;
    return -1;
}

int main(int argc, char **argv)
{
    cmk_cli cli = {0};
    cmk_settings flags = {0};
    char *config = NULL;
    struct rlimit no_core = {0, 0};
    size_t v;
    int i = argc, rc;

    /* A core dump of this process could hold data keys. */
    setrlimit(RLIMIT_CORE, &no_core);
    /* Past a file size limit, let write() fail (EFBIG) so the output is removed cleanly. */
    signal(SIGXFSZ, SIG_IGN);
    /* Keys live in OpenSSL's secure heap: locked in memory, left out of core dumps. */
    env_secret_heap_init();
    /* Every way out goes through end:, which frees what the flags hold (fuzz/fuzz_args.c found
     * the early returns leaking them). */
    if ((rc = global_flags_parse(argc, argv, &flags, &config, &i)) != -1)
        goto end;
    if (i == argc) {
        rc = usage(stderr, CMK_EXIT_USAGE);
        goto end;
    }
    for (v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++)
        if (strcmp(argv[i], verbs[v].name) == 0)
            break;
    if (v == sizeof(verbs) / sizeof(verbs[0])) {
        rc = cli_fail(CMK_EXIT_USAGE, "unknown verb '%s' (see cmk --help)", argv[i]);
        goto end;
    }
    /* Flags alone can name a token: then neither a file nor the embedded token is needed. */
    if (flags.module != NULL && flags.token != NULL && config == NULL &&
        getenv("CMK_CONFIG") == NULL)
        rc = CMK_EXIT_OK;
    else
        rc = cli_settings_load(&cli.s, config);
    if (rc == CMK_EXIT_OK) {
        setting_override(&cli.s.module, &flags.module);
        setting_override(&cli.s.token, &flags.token);
        setting_override(&cli.s.pin_source, &flags.pin_source);
        setting_override(&cli.s.cache_seconds, &flags.cache_seconds);
        rc = verbs[v].fn(&cli, argc - i, argv + i);
    }
end:
    OSSL_LIB_CTX_free(cli.libctx);
    cli_settings_free(&cli.s);
    cli_settings_free(&flags);
    free(config);
    return rc;
}
