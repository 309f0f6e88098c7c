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
 * process cannot starve it. Nested gets of one thread are counted, not taken again (behind a
 * waiting writer a second get would wait for itself). A mutex and a condition variable rather
 * than a pthread_rwlock: the child of a fork must release what the prepare handler took, and
 * glibc's rwlock knows its writer by thread id, which the child's thread does not share. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned readers;         /* threads holding it shared */
    unsigned writers_waiting; /* threads waiting to hold it exclusively */
    int writer;               /* a thread holds it exclusively */
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
static _Thread_local unsigned gate_depth;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;
static int fork_held; /* the prepare handler took the gate (only the forking thread reads it) */

void p11_gate_get(void)
{
    if (gate_depth++ > 0)
        return;
    pthread_mutex_lock(&gate.mu);
    while (gate.writer || gate.writers_waiting > 0)
        pthread_cond_wait(&gate.cv, &gate.mu);
    gate.readers++;
    pthread_mutex_unlock(&gate.mu);
}

void p11_gate_put(void)
{
    if (--gate_depth > 0)
        return;
    pthread_mutex_lock(&gate.mu);
    if (--gate.readers == 0 && gate.writers_waiting > 0)
        pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
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
    pthread_mutex_lock(&gate.mu);
    gate.writers_waiting++;
    while (gate.writer || gate.readers > 0)
        pthread_cond_wait(&gate.cv, &gate.mu);
    gate.writers_waiting--;
    gate.writer = 1;
    pthread_mutex_unlock(&gate.mu);
    gate_depth = 1; /* what the holder calls from here on passes straight through */
    return CKR_OK;
}

void p11_gate_unlock(void)
{
    gate_depth = 0;
    pthread_mutex_lock(&gate.mu);
    gate.writer = 0;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
}

/* The gate, and its mutex too (another thread may be between lock and wait), are held across
 * fork(). A fork from inside a call (an application callback) cannot wait for itself: it goes
 * through unquiesced, as before the gate existed. */
static void fork_prepare(void)
{
    fork_held = gate_depth == 0;
    if (!fork_held)
        return;
    p11_gate_lock();
    pthread_mutex_lock(&gate.mu);
}

static void fork_parent(void)
{
    if (!fork_held)
        return;
    pthread_mutex_unlock(&gate.mu);
    p11_gate_unlock();
}

/* The child has one thread, ours: the threads that waited at the gate are not in it, so the
 * condition variable (whose state counts them) is made anew. */
static void fork_child(void)
{
    if (!fork_held)
        return;
    pthread_cond_init(&gate.cv, NULL);
    gate.readers = 0;
    gate.writers_waiting = 0;
    gate.writer = 0;
    gate_depth = 0;
    pthread_mutex_unlock(&gate.mu);
}

static void gate_register(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void p11_gate_init(void)
{
    pthread_once(&gate_once, gate_register);
}
