/*
 * testprov.h - what the provider's black-box tests (test_provider_*.c) share. They reach cmk
 * only as an application would: a library context configured by $OPENSSL_CONF (the test
 * token's openssl.cnf, which loads cmk and default), keys opened with OSSL_STORE from
 * pkcs11: URIs, and EVP calls. Keys are put into the token by build/cmk-keygen, run as a
 * separate process, so the test process holds no PKCS#11 state of its own.
 *
 * Functions that fail print why (and drain OpenSSL's error queue into the message).
 */
#ifndef CMK_TESTPROV_H
#define CMK_TESTPROV_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <CUnit/CUnit.h>
#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

/* A new library context configured by $OPENSSL_CONF. NULL, with *why set, when the test
 * environment is absent or cmk is not available in it. */
OSSL_LIB_CTX *testprov_libctx_new(const char **why);

/* "pkcs11:token=$CMK_TEST_TOKEN;object=<label>" into buf. */
void testprov_key_uri(char *buf, size_t size, const char *label);

/* Opens the key labelled label in the test token through OSSL_STORE; NULL if none. */
EVP_PKEY *testprov_key_load(OSSL_LIB_CTX *libctx, const char *label);

/* Runs build/cmk-keygen on the test token: imports the PEM private key in import_pem (when not
 * NULL) or generates an RSA-2048 decrypt key; writes the public key to pubout (when not NULL).
 * Returns 1 on success. */
int testprov_key_make(const char *label, const char *import_pem, const char *pubout);

/* The same in the token labelled token (spaces allowed). */
EVP_PKEY *testprov_key_load_in(OSSL_LIB_CTX *libctx, const char *token, const char *label);

/* A token cmk-keygen can reach: module path, token label, PIN file, and C_Initialize's
 * pReserved (NULL for none; NSS softokn needs configdir=). */
typedef struct testprov_token {
    const char *module, *token, *pin_file, *init_args;
} testprov_token;

/* testprov_key_make in token t rather than the test token of the environment. */
int testprov_key_make_in(const testprov_token *t, const char *label, const char *import_pem,
                         const char *pubout);

/* The token key labelled label, made by cmk-keygen (generated in the token) if the token has
 * none yet, with its public key as PEM in $CMK_TEST_DIR/<label>.pub.pem (returned in pub_path
 * when not NULL). NULL when it cannot be had. */
EVP_PKEY *testprov_key_get(OSSL_LIB_CTX *libctx, const char *label, char *pub_path,
                           size_t pub_size);

/* A public key read from a PEM file in the given library context (use one without cmk to
 * have OpenSSL's default provider do the encryption). */
EVP_PKEY *testprov_pubkey_read(OSSL_LIB_CTX *libctx, const char *path);

/* RSA padding and its parameters for testprov_decrypt / testprov_encrypt. */
typedef struct testprov_rsa {
    int padding;          /* RSA_PKCS1_OAEP_PADDING or RSA_PKCS1_PADDING */
    const char *md;       /* OAEP: "SHA1", "SHA256" (MGF1 uses the same) */
    const uint8_t *label; /* OAEP label, NULL or empty for none */
    size_t label_len;
} testprov_rsa;
extern const testprov_rsa testprov_oaep_sha1;

/* Sets padding and OAEP parameters on a ctx after EVP_PKEY_{en,de}crypt_init. */
int testprov_rsa_set(EVP_PKEY_CTX *ctx, const testprov_rsa *p);

/* One-shot EVP_PKEY_decrypt / EVP_PKEY_encrypt with a fresh EVP_PKEY_CTX. *out_len: capacity
 * on entry, length on return. Return 1/0; on 0 the error queue is left for the caller. */
int testprov_decrypt(OSSL_LIB_CTX *libctx, EVP_PKEY *key, const testprov_rsa *p, const uint8_t *in,
                     size_t in_len, uint8_t *out, size_t *out_len);
int testprov_encrypt(OSSL_LIB_CTX *libctx, EVP_PKEY *key, const testprov_rsa *p, const uint8_t *in,
                     size_t in_len, uint8_t *out, size_t *out_len);

/* Wrapped keys for unwrap tests: a random 32-byte key and its RSA-OAEP (SHA-1) wrapping. */
#define TESTPROV_KEY_BYTES   32
#define TESTPROV_WRAPPED_MAX 512
typedef struct testprov_wrapped {
    uint8_t plain[TESTPROV_KEY_BYTES];
    uint8_t wrapped[TESTPROV_WRAPPED_MAX];
    size_t wrapped_len;
} testprov_wrapped;

/* Fills w[0..n) with random keys wrapped under the public key in pub_path by OpenSSL's default
 * provider, in a library context without cmk: the token then unwraps what any RSA-OAEP
 * encryptor made. Returns 1/0. */
int testprov_wrap_random(const char *pub_path, testprov_wrapped *w, size_t n);

/* What the unwrap tests share: a library context with cmk, the token key labelled label (made
 * by cmk-keygen if need be) and n keys wrapped under it. Returns the key, or NULL with *why
 * set; *libctx is set whenever it could be made. */
EVP_PKEY *testprov_unwrap_setup(OSSL_LIB_CTX **libctx, const char *label, testprov_wrapped *w,
                                size_t n, const char **why);

/* main() of the unwrap tests (test_provider_contexts, _fork, _threads): testprov_unwrap_setup
 * with the key TESTPROV_UNWRAP_LABEL into *libctx, *key and *why (the tests skip, saying why,
 * where *key is NULL), then tests (ended by CU_TEST_INFO_NULL) run as the suite named suite;
 * the key and the context are freed last. Returns the program's exit status: testlib_run's, or
 * 2 when CUnit cannot start. */
#define TESTPROV_UNWRAP_LABEL "ptest-unwrap"
int testprov_unwrap_main(const char *suite, const CU_TestInfo *tests, OSSL_LIB_CTX **libctx,
                         EVP_PKEY **key, const char **why, testprov_wrapped *w, size_t n);

/* In an unwrap test: when the setup gave no key, skips test saying why and returns 1. */
int testprov_unwrap_skipped(const char *test, const EVP_PKEY *key, const char *why);

/* A ctx ready to unwrap with key: EVP_PKEY_decrypt_init and RSA-OAEP SHA-1. NULL on failure. */
EVP_PKEY_CTX *testprov_unwrap_ctx(OSSL_LIB_CTX *libctx, EVP_PKEY *key);

/* Unwraps w with ctx: 1 when it gives w->plain, 0 when it fails (error queue left), -1 when
 * it gives another plaintext. */
int testprov_unwrap_check(EVP_PKEY_CTX *ctx, const testprov_wrapped *w);

/* What one thread's unwraps gave, for the tests that unwrap from many threads; the counters
 * may be read by another thread while this one counts. */
typedef struct testprov_tally {
    atomic_ulong ok, failed, wrong;
    char first_error[512]; /* the errors of the first failure */
} testprov_tally;

/* Unwraps w with ctx (testprov_unwrap_check), counts the result in t and clears this thread's
 * error queue. */
void testprov_unwrap_count(EVP_PKEY_CTX *ctx, const testprov_wrapped *w, testprov_tally *t);

/* Drains this thread's error queue into one line per error ("reason: data"); caller frees.
 * Returns "" (allocated) when the queue was empty. */
char *testprov_errors(void);

/* Runs this program again (/proc/self/exe) with the given arguments (NULL-terminated) and
 * returns its exit status, or -1 when it did not exit normally (the signal is printed). */
int testprov_self_run(const char *arg, ...);

/* Starts this program again with the given arguments without waiting: returns its pid, or -1.
 * testprov_wait returns its exit status as testprov_self_run does. */
int testprov_self_spawn(const char *arg, ...);
int testprov_wait(int pid);

/* Heap bytes in use (mallinfo2), for growth checks. */
size_t testprov_heap_bytes(void);

/* ---- the session observer: the test token seen from outside the provider ----
 * The module $CMK_TEST_MODULE, opened by the test itself (dlopen gives the same instance the
 * provider uses, so its sessions are visible), initialized if need be and never finalized.
 * testprov_p11_observe returns its function list and sets *slot to the slot of
 * $CMK_TEST_TOKEN; NULL when either cannot be had. Not thread-safe: call it once, first. */
CK_FUNCTION_LIST *testprov_p11_observe(CK_SLOT_ID *slot);

/* Sessions this process has open on the observed token, or -1. SoftHSM 2.6.1 reports
 * ulSessionCount as CK_UNAVAILABLE_INFORMATION, so they are counted with C_GetSessionInfo on
 * handles 1..TESTPROV_SESSION_HANDLES (SoftHSM numbers them from 1 by position in its table). */
#define TESTPROV_SESSION_HANDLES 4096
long testprov_sessions_open(void);

#endif
