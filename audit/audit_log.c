/*
 * audit_log.c - appending a record to the hash-chained audit log (audit.h). The flock makes
 * read-last-hash + append + fsync + head update one step for every process that appends.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/sha.h>
#include "audit_internal.h"

void audit_hash_hex(const char *line, size_t len, char hex[AUDIT_HASH_HEX + 1])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)line, len, md);
    for (size_t i = 0; i < sizeof(md); i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

char *audit_head_path(const char *path)
{
    char *p = NULL;

    return asprintf(&p, "%s.head", path) < 0 ? NULL : p;
}

/* Percent-encodes v into out (at most AUDIT_FIELD_MAX - 1 bytes, never cutting an escape). */
static void field_encode(char out[AUDIT_FIELD_MAX], const char *v)
{
    size_t o = 0;

    if (v == NULL || *v == '\0')
        v = "-";
    for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
        int esc = *p < 0x20 || *p >= 0x7f || *p == '%';

        if (o + (esc ? 3 : 1) >= AUDIT_FIELD_MAX)
            break;
        if (esc)
            o += (size_t)snprintf(out + o, 4, "%%%02X", *p);
        else
            out[o++] = (char)*p;
    }
    out[o] = '\0';
}

/* The newest record's seq and hash: from the log's last complete line, else from the head.
 * *torn says the log ends without a newline (a write that did not finish). */
static void tip_get(int fd, const char *path, unsigned long long *seq, char *hash, int *torn)
{
    char buf[2 * AUDIT_LINE_MAX + 1], *end, *start;
    struct stat st;
    off_t off;
    ssize_t n;
    audit_record r;

    *seq = 0;
    memset(hash, '0', AUDIT_HASH_HEX);
    hash[AUDIT_HASH_HEX] = '\0';
    *torn = 0;
    if (fstat(fd, &st) != 0 || st.st_size == 0)
        return;
    off = st.st_size > (off_t)(sizeof(buf) - 1) ? st.st_size - (off_t)(sizeof(buf) - 1) : 0;
    n = pread(fd, buf, (size_t)(st.st_size - off), off);
    if (n <= 0)
        return;
    buf[n] = '\0';
    *torn = buf[n - 1] != '\n';
    if ((end = strrchr(buf, '\n')) != NULL) {
        *end = '\0';
        start = strrchr(buf, '\n');
        start = start != NULL ? start + 1 : buf;
        if (audit_line_parse(start, strlen(start), &r)) {
            *seq = r.seq;
            memcpy(hash, r.hash, AUDIT_HASH_HEX + 1);
            return;
        }
    }
    /* no record we can read at the end: continue from the head, which verify checks */
    char *head = audit_head_path(path), line[128], h[AUDIT_HASH_HEX + 1];
    FILE *f = head != NULL ? fopen(head, "r") : NULL;

    if (f != NULL && fgets(line, sizeof(line), f) != NULL &&
        sscanf(line, "seq=%llu\thash=%64[0-9a-f]", seq, h) == 2)
        memcpy(hash, h, sizeof(h));
    if (f != NULL)
        fclose(f);
    free(head);
}

/* Replaces PATH.head with seq and hash (write, fsync, rename: never half a head). */
static int head_put(const char *path, unsigned long long seq, const char *hash)
{
    char *head = audit_head_path(path), *tmp = NULL, line[128];
    int fd = -1, err = ENOMEM, n = snprintf(line, sizeof(line), "seq=%llu\thash=%s\n", seq, hash);

    if (head == NULL || asprintf(&tmp, "%s.%ld", head, (long)getpid()) < 0)
        goto end;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0 || rename(tmp, head) != 0) {
        err = errno != 0 ? errno : EIO;
        unlink(tmp);
        goto end;
    }
    err = 0;
end:
    if (fd >= 0)
        close(fd);
    free(tmp);
    free(head);
    return err;
}

static void now_rfc3339(char out[40])
{
    struct timespec ts;
    struct tm tm;
    char base[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%.20s.%06dZ", base, (int)(ts.tv_nsec / 1000) % 1000000);
}

static void user_get(char *out, size_t cap)
{
    struct passwd pw, *res = NULL;
    char buf[1024];

    if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
        snprintf(out, cap, "%s", pw.pw_name);
    else
        snprintf(out, cap, "uid:%lu", (unsigned long)geteuid());
}

/* Writes all of buf, then makes it durable. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        buf += n;
        len -= (size_t)n;
    }
    return fsync(fd) == 0 ? 0 : errno;
}

int audit_log_append(const char *path, const audit_event *ev)
{
    char f[7][AUDIT_FIELD_MAX], when[40], user[128], prev[AUDIT_HASH_HEX + 1];
    char line[AUDIT_LINE_MAX + 2], hash[AUDIT_HASH_HEX + 1];
    unsigned long long seq;
    int fd, torn, err, n;

    fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    while ((err = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
        ;
    if (err != 0) {
        err = errno;
        close(fd);
        return err;
    }
    tip_get(fd, path, &seq, prev, &torn);
    now_rfc3339(when);
    user_get(user, sizeof(user));
    field_encode(f[0], ev->key);
    field_encode(f[1], ev->version);
    field_encode(f[2], ev->op);
    field_encode(f[3], ev->outcome);
    field_encode(f[4], user);
    field_encode(f[5], program_invocation_short_name);
    field_encode(f[6], ev->detail);
    n = snprintf(line + torn, AUDIT_LINE_MAX - AUDIT_HASH_HEX - 8,
                 "seq=%llu\ttime=%s\tkey=%s\tversion=%s\top=%s\toutcome=%s\tpid=%ld\tuser=%s\t"
                 "prog=%s\tdetail=%s\tprev=%s",
                 seq + 1, when, f[0], f[1], f[2], f[3], (long)getpid(), f[4], f[5], f[6], prev);
    if (torn)
        line[0] = '\n'; /* the torn line stays as it is, for verify to report */
    audit_hash_hex(line + torn, (size_t)n, hash);
    n += torn;
    n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%s\n", AUDIT_HASH_SEP, hash);
    err = write_all(fd, line, (size_t)n);
    if (err == 0)
        err = head_put(path, seq + 1, hash);
    flock(fd, LOCK_UN);
    close(fd);
    return err;
}
