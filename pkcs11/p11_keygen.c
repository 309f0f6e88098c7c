/*
 * p11_keygen.c - making RSA key pairs in a token: generated there (CKM_RSA_PKCS_KEY_PAIR_GEN,
 * PKCS#11 v2.40 curr. mechanisms section 2.1.4) or imported from CRT components (section 2.1.3,
 * RSA private key objects). Both halves are token objects carrying the same CKA_ID and CKA_LABEL;
 * the private half is sensitive, non-extractable and private.
 */
#include <stdio.h>
#include <string.h>
#include "p11_key_internal.h"

#define P11_RSA_MIN_BITS    2048
#define P11_KEYGEN_FIND_MAX 16

/* What one generate or import carries from a failed attempt to its retry (p11_token_run). */
struct keygen_arg {
    const char *label;
    const uint8_t *id;
    size_t id_len;
    unsigned bits, ops;
    const p11_rsa_components *c;
    int counted;     /* before was counted, ahead of the first C_GenerateKeyPair/C_CreateObject */
    CK_ULONG before; /* objects like ours then (see objects_like_ours) */
    int stray;       /* import: a failed attempt could not destroy what it made */
};

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
#define BOOL_ATTR(type, v)                                                                         \
    {                                                                                              \
        (type), (void *)((v) ? &yes : &no), sizeof(CK_BBOOL)                                       \
    }

/* Common attributes; returns how many were written to tmpl. */
static CK_ULONG template_public(const struct keygen_arg *a, CK_ATTRIBUTE *tmpl)
{
    CK_ULONG n = 0;
    int dec = (a->ops & P11_OP_DECRYPT) != 0, sig = (a->ops & P11_OP_SIGN) != 0;

    tmpl[n++] = (CK_ATTRIBUTE)BOOL_ATTR(CKA_TOKEN, 1);
    tmpl[n++] = (CK_ATTRIBUTE)BOOL_ATTR(CKA_PRIVATE, 0);
    tmpl[n++] = (CK_ATTRIBUTE)BOOL_ATTR(CKA_ENCRYPT, dec);
    tmpl[n++] = (CK_ATTRIBUTE)BOOL_ATTR(CKA_WRAP, dec);
    tmpl[n++] = (CK_ATTRIBUTE)BOOL_ATTR(CKA_VERIFY, sig);
    tmpl[n++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)a->label, strlen(a->label)};
    tmpl[n++] = (CK_ATTRIBUTE){CKA_ID, (void *)a->id, a->id_len};
    return n;
}

static CK_ULONG template_private(const struct keygen_arg *a, CK_ATTRIBUTE *tmpl)
{
    CK_ULONG n = 0;
    int dec = (a->ops & P11_OP_DECRYPT) != 0, sig = (a->ops & P11_OP_SIGN) != 0;

    tmpl[n++] = (CK_ATTRIBUTE)BOOL_ATTR(CKA_TOKEN, 1);
    tmpl[n++] = (CK_ATTRIBUTE)BOOL_ATTR(CKA_PRIVATE, 1);
    tmpl[n++] = (CK_ATTRIBUTE)BOOL_ATTR(CKA_SENSITIVE, 1);
    tmpl[n++] = (CK_ATTRIBUTE)BOOL_ATTR(CKA_EXTRACTABLE, 0);
    tmpl[n++] = (CK_ATTRIBUTE)BOOL_ATTR(CKA_DECRYPT, dec);
    tmpl[n++] = (CK_ATTRIBUTE)BOOL_ATTR(CKA_UNWRAP, dec);
    tmpl[n++] = (CK_ATTRIBUTE)BOOL_ATTR(CKA_SIGN, sig);
    tmpl[n++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)a->label, strlen(a->label)};
    tmpl[n++] = (CK_ATTRIBUTE){CKA_ID, (void *)a->id, a->id_len};
    return n;
}

/* The objects a generate (private keys with our label and id) or an import (objects of either
 * class with our label, id and modulus) makes: how many there are (*n), the first ones' handles. */
static CK_RV objects_like_ours(p11_token *t, p11_session *s, const struct keygen_arg *a,
                               CK_OBJECT_HANDLE *h, CK_ULONG *n)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE tmpl[] = {{CKA_LABEL, (void *)a->label, strlen(a->label)},
                           {CKA_ID, (void *)a->id, a->id_len},
                           {CKA_CLASS, &cls, sizeof(cls)}};
    CK_ULONG got = 0;
    CK_RV rv;

    if (a->c != NULL)
        tmpl[2] = (CK_ATTRIBUTE){CKA_MODULUS, (void *)a->c->n, a->c->n_len};
    *n = 0;
    rv = t->f->C_FindObjectsInit(s->h, tmpl, 3);
    if (rv != CKR_OK)
        return p11_err_set(rv, "C_FindObjectsInit on token '%s'", t->label);
    while ((rv = t->f->C_FindObjects(s->h, h + *n, P11_KEYGEN_FIND_MAX - *n, &got)) == CKR_OK &&
           got > 0 && (*n += got) < P11_KEYGEN_FIND_MAX)
        ;
    t->f->C_FindObjectsFinal(s->h);
    return rv == CKR_OK ? CKR_OK : p11_err_set(rv, "C_FindObjects on token '%s'", t->label);
}

/* Retry rule for operations that are not idempotent: the attempt that failed because the
 * session or token went away may have been done by the token, only its reply lost (a remote
 * token whose connection dropped), or left half a pair it could not destroy in a dead session.
 * A second pair under the same label and id would make every look-up ambiguous. So the first
 * attempt counts the objects like ours; a retry that finds more sets *done (generate: the pair
 * is there) or destroys them (import: they are ours, as there were none before). */
static CK_RV attempt_check(p11_token *t, p11_session *s, struct keygen_arg *a, int *done)
{
    CK_OBJECT_HANDLE h[P11_KEYGEN_FIND_MAX];
    CK_ULONG n;
    CK_RV rv = objects_like_ours(t, s, a, h, &n);

    *done = 0;
    if (rv != CKR_OK || !a->counted) {
        a->counted = rv == CKR_OK;
        a->before = n;
        return rv;
    }
    if (n <= a->before)
        return CKR_OK;
    if (a->c == NULL) {
        *done = 1;
        return CKR_OK;
    }
    for (CK_ULONG i = 0; i < n && a->before == 0 && rv == CKR_OK; i++)
        rv = t->f->C_DestroyObject(s->h, h[i]);
    if (rv != CKR_OK)
        return p11_err_set(rv, "C_DestroyObject (what a failed import of '%s' left) on token '%s'",
                           a->label, t->label);
    a->stray = a->before != 0;
    return CKR_OK;
}

static CK_RV keygen(p11_token *t, p11_session *s, void *arg)
{
    struct keygen_arg *a = arg;
    CK_MECHANISM mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ULONG bits = a->bits;
    CK_BYTE e[] = {0x01, 0x00, 0x01};
    CK_ATTRIBUTE pub[10], priv[10];
    CK_ULONG npub = template_public(a, pub), npriv = template_private(a, priv);
    CK_OBJECT_HANDLE hpub, hpriv;
    int done;
    CK_RV rv = attempt_check(t, s, a, &done);

    if (rv != CKR_OK || done)
        return rv;
    pub[npub++] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)};
    pub[npub++] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, e, sizeof(e)};
    rv = t->f->C_GenerateKeyPair(s->h, &mech, pub, npub, priv, npriv, &hpub, &hpriv);
    if (rv != CKR_OK)
        return p11_err_set(rv, "C_GenerateKeyPair RSA-%u '%s' on token '%s'", a->bits, a->label,
                           t->label);
    return CKR_OK;
}

static CK_RV args_check(const char *label, unsigned ops)
{
    if (label == NULL || ops == 0 || (ops & ~(P11_OP_DECRYPT | P11_OP_SIGN)) != 0)
        return p11_err_set(P11_R_BAD_ARGUMENT, "key pair: a label and P11_OP_* are needed");
    return CKR_OK;
}

CK_RV p11_key_generate(p11_token *t, const char *label, const uint8_t *id, size_t id_len,
                       unsigned bits, unsigned ops)
{
    struct keygen_arg a = {label, id, id_len, bits, ops, NULL, 0, 0, 0};
    CK_RV rv = args_check(label, ops);

    if (rv != CKR_OK)
        return rv;
    if (bits < P11_RSA_MIN_BITS)
        return p11_err_set(P11_R_BAD_ARGUMENT, "RSA keys have at least %d bits", P11_RSA_MIN_BITS);
    return p11_token_run(t, keygen, &a);
}

static CK_RV import(p11_token *t, p11_session *s, void *arg)
{
    struct keygen_arg *a = arg;
    const p11_rsa_components *c = a->c;
    CK_OBJECT_CLASS cpriv = CKO_PRIVATE_KEY, cpub = CKO_PUBLIC_KEY;
    CK_KEY_TYPE kt = CKK_RSA;
    CK_ATTRIBUTE pub[12], priv[20];
    CK_ULONG npub = template_public(a, pub), npriv = template_private(a, priv);
    CK_OBJECT_HANDLE hpub, hpriv;
    int done;
    CK_RV rv = attempt_check(t, s, a, &done);

    if (rv != CKR_OK)
        return rv;
    pub[npub++] = (CK_ATTRIBUTE){CKA_CLASS, &cpub, sizeof(cpub)};
    pub[npub++] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &kt, sizeof(kt)};
    pub[npub++] = (CK_ATTRIBUTE){CKA_MODULUS, (void *)c->n, c->n_len};
    pub[npub++] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, (void *)c->e, c->e_len};
    priv[npriv++] = (CK_ATTRIBUTE){CKA_CLASS, &cpriv, sizeof(cpriv)};
    priv[npriv++] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &kt, sizeof(kt)};
    priv[npriv++] = (CK_ATTRIBUTE){CKA_MODULUS, (void *)c->n, c->n_len};
    priv[npriv++] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, (void *)c->e, c->e_len};
    priv[npriv++] = (CK_ATTRIBUTE){CKA_PRIVATE_EXPONENT, (void *)c->d, c->d_len};
    priv[npriv++] = (CK_ATTRIBUTE){CKA_PRIME_1, (void *)c->p, c->p_len};
    priv[npriv++] = (CK_ATTRIBUTE){CKA_PRIME_2, (void *)c->q, c->q_len};
    priv[npriv++] = (CK_ATTRIBUTE){CKA_EXPONENT_1, (void *)c->dp, c->dp_len};
    priv[npriv++] = (CK_ATTRIBUTE){CKA_EXPONENT_2, (void *)c->dq, c->dq_len};
    priv[npriv++] = (CK_ATTRIBUTE){CKA_COEFFICIENT, (void *)c->qi, c->qi_len};
    rv = t->f->C_CreateObject(s->h, priv, npriv, &hpriv);
    if (rv != CKR_OK)
        return p11_err_set(rv, "C_CreateObject (RSA private key '%s') on token '%s'", a->label,
                           t->label);
    rv = t->f->C_CreateObject(s->h, pub, npub, &hpub);
    if (rv != CKR_OK) {
        p11_err_set(rv, "C_CreateObject (RSA public key '%s') on token '%s'", a->label, t->label);
        /* No half pair left behind; in a dead session this fails too (then a retry, in a
         * new session, destroys it: attempt_check). */
        a->stray = t->f->C_DestroyObject(s->h, hpriv) != CKR_OK;
    }
    return rv;
}

CK_RV p11_key_import(p11_token *t, const char *label, const uint8_t *id, size_t id_len,
                     const p11_rsa_components *c, unsigned ops)
{
    struct keygen_arg a = {label, id, id_len, 0, ops, c, 0, 0, 0};
    char detail[400];
    CK_RV rv = args_check(label, ops);

    if (rv != CKR_OK)
        return rv;
    if (c == NULL || c->n == NULL || c->e == NULL || c->d == NULL || c->p == NULL || c->q == NULL ||
        c->dp == NULL || c->dq == NULL || c->qi == NULL)
        return p11_err_set(P11_R_BAD_ARGUMENT, "RSA import: every CRT component is needed");
    rv = p11_token_run(t, import, &a);
    if (rv != CKR_OK && a.stray) {
        /* "<what failed>: <CKR>" becomes "<what failed>; <what is left>: <CKR>" */
        snprintf(detail, sizeof(detail), "%s", p11_err_detail());
        if (strrchr(detail, ':') != NULL)
            *strrchr(detail, ':') = '\0';
        p11_err_set(rv, "%s; a private key '%s' it made may be left on token '%s'", detail, label,
                    t->label);
    }
    return rv;
}
