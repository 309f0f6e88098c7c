/* outfile.c - write to a temporary name, rename when complete; see outfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int cli_out_open(cli_out *o, const char *final_path)
{
    char *copy1 = NULL, *copy2 = NULL;
    int ok = 0;

    memset(o, 0, sizeof(*o));
    o->fd = -1;
    if (final_path == NULL || strcmp(final_path, "-") == 0) {
        o->fd = STDOUT_FILENO;
        return 1;
    }
    if ((copy1 = strdup(final_path)) == NULL || (copy2 = strdup(final_path)) == NULL ||
        (o->final_path = strdup(final_path)) == NULL ||
        asprintf(&o->tmp_path, "%s/.%s.cmk-tmp-XXXXXX", dirname(copy1), basename(copy2)) < 0) {
        o->tmp_path = NULL;
        goto end;
    }
    if (strlen(o->tmp_path) >= sizeof(pending_tmp)) {
        errno = ENAMETOOLONG;
        goto end;
    }
    if ((o->fd = mkostemp(o->tmp_path, O_CLOEXEC)) < 0)
        goto end;
    memcpy(pending_tmp, o->tmp_path, strlen(o->tmp_path) + 1);
    pending_set = 1;
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

int cli_out_commit(cli_out *o, int sync)
{
    char *copy;
    int dfd, ok;

    if (o->final_path == NULL)
        return 1; /* stdout */
    ok = !sync || fsync(o->fd) == 0;
    ok = close(o->fd) == 0 && ok;
    o->fd = -1;
    if (!ok || rename(o->tmp_path, o->final_path) != 0) {
        int saved = errno;

        unlink(o->tmp_path);
        out_reset(o);
        errno = saved;
        return 0;
    }
    /* The rename itself must survive a crash: sync the directory entry too. */
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
        unlink(o->tmp_path);
    }
    out_reset(o);
}
