/*
 * token_lock.c - one `cmk key` command at a time per SoftHSM token folder.
 *
 * SoftHSM 2.6.1 quirk (pkcs11/p11_quirks.c, P11_QUIRK_TOKEN_READ_RACE): a process that reads
 * the token while another writes it may see no token, or fail C_Login with
 * CKR_USER_PIN_NOT_INITIALIZED and keep failing (its cached view of the token stays broken
 * until the token is written again). So the management commands of cmk take an flock(2) on
 * DIR/cmk.lock in SoftHSM's token folder (directories.tokendir of SOFTHSM2_CONF; SoftHSM
 * only looks at sub-folders there) for their whole run. Other modules need no lock.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "token.h"

static int lock_fd = -1;

/* directories.tokendir of the SoftHSM configuration in effect; NULL when unknown. */
static char *softhsm_tokendir(void)
{
    const char *conf = getenv("SOFTHSM2_CONF");
    FILE *f = fopen(conf != NULL ? conf : "/etc/softhsm/softhsm2.conf", "r");
    char line[4096], *dir = NULL;

    while (f != NULL && dir == NULL && fgets(line, sizeof(line), f) != NULL) {
        char *p = line, *end;

        p += strspn(p, " \t");
        if (strncmp(p, "directories.tokendir", 20) != 0)
            continue;
        p += 20;
        p += strspn(p, " \t");
        if (*p++ != '=')
            continue;
        p += strspn(p, " \t");
        end = p + strcspn(p, "\r\n#");
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        dir = end > p ? strndup(p, (size_t)(end - p)) : NULL;
    }
    if (f != NULL)
        fclose(f);
    return dir;
}

int cli_token_lock(cmk_cli *cli)
{
    char *dir, *path = NULL;

    if (lock_fd >= 0 || cli->s.module == NULL || strstr(cli->s.module, "softhsm") == NULL)
        return CMK_EXIT_OK;
    if (cli->s.softhsm_conf != NULL)
        setenv("SOFTHSM2_CONF", cli->s.softhsm_conf, 1);
    if ((dir = softhsm_tokendir()) == NULL)
        return CMK_EXIT_OK; /* the module will say what is wrong */
    if (asprintf(&path, "%s/cmk.lock", dir) >= 0)
        lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd >= 0 && flock(lock_fd, LOCK_EX) != 0) {
        close(lock_fd);
        lock_fd = -1;
    }
    free(path);
    free(dir);
    return CMK_EXIT_OK; /* without a lock (read-only folder) cmk still works, with retries */
}

void cli_token_unlock(void)
{
    if (lock_fd >= 0)
        close(lock_fd);
    lock_fd = -1;
}
