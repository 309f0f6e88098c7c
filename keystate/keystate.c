/*
 * keystate.c - the state object's encoding (keystate.h): "name=value" lines read through a bounded
 * reader (each line and value has a cap; nothing is read past len), the --ops names, times.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "keystate.h"
#include "../pkcs11/p11_data.h"
#include "../pkcs11/p11_key.h"

static const struct {
    const char *name;
    unsigned bit;
} op_names[] = {
    {"wrap", KS_OP_WRAP},
    {"unwrap", KS_OP_UNWRAP},
    {"sign", KS_OP_SIGN},
    {"verify", KS_OP_VERIFY},
};

unsigned ks_ops_parse(const char *s)
{
    unsigned ops = 0;
    const char *p = s;

    while (*p != '\0') {
        size_t n = strcspn(p, ","), i;

        for (i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
            if (strlen(op_names[i].name) == n && strncmp(p, op_names[i].name, n) == 0)
                break;
        if (i == sizeof(op_names) / sizeof(op_names[0]))
            return 0;
        ops |= op_names[i].bit;
        p += n + (p[n] == ',');
    }
    /* the token grants wrap with unwrap (CKA_WRAP/CKA_UNWRAP of one pair), sign with verify */
    if (!(ops & (KS_OP_WRAP | KS_OP_UNWRAP)) != !((ops & KS_OP_WRAP) && (ops & KS_OP_UNWRAP)))
        return 0;
    if (!(ops & (KS_OP_SIGN | KS_OP_VERIFY)) != !((ops & KS_OP_SIGN) && (ops & KS_OP_VERIFY)))
        return 0;
    return ops;
}

void ks_ops_format(unsigned ops, char *buf, size_t cap)
{
    size_t o = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
        if ((ops & op_names[i].bit) && o < cap)
            o += (size_t)snprintf(buf + o, cap - o, "%s%s", o > 0 ? "," : "", op_names[i].name);
}

unsigned ks_ops_p11(unsigned ops)
{
    return ((ops & (KS_OP_WRAP | KS_OP_UNWRAP)) ? P11_OP_DECRYPT : 0) |
           ((ops & (KS_OP_SIGN | KS_OP_VERIFY)) ? P11_OP_SIGN : 0);
}

static int number_take(const char *v, long long max, long long *out)
{
    char *end;

    if (*v < '0' || *v > '9')
        return 0;
    errno = 0;
    *out = strtoll(v, &end, 10);
    return *end == '\0' && errno == 0 && *out <= max;
}

/* Applies one "name=value" line to s. */
static int line_apply(ks_state *s, const char *name, const char *v, int *have_v)
{
    long long n;

    if (strcmp(name, "v") == 0)
        return (*have_v = number_take(v, KS_VERSION, &n) && n == KS_VERSION);
    if (strcmp(name, "kind") == 0) {
        if (strcmp(v, "RSA-HSM") != 0 && strcmp(v, "RSA") != 0)
            return 0;
        snprintf(s->kind, sizeof(s->kind), "%s", v);
        return 1;
    }
    if (strcmp(name, "ops") == 0)
        return (s->ops = ks_ops_parse(v)) != 0;
    if (strcmp(name, "recover-enable") == 0) {
        if (strlen(v) > KS_RECOVER_MAX_BYTES || strspn(v, "0123456789abcdef,") != strlen(v))
            return 0;
        snprintf(s->recover_enable, sizeof(s->recover_enable), "%s", v);
        return 1;
    }
    if (!number_take(v, (long long)1 << 62, &n))
        return 0;
    if (strcmp(name, "bits") == 0)
        return (s->bits = (unsigned)n) >= 2048 && n <= 16384;
    if (strcmp(name, "updated") == 0)
        return (s->updated = n), 1;
    if (strcmp(name, "created") == 0)
        return (s->created = n), 1;
    if (strcmp(name, "not-before") == 0)
        return (s->not_before = n), 1;
    if (strcmp(name, "expires") == 0)
        return (s->expires = n), 1;
    if (strcmp(name, "deleted-at") == 0)
        return (s->deleted_at = n), 1;
    if (strcmp(name, "rotate-after-days") == 0)
        return n < 100000 && ((s->rotate_after_days = (unsigned)n), 1); /* range before cast */
    if (strcmp(name, "retention-days") == 0)
        return (s->retention_days = (unsigned)n) >= KS_RETENTION_MIN_DAYS &&
               n <= KS_RETENTION_MAX_DAYS;
    if (strcmp(name, "purge-protection") == 0)
        return n <= 1 && ((s->purge_protection = (int)n), 1);
    return 0;
}

int ks_state_parse(const uint8_t *buf, size_t len, ks_state *s, const char **why)
{
    char line[KS_LINE_MAX + 1];
    size_t pos = 0;
    int have_v = 0;

    memset(s, 0, sizeof(*s));
    *why = NULL;
    while (pos < len) {
        const uint8_t *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = (nl != NULL ? (size_t)(nl - buf) : len) - pos;
        char *eq;

        if (n > KS_LINE_MAX || memchr(buf + pos, '\0', n) != NULL) {
            *why = "a line is too long or holds a NUL";
            return 0;
        }
        memcpy(line, buf + pos, n);
        line[n] = '\0';
        pos += n + (nl != NULL);
        if (n == 0)
            continue;
        if ((eq = strchr(line, '=')) == NULL) {
            *why = "a line is not name=value";
            return 0;
        }
        *eq = '\0';
        if ((strcmp(line, "v") != 0 && !have_v) || !line_apply(s, line, eq + 1, &have_v)) {
            *why = have_v ? "a field is unknown or out of range" : "it is not version 1 (v=1)";
            return 0;
        }
    }
    /* bits too: without it the state would be written back as bits=0, which no reader takes */
    if (!have_v || s->kind[0] == '\0' || s->ops == 0 || s->bits == 0 || s->retention_days == 0) {
        *why = "v, kind, ops, bits or retention-days is missing";
        return 0;
    }
    return 1;
}

size_t ks_state_format(const ks_state *s, char *buf, size_t cap)
{
    char ops[64];
    int n;

    ks_ops_format(s->ops, ops, sizeof(ops));
    n = snprintf(buf, cap,
                 "v=%d\nupdated=%020lld\nkind=%s\nops=%s\nbits=%u\ncreated=%lld\nnot-before=%"
                 "lld\nexpires=%lld\n"
                 "rotate-after-days=%u\nretention-days=%u\npurge-protection=%d\n"
                 "deleted-at=%lld\nrecover-enable=%s\n",
                 KS_VERSION, s->updated, s->kind, ops, s->bits, s->created, s->not_before,
                 s->expires, s->rotate_after_days, s->retention_days, s->purge_protection,
                 s->deleted_at, s->recover_enable);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

long long ks_time_parse(const char *s)
{
    struct tm tm = {0};
    const char *end;
    char *e;
    long long n, unit, now;

    if (s[0] == '@' || s[0] == '+') {
        errno = 0;
        n = strtoll(s + 1, &e, 10);
        if (errno != 0 || e == s + 1 || n < 0)
            return -1;
        if (s[0] == '@')
            return *e == '\0' ? n : -1;
        unit = strcmp(e, "d") == 0   ? KS_SECONDS_PER_DAY
               : strcmp(e, "h") == 0 ? 3600
               : strcmp(e, "s") == 0 ? 1
                                     : 0;
        now = (long long)time(NULL);
        /* a span past the end of time is not a time (and must not overflow: fuzz_config) */
        if (unit == 0 || n > (LLONG_MAX - now) / unit)
            return -1;
        return now + n * unit;
    }
    if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
        return -1;
    if (*end == 'T' && (end = strptime(end + 1, "%H:%M:%S", &tm)) == NULL)
        return -1;
    if (strcmp(end, "Z") != 0 && *end != '\0')
        return -1;
    return (long long)timegm(&tm);
}

void ks_time_format(long long t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t == 0 || gmtime_r(&tt, &tm) == NULL) {
        snprintf(buf, cap, "-");
        return;
    }
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

CK_RV ks_state_get(p11_token *t, const char *name, p11_data_hint *hint, ks_state *s)
{
    uint8_t *val = NULL;
    size_t len = 0;
    const char *why = NULL;
    CK_RV rv = p11_data_get_hinted(t, KS_APP, name, hint, &val, &len);

    if (rv != CKR_OK)
        return rv;
    if (!ks_state_parse(val, len, s, &why))
        rv = p11_err_set(P11_R_BAD_ARGUMENT, "key '%s': its state object is not valid: %s", name,
                         why);
    free(val);
    return rv;
}

/* New use of the key for op (KS_OP_WRAP or KS_OP_SIGN): verb names it in why; what stays
 * allowed after expiry (unwrap, verify) is said too. */
static int use_ok(const ks_state *s, long long now, unsigned op, char *why, size_t cap)
{
    const char *verb = op == KS_OP_SIGN ? "sign" : "wrap";
    const char *still = op == KS_OP_SIGN ? "verifies" : "unwraps";
    char t[40];

    if (s->deleted_at != 0) {
        ks_time_format(s->deleted_at, t, sizeof(t));
        snprintf(why, cap, "is deleted (since %s)", t);
        return 0;
    }
    if (!(s->ops & op)) {
        snprintf(why, cap, "is not permitted to %s", verb);
        return 0;
    }
    if (s->not_before != 0 && now < s->not_before) {
        ks_time_format(s->not_before, t, sizeof(t));
        snprintf(why, cap, "is not valid before %s", t);
        return 0;
    }
    if (s->expires != 0 && now >= s->expires) {
        ks_time_format(s->expires, t, sizeof(t));
        snprintf(why, cap, "expired on %s: it still %s, but %ss nothing new", t, still, verb);
        return 0;
    }
    return 1;
}

int ks_state_wrap_ok(const ks_state *s, long long now, char *why, size_t cap)
{
    return use_ok(s, now, KS_OP_WRAP, why, cap);
}

int ks_state_sign_ok(const ks_state *s, long long now, char *why, size_t cap)
{
    return use_ok(s, now, KS_OP_SIGN, why, cap);
}
