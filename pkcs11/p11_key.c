/*
 * p11_key.c - finding an RSA key by pkcs11: URI, its public half and attributes.
 * Object search: PKCS#11 v2.40 section 5.7 (C_FindObjectsInit/C_FindObjects/Final);
 * attributes section 5.7 (C_GetAttributeValue, two calls: length, then value).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "p11_key_internal.h"
#include "p11_object_internal.h"

#define KEY_FIND_MAX 8 /* enough to tell "one" from "several" and pick by modulus */

CK_RV p11_attr_read(p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                    uint8_t **val, size_t *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    CK_RV rv = t->f->C_GetAttributeValue(s, h, &a, 1);

    *val = NULL;
    *len = 0;
    if (rv != CKR_OK)
        return rv;
    a.pValue = malloc(a.ulValueLen + 1);
    if (a.pValue == NULL)
        return P11_R_OUT_OF_MEMORY;
    rv = t->f->C_GetAttributeValue(s, h, &a, 1);
    if (rv != CKR_OK) {
        free(a.pValue);
        return rv;
    }
    ((uint8_t *)a.pValue)[a.ulValueLen] = 0; /* labels read as strings */
    *val = a.pValue;
    *len = a.ulValueLen;
    return CKR_OK;
}

static CK_RV objects_find(p11_token *t, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                          CK_OBJECT_HANDLE *found, CK_ULONG *count)
{
    CK_RV rv = t->f->C_FindObjectsInit(s, tmpl, n);

    *count = 0;
    if (rv != CKR_OK)
        return p11_err_set(rv, "C_FindObjectsInit on token '%s'", t->label);
    rv = t->f->C_FindObjects(s, found, KEY_FIND_MAX, count);
    t->f->C_FindObjectsFinal(s);
    return rv == CKR_OK ? CKR_OK : p11_err_set(rv, "C_FindObjects on token '%s'", t->label);
}

/* Of the objects of class cls with the key's label and id, the one whose modulus is the key's
 * (a token may hold several pairs under one label). CK_INVALID_HANDLE when none. */
static CK_RV key_locate(p11_key *k, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *out)
{
    CK_KEY_TYPE kt = CKK_RSA;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_LABEL, k->label, strlen(k->label)},
        {CKA_ID, k->id, k->id_len},
    };
    CK_OBJECT_HANDLE found[KEY_FIND_MAX];
    CK_ULONG count;
    CK_RV rv = objects_find(k->t, s, tmpl, 4, found, &count);

    *out = CK_INVALID_HANDLE;
    for (CK_ULONG i = 0; rv == CKR_OK && i < count; i++) {
        uint8_t *n = NULL;
        size_t n_len = 0;
        CK_RV r = p11_attr_read(k->t, s, found[i], CKA_MODULUS, &n, &n_len);
        int same = r != CKR_OK || (n_len == k->n_len && memcmp(n, k->n, n_len) == 0);

        free(n);
        if (same) {
            *out = found[i];
            break;
        }
    }
    return rv;
}

CK_RV p11_key_handles(p11_key *k, p11_session *s, CK_OBJECT_HANDLE *priv, CK_OBJECT_HANDLE *pub)
{
    unsigned long e1 = atomic_load_explicit(&k->epoch, memory_order_acquire), e2;
    CK_OBJECT_HANDLE hpriv = CK_INVALID_HANDLE, hpub = CK_INVALID_HANDLE;
    CK_RV rv = CKR_OK;

    if (e1 == s->epoch) {
        *priv = atomic_load_explicit(&k->priv_h, memory_order_relaxed);
        *pub = atomic_load_explicit(&k->pub_h, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        e2 = atomic_load_explicit(&k->epoch, memory_order_relaxed);
        if (e2 == e1)
            return CKR_OK;
    }
    pthread_mutex_lock(&k->lock);
    if (atomic_load(&k->epoch) == s->epoch) {
        hpriv = atomic_load(&k->priv_h);
        hpub = atomic_load(&k->pub_h);
        goto end;
    }
    if (k->has_priv)
        rv = key_locate(k, s->h, CKO_PRIVATE_KEY, &hpriv);
    if (rv == CKR_OK && k->has_pub)
        rv = key_locate(k, s->h, CKO_PUBLIC_KEY, &hpub);
    if (rv != CKR_OK)
        goto end;
    if ((k->has_priv && hpriv == CK_INVALID_HANDLE) ||
        (!k->has_priv && hpub == CK_INVALID_HANDLE)) {
        if (p11_session_logged_out(k->t, s->h)) /* logged out behind our back: retry rule */
            rv = p11_err_set(CKR_USER_NOT_LOGGED_IN, "finding key '%s' on token '%s'", k->label,
                             k->t->label);
        else
            rv = p11_err_set(P11_R_OBJECT_NOT_FOUND, "key '%s' is no longer on token '%s'",
                             k->label, k->t->label);
        goto end;
    }
    if (s->epoch > atomic_load(&k->epoch)) {
        atomic_store_explicit(&k->epoch, 0, memory_order_relaxed);
        atomic_thread_fence(memory_order_release);
        atomic_store_explicit(&k->priv_h, hpriv, memory_order_relaxed);
        atomic_store_explicit(&k->pub_h, hpub, memory_order_relaxed);
        atomic_store_explicit(&k->epoch, s->epoch, memory_order_release);
    }
end:
    pthread_mutex_unlock(&k->lock);
    *priv = hpriv;
    *pub = hpub;
    return rv;
}

void p11_key_handles_forget(p11_key *k)
{
    pthread_mutex_lock(&k->lock);
    atomic_store(&k->epoch, 0);
    pthread_mutex_unlock(&k->lock);
}

struct key_find_arg {
    P11KitUri *uri;
    const char *uri_s;
    p11_key *k;
};

/* The URI's object attributes (object=, id=, type=) as a search template for class cls. */
static CK_ULONG uri_template(P11KitUri *uri, CK_OBJECT_CLASS *cls, CK_KEY_TYPE *kt,
                             CK_ATTRIBUTE *tmpl)
{
    CK_ULONG n = 0;
    const CK_ATTRIBUTE *a;

    tmpl[n++] = (CK_ATTRIBUTE){CKA_CLASS, cls, sizeof(*cls)};
    tmpl[n++] = (CK_ATTRIBUTE){CKA_KEY_TYPE, kt, sizeof(*kt)};
    if ((a = p11_uri_object_attr(uri, CKA_LABEL)) != NULL)
        tmpl[n++] = *a;
    if ((a = p11_uri_object_attr(uri, CKA_ID)) != NULL)
        tmpl[n++] = *a;
    return n;
}

/* Finds the one object of class cls the URI names: CK_INVALID_HANDLE when none. */
static CK_RV uri_object_find(p11_token *t, CK_SESSION_HANDLE s, struct key_find_arg *a,
                             CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *out)
{
    CK_KEY_TYPE kt = CKK_RSA;
    CK_ATTRIBUTE tmpl[4];
    CK_ULONG n = uri_template(a->uri, &cls, &kt, tmpl), count;
    CK_OBJECT_HANDLE found[KEY_FIND_MAX];
    CK_RV rv = objects_find(t, s, tmpl, n, found, &count);

    *out = CK_INVALID_HANDLE;
    if (rv != CKR_OK)
        return rv;
    /* Several versions of one key (p11_version.h) and no id=: the current one. */
    if (count > 1 && p11_uri_object_attr(a->uri, CKA_ID) == NULL) {
        rv = p11_version_current_find(t, s, tmpl, n, out);
        if (rv != CKR_OK || *out != CK_INVALID_HANDLE)
            return rv;
    }
    if (count > 1)
        return p11_err_set(P11_R_OBJECT_AMBIGUOUS, "'%s' matches %lu RSA %s keys on token '%s'",
                           a->uri_s, (unsigned long)count,
                           cls == CKO_PRIVATE_KEY ? "private" : "public", t->label);
    if (count == 1)
        *out = found[0];
    return CKR_OK;
}

/* Reads the identity (label, id) and the public half of the object found. */
static CK_RV key_read(p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, p11_key *k)
{
    size_t len;
    CK_RV rv = p11_attr_read(t, s, h, CKA_LABEL, (uint8_t **)&k->label, &len);

    if (rv == CKR_OK)
        rv = p11_attr_read(t, s, h, CKA_ID, &k->id, &k->id_len);
    if (rv == CKR_OK)
        rv = p11_attr_read(t, s, h, CKA_MODULUS, &k->n, &k->n_len);
    if (rv == CKR_OK)
        rv = p11_attr_read(t, s, h, CKA_PUBLIC_EXPONENT, &k->e, &k->e_len);
    if (rv != CKR_OK)
        return p11_err_set(rv, "C_GetAttributeValue of a key on token '%s'", t->label);
    /* big-endian without leading zeros */
    while (k->n_len > 1 && k->n[0] == 0)
        memmove(k->n, k->n + 1, --k->n_len);
    while (k->e_len > 1 && k->e[0] == 0)
        memmove(k->e, k->e + 1, --k->e_len);
    return CKR_OK;
}

static CK_RV key_find(p11_token *t, p11_session *s, void *arg)
{
    struct key_find_arg *a = arg;
    const CK_ATTRIBUTE *type = p11_uri_object_attr(a->uri, CKA_CLASS);
    CK_OBJECT_CLASS want = type != NULL && type->ulValueLen == sizeof(CK_OBJECT_CLASS)
                               ? *(CK_OBJECT_CLASS *)type->pValue
                               : (CK_OBJECT_CLASS)-1;
    CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE, pub = CK_INVALID_HANDLE;
    CK_RV rv = CKR_OK;

    /* a retry starts afresh */
    free(a->k->label);
    free(a->k->id);
    free(a->k->n);
    free(a->k->e);
    a->k->label = NULL;
    a->k->id = a->k->n = a->k->e = NULL;
    if (want != (CK_OBJECT_CLASS)-1 && want != CKO_PRIVATE_KEY && want != CKO_PUBLIC_KEY)
        return p11_err_set(P11_R_OBJECT_NOT_FOUND,
                           "'%s' names no key (type= must be private "
                           "or public)",
                           a->uri_s);
    if (want != CKO_PUBLIC_KEY)
        rv = uri_object_find(t, s->h, a, CKO_PRIVATE_KEY, &priv);
    if (rv == CKR_OK && priv == CK_INVALID_HANDLE && want != CKO_PRIVATE_KEY)
        rv = uri_object_find(t, s->h, a, CKO_PUBLIC_KEY, &pub);
    if (rv != CKR_OK)
        return rv;
    if (priv == CK_INVALID_HANDLE && want != CKO_PUBLIC_KEY && p11_session_logged_out(t, s->h))
        return p11_err_set(CKR_USER_NOT_LOGGED_IN, "finding '%s' on token '%s'", a->uri_s,
                           t->label);
    if (priv == CK_INVALID_HANDLE && pub == CK_INVALID_HANDLE)
        return p11_err_set(t->pin_spec == NULL && (t->flags & CKF_LOGIN_REQUIRED)
                               ? P11_R_NO_PIN
                               : P11_R_OBJECT_NOT_FOUND,
                           "no RSA key matches '%s' on token '%s'%s", a->uri_s, t->label,
                           t->pin_spec == NULL ? " (not logged in: no PIN configured)" : "");
    rv = key_read(t, s->h, priv != CK_INVALID_HANDLE ? priv : pub, a->k);
    if (rv != CKR_OK)
        return rv;
    a->k->has_priv = priv != CK_INVALID_HANDLE;
    if (a->k->has_priv)
        rv = key_locate(a->k, s->h, CKO_PUBLIC_KEY, &pub);
    a->k->has_pub = pub != CK_INVALID_HANDLE;
    atomic_store(&a->k->priv_h, priv);
    atomic_store(&a->k->pub_h, pub);
    atomic_store(&a->k->epoch, s->epoch);
    return rv;
}

CK_RV p11_key_find(p11_token *t, const char *uri, p11_key **out)
{
    struct key_find_arg a = {NULL, uri != NULL ? uri : "pkcs11:", NULL};
    CK_RV rv;

    *out = NULL;
    rv = p11_uri_parse(uri, &a.uri);
    if (rv != CKR_OK)
        return rv;
    if (!p11_token_matches(t, a.uri_s)) {
        p11_kit_uri_free(a.uri);
        return p11_err_set(P11_R_OBJECT_NOT_FOUND, "'%s' names another token than '%s'", a.uri_s,
                           t->label);
    }
    a.k = calloc(1, sizeof(*a.k));
    if (a.k == NULL) {
        p11_kit_uri_free(a.uri);
        return p11_err_set(P11_R_OUT_OF_MEMORY, "key");
    }
    atomic_init(&a.k->refs, 1);
    pthread_mutex_init(&a.k->lock, NULL);
    a.k->t = p11_token_ref(t);
    rv = p11_token_run(t, key_find, &a);
    p11_kit_uri_free(a.uri);
    if (rv != CKR_OK) {
        p11_key_free(a.k);
        return rv;
    }
    *out = a.k;
    return CKR_OK;
}

p11_key *p11_key_ref(p11_key *k)
{
    atomic_fetch_add(&k->refs, 1);
    return k;
}

void p11_key_free(p11_key *k)
{
    if (k == NULL || atomic_fetch_sub(&k->refs, 1) > 1)
        return;
    p11_token_free(k->t);
    pthread_mutex_destroy(&k->lock);
    free(k->label);
    free(k->id);
    free(k->n);
    free(k->e);
    free(k);
}

p11_token *p11_key_token(const p11_key *k)
{
    return k->t;
}

p11_data_hint *p11_key_state_hint(p11_key *k)
{
    return &k->state_hint;
}

int p11_key_has_private(const p11_key *k)
{
    return k->has_priv;
}

int p11_key_has_public_object(const p11_key *k)
{
    return k->has_pub;
}

const uint8_t *p11_key_modulus(const p11_key *k, size_t *len)
{
    *len = k->n_len;
    return k->n;
}

const uint8_t *p11_key_public_exponent(const p11_key *k, size_t *len)
{
    *len = k->e_len;
    return k->e;
}

size_t p11_key_bits(const p11_key *k)
{
    size_t bits = k->n_len * 8;

    for (uint8_t top = k->n_len > 0 ? k->n[0] : 0x80; bits > 0 && !(top & 0x80); top <<= 1)
        bits--;
    return bits;
}

const char *p11_key_label(const p11_key *k)
{
    return k->label != NULL ? k->label : "";
}

const uint8_t *p11_key_id(const p11_key *k, size_t *len)
{
    *len = k->id_len;
    return k->id;
}
