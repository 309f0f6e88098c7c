/*
 * p11_data.c - application data objects (CKO_DATA, PKCS#11 v2.40 section 4.5): CKA_APPLICATION
 * and CKA_LABEL name one, CKA_VALUE holds its bytes. Made with C_CreateObject as private token
 * objects. A value is replaced by creating the new object first and then destroying the old
 * one, so a reader never finds none: SoftHSM 2.6.1 refuses C_SetAttributeValue of a data
 * object's CKA_VALUE with CKR_ATTRIBUTE_READ_ONLY (p11_quirks.c), and a new object is what
 * every token allows.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "p11_object_internal.h"
#include "p11_data.h"

struct data_arg {
    const char *app, *label;
    const uint8_t *val;
    size_t len;
    int create_only;
    uint8_t *out;
    size_t out_len;
    char **labels;
    size_t count;
    p11_data_hint *hint; /* get: where the object was last found (may be NULL) */
};

static CK_RV data_absent(const p11_token *t, const struct data_arg *a)
{
    return p11_err_set(P11_R_OBJECT_NOT_FOUND, "no data object '%s' on token '%s'", a->label,
                       t->label);
}

static CK_RV data_find(p11_token *t, CK_SESSION_HANDLE s, const struct data_arg *a,
                       CK_OBJECT_HANDLE **found, CK_ULONG *count)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_APPLICATION, (void *)a->app, strlen(a->app)},
        {CKA_LABEL, (void *)a->label, a->label != NULL ? strlen(a->label) : 0},
    };

    return p11_objects_find(t, s, tmpl, a->label != NULL ? 3 : 2, found, count);
}

static CK_RV value_read(p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h,
                        CK_ATTRIBUTE_TYPE type, uint8_t **out, size_t *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    CK_RV rv = t->f->C_GetAttributeValue(s, h, &a, 1);

    *out = NULL;
    if (rv != CKR_OK)
        return p11_err_set(rv, "C_GetAttributeValue of a data object on token '%s'", t->label);
    if (a.ulValueLen > P11_DATA_MAX_BYTES)
        return p11_err_set(P11_R_BAD_ARGUMENT,
                           "a data object on token '%s' holds %lu bytes "
                           "(at most %d)",
                           t->label, (unsigned long)a.ulValueLen, P11_DATA_MAX_BYTES);
    if ((a.pValue = malloc(a.ulValueLen + 1)) == NULL)
        return p11_err_set(P11_R_OUT_OF_MEMORY, "data object");
    rv = t->f->C_GetAttributeValue(s, h, &a, 1);
    if (rv != CKR_OK) {
        free(a.pValue);
        return p11_err_set(rv, "C_GetAttributeValue of a data object on token '%s'", t->label);
    }
    ((uint8_t *)a.pValue)[a.ulValueLen] = 0;
    *out = a.pValue;
    *len = a.ulValueLen;
    return CKR_OK;
}

/* Byte order, a shorter prefix first. */
static int value_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    return c != 0 ? c : (alen > blen) - (alen < blen);
}

/* Of the count objects found, the one with the greatest value (a->out, a->out_len) and its
 * handle. Several: a writer is between its create and its destroy, or two writers raced. */
static CK_RV data_newest(p11_token *t, p11_session *s, struct data_arg *a,
                         const CK_OBJECT_HANDLE *found, CK_ULONG count, CK_OBJECT_HANDLE *best)
{
    CK_RV rv = CKR_OK;

    free(a->out);
    a->out = NULL;
    for (CK_ULONG i = 0; rv == CKR_OK && i < count; i++) {
        uint8_t *v = NULL;
        size_t len = 0;
        CK_RV r = value_read(t, s->h, found[i], CKA_VALUE, &v, &len);

        /* Destroyed by that writer meanwhile. SoftHSM 2.6.1 may answer a read of an object
         * another thread of the process is destroying CKR_ATTRIBUTE_VALUE_INVALID (test_p11_data,
         * data_raced_puts_leave_one_object). */
        if ((r == CKR_OBJECT_HANDLE_INVALID || r == CKR_ATTRIBUTE_VALUE_INVALID) && count > 1)
            continue;
        if (r != CKR_OK) {
            rv = r;
            break;
        }
        if (a->out == NULL || value_cmp(v, len, a->out, a->out_len) > 0) {
            free(a->out);
            a->out = v;
            a->out_len = len;
            *best = found[i];
        } else {
            free(v);
        }
    }
    if (rv == CKR_OK && a->out == NULL)
        rv = data_absent(t, a);
    return rv;
}

/* The object a->hint remembers, read in one call (PKCS#11 v2.40 section 5.7: C_GetAttributeValue
 * fills every attribute whose buffer is large enough). 0 when there is none, the handle is no
 * longer valid, or it names another object: the caller then searches. */
static int hint_read(p11_token *t, p11_session *s, struct data_arg *a)
{
    size_t app_len = strlen(a->app), label_len = strlen(a->label);
    CK_OBJECT_CLASS cls = CKO_VENDOR_DEFINED;
    CK_OBJECT_HANDLE h;
    uint8_t *buf;
    CK_ATTRIBUTE tmpl[4];

    if (atomic_load_explicit(&a->hint->epoch, memory_order_acquire) != s->epoch)
        return 0;
    /* A handle torn from another epoch's store is harmless: the object is checked below. */
    h = atomic_load_explicit(&a->hint->h, memory_order_relaxed);
    if (h == CK_INVALID_HANDLE)
        return 0;
    if ((buf = malloc(P11_DATA_MAX_BYTES + 1 + app_len + 1 + label_len + 1)) == NULL)
        return 0;
    /* one byte more than expected for application and label: a longer one does not match */
    tmpl[0] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
    tmpl[1] = (CK_ATTRIBUTE){CKA_APPLICATION, buf + P11_DATA_MAX_BYTES + 1, app_len + 1};
    tmpl[2] = (CK_ATTRIBUTE){CKA_LABEL, buf + P11_DATA_MAX_BYTES + 1 + app_len + 1, label_len + 1};
    tmpl[3] = (CK_ATTRIBUTE){CKA_VALUE, buf, P11_DATA_MAX_BYTES};
    if (t->f->C_GetAttributeValue(s->h, h, tmpl, 4) != CKR_OK || cls != CKO_DATA ||
        tmpl[1].ulValueLen != app_len || memcmp(tmpl[1].pValue, a->app, app_len) != 0 ||
        tmpl[2].ulValueLen != label_len || memcmp(tmpl[2].pValue, a->label, label_len) != 0) {
        free(buf);
        return 0;
    }
    buf[tmpl[3].ulValueLen] = 0;
    free(a->out);
    a->out = buf;
    a->out_len = tmpl[3].ulValueLen;
    return 1;
}

static unsigned long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* Whether a->hint says a search of this epoch found no object, less than P11_DATA_ABSENT_NS
 * ago. */
static int hint_absent(const p11_session *s, const struct data_arg *a)
{
    return atomic_load_explicit(&a->hint->epoch, memory_order_acquire) == s->epoch &&
           atomic_load_explicit(&a->hint->h, memory_order_relaxed) == CK_INVALID_HANDLE &&
           now_ns() < atomic_load_explicit(&a->hint->absent_until, memory_order_relaxed);
}

static CK_RV data_get(p11_token *t, p11_session *s, void *arg)
{
    struct data_arg *a = arg;
    CK_OBJECT_HANDLE *found = NULL, best = CK_INVALID_HANDLE;
    CK_ULONG count = 0;
    CK_RV rv;

    if (a->hint != NULL && hint_absent(s, a))
        return data_absent(t, a);
    if (a->hint != NULL && hint_read(t, s, a))
        return CKR_OK;
    rv = data_find(t, s->h, a, &found, &count);
    if (rv == CKR_OK)
        rv = data_newest(t, s, a, found, count, &best);
    if (a->hint != NULL && (rv == CKR_OK || rv == P11_R_OBJECT_NOT_FOUND)) {
        atomic_store_explicit(&a->hint->h, rv == CKR_OK ? best : CK_INVALID_HANDLE,
                              memory_order_relaxed);
        atomic_store_explicit(&a->hint->absent_until,
                              rv == CKR_OK ? 0 : now_ns() + P11_DATA_ABSENT_NS,
                              memory_order_relaxed);
        atomic_store_explicit(&a->hint->epoch, s->epoch, memory_order_release);
    }
    free(found);
    return rv;
}

CK_RV p11_data_get(p11_token *t, const char *app, const char *label, uint8_t **val, size_t *len)
{
    return p11_data_get_hinted(t, app, label, NULL, val, len);
}

CK_RV p11_data_get_hinted(p11_token *t, const char *app, const char *label, p11_data_hint *hint,
                          uint8_t **val, size_t *len)
{
    struct data_arg a = {app, label, NULL, 0, 0, NULL, 0, NULL, 0, hint};
    CK_RV rv;

    *val = NULL;
    *len = 0;
    if (app == NULL || label == NULL)
        return p11_err_set(P11_R_BAD_ARGUMENT, "data object: an application and a label");
    rv = p11_token_run(t, data_get, &a);
    if (rv != CKR_OK) {
        free(a.out);
        return rv;
    }
    *val = a.out;
    *len = a.out_len;
    return CKR_OK;
}

/* Destroys h, which another writer may be destroying at the same moment: gone either way is
 * what we want. SoftHSM 2.6.1 answers the loser of two concurrent C_DestroyObject of one object
 * CKR_FUNCTION_FAILED, not CKR_OBJECT_HANDLE_INVALID (test_p11_data,
 * data_raced_puts_leave_one_object): the object is then asked whether it is still there. */
static CK_RV object_destroy(p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h)
{
    CK_OBJECT_CLASS cls;
    CK_ATTRIBUTE a = {CKA_CLASS, &cls, sizeof(cls)};
    CK_RV rv = t->f->C_DestroyObject(s, h);

    if (rv == CKR_OK || rv == CKR_OBJECT_HANDLE_INVALID ||
        t->f->C_GetAttributeValue(s, h, &a, 1) == CKR_OBJECT_HANDLE_INVALID)
        return CKR_OK;
    return rv;
}

/* A writer that raced this one found the old objects before our create: both new objects stay.
 * The lesser goes, so the token converges on the value every reader picks, and a reader that
 * remembers the lesser's handle finds it invalid and searches again. */
static CK_RV data_tidy(p11_token *t, p11_session *s, struct data_arg *a)
{
    CK_OBJECT_HANDLE *found = NULL, best = CK_INVALID_HANDLE;
    CK_ULONG count = 0;
    CK_RV rv = data_find(t, s->h, a, &found, &count);

    if (rv == CKR_OK && count > 1)
        rv = data_newest(t, s, a, found, count, &best);
    for (CK_ULONG i = 0; rv == CKR_OK && count > 1 && i < count; i++) {
        CK_RV r = found[i] == best ? CKR_OK : object_destroy(t, s->h, found[i]);

        if (r != CKR_OK)
            rv = p11_err_set(r,
                             "C_DestroyObject (data object '%s' beside a newer one) on token '%s'",
                             a->label, t->label);
    }
    free(a->out);
    a->out = NULL;
    free(found);
    return rv;
}

static CK_RV data_put(p11_token *t, p11_session *s, void *arg)
{
    struct data_arg *a = arg;
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_MODIFIABLE, &yes, sizeof(yes)},
        {CKA_APPLICATION, (void *)a->app, strlen(a->app)},
        {CKA_LABEL, (void *)a->label, strlen(a->label)},
        {CKA_VALUE, (void *)a->val, a->len},
    };
    CK_OBJECT_HANDLE *found = NULL, h;
    CK_ULONG count = 0;
    CK_RV rv = data_find(t, s->h, a, &found, &count);

    if (rv == CKR_OK && count > 0 && a->create_only)
        rv = p11_err_set(P11_R_OBJECT_AMBIGUOUS, "data object '%s' already on token '%s'", a->label,
                         t->label);
    if (rv == CKR_OK) {
        rv = t->f->C_CreateObject(s->h, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &h);
        if (rv != CKR_OK)
            p11_err_set(rv, "C_CreateObject (data object '%s') on token '%s'", a->label, t->label);
    }
    /* The new object is in place: the old ones go (one another writer destroyed already is
     * what we wanted). */
    for (CK_ULONG i = 0; rv == CKR_OK && i < count; i++) {
        CK_RV r = object_destroy(t, s->h, found[i]);

        if (r != CKR_OK)
            rv = p11_err_set(r, "C_DestroyObject (old data object '%s') on token '%s'", a->label,
                             t->label);
    }
    free(found);
    if (rv == CKR_OK && !a->create_only)
        rv = data_tidy(t, s, a);
    return rv;
}

CK_RV p11_data_put(p11_token *t, const char *app, const char *label, const uint8_t *val, size_t len,
                   int create_only)
{
    struct data_arg a = {app, label, val, len, create_only, NULL, 0, NULL, 0, NULL};

    if (app == NULL || label == NULL || (val == NULL && len > 0) || len > P11_DATA_MAX_BYTES)
        return p11_err_set(P11_R_BAD_ARGUMENT,
                           "data object: an application, a label and at "
                           "most %d bytes",
                           P11_DATA_MAX_BYTES);
    return p11_token_run(t, data_put, &a);
}

static CK_RV data_destroy(p11_token *t, p11_session *s, void *arg)
{
    struct data_arg *a = arg;
    CK_OBJECT_HANDLE *found = NULL;
    CK_ULONG count = 0;
    CK_RV rv = data_find(t, s->h, a, &found, &count);

    if (rv == CKR_OK && count == 0)
        rv = data_absent(t, a);
    for (CK_ULONG i = 0; rv == CKR_OK && i < count; i++) {
        rv = t->f->C_DestroyObject(s->h, found[i]);
        if (rv != CKR_OK)
            p11_err_set(rv, "C_DestroyObject (data object '%s') on token '%s'", a->label, t->label);
    }
    free(found);
    return rv;
}

CK_RV p11_data_destroy(p11_token *t, const char *app, const char *label)
{
    struct data_arg a = {app, label, NULL, 0, 0, NULL, 0, NULL, 0, NULL};

    if (app == NULL || label == NULL)
        return p11_err_set(P11_R_BAD_ARGUMENT, "data object: an application and a label");
    return p11_token_run(t, data_destroy, &a);
}

static CK_RV labels_get(p11_token *t, p11_session *s, void *arg)
{
    struct data_arg *a = arg;
    CK_OBJECT_HANDLE *found = NULL;
    CK_ULONG count = 0;
    CK_RV rv = data_find(t, s->h, a, &found, &count);

    p11_labels_free(a->labels, a->count);
    a->labels = NULL;
    a->count = 0;
    if (rv == CKR_OK && count > 0 && (a->labels = calloc(count, sizeof(char *))) == NULL)
        rv = p11_err_set(P11_R_OUT_OF_MEMORY, "labels");
    for (CK_ULONG i = 0; rv == CKR_OK && i < count; i++) {
        size_t len;

        rv = value_read(t, s->h, found[i], CKA_LABEL, (uint8_t **)&a->labels[a->count], &len);
        if (rv == CKR_OK)
            a->count++;
    }
    free(found);
    return rv;
}

CK_RV p11_data_labels_get(p11_token *t, const char *app, char ***labels, size_t *count)
{
    struct data_arg a = {app, NULL, NULL, 0, 0, NULL, 0, NULL, 0, NULL};
    CK_RV rv;

    *labels = NULL;
    *count = 0;
    if (app == NULL)
        return p11_err_set(P11_R_BAD_ARGUMENT, "data objects: an application is needed");
    rv = p11_token_run(t, labels_get, &a);
    if (rv != CKR_OK) {
        p11_labels_free(a.labels, a.count);
        return rv;
    }
    *labels = a.labels;
    *count = a.count;
    return CKR_OK;
}

void p11_labels_free(char **labels, size_t count)
{
    for (size_t i = 0; labels != NULL && i < count; i++)
        free(labels[i]);
    free(labels);
}
