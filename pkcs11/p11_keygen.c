/*
 * p11_keygen.c - making RSA key pairs in a token: generated there (CKM_RSA_PKCS_KEY_PAIR_GEN,
 * PKCS#11 v2.40 curr. mechanisms section 2.1.4) or imported from CRT components (section 2.1.3,
 * RSA private key objects). Both halves are token objects carrying the same CKA_ID and CKA_LABEL;
 * the private half is sensitive, non-extractable and private.
 */
#include <string.h>
#include "p11_key_internal.h"

#define P11_RSA_MIN_BITS 2048

struct keygen_arg {
    const char *label;
    const uint8_t *id;
    size_t id_len;
    unsigned bits, ops;
    const p11_rsa_components *c;
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

static CK_RV keygen(p11_token *t, p11_session *s, void *arg)
{
    struct keygen_arg *a = arg;
    CK_MECHANISM mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ULONG bits = a->bits;
    CK_BYTE e[] = {0x01, 0x00, 0x01};
    CK_ATTRIBUTE pub[10], priv[10];
    CK_ULONG npub = template_public(a, pub), npriv = template_private(a, priv);
    CK_OBJECT_HANDLE hpub, hpriv;
    CK_RV rv;

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
    struct keygen_arg a = {label, id, id_len, bits, ops, NULL};
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
    CK_RV rv;

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
        t->f->C_DestroyObject(s->h, hpriv); /* no half pair left behind */
    }
    return rv;
}

CK_RV p11_key_import(p11_token *t, const char *label, const uint8_t *id, size_t id_len,
                     const p11_rsa_components *c, unsigned ops)
{
    struct keygen_arg a = {label, id, id_len, 0, ops, c};
    CK_RV rv = args_check(label, ops);

    if (rv != CKR_OK)
        return rv;
    if (c == NULL || c->n == NULL || c->e == NULL || c->d == NULL || c->p == NULL || c->q == NULL ||
        c->dp == NULL || c->dq == NULL || c->qi == NULL)
        return p11_err_set(P11_R_BAD_ARGUMENT, "RSA import: every CRT component is needed");
    return p11_token_run(t, import, &a);
}
