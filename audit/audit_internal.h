/* audit_internal.h - what audit_log.c and audit_read.c share: the hash of a record line. */
#ifndef CMK_AUDIT_INTERNAL_H
#define CMK_AUDIT_INTERNAL_H

#include <stddef.h>
#include "audit.h"

#define AUDIT_HASH_SEP "\thash="

/* hex SHA-256 of the len bytes of line (everything before "\thash="). */
void audit_hash_hex(const char *line, size_t len, char hex[AUDIT_HASH_HEX + 1]);

/* PATH.head, in a new string. */
char *audit_head_path(const char *path);

#endif
