/*
 * p11_token.c - finding a token by URI, logging in once, making a new token.
 * PKCS#11 v2.40: slots and tokens section 5.5, login section 5.6 (C_Login is per application,
 * not per session: one login serves every session of the token until the last one closes).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "p11_internal.h"
#include "p11_object_internal.h"

/* Finds the first present token matching uri; on success fills slot, si and ti. */
static CK_RV token_find_once(p11_module *m, P11KitUri *uri, const char *uri_s, CK_SLOT_ID *slot,
                             CK_TOKEN_INFO *ti)
{
    CK_FUNCTION_LIST *f = m->f;
    CK_SLOT_ID *slots = NULL;
    CK_ULONG n = 0;
    CK_RV rv;

    rv = f->C_GetSlotList(CK_TRUE, NULL, &n);
    if (rv == CKR_OK && n > 0) {
        slots = calloc(n, sizeof(*slots));
        if (slots == NULL)
            return p11_err_set(P11_R_OUT_OF_MEMORY, "slot list");
        rv = f->C_GetSlotList(CK_TRUE, slots, &n);
    }
    if (rv != CKR_OK) {
        free(slots);
        return p11_err_set(rv, "C_GetSlotList of module '%s'", m->path);
    }
    for (CK_ULONG i = 0; i < n; i++) {
        CK_SLOT_INFO si;

        if (f->C_GetSlotInfo(slots[i], &si) != CKR_OK || f->C_GetTokenInfo(slots[i], ti) != CKR_OK)
            continue;
        if (!(ti->flags & CKF_TOKEN_INITIALIZED))
            continue;
        if (p11_uri_match_token(uri, slots[i], &si, ti)) {
            *slot = slots[i];
            free(slots);
            return CKR_OK;
        }
    }
    free(slots);
    return p11_err_set(P11_R_TOKEN_NOT_FOUND, "no token matches '%s' in module '%s'",
                       uri_s != NULL ? uri_s : "pkcs11:", m->path);
}

/* SoftHSM 2.6.1 (P11_QUIRK_TOKEN_READ_RACE): a process that reads the token directory while
 * another process rewrites the token's file (at its login: truncate, unlock, write) keeps
 * seeing no token until the module is initialized again. So where that quirk applies, a token
 * not found is looked for again after a reload, a few times, a moment apart. The reload waits
 * for the calls of the process's other threads to end (p11_module_reload): only an outermost
 * call, outside the gate, can do it. */
static CK_RV token_find(p11_module *m, P11KitUri *uri, const char *uri_s, CK_SLOT_ID *slot,
                        CK_TOKEN_INFO *ti)
{
    unsigned long gen;
    CK_RV rv;

    for (int i = 0;; i++) {
        gen = p11_module_generation(m);
        p11_gate_get();
        rv = token_find_once(m, uri, uri_s, slot, ti);
        p11_gate_put();
        if (!p11_module_read_race_retry(m, i, gen, rv))
            return rv;
    }
}

static void token_set_info(p11_token *t, CK_SLOT_ID slot, const CK_TOKEN_INFO *ti)
{
    t->slot = slot;
    t->flags = ti->flags;
    p11_uri_unpad(t->label, ti->label, sizeof(ti->label));
    p11_uri_unpad(t->serial, ti->serialNumber, sizeof(ti->serialNumber));
    p11_uri_unpad(t->manufacturer, ti->manufacturerID, sizeof(ti->manufacturerID));
    p11_uri_unpad(t->model, ti->model, sizeof(ti->model));
    if (ti->ulMaxSessionCount == CK_EFFECTIVELY_INFINITE ||
        ti->ulMaxSessionCount == CK_UNAVAILABLE_INFORMATION ||
        ti->ulMaxSessionCount > P11_SESSION_CAP)
        t->max = P11_SESSION_CAP;
    else
        t->max = ti->ulMaxSessionCount;
}

static CK_RV token_set_pin(p11_token *t, P11KitUri *uri, const char *pin_spec)
{
    int literal = 1;
    const char *spec = p11_uri_pin(uri, &literal);

    if (spec == NULL) {
        spec = pin_spec;
        literal = 1; /* a pin_spec may be a literal; file:/env: are recognized first */
    }
    if (spec == NULL)
        return CKR_OK;
    t->pin_spec = strdup(spec);
    t->pin_literal = literal;
    return t->pin_spec != NULL ? CKR_OK : p11_err_set(P11_R_OUT_OF_MEMORY, "PIN");
}

CK_RV p11_token_open(p11_module *m, const char *uri, const char *pin_spec, p11_token **out)
{
    P11KitUri *u = NULL;
    CK_TOKEN_INFO ti;
    CK_SLOT_ID slot = 0;
    p11_token *t = NULL;
    CK_RV rv;

    *out = NULL;
    rv = p11_module_check(m);
    if (rv == CKR_OK)
        rv = p11_uri_parse(uri, &u);
    if (rv == CKR_OK)
        rv = token_find(m, u, uri, &slot, &ti);
    if (rv != CKR_OK)
        goto end;
    t = calloc(1, sizeof(*t));
    if (t == NULL || (t->uri = strdup(uri != NULL ? uri : "pkcs11:")) == NULL) {
        free(t);
        t = NULL;
        rv = p11_err_set(P11_R_OUT_OF_MEMORY, "token");
        goto end;
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->login_lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    atomic_init(&t->refs, 1);
    t->f = m->f;
    t->epoch = 1;
    t->floor = 1;
    t->module_gen = p11_module_generation(m);
    token_set_info(t, slot, &ti);
    t->quirks = m->quirks | p11_quirks_token_get(&ti);
    t->free_list = calloc(t->max, sizeof(*t->free_list));
    rv = t->free_list == NULL ? p11_err_set(P11_R_OUT_OF_MEMORY, "session pool")
                              : token_set_pin(t, u, pin_spec);
    if (rv != CKR_OK)
        goto end;
    t->m = p11_module_ref(m);
end:
    if (u != NULL)
        p11_kit_uri_free(u);
    if (rv != CKR_OK && t != NULL) {
        p11_token_free(t);
        t = NULL;
    }
    *out = t;
    return rv;
}

p11_token *p11_token_ref(p11_token *t)
{
    atomic_fetch_add(&t->refs, 1);
    return t;
}

void p11_token_free(p11_token *t)
{
    if (t == NULL || atomic_fetch_sub(&t->refs, 1) > 1)
        return;
    if (t->m != NULL) {
        if (!p11_exiting())
            p11_session_close_all(t); /* takes the gate */
        p11_module_put(t->m);
    }
    if (t->pin_spec != NULL)
        p11_pin_free(t->pin_spec, strlen(t->pin_spec));
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->login_lock);
    pthread_cond_destroy(&t->cond);
    free(t->free_list);
    free(t->uri);
    free(t);
}

int p11_token_matches(const p11_token *t, const char *uri)
{
    P11KitUri *u = NULL;
    CK_TOKEN_INFO ti;
    int r;

    if (p11_uri_parse(uri, &u) != CKR_OK)
        return 0;
    /* Compare against what the token reported at open (labels may be re-read on re-find). */
    memset(&ti, ' ', sizeof(ti));
    memcpy(ti.label, t->label, strlen(t->label));
    memcpy(ti.serialNumber, t->serial, strlen(t->serial));
    memcpy(ti.manufacturerID, t->manufacturer, strlen(t->manufacturer));
    memcpy(ti.model, t->model, strlen(t->model));
    r = p11_uri_match_token(u, t->slot, NULL, &ti);
    p11_kit_uri_free(u);
    return r;
}

const char *p11_token_label(const p11_token *t)
{
    return t->label;
}

p11_module *p11_token_module(const p11_token *t)
{
    return t->m;
}

/* Flags as the token reports them now (they change: CKF_USER_PIN_FINAL_TRY, ...). */
static CK_FLAGS token_flags(p11_token *t)
{
    CK_TOKEN_INFO ti;
    CK_FLAGS flags = t->flags;

    if (t->f->C_GetTokenInfo(t->slot, &ti) == CKR_OK)
        flags = ti.flags;
    return flags | t->test_flags;
}

/* C_Login with SIGINT, SIGTERM and SIGHUP held (blocked in this thread, delivered right after):
 * SoftHSM 2.6.1 rewrites its token file at every login (ftruncate, then write), and a process
 * ended between the two leaves the token empty (docs/pkcs11-layer.md). Not for a keypad login,
 * which waits on a person. */
static CK_RV token_login_call(p11_token *t, CK_SESSION_HANDLE h, char *pin, size_t len)
{
    sigset_t hold, saved;
    CK_RV rv;

    sigemptyset(&hold);
    sigaddset(&hold, SIGINT);
    sigaddset(&hold, SIGTERM);
    sigaddset(&hold, SIGHUP);
    if (pin != NULL)
        pthread_sigmask(SIG_BLOCK, &hold, &saved);
    rv = t->f->C_Login(h, CKU_USER, (CK_UTF8CHAR *)pin, (CK_ULONG)len);
    if (pin != NULL)
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return rv;
}

/* One C_Login per epoch. A PIN that failed is remembered by fingerprint; once the token says
 * the next wrong try locks it (CKF_USER_PIN_FINAL_TRY), that PIN is not tried again. */
CK_RV p11_token_login(p11_token *t, CK_SESSION_HANDLE h, unsigned long epoch)
{
    char *pin = NULL;
    size_t len = 0;
    uint64_t fp = 0;
    CK_FLAGS flags;
    CK_RV rv = CKR_OK;

    pthread_mutex_lock(&t->login_lock);
    if (t->logged_in_epoch == epoch || t->pin_spec == NULL)
        goto end;
    flags = token_flags(t);
    if (!(flags & CKF_LOGIN_REQUIRED))
        goto end;
    if (flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
        pin = NULL; /* the reader's keypad asks (section 5.6) */
    } else {
        rv = p11_pin_resolve(t->pin_spec, t->pin_literal, &pin, &len);
        if (rv != CKR_OK)
            goto end;
        fp = p11_pin_fingerprint(pin, len);
        if (t->failed_pin == fp && (flags & (CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED))) {
            rv = p11_err_set(P11_R_PIN_ALREADY_FAILED,
                             "login to token '%s' refused: this PIN failed before and one more "
                             "wrong try locks the token",
                             t->label);
            goto end;
        }
    }
    t->login_calls++;
    rv = token_login_call(t, h, pin, len);
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
        t->logged_in_epoch = epoch;
        t->failed_pin = 0;
        rv = CKR_OK;
    } else {
        if (rv == CKR_PIN_INCORRECT && pin != NULL)
            t->failed_pin = fp;
        p11_err_set(rv, "C_Login on token '%s'", t->label);
    }
end:
    pthread_mutex_unlock(&t->login_lock);
    p11_pin_free(pin, len);
    return rv;
}

CK_RV p11_token_refind(p11_token *t)
{
    char uri[160];
    P11KitUri *u = NULL;
    CK_TOKEN_INFO ti;
    CK_SLOT_ID slot = 0;
    CK_RV rv;

    /* By label and serial: the URI's other attributes matched the same token before. */
    memset(&ti, ' ', sizeof(ti));
    memcpy(ti.label, t->label, strlen(t->label));
    memcpy(ti.serialNumber, t->serial, strlen(t->serial));
    u = p11_kit_uri_new();
    if (u == NULL)
        return p11_err_set(P11_R_OUT_OF_MEMORY, "URI");
    memcpy(p11_kit_uri_get_token_info(u)->label, ti.label, sizeof(ti.label));
    memcpy(p11_kit_uri_get_token_info(u)->serialNumber, ti.serialNumber, sizeof(ti.serialNumber));
    snprintf(uri, sizeof(uri), "pkcs11:token=%s;serial=%s", t->label, t->serial);
    /* Once, without a reload: the caller holds the gate and t->lock. */
    rv = token_find_once(t->m, u, uri, &slot, &ti);
    p11_kit_uri_free(u);
    if (rv == CKR_OK)
        t->slot = slot; /* caller holds t->lock */
    return rv;
}
