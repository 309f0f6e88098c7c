/*
 * p11_rsa.c - RSA decryption, encryption and signing in the token (PKCS#11 v2.40 curr.
 * mechanisms section 2.1.6 CKM_RSA_PKCS, 2.1.8 CKM_RSA_PKCS_OAEP with CK_RSA_PKCS_OAEP_PARAMS,
 * 2.1.10 CKM_RSA_PKCS_PSS with CK_RSA_PKCS_PSS_PARAMS).
 *
 * The hot path is: a pooled session (one mutex), C_DecryptInit, one C_Decrypt into the
 * caller's modulus-sized buffer, the session back. Object handles come from the key's cache;
 * nothing is searched, read or allocated unless the cache is stale.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "p11_key_internal.h"
#include "p11_rsa.h"

static const struct {
    const char *name;
    CK_MECHANISM_TYPE hash;
    CK_RSA_PKCS_MGF_TYPE mgf;
} hashes[] = {
    [P11_HASH_SHA1] = {"SHA-1", CKM_SHA_1, CKG_MGF1_SHA1},
    [P11_HASH_SHA224] = {"SHA-224", CKM_SHA224, CKG_MGF1_SHA224},
    [P11_HASH_SHA256] = {"SHA-256", CKM_SHA256, CKG_MGF1_SHA256},
    [P11_HASH_SHA384] = {"SHA-384", CKM_SHA384, CKG_MGF1_SHA384},
    [P11_HASH_SHA512] = {"SHA-512", CKM_SHA512, CKG_MGF1_SHA512},
};
#define HASH_COUNT (sizeof(hashes) / sizeof(hashes[0]))

const char *p11_hash_name(p11_hash h)
{
    return (unsigned)h < HASH_COUNT ? hashes[h].name : "unknown hash";
}

typedef struct rsa_mech {
    CK_MECHANISM m;
    CK_RSA_PKCS_OAEP_PARAMS oaep;
    CK_RSA_PKCS_PSS_PARAMS pss;
} rsa_mech;

/* What one attempt does with the key: the private object decrypts and signs. */
typedef enum rsa_op { RSA_OP_ENCRYPT, RSA_OP_DECRYPT, RSA_OP_SIGN } rsa_op;

static const char *const op_init_fn[] = {"C_EncryptInit", "C_DecryptInit", "C_SignInit"};
static const char *const op_fn[] = {"C_Encrypt", "C_Decrypt", "C_Sign"};

static CK_RV mech_set(rsa_mech *rm, const p11_key *k, const p11_rsa_params *p)
{
    if (p == NULL || p->padding == P11_RSA_PKCS1) {
        rm->m = (CK_MECHANISM){CKM_RSA_PKCS, NULL, 0};
        return CKR_OK;
    }
    if (p->padding == P11_RSA_RAW) {
        rm->m = (CK_MECHANISM){CKM_RSA_X_509, NULL, 0};
        return CKR_OK;
    }
    if (p->padding == P11_RSA_OAEP && p->label_len > 0 && (k->t->quirks & P11_QUIRK_OAEP_NO_LABEL))
        return p11_err_set(P11_R_UNSUPPORTED,
                           "token '%s' cannot do RSA-OAEP with a label (it would ignore it)",
                           k->t->label);
    if (p->padding != P11_RSA_OAEP || (unsigned)p->oaep_hash >= HASH_COUNT ||
        (unsigned)p->mgf1_hash >= HASH_COUNT)
        return p11_err_set(P11_R_UNSUPPORTED, "RSA padding or OAEP hash");
    rm->oaep.hashAlg = hashes[p->oaep_hash].hash;
    rm->oaep.mgf = hashes[p->mgf1_hash].mgf;
    rm->oaep.source = CKZ_DATA_SPECIFIED;
    rm->oaep.pSourceData = p->label_len > 0 ? (void *)p->label : NULL;
    rm->oaep.ulSourceDataLen = p->label_len;
    rm->m = (CK_MECHANISM){CKM_RSA_PKCS_OAEP, &rm->oaep, sizeof(rm->oaep)};
    return CKR_OK;
}

static int rv_param_refused(CK_RV rv)
{
    return rv == CKR_ARGUMENTS_BAD || rv == CKR_MECHANISM_PARAM_INVALID ||
           rv == CKR_MECHANISM_INVALID;
}

/* The token refuses these OAEP parameters at Init (SoftHSM 2.6.1: CKR_ARGUMENTS_BAD for
 * anything but SHA-1): name the hash rather than leave the caller with a bare CKR. */
static CK_RV init_failed(p11_key *k, const p11_rsa_params *p, const char *fn, CK_RV rv)
{
    if (p != NULL && p->padding == P11_RSA_OAEP && rv_param_refused(rv)) {
        return p11_err_set(
            P11_R_OAEP_HASH, "token '%s' cannot do RSA-OAEP with %s%s%s (%s: %s)", k->t->label,
            p11_hash_name(p->oaep_hash), p->mgf1_hash != p->oaep_hash ? " and MGF1 with " : "",
            p->mgf1_hash != p->oaep_hash ? p11_hash_name(p->mgf1_hash) : "", fn, p11_rv_name(rv));
    }
    return p11_err_set(rv, "%s with key '%s' on token '%s'", fn, p11_key_label(k), k->t->label);
}

static int rv_handle_gone(CK_RV rv)
{
    return rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID;
}

/* One attempt of op in session s; *stage says which call failed: 0 finding the handles,
 * 1 the Init, 2 the operation. */
static CK_RV rsa_once(p11_key *k, p11_session *s, const rsa_mech *rm, rsa_op op, const uint8_t *in,
                      size_t in_len, uint8_t *out, CK_ULONG *out_len, int *stage)
{
    CK_FUNCTION_LIST *f = k->t->f;
    CK_OBJECT_HANDLE priv, pub;
    CK_RV rv;

    *stage = 0;
    rv = p11_key_handles(k, s, &priv, &pub);
    if (rv != CKR_OK)
        return rv;
    *stage = 1;
    if (op == RSA_OP_DECRYPT)
        rv = f->C_DecryptInit(s->h, (CK_MECHANISM *)&rm->m, priv);
    else if (op == RSA_OP_SIGN)
        rv = f->C_SignInit(s->h, (CK_MECHANISM *)&rm->m, priv);
    else
        rv = f->C_EncryptInit(s->h, (CK_MECHANISM *)&rm->m, pub);
    if (rv != CKR_OK)
        return rv;
    *stage = 2;
    if (op == RSA_OP_DECRYPT)
        return f->C_Decrypt(s->h, (CK_BYTE *)in, in_len, out, out_len);
    if (op == RSA_OP_SIGN)
        return f->C_Sign(s->h, (CK_BYTE *)in, in_len, out, out_len);
    return f->C_Encrypt(s->h, (CK_BYTE *)in, in_len, out, out_len);
}

/* A key whose usage attributes forbid this operation: PKCS#11 v2.40 section 5.2 (C_SignInit and
 * friends return CKR_KEY_FUNCTION_NOT_PERMITTED or CKR_KEY_TYPE_INCONSISTENT). */
static int rv_not_permitted(CK_RV rv)
{
    return rv == CKR_KEY_FUNCTION_NOT_PERMITTED || rv == CKR_KEY_TYPE_INCONSISTENT;
}

static CK_RV rsa_error(p11_key *k, const p11_rsa_params *p, rsa_op op, int stage, CK_RV rv)
{
    static const char *const verb[] = {"encrypt", "decrypt", "sign"};

    if (stage == 0)
        return rv; /* p11_key_handles said what failed */
    if (stage == 1 && op == RSA_OP_SIGN && rv_not_permitted(rv))
        return p11_err_set(rv, "key '%s' on token '%s' is not permitted to %s (%s: %s)",
                           p11_key_label(k), k->t->label, verb[op], op_init_fn[op],
                           p11_rv_name(rv));
    if (stage == 1 && op == RSA_OP_SIGN && rv_param_refused(rv))
        return p11_err_set(P11_R_UNSUPPORTED,
                           "token '%s' cannot sign with these parameters (%s: %s)", k->t->label,
                           op_init_fn[op], p11_rv_name(rv));
    if (stage == 1)
        return init_failed(k, p, op_init_fn[op], rv);
    return p11_err_set(rv, "%s with key '%s' on token '%s'", op_fn[op], p11_key_label(k),
                       k->t->label);
}

/* Retry rule: a session, login or token gone, or a stale object handle, is mended once. */
static CK_RV rsa_run(p11_key *k, const p11_rsa_params *p, const rsa_mech *rm, rsa_op op,
                     const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    int dec = op == RSA_OP_DECRYPT;
    p11_session s;
    CK_ULONG len;
    int stage;
    CK_RV rv;

    for (int attempt = 0;; attempt++) {
        rv = p11_session_get(k->t, &s);
        if (rv != CKR_OK)
            return rv;
        len = *out_len;
        rv = rsa_once(k, &s, rm, op, in, in_len, out, &len, &stage);
        if (rv == CKR_OK) {
            p11_session_put(k->t, s);
            *out_len = len;
            return CKR_OK;
        }
        if (dec)
            p11_wipe(out, *out_len); /* no partial plaintext leaves */
        if (rv_handle_gone(rv) && p11_session_logged_out(k->t, s.h))
            rv = CKR_USER_NOT_LOGGED_IN;
        if (p11_rv_session_gone(rv)) {
            p11_session_drop(k->t, s, rv);
        } else if (stage == 2 && rv == CKR_BUFFER_TOO_SMALL) {
            p11_session_drop(k->t, s, rv); /* the operation is still active in it */
            attempt = 1;
        } else {
            if (rv_handle_gone(rv))
                p11_key_handles_forget(k);
            else
                attempt = 1;
            p11_session_put(k->t, s);
        }
        if (attempt == 1)
            return rsa_error(k, p, op, stage, rv);
    }
}

static CK_RV rsa_mech_run(p11_key *k, const p11_rsa_params *p, rsa_op op, const uint8_t *in,
                          size_t in_len, uint8_t *out, size_t *out_len)
{
    rsa_mech rm;
    CK_RV rv = mech_set(&rm, k, p);

    return rv != CKR_OK ? rv : rsa_run(k, p, &rm, op, in, in_len, out, out_len);
}

CK_RV p11_rsa_decrypt(p11_key *k, const p11_rsa_params *p, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t *out_len)
{
    if (!k->has_priv)
        return p11_err_set(k->t->pin_spec == NULL ? P11_R_NO_PIN : P11_R_OBJECT_NOT_FOUND,
                           "key '%s' on token '%s' has no private half", p11_key_label(k),
                           k->t->label);
    if (out == NULL || out_len == NULL || *out_len < k->n_len)
        return p11_err_set(P11_R_BAD_ARGUMENT, "RSA decrypt: output smaller than the modulus");
    return rsa_mech_run(k, p, RSA_OP_DECRYPT, in, in_len, out, out_len);
}

CK_RV p11_rsa_encrypt(p11_key *k, const p11_rsa_params *p, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t *out_len)
{
    if (!k->has_pub)
        return p11_err_set(P11_R_NO_PUBLIC_OBJECT, "token '%s' keeps no public object for key '%s'",
                           k->t->label, p11_key_label(k));
    if (out == NULL || out_len == NULL || *out_len < k->n_len)
        return p11_err_set(P11_R_BAD_ARGUMENT, "RSA encrypt: output smaller than the modulus");
    return rsa_mech_run(k, p, RSA_OP_ENCRYPT, in, in_len, out, out_len);
}

/* PKCS#1 v1.5 signs the caller's DigestInfo with CKM_RSA_PKCS (section 2.1.6), not with
 * CKM_SHA256_RSA_PKCS and friends: the message is hashed in memory by OpenSSL, so only the
 * digest crosses to the token, once, whatever the message's size. PSS likewise signs the hash
 * value with CKM_RSA_PKCS_PSS (section 2.1.10: "the input is the hash of the message"). */
CK_RV p11_rsa_sign(p11_key *k, const p11_rsa_sign_params *p, const uint8_t *in, size_t in_len,
                   uint8_t *sig, size_t *sig_len)
{
    rsa_mech rm = {0};
    CK_RV rv;

    if (!k->has_priv)
        return p11_err_set(k->t->pin_spec == NULL ? P11_R_NO_PIN : P11_R_OBJECT_NOT_FOUND,
                           "key '%s' on token '%s' has no private half", p11_key_label(k),
                           k->t->label);
    if (p == NULL || sig == NULL || sig_len == NULL || *sig_len < k->n_len)
        return p11_err_set(P11_R_BAD_ARGUMENT, "RSA sign: output smaller than the modulus");
    if (p->padding == P11_SIG_PKCS1) {
        rm.m = (CK_MECHANISM){CKM_RSA_PKCS, NULL, 0};
    } else if (p->padding == P11_SIG_PSS && (unsigned)p->hash < HASH_COUNT &&
               (unsigned)p->mgf1_hash < HASH_COUNT) {
        rm.pss.hashAlg = hashes[p->hash].hash;
        rm.pss.mgf = hashes[p->mgf1_hash].mgf;
        rm.pss.sLen = p->salt_len;
        rm.m = (CK_MECHANISM){CKM_RSA_PKCS_PSS, &rm.pss, sizeof(rm.pss)};
    } else {
        return p11_err_set(P11_R_UNSUPPORTED, "RSA signature padding or hash");
    }
    rv = rsa_run(k, NULL, &rm, RSA_OP_SIGN, in, in_len, sig, sig_len);
    if (rv == P11_R_UNSUPPORTED && p->padding == P11_SIG_PSS) {
        char why[256];

        snprintf(why, sizeof(why), "%s", p11_err_detail()); /* the detail is rewritten below */
        return p11_err_set(rv, "RSA-PSS with %s, MGF1 with %s and a %zu-byte salt: %s",
                           p11_hash_name(p->hash), p11_hash_name(p->mgf1_hash), p->salt_len, why);
    }
    return rv;
}

/* Does the token really do OAEP with hash h? A round trip through its public object when it
 * keeps one; otherwise whether it accepts C_DecryptInit (the operation is then ended by a
 * C_Decrypt of an all-zero block, which fails its padding check: section 5.9).
 * *verdict: 1 yes, 0 no, -1 this key cannot tell (e.g. CKA_DECRYPT false). */
static CK_RV oaep_try(p11_key *k, p11_session *s, p11_hash h, uint8_t *buf, uint8_t *out,
                      int *verdict)
{
    static const uint8_t probe[16] = "cmk-oaep-probe!";
    p11_rsa_params p = {P11_RSA_OAEP, h, h, NULL, 0};
    CK_FUNCTION_LIST *f = k->t->f;
    CK_OBJECT_HANDLE priv, pub;
    CK_ULONG len = k->n_len;
    rsa_mech rm;
    int stage = 0;
    CK_RV rv = p11_key_handles(k, s, &priv, &pub);

    *verdict = -1;
    mech_set(&rm, k, &p);
    if (rv != CKR_OK)
        return p11_rv_session_gone(rv) ? rv : CKR_OK;
    if (k->has_pub) {
        rv = rsa_once(k, s, &rm, RSA_OP_ENCRYPT, probe, sizeof(probe), buf, &len, &stage);
        if (rv == CKR_OK) {
            CK_ULONG out_len = k->n_len;

            rv = rsa_once(k, s, &rm, RSA_OP_DECRYPT, buf, len, out, &out_len, &stage);
            if (rv == CKR_OK)
                *verdict = out_len == sizeof(probe) && memcmp(out, probe, out_len) == 0;
        }
    } else {
        stage = 1;
        rv = f->C_DecryptInit(s->h, &rm.m, priv);
        if (rv == CKR_OK) {
            *verdict = 1;
            memset(buf, 0, k->n_len);
            f->C_Decrypt(s->h, buf, k->n_len, out, &len);
        }
    }
    if (rv != CKR_OK && stage == 1 && rv_param_refused(rv))
        *verdict = 0;
    return p11_rv_session_gone(rv) ? rv : CKR_OK;
}

struct oaep_arg {
    p11_key *k;
    unsigned mask;
    int definite;
};

static CK_RV oaep_probe(p11_token *t, p11_session *s, void *arg)
{
    struct oaep_arg *a = arg;
    uint8_t *buf = malloc(2 * a->k->n_len);
    CK_RV rv = CKR_OK;

    (void)t;
    a->mask = 0;
    a->definite = 1;
    if (buf == NULL)
        return p11_err_set(P11_R_OUT_OF_MEMORY, "OAEP probe");
    for (unsigned h = 0; h < HASH_COUNT && rv == CKR_OK; h++) {
        int verdict;

        rv = oaep_try(a->k, s, (p11_hash)h, buf, buf + a->k->n_len, &verdict);
        if (verdict == 1)
            a->mask |= 1u << h;
        if (verdict < 0)
            a->definite = 0;
    }
    p11_wipe(buf, 2 * a->k->n_len);
    free(buf);
    return rv;
}

unsigned p11_rsa_oaep_hashes(p11_key *k)
{
    struct oaep_arg a = {k, 0, 0};
    unsigned cached = atomic_load(&k->t->oaep_mask);

    if (cached != 0)
        return cached - 1;
    if (!k->has_priv || p11_token_run(k->t, oaep_probe, &a) != CKR_OK)
        return 0;
    /* Cached for the token only when this key could answer for every hash. */
    if (a.definite)
        atomic_store(&k->t->oaep_mask, a.mask + 1);
    return a.mask;
}
