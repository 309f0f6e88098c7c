/*
 * unwrap.c - unwraps per second (RSA-2048 OAEP SHA-1 decryption of a 32-byte key) through the
 * cmk provider with EVP, against the reference: the raw PKCS#11 loop (C_DecryptInit +
 * C_Decrypt, one session per thread) on the same key in the same token, in the same process
 * and run; and against OpenSSL's default provider with the same key in memory.
 *
 *   unwrap --label LABEL --pub PUB.pem --priv KEY.pem [--rounds N] [--seconds S]
 *          [--only raw|raw2|prov|newctx|mem] [--remote CLIENT.so --remote-conf OPENSSL.cnf]
 *
 * The key LABEL must be in the token $CMK_TEST_TOKEN of module $CMK_TEST_MODULE (PIN in
 * $CMK_TEST_PIN_FILE), and $OPENSSL_CONF must load cmk for that token; KEY.pem is the same
 * key (bench/unwrap.sh imports it), PUB.pem its public half. Each round (default 15) measures
 * every variant at 1 and 2 threads for S seconds (default 0.2), in an order that rotates from
 * round to round; the figures are medians over the rounds, ratios the median of the per-round
 * ratios to that round's raw loop. A second copy of the raw loop shows how noisy the machine is:
 * its ratio would be 1.000 on a quiet one. Besides unwraps per second (wall clock), each figure
 * is also given per CPU-second of the threads doing the unwraps (CLOCK_THREAD_CPUTIME_ID; the
 * token's work runs in the calling thread): the cost per unwrap, which other load on a shared
 * machine disturbs far less than the wall-clock rate.
 *
 * --remote measures the cost of p11-kit's remoting instead: the same raw loop and provider
 * unwrap, once on the token directly and once through CLIENT.so (p11-kit-client.so, reaching
 * `p11-kit server` at $P11_KIT_SERVER_ADDRESS; OPENSSL.cnf loads cmk with that module). The
 * token's work then runs in the server's processes (p11-kit-remote, one per connection, children
 * of $P11_KIT_SERVER_PID): a remote variant's CPU time is the unwrapping threads' plus those
 * processes' (their /proc/PID/schedstat run time), so that per CPU-second figures count both
 * ends. Microseconds per unwrap are wall clock, per thread.
 *
 * --only V runs variant V alone, in one thread, for S seconds and prints the count: for a
 * profiler (valgrind --tool=callgrind counts instructions per unwrap, free of noise).
 *
 * This program dlopens the module and calls PKCS#11 itself: it is the reference the provider
 * is measured against. The provider unwraps first, so it initializes the module as it would
 * alone; the raw loop then finds it initialized and logged in. The module is never finalized.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/store.h>
#include <p11-kit/pkcs11.h>

#define KEY_BYTES   32
#define CT_MAX      512
#define NKEYS       64
#define MAX_THREADS 2
#define MAX_ROUNDS  64

enum variant {
    V_RAW,
    V_RAW_AGAIN,
    V_PROV,
    V_PROV_NEWCTX,
    V_MEM,
    V_RAW_REMOTE,
    V_PROV_REMOTE,
    NVARIANTS
};
static const char *variant_key[NVARIANTS] = {"raw", "raw2", "prov", "newctx",
                                             "mem", "rawr", "provr"};
static const char *variant_name[NVARIANTS] = {
    "raw PKCS#11 loop (reference)",
    "raw PKCS#11 loop again (noise control)",
    "cmk provider, EVP (ctx per thread)",
    "cmk provider, EVP (new ctx per unwrap)",
    "OpenSSL default provider, key in memory",
    "raw PKCS#11 loop, p11-kit remoting",
    "cmk provider, EVP, p11-kit remoting",
};
/* The variants of a run: on the token only, or on the token directly and through remoting. */
static const enum variant local_set[] = {V_RAW, V_RAW_AGAIN, V_PROV, V_PROV_NEWCTX, V_MEM};
static const enum variant remote_set[] = {V_RAW, V_RAW_AGAIN, V_RAW_REMOTE, V_PROV, V_PROV_REMOTE};
#define SET_SIZE 5

enum { DIRECT, REMOTE, NVIEWS }; /* how the bench reaches the token */

/* One PKCS#11 module's view of the token: the raw loop's sessions and key handle. */
typedef struct token_view {
    CK_FUNCTION_LIST *p11;
    CK_OBJECT_HANDLE key;
    CK_SESSION_HANDLE sessions[MAX_THREADS];
} token_view;

static struct {
    uint8_t plain[NKEYS][KEY_BYTES], ct[NKEYS][CT_MAX];
    size_t ct_len[NKEYS];
    OSSL_LIB_CTX *prov_ctx[NVIEWS], *mem_ctx;
    EVP_PKEY *prov_key[NVIEWS], *mem_key;
    token_view tok[NVIEWS];
    int server_pid; /* p11-kit server, with --remote */
    atomic_int stop;
    unsigned long last_ops; /* unwraps done by the last measure() */
    pthread_barrier_t start;
} b;

_Noreturn static void die(const char *what)
{
    fprintf(stderr, "unwrap: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static EVP_PKEY_CTX *oaep_ctx(OSSL_LIB_CTX *libctx, EVP_PKEY *key, int decrypt)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(libctx, key, NULL);

    if (ctx == NULL || (decrypt ? EVP_PKEY_decrypt_init(ctx) : EVP_PKEY_encrypt_init(ctx)) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, "SHA1", NULL) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, "SHA1", NULL) <= 0)
        die("cannot set up an RSA-OAEP EVP_PKEY_CTX");
    return ctx;
}

static int evp_unwrap(EVP_PKEY_CTX *ctx, size_t k)
{
    uint8_t out[CT_MAX];
    size_t out_len = sizeof(out);

    return EVP_PKEY_decrypt(ctx, out, &out_len, b.ct[k], b.ct_len[k]) > 0 && out_len == KEY_BYTES &&
           memcmp(out, b.plain[k], KEY_BYTES) == 0;
}

static int raw_unwrap(const token_view *t, int thread, size_t k)
{
    CK_SESSION_HANDLE s = t->sessions[thread];
    CK_RSA_PKCS_OAEP_PARAMS params = {CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_MECHANISM mech = {CKM_RSA_PKCS_OAEP, &params, sizeof(params)};
    uint8_t out[CT_MAX];
    CK_ULONG out_len = sizeof(out);

    return t->p11->C_DecryptInit(s, &mech, t->key) == CKR_OK &&
           t->p11->C_Decrypt(s, b.ct[k], b.ct_len[k], out, &out_len) == CKR_OK &&
           out_len == KEY_BYTES && memcmp(out, b.plain[k], KEY_BYTES) == 0;
}

typedef struct worker {
    pthread_t tid;
    int index;
    enum variant v;
    unsigned long ops, failed;
    double cpu; /* the thread's CPU seconds in the timed loop */
} worker;

static double thread_cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker_run(void *arg)
{
    worker *w = arg;
    EVP_PKEY_CTX *ctx = NULL;

    if (w->v == V_PROV || w->v == V_PROV_REMOTE) {
        int view = w->v == V_PROV ? DIRECT : REMOTE;

        ctx = oaep_ctx(b.prov_ctx[view], b.prov_key[view], 1);
    } else if (w->v == V_MEM)
        ctx = oaep_ctx(b.mem_ctx, b.mem_key, 1);
    pthread_barrier_wait(&b.start);
    w->cpu = thread_cpu();
    for (size_t k = (size_t)w->index * 17; !atomic_load_explicit(&b.stop, memory_order_relaxed);
         k++) {
        int ok;

        k %= NKEYS;
        if (w->v == V_RAW || w->v == V_RAW_AGAIN) {
            ok = raw_unwrap(&b.tok[DIRECT], w->index, k);
        } else if (w->v == V_RAW_REMOTE) {
            ok = raw_unwrap(&b.tok[REMOTE], w->index, k);
        } else if (w->v == V_PROV_NEWCTX) {
            EVP_PKEY_CTX *c = oaep_ctx(b.prov_ctx[DIRECT], b.prov_key[DIRECT], 1);

            ok = evp_unwrap(c, k);
            EVP_PKEY_CTX_free(c);
        } else {
            ok = evp_unwrap(ctx, k);
        }
        ok ? w->ops++ : w->failed++;
    }
    w->cpu = thread_cpu() - w->cpu;
    EVP_PKEY_CTX_free(ctx);
    return NULL;
}

/* CPU seconds run so far by the p11-kit server's children, which serve the connections. */
static double server_cpu(void)
{
    char path[64], kids[4096];
    double total = 0;
    size_t len;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", b.server_pid, b.server_pid);
    if ((f = fopen(path, "r")) == NULL)
        die("cannot read the p11-kit server's children ($P11_KIT_SERVER_PID)");
    len = fread(kids, 1, sizeof(kids) - 1, f);
    fclose(f);
    kids[len] = '\0';
    for (char *tok = strtok(kids, " \n"); tok != NULL; tok = strtok(NULL, " \n")) {
        unsigned long long ns = 0;

        snprintf(path, sizeof(path), "/proc/%s/schedstat", tok);
        if ((f = fopen(path, "r")) != NULL && fscanf(f, "%llu", &ns) == 1)
            total += (double)ns / 1e9;
        if (f != NULL)
            fclose(f);
    }
    return total;
}

/* Runs variant v with n threads for seconds; returns unwraps per second, and in *per_cpu
 * unwraps per CPU-second of the threads that did them (robust to other load on the machine). */
static double measure(enum variant v, int n, double seconds, double *per_cpu)
{
    worker w[MAX_THREADS] = {{0}};
    unsigned long ops = 0, failed = 0;
    int remote = v == V_RAW_REMOTE || v == V_PROV_REMOTE;
    double t0, cpu = remote ? -server_cpu() : 0;

    atomic_store(&b.stop, 0);
    pthread_barrier_init(&b.start, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; i++) {
        w[i].index = i, w[i].v = v;
        if (pthread_create(&w[i].tid, NULL, worker_run, &w[i]) != 0)
            die("pthread_create");
    }
    pthread_barrier_wait(&b.start);
    t0 = now();
    usleep((useconds_t)(seconds * 1e6));
    atomic_store(&b.stop, 1);
    for (int i = 0; i < n; i++) {
        pthread_join(w[i].tid, NULL);
        ops += w[i].ops, failed += w[i].failed, cpu += w[i].cpu;
    }
    t0 = now() - t0;
    if (remote)
        cpu += server_cpu();
    pthread_barrier_destroy(&b.start);
    if (failed > 0) {
        fprintf(stderr, "unwrap: %s, %d threads: %lu unwraps failed or were wrong\n",
                variant_name[v], n, failed);
        exit(1);
    }
    *per_cpu = (double)ops / cpu;
    b.last_ops = ops;
    return (double)ops / t0;
}

/* ---- setup ---- */

/* Opens the key LABEL with the cmk provider that the openssl.cnf CONF loads, in a library
 * context of its own, and unwraps once so that the provider initializes its module. */
static void setup_prov(int view, const char *conf, const char *label)
{
    const char *token = getenv("CMK_TEST_TOKEN");
    char uri[512];
    OSSL_STORE_CTX *sc;
    EVP_PKEY_CTX *first;

    if (conf == NULL || token == NULL)
        die("run through make bench (OPENSSL_CONF, CMK_TEST_TOKEN unset)");
    if ((b.prov_ctx[view] = OSSL_LIB_CTX_new()) == NULL ||
        !OSSL_LIB_CTX_load_config(b.prov_ctx[view], conf))
        die("cannot load the openssl.cnf");
    snprintf(uri, sizeof(uri), "pkcs11:token=%s;object=%s", token, label);
    sc = OSSL_STORE_open_ex(uri, b.prov_ctx[view], NULL, NULL, NULL, NULL, NULL, NULL);
    while (sc != NULL && b.prov_key[view] == NULL && !OSSL_STORE_eof(sc)) {
        OSSL_STORE_INFO *info = OSSL_STORE_load(sc);

        if (info == NULL && OSSL_STORE_error(sc))
            break;
        if (info != NULL && OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            b.prov_key[view] = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(sc);
    if (b.prov_key[view] == NULL)
        die("the cmk store does not open the key");
    first = oaep_ctx(b.prov_ctx[view], b.prov_key[view], 1);
    if (!evp_unwrap(first, 0))
        die("the provider's first unwrap failed");
    EVP_PKEY_CTX_free(first);
}

static void setup_keys(const char *pub_path, const char *priv_path)
{
    EVP_PKEY *pub;
    EVP_PKEY_CTX *enc;
    FILE *f;

    b.mem_ctx = OSSL_LIB_CTX_new();
    if ((f = fopen(priv_path, "r")) == NULL ||
        (b.mem_key = PEM_read_PrivateKey_ex(f, NULL, NULL, NULL, b.mem_ctx, NULL)) == NULL)
        die("cannot read the private key PEM");
    fclose(f);
    if ((f = fopen(pub_path, "r")) == NULL ||
        (pub = PEM_read_PUBKEY_ex(f, NULL, NULL, NULL, b.mem_ctx, NULL)) == NULL)
        die("cannot read the public key PEM");
    fclose(f);
    enc = oaep_ctx(b.mem_ctx, pub, 0);
    for (size_t k = 0; k < NKEYS; k++) {
        b.ct_len[k] = CT_MAX;
        if (RAND_bytes_ex(b.mem_ctx, b.plain[k], KEY_BYTES, 0) != 1 ||
            EVP_PKEY_encrypt(enc, b.ct[k], &b.ct_len[k], b.plain[k], KEY_BYTES) <= 0)
            die("cannot wrap the test keys");
    }
    EVP_PKEY_CTX_free(enc);
    EVP_PKEY_free(pub);
}

static void setup_p11(token_view *t, const char *module, const char *label)
{
    const char *token = getenv("CMK_TEST_TOKEN");
    const char *pin_file = getenv("CMK_TEST_PIN_FILE");
    CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
                           {CKA_LABEL, (void *)label, strlen(label)}};
    CK_C_GetFunctionList get_list;
    CK_SLOT_ID slots[64], slot = 0;
    CK_ULONG n = 64, found = 0;
    int have_slot = 0;
    char pin[256] = "";
    CK_RV rv;
    FILE *f;
    void *h;

    if (module == NULL || pin_file == NULL || (h = dlopen(module, RTLD_NOW)) == NULL ||
        (get_list = (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList")) == NULL ||
        get_list(&t->p11) != CKR_OK)
        die("cannot load the PKCS#11 module");
    rv = t->p11->C_Initialize(&args);
    if ((rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) ||
        t->p11->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
        die("C_Initialize or C_GetSlotList failed");
    for (CK_ULONG i = 0; i < n && !have_slot; i++) {
        CK_TOKEN_INFO ti;
        size_t len = strlen(token);

        if (t->p11->C_GetTokenInfo(slots[i], &ti) == CKR_OK && len <= 32 &&
            memcmp(ti.label, token, len) == 0 && (len == 32 || ti.label[len] == ' ')) {
            slot = slots[i];
            have_slot = 1;
        }
    }
    if (!have_slot)
        die("no token with the label $CMK_TEST_TOKEN");
    if ((f = fopen(pin_file, "r")) == NULL || fgets(pin, sizeof(pin), f) == NULL)
        die("cannot read the PIN file");
    fclose(f);
    pin[strcspn(pin, "\r\n")] = '\0';
    for (int i = 0; i < MAX_THREADS; i++)
        if (t->p11->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &t->sessions[i]) != CKR_OK)
            die("C_OpenSession failed");
    rv = t->p11->C_Login(t->sessions[0], CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
    OPENSSL_cleanse(pin, sizeof(pin));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
        die("C_Login failed");
    if (t->p11->C_FindObjectsInit(t->sessions[0], tmpl, 2) != CKR_OK ||
        t->p11->C_FindObjects(t->sessions[0], &t->key, 1, &found) != CKR_OK ||
        t->p11->C_FindObjectsFinal(t->sessions[0]) != CKR_OK || found != 1)
        die("cannot find the private key in the token");
}

/* ---- report ---- */

static int cmp_double(const void *a, const void *c)
{
    double x = *(const double *)a, y = *(const double *)c;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    double tmp[MAX_ROUNDS];

    memcpy(tmp, v, sizeof(double) * (size_t)n);
    qsort(tmp, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

typedef struct options {
    const char *label, *pub, *priv, *only, *remote, *remote_conf;
    int rounds;
    double seconds;
} options;

static void options_parse(options *o, int argc, char **argv)
{
    *o = (options){.rounds = 15, .seconds = 0.2};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];

        if (strcmp(k, "--label") == 0)
            o->label = v;
        else if (strcmp(k, "--pub") == 0)
            o->pub = v;
        else if (strcmp(k, "--priv") == 0)
            o->priv = v;
        else if (strcmp(k, "--rounds") == 0)
            o->rounds = atoi(v);
        else if (strcmp(k, "--seconds") == 0)
            o->seconds = atof(v);
        else if (strcmp(k, "--only") == 0)
            o->only = v;
        else if (strcmp(k, "--remote") == 0)
            o->remote = v;
        else if (strcmp(k, "--remote-conf") == 0)
            o->remote_conf = v;
    }
    if (o->label == NULL || o->pub == NULL || o->priv == NULL || o->rounds < 1 ||
        o->rounds > MAX_ROUNDS || o->seconds <= 0 ||
        (o->remote == NULL) != (o->remote_conf == NULL))
        die("usage: unwrap --label L --pub PUB.pem --priv KEY.pem [--rounds N] [--seconds S] "
            "[--only V] [--remote CLIENT.so --remote-conf OPENSSL.cnf]");
}

/* rate[m][n][v][r]: m 0 unwraps per second, 1 per CPU-second; n threads, variant v, round r */
static double rate[2][MAX_THREADS + 1][NVARIANTS][MAX_ROUNDS];

/* The median over the rounds of variant v's per-round ratio to the raw loop on the token. */
static double ratio_median(int m, int n, enum variant v, int rounds)
{
    double ratio[MAX_ROUNDS];

    for (int r = 0; r < rounds; r++)
        ratio[r] = rate[m][n][v][r] / rate[m][n][V_RAW][r];
    return median(ratio, rounds);
}

static void report(const enum variant *set, int rounds, double seconds)
{
    printf("unwrap: RSA-2048 OAEP SHA-1 decryption of a 32-byte key; %d rounds of %.2f s per "
           "figure, medians\n",
           rounds, seconds);
    printf("%-7s %-40s %10s %9s %7s %12s %7s\n", "threads", "variant", "unwraps/s", "us/unwrap",
           "ratio", "per CPU-s", "ratio");
    for (int n = 1; n <= MAX_THREADS; n++)
        for (int i = 0; i < SET_SIZE; i++) {
            enum variant v = set[i];
            double per_s = median(rate[0][n][v], rounds);

            /* wall-clock time of one unwrap in one thread */
            printf("%-7d %-40s %10.0f %9.1f %7.3f", n, variant_name[v], per_s, 1e6 * n / per_s,
                   ratio_median(0, n, v, rounds));
            printf(" %12.0f %7.3f\n", median(rate[1][n][v], rounds), ratio_median(1, n, v, rounds));
        }
}

static void report_goal(int rounds)
{
    for (int n = 1; n <= MAX_THREADS; n++) {
        double m0 = ratio_median(0, n, V_PROV, rounds), m1 = ratio_median(1, n, V_PROV, rounds);

        printf("goal: provider >= 0.97 of raw at %d thread%s: %.3f per second (%s), %.3f per "
               "CPU-second (%s)\n",
               n, n > 1 ? "s" : "", m0, m0 >= 0.97 ? "met" : "MISSED", m1,
               m1 >= 0.97 ? "met" : "MISSED");
    }
}

/* What remoting adds to one unwrap, per round then the median: wall-clock time per unwrap in a
 * thread (m 0), and CPU time of both ends (m 1). */
static double remote_added(int m, int n, enum variant direct, enum variant remote, int rounds)
{
    double added[MAX_ROUNDS], per = m ? 1e6 : 1e6 * n;

    for (int r = 0; r < rounds; r++)
        added[r] = per / rate[m][n][remote][r] - per / rate[m][n][direct][r];
    return median(added, rounds);
}

static void report_remote(int rounds)
{
    static const enum variant pairs[2][2] = {{V_RAW, V_RAW_REMOTE}, {V_PROV, V_PROV_REMOTE}};

    for (int n = 1; n <= MAX_THREADS; n++)
        for (int p = 0; p < 2; p++)
            printf("remoting adds, %d thread%s, %s: %+.1f us wall clock, %+.1f us CPU (both "
                   "ends) per unwrap\n",
                   n, n > 1 ? "s" : "", p ? "provider" : "raw loop",
                   remote_added(0, n, pairs[p][0], pairs[p][1], rounds),
                   remote_added(1, n, pairs[p][0], pairs[p][1], rounds));
}

int main(int argc, char **argv)
{
    options o;
    const enum variant *set;
    int only_v = -1;

    options_parse(&o, argc, argv);
    set = o.remote != NULL ? remote_set : local_set;
    for (int i = 0; o.only != NULL && i < SET_SIZE; i++)
        if (strcmp(o.only, variant_key[set[i]]) == 0)
            only_v = set[i];
    if (o.only != NULL && only_v < 0)
        die("--only takes raw, raw2, prov, newctx or mem (with --remote: raw, raw2, rawr, prov, "
            "provr)");
    setup_keys(o.pub, o.priv);
    setup_prov(DIRECT, getenv("OPENSSL_CONF"), o.label);
    setup_p11(&b.tok[DIRECT], getenv("CMK_TEST_MODULE"), o.label);
    if (o.remote != NULL) {
        const char *pid = getenv("P11_KIT_SERVER_PID");

        if (pid == NULL || (b.server_pid = atoi(pid)) <= 0)
            die("--remote needs $P11_KIT_SERVER_PID");
        setup_prov(REMOTE, o.remote_conf, o.label);
        setup_p11(&b.tok[REMOTE], o.remote, o.label);
    }

    if (only_v >= 0) {
        double per_cpu, rate1 = measure((enum variant)only_v, 1, o.seconds, &per_cpu);

        printf("%s: %lu unwraps in %.2f s: %.0f/s, %.0f per CPU-second\n", variant_name[only_v],
               b.last_ops, o.seconds, rate1, per_cpu);
        return 0;
    }
    for (int r = 0; r < o.rounds; r++)
        for (int n = 1; n <= MAX_THREADS; n++)
            for (int i = 0; i < SET_SIZE; i++) {
                enum variant v = set[(i + r + n) % SET_SIZE];

                rate[0][n][v][r] = measure(v, n, o.seconds, &rate[1][n][v][r]);
            }
    report(set, o.rounds, o.seconds);
    if (o.remote != NULL)
        report_remote(o.rounds);
    else
        report_goal(o.rounds);
    for (int t = 0; t < NVIEWS; t++)
        for (int i = 0; b.tok[t].p11 != NULL && i < MAX_THREADS; i++)
            b.tok[t].p11->C_CloseSession(b.tok[t].sessions[i]);
    return 0;
}
