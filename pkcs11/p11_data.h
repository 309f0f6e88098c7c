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

/* Creates the object with value val; when create_only is 0, any objects (app, label) that
 * existed before are then destroyed (the value is replaced; readers never find none).
 * create_only refuses an existing object with P11_R_OBJECT_AMBIGUOUS. */
CK_RV p11_data_put(p11_token *t, const char *app, const char *label, const uint8_t *val, size_t len,
                   int create_only);

/* Destroys every object (app, label). */
CK_RV p11_data_destroy(p11_token *t, const char *app, const char *label);

/* The labels of every object of app, as a new array of new strings (p11_labels_free). */
CK_RV p11_data_labels_get(p11_token *t, const char *app, char ***labels, size_t *count);
void p11_labels_free(char **labels, size_t count);

#endif
