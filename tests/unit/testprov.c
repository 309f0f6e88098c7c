/* testprov.c - library context, store, keygen, RSA and child-process helpers of the provider's
 * black-box tests. */
#include <dlfcn.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/store.h>
#include "testlib.h"
#include "testprov.h"

const testprov_rsa testprov_oaep_sha1 = {RSA_PKCS1_OAEP_PADDING, "SHA1", NULL, 0};

/* What the tests need that is not built yet, or NULL. */
static const char *missing(OSSL_LIB_CTX *libctx)
{
    static char why[4200];
    const char *build = testlib_env("CMK_BUILD");
    OSSL_STORE_LOADER *loader;
    char keygen[4096];

    snprintf(keygen, sizeof(keygen), "%s/cmk-keygen", build != NULL ? build : "build");
    if (access(keygen, X_OK) != 0) {
        snprintf(why, sizeof(why), "%s is not built (the PKCS#11 layer's keys are not in yet)",
                 keygen);
        return why;
    }
    ERR_set_mark();
    loader = OSSL_STORE_LOADER_fetch(libctx, "pkcs11", NULL);
    ERR_pop_to_mark();
    if (loader == NULL)
        return "the provider offers no pkcs11: store yet";
    OSSL_STORE_LOADER_free(loader);
    return NULL;
}

OSSL_LIB_CTX *testprov_libctx_new(const char **why)
{
    const char *conf = testlib_env("OPENSSL_CONF");
    OSSL_LIB_CTX *libctx;

    if (conf == NULL || testlib_env("CMK_TEST_TOKEN") == NULL) {
        *why = "no test token: run through make check (or source build/test-token/env)";
        return NULL;
    }
    if ((libctx = OSSL_LIB_CTX_new()) == NULL || !OSSL_LIB_CTX_load_config(libctx, conf) ||
        !OSSL_PROVIDER_available(libctx, "cmk")) {
        char *e = testprov_errors();

        printf("testprov: loading %s: %s\n", conf, e);
        free(e);
        OSSL_LIB_CTX_free(libctx);
        *why = "the cmk provider is not available through $OPENSSL_CONF";
        return NULL;
    }
    if ((*why = missing(libctx)) != NULL) {
        OSSL_LIB_CTX_free(libctx);
        return NULL;
    }
    return libctx;
}

void testprov_key_uri(char *buf, size_t size, const char *label)
{
    const char *token = testlib_env("CMK_TEST_TOKEN");

    snprintf(buf, size, "pkcs11:token=%s;object=%s", token != NULL ? token : "cmk-test", label);
}

EVP_PKEY *testprov_key_load(OSSL_LIB_CTX *libctx, const char *label)
{
    const char *token = testlib_env("CMK_TEST_TOKEN");

    return testprov_key_load_in(libctx, token != NULL ? token : "cmk-test", label);
}

EVP_PKEY *testprov_key_load_in(OSSL_LIB_CTX *libctx, const char *token, const char *label)
{
    char uri[512];
    size_t n;
    OSSL_STORE_CTX *sc;
    EVP_PKEY *key = NULL;

    /* RFC 7512: a space in the token label ("NSS Certificate DB") is percent-encoded */
    n = (size_t)snprintf(uri, sizeof(uri), "pkcs11:token=");
    for (const char *c = token; *c != '\0' && n + 4 < sizeof(uri); c++)
        n += (size_t)(*c == ' ' ? snprintf(uri + n, sizeof(uri) - n, "%%20")
                                : snprintf(uri + n, sizeof(uri) - n, "%c", *c));
    snprintf(uri + n, sizeof(uri) - n, ";object=%s", label);
    sc = OSSL_STORE_open_ex(uri, libctx, NULL, NULL, NULL, NULL, NULL, NULL);
    while (sc != NULL && key == NULL && !OSSL_STORE_eof(sc)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(sc);

        if (info == NULL) {
            if (OSSL_STORE_error(sc))
                break;
            continue;
        }
        if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            key = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(sc);
    return key;
}

/* Starts argv (a NULL-terminated vector); returns its pid or -1. */
static pid_t run_start(char *const argv[])
{
    pid_t pid;

    fflush(NULL);
    if ((pid = fork()) == 0) {
        execv(argv[0], argv);
        printf("testprov: exec %s failed\n", argv[0]);
        _exit(127);
    }
    return pid;
}

int testprov_wait(int pid)
{
    int status;

    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    if (WIFSIGNALED(status)) {
        printf("testprov: process %d died of signal %d\n", pid, WTERMSIG(status));
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Runs argv and returns its exit status, -1 if it did not exit. */
static int run_wait(char *const argv[])
{
    return testprov_wait(run_start(argv));
}

int testprov_key_make(const char *label, const char *import_pem, const char *pubout)
{
    testprov_token t = {testlib_env("CMK_TEST_MODULE"), testlib_env("CMK_TEST_TOKEN"),
                        testlib_env("CMK_TEST_PIN_FILE"), NULL};

    return testprov_key_make_in(&t, label, import_pem, pubout);
}

int testprov_key_make_in(const testprov_token *t, const char *label, const char *import_pem,
                         const char *pubout)
{
    const char *build = testlib_env("CMK_BUILD");
    char keygen[4096], pin_source[4096];
    char *argv[20];
    int n = 0, rc;

    if (build == NULL || t->module == NULL || t->token == NULL || t->pin_file == NULL) {
        printf("testprov: no test token environment\n");
        return 0;
    }
    snprintf(keygen, sizeof(keygen), "%s/cmk-keygen", build);
    snprintf(pin_source, sizeof(pin_source), "file:%s", t->pin_file);
    if (access(keygen, X_OK) != 0) {
        printf("testprov: %s is not built\n", keygen);
        return 0;
    }
    argv[n++] = keygen;
    argv[n++] = "--module", argv[n++] = (char *)t->module;
    argv[n++] = "--token", argv[n++] = (char *)t->token;
    if (t->init_args != NULL)
        argv[n++] = "--init-args", argv[n++] = (char *)t->init_args;
    argv[n++] = "--pin-source", argv[n++] = pin_source;
    argv[n++] = "--label", argv[n++] = (char *)label;
    argv[n++] = "--ops", argv[n++] = "decrypt";
    if (import_pem != NULL)
        argv[n++] = "--import", argv[n++] = (char *)import_pem;
    if (pubout != NULL)
        argv[n++] = "--pubout", argv[n++] = (char *)pubout;
    argv[n] = NULL;
    if ((rc = run_wait(argv)) != 0)
        printf("testprov: cmk-keygen --label %s failed (status %d)\n", label, rc);
    return rc == 0;
}

EVP_PKEY *testprov_key_get(OSSL_LIB_CTX *libctx, const char *label, char *pub_path, size_t pub_size)
{
    const char *dir = testlib_env("CMK_TEST_DIR");
    char pub[4096];
    EVP_PKEY *key;

    snprintf(pub, sizeof(pub), "%s/%s.pub.pem", dir != NULL ? dir : ".", label);
    if (pub_path != NULL)
        snprintf(pub_path, pub_size, "%s", pub);
    /* The token is new each make check, the folder is not: a key found with its public PEM
     * was made by an earlier program of this run. */
    if ((key = testprov_key_load(libctx, label)) != NULL && access(pub, R_OK) == 0)
        return key;
    EVP_PKEY_free(key);
    ERR_clear_error();
    if (key != NULL) {
        printf("testprov: key %s is in the token but %s is missing\n", label, pub);
        return NULL;
    }
    if (!testprov_key_make(label, NULL, pub))
        return NULL;
    if ((key = testprov_key_load(libctx, label)) == NULL) {
        char *e = testprov_errors();

        printf("testprov: cmk-keygen made %s but the store does not open it: %s\n", label, e);
        free(e);
    }
    return key;
}

EVP_PKEY *testprov_pubkey_read(OSSL_LIB_CTX *libctx, const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *key;

    if (f == NULL)
        return NULL;
    key = PEM_read_PUBKEY_ex(f, NULL, NULL, NULL, libctx, NULL);
    fclose(f);
    return key;
}

int testprov_rsa_set(EVP_PKEY_CTX *ctx, const testprov_rsa *p)
{
    if (EVP_PKEY_CTX_set_rsa_padding(ctx, p->padding) <= 0)
        return 0;
    if (p->padding != RSA_PKCS1_OAEP_PADDING)
        return 1;
    if (EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, p->md, NULL) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, p->md, NULL) <= 0)
        return 0;
    if (p->label_len > 0) {
        /* set0 takes ownership */
        void *label = OPENSSL_memdup(p->label, p->label_len);

        if (label == NULL || EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, label, (int)p->label_len) <= 0) {
            OPENSSL_free(label);
            return 0;
        }
    }
    return 1;
}

static int rsa_oneshot(OSSL_LIB_CTX *libctx, EVP_PKEY *key, const testprov_rsa *p, int decrypt,
                       const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(libctx, key, NULL);
    size_t need = 0;
    int ok = 0;

    if (ctx == NULL)
        goto end;
    if ((decrypt ? EVP_PKEY_decrypt_init(ctx) : EVP_PKEY_encrypt_init(ctx)) <= 0 ||
        !testprov_rsa_set(ctx, p))
        goto end;
    /* As applications do: ask for the size, then run. */
    if ((decrypt ? EVP_PKEY_decrypt(ctx, NULL, &need, in, in_len)
                 : EVP_PKEY_encrypt(ctx, NULL, &need, in, in_len)) <= 0)
        goto end;
    if (need > *out_len) {
        printf("testprov: the provider asks for %zu output bytes, more than %zu\n", need, *out_len);
        goto end;
    }
    ok = (decrypt ? EVP_PKEY_decrypt(ctx, out, out_len, in, in_len)
                  : EVP_PKEY_encrypt(ctx, out, out_len, in, in_len)) > 0;
end:
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

int testprov_decrypt(OSSL_LIB_CTX *libctx, EVP_PKEY *key, const testprov_rsa *p, const uint8_t *in,
                     size_t in_len, uint8_t *out, size_t *out_len)
{
    return rsa_oneshot(libctx, key, p, 1, in, in_len, out, out_len);
}

int testprov_encrypt(OSSL_LIB_CTX *libctx, EVP_PKEY *key, const testprov_rsa *p, const uint8_t *in,
                     size_t in_len, uint8_t *out, size_t *out_len)
{
    return rsa_oneshot(libctx, key, p, 0, in, in_len, out, out_len);
}

int testprov_wrap_random(const char *pub_path, testprov_wrapped *w, size_t n)
{
    OSSL_LIB_CTX *plain_ctx = OSSL_LIB_CTX_new();
    EVP_PKEY *pub = testprov_pubkey_read(plain_ctx, pub_path);
    int ok = pub != NULL;

    for (size_t i = 0; ok && i < n; i++) {
        w[i].wrapped_len = sizeof(w[i].wrapped);
        ok = RAND_bytes_ex(plain_ctx, w[i].plain, sizeof(w[i].plain), 0) == 1 &&
             testprov_encrypt(plain_ctx, pub, &testprov_oaep_sha1, w[i].plain, sizeof(w[i].plain),
                              w[i].wrapped, &w[i].wrapped_len);
    }
    if (!ok)
        printf("testprov: cannot wrap test keys under %s\n", pub_path);
    EVP_PKEY_free(pub);
    OSSL_LIB_CTX_free(plain_ctx);
    return ok;
}

EVP_PKEY *testprov_unwrap_setup(OSSL_LIB_CTX **libctx, const char *label, testprov_wrapped *w,
                                size_t n, const char **why)
{
    char pub_path[4096];
    EVP_PKEY *key;

    if ((*libctx = testprov_libctx_new(why)) == NULL)
        return NULL;
    if ((key = testprov_key_get(*libctx, label, pub_path, sizeof(pub_path))) == NULL) {
        *why = "no test key (cmk-keygen or the store failed; see above)";
        return NULL;
    }
    if (!testprov_wrap_random(pub_path, w, n)) {
        *why = "OpenSSL could not wrap test keys with the public key";
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

int testprov_unwrap_main(const char *suite, const CU_TestInfo *tests, OSSL_LIB_CTX **libctx,
                         EVP_PKEY **key, const char **why, testprov_wrapped *w, size_t n)
{
    CU_pSuite s;
    int rc;

    /* Set up before CUnit starts: a missing token makes every test skip with why, not fail. */
    *key = testprov_unwrap_setup(libctx, TESTPROV_UNWRAP_LABEL, w, n, why);
    if (CU_initialize_registry() != CUE_SUCCESS || (s = CU_add_suite(suite, NULL, NULL)) == NULL)
        return 2;
    for (; tests->pName != NULL; tests++)
        if (CU_add_test(s, tests->pName, tests->pTestFunc) == NULL)
            return 2;
    rc = testlib_run();
    EVP_PKEY_free(*key);
    OSSL_LIB_CTX_free(*libctx);
    return rc;
}

int testprov_unwrap_skipped(const char *test, const EVP_PKEY *key, const char *why)
{
    if (key != NULL)
        return 0;
    testlib_skip(test, why);
    return 1;
}

EVP_PKEY_CTX *testprov_unwrap_ctx(OSSL_LIB_CTX *libctx, EVP_PKEY *key)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(libctx, key, NULL);

    if (ctx != NULL &&
        (EVP_PKEY_decrypt_init(ctx) <= 0 || !testprov_rsa_set(ctx, &testprov_oaep_sha1))) {
        EVP_PKEY_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

int testprov_unwrap_check(EVP_PKEY_CTX *ctx, const testprov_wrapped *w)
{
    uint8_t out[TESTPROV_WRAPPED_MAX];
    size_t out_len = sizeof(out);

    if (ctx == NULL || EVP_PKEY_decrypt(ctx, out, &out_len, w->wrapped, w->wrapped_len) <= 0)
        return 0;
    return out_len == sizeof(w->plain) && memcmp(out, w->plain, out_len) == 0 ? 1 : -1;
}

void testprov_unwrap_count(EVP_PKEY_CTX *ctx, const testprov_wrapped *w, testprov_tally *t)
{
    int r = testprov_unwrap_check(ctx, w);

    if (r == 1) {
        atomic_fetch_add(&t->ok, 1);
    } else if (r < 0) {
        atomic_fetch_add(&t->wrong, 1);
    } else if (atomic_fetch_add(&t->failed, 1) == 0) {
        char *e = testprov_errors();

        snprintf(t->first_error, sizeof(t->first_error), "%s", e);
        free(e);
    }
    ERR_clear_error();
}

char *testprov_errors(void)
{
    char *text = calloc(1, 1);
    size_t len = 0;
    const char *data;
    unsigned long e;
    int flags;

    while (text != NULL && (e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        const char *reason = ERR_reason_error_string(e);
        char line[1024];
        char *grown;
        int n;

        n = snprintf(line, sizeof(line), "%s[%s: %s]", len > 0 ? " " : "",
                     reason != NULL ? reason : "?", (flags & ERR_TXT_STRING) ? data : "");
        if (n < 0)
            break;
        if ((grown = realloc(text, len + (size_t)n + 1)) == NULL)
            break;
        text = grown;
        memcpy(text + len, line, (size_t)n + 1);
        len += (size_t)n;
    }
    return text;
}

/* argv for this program again: its path and up to 14 arguments from ap. The path is read
 * from /proc/self/exe rather than executed through it: under valgrind that link names valgrind,
 * while readlink gives the program's own path. */
static void self_argv(char *argv[16], const char *arg, va_list ap)
{
    static char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    int n = 0;

    if (len > 0)
        self[len] = '\0';
    argv[n++] = len > 0 ? self : "/proc/self/exe";
    for (const char *a = arg; a != NULL && n < 15; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    argv[n] = NULL;
}

int testprov_self_run(const char *arg, ...)
{
    char *argv[16];
    va_list ap;

    va_start(ap, arg);
    self_argv(argv, arg, ap);
    va_end(ap);
    return run_wait(argv);
}

int testprov_self_spawn(const char *arg, ...)
{
    char *argv[16];
    va_list ap;

    va_start(ap, arg);
    self_argv(argv, arg, ap);
    va_end(ap);
    return (int)run_start(argv);
}

size_t testprov_heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

static CK_FUNCTION_LIST *observed;
static CK_SLOT_ID observed_slot;

/* The slot whose token label (blank-padded, PKCS#11 v2.40 section 3.2) is label. */
static int slot_find(CK_FUNCTION_LIST *p11, const char *label, CK_SLOT_ID *slot)
{
    CK_SLOT_ID slots[64];
    CK_ULONG n = 64;
    size_t len = strlen(label);

    if (len > 32 || p11->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
        return 0;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;

        if (p11->C_GetTokenInfo(slots[i], &ti) != CKR_OK || memcmp(ti.label, label, len) != 0)
            continue;
        if (len < 32 && ti.label[len] != ' ')
            continue;
        printf("observer: SoftHSM reports ulSessionCount %ld, ulMaxSessionCount %ld\n",
               (long)ti.ulSessionCount, (long)ti.ulMaxSessionCount);
        *slot = slots[i];
        return 1;
    }
    return 0;
}

CK_FUNCTION_LIST *testprov_p11_observe(CK_SLOT_ID *slot)
{
    const char *module = testlib_env("CMK_TEST_MODULE"), *label = testlib_env("CMK_TEST_TOKEN");
    CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
    CK_C_GetFunctionList get_list;
    CK_FUNCTION_LIST *p11 = NULL;
    CK_RV rv;
    void *h;

    if (observed == NULL && module != NULL && label != NULL &&
        (h = dlopen(module, RTLD_NOW)) != NULL &&
        (get_list = (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList")) != NULL &&
        get_list(&p11) == CKR_OK) {
        rv = p11->C_Initialize(&args);
        if ((rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) &&
            slot_find(p11, label, &observed_slot))
            observed = p11;
    }
    if (observed != NULL && slot != NULL)
        *slot = observed_slot;
    return observed;
}

long testprov_sessions_open(void)
{
    long n = 0;

    if (observed == NULL)
        return -1;
    for (CK_SESSION_HANDLE h = 1; h <= TESTPROV_SESSION_HANDLES; h++) {
        CK_SESSION_INFO si;

        if (observed->C_GetSessionInfo(h, &si) == CKR_OK && si.slotID == observed_slot)
            n++;
    }
    return n;
}
