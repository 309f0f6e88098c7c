/*
 * p11_key_check.c - a key's attributes as the token reports them, and the CMK rule
 * (PKCS#11 v2.40 section 4.9: CKA_SENSITIVE, CKA_EXTRACTABLE of private keys).
 */
#include <stdio.h>
#include <string.h>
#include "p11_key_internal.h"

struct attrs_arg {
    p11_key *k;
    p11_key_attrs *out;
};

static CK_RV bools_read(p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                        const CK_ATTRIBUTE_TYPE *types, int **dst, size_t n)
{
    CK_BBOOL v[16];
    CK_ATTRIBUTE tmpl[16];
    CK_RV rv;

    for (size_t i = 0; i < n; i++)
        tmpl[i] = (CK_ATTRIBUTE){types[i], &v[i], sizeof(v[i])};
    /* An attribute the token lacks reads as CK_UNAVAILABLE_INFORMATION; the others are
     * still filled in (section 5.7, C_GetAttributeValue). */
    rv = t->f->C_GetAttributeValue(s, h, tmpl, n);
    if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID && rv != CKR_ATTRIBUTE_SENSITIVE)
        return p11_err_set(rv, "C_GetAttributeValue on token '%s'", t->label);
    for (size_t i = 0; i < n; i++)
        *dst[i] = tmpl[i].ulValueLen == sizeof(CK_BBOOL) && v[i] == CK_TRUE;
    return CKR_OK;
}

static CK_RV attrs_get(p11_token *t, p11_session *s, void *arg)
{
    struct attrs_arg *a = arg;
    p11_key_attrs *o = a->out;
    CK_OBJECT_HANDLE priv, pub;
    const CK_ATTRIBUTE_TYPE priv_types[] = {
        CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE,
        CKA_LOCAL,     CKA_DECRYPT,     CKA_UNWRAP,           CKA_SIGN};
    int *priv_dst[] = {&o->sensitive, &o->extractable, &o->always_sensitive, &o->never_extractable,
                       &o->local,     &o->decrypt,     &o->unwrap,           &o->sign};
    const CK_ATTRIBUTE_TYPE pub_types[] = {CKA_ENCRYPT, CKA_WRAP, CKA_VERIFY};
    int *pub_dst[] = {&o->encrypt, &o->wrap, &o->verify};
    CK_RV rv = p11_key_handles(a->k, s, &priv, &pub);

    memset(o, 0, sizeof(*o));
    if (rv == CKR_OK && a->k->has_priv)
        rv = bools_read(t, s->h, priv, priv_types, priv_dst, 8);
    if (rv == CKR_OK && a->k->has_pub)
        rv = bools_read(t, s->h, pub, pub_types, pub_dst, 3);
    if (rv == CKR_OBJECT_HANDLE_INVALID)
        p11_key_handles_forget(a->k);
    return rv;
}

CK_RV p11_key_attrs_get(p11_key *k, p11_key_attrs *out)
{
    struct attrs_arg a = {k, out};

    return p11_token_run(k->t, attrs_get, &a);
}

CK_RV p11_key_check_cmk(p11_key *k)
{
    p11_key_attrs at;
    CK_RV rv;

    if (!k->has_priv)
        return p11_err_set(P11_R_OBJECT_NOT_FOUND, "key '%s' on token '%s' has no private half",
                           p11_key_label(k), k->t->label);
    rv = p11_key_attrs_get(k, &at);
    if (rv != CKR_OK)
        return rv;
    if (at.extractable)
        return p11_err_set(P11_R_KEY_EXTRACTABLE,
                           "key '%s' on token '%s' is extractable (CKA_EXTRACTABLE true), so it "
                           "is not a customer-managed key",
                           p11_key_label(k), k->t->label);
    if (!at.sensitive)
        return p11_err_set(P11_R_KEY_NOT_SENSITIVE,
                           "key '%s' on token '%s' is not sensitive (CKA_SENSITIVE false), so it "
                           "is not a customer-managed key",
                           p11_key_label(k), k->t->label);
    return CKR_OK;
}
