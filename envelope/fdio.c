/* fdio.c - whole reads and writes on a descriptor; see fdio.h. */
#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>
#include "fdio.h"

int env_fd_read(int fd, uint8_t *buf, size_t n, size_t *got)
{
    *got = 0;
    while (*got < n) {
        ssize_t r = read(fd, buf + *got, n - *got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return 0;
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return 1;
}

int env_fd_write2(int fd, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    while (an > 0) {
        struct iovec v[2] = {{(void *)a, an}, {(void *)b, bn}};
        ssize_t w = writev(fd, v, 2);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return 0;
        if (w == 0) {
            errno = EIO; /* as in env_fd_write */
            return 0;
        }
        if ((size_t)w >= an) {
            b += (size_t)w - an;
            bn -= (size_t)w - an;
            an = 0;
        } else {
            a += w;
            an -= (size_t)w;
        }
    }
    return env_fd_write(fd, b, bn);
}

int env_fd_write(int fd, const uint8_t *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return 0;
        if (w == 0) {
            errno = EIO; /* write(2) made no progress and said nothing */
            return 0;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 1;
}
