/*
 * p11_key_internal.h - the key's fields and handle cache, shared by p11_key.c, p11_keygen.c
 * and p11_rsa.c only.
 */
#ifndef CMK_P11_KEY_INTERNAL_H
#define CMK_P11_KEY_INTERNAL_H

#include "p11_internal.h"
#include "p11_key.h"

struct p11_key {
    atomic_int refs;
    p11_token *t;
    char *label;
    uint8_t *id, *n, *e;
    size_t id_len, n_len, e_len;
    int has_priv, has_pub;

    /* Handle cache, a sequence lock: epoch 0 while being written. Readers take the handles
     * when the epoch they read before and after equals their session's epoch. */
    pthread_mutex_t lock;
    atomic_ulong epoch;
    atomic_ulong priv_h, pub_h;

    p11_data_hint state_hint; /* the key's state object (keystate/), p11_key_state_hint */
};

/* The key's handles valid in session s (re-found when s belongs to a newer epoch). */
CK_RV p11_key_handles(p11_key *k, p11_session *s, CK_OBJECT_HANDLE *priv, CK_OBJECT_HANDLE *pub);
/* Forgets the cached handles (the token said they are invalid). */
void p11_key_handles_forget(p11_key *k);

/* Reads one attribute of any length into a new buffer (caller frees). */
CK_RV p11_attr_read(p11_token *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                    uint8_t **val, size_t *len);

#endif
