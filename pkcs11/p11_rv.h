/*
 * p11_rv.h - the one error type of the PKCS#11 layer.
 *
 * Every function of pkcs11/ that can fail returns a CK_RV: CKR_OK on success, the token's own
 * CKR_* code when a PKCS#11 call failed, or one of the P11_R_* codes below for failures that
 * happen outside the token (a module that will not load, a URI that matches nothing). The
 * function that fails also records a one-line, human-readable detail for the calling thread
 * (p11_err_detail), which the provider copies to OpenSSL's error queue at its edge.
 *
 * Thread safety: the detail is thread-local; p11_rv_name is pure.
 */
#ifndef CMK_P11_RV_H
#define CMK_P11_RV_H

#include <p11-kit/pkcs11.h>

/* Project codes live in the vendor range so they never collide with a CKR_* value. */
#define P11_R_BASE              (CKR_VENDOR_DEFINED + 0x434d0000UL)
#define P11_R_MODULE_LOAD       (P11_R_BASE + 1) /* dlopen or C_GetFunctionList failed */
#define P11_R_BAD_URI           (P11_R_BASE + 2) /* not a pkcs11: URI p11-kit can parse */
#define P11_R_TOKEN_NOT_FOUND   (P11_R_BASE + 3) /* no present token matches the URI */
#define P11_R_OBJECT_NOT_FOUND  (P11_R_BASE + 4) /* no key matches the URI */
#define P11_R_OBJECT_AMBIGUOUS  (P11_R_BASE + 5) /* more than one key matches */
#define P11_R_KEY_EXTRACTABLE   (P11_R_BASE + 6) /* CKA_EXTRACTABLE true: not a CMK */
#define P11_R_KEY_NOT_SENSITIVE (P11_R_BASE + 7) /* CKA_SENSITIVE false: not a CMK */
#define P11_R_PIN_SOURCE        (P11_R_BASE + 8) /* file:/env: PIN could not be read */
#define P11_R_PIN_ALREADY_FAILED                                                                   \
    (P11_R_BASE + 9) /* refused: this PIN failed and one more try locks */
#define P11_R_NO_PIN           (P11_R_BASE + 10) /* login needed, no PIN configured */
#define P11_R_OAEP_HASH        (P11_R_BASE + 11) /* token cannot do OAEP with that hash */
#define P11_R_NO_PUBLIC_OBJECT (P11_R_BASE + 12) /* token keeps no public key object */
#define P11_R_UNSUPPORTED      (P11_R_BASE + 13) /* mechanism or parameter not offered */
#define P11_R_OUT_OF_MEMORY    (P11_R_BASE + 14)
#define P11_R_BAD_ARGUMENT     (P11_R_BASE + 15) /* caller error: sizes, NULLs */

/* "CKR_PIN_INCORRECT", "P11_R_TOKEN_NOT_FOUND", or "CKR_0x%08lx" for unknown values
 * (the returned pointer is then thread-local and valid until the next call). */
const char *p11_rv_name(CK_RV rv);

/* Records rv and a printf-style detail for this thread; returns rv so a caller can write
 * `return p11_err_set(rv, "C_Login on token %s", label);`. */
CK_RV p11_err_set(CK_RV rv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The detail recorded by the last p11_err_set on this thread ("" if none). Its form is
 * "<what failed>: <CKR name>", e.g. "C_Login on token 'prod': CKR_PIN_INCORRECT". */
const char *p11_err_detail(void);
CK_RV p11_err_rv(void);
void p11_err_clear(void);

#endif
