/*
 * p11_version.c - a key's versions: listing them with their usage attributes, turning their
 * operations off and on (C_SetAttributeValue, PKCS#11 v2.40 section 5.7; the usage attributes
 * are modifiable, section 4.8 table 25 and 4.9 table 34), and destroying them (C_DestroyObject).
 */
#include <stdlib.h>
#include <string.h>
#include "p11_key_internal.h"
#include "p11_object_internal.h"
#include "p11_version.h"

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

struct versions_arg {
    const char *label;
    const uint8_t *id;
    size_t id_len;
    unsigned ops;
    int on;
    p11_version *v;
    size_t count;
};

static void bools_read(p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                       const CK_ATTRIBUTE_TYPE *types, int **dst, size_t n)
{
    CK_BBOOL v[8];
    CK_ATTRIBUTE tmpl[8];

    for (size_t i = 0; i < n; i++)
        tmpl[i] = (CK_ATTRIBUTE){types[i], &v[i], sizeof(v[i])};
    /* attributes the token lacks read as CK_UNAVAILABLE_INFORMATION: false */
    t->f->C_GetAttributeValue(s, h, tmpl, n);
    for (size_t i = 0; i < n; i++)
        *dst[i] = tmpl[i].ulValueLen == sizeof(CK_BBOOL) && v[i] == CK_TRUE;
}

static CK_RV version_read(p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, p11_version *v)
{
    const CK_ATTRIBUTE_TYPE types[] = {
        CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE,
        CKA_LOCAL,     CKA_DECRYPT,     CKA_UNWRAP,           CKA_SIGN};
    int *dst[] = {&v->attrs.sensitive,
                  &v->attrs.extractable,
                  &v->attrs.always_sensitive,
                  &v->attrs.never_extractable,
                  &v->attrs.local,
                  &v->attrs.decrypt,
                  &v->attrs.unwrap,
                  &v->attrs.sign};
    uint8_t *id = NULL;
    CK_RV rv = p11_attr_read(t, s, h, CKA_ID, &id, &v->id_len);

    if (rv == CKR_OK && v->id_len > P11_ID_MAX_BYTES)
        v->id_len = P11_ID_MAX_BYTES;
    if (rv == CKR_OK)
        memcpy(v->id, id, v->id_len);
    free(id);
    if (rv == CKR_OK)
        rv = p11_attr_read(t, s, h, CKA_MODULUS, &v->n, &v->n_len);
    if (rv == CKR_OK)
        rv = p11_attr_read(t, s, h, CKA_PUBLIC_EXPONENT, &v->e, &v->e_len);
    if (rv != CKR_OK)
        return p11_err_set(rv, "C_GetAttributeValue of a key version on token '%s'", t->label);
    while (v->n_len > 1 && v->n[0] == 0)
        memmove(v->n, v->n + 1, --v->n_len);
    while (v->e_len > 1 && v->e[0] == 0)
        memmove(v->e, v->e + 1, --v->e_len);
    bools_read(t, s, h, types, dst, 8);
    return CKR_OK;
}

/* Finds the objects of class cls labelled label (and with id, when given). */
static CK_RV halves_find(p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                         const struct versions_arg *a, CK_OBJECT_HANDLE **found, CK_ULONG *count)
{
    CK_KEY_TYPE kt = CKK_RSA;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_LABEL, (void *)a->label, strlen(a->label)},
        {CKA_ID, (void *)a->id, a->id_len},
    };

    return p11_objects_find(t, s, tmpl, a->id != NULL ? 4 : 3, found, count);
}

static int version_cmp(const void *x, const void *y)
{
    const p11_version *a = x, *b = y;
    size_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
    int c = memcmp(a->id, b->id, n);

    return c != 0 ? c : (a->id_len > b->id_len) - (a->id_len < b->id_len);
}

/* Marks the versions that have a public half and reads its usage attributes. */
static void publics_match(p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *pub, CK_ULONG npub,
                          p11_version *v, size_t count)
{
    const CK_ATTRIBUTE_TYPE types[] = {CKA_ENCRYPT, CKA_WRAP, CKA_VERIFY};

    for (CK_ULONG i = 0; i < npub; i++) {
        uint8_t id[P11_ID_MAX_BYTES];
        CK_ATTRIBUTE a = {CKA_ID, id, sizeof(id)};

        if (t->f->C_GetAttributeValue(s, pub[i], &a, 1) != CKR_OK)
            continue;
        for (size_t j = 0; j < count; j++) {
            int *dst[] = {&v[j].attrs.encrypt, &v[j].attrs.wrap, &v[j].attrs.verify};

            if (v[j].has_public || v[j].id_len != a.ulValueLen || memcmp(v[j].id, id, a.ulValueLen))
                continue;
            v[j].has_public = 1;
            bools_read(t, s, pub[i], types, dst, 3);
            break;
        }
    }
}

static CK_RV versions_get(p11_token *t, p11_session *s, void *arg)
{
    struct versions_arg *a = arg;
    CK_OBJECT_HANDLE *priv = NULL, *pub = NULL;
    CK_ULONG npriv = 0, npub = 0;
    CK_RV rv = halves_find(t, s->h, CKO_PRIVATE_KEY, a, &priv, &npriv);

    p11_versions_free(a->v, a->count); /* a retry starts afresh */
    a->v = NULL;
    a->count = 0;
    if (rv == CKR_OK && npriv > 0 && (a->v = calloc(npriv, sizeof(*a->v))) == NULL)
        rv = p11_err_set(P11_R_OUT_OF_MEMORY, "key versions");
    for (CK_ULONG i = 0; rv == CKR_OK && i < npriv; i++)
        rv = version_read(t, s->h, priv[i], &a->v[a->count++]);
    if (rv == CKR_OK)
        rv = halves_find(t, s->h, CKO_PUBLIC_KEY, a, &pub, &npub);
    if (rv == CKR_OK) {
        publics_match(t, s->h, pub, npub, a->v, a->count);
        if (a->count > 1)
            qsort(a->v, a->count, sizeof(*a->v), version_cmp);
    }
    free(priv);
    free(pub);
    return rv;
}

CK_RV p11_versions_get(p11_token *t, const char *label, p11_version **out, size_t *count)
{
    struct versions_arg a = {label, NULL, 0, 0, 0, NULL, 0};
    CK_RV rv;

    *out = NULL;
    *count = 0;
    if (label == NULL)
        return p11_err_set(P11_R_BAD_ARGUMENT, "key versions: a label is needed");
    rv = p11_token_run(t, versions_get, &a);
    if (rv != CKR_OK) {
        p11_versions_free(a.v, a.count);
        return rv;
    }
    *out = a.v;
    *count = a.count;
    return CKR_OK;
}

void p11_versions_free(p11_version *v, size_t count)
{
    for (size_t i = 0; v != NULL && i < count; i++) {
        free(v[i].n);
        free(v[i].e);
    }
    free(v);
}

/* Sets the usage attributes of every object of class cls with the version's label and id. */
static CK_RV half_ops_set(p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
                          const struct versions_arg *a, CK_ULONG *done)
{
    const CK_BBOOL *v = a->on ? &yes : &no;
    int dec = (a->ops & P11_OP_DECRYPT) != 0, sig = (a->ops & P11_OP_SIGN) != 0;
    CK_ATTRIBUTE set[3];
    CK_ULONG n = 0, count = 0;
    CK_OBJECT_HANDLE *found = NULL;
    CK_RV rv = halves_find(t, s, cls, a, &found, &count);

    if (dec)
        set[n++] = (CK_ATTRIBUTE){cls == CKO_PRIVATE_KEY ? CKA_DECRYPT : CKA_ENCRYPT, (void *)v, 1};
    if (dec)
        set[n++] = (CK_ATTRIBUTE){cls == CKO_PRIVATE_KEY ? CKA_UNWRAP : CKA_WRAP, (void *)v, 1};
    if (sig)
        set[n++] = (CK_ATTRIBUTE){cls == CKO_PRIVATE_KEY ? CKA_SIGN : CKA_VERIFY, (void *)v, 1};
    for (CK_ULONG i = 0; rv == CKR_OK && i < count; i++) {
        rv = t->f->C_SetAttributeValue(s, found[i], set, n);
        if (rv != CKR_OK)
            p11_err_set(rv, "C_SetAttributeValue (usage of key '%s') on token '%s'", a->label,
                        t->label);
    }
    *done += count;
    free(found);
    return rv;
}

static CK_RV version_ops_set(p11_token *t, p11_session *s, void *arg)
{
    struct versions_arg *a = arg;
    CK_ULONG done = 0;
    CK_RV rv = half_ops_set(t, s->h, CKO_PRIVATE_KEY, a, &done);

    if (rv == CKR_OK && done == 0)
        return p11_err_set(P11_R_OBJECT_NOT_FOUND, "no such version of key '%s' on token '%s'",
                           a->label, t->label);
    if (rv == CKR_OK)
        rv = half_ops_set(t, s->h, CKO_PUBLIC_KEY, a, &done);
    return rv;
}

CK_RV p11_version_ops_set(p11_token *t, const char *label, const uint8_t *id, size_t id_len,
                          unsigned ops, int on)
{
    struct versions_arg a = {label, id, id_len, ops, on, NULL, 0};

    if (label == NULL || id == NULL || id_len == 0 || (ops & ~(P11_OP_DECRYPT | P11_OP_SIGN)))
        return p11_err_set(P11_R_BAD_ARGUMENT, "key version: a label, an id and P11_OP_*");
    if (ops == 0)
        return CKR_OK;
    return p11_token_run(t, version_ops_set, &a);
}

static CK_RV versions_destroy(p11_token *t, p11_session *s, void *arg)
{
    struct versions_arg *a = arg;
    const CK_OBJECT_CLASS classes[] = {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY};
    CK_RV rv = CKR_OK;

    for (size_t c = 0; rv == CKR_OK && c < 2; c++) {
        CK_OBJECT_HANDLE *found = NULL;
        CK_ULONG count = 0;

        rv = halves_find(t, s->h, classes[c], a, &found, &count);
        for (CK_ULONG i = 0; rv == CKR_OK && i < count; i++) {
            rv = t->f->C_DestroyObject(s->h, found[i]);
            if (rv == CKR_OK)
                a->count++;
            else
                p11_err_set(rv, "C_DestroyObject (key '%s') on token '%s'", a->label, t->label);
        }
        free(found);
    }
    return rv;
}

CK_RV p11_versions_destroy(p11_token *t, const char *label, size_t *destroyed)
{
    struct versions_arg a = {label, NULL, 0, 0, 0, NULL, 0};
    CK_RV rv;

    if (label == NULL)
        return p11_err_set(P11_R_BAD_ARGUMENT, "key versions: a label is needed");
    rv = p11_token_run(t, versions_destroy, &a);
    if (destroyed != NULL)
        *destroyed = a.count;
    return rv;
}
