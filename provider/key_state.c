/*
 * key_state.c - the key life cycle as the provider honours it, and its audit records
 * (key_state.h). The state comes from the token on every check: PKCS#11 v2.40 section 4.8
 * (usage attributes) for revocation, the key's CKO_DATA state object for the rest.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "key_state.h"
#include "../audit/audit.h"
#include "../keystate/keystate.h"

static void version_hex(p11_key *k, char *buf, size_t cap)
{
    size_t n, o = 0;
    const uint8_t *id = p11_key_id(k, &n);

    buf[0] = '\0';
    for (size_t i = 0; i < n && o + 3 <= cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%02x", id[i]);
}

void cmk_audit(const CMK_PROV *prov, p11_key *k, const char *op, const char *outcome,
               const char *detail)
{
    char ver[2 * 64 + 1] = "";
    audit_event ev = {k != NULL ? p11_key_label(k) : "(in memory)", ver, op, outcome, detail};

    if (prov == NULL || prov->audit_log == NULL)
        return;
    if (k != NULL)
        version_hex(k, ver, sizeof(ver));
    /* a log that cannot be written must not stop the application's data path; the failure is
     * visible to `cmk audit verify` as a gap only if records went missing, so say it once */
    if (audit_log_append(prov->audit_log, &ev) != 0)
        fprintf(stderr, "cmk provider: cannot append to the audit log %s\n", prov->audit_log);
}

static int refuse(CMK_PROV *prov, p11_key *k, const char *op, const char *fmt, const char *a,
                  const char *b)
{
    char msg[300];

    snprintf(msg, sizeof(msg), fmt, a, b);
    CMK_ERR(prov, CMK_R_KEY_STATE, "%s", msg);
    cmk_audit(prov, k, op, "refused", msg);
    return 0;
}

/* Disabled: the token allows this version none of its uses. */
static int version_disabled(p11_key *k, p11_key_attrs *a, int *disabled)
{
    CK_RV rv = p11_key_attrs_get(k, a);

    *disabled =
        rv == CKR_OK && !(a->decrypt || a->unwrap || a->sign || a->encrypt || a->wrap || a->verify);
    return rv == CKR_OK;
}

/* Reads the state object; *have 0 when the key has none. 0 with the error raised when the
 * token fails or the object is not valid. */
static int state_read(CMK_PROV *prov, p11_key *k, ks_state *s, int *have)
{
    CK_RV rv = ks_state_get(p11_key_token(k), p11_key_label(k), p11_key_state_hint(k), s);

    *have = rv == CKR_OK;
    if (rv == CKR_OK || rv == P11_R_OBJECT_NOT_FOUND)
        return 1;
    CMK_ERR_P11(prov, rv);
    return 0;
}

static int common_check(CMK_PROV *prov, p11_key *k, const char *op, ks_state *s, int *have,
                        p11_key_attrs *a)
{
    char ver[2 * 64 + 1], t[40];
    int disabled;

    if (!state_read(prov, k, s, have))
        return 0;
    if (*have && s->deleted_at != 0) {
        ks_time_format(s->deleted_at, t, sizeof(t));
        return refuse(prov, k, op, "key '%s' is deleted (since %s): recover it to use it",
                      p11_key_label(k), t);
    }
    if (!version_disabled(k, a, &disabled)) {
        CMK_ERR_P11(prov, p11_err_rv());
        return 0;
    }
    if (disabled) {
        version_hex(k, ver, sizeof(ver));
        return refuse(prov, k, op, "key '%s' version %s is disabled: enable it to use it",
                      p11_key_label(k), ver);
    }
    return 1;
}

int cmk_key_state_load_check(CMK_PROV *prov, p11_key *k)
{
    p11_key_attrs a;
    ks_state s;
    int have;

    return common_check(prov, k, "load", &s, &have, &a);
}

/* A signature from a key the token does not let sign: asked before the token is, so a CMK made
 * for encryption only says so in one line. */
static int sign_permitted(CMK_PROV *prov, p11_key *k, const p11_key_attrs *a)
{
    char msg[200];

    if (a->sign)
        return 1;
    snprintf(msg, sizeof(msg), "key '%s' is not permitted to sign (CKA_SIGN is false)",
             p11_key_label(k));
    CMK_ERR(prov, CMK_R_NOT_PERMITTED, "%s", msg);
    cmk_audit(prov, k, "sign", "refused", msg);
    return 0;
}

/* New wraps and new signatures: only for what the key was made for, and within its validity
 * period. */
static int use_check(CMK_PROV *prov, p11_key *k, int sign)
{
    const char *op = sign ? "sign" : "wrap";
    p11_key_attrs a;
    ks_state s;
    char why[200];
    int have;

    if (!common_check(prov, k, op, &s, &have, &a))
        return 0;
    if (sign && !sign_permitted(prov, k, &a))
        return 0;
    if (have &&
        !(sign ? ks_state_sign_ok : ks_state_wrap_ok)(&s, (long long)time(NULL), why, sizeof(why)))
        return refuse(prov, k, op, "key '%s' %s", p11_key_label(k), why);
    return 1;
}

int cmk_key_state_wrap_check(CMK_PROV *prov, p11_key *k)
{
    return use_check(prov, k, 0);
}

int cmk_key_state_sign_check(CMK_PROV *prov, p11_key *k)
{
    return use_check(prov, k, 1);
}

void cmk_key_state_raise_p11(CMK_PROV *prov, p11_key *k, const char *op, CK_RV rv)
{
    char ver[2 * 64 + 1];

    if (rv == CKR_KEY_FUNCTION_NOT_PERMITTED) {
        version_hex(k, ver, sizeof(ver));
        refuse(prov, k, op, "key '%s' version %s is disabled: the token refuses its use",
               p11_key_label(k), ver);
        return;
    }
    CMK_ERR_P11(prov, rv);
    cmk_audit(prov, k, op, "failed", p11_err_detail());
}
