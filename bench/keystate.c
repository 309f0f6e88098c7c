/*
 * keystate.c - what a key-state check costs on a full token: the read of one key's state object
 * (pkcs11/p11_data.c) by search (C_FindObjects by class, application and label, then its value:
 * the reference) against the read by its remembered handle (one C_GetAttributeValue), on a
 * token that first gets --fill other objects; and the same for a key without a state object
 * (made by another tool), by search against the absence the hint remembers. Run by
 * bench/keystate.sh (make bench); docs/benchmarks.md, "Key state check".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../pkcs11/p11_data.h"
#include "../pkcs11/p11_rv.h"

#define FILL_APP  "cmk-bench-fill"
#define STATE_APP "cmk-bench"

static void die(const char *what, CK_RV rv)
{
    fprintf(stderr, "keystate: %s: %s\n", what, rv != CKR_OK ? p11_err_detail() : "");
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds per read of label over n reads, by search (hint NULL) or through the hint; want is
 * what each read must return (CKR_OK, or P11_R_OBJECT_NOT_FOUND for a key without one). */
static double reads_time(p11_token *t, const char *label, p11_data_hint *hint, int n, CK_RV want)
{
    double t0 = now_s();

    for (int i = 0; i < n; i++) {
        uint8_t *v = NULL;
        size_t len = 0;
        CK_RV rv = p11_data_get_hinted(t, STATE_APP, label, hint, &v, &len);

        if (rv != want)
            die("state read", rv);
        free(v);
    }
    return (now_s() - t0) / n;
}

/* keystate [FILL [READS [ROUNDS]]], in the token env bench/run.sh exports. */
int main(int argc, char **argv)
{
    const char *mod = getenv("CMK_TEST_MODULE"), *tok = getenv("CMK_TEST_TOKEN");
    const char *pin = getenv("CMK_TEST_PIN_FILE"), *args = getenv("CMK_TEST_INIT_ARGS");
    int fill = argc > 1 ? atoi(argv[1]) : 300, reads = argc > 2 ? atoi(argv[2]) : 50;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    const char *val = "v=1\nupdated=00000000000000000001\n";
    char uri[256], pins[1024], label[32];
    p11_data_hint hint = {0}, none = {0};
    p11_module *m = NULL;
    p11_token *t = NULL;
    double best[4] = {1e9, 1e9, 1e9, 1e9};
    CK_RV rv;

    if (mod == NULL || tok == NULL || pin == NULL || fill < 0 || reads < 1 || rounds < 1) {
        fprintf(stderr, "usage: keystate [FILL [READS [ROUNDS]]] (token env of make bench)\n");
        return 2;
    }
    snprintf(uri, sizeof(uri), "pkcs11:token=%s", tok);
    snprintf(pins, sizeof(pins), "file:%s", pin);
    if ((rv = p11_module_get(mod, args != NULL && *args ? args : NULL, &m)) != CKR_OK ||
        (rv = p11_token_open(m, uri, pins, &t)) != CKR_OK)
        die("token", rv);
    for (int i = 0; i < fill; i++) {
        snprintf(label, sizeof(label), "fill-%d", i);
        rv = p11_data_put(t, FILL_APP, label, (const uint8_t *)"x", 1, 1);
        if (rv != CKR_OK && rv != P11_R_OBJECT_AMBIGUOUS)
            die("fill", rv);
    }
    if ((rv = p11_data_put(t, STATE_APP, "state", (const uint8_t *)val, strlen(val), 0)) != CKR_OK)
        die("state object", rv);
    /* Alternating, best of the rounds: noise only ever slows a round down. */
    for (int r = 0; r < rounds; r++) {
        double x[4] = {reads_time(t, "state", NULL, reads, CKR_OK),
                       reads_time(t, "state", &hint, reads, CKR_OK),
                       reads_time(t, "none", NULL, reads, P11_R_OBJECT_NOT_FOUND),
                       reads_time(t, "none", &none, reads, P11_R_OBJECT_NOT_FOUND)};

        for (int k = 0; k < 4; k++)
            best[k] = x[k] < best[k] ? x[k] : best[k];
    }
    printf("state read, %d other objects: by search %.3f ms, by handle %.3f ms: %.0fx faster\n",
           fill, best[0] * 1e3, best[1] * 1e3, best[0] / best[1]);
    /* a key made by another tool: no state object, its absence remembered for up to a second */
    printf("no state object, %d other objects: by search %.3f ms, remembered %.4f ms (and one "
           "search a second): %.0fx faster\n",
           fill, best[2] * 1e3, best[3] * 1e3, best[2] / best[3]);
    p11_token_free(t);
    p11_module_put(m);
    return 0;
}
