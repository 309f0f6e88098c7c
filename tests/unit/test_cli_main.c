/*
 * test_cli_main.c - the `cmk` command's global flags (cli/main.c): every way out of main,
 * including the early ones (--version, --help, --pin, an unknown option, no verb, an unknown
 * verb), frees the flags given before it. fuzz/fuzz_args.c found them leaking; this repeats
 * each case and checks that the heap in use does not grow.
 *
 * main.c is compiled in here with main renamed, so that the test calls the real one.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include "testlib.h"

#define main cmk_main
#include "../../cli/main.c"
#undef main

#define REPEATS 50

/* Heap bytes in use after calling cmk_main REPEATS times with args (after one warm-up call,
 * which may allocate stdio buffers once). */
static long heap_growth(char **args, int nargs, int want_rc)
{
    struct mallinfo2 before, after;
    char *argv[16];
    int rc;

    CU_ASSERT_FATAL(nargs + 1 < 16);
    argv[0] = "cmk";
    memcpy(argv + 1, args, (size_t)nargs * sizeof(*argv));
    argv[nargs + 1] = NULL;
    rc = cmk_main(nargs + 1, argv);
    CU_ASSERT_EQUAL(rc, want_rc);
    before = mallinfo2();
    for (int i = 0; i < REPEATS; i++)
        cmk_main(nargs + 1, argv);
    after = mallinfo2();
    fflush(stdout);
    return (long)after.uordblks - (long)before.uordblks;
}

#define EXPECT_NO_LEAK(want_rc, ...)                                                               \
    do {                                                                                           \
        char *args_[] = {__VA_ARGS__};                                                             \
        long grew_ = heap_growth(args_, (int)(sizeof(args_) / sizeof(args_[0])), (want_rc));       \
        if (grew_ != 0)                                                                            \
            printf("\n  %s ...: the heap grew by %ld bytes over %d runs\n", args_[0], grew_,       \
                   REPEATS);                                                                       \
        CU_ASSERT_EQUAL(grew_, 0);                                                                 \
    } while (0)

static void test_early_exits_free_the_flags(void)
{
    EXPECT_NO_LEAK(CMK_EXIT_USAGE, "--token", "pkcs11:token=x", "--frobnicate");
    EXPECT_NO_LEAK(CMK_EXIT_USAGE, "--config", "c.conf", "--module", "m.so", "--pin", "1234");
    EXPECT_NO_LEAK(CMK_EXIT_OK, "--module", "m.so", "--key-cache-seconds", "5", "--version");
    EXPECT_NO_LEAK(CMK_EXIT_OK, "--pin-source", "env:PIN", "--help");
    EXPECT_NO_LEAK(CMK_EXIT_USAGE, "--token", "pkcs11:token=x"); /* no verb */
    EXPECT_NO_LEAK(CMK_EXIT_USAGE, "--token", "pkcs11:token=x", "frobnicate");
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    s = CU_add_suite("cli_main", NULL, NULL);
    CU_add_test(s, "early_exits_free_the_flags", test_early_exits_free_the_flags);
    return testlib_run();
}
