/*
 * faultmod.h - the fault-injecting PKCS#11 module's two halves: the function table that forwards
 * to the real module (faultmod.c) and the control file that says which calls fail (faultctl.c).
 * docs/testing-faults.md describes the control language.
 *
 * Thread safety: fault_decide may be called from any number of threads at once.
 */
#ifndef CMK_FAULTMOD_H
#define CMK_FAULTMOD_H

#include <p11-kit/pkcs11.h>

/* How a function behaves when the token is removed ("token removed" in the control file). */
typedef enum fault_kind {
    FK_MODULE,  /* C_Initialize, C_Finalize, C_GetInfo, C_GetFunctionList: unaffected */
    FK_SLOT,    /* slot and token calls: CKR_TOKEN_NOT_PRESENT */
    FK_SESSION, /* calls on a session: CKR_DEVICE_REMOVED */
    FK_OP,      /* a session call that ends an active operation when it fails (see below) */
    FK_CLOSE,   /* C_CloseSession: always forwarded, so the real module frees the session */
} fault_kind;

typedef struct fault_verdict {
    CK_RV rv;          /* CKR_OK: the call goes ahead unchanged */
    int forward;       /* with rv != CKR_OK: call the real module first, then report rv */
    int removed;       /* the token is removed */
    int moved;         /* the token is back in another slot: slot IDs are shifted */
    unsigned delay_ms; /* slept before the call (already done when fault_decide returns) */
} fault_verdict;

/* Reads the control file ($CMK_FAULT_CONTROL) if it changed, counts this call against the
 * rules naming fn (index into the table of faultmod.c, name its name), sleeps any delay, and
 * says what to do. Fired faults are appended to $CMK_FAULT_LOG, one line each. */
void fault_decide(int fn, const char *name, fault_kind kind, fault_verdict *v);

/* The index of a function name in faultmod.c's table, or -1. */
int fault_fn_index(const char *name);

#endif
