/* outfile.c - outputs that take their final name only when complete; see outfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include "outfile.h"

/* The temporary file a signal handler must remove (one output is open at a time). */
static char pending_tmp[4096];
static volatile sig_atomic_t pending_set;

static void on_signal(int sig)
{
    if (pending_set)
        unlink(pending_tmp); /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_out_signals_install(void)
{
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
}

static void pending_name(const cli_out *o)
{
    memcpy(pending_tmp, o->tmp_path, strlen(o->tmp_path) + 1);
    pending_set = 1;
}

int cli_out_open(cli_out *o, const char *final_path)
{
    char *copy1 = NULL, *copy2 = NULL, *dir;
    int ok = 0;

    memset(o, 0, sizeof(*o));
    o->fd = -1;
    if (final_path == NULL || strcmp(final_path, "-") == 0) {
        o->fd = STDOUT_FILENO;
        return 1;
    }
    if ((copy1 = strdup(final_path)) == NULL || (copy2 = strdup(final_path)) == NULL ||
        (o->final_path = strdup(final_path)) == NULL ||
        asprintf(&o->tmp_path, "%s/.%s.cmk-tmp-XXXXXX", (dir = dirname(copy1)), basename(copy2)) <
            0) {
        o->tmp_path = NULL;
        goto end;
    }
    if (strlen(o->tmp_path) >= sizeof(pending_tmp)) {
        errno = ENAMETOOLONG;
        goto end;
    }
    /* Unnamed until complete (outfile.h); linkat names it through /proc/self/fd. */
    if (access("/proc/self/fd", X_OK) == 0 &&
        (o->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0) {
        ok = 1;
        goto end;
    }
    if ((o->fd = mkostemp(o->tmp_path, O_CLOEXEC)) < 0)
        goto end;
    o->named = 1;
    pending_name(o);
    ok = 1;
end:
    free(copy1);
    free(copy2);
    if (!ok) {
        int saved = errno;

        free(o->final_path);
        free(o->tmp_path);
        o->final_path = o->tmp_path = NULL;
        errno = saved;
    }
    return ok;
}

static void out_reset(cli_out *o)
{
    pending_set = 0;
    free(o->final_path);
    free(o->tmp_path);
    memset(o, 0, sizeof(*o));
    o->fd = -1;
}

/* Gives the unnamed output a name: the final one if nothing is there (then it is done: returns
 * 2), else a fresh hidden temporary one to rename over it (returns 1). 0 on failure. */
static int out_link(cli_out *o)
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    char self[64];
    char *x = o->tmp_path + strlen(o->tmp_path) - 6;
    unsigned char r[6];

    snprintf(self, sizeof(self), "/proc/self/fd/%d", o->fd);
    if (linkat(AT_FDCWD, self, AT_FDCWD, o->final_path, AT_SYMLINK_FOLLOW) == 0)
        return 2;
    if (errno != EEXIST)
        return 0;
    for (int tries = 0; tries < 100; tries++) {
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
            return 0;
        for (size_t i = 0; i < sizeof(r); i++)
            x[i] = chars[r[i] % (sizeof(chars) - 1)];
        if (linkat(AT_FDCWD, self, AT_FDCWD, o->tmp_path, AT_SYMLINK_FOLLOW) == 0) {
            o->named = 1;
            pending_name(o);
            return 1;
        }
        if (errno != EEXIST)
            return 0;
    }
    return 0;
}

int cli_out_commit(cli_out *o, int sync)
{
    char *copy;
    int dfd, ok, linked = 0;

    if (o->final_path == NULL)
        return 1; /* stdout */
    ok = !sync || fsync(o->fd) == 0;
    if (ok && !o->named)
        ok = (linked = out_link(o)) != 0;
    ok = close(o->fd) == 0 && ok;
    o->fd = -1;
    if (!ok || (linked != 2 && rename(o->tmp_path, o->final_path) != 0)) {
        int saved = errno;

        if (o->named)
            unlink(o->tmp_path);
        out_reset(o);
        errno = saved;
        return 0;
    }
    /* The new name itself must survive a crash: sync the directory entry too. */
    if (sync && (copy = strdup(o->final_path)) != NULL) {
        if ((dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(copy);
    }
    out_reset(o);
    return 1;
}

void cli_out_abort(cli_out *o)
{
    if (o->final_path != NULL) {
        if (o->fd >= 0)
            close(o->fd);
        if (o->named)
            unlink(o->tmp_path);
    }
    out_reset(o);
}
