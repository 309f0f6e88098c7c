/*
 * p11_object.c - searches that return every match (PKCS#11 v2.40 section 5.7: C_FindObjects
 * is called until it returns fewer handles than asked for), and picking a key's current version.
 */
#include <stdlib.h>
#include <string.h>
#include "p11_object_internal.h"
#include "p11_version.h"

#define FIND_BATCH 64

CK_RV p11_objects_find(p11_token *t, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                       CK_OBJECT_HANDLE **found, CK_ULONG *count)
{
    CK_OBJECT_HANDLE *all = NULL, *more;
    CK_ULONG got = 0, batch = 0;
    CK_RV rv = t->f->C_FindObjectsInit(s, tmpl, n);

    *found = NULL;
    *count = 0;
    if (rv != CKR_OK)
        return p11_err_set(rv, "C_FindObjectsInit on token '%s'", t->label);
    do {
        more = realloc(all, (got + FIND_BATCH) * sizeof(*all));
        if (more == NULL) {
            rv = p11_err_set(P11_R_OUT_OF_MEMORY, "object search");
            break;
        }
        all = more;
        rv = t->f->C_FindObjects(s, all + got, FIND_BATCH, &batch);
        if (rv != CKR_OK) {
            p11_err_set(rv, "C_FindObjects on token '%s'", t->label);
            break;
        }
        got += batch;
    } while (batch == FIND_BATCH);
    t->f->C_FindObjectsFinal(s);
    if (rv != CKR_OK || got == 0) {
        free(all);
        return rv;
    }
    *found = all;
    *count = got;
    return CKR_OK;
}

CK_RV p11_version_current_find(p11_token *t, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                               CK_OBJECT_HANDLE *out)
{
    CK_OBJECT_HANDLE *found = NULL;
    CK_ULONG count = 0;
    uint8_t best[P11_VERSION_ID_BYTES] = {0};
    CK_RV rv = p11_objects_find(t, s, tmpl, n, &found, &count);

    *out = CK_INVALID_HANDLE;
    for (CK_ULONG i = 0; rv == CKR_OK && i < count; i++) {
        uint8_t id[P11_VERSION_ID_BYTES];
        CK_ATTRIBUTE a = {CKA_ID, id, sizeof(id)};

        if (t->f->C_GetAttributeValue(s, found[i], &a, 1) != CKR_OK ||
            a.ulValueLen != P11_VERSION_ID_BYTES) {
            *out = CK_INVALID_HANDLE; /* not versions of one key: ambiguous */
            break;
        }
        if (*out == CK_INVALID_HANDLE || memcmp(id, best, sizeof(id)) > 0) {
            memcpy(best, id, sizeof(id));
            *out = found[i];
        }
    }
    free(found);
    return rv;
}
