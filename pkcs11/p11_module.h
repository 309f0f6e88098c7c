/*
 * p11_module.h - loading and initializing a PKCS#11 module, once per process.
 *
 * A module is named by an absolute path or by the name p11-kit registers it under (for example
 * "softhsm2"); p11-kit loads it (P11_KIT_MODULE_UNMANAGED) and this layer calls C_Initialize
 * itself with CKF_OS_LOCKING_OK and the caller's init args as pReserved (NSS softokn needs
 * "configDir=..."). Modules are shared: the same path returns the same object, refcounted.
 *
 * Fork: a child process must re-initialize (PKCS#11 v2.40 section 6.6). p11_module_check
 * notices a changed pid and re-initializes; every handle and session of the parent is then
 * stale, which the generation counter tells tokens and keys. fork() itself waits (a
 * pthread_atfork handler) until no other thread is inside a call of this layer, so the child
 * inherits no lock taken in the module or here (docs/pkcs11-layer.md, "Locking and the gate").
 *
 * Exit: modules whose quirk says so (SoftHSM 2.6.1 crashes when C_Finalize runs from
 * OpenSSL's atexit cleanup) are never finalized; others are finalized by the last put.
 *
 * Thread safety: all functions may be called from any thread.
 */
#ifndef CMK_P11_MODULE_H
#define CMK_P11_MODULE_H

#include "p11_rv.h"

typedef struct p11_module p11_module;

/* Loads and initializes the module, or takes a reference to the already loaded one.
 * init_args may be NULL; asking for a loaded module with other init args fails with
 * P11_R_BAD_ARGUMENT (it is initialized once per process). On success *out holds a reference
 * the caller puts. */
CK_RV p11_module_get(const char *name_or_path, const char *init_args, p11_module **out);
void p11_module_put(p11_module *m);

/* For a caller's own mutex that guards what it keeps of this layer (the provider's list of open
 * tokens): take that mutex only between hold and release, so that fork() waits for it as it
 * waits for the layer's own, and a child never inherits it locked. Nested holds are counted. */
void p11_module_hold(void);
void p11_module_release(void);

/* Re-initializes the module in a child after fork(); a no-op otherwise. Cheap enough to call
 * on every operation (one getpid comparison). Not from inside another call of this layer. */
CK_RV p11_module_check(p11_module *m);

/* Increases each time the module is (re-)initialized: sessions and object handles from an
 * older generation are stale. */
unsigned long p11_module_generation(const p11_module *m);

/* Says the process is exiting: from then on, putting modules and freeing tokens releases
 * memory only and calls no module (which may already have torn itself down: SoftHSM 2.6.1
 * crashes in C_CloseSession or C_Finalize from OpenSSL's exit-time cleanup). For an atexit
 * handler registered after OpenSSL's. */
void p11_exiting_set(void);
int p11_exiting(void);

/* The path the module was loaded from, and the library description from C_GetInfo. */
const char *p11_module_path(const p11_module *m);
const char *p11_module_description(const p11_module *m);

#endif
