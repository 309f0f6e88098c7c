/*
 * p11_gate.c - the gate every use of a module passes (p11_internal.h): shared while a thread
 * works in the layer, exclusive to re-initialize a module and across fork().
 *
 * Why: a child made by fork() while another thread was inside the module (or held one of our
 * pool mutexes) inherits that lock taken, and nothing in the child will ever release it:
 * its C_Finalize/C_Initialize (PKCS#11 v2.40 section 6.6) or its next session get hangs.
 * The prepare handler takes the gate exclusively, so the fork happens at a quiet point.
 */
#include "p11_internal.h"

/* Writer-preferring: once fork or a reload waits, new callers queue behind it, so a busy
 * process cannot starve it. Nested gets of one thread are counted, not taken again (with
 * writer preference a second read lock behind a waiting writer would deadlock). */
static pthread_rwlock_t gate = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static _Thread_local unsigned gate_depth;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;
static int fork_held; /* the prepare handler took the gate (only the forking thread reads it) */

void p11_gate_get(void)
{
    if (gate_depth++ == 0)
        pthread_rwlock_rdlock(&gate);
}

void p11_gate_put(void)
{
    if (--gate_depth == 0)
        pthread_rwlock_unlock(&gate);
}

int p11_gate_held(void)
{
    return gate_depth > 0;
}

CK_RV p11_gate_lock(void)
{
    /* Waiting for the others while we hold it shared would wait for ourselves. */
    if (gate_depth > 0)
        return p11_err_set(P11_R_BAD_ARGUMENT,
                           "a module cannot be re-initialized from inside a call to it");
    pthread_rwlock_wrlock(&gate);
    gate_depth = 1; /* what the holder calls from here on passes straight through */
    return CKR_OK;
}

void p11_gate_unlock(void)
{
    gate_depth = 0;
    pthread_rwlock_unlock(&gate);
}

/* A fork from inside a call (an application callback) cannot wait for itself: it goes
 * through unquiesced, as before the gate existed. */
static void fork_prepare(void)
{
    fork_held = gate_depth == 0;
    if (fork_held)
        p11_gate_lock();
}

static void fork_parent(void)
{
    if (fork_held)
        p11_gate_unlock();
}

/* The child has one thread, ours: a fresh gate, rather than unlocking one whose owner record
 * names the parent's thread. */
static void fork_child(void)
{
    pthread_rwlockattr_t a;

    if (!fork_held)
        return;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&gate, &a);
    pthread_rwlockattr_destroy(&a);
    gate_depth = 0;
}

static void gate_register(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void p11_gate_init(void)
{
    pthread_once(&gate_once, gate_register);
}
