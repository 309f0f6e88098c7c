/*
 * cursor.h - bounded reading of untrusted bytes, and a growing buffer to write them.
 *
 * Every parse of bytes that came from a file goes through an env_cursor: each read checks the
 * bytes left and, on overrun, sets the cursor's error flag and returns zero/NULL; later reads
 * then fail too, so a parser checks the flag once at the end. No length taken from the input is
 * ever used in pointer arithmetic outside this file.
 *
 * Thread safety: none needed (callers own their cursors and buffers).
 */
#ifndef CMK_ENV_CURSOR_H
#define CMK_ENV_CURSOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct env_cursor {
    const uint8_t *p;
    size_t left;
    int overrun; /* set by the first read past the end */
} env_cursor;

void env_cursor_init(env_cursor *c, const uint8_t *buf, size_t len);
uint8_t env_cursor_u8(env_cursor *c);
uint16_t env_cursor_u16(env_cursor *c); /* big-endian */
uint32_t env_cursor_u32(env_cursor *c);
uint64_t env_cursor_u64(env_cursor *c);
/* A pointer to the next n bytes (not copied), or NULL on overrun. */
const uint8_t *env_cursor_bytes(env_cursor *c, size_t n);
/* 1 when every byte was read and none past the end. */
int env_cursor_done(const env_cursor *c);

typedef struct env_buf {
    uint8_t *data;
    size_t len, cap;
    int failed; /* set by the first allocation failure; later writes are ignored */
} env_buf;

void env_buf_u8(env_buf *b, uint8_t v);
void env_buf_u16(env_buf *b, uint16_t v);
void env_buf_u32(env_buf *b, uint32_t v);
void env_buf_u64(env_buf *b, uint64_t v);
void env_buf_bytes(env_buf *b, const void *p, size_t n);
/* Appends n bytes for the caller to fill; NULL (and failed set) if memory ran out. */
uint8_t *env_buf_extend(env_buf *b, size_t n);
/* Wipes and frees the contents (the buffer may hold key material). */
void env_buf_free(env_buf *b);

#endif
