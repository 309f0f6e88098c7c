/* cursor.c - bounded reads and growing writes; see cursor.h. */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "cursor.h"

void env_cursor_init(env_cursor *c, const uint8_t *buf, size_t len)
{
    c->p = buf;
    c->left = len;
    c->overrun = 0;
}

const uint8_t *env_cursor_bytes(env_cursor *c, size_t n)
{
    const uint8_t *at = c->p;

    if (c->overrun || n > c->left) {
        c->overrun = 1;
        return NULL;
    }
    c->p += n;
    c->left -= n;
    return at;
}

static uint64_t cursor_be(env_cursor *c, size_t n)
{
    const uint8_t *p = env_cursor_bytes(c, n);
    uint64_t v = 0;

    for (size_t i = 0; p != NULL && i < n; i++)
        v = v << 8 | p[i];
    return v;
}

uint8_t env_cursor_u8(env_cursor *c)
{
    return (uint8_t)cursor_be(c, 1);
}

uint16_t env_cursor_u16(env_cursor *c)
{
    return (uint16_t)cursor_be(c, 2);
}

uint32_t env_cursor_u32(env_cursor *c)
{
    return (uint32_t)cursor_be(c, 4);
}

uint64_t env_cursor_u64(env_cursor *c)
{
    return cursor_be(c, 8);
}

int env_cursor_done(const env_cursor *c)
{
    return !c->overrun && c->left == 0;
}

static int buf_reserve(env_buf *b, size_t n)
{
    size_t cap;
    uint8_t *p;

    if (b->failed)
        return 0;
    if (n <= b->cap - b->len)
        return 1;
    cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    /* Not realloc: the old block may hold key material and must be wiped, not abandoned. */
    if ((p = OPENSSL_malloc(cap)) == NULL) {
        b->failed = 1;
        return 0;
    }
    if (b->len)
        memcpy(p, b->data, b->len);
    OPENSSL_clear_free(b->data, b->cap);
    b->data = p;
    b->cap = cap;
    return 1;
}

uint8_t *env_buf_extend(env_buf *b, size_t n)
{
    uint8_t *at;

    if (!buf_reserve(b, n))
        return NULL;
    at = b->data + b->len;
    b->len += n;
    return at;
}

void env_buf_bytes(env_buf *b, const void *p, size_t n)
{
    uint8_t *at;

    if (n > 0 && (at = env_buf_extend(b, n)) != NULL)
        memcpy(at, p, n);
}

static void buf_be(env_buf *b, uint64_t v, size_t n)
{
    uint8_t tmp[8];

    for (size_t i = 0; i < n; i++)
        tmp[n - 1 - i] = (uint8_t)(v >> (8 * i));
    env_buf_bytes(b, tmp, n);
}

void env_buf_u8(env_buf *b, uint8_t v)
{
    buf_be(b, v, 1);
}

void env_buf_u16(env_buf *b, uint16_t v)
{
    buf_be(b, v, 2);
}

void env_buf_u32(env_buf *b, uint32_t v)
{
    buf_be(b, v, 4);
}

void env_buf_u64(env_buf *b, uint64_t v)
{
    buf_be(b, v, 8);
}

void env_buf_free(env_buf *b)
{
    OPENSSL_clear_free(b->data, b->cap);
    memset(b, 0, sizeof(*b));
}
