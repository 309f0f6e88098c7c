/*
 * secret.h - where key material lives: OpenSSL's secure heap, which is mlock'ed (never swapped)
 * and madvise'd MADV_DONTDUMP (never in a core dump), and wiped when freed.
 *
 * The cmk command makes the heap at start (env_secret_heap_init); every intermediate key, file
 * key and cipher context holding a key schedule then comes from it. Where there is no heap
 * (another application, or mlock refused by RLIMIT_MEMLOCK) OpenSSL falls back to the ordinary
 * heap: still wiped when freed, but not locked; env_secret_locked says which.
 *
 * Thread safety: OpenSSL's secure heap is locked internally.
 */
#ifndef CMK_ENV_SECRET_H
#define CMK_ENV_SECRET_H

#include <stddef.h>

/* Enough for the keys and cipher contexts of 64 threads. */
#define ENV_SECRET_HEAP_BYTES (256u << 10)

/* 1 when the heap is there and locked, 0 when secrets will live in the ordinary heap. */
int env_secret_heap_init(void);
void *env_secret_new(size_t n); /* zeroed; NULL when out of memory */
void env_secret_free(void *p, size_t n);
int env_secret_locked(const void *p);

#endif
