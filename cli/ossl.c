/*
 * ossl.c - the data plane's library context: the cmk provider loaded from the same settings
 * the management plane uses, so `cmk` is one more OpenSSL application like any other.
 *
 * OpenSSL 3.0 passes options to a provider only through a configuration file, so the
 * configuration is written to an anonymous in-memory file (memfd) and loaded from
 * /proc/self/fd: nothing touches the disk, and it names the PIN's source, never the PIN.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/provider.h>
#include "cli.h"
#include "key.h"

#ifndef CMK_MODULESDIR
#define CMK_MODULESDIR "/usr/lib/x86_64-linux-gnu/ossl-modules"
#endif

/* cmk.so beside the cmk binary (a build tree), else where OpenSSL keeps its modules. */
static char *provider_path(const cmk_settings *s)
{
    char exe[PATH_MAX], *slash, *path = NULL;
    ssize_t n;

    if (s->provider != NULL)
        return strdup(s->provider);
    if (getenv("CMK_PROVIDER") != NULL)
        return strdup(getenv("CMK_PROVIDER"));
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        if ((slash = strrchr(exe, '/')) != NULL) {
            *slash = '\0';
            if (asprintf(&path, "%s/cmk.so", exe) >= 0 && access(path, R_OK) == 0)
                return path;
            free(path);
        }
    }
    return strdup(CMK_MODULESDIR "/cmk.so");
}

/* One `name = "value"` line. OpenSSL's configuration syntax gives meaning to '#', '$', quotes
 * and backslashes in a bare value, and a line break would start a new setting: so the value is
 * always quoted and escaped, and a line break is refused (no setting needs one). */
static int cnf_line_write(FILE *f, const char *name, const char *value)
{
    if (strpbrk(value, "\r\n") != NULL) {
        cli_fail(CMK_EXIT_CONFIG, "the %s setting contains a line break", name);
        return 0;
    }
    fprintf(f, "%s = \"", name);
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', f);
        fputc(*p, f);
    }
    fputs("\"\n", f);
    return 1;
}

OSSL_LIB_CTX *cli_libctx(cmk_cli *cli)
{
    const cmk_settings *s = &cli->s;
    char *module = NULL, *audit = NULL, cnf[64];
    int fd = -1, ok;
    FILE *f = NULL;
    OSSL_LIB_CTX *ctx = NULL;

    if (cli->libctx != NULL)
        return cli->libctx;
    if (cli_embedded_ensure(s) != CMK_EXIT_OK)
        return NULL;
    if (s->softhsm_conf != NULL)
        setenv("SOFTHSM2_CONF", s->softhsm_conf, 1);
    if ((module = provider_path(s)) == NULL || (fd = memfd_create("cmk-openssl.cnf", 0)) < 0 ||
        (f = fdopen(dup(fd), "w")) == NULL)
        goto err;
    fputs("openssl_conf = cmk_init\n[cmk_init]\nproviders = cmk_providers\n"
          "[cmk_providers]\ndefault = cmk_default\ncmk = cmk_sect\n"
          "[cmk_default]\nactivate = 1\n[cmk_sect]\nactivate = 1\n",
          f);
    /* the provider records its wraps and unwraps in cmk's audit log: one chain (key.h) */
    audit = cli_audit_path_ready(cli);
    ok = cnf_line_write(f, "module", module) &&
         cnf_line_write(f, "pkcs11-module-path", s->module) &&
         (s->pin_source == NULL || cnf_line_write(f, "pkcs11-module-token-pin", s->pin_source)) &&
         (s->init_args == NULL || cnf_line_write(f, "pkcs11-module-init-args", s->init_args)) &&
         (audit == NULL || cnf_line_write(f, "audit-log", audit));
    free(audit);
    if (fclose(f) != 0 || !ok)
        goto err;
    snprintf(cnf, sizeof(cnf), "/proc/self/fd/%d", fd);
    if ((ctx = OSSL_LIB_CTX_new()) == NULL || !OSSL_LIB_CTX_load_config(ctx, cnf) ||
        !OSSL_PROVIDER_available(ctx, "cmk")) {
        cli_fail(CMK_EXIT_CONFIG, "cannot load the cmk provider from %s", module);
        goto err;
    }
    close(fd);
    free(module);
    cli->libctx = ctx;
    return ctx;
err:
    OSSL_LIB_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
    free(module);
    return NULL;
}

char *cli_key_uri(const cmk_cli *cli, const char *name, const char *id_hex)
{
    char *uri = NULL, *id = NULL;

    /* RFC 7512: the id is percent-encoded bytes; the name is a label (escape what URIs need). */
    if (id_hex != NULL) {
        size_t n = strlen(id_hex);

        if ((id = malloc(n / 2 * 3 + 1)) == NULL)
            return NULL;
        for (size_t i = 0; i + 1 < n; i += 2)
            snprintf(id + i / 2 * 3, 4, "%%%c%c", id_hex[i], id_hex[i + 1]);
        id[n / 2 * 3] = '\0';
    }
    if (asprintf(&uri, "%s;object=%s;type=private%s%s", cli->s.token, name, id ? ";id=" : "",
                 id ? id : "") < 0)
        uri = NULL;
    free(id);
    return uri;
}
