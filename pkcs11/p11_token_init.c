/*
 * p11_token_init.c - making a new token in a free slot (PKCS#11 v2.40 section 5.5:
 * C_InitToken with the SO PIN; then, logged in as SO in a read/write session, C_InitPIN).
 */
#include <stdlib.h>
#include <string.h>
#include "p11_internal.h"

/* The first slot holding a token that is not initialized yet. */
static CK_RV slot_free_find(p11_module *m, CK_SLOT_ID *out)
{
    CK_SLOT_ID slots[64];
    CK_ULONG n = sizeof(slots) / sizeof(slots[0]);
    CK_RV rv = m->f->C_GetSlotList(CK_TRUE, slots, &n);

    if (rv != CKR_OK)
        return p11_err_set(rv, "C_GetSlotList of module '%s'", m->path);
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;

        if (m->f->C_GetTokenInfo(slots[i], &ti) == CKR_OK && !(ti.flags & CKF_TOKEN_INITIALIZED)) {
            *out = slots[i];
            return CKR_OK;
        }
    }
    return p11_err_set(P11_R_TOKEN_NOT_FOUND, "no free slot in module '%s'", m->path);
}

/* The slot of the token just initialized: SoftHSM 2.6.1 moves a token to a new slot ID
 * (derived from its serial) when C_InitToken succeeds, so look it up by label. */
static CK_RV slot_new_find(p11_module *m, const char *label, CK_SLOT_ID *out)
{
    CK_SLOT_ID slots[64];
    CK_ULONG n = sizeof(slots) / sizeof(slots[0]);
    CK_RV rv;

    rv = m->f->C_GetSlotList(CK_TRUE, slots, &n);
    if (rv != CKR_OK)
        return p11_err_set(rv, "C_GetSlotList of module '%s'", m->path);
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        char l[33];

        if (m->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
            continue;
        p11_uri_unpad(l, ti.label, sizeof(ti.label));
        if ((ti.flags & CKF_TOKEN_INITIALIZED) && !(ti.flags & CKF_USER_PIN_INITIALIZED) &&
            strcmp(l, label) == 0) {
            *out = slots[i];
            return CKR_OK;
        }
    }
    return p11_err_set(P11_R_TOKEN_NOT_FOUND, "token '%s' not found after C_InitToken", label);
}

CK_RV p11_token_init(p11_module *m, const char *label, const char *so_pin_spec,
                     const char *user_pin_spec)
{
    CK_UTF8CHAR padded[32];
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    CK_SLOT_ID slot = 0;
    char *so = NULL, *user = NULL;
    size_t so_len = 0, user_len = 0;
    CK_RV rv;

    if (label == NULL || strlen(label) > sizeof(padded))
        return p11_err_set(P11_R_BAD_ARGUMENT, "token label must be 1 to 32 bytes");
    memset(padded, ' ', sizeof(padded));
    memcpy(padded, label, strlen(label));
    rv = p11_module_check(m);
    if (rv != CKR_OK)
        return rv;
    p11_gate_get();
    rv = p11_pin_resolve(so_pin_spec, 1, &so, &so_len);
    if (rv == CKR_OK)
        rv = p11_pin_resolve(user_pin_spec, 1, &user, &user_len);
    if (rv == CKR_OK)
        rv = slot_free_find(m, &slot);
    if (rv != CKR_OK)
        goto end;
    rv = m->f->C_InitToken(slot, (CK_UTF8CHAR *)so, so_len, padded);
    if (rv != CKR_OK) {
        p11_err_set(rv, "C_InitToken '%s' in slot %lu", label, (unsigned long)slot);
        goto end;
    }
    rv = slot_new_find(m, label, &slot);
    if (rv != CKR_OK)
        goto end;
    rv = m->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h);
    if (rv != CKR_OK) {
        p11_err_set(rv, "C_OpenSession on new token '%s'", label);
        goto end;
    }
    rv = m->f->C_Login(h, CKU_SO, (CK_UTF8CHAR *)so, so_len);
    if (rv != CKR_OK) {
        p11_err_set(rv, "C_Login as SO on new token '%s'", label);
        goto end;
    }
    rv = m->f->C_InitPIN(h, (CK_UTF8CHAR *)user, user_len);
    if (rv != CKR_OK)
        p11_err_set(rv, "C_InitPIN on new token '%s'", label);
    m->f->C_Logout(h);
end:
    if (h != CK_INVALID_HANDLE)
        m->f->C_CloseSession(h);
    p11_gate_put();
    p11_pin_free(so, so_len);
    p11_pin_free(user, user_len);
    return rv;
}
