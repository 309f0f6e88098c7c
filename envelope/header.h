/*
 * header.h - the header of a cmk file, and its byte-exact encoding (docs/format.md).
 *
 * A header has two sections. The bound section (random per-file salt, chunk size, optional
 * encryption context of key=value pairs: authenticated, not secret) feeds the derivation of the
 * file's data key, and the key commitment binds it. The wrap section (the CMK's name and version,
 * the wrap algorithm, the wrapped intermediate key) says how to recover the intermediate key; it
 * is authenticated by that recovery itself (a changed wrap section unwraps to nothing, or to a
 * key the commitment refuses), and `cmk rewrap` replaces it without touching the body.
 * All integers are big-endian.
 *
 * Parsing reads untrusted bytes through a bounded cursor and checks every field's range; it
 * never allocates more than the limits below, whatever the input says.
 *
 * Thread safety: none needed; callers own their headers.
 */
#ifndef CMK_ENV_HEADER_H
#define CMK_ENV_HEADER_H

#include <stddef.h>
#include <stdint.h>
#include "cursor.h"

#define ENV_MAGIC              "CMKE"
#define ENV_MAGIC_BYTES        4
#define ENV_FIXED_PREFIX_BYTES 9 /* magic, version, header length */
#define ENV_FORMAT_VERSION     1
#define ENV_SALT_BYTES         32
#define ENV_COMMIT_BYTES       32
#define ENV_MAX_NAME_BYTES     255
#define ENV_MAX_VERSION_BYTES  64
#define ENV_MAX_WRAPPED_BYTES  1024 /* RSA-8192 */
#define ENV_MAX_CONTEXT_PAIRS  32
#define ENV_MAX_CONTEXT_BYTES  255 /* each key and each value */
#define ENV_MIN_CHUNK_BYTES    1024
#define ENV_MAX_CHUNK_BYTES    (16u << 20)
#define ENV_MAX_HEADER_BYTES                                                                       \
    (4 + 1 + 4 + 1 + 1 + ENV_MAX_NAME_BYTES + 1 + ENV_MAX_VERSION_BYTES + 2 +                      \
     ENV_MAX_WRAPPED_BYTES + ENV_SALT_BYTES + 4 + 1 +                                              \
     ENV_MAX_CONTEXT_PAIRS * 2 * (1 + ENV_MAX_CONTEXT_BYTES) + ENV_COMMIT_BYTES)

typedef enum env_wrap_alg {
    ENV_WRAP_RSA_OAEP = 1,     /* RSAES-OAEP, SHA-1 and MGF1-SHA-1 */
    ENV_WRAP_RSA_OAEP_256 = 2, /* RSAES-OAEP, SHA-256 and MGF1-SHA-256 */
} env_wrap_alg;

typedef struct env_context_pair {
    char key[ENV_MAX_CONTEXT_BYTES + 1];
    char value[ENV_MAX_CONTEXT_BYTES + 1];
} env_context_pair;

typedef struct env_header {
    char key_name[ENV_MAX_NAME_BYTES + 1];       /* UTF-8, no NUL, 1..255 bytes */
    char key_version[ENV_MAX_VERSION_BYTES + 1]; /* the CMK version id, 1..64 bytes */
    env_wrap_alg wrap_alg;
    uint8_t wrapped[ENV_MAX_WRAPPED_BYTES];
    size_t wrapped_len;
    uint8_t salt[ENV_SALT_BYTES];
    uint32_t chunk_bytes;
    env_context_pair context[ENV_MAX_CONTEXT_PAIRS]; /* sorted by key, keys unique */
    size_t ncontext;
    uint8_t commitment[ENV_COMMIT_BYTES];
} env_header;

typedef enum env_header_err {
    ENV_HDR_OK = 0,
    ENV_HDR_NOT_CMK,   /* wrong magic: not a cmk file */
    ENV_HDR_VERSION,   /* a format version this build does not read */
    ENV_HDR_TRUNCATED, /* fewer bytes than the header needs */
    ENV_HDR_LENGTH,    /* header length field disagrees with its fields */
    ENV_HDR_WRAP_ALG,  /* unknown wrap algorithm */
    ENV_HDR_FIELD,     /* a field out of range: empty or over-long name, chunk size... */
    ENV_HDR_CONTEXT,   /* context pairs not sorted/unique, or with a NUL byte */
} env_header_err;

const char *env_header_err_str(env_header_err e);

/* Encodes h into out (appending). The commitment is the last ENV_COMMIT_BYTES of the output;
 * everything before it is what the commitment and the data key are bound to. Returns 0 when
 * h itself is out of range (same rules as parsing) or memory ran out. */
int env_header_encode(const env_header *h, env_buf *out);

/* Parses a header from the start of buf. On success fills h and sets *header_len to the
 * number of bytes the header takes. ENV_HDR_TRUNCATED when buf is shorter than the header
 * says (read more and call again). */
env_header_err env_header_parse(const uint8_t *buf, size_t len, env_header *h, size_t *header_len);

/* Appends the bound section's canonical encoding (what the data key derivation hashes):
 * magic, format version, salt, chunk size, context. */
int env_header_bound_encode(const env_header *h, env_buf *out);

/* Adds or replaces a context pair, keeping them sorted. 0 if out of range or full. */
int env_header_context_set(env_header *h, const char *key, const char *value);

#endif
