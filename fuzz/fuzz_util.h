/*
 * fuzz_util.h - what the libFuzzer harnesses of fuzz/ share (docs/fuzzing.md).
 *
 * Every harness is one LLVMFuzzerTestOneInput over one parser of untrusted bytes. A harness
 * calls abort() when a property it checks fails (a round trip that does not come back, a
 * decoder that accepts what it must refuse), so libFuzzer keeps the input as a crash.
 */
#ifndef CMK_FUZZ_UTIL_H
#define CMK_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* An anonymous in-memory file holding len bytes, positioned at its start; aborts on failure.
 * The caller closes it. */
int fuzz_fd_with(const uint8_t *buf, size_t len);

/* The whole content of fd (from offset 0) in a new buffer the caller frees; *len its size. */
uint8_t *fuzz_fd_read_all(int fd, size_t *len);

/* "/proc/self/fd/N": a path naming fd, for parsers that take a path. */
void fuzz_fd_path(int fd, char *buf, size_t cap);

/* A copy of the len bytes of buf with a NUL after them; the caller frees. */
char *fuzz_str(const uint8_t *buf, size_t len);

/* Aborts with a message when cond is false: a property of the code under test failed. */
#define FUZZ_CHECK(cond) fuzz_check((cond), #cond, __FILE__, __LINE__)
void fuzz_check(int cond, const char *what, const char *file, int line);

#endif
