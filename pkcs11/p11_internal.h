/*
 * p11_internal.h - what the files of pkcs11/ share, and nothing outside pkcs11/ sees:
 * the module's function list, the token and its session pool, PIN and URI helpers.
 *
 * Epochs: a token's sessions, login state and the object handles cached by keys are valid for
 * one token epoch. The epoch moves on when the module was re-initialized (fork), when the token
 * went away (it may be back in another slot) and when a session was found closed behind our
 * back. Sessions and handles of an older epoch are never used again.
 */
#ifndef CMK_P11_INTERNAL_H
#define CMK_P11_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <p11-kit/uri.h>
#include "p11_module.h"
#include "p11_token.h"

/* ---- quirks (p11_quirks.c) ---- */
#define P11_QUIRK_NO_FINALIZE    0x01u /* never C_Finalize (at exit or last put) */
#define P11_QUIRK_OAEP_SHA1_ONLY 0x02u /* informative: the probe finds it anyway */
#define P11_QUIRK_FORK_FINALIZE  0x04u /* child: C_Finalize before C_Initialize */
#define P11_QUIRK_OAEP_NO_LABEL  0x08u /* OAEP only with an empty label */

#define P11_QUIRK_TOKEN_READ_RACE                                                                  \
    0x200u /* token unseen, login fails while another process writes */
#define P11_READ_RACE_TRIES   10
#define P11_READ_RACE_WAIT_US 20000

/* Quirk flags for a module, from its C_GetInfo. */
unsigned p11_quirks_get(const CK_INFO *info);
/* Is rv one of the passing failures of P11_QUIRK_TOKEN_READ_RACE (and does m have it)? Then
 * a reload of the module and another try a moment later succeed. */
int p11_quirks_read_race(const p11_module *m, CK_RV rv);

/* ---- the gate (p11_gate.c) ----
 * Every thread that works in the layer (calls the module or takes one of the layer's mutexes)
 * holds the gate shared: p11_gate_get at the entry of a public function, p11_gate_put at its
 * exit; a session holds it from p11_session_get to p11_session_put/drop. Nested gets of a
 * thread are counted. Lock order: the gate before any mutex of the layer, and no thread waits
 * for the gate while it holds one (nor holds the gate while waiting for something a thread
 * outside the gate must do first). fork() (through pthread_atfork) and module re-initializations
 * take it exclusively: no other thread of the process is then inside the module or holds a
 * mutex of the layer. */
void p11_gate_init(void); /* registers the fork handlers, once */
void p11_gate_get(void);
void p11_gate_put(void);
int p11_gate_held(void); /* does this thread hold it (shared or exclusive)? */
/* Waits until no other thread holds it; fails (P11_R_BAD_ARGUMENT) if this thread does. */
CK_RV p11_gate_lock(void);
void p11_gate_unlock(void);

/* Quirk flags of the token behind a slot, from its C_GetTokenInfo: what the token itself does
 * wrong follows it behind a module that forwards to it (p11-kit's client names itself in
 * C_GetInfo, and the token still says what it is). */
unsigned p11_quirks_token_get(const CK_TOKEN_INFO *ti);

/* ---- module (p11_module.c) ---- */
struct p11_module {
    char *path;
    char *description;
    char *init_args;
    CK_FUNCTION_LIST *f;
    CK_INFO info;
    unsigned quirks;
    int we_initialized;      /* C_Initialize was ours (not CKR_CRYPTOKI_ALREADY_INITIALIZED) */
    int refs;                /* guarded by the module list lock */
    _Atomic pid_t pid;       /* the process that initialized it */
    atomic_ulong generation; /* changed with the gate held exclusively */
    struct p11_module *next;
};

/* Takes another reference to m. */
p11_module *p11_module_ref(p11_module *m);

/* ---- PIN (p11_pin.c) ---- */
/* Resolves a pin spec ("file:PATH", "env:VAR", or a literal when allow_literal) into a new
 * NUL-terminated buffer the caller releases with p11_pin_free (which wipes it). */
CK_RV p11_pin_resolve(const char *spec, int allow_literal, char **pin, size_t *len);
void p11_pin_free(char *pin, size_t len);
/* Salted fingerprint of a PIN, for "did this PIN fail before" only. */
uint64_t p11_pin_fingerprint(const char *pin, size_t len);
void p11_wipe(void *p, size_t len);

/* ---- URI (p11_uri.c) ---- */
/* Parses a pkcs11: URI (NULL or "" means "pkcs11:"); fails with P11_R_BAD_URI. */
CK_RV p11_uri_parse(const char *s, P11KitUri **out);
/* Does the URI's token part (token, manufacturer, serial, model, slot-id, slot-*) match? */
int p11_uri_match_token(P11KitUri *uri, CK_SLOT_ID slot, const CK_SLOT_INFO *si,
                        const CK_TOKEN_INFO *ti);
/* Object part: CKA_LABEL, CKA_ID, CKA_CLASS (type=), each NULL/absent when not in the URI. */
const CK_ATTRIBUTE *p11_uri_object_attr(P11KitUri *uri, CK_ATTRIBUTE_TYPE type);
/* The pin spec a URI carries: pin-value (literal) or pin-source (file:/env:); NULL if none.
 * *literal tells which. */
const char *p11_uri_pin(P11KitUri *uri, int *literal);
/* Copies a blank-padded PKCS#11 string into a NUL-terminated one without trailing blanks. */
void p11_uri_unpad(char *dst, const CK_UTF8CHAR *src, size_t src_len);

/* ---- token and sessions (p11_token.c, p11_session.c) ---- */
#define P11_SESSION_CAP 64 /* sessions per token when the token says "effectively infinite" */

typedef struct p11_session {
    CK_SESSION_HANDLE h;
    unsigned long epoch;
} p11_session;

struct p11_token {
    p11_module *m;
    CK_FUNCTION_LIST *f;
    atomic_int refs;
    char *uri;
    char label[33], serial[17], manufacturer[33], model[17];
    unsigned quirks; /* the module's and the token's own (p11_quirks.c) */

    /* guarded by lock */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    CK_SLOT_ID slot;
    CK_FLAGS flags;
    unsigned long epoch;      /* see above */
    unsigned long floor;      /* sessions older than this belong to a dead process image */
    unsigned long module_gen; /* module generation the epoch belongs to */
    unsigned long nopen, max;
    CK_SESSION_HANDLE *free_list; /* LIFO of idle sessions, capacity max */
    unsigned long nfree;

    /* login, guarded by login_lock */
    pthread_mutex_t login_lock;
    char *pin_spec; /* wiped at free: it is the PIN itself when pin_literal */
    int pin_literal;
    unsigned long logged_in_epoch; /* 0: not logged in */
    uint64_t failed_pin;           /* fingerprint of the PIN that failed; 0 none */
    unsigned long login_calls;     /* C_Login calls made (tests) */
    CK_FLAGS test_flags;           /* ORed into token flags (tests) */

    /* OAEP probe cache (p11_rsa.c): mask + 1, 0 = not probed */
    atomic_uint oaep_mask;
};

/* A session for the calling thread: an idle one, a new one (logged in when a PIN is set) or,
 * at the limit, the next one put back. It holds the thread's gate until the same thread puts
 * or drops it. Retries SoftHSM's read race (p11_module_read_race_retry). */
CK_RV p11_session_get(p11_token *t, p11_session *s);
/* Returns a session to the pool. */
void p11_session_put(p11_token *t, p11_session s);
/* Retires a session after rv said the session, login or token is gone: everything of the
 * current epoch is dropped, and the token is re-found when it went away. */
void p11_session_drop(p11_token *t, p11_session s, CK_RV rv);
/* Does rv mean "drop the session, open a new one and retry once"? */
int p11_rv_session_gone(CK_RV rv);
/* Is session h logged out although this token has a PIN (someone logged us out)? */
int p11_session_logged_out(p11_token *t, CK_SESSION_HANDLE h);
/* Closes every idle session (token free). */
void p11_session_close_all(p11_token *t);

/* Logs the token in (once per epoch) using session h. */
CK_RV p11_token_login(p11_token *t, CK_SESSION_HANDLE h, unsigned long epoch);
/* Re-finds the token's slot by label and serial (the token may be back in another slot). */
CK_RV p11_token_refind(p11_token *t);

/* Finalizes and initializes the module again, for a module whose view of its tokens went stale
 * (P11_QUIRK_TOKEN_READ_RACE): every session and handle of the old generation is dropped, as
 * after a fork. Takes the gate exclusively, so it waits for every other thread's call to end;
 * the caller must not hold it (P11_R_BAD_ARGUMENT). A no-op when the generation is no longer
 * gen (another thread reloaded meanwhile). */
CK_RV p11_module_reload(p11_module *m, unsigned long gen);
/* The read-race retry, for the outermost p11_token_open and p11_session_get: after try number
 * attempt (from 0) failed with rv, where gen was the module's generation before it, is it
 * P11_QUIRK_TOKEN_READ_RACE, and has the module been reloaded after a pause so that trying
 * again can work? 0 leaves rv's detail as it was. */
int p11_module_read_race_retry(p11_module *m, int attempt, unsigned long gen, CK_RV rv);

/* Runs fn with a session, with the retry-once rule. */
typedef CK_RV (*p11_session_fn)(p11_token *t, p11_session *s, void *arg);
CK_RV p11_token_run(p11_token *t, p11_session_fn fn, void *arg);

#endif
