/*
 * audit.h - the tamper-evident audit log of key operations, shared by the `cmk` command and
 * the provider (no OpenSSL provider types here; SHA-256 comes from libcrypto).
 *
 * The log is a text file, one record per line, fields separated by tabs (docs/cmk-key.md,
 * "Audit log format"):
 *   seq=N time=T key=K version=V op=O outcome=R pid=P user=U prog=G detail=D prev=H hash=H
 * Values are percent-encoded where they hold '%', a tab, a control character or a byte >= 0x7f.
 * `hash` is the lowercase hex SHA-256 of the line's bytes up to (not including) the tab before
 * "hash="; `prev` is the previous record's hash (64 zeros for the first record). Records are
 * numbered from 1 without gaps. A head file beside the log (PATH.head) holds the newest
 * record's seq and hash, so that losing records at the end is caught too.
 *
 * Appending: the log is opened with O_APPEND; an exclusive flock(2) on it is held while the
 * last hash is read, the record written and fsync'd, and the head replaced (write, fsync,
 * rename), so concurrent appenders in several processes keep one chain.
 *
 * Thread safety: every function may be called from any thread; appenders serialize on flock.
 */
#ifndef CMK_AUDIT_H
#define CMK_AUDIT_H

#include <stddef.h>

#define AUDIT_HASH_HEX  64
#define AUDIT_LINE_MAX  4096 /* longest record line read or written, newline included */
#define AUDIT_FIELD_MAX 256  /* longest value of one field, encoded */

typedef struct audit_record {
    unsigned long long seq;
    char time[40]; /* RFC 3339 UTC with microseconds: 2026-11-25T16:52:27.123456Z */
    char key[AUDIT_FIELD_MAX], version[AUDIT_FIELD_MAX], op[AUDIT_FIELD_MAX];
    char outcome[AUDIT_FIELD_MAX], user[AUDIT_FIELD_MAX], prog[AUDIT_FIELD_MAX];
    char detail[AUDIT_FIELD_MAX];
    long pid;
    char prev[AUDIT_HASH_HEX + 1], hash[AUDIT_HASH_HEX + 1];
} audit_record;

/* What the caller tells about one operation; NULL fields are written as "-". Values longer
 * than a field holds are cut. */
typedef struct audit_event {
    const char *key, *version, *op, *outcome, *detail;
} audit_event;

/* Appends one record for ev to the log at path (created 0600 with its folder's parent
 * existing). Returns 0, or an errno value (the log is then unchanged or ends in a torn line
 * that audit_log_verify reports). */
int audit_log_append(const char *path, const audit_event *ev);

/* Calls fn for each record that parses, in file order, stopping when fn returns non-zero.
 * Returns 0, or an errno value when the log cannot be read (ENOENT: no log yet). */
typedef int (*audit_record_fn)(const audit_record *r, void *arg);
int audit_log_read(const char *path, audit_record_fn fn, void *arg);

/* Outcome of a verification: ok, or the first record that is wrong and why. */
typedef struct audit_report {
    int ok;
    unsigned long long records; /* records that verified before the first fault */
    unsigned long line;         /* 1-based line of the first fault (0: at the end / head) */
    char why[256];              /* one line: what is wrong there */
} audit_report;

/* Checks the whole chain and the head file. Returns 0 with r filled (r->ok says whether the
 * log verified), or an errno value when the log cannot be read. */
int audit_log_verify(const char *path, audit_report *r);

/* Parses one line (without its newline) into r; 0 when it is not a well-formed record. */
int audit_line_parse(const char *line, size_t len, audit_record *r);

#endif
