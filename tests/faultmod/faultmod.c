/*
 * faultmod.c - build/cmk-faultmod.so, a PKCS#11 module for tests: every function forwards to the
 * real module ($CMK_FAULT_MODULE, default SoftHSM) unless the control file ($CMK_FAULT_CONTROL)
 * says that this call fails, is delayed, or that the token is gone or in another slot. See
 * docs/testing-faults.md.
 *
 * A failing call normally never reaches the real module, so it has no effect there (no object
 * made, no login). Two exceptions, both so the real module's state stays what a real token's
 * would be:
 *  - calls that end an operation when they fail (C_Decrypt, C_Sign, ... : PKCS#11 v2.40 section
 *    5.8ff: "a call that returns an error other than CKR_BUFFER_TOO_SMALL terminates the
 *    operation") are forwarded and their result replaced, so the next C_DecryptInit in that
 *    session is not refused with CKR_OPERATION_ACTIVE. Output buffers then hold what the real
 *    module wrote: the caller must not release them (the layer wipes them);
 *  - a rule with "after" forwards any call and replaces its result (the token did the work,
 *    the reply was lost).
 *
 * This is test tooling: one file holds the whole table, generated from the list below.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "faultmod.h"

#define FAULTMOD_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"

typedef CK_SESSION_HANDLE SH;
typedef CK_OBJECT_HANDLE OH;
typedef CK_MECHANISM_PTR MP;
typedef CK_ATTRIBUTE_PTR AP;
typedef CK_BYTE_PTR BP;
typedef CK_ULONG_PTR LP;

/* Every PKCS#11 v2.40 function but those below and C_GetFunctionList, C_GetSlotList,
 * C_GetSlotInfo, C_GetSessionInfo (written by hand): name, kind, parameters, arguments. */
#define FAULT_FUNCTIONS(X)                                                                         \
    X(C_Initialize, FK_MODULE, (void *a), (a))                                                     \
    X(C_Finalize, FK_MODULE, (void *a), (a))                                                       \
    X(C_GetInfo, FK_MODULE, (CK_INFO_PTR a), (a))                                                  \
    X(C_InitPIN, FK_SESSION, (SH a, CK_UTF8CHAR_PTR b, CK_ULONG c), (a, b, c))                     \
    X(C_SetPIN, FK_SESSION, (SH a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d, CK_ULONG e),  \
      (a, b, c, d, e))                                                                             \
    X(C_CloseSession, FK_CLOSE, (SH a), (a))                                                       \
    X(C_GetOperationState, FK_SESSION, (SH a, BP b, LP c), (a, b, c))                              \
    X(C_SetOperationState, FK_SESSION, (SH a, BP b, CK_ULONG c, OH d, OH e), (a, b, c, d, e))      \
    X(C_Login, FK_SESSION, (SH a, CK_USER_TYPE b, CK_UTF8CHAR_PTR c, CK_ULONG d), (a, b, c, d))    \
    X(C_Logout, FK_SESSION, (SH a), (a))                                                           \
    X(C_CreateObject, FK_SESSION, (SH a, AP b, CK_ULONG c, CK_OBJECT_HANDLE_PTR d), (a, b, c, d))  \
    X(C_CopyObject, FK_SESSION, (SH a, OH b, AP c, CK_ULONG d, CK_OBJECT_HANDLE_PTR e),            \
      (a, b, c, d, e))                                                                             \
    X(C_DestroyObject, FK_SESSION, (SH a, OH b), (a, b))                                           \
    X(C_GetObjectSize, FK_SESSION, (SH a, OH b, LP c), (a, b, c))                                  \
    X(C_GetAttributeValue, FK_SESSION, (SH a, OH b, AP c, CK_ULONG d), (a, b, c, d))               \
    X(C_SetAttributeValue, FK_SESSION, (SH a, OH b, AP c, CK_ULONG d), (a, b, c, d))               \
    X(C_FindObjectsInit, FK_SESSION, (SH a, AP b, CK_ULONG c), (a, b, c))                          \
    X(C_FindObjects, FK_SESSION, (SH a, CK_OBJECT_HANDLE_PTR b, CK_ULONG c, LP d), (a, b, c, d))   \
    X(C_FindObjectsFinal, FK_SESSION, (SH a), (a))                                                 \
    X(C_EncryptInit, FK_SESSION, (SH a, MP b, OH c), (a, b, c))                                    \
    X(C_Encrypt, FK_OP, (SH a, BP b, CK_ULONG c, BP d, LP e), (a, b, c, d, e))                     \
    X(C_EncryptUpdate, FK_OP, (SH a, BP b, CK_ULONG c, BP d, LP e), (a, b, c, d, e))               \
    X(C_EncryptFinal, FK_OP, (SH a, BP b, LP c), (a, b, c))                                        \
    X(C_DecryptInit, FK_SESSION, (SH a, MP b, OH c), (a, b, c))                                    \
    X(C_Decrypt, FK_OP, (SH a, BP b, CK_ULONG c, BP d, LP e), (a, b, c, d, e))                     \
    X(C_DecryptUpdate, FK_OP, (SH a, BP b, CK_ULONG c, BP d, LP e), (a, b, c, d, e))               \
    X(C_DecryptFinal, FK_OP, (SH a, BP b, LP c), (a, b, c))                                        \
    X(C_DigestInit, FK_SESSION, (SH a, MP b), (a, b))                                              \
    X(C_Digest, FK_OP, (SH a, BP b, CK_ULONG c, BP d, LP e), (a, b, c, d, e))                      \
    X(C_DigestUpdate, FK_OP, (SH a, BP b, CK_ULONG c), (a, b, c))                                  \
    X(C_DigestKey, FK_OP, (SH a, OH b), (a, b))                                                    \
    X(C_DigestFinal, FK_OP, (SH a, BP b, LP c), (a, b, c))                                         \
    X(C_SignInit, FK_SESSION, (SH a, MP b, OH c), (a, b, c))                                       \
    X(C_Sign, FK_OP, (SH a, BP b, CK_ULONG c, BP d, LP e), (a, b, c, d, e))                        \
    X(C_SignUpdate, FK_OP, (SH a, BP b, CK_ULONG c), (a, b, c))                                    \
    X(C_SignFinal, FK_OP, (SH a, BP b, LP c), (a, b, c))                                           \
    X(C_SignRecoverInit, FK_SESSION, (SH a, MP b, OH c), (a, b, c))                                \
    X(C_SignRecover, FK_OP, (SH a, BP b, CK_ULONG c, BP d, LP e), (a, b, c, d, e))                 \
    X(C_VerifyInit, FK_SESSION, (SH a, MP b, OH c), (a, b, c))                                     \
    X(C_Verify, FK_OP, (SH a, BP b, CK_ULONG c, BP d, CK_ULONG e), (a, b, c, d, e))                \
    X(C_VerifyUpdate, FK_OP, (SH a, BP b, CK_ULONG c), (a, b, c))                                  \
    X(C_VerifyFinal, FK_OP, (SH a, BP b, CK_ULONG c), (a, b, c))                                   \
    X(C_VerifyRecoverInit, FK_SESSION, (SH a, MP b, OH c), (a, b, c))                              \
    X(C_VerifyRecover, FK_OP, (SH a, BP b, CK_ULONG c, BP d, LP e), (a, b, c, d, e))               \
    X(C_DigestEncryptUpdate, FK_OP, (SH a, BP b, CK_ULONG c, BP d, LP e), (a, b, c, d, e))         \
    X(C_DecryptDigestUpdate, FK_OP, (SH a, BP b, CK_ULONG c, BP d, LP e), (a, b, c, d, e))         \
    X(C_SignEncryptUpdate, FK_OP, (SH a, BP b, CK_ULONG c, BP d, LP e), (a, b, c, d, e))           \
    X(C_DecryptVerifyUpdate, FK_OP, (SH a, BP b, CK_ULONG c, BP d, LP e), (a, b, c, d, e))         \
    X(C_GenerateKey, FK_SESSION, (SH a, MP b, AP c, CK_ULONG d, CK_OBJECT_HANDLE_PTR e),           \
      (a, b, c, d, e))                                                                             \
    X(C_GenerateKeyPair, FK_SESSION,                                                               \
      (SH a, MP b, AP c, CK_ULONG d, AP e, CK_ULONG f, CK_OBJECT_HANDLE_PTR g,                     \
       CK_OBJECT_HANDLE_PTR h),                                                                    \
      (a, b, c, d, e, f, g, h))                                                                    \
    X(C_WrapKey, FK_SESSION, (SH a, MP b, OH c, OH d, BP e, LP f), (a, b, c, d, e, f))             \
    X(C_UnwrapKey, FK_SESSION,                                                                     \
      (SH a, MP b, OH c, BP d, CK_ULONG e, AP f, CK_ULONG g, CK_OBJECT_HANDLE_PTR h),              \
      (a, b, c, d, e, f, g, h))                                                                    \
    X(C_DeriveKey, FK_SESSION, (SH a, MP b, OH c, AP d, CK_ULONG e, CK_OBJECT_HANDLE_PTR f),       \
      (a, b, c, d, e, f))                                                                          \
    X(C_SeedRandom, FK_SESSION, (SH a, BP b, CK_ULONG c), (a, b, c))                               \
    X(C_GenerateRandom, FK_SESSION, (SH a, BP b, CK_ULONG c), (a, b, c))                           \
    X(C_GetFunctionStatus, FK_SESSION, (SH a), (a))                                                \
    X(C_CancelFunction, FK_SESSION, (SH a), (a))                                                   \
    X(C_WaitForSlotEvent, FK_SLOT, (CK_FLAGS a, CK_SLOT_ID_PTR b, CK_VOID_PTR c), (a, b, c))

/* The functions whose first parameter is a slot: named, parameters, arguments. */
#define SLOT_FUNCTIONS(X)                                                                          \
    X(C_GetTokenInfo, (CK_SLOT_ID a, CK_TOKEN_INFO_PTR b), (a, b))                                 \
    X(C_GetMechanismList, (CK_SLOT_ID a, CK_MECHANISM_TYPE_PTR b, LP c), (a, b, c))                \
    X(C_GetMechanismInfo, (CK_SLOT_ID a, CK_MECHANISM_TYPE b, CK_MECHANISM_INFO_PTR c), (a, b, c)) \
    X(C_InitToken, (CK_SLOT_ID a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d), (a, b, c, d)) \
    X(C_OpenSession,                                                                               \
      (CK_SLOT_ID a, CK_FLAGS b, CK_VOID_PTR c, CK_NOTIFY d, CK_SESSION_HANDLE_PTR e),             \
      (a, b, c, d, e))                                                                             \
    X(C_CloseAllSessions, (CK_SLOT_ID a), (a))

enum {
#define FN_ENUM(name, kind, params, args) FN_##name,
#define FN_SLOT_ENUM(name, params, args)  FN_##name,
    FAULT_FUNCTIONS(FN_ENUM) SLOT_FUNCTIONS(FN_SLOT_ENUM) FN_C_GetSlotList,
    FN_C_GetSlotInfo,
    FN_C_GetSessionInfo,
    FN_COUNT
};

static const char *const fn_names[FN_COUNT] = {
#define FN_NAME(name, kind, params, args) [FN_##name] = #name,
#define FN_SLOT_NAME(name, params, args)  [FN_##name] = #name,
    FAULT_FUNCTIONS(FN_NAME) SLOT_FUNCTIONS(FN_SLOT_NAME)[FN_C_GetSlotList] = "C_GetSlotList",
    [FN_C_GetSlotInfo] = "C_GetSlotInfo",
    [FN_C_GetSessionInfo] = "C_GetSessionInfo",
};

int fault_fn_index(const char *name)
{
    for (int i = 0; i < FN_COUNT; i++)
        if (strcmp(fn_names[i], name) == 0)
            return i;
    return -1;
}

static CK_FUNCTION_LIST *real;

/* What a call does while the token is removed, or CKR_OK to go ahead. */
static CK_RV removed_rv(fault_kind kind)
{
    if (kind == FK_SLOT)
        return CKR_TOKEN_NOT_PRESENT;
    if (kind == FK_SESSION || kind == FK_OP)
        return CKR_DEVICE_REMOVED;
    return CKR_OK;
}

/* Before the call: v->rv CKR_OK to forward it; otherwise its result, final unless v->forward. */
static void fault_before(int fn, fault_kind kind, fault_verdict *v)
{
    fault_decide(fn, fn_names[fn], kind, v);
    if (v->rv == CKR_OK && v->removed)
        v->rv = removed_rv(kind);
    v->forward = v->rv == CKR_OK || v->forward || kind == FK_OP || kind == FK_CLOSE;
}

#define FN_FORWARD(name, kind, params, args)                                                       \
    static CK_RV fm_##name params                                                                  \
    {                                                                                              \
        fault_verdict v;                                                                           \
        CK_RV rv;                                                                                  \
                                                                                                   \
        fault_before(FN_##name, kind, &v);                                                         \
        rv = v.forward ? real->name args : v.rv;                                                   \
        return v.rv != CKR_OK ? v.rv : rv;                                                         \
    }
FAULT_FUNCTIONS(FN_FORWARD)

/* "token moved": the module shows the token's slot under another ID (a token pulled out and
 * put back may come back in another slot) and refuses the old one. */
#define SLOT_MOVE 0x40000000UL

static int slot_is_real(CK_SLOT_ID id)
{
    CK_SLOT_ID ids[64];
    CK_ULONG n = 64;

    if (real->C_GetSlotList(CK_FALSE, ids, &n) != CKR_OK)
        return 0;
    for (CK_ULONG i = 0; i < n; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

/* The real slot for a slot ID the caller gives. */
static CK_RV slot_in(const fault_verdict *v, CK_SLOT_ID *id)
{
    if (!v->moved)
        return CKR_OK;
    if (slot_is_real(*id))
        return CKR_SLOT_ID_INVALID;
    *id ^= SLOT_MOVE;
    return CKR_OK;
}

static CK_SLOT_ID slot_out(const fault_verdict *v, CK_SLOT_ID id)
{
    return v->moved ? id ^ SLOT_MOVE : id;
}

#define FN_SLOT_FORWARD(name, params, args)                                                        \
    static CK_RV fm_##name params                                                                  \
    {                                                                                              \
        fault_verdict v;                                                                           \
        CK_RV rv;                                                                                  \
                                                                                                   \
        fault_before(FN_##name, FK_SLOT, &v);                                                      \
        if (!v.forward)                                                                            \
            return v.rv;                                                                           \
        rv = slot_in(&v, &a);                                                                      \
        if (rv == CKR_OK)                                                                          \
            rv = real->name args;                                                                  \
        return v.rv != CKR_OK ? v.rv : rv;                                                         \
    }
SLOT_FUNCTIONS(FN_SLOT_FORWARD)

static CK_RV fm_C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info)
{
    fault_verdict v;
    CK_RV rv;

    fault_before(FN_C_GetSessionInfo, FK_SESSION, &v);
    if (!v.forward)
        return v.rv;
    rv = real->C_GetSessionInfo(h, info);
    if (rv == CKR_OK)
        info->slotID = slot_out(&v, info->slotID);
    return v.rv != CKR_OK ? v.rv : rv;
}

/* A removed token is absent from the list of slots with a token (section 5.5). */
static CK_RV fm_C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
    fault_verdict v;

    fault_decide(FN_C_GetSlotList, "C_GetSlotList", FK_SLOT, &v);
    if (v.rv != CKR_OK && !v.forward)
        return v.rv;
    if (v.removed && present && v.rv == CKR_OK) {
        *count = 0;
        return CKR_OK;
    }
    CK_RV rv = real->C_GetSlotList(present, list, count);
    for (CK_ULONG i = 0; rv == CKR_OK && list != NULL && i < *count; i++)
        list[i] = slot_out(&v, list[i]);
    return v.rv != CKR_OK ? v.rv : rv;
}

static CK_RV fm_C_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
    fault_verdict v;
    CK_RV rv;

    fault_decide(FN_C_GetSlotInfo, "C_GetSlotInfo", FK_SLOT, &v);
    if (v.rv != CKR_OK && !v.forward)
        return v.rv;
    rv = slot_in(&v, &slot);
    if (rv == CKR_OK)
        rv = real->C_GetSlotInfo(slot, info);
    if (rv == CKR_OK && v.removed)
        info->flags &= ~(CK_FLAGS)CKF_TOKEN_PRESENT;
    return v.rv != CKR_OK ? v.rv : rv;
}

static CK_RV fm_C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

static CK_FUNCTION_LIST table = {
    .version = {2, 40},
#define FN_ENTRY(name, kind, params, args) .name = fm_##name,
#define FN_SLOT_ENTRY(name, params, args)  .name = fm_##name,
    FAULT_FUNCTIONS(FN_ENTRY) SLOT_FUNCTIONS(FN_SLOT_ENTRY).C_GetFunctionList =
        fm_C_GetFunctionList,
    .C_GetSessionInfo = fm_C_GetSessionInfo,
    .C_GetSlotList = fm_C_GetSlotList,
    .C_GetSlotInfo = fm_C_GetSlotInfo,
};

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void real_load(void)
{
    const char *path = getenv("CMK_FAULT_MODULE");
    CK_C_GetFunctionList get;
    void *dl;

    if (path == NULL || *path == '\0')
        path = FAULTMOD_DEFAULT_MODULE;
    /* Never dlclose'd: the real module may have threads or atexit handlers of its own. */
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    get = dl != NULL ? (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList") : NULL;
    if (get == NULL || get(&real) != CKR_OK) {
        fprintf(stderr, "cmk-faultmod: cannot load the real module '%s': %s\n", path,
                dl == NULL ? dlerror() : "no C_GetFunctionList");
        real = NULL;
    }
}

static CK_RV fm_C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
    if (list == NULL)
        return CKR_ARGUMENTS_BAD;
    pthread_once(&load_once, real_load);
    if (real == NULL)
        return CKR_GENERAL_ERROR;
    table.version = real->version;
    *list = &table;
    return CKR_OK;
}

__attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
    return fm_C_GetFunctionList(list);
}
