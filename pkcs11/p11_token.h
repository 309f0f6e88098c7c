/*
 * p11_token.h - one token: its slot, login state and session pool.
 *
 * A token is opened from a module and a pkcs11: URI (RFC 7512; only the token attributes
 * token=, manufacturer=, serial=, model=, slot-id= are used here; NULL or "pkcs11:" takes the
 * first present token). The PIN comes from the URI's pin-value/pin-source, else from the
 * pin_spec given at open: "file:PATH", "env:VAR", or a literal. It is used to log in once per
 * token; a wrong PIN is reported as CKR_PIN_INCORRECT and never retried; when the token flags
 * CKF_USER_PIN_FINAL_TRY, a PIN that already failed is not tried again (P11_R_PIN_ALREADY_FAILED).
 *
 * Sessions: each concurrent caller gets its own session, up to the token's ulMaxSessionCount
 * (then callers wait, they do not fail). Sessions are reused. When a call fails with
 * CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT
 * or CKR_USER_NOT_LOGGED_IN, the session is dropped, a new one opened and logged in, and the
 * operation retried once (p11_token_run) before the caller sees the error.
 *
 * Thread safety: a token may be used from any number of threads at once.
 */
#ifndef CMK_P11_TOKEN_H
#define CMK_P11_TOKEN_H

#include "p11_module.h"

typedef struct p11_token p11_token;

/* The token holds a reference to m. Fails with P11_R_BAD_URI or P11_R_TOKEN_NOT_FOUND; the
 * login happens later, with the first session. */
CK_RV p11_token_open(p11_module *m, const char *uri, const char *pin_spec, p11_token **out);
/* Takes another reference (keys hold one). */
p11_token *p11_token_ref(p11_token *t);
/* Drops a reference; the last one closes the token's sessions (leaving the module
 * initialized) and puts the module. NULL is a no-op. */
void p11_token_free(p11_token *t);

/* Does this token match the token attributes of uri? (Used to reuse an open token.) */
int p11_token_matches(const p11_token *t, const char *uri);

const char *p11_token_label(const p11_token *t); /* trailing blanks removed */
p11_module *p11_token_module(const p11_token *t);

/* Number of sessions currently open on the token by this process (for leak tests). */
unsigned long p11_token_session_count(const p11_token *t);

/* The most sessions opened on the token at once (callers beyond it wait): the token's
 * ulMaxSessionCount, at most 64. p11_token_session_limit_set may lower it (to at least 1);
 * it returns the limit in effect. */
unsigned long p11_token_session_limit(const p11_token *t);
unsigned long p11_token_session_limit_set(p11_token *t, unsigned long max);

/* Makes a token in a free slot: C_InitToken with the SO PIN, then C_InitPIN with the user PIN.
 * PINs are given as pin specs (file:/env:/literal), never logged. */
CK_RV p11_token_init(p11_module *m, const char *label, const char *so_pin_spec,
                     const char *user_pin_spec);

#endif
