/*
 * p11_session.c - a token's session pool: one session per concurrent caller, reused LIFO,
 * at most t->max open; beyond that callers wait for one to come back, they do not fail.
 * PKCS#11 v2.40 section 5.6: sessions are independent, so each thread works in its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "p11_internal.h"

int p11_rv_session_gone(CK_RV rv)
{
    return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
           rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_USER_NOT_LOGGED_IN;
}

int p11_session_logged_out(p11_token *t, CK_SESSION_HANDLE h)
{
    CK_SESSION_INFO si;

    /* Someone logged the application out (C_Logout, or closing its last session): private
     * objects then vanish from view and their handles read as invalid (SoftHSM 2.6.1). */
    if (t->pin_spec == NULL || t->f->C_GetSessionInfo(h, &si) != CKR_OK)
        return 0;
    return si.state == CKS_RO_PUBLIC_SESSION || si.state == CKS_RW_PUBLIC_SESSION;
}

/* Called with t->lock held. After a fork the child starts a new process image: the parent's
 * sessions are not ours to close, and those checked out in the parent never come back. */
static void pool_sync_module(p11_token *t)
{
    unsigned long gen = p11_module_generation(t->m);

    if (gen == t->module_gen)
        return;
    t->module_gen = gen;
    t->epoch++;
    t->floor = t->epoch;
    t->nfree = 0;
    t->nopen = 0;
    pthread_cond_broadcast(&t->cond);
}

/* Called with t->lock held: a new epoch; idle sessions of the old one are closed. */
static void pool_new_epoch(p11_token *t)
{
    t->epoch++;
    while (t->nfree > 0) {
        t->f->C_CloseSession(t->free_list[--t->nfree]);
        t->nopen--;
    }
    pthread_cond_broadcast(&t->cond);
}

static CK_RV session_open(p11_token *t, CK_SLOT_ID slot, unsigned long epoch, CK_SESSION_HANDLE *h)
{
    CK_RV rv;

    /* RW: key generation and import create token objects; decryption does not mind. */
    rv = t->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, h);
    if (rv != CKR_OK)
        return p11_err_set(rv, "C_OpenSession on token '%s'", t->label);
    rv = p11_token_login(t, *h, epoch);
    if (rv != CKR_OK)
        t->f->C_CloseSession(*h);
    return rv;
}

static int slot_gone(CK_RV rv)
{
    return rv == CKR_SLOT_ID_INVALID || rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_REMOVED;
}

/* Called with t->lock held. 1 when the token was found in another slot (a new epoch begins);
 * else 0, and the thread's error stays the one C_OpenSession gave, not the search's. */
static int token_refind_keep_error(p11_token *t, CK_SLOT_ID old_slot)
{
    char why[256];
    CK_RV rv = p11_err_rv();

    snprintf(why, sizeof(why), "%s", p11_err_detail());
    if (p11_token_refind(t) == CKR_OK && t->slot != old_slot) {
        pool_new_epoch(t);
        return 1;
    }
    /* p11_err_set appends ": CKR_..." itself: drop the one already in why. */
    if (strrchr(why, ':') != NULL)
        *strrchr(why, ':') = '\0';
    p11_err_set(rv, "%s", why);
    return 0;
}

/* Called with the gate held. */
static CK_RV pool_get(p11_token *t, p11_session *s)
{
    CK_SLOT_ID slot;
    CK_RV rv = CKR_OK;
    int refound = 0;

    pthread_mutex_lock(&t->lock);
    for (;;) {
        pool_sync_module(t);
        while (t->nfree == 0 && t->nopen >= t->max)
            pthread_cond_wait(&t->cond, &t->lock);
        s->epoch = t->epoch;
        if (t->nfree > 0) {
            s->h = t->free_list[--t->nfree];
            break;
        }
        t->nopen++;
        slot = t->slot;
        pthread_mutex_unlock(&t->lock);
        rv = session_open(t, slot, s->epoch, &s->h);
        pthread_mutex_lock(&t->lock);
        if (rv == CKR_OK)
            break;
        if (s->epoch >= t->floor) {
            t->nopen--;
            pthread_cond_signal(&t->cond);
        }
        /* The token went away while none of our sessions was open, and may be back in another
         * slot: look for it once, as p11_session_drop does for a session that died. */
        if (slot_gone(rv) && !refound && s->epoch == t->epoch) {
            refound = 1;
            if (token_refind_keep_error(t, slot))
                continue;
        }
        /* The token allows fewer sessions than it said (other applications hold some):
         * lower our limit and wait for one of ours. */
        if (rv != CKR_SESSION_COUNT || t->nopen == 0)
            break;
        t->max = t->nopen;
    }
    pthread_mutex_unlock(&t->lock);
    return rv;
}

/* On success the session holds the gate until it is put back or dropped. SoftHSM's read race
 * (p11_quirks.c) fails a login for a moment while another process writes the token, and the
 * module then keeps its stale view until it is initialized again: reload it (which waits for
 * every other thread's call to end) and try again. Only the outermost call can reload; a
 * nested one reports the failure. */
CK_RV p11_session_get(p11_token *t, p11_session *s)
{
    CK_RV rv;

    for (int i = 0;; i++) {
        unsigned long gen = p11_module_generation(t->m);

        rv = p11_module_check(t->m);
        if (rv != CKR_OK)
            return rv;
        p11_gate_get();
        rv = pool_get(t, s);
        if (rv == CKR_OK)
            return CKR_OK;
        p11_gate_put();
        if (!p11_module_read_race_retry(t->m, i, gen, rv))
            return rv;
    }
}

/* Put and drop release the gate p11_session_get took. */
void p11_session_put(p11_token *t, p11_session s)
{
    pthread_mutex_lock(&t->lock);
    if (s.epoch < t->floor) {
        /* opened before a fork by the parent's image: not ours to close or count */
    } else if (s.epoch != t->epoch) {
        t->f->C_CloseSession(s.h);
        t->nopen--;
        pthread_cond_signal(&t->cond);
    } else {
        t->free_list[t->nfree++] = s.h;
        pthread_cond_signal(&t->cond);
    }
    pthread_mutex_unlock(&t->lock);
    p11_gate_put();
}

void p11_session_drop(p11_token *t, p11_session s, CK_RV rv)
{
    pthread_mutex_lock(&t->lock);
    if (s.epoch >= t->floor) {
        t->f->C_CloseSession(s.h); /* may be gone already; then this is a no-op */
        t->nopen--;
    }
    if (s.epoch == t->epoch) {
        pool_new_epoch(t);
        if (rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT)
            p11_token_refind(t);
    }
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    p11_gate_put();
}

void p11_session_close_all(p11_token *t)
{
    p11_gate_get();
    pthread_mutex_lock(&t->lock);
    pool_sync_module(t);
    pool_new_epoch(t);
    pthread_mutex_unlock(&t->lock);
    p11_gate_put();
}

CK_RV p11_token_run(p11_token *t, p11_session_fn fn, void *arg)
{
    p11_session s;
    CK_RV rv;

    for (int attempt = 0;; attempt++) {
        rv = p11_session_get(t, &s);
        if (rv != CKR_OK)
            return rv;
        rv = fn(t, &s, arg);
        if (!p11_rv_session_gone(rv)) {
            p11_session_put(t, s);
            return rv;
        }
        p11_session_drop(t, s, rv);
        if (attempt == 1)
            return rv;
    }
}

/* A pool counter read under the pool's lock (the pool itself is not changed). */
static unsigned long pool_read(const p11_token *t, const unsigned long *field)
{
    pthread_mutex_t *lock = (pthread_mutex_t *)&t->lock;
    unsigned long n;

    p11_gate_get();
    pthread_mutex_lock(lock);
    n = *field;
    pthread_mutex_unlock(lock);
    p11_gate_put();
    return n;
}

unsigned long p11_token_session_count(const p11_token *t)
{
    return pool_read(t, &t->nopen);
}

unsigned long p11_token_session_limit(const p11_token *t)
{
    return pool_read(t, &t->max);
}

unsigned long p11_token_session_limit_set(p11_token *t, unsigned long max)
{
    p11_gate_get();
    pthread_mutex_lock(&t->lock);
    if (max >= 1 && max < t->max)
        t->max = max; /* the free list keeps its capacity: it never holds more than nopen */
    max = t->max;
    pthread_mutex_unlock(&t->lock);
    p11_gate_put();
    return max;
}
