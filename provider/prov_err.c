/* prov_err.c - the provider's reason strings and the one place errors are raised. */
#include <stdarg.h>
#include <stdio.h>
#include "prov.h"
#include "../pkcs11/p11_rv.h"

static const OSSL_ITEM reason_strings[] = {
    {CMK_R_PKCS11, "PKCS#11 operation failed"},
    {CMK_R_CONFIG, "provider configuration error"},
    {CMK_R_BAD_URI, "bad or unmatched pkcs11 URI"},
    {CMK_R_NOT_A_CMK, "key is not a customer-managed key (extractable or not sensitive)"},
    {CMK_R_OAEP_HASH, "token cannot do RSA-OAEP with this hash"},
    {CMK_R_BAD_PARAMETER, "unsupported or malformed parameter"},
    {CMK_R_BUFFER_TOO_SMALL, "output buffer too small"},
    {CMK_R_NO_PRIVATE_KEY, "operation needs the private key"},
    {CMK_R_INTERNAL, "internal error"},
    {CMK_R_BAD_TAG, "authentication tag mismatch"},
    {CMK_R_KEY_STATE, "the key's state forbids it (disabled, deleted, expired, not yet valid)"},
    {CMK_R_NOT_PERMITTED, "the key is not permitted this operation"},
    {0, NULL},
};

const OSSL_ITEM *cmk_reason_strings(void)
{
    return reason_strings;
}

static void err_vraise(const CMK_PROV *prov, const char *file, int line, const char *func,
                       int reason, const char *fmt, va_list ap)
{
    if (prov == NULL || prov->core_new_error == NULL)
        return;
    prov->core_new_error(prov->handle);
    prov->core_set_error_debug(prov->handle, file, line, func);
    prov->core_vset_error(prov->handle, (uint32_t)reason, fmt, ap);
}

void cmk_err_raise(const CMK_PROV *prov, const char *file, int line, const char *func, int reason,
                   const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vraise(prov, file, line, func, reason, fmt, ap);
    va_end(ap);
}

static int reason_for_rv(CK_RV rv)
{
    switch (rv) {
    case P11_R_BAD_URI:
    case P11_R_TOKEN_NOT_FOUND:
    case P11_R_OBJECT_NOT_FOUND:
    case P11_R_OBJECT_AMBIGUOUS:
        return CMK_R_BAD_URI;
    case P11_R_KEY_EXTRACTABLE:
    case P11_R_KEY_NOT_SENSITIVE:
        return CMK_R_NOT_A_CMK;
    case P11_R_OAEP_HASH:
        return CMK_R_OAEP_HASH;
    case P11_R_MODULE_LOAD:
    case P11_R_PIN_SOURCE:
    case P11_R_NO_PIN:
        return CMK_R_CONFIG;
    default:
        return CMK_R_PKCS11;
    }
}

void cmk_err_raise_p11(const CMK_PROV *prov, const char *file, int line, const char *func, CK_RV rv)
{
    const char *detail = p11_err_detail();

    if (p11_err_rv() != rv || detail[0] == '\0')
        cmk_err_raise(prov, file, line, func, reason_for_rv(rv), "%s", p11_rv_name(rv));
    else
        cmk_err_raise(prov, file, line, func, reason_for_rv(rv), "%s", detail);
}
