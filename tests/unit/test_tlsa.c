/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLSA records (core/tlsa.h): one row per record as DNS carries it or as
 * `explain --tlsa` takes it, with whether it reads, whether DANE for SMTP
 * can use it (RFC 7672 section 3.1.3), and why not.
 */
#include "tlsa.h"
#include "unit_main.h"

#include <stdio.h>
#include <string.h>

#define D32 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D64 D32 D32
#define D31 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"

typedef struct {
    const char *name;
    const char *text; /* presentation form */
    bool reads;       /* mxv_tlsa_from_text accepts it */
    const char *why;  /* substring of why it does not read, or of why it is unusable */
    uint8_t usage;    /* when it reads */
    size_t len;       /* data octets, when it reads */
    bool usable;
} text_row;

static const text_row text_rows[] = {
    {"DANE-EE SPKI SHA2-256, numbers", "3 1 1 " D32, true, NULL, 3, 32, true},
    {"acronyms in any case, data split as dig prints it",
     "dane-ee spki SHA2-256 01234567 89abcdef 0123456789abcdef\t0123456789ABCDEF0123456789abcdef",
     true, NULL, 3, 32, true},
    {"DANE-TA Cert SHA2-512", "DANE-TA Cert SHA2-512 " D64, true, NULL, 2, 64, true},
    {"DANE-EE Cert Full", "3 0 0 3082010a", true, NULL, 3, 4, true},
    {"PKIX-EE is not used for SMTP", "PKIX-EE 1 1 " D32, true, "not used for SMTP", 1, 32, false},
    {"PKIX-TA is not used for SMTP", "0 0 1 " D32, true, "not used for SMTP", 0, 32, false},
    {"an unknown usage reads, unusable", "4 1 1 " D32, true, "unknown certificate usage", 4, 32,
     false},
    {"an unknown selector", "3 2 1 " D32, true, "unknown selector", 3, 32, false},
    {"an unknown matching type", "3 1 3 " D32, true, "unknown matching type", 3, 32, false},
    {"a SHA2-256 digest of 31 octets", "3 1 1 " D31, true, "not 32 octets", 3, 31, false},
    {"a SHA2-256 digest of 33 octets", "3 1 1 " D32 "ab", true, "not 32 octets", 3, 33, false},
    {"a SHA2-512 digest of 32 octets", "3 1 2 " D32, true, "not 64 octets", 3, 32, false},
    {"no data", "3 1 1", false, "no association data", 0, 0, false},
    {"no data, trailing blanks", "3 1 1   ", false, "no association data", 0, 0, false},
    {"no matching type", "3 1", false, "no matching type", 0, 0, false},
    {"nothing", "", false, "no usage", 0, 0, false},
    {"an odd number of digits", "3 1 1 abc", false, "not hexadecimal", 0, 0, false},
    {"not hexadecimal", "3 1 1 zz", false, "not hexadecimal", 0, 0, false},
    {"colons are not hexadecimal", "3 1 1 ab:cd", false, "not hexadecimal", 0, 0, false},
    {"a usage over 255", "256 1 1 ab", false, "usage \"256\"", 0, 0, false},
    {"a negative usage", "-1 1 1 ab", false, "usage \"-1\"", 0, 0, false},
    {"a misspelt acronym", "DANE-EF 1 1 ab", false, "DANE-EE", 0, 0, false},
    {"a selector that is a word", "3 key 1 ab", false, "selector \"key\"", 0, 0, false},
};

static void test_text(void)
{
    for (size_t i = 0; i < sizeof(text_rows) / sizeof(text_rows[0]); i++) {
        const text_row *r = &text_rows[i];
        static mxv_tlsa t;
        char why[256] = "";
        bool reads = mxv_tlsa_from_text(r->text, &t, why, sizeof(why));
        const char *unusable = reads ? mxv_tlsa_unusable(&t) : NULL;
        bool ok = reads == r->reads;
        if (ok && !reads)
            ok = strstr(why, r->why) != NULL;
        if (ok && reads)
            ok = t.usage == r->usage && t.len == r->len && (unusable == NULL) == r->usable &&
                 (!r->why || (unusable && strstr(unusable, r->why)));
        if (!ok)
            fprintf(stderr, "\nrow \"%s\": reads %d, why \"%s\", unusable \"%s\"\n", r->name, reads,
                    why, unusable ? unusable : "");
        CU_ASSERT_TRUE(ok);
    }
}

static void test_rdata(void)
{
    static mxv_tlsa t;
    char why[256];
    unsigned char rdata[3 + MXV_TLSA_DATA_MAX + 1] = {3, 1, 1};
    memset(rdata + 3, 0xab, sizeof(rdata) - 3);
    CU_ASSERT_TRUE(mxv_tlsa_from_rdata(rdata, 3 + 32, &t, why, sizeof(why)));
    CU_ASSERT_EQUAL(t.usage, 3);
    CU_ASSERT_EQUAL(t.selector, 1);
    CU_ASSERT_EQUAL(t.mtype, 1);
    CU_ASSERT_EQUAL(t.len, 32);
    CU_ASSERT_EQUAL(t.data[31], 0xab);
    CU_ASSERT_PTR_NULL(mxv_tlsa_unusable(&t));
    /* Three octets: no data, a record that cannot be read (not left out). */
    CU_ASSERT_FALSE(mxv_tlsa_from_rdata(rdata, 3, &t, why, sizeof(why)));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "at least 4"));
    CU_ASSERT_FALSE(mxv_tlsa_from_rdata(NULL, 0, &t, why, sizeof(why)));
    /* The most data taken, and one octet more. */
    rdata[2] = 0;
    CU_ASSERT_TRUE(mxv_tlsa_from_rdata(rdata, 3 + MXV_TLSA_DATA_MAX, &t, why, sizeof(why)));
    CU_ASSERT_EQUAL(t.len, MXV_TLSA_DATA_MAX);
    CU_ASSERT_FALSE(mxv_tlsa_from_rdata(rdata, sizeof(rdata), &t, why, sizeof(why)));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "at most 4096"));
}

static void test_names(void)
{
    char buf[16];
    CU_ASSERT_STRING_EQUAL(mxv_tlsa_usage_name(3, buf), "DANE-EE(3)");
    CU_ASSERT_STRING_EQUAL(mxv_tlsa_usage_name(2, buf), "DANE-TA(2)");
    CU_ASSERT_STRING_EQUAL(mxv_tlsa_usage_name(0, buf), "PKIX-TA(0)");
    CU_ASSERT_STRING_EQUAL(mxv_tlsa_usage_name(200, buf), "usage 200");
}

static void test_format(void)
{
    static mxv_tlsa t;
    char why[256], out[256];
    CU_ASSERT_TRUE_FATAL(mxv_tlsa_from_text("DANE-EE SPKI SHA2-256 " D32, &t, why, sizeof(why)));
    CU_ASSERT_STRING_EQUAL(mxv_tlsa_format(&t, out, sizeof(out)), "3 1 1 " D32);
    /* Read back, the same record. */
    static mxv_tlsa again;
    CU_ASSERT_TRUE(mxv_tlsa_from_text(out, &again, why, sizeof(why)));
    CU_ASSERT_TRUE(again.len == t.len && memcmp(again.data, t.data, t.len) == 0);
    /* Cut, and said to be. */
    CU_ASSERT_STRING_EQUAL(mxv_tlsa_format(&t, out, 16), "3 1 1 01234...");
    CU_ASSERT_STRING_EQUAL(mxv_tlsa_format(&t, out, 4), "3 1");
}

int main(void)
{
    static const unit_test tests[] = {{"presentation form", test_text},
                                      {"RDATA", test_rdata},
                                      {"usage names", test_names},
                                      {"format", test_format},
                                      {NULL, NULL}};
    return unit_run("tlsa", NULL, NULL, tests);
}
