/*
 * fdio.h - whole reads and writes on a file descriptor (a file, a pipe or a terminal), retried
 * across short transfers and EINTR.
 *
 * Both return 1, or 0 with errno set by the failing call. env_fd_read stops early only at the
 * end of the input (*got < n). Thread safety: as read(2) and write(2).
 */
#ifndef CMK_ENV_FDIO_H
#define CMK_ENV_FDIO_H

#include <stddef.h>
#include <stdint.h>

int env_fd_read(int fd, uint8_t *buf, size_t n, size_t *got);
int env_fd_write(int fd, const uint8_t *buf, size_t n);
/* a then b, as one write where the descriptor takes it */
int env_fd_write2(int fd, const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

#endif
