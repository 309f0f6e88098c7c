/* header.c - encoding and bounded parsing of the cmk file header; see header.h and
 * docs/format.md. */
#include <string.h>
#include "header.h"

const char *env_header_err_str(env_header_err e)
{
    switch (e) {
    case ENV_HDR_OK:
        return "ok";
    case ENV_HDR_NOT_CMK:
        return "not a cmk file (bad magic)";
    case ENV_HDR_VERSION:
        return "unsupported cmk format version";
    case ENV_HDR_TRUNCATED:
        return "truncated header";
    case ENV_HDR_LENGTH:
        return "header length does not match its fields";
    case ENV_HDR_WRAP_ALG:
        return "unknown key wrap algorithm";
    case ENV_HDR_FIELD:
        return "header field out of range";
    case ENV_HDR_CONTEXT:
        return "malformed encryption context";
    }
    return "unknown header error";
}

static int text_ok(const char *s, size_t len, size_t max)
{
    return len >= 1 && len <= max && memchr(s, '\0', len) == NULL;
}

static int context_ok(const env_header *h)
{
    if (h->ncontext > ENV_MAX_CONTEXT_PAIRS)
        return 0;
    for (size_t i = 0; i < h->ncontext; i++) {
        const env_context_pair *c = &h->context[i];

        if (!text_ok(c->key, strlen(c->key), ENV_MAX_CONTEXT_BYTES) ||
            strlen(c->value) > ENV_MAX_CONTEXT_BYTES)
            return 0;
        /* Sorted and unique, so one context has one encoding. */
        if (i > 0 && strcmp(h->context[i - 1].key, c->key) >= 0)
            return 0;
    }
    return 1;
}

static int fields_ok(const env_header *h)
{
    return text_ok(h->key_name, strlen(h->key_name), ENV_MAX_NAME_BYTES) &&
           text_ok(h->key_version, strlen(h->key_version), ENV_MAX_VERSION_BYTES) &&
           (h->wrap_alg == ENV_WRAP_RSA_OAEP || h->wrap_alg == ENV_WRAP_RSA_OAEP_256) &&
           h->wrapped_len >= 1 && h->wrapped_len <= ENV_MAX_WRAPPED_BYTES &&
           h->chunk_bytes >= ENV_MIN_CHUNK_BYTES && h->chunk_bytes <= ENV_MAX_CHUNK_BYTES &&
           context_ok(h);
}

static void context_encode(const env_header *h, env_buf *out)
{
    env_buf_u8(out, (uint8_t)h->ncontext);
    for (size_t i = 0; i < h->ncontext; i++) {
        size_t kl = strlen(h->context[i].key), vl = strlen(h->context[i].value);

        env_buf_u8(out, (uint8_t)kl);
        env_buf_bytes(out, h->context[i].key, kl);
        env_buf_u8(out, (uint8_t)vl);
        env_buf_bytes(out, h->context[i].value, vl);
    }
}

int env_header_bound_encode(const env_header *h, env_buf *out)
{
    if (!fields_ok(h))
        return 0;
    env_buf_bytes(out, ENV_MAGIC, ENV_MAGIC_BYTES);
    env_buf_u8(out, ENV_FORMAT_VERSION);
    env_buf_bytes(out, h->salt, ENV_SALT_BYTES);
    env_buf_u32(out, h->chunk_bytes);
    context_encode(h, out);
    return !out->failed;
}

int env_header_encode(const env_header *h, env_buf *out)
{
    size_t start = out->len, name_len, ver_len;

    if (!fields_ok(h))
        return 0;
    name_len = strlen(h->key_name);
    ver_len = strlen(h->key_version);
    env_buf_bytes(out, ENV_MAGIC, ENV_MAGIC_BYTES);
    env_buf_u8(out, ENV_FORMAT_VERSION);
    env_buf_u32(out, 0); /* header length, patched below */
    /* bound section */
    env_buf_bytes(out, h->salt, ENV_SALT_BYTES);
    env_buf_u32(out, h->chunk_bytes);
    context_encode(h, out);
    /* wrap section */
    env_buf_u8(out, (uint8_t)h->wrap_alg);
    env_buf_u8(out, (uint8_t)name_len);
    env_buf_bytes(out, h->key_name, name_len);
    env_buf_u8(out, (uint8_t)ver_len);
    env_buf_bytes(out, h->key_version, ver_len);
    env_buf_u16(out, (uint16_t)h->wrapped_len);
    env_buf_bytes(out, h->wrapped, h->wrapped_len);
    env_buf_bytes(out, h->commitment, ENV_COMMIT_BYTES);
    if (out->failed)
        return 0;
    {
        uint32_t total = (uint32_t)(out->len - start);
        uint8_t *lenp = out->data + start + ENV_MAGIC_BYTES + 1;

        lenp[0] = (uint8_t)(total >> 24);
        lenp[1] = (uint8_t)(total >> 16);
        lenp[2] = (uint8_t)(total >> 8);
        lenp[3] = (uint8_t)total;
    }
    return 1;
}

/* Reads a u8-length-prefixed text field into dst (NUL-terminated). */
static int text_read(env_cursor *c, char *dst, size_t max, int allow_empty)
{
    size_t n = env_cursor_u8(c);
    const uint8_t *p = env_cursor_bytes(c, n);

    if (p == NULL || n > max || (n == 0 && !allow_empty) || memchr(p, '\0', n) != NULL)
        return 0;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 1;
}

env_header_err env_header_parse(const uint8_t *buf, size_t len, env_header *h, size_t *header_len)
{
    env_cursor c;
    uint32_t total;
    const uint8_t *p;

    memset(h, 0, sizeof(*h));
    if (len < ENV_MAGIC_BYTES)
        return memcmp(buf, ENV_MAGIC, len) == 0 ? ENV_HDR_TRUNCATED : ENV_HDR_NOT_CMK;
    if (memcmp(buf, ENV_MAGIC, ENV_MAGIC_BYTES) != 0)
        return ENV_HDR_NOT_CMK;
    if (len < ENV_FIXED_PREFIX_BYTES)
        return ENV_HDR_TRUNCATED;
    if (buf[ENV_MAGIC_BYTES] != ENV_FORMAT_VERSION)
        return ENV_HDR_VERSION;
    env_cursor_init(&c, buf + ENV_MAGIC_BYTES + 1, 4);
    total = env_cursor_u32(&c);
    if (total < ENV_FIXED_PREFIX_BYTES + ENV_COMMIT_BYTES || total > ENV_MAX_HEADER_BYTES)
        return ENV_HDR_LENGTH;
    if (len < total)
        return ENV_HDR_TRUNCATED;

    /* From here on every read is bounded by the header's own length. */
    env_cursor_init(&c, buf + ENV_FIXED_PREFIX_BYTES, total - ENV_FIXED_PREFIX_BYTES);
    if ((p = env_cursor_bytes(&c, ENV_SALT_BYTES)) == NULL)
        return ENV_HDR_LENGTH;
    memcpy(h->salt, p, ENV_SALT_BYTES);
    h->chunk_bytes = env_cursor_u32(&c);
    if (c.overrun)
        return ENV_HDR_LENGTH;
    if (h->chunk_bytes < ENV_MIN_CHUNK_BYTES || h->chunk_bytes > ENV_MAX_CHUNK_BYTES)
        return ENV_HDR_FIELD;
    h->ncontext = env_cursor_u8(&c);
    if (h->ncontext > ENV_MAX_CONTEXT_PAIRS)
        return c.overrun ? ENV_HDR_LENGTH : ENV_HDR_CONTEXT;
    for (size_t i = 0; i < h->ncontext; i++) {
        if (!text_read(&c, h->context[i].key, ENV_MAX_CONTEXT_BYTES, 0) ||
            !text_read(&c, h->context[i].value, ENV_MAX_CONTEXT_BYTES, 1))
            return c.overrun ? ENV_HDR_LENGTH : ENV_HDR_CONTEXT;
    }
    if (!context_ok(h))
        return ENV_HDR_CONTEXT;
    h->wrap_alg = env_cursor_u8(&c);
    if (c.overrun)
        return ENV_HDR_LENGTH;
    if (h->wrap_alg != ENV_WRAP_RSA_OAEP && h->wrap_alg != ENV_WRAP_RSA_OAEP_256)
        return ENV_HDR_WRAP_ALG;
    if (!text_read(&c, h->key_name, ENV_MAX_NAME_BYTES, 0) ||
        !text_read(&c, h->key_version, ENV_MAX_VERSION_BYTES, 0))
        return c.overrun ? ENV_HDR_LENGTH : ENV_HDR_FIELD;
    h->wrapped_len = env_cursor_u16(&c);
    if (h->wrapped_len == 0 || h->wrapped_len > ENV_MAX_WRAPPED_BYTES)
        return c.overrun ? ENV_HDR_LENGTH : ENV_HDR_FIELD;
    if ((p = env_cursor_bytes(&c, h->wrapped_len)) == NULL)
        return ENV_HDR_LENGTH;
    memcpy(h->wrapped, p, h->wrapped_len);
    if ((p = env_cursor_bytes(&c, ENV_COMMIT_BYTES)) == NULL)
        return ENV_HDR_LENGTH;
    memcpy(h->commitment, p, ENV_COMMIT_BYTES);
    if (!env_cursor_done(&c))
        return ENV_HDR_LENGTH;
    *header_len = total;
    return ENV_HDR_OK;
}

int env_header_context_set(env_header *h, const char *key, const char *value)
{
    size_t kl = strlen(key), vl = strlen(value), at;

    if (kl == 0 || kl > ENV_MAX_CONTEXT_BYTES || vl > ENV_MAX_CONTEXT_BYTES)
        return 0;
    for (at = 0; at < h->ncontext; at++) {
        int cmp = strcmp(h->context[at].key, key);

        if (cmp == 0) {
            memcpy(h->context[at].value, value, vl + 1);
            return 1;
        }
        if (cmp > 0)
            break;
    }
    if (h->ncontext == ENV_MAX_CONTEXT_PAIRS)
        return 0;
    memmove(&h->context[at + 1], &h->context[at], (h->ncontext - at) * sizeof(h->context[0]));
    memcpy(h->context[at].key, key, kl + 1);
    memcpy(h->context[at].value, value, vl + 1);
    h->ncontext++;
    return 1;
}
