/*
 * test_keystate.c - the key state object's encoding (keystate/keystate.c): what is written
 * reads back the same; every malformed or out-of-range field, unknown names and other
 * versions are refused; --ops pairs and times.
 */
#include <stdio.h>
#include <string.h>
#include "testlib.h"
#include "../../keystate/keystate.h"
#include "../../pkcs11/p11_key.h"

static void test_state_round_trip(void)
{
    ks_state a = {.kind = "RSA-HSM",
                  .ops = KS_OP_WRAP | KS_OP_UNWRAP,
                  .bits = 3072,
                  .updated = 1764000000123456LL,
                  .created = 1764000000,
                  .expires = 1800000000,
                  .rotate_after_days = 90,
                  .retention_days = 7,
                  .purge_protection = 1,
                  .recover_enable = "00aa,00bb"},
             b;
    char buf[2048];
    size_t n = ks_state_format(&a, buf, sizeof(buf));
    const char *why;

    CU_ASSERT_FATAL(n > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "v=1\nupdated=00001764000000123456\n"));
    CU_ASSERT_TRUE_FATAL(ks_state_parse((const uint8_t *)buf, n, &b, &why));
    CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
    CU_ASSERT_EQUAL(ks_state_format(&a, buf, 20), 0); /* does not fit: refused */
}

static void parse_refused(const char *text, const char *want)
{
    ks_state s;
    const char *why = NULL;

    CU_ASSERT_FALSE(ks_state_parse((const uint8_t *)text, strlen(text), &s, &why));
    if (why == NULL || strstr(why, want) == NULL)
        printf("\n  '%s': why '%s', wanted '%s'\n", text, why ? why : "(null)", want);
    CU_ASSERT_PTR_NOT_NULL(why);
}

static void test_state_refuses_malformed(void)
{
    const char *base = "kind=RSA\nops=wrap,unwrap\nretention-days=30\n";
    char buf[3000];

    snprintf(buf, sizeof(buf), "v=2\n%s", base);
    parse_refused(buf, "version 1");
    parse_refused(base, "version 1"); /* no v= first */
    snprintf(buf, sizeof(buf), "v=1\n%snew-field=1\n", base);
    parse_refused(buf, "unknown");
    snprintf(buf, sizeof(buf), "v=1\n%sretention-days=6\n", base);
    parse_refused(buf, "range");
    snprintf(buf, sizeof(buf), "v=1\n%sretention-days=91\n", base);
    parse_refused(buf, "range");
    snprintf(buf, sizeof(buf), "v=1\n%sbits=1024\n", base);
    parse_refused(buf, "range");
    /* 2^32 + 5 was cast to unsigned before the range check and read as 5 */
    snprintf(buf, sizeof(buf), "v=1\n%sbits=2048\nrotate-after-days=4294967301\n", base);
    parse_refused(buf, "range");
    snprintf(buf, sizeof(buf), "v=1\n%sexpires=-5\n", base);
    parse_refused(buf, "range");
    snprintf(buf, sizeof(buf), "v=1\n%sexpires=12x\n", base);
    parse_refused(buf, "range");
    snprintf(buf, sizeof(buf), "v=1\n%spurge-protection=2\n", base);
    parse_refused(buf, "range");
    snprintf(buf, sizeof(buf), "v=1\n%srecover-enable=00;rm\n", base);
    parse_refused(buf, "range");
    snprintf(buf, sizeof(buf), "v=1\nkind=DSA\nops=wrap,unwrap\nretention-days=30\n");
    parse_refused(buf, "range");
    snprintf(buf, sizeof(buf), "v=1\nkind=RSA\nops=wrap\nretention-days=30\n");
    parse_refused(buf, "range");
    snprintf(buf, sizeof(buf), "v=1\nkind=RSA\nretention-days=30\n");
    parse_refused(buf, "missing");
    /* found by fuzz/fuzz_config.c (corpus: state-no-bits): read without bits, the state was
     * formatted with bits=0, which no reader takes; the key would be unreadable once written */
    snprintf(buf, sizeof(buf), "v=1\n%s", base);
    parse_refused(buf, "missing");
    snprintf(buf, sizeof(buf), "v=1\n%sno equals sign\n", base);
    parse_refused(buf, "name=value");
    memset(buf, 'a', sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    memcpy(buf, "v=1\nkind=", 9);
    parse_refused(buf, "too long");
    {
        const uint8_t nul[] = "v=1\nkind=RSA\0\nops=wrap,unwrap\nretention-days=30\n";
        ks_state s;
        const char *why;

        CU_ASSERT_FALSE(ks_state_parse(nul, sizeof(nul) - 1, &s, &why));
    }
}

static void test_ops_pairs(void)
{
    char buf[64];

    CU_ASSERT_EQUAL(ks_ops_parse("wrap,unwrap"), KS_OP_WRAP | KS_OP_UNWRAP);
    CU_ASSERT_EQUAL(ks_ops_parse("unwrap,wrap,sign,verify"), 0xfu);
    CU_ASSERT_EQUAL(ks_ops_parse("sign,verify"), KS_OP_SIGN | KS_OP_VERIFY);
    CU_ASSERT_EQUAL(ks_ops_parse("wrap"), 0);
    CU_ASSERT_EQUAL(ks_ops_parse("wrap,unwrap,sign"), 0);
    CU_ASSERT_EQUAL(ks_ops_parse("wrap,unwrap,decrypt"), 0);
    CU_ASSERT_EQUAL(ks_ops_parse(""), 0);
    ks_ops_format(0xfu, buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "wrap,unwrap,sign,verify");
    CU_ASSERT_EQUAL(ks_ops_p11(KS_OP_WRAP | KS_OP_UNWRAP), P11_OP_DECRYPT);
    CU_ASSERT_EQUAL(ks_ops_p11(0xfu), P11_OP_DECRYPT | P11_OP_SIGN);
}

static void test_times(void)
{
    char buf[40];

    CU_ASSERT_EQUAL(ks_time_parse("2026-12-31"), 1798675200LL);
    CU_ASSERT_EQUAL(ks_time_parse("2026-12-31T08:00:00Z"), 1798675200LL + 8 * 3600);
    CU_ASSERT_EQUAL(ks_time_parse("@1234"), 1234);
    CU_ASSERT_TRUE(ks_time_parse("+1d") > 0);
    CU_ASSERT_EQUAL(ks_time_parse("yesterday"), -1);
    CU_ASSERT_EQUAL(ks_time_parse("2026-12-31T08:00:00+02:00"), -1);
    CU_ASSERT_EQUAL(ks_time_parse("@12x"), -1);
    CU_ASSERT_EQUAL(ks_time_parse("+3w"), -1);
    /* found by fuzz/fuzz_config.c (corpus: value-time-overflow): the span overflowed */
    CU_ASSERT_EQUAL(ks_time_parse("+888888888888888888h"), -1);
    CU_ASSERT_EQUAL(ks_time_parse("+9223372036854775807s"), -1);
    CU_ASSERT_EQUAL(ks_time_parse("+106751991167301d"), -1);
    CU_ASSERT_TRUE(ks_time_parse("+36500d") > 0);
    ks_time_format(1798675200LL, buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "2026-12-31T00:00:00Z");
    ks_time_format(0, buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "-");
}

/* New wraps and new signatures are each held to the key's own ops, and expiry says what is
 * still allowed. */
static void test_use_ok_per_operation(void)
{
    ks_state wrap = {.ops = KS_OP_WRAP | KS_OP_UNWRAP}, sign = {.ops = KS_OP_SIGN | KS_OP_VERIFY};
    char why[200];

    CU_ASSERT_TRUE(ks_state_wrap_ok(&wrap, 1000, why, sizeof(why)));
    CU_ASSERT_FALSE(ks_state_sign_ok(&wrap, 1000, why, sizeof(why)));
    CU_ASSERT_STRING_EQUAL(why, "is not permitted to sign");
    CU_ASSERT_TRUE(ks_state_sign_ok(&sign, 1000, why, sizeof(why)));
    CU_ASSERT_FALSE(ks_state_wrap_ok(&sign, 1000, why, sizeof(why)));
    CU_ASSERT_STRING_EQUAL(why, "is not permitted to wrap");
    sign.expires = 1000;
    CU_ASSERT_FALSE(ks_state_sign_ok(&sign, 1000, why, sizeof(why)));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, ": it still verifies, but signs nothing new"));
    sign.expires = 0;
    sign.not_before = 2000;
    CU_ASSERT_FALSE(ks_state_sign_ok(&sign, 1000, why, sizeof(why)));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "is not valid before "));
    wrap.expires = 999;
    CU_ASSERT_FALSE(ks_state_wrap_ok(&wrap, 1000, why, sizeof(why)));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, ": it still unwraps, but wraps nothing new"));
}

int main(void)
{
    CU_pSuite s;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("ks_state", NULL, NULL);
    CU_add_test(s, "state_round_trip", test_state_round_trip);
    CU_add_test(s, "state_refuses_malformed", test_state_refuses_malformed);
    CU_add_test(s, "ops_pairs", test_ops_pairs);
    CU_add_test(s, "times", test_times);
    CU_add_test(s, "use_ok_per_operation", test_use_ok_per_operation);
    return testlib_run();
}
