/*
 * p11_object_internal.h - object searches that may match any number of objects, shared by
 * p11_version.c, p11_data.c and p11_key.c (which asks for the current version of a key).
 */
#ifndef CMK_P11_OBJECT_INTERNAL_H
#define CMK_P11_OBJECT_INTERNAL_H

#include "p11_internal.h"

/* quirk (p11_quirks.c): a data object's CKA_VALUE cannot be set; informative, p11_data.c
 * always replaces the object */
#define P11_QUIRK_DATA_VALUE_FIXED 0x100u

/* Every object matching tmpl, as a new array of handles (NULL and 0 when none). */
CK_RV p11_objects_find(p11_token *t, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                       CK_OBJECT_HANDLE **found, CK_ULONG *count);

/* Of the objects matching tmpl (several), the one whose CKA_ID is the greatest, provided every
 * one carries a P11_VERSION_ID_BYTES id (they are versions of one key, p11_version.h); else
 * *out is CK_INVALID_HANDLE and the caller reports the match as ambiguous. */
CK_RV p11_version_current_find(p11_token *t, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                               CK_OBJECT_HANDLE *out);

#endif
