/*
 * testlib.h - what every CUnit test program of cmk shares.
 *
 * A test program registers its suites, then returns testlib_run(): that runs them, prints
 * CUnit's own summary and one closing line tests/run.sh adds up:
 *     cmk-tests: N passed, N failed, N skipped
 * A test that cannot run here calls TEST_SKIP("why") and returns; the reason is printed.
 */
#ifndef CMK_TESTLIB_H
#define CMK_TESTLIB_H

#include <stddef.h>
#include <stdint.h>
#include <CUnit/CUnit.h>
#include <openssl/provider.h>

int testlib_run(void);
void testlib_skip(const char *test, const char *why);
#define TEST_SKIP(why) testlib_skip(__func__, (why))

/* A check that fails because of a reported, not yet fixed bug: while CMK_TEST_KNOWN_BUGS is
 * unset its failure is a skip that names the bug (so the suite stays usable and the bug stays
 * visible); with CMK_TEST_KNOWN_BUGS=1 it fails. Once the bug is fixed it simply passes. */
#define TEST_KNOWN_BUG(ok, bug)                                                                    \
    do {                                                                                           \
        if (!(ok) && testlib_env("CMK_TEST_KNOWN_BUGS") == NULL)                                   \
            TEST_SKIP("KNOWN BUG: " bug);                                                          \
        else                                                                                       \
            CU_ASSERT_TRUE(ok);                                                                    \
    } while (0)

/* Environment set by tests/run.sh (from softhsm-config/mktoken.sh's env file); NULL if unset. */
const char *testlib_env(const char *name);

/* Where the public test vectors are: $CMK_VECTORS, else ../shared/vectors next to the project.
 * NULL when absent (the caller skips, saying so). */
const char *testlib_vectors_dir(void);

/* A library context of the test's own with the providers cmk (from $CMK_BUILD, else ./build)
 * and default loaded, in that order or (default_first) the other: for tests that go through
 * EVP. testlib_evp_init returns 0 if either does not load; testlib_evp_cleanup unloads both
 * and frees the context (a zeroed TESTLIB_EVP is fine). */
typedef struct testlib_evp {
    OSSL_LIB_CTX *libctx;
    OSSL_PROVIDER *cmk, *dflt;
} TESTLIB_EVP;
int testlib_evp_init(TESTLIB_EVP *e, int default_first);
void testlib_evp_cleanup(TESTLIB_EVP *e);

/* How forked children ended, for tests that fork many: exit 0, another exit (or no child),
 * killed by SIGALRM (the child's alarm: it hung), killed by another signal (it crashed). */
typedef struct testlib_children {
    unsigned ok, failed, hung, crashed;
} TESTLIB_CHILDREN;
void testlib_child_count(int pid, TESTLIB_CHILDREN *c);

/* Hex helpers for vectors and for printing both values on a mismatch. Caller frees. */
uint8_t *testlib_unhex(const char *hex, size_t *len);
char *testlib_hex(const uint8_t *buf, size_t len);

/* Asserts a == b over len bytes; on mismatch prints both in hex. */
#define TEST_ASSERT_BYTES(a, alen, b, blen)                                                        \
    CU_ASSERT_TRUE(testlib_bytes_equal(__FILE__, __LINE__, (a), (alen), (b), (blen)))
int testlib_bytes_equal(const char *file, int line, const uint8_t *a, size_t alen, const uint8_t *b,
                        size_t blen);

#endif
