/* fuzz_util.c - helpers the harnesses share; see fuzz_util.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "fuzz_util.h"

void fuzz_check(int cond, const char *what, const char *file, int line)
{
    if (cond)
        return;
    fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
    abort();
}

int fuzz_fd_with(const uint8_t *buf, size_t len)
{
    int fd = memfd_create("cmk-fuzz", MFD_CLOEXEC);

    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(len == 0 || write(fd, buf, len) == (ssize_t)len);
    FUZZ_CHECK(lseek(fd, 0, SEEK_SET) == 0);
    return fd;
}

uint8_t *fuzz_fd_read_all(int fd, size_t *len)
{
    off_t end = lseek(fd, 0, SEEK_END);
    uint8_t *buf;

    FUZZ_CHECK(end >= 0);
    buf = malloc((size_t)end + 1);
    FUZZ_CHECK(buf != NULL);
    FUZZ_CHECK(pread(fd, buf, (size_t)end, 0) == (ssize_t)end);
    *len = (size_t)end;
    return buf;
}

void fuzz_fd_path(int fd, char *buf, size_t cap)
{
    snprintf(buf, cap, "/proc/self/fd/%d", fd);
}

char *fuzz_str(const uint8_t *buf, size_t len)
{
    char *s = malloc(len + 1);

    FUZZ_CHECK(s != NULL);
    memcpy(s, buf, len);
    s[len] = '\0';
    return s;
}
