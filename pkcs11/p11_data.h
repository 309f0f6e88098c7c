/*
 * p11_data.h - small application data objects kept in the token (CKO_DATA, PKCS#11 v2.40
 * section 4.5): one per (CKA_APPLICATION, CKA_LABEL), private (readable only after login) and
 * a token object, so every host and process that reaches the token reads the same value.
 *
 * Errors: the token's CKR, or P11_R_OBJECT_NOT_FOUND (get/destroy of a missing object),
 * P11_R_OBJECT_AMBIGUOUS (two objects for one label: made by two racing creators),
 * P11_R_OUT_OF_MEMORY, P11_R_BAD_ARGUMENT, with a detail (p11_err_detail).
 * Thread safety: any thread; each call runs in a session of the token's pool.
 */
#ifndef CMK_P11_DATA_H
#define CMK_P11_DATA_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "p11_token.h"

#define P11_DATA_MAX_BYTES 8192 /* largest CKA_VALUE this layer reads or writes */

/* The value of the object (app, label) in a new NUL-terminated buffer the caller frees
 * (*len excludes the NUL). When several objects carry (app, label) -- a writer is between its
 * create and its destroy, or two writers raced -- the value greatest in byte order is the one
 * returned: writers that may race begin their values with a stamp that sorts (cmk's key state
 * begins "v=1\nupdated=<zero-padded microseconds>"). */
CK_RV p11_data_get(p11_token *t, const char *app, const char *label, uint8_t **val, size_t *len);

/* Where one object (app, label) was last found: its handle and the token epoch (p11_internal.h)
 * the handle belongs to; or, with no handle, that a search found none, until absent_until
 * (CLOCK_MONOTONIC nanoseconds). Zero-initialised: nothing remembered. Any number of threads
 * may share one; it is only ever a hint. */
typedef struct p11_data_hint {
    atomic_ulong epoch;
    atomic_ulong h;
    atomic_ullong absent_until;
} p11_data_hint;

/* How long a hint remembers that there was no object: cmk's key state objects never appear
 * for a key that exists without one (cmk key create makes the state object first, and refuses
 * a name other tools' keys hold), so only a token's passing lapse could make "none" wrong, and
 * a key made by another tool costs a search a second instead of one per check. */
#define P11_DATA_ABSENT_NS 1000000000ull

/* p11_data_get, but reading the object hint remembers in one C_GetAttributeValue (CKA_CLASS,
 * CKA_APPLICATION, CKA_LABEL, CKA_VALUE) instead of searching the token (C_FindObjects costs
 * SoftHSM 2.6.1 a check of every object it holds: docs/benchmarks.md, "Key state check").
 * Searches as p11_data_get does, and remembers what it found in hint, when hint is NULL or
 * empty, from an older epoch, its handle is no longer valid (the object was replaced: a put
 * destroys the old object) or names an object that is not (app, label). A search that found
 * none is remembered for P11_DATA_ABSENT_NS: until then P11_R_OBJECT_NOT_FOUND comes without
 * one. While a put is between
 * its create and its destroy the old value may still be read, as before the put; once the put
 * returned, the next get reads the new one. */
CK_RV p11_data_get_hinted(p11_token *t, const char *app, const char *label, p11_data_hint *hint,
                          uint8_t **val, size_t *len);

/* Creates the object with value val; when create_only is 0, any objects (app, label) that
 * existed before are then destroyed (the value is replaced; readers never find none), and if
 * a racing writer left another one beside it, only the greatest value stays (so a reader that
 * remembers a handle is not left on the lesser one).
 * create_only refuses an existing object with P11_R_OBJECT_AMBIGUOUS. */
CK_RV p11_data_put(p11_token *t, const char *app, const char *label, const uint8_t *val, size_t len,
                   int create_only);

/* Destroys every object (app, label). */
CK_RV p11_data_destroy(p11_token *t, const char *app, const char *label);

/* The labels of every object of app, as a new array of new strings (p11_labels_free). */
CK_RV p11_data_labels_get(p11_token *t, const char *app, char ***labels, size_t *count);
void p11_labels_free(char **labels, size_t count);

#endif
