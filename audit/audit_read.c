/*
 * audit_read.c - reading and verifying the audit log (audit.h). Every line is parsed through
 * a bounded reader: a field's value is copied only when it fits its buffer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit_internal.h"

/* Copies the value of field name (the text after "name=" up to the next tab or the end). */
static int field_take(const char **p, const char *end, const char *name, char *dst, size_t cap)
{
    size_t nl = strlen(name), vl;
    const char *tab;

    if ((size_t)(end - *p) < nl + 1 || memcmp(*p, name, nl) != 0 || (*p)[nl] != '=')
        return 0;
    *p += nl + 1;
    tab = memchr(*p, '\t', (size_t)(end - *p));
    vl = (size_t)((tab != NULL ? tab : end) - *p);
    if (vl >= cap)
        return 0;
    memcpy(dst, *p, vl);
    dst[vl] = '\0';
    *p += vl + (tab != NULL);
    return tab != NULL || *p == end;
}

static int number_ok(const char *s, unsigned long long *out)
{
    char *e;

    if (*s < '0' || *s > '9')
        return 0;
    errno = 0;
    *out = strtoull(s, &e, 10);
    return *e == '\0' && errno == 0;
}

static int hex_ok(const char *s)
{
    return strlen(s) == AUDIT_HASH_HEX && strspn(s, "0123456789abcdef") == AUDIT_HASH_HEX;
}

int audit_line_parse(const char *line, size_t len, audit_record *r)
{
    const char *p = line, *end = line + len;
    char seq[24], pid[24];
    unsigned long long v;

    memset(r, 0, sizeof(*r));
    if (!field_take(&p, end, "seq", seq, sizeof(seq)) ||
        !field_take(&p, end, "time", r->time, sizeof(r->time)) ||
        !field_take(&p, end, "key", r->key, sizeof(r->key)) ||
        !field_take(&p, end, "version", r->version, sizeof(r->version)) ||
        !field_take(&p, end, "op", r->op, sizeof(r->op)) ||
        !field_take(&p, end, "outcome", r->outcome, sizeof(r->outcome)) ||
        !field_take(&p, end, "pid", pid, sizeof(pid)) ||
        !field_take(&p, end, "user", r->user, sizeof(r->user)) ||
        !field_take(&p, end, "prog", r->prog, sizeof(r->prog)) ||
        !field_take(&p, end, "detail", r->detail, sizeof(r->detail)) ||
        !field_take(&p, end, "prev", r->prev, sizeof(r->prev)) ||
        !field_take(&p, end, "hash", r->hash, sizeof(r->hash)) || p != end)
        return 0;
    if (!number_ok(seq, &r->seq) || !number_ok(pid, &v) || !hex_ok(r->prev) || !hex_ok(r->hash))
        return 0;
    r->pid = (long)v;
    return 1;
}

/* Reads one line of at most AUDIT_LINE_MAX bytes; *nl says it ended in a newline. Returns its
 * length, or -1 at the end of the file, -2 for a line too long. */
static long line_get(FILE *f, char *buf, int *nl)
{
    size_t n;

    if (fgets(buf, AUDIT_LINE_MAX + 1, f) == NULL)
        return -1;
    n = strlen(buf);
    *nl = n > 0 && buf[n - 1] == '\n';
    if (!*nl && n == AUDIT_LINE_MAX)
        return -2;
    if (*nl)
        buf[--n] = '\0';
    return (long)n;
}

int audit_log_read(const char *path, audit_record_fn fn, void *arg)
{
    FILE *f = fopen(path, "r");
    char *buf = malloc(AUDIT_LINE_MAX + 1);
    audit_record r;
    long n;
    int nl, err = 0;

    if (f == NULL || buf == NULL) {
        err = f == NULL ? errno : ENOMEM;
        goto end;
    }
    while ((n = line_get(f, buf, &nl)) != -1)
        if (n >= 0 && audit_line_parse(buf, (size_t)n, &r) && fn(&r, arg) != 0)
            break;
end:
    if (f != NULL)
        fclose(f);
    free(buf);
    return err;
}

/* Does a record numbered seq appear anywhere in the log? (Tells "reordered" from "removed".) */
static int seq_present(const char *path, unsigned long long seq, char *buf)
{
    FILE *f = fopen(path, "r");
    audit_record r;
    long n;
    int nl, found = 0;

    while (f != NULL && !found && (n = line_get(f, buf, &nl)) != -1)
        found = n >= 0 && audit_line_parse(buf, (size_t)n, &r) && r.seq == seq;
    if (f != NULL)
        fclose(f);
    return found;
}

static int fault(audit_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fault(audit_report *r, const char *fmt, ...)
{
    va_list ap;

    r->ok = 0;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
    return 1;
}

/* Checks one line against the chain so far; 1 when it is a fault (r says which). */
static int line_check(const char *path, char *buf, long n, int nl, audit_report *r, char *prev,
                      unsigned long long *seq)
{
    audit_record rec;
    char want[AUDIT_HASH_HEX + 1];
    const char *sep;

    if (n == -2)
        return fault(r, "line %lu is longer than any record", r->line);
    if (!nl)
        return fault(r, "line %lu: the last record is truncated (no end of line)", r->line);
    if (!audit_line_parse(buf, (size_t)n, &rec))
        return fault(r, "line %lu is not a well-formed record: it was changed", r->line);
    sep = strstr(buf, AUDIT_HASH_SEP);
    audit_hash_hex(buf, (size_t)(sep - buf), want);
    if (strcmp(want, rec.hash) != 0)
        return fault(r, "record %llu (line %lu) was changed: its hash does not match its content",
                     rec.seq, r->line);
    if (rec.seq != *seq + 1) {
        if (rec.seq <= *seq || seq_present(path, *seq + 1, buf))
            return fault(r,
                         "line %lu holds record %llu where record %llu belongs: records were "
                         "reordered",
                         r->line, rec.seq, *seq + 1);
        return fault(r,
                     "line %lu holds record %llu where record %llu belongs: records %llu..%llu "
                     "were removed",
                     r->line, rec.seq, *seq + 1, *seq + 1, rec.seq - 1);
    }
    if (strcmp(rec.prev, prev) != 0)
        return fault(r,
                     "record %llu (line %lu) does not chain to the record before it: that "
                     "record was changed or replaced",
                     rec.seq, r->line);
    *seq = rec.seq;
    memcpy(prev, rec.hash, AUDIT_HASH_HEX + 1);
    r->records++;
    return 0;
}

/* The head file must name the last record (a newer head means records were cut off). */
static void head_check(const char *path, audit_report *r, unsigned long long seq, const char *prev)
{
    char *head = audit_head_path(path), line[128], h[AUDIT_HASH_HEX + 1];
    FILE *f = head != NULL ? fopen(head, "r") : NULL;
    unsigned long long hseq;

    r->line = 0;
    if (f == NULL) {
        if (seq > 0)
            fault(r, "the head file %s.head is missing: the end of the log cannot be checked",
                  path);
    } else if (fgets(line, sizeof(line), f) == NULL ||
               sscanf(line, "seq=%llu\thash=%64[0-9a-f]", &hseq, h) != 2) {
        fault(r, "the head file %s.head is not well-formed", path);
    } else if (hseq > seq) {
        fault(r,
              "the log ends at record %llu but its head names record %llu: records %llu..%llu "
              "were truncated",
              seq, hseq, seq + 1, hseq);
    } else if (hseq == seq && strcmp(h, prev) != 0) {
        fault(r, "record %llu, the newest, does not match the head file: it was changed", seq);
    }
    if (f != NULL)
        fclose(f);
    free(head);
}

int audit_log_verify(const char *path, audit_report *r)
{
    FILE *f = fopen(path, "r");
    char *buf = malloc(AUDIT_LINE_MAX + 1), prev[AUDIT_HASH_HEX + 1];
    unsigned long long seq = 0;
    long n;
    int nl = 1, err = 0;

    memset(r, 0, sizeof(*r));
    r->ok = 1;
    memset(prev, '0', AUDIT_HASH_HEX);
    prev[AUDIT_HASH_HEX] = '\0';
    if (f == NULL || buf == NULL) {
        err = f == NULL ? errno : ENOMEM;
        goto end;
    }
    while ((n = line_get(f, buf, &nl)) != -1) {
        r->line++;
        if (line_check(path, buf, n, nl, r, prev, &seq))
            goto end;
    }
    head_check(path, r, seq, prev);
end:
    if (f != NULL)
        fclose(f);
    free(buf);
    return err;
}
