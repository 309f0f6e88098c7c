/*
 * embedded.c - the token a new user gets without configuring anything: a SoftHSM token under
 * $XDG_DATA_HOME/cmk (or ~/.local/share/cmk), made at first use with random PINs in 0600 files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/rand.h>
#include "cli.h"
#include "../pkcs11/p11_token.h"

#define CMK_SOFTHSM_MODULE   "/usr/lib/softhsm/libsofthsm2.so"
#define CMK_EMBEDDED_TOKEN   "cmk"
#define CMK_PIN_RANDOM_BYTES 16

static char *path_join(const char *a, const char *b)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s", a, b) < 0)
        return NULL;
    return p;
}

static char *embedded_dir(void)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char *dir = NULL;

    if (xdg != NULL && xdg[0] == '/')
        return path_join(xdg, "cmk");
    if (home == NULL || home[0] == '\0')
        return NULL;
    if (asprintf(&dir, "%s/.local/share/cmk", home) < 0)
        return NULL;
    return dir;
}

static int mkdir_p(const char *path, mode_t mode)
{
    char buf[4096];

    if (strlen(path) >= sizeof(buf))
        return -1;
    strcpy(buf, path);
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, mode) != 0 && errno != EEXIST ? -1 : 0;
}

/* Writes a random hex PIN to path, mode 0600, never through a command line. */
static int pin_file_write(const char *path)
{
    unsigned char raw[CMK_PIN_RANDOM_BYTES];
    char hex[2 * CMK_PIN_RANDOM_BYTES + 2];
    int fd, ok;

    if (RAND_priv_bytes(raw, sizeof(raw)) != 1)
        return 0;
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    strcat(hex, "\n");
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ok = fd >= 0 && write(fd, hex, strlen(hex)) == (ssize_t)strlen(hex);
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    OPENSSL_cleanse(hex, sizeof(hex));
    OPENSSL_cleanse(raw, sizeof(raw));
    return ok;
}

static int embedded_make(const char *dir, const cmk_settings *s)
{
    char *tokens = path_join(dir, "tokens"), *so = path_join(dir, "so.pin");
    char *so_src = NULL;
    p11_module *m = NULL;
    FILE *f = NULL;
    int rc = CMK_EXIT_CONFIG;
    CK_RV rv;

    if (tokens == NULL || so == NULL || asprintf(&so_src, "file:%s", so) < 0)
        goto end;
    if (mkdir_p(tokens, 0700) != 0 || (f = fopen(s->softhsm_conf, "w")) == NULL) {
        rc = cli_fail(CMK_EXIT_CONFIG, "cannot make the embedded token in %s: %s", dir,
                      strerror(errno));
        goto end;
    }
    fprintf(f,
            "# The embedded cmk token, made by cmk at first use.\n"
            "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens);
    if (fclose(f) != 0 || !pin_file_write(so) || !pin_file_write(s->pin_source + 5)) {
        rc = cli_fail(CMK_EXIT_CONFIG, "cannot write the embedded token's PIN files in %s", dir);
        goto end;
    }
    setenv("SOFTHSM2_CONF", s->softhsm_conf, 1);
    rv = p11_module_get(s->module, NULL, &m);
    if (rv == CKR_OK)
        rv = p11_token_init(m, CMK_EMBEDDED_TOKEN, so_src, s->pin_source);
    p11_module_put(m);
    if (rv != CKR_OK) {
        rc = cli_fail(CMK_EXIT_CONFIG, "cannot make the embedded token: %s", p11_err_detail());
        unlink(s->softhsm_conf); /* so the next run tries again */
        goto end;
    }
    rc = CMK_EXIT_OK;
end:
    free(tokens);
    free(so);
    free(so_src);
    return rc;
}

int cli_embedded_settings(cmk_settings *s)
{
    char *dir = embedded_dir();
    int rc = CMK_EXIT_CONFIG;

    if (dir == NULL)
        return cli_fail(CMK_EXIT_CONFIG, "no HOME or XDG_DATA_HOME for the embedded token; "
                                         "give --config or CMK_CONFIG");
    s->embedded = 1;
    s->module = strdup(CMK_SOFTHSM_MODULE);
    s->token = strdup("pkcs11:token=" CMK_EMBEDDED_TOKEN);
    s->softhsm_conf = path_join(dir, "softhsm2.conf");
    if (asprintf(&s->pin_source, "file:%s/user.pin", dir) < 0)
        s->pin_source = NULL;
    if (s->module != NULL && s->token != NULL && s->softhsm_conf != NULL && s->pin_source != NULL)
        rc = CMK_EXIT_OK;
    free(dir);
    return rc;
}

int cli_embedded_ensure(const cmk_settings *s)
{
    char *dir, *lock = NULL;
    int lock_fd = -1, rc = CMK_EXIT_CONFIG;

    if (!s->embedded || access(s->softhsm_conf, R_OK) == 0)
        return CMK_EXIT_OK;
    if ((dir = embedded_dir()) == NULL)
        return cli_fail(CMK_EXIT_CONFIG, "no HOME or XDG_DATA_HOME for the embedded token");
    if (mkdir_p(dir, 0700) != 0 || (lock = path_join(dir, ".lock")) == NULL ||
        (lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
        flock(lock_fd, LOCK_EX) != 0) {
        rc = cli_fail(CMK_EXIT_CONFIG, "cannot use %s: %s", dir, strerror(errno));
        goto end;
    }
    /* Another cmk may be making it right now: the lock makes the second one wait, then see it. */
    rc = access(s->softhsm_conf, R_OK) == 0 ? CMK_EXIT_OK : embedded_make(dir, s);
end:
    if (lock_fd >= 0)
        close(lock_fd);
    free(lock);
    free(dir);
    return rc;
}
