/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential test: mxverify's matcher against OpenSSL's X509_check_host
 * (with X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS), over a table in the spirit
 * of OpenSSL's test/v3nametest.c, restricted to where the two rule sets
 * coincide. Known differences, left out on purpose:
 *  - OpenSSL compares non-wildcard names byte for byte, so names with
 *    characters outside letters/digits/hyphen/dot (or NUL) can match
 *    there; policy.md 1 says they never match. Only LDH names are used.
 *  - OpenSSL does not let a wildcard cover an A-label ("xn--...") left
 *    label; policy.md follows RFC 6125, which forbids only partial
 *    wildcards in A-labels. Such references are left out.
 *  - Trailing dots: policy.md ignores one on either side; OpenSSL's
 *    handling differs by side. No trailing dots here.
 */
#include "names.h"
#include "testcert.h"
#include "unit_main.h"

#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const presented[] = {
    "example.com",
    "www.example.com",
    "WWW.EXAMPLE.com",
    "*.example.com",
    "*.www.example.com",
    "w*.example.com",
    "*w.example.com",
    "w*w.example.com",
    "*.com",
    "www.*.com",
    "**.example.com",
    "*",
    "a.b.example.com",
    "*.b.example.com",
    "*.example",
    "xn--bcher-kva.example",
    "*.xn--bcher-kva.example",
    "example-1.com",
    "*.example-1.com",
    "mx01.subd.emailhosted.not",
    "*.emailhosted.not",
    "emailhosted.not",
    "*.subd.emailhosted.not",
};

static const char *const references[] = {
    "example.com",
    "www.example.com",
    "WWW.Example.COM",
    "a.www.example.com",
    "w.example.com",
    "ww.example.com",
    "wxw.example.com",
    "example.net",
    "b.example.com",
    "a.b.example.com",
    "com",
    "x.example",
    "xn--bcher-kva.example",
    "x.xn--bcher-kva.example",
    "example-1.com",
    "www.example-1.com",
    "mx0a.emailhosted.not",
    "mx01.subd.emailhosted.not",
    "emailhosted.not",
    "subd.emailhosted.not",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool excluded(const char *ref)
{
    return strncasecmp(ref, "xn--", 4) == 0;
}

static void test_agrees_with_openssl(void)
{
    tc_pair ca = tc_make_ca("differential CA", NULL);
    size_t compared = 0, matches = 0;
    for (size_t i = 0; i < N(presented); i++) {
        const tc_name names[] = {{"DNS", presented[i], 0}, {NULL, NULL, 0}};
        tc_pair leaf = tc_make_leaf(&(tc_leaf_spec){.names = names}, &ca);
        CU_ASSERT_FATAL(leaf.cert != NULL);
        for (size_t j = 0; j < N(references); j++) {
            if (excluded(references[j]))
                continue;
            char ref[MXV_NAME_MAX + 1];
            CU_ASSERT_FATAL(mxv_reference_normalize(references[j], ref, sizeof(ref), NULL));
            bool ours = mxv_name_matches(presented[i], strlen(presented[i]), ref);
            bool theirs = X509_check_host(leaf.cert, references[j], 0,
                                          X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
            if (ours != theirs)
                fprintf(stderr, "disagree: %s ~ %s: mxverify %d, OpenSSL %d\n", presented[i],
                        references[j], ours, theirs);
            CU_ASSERT_EQUAL(ours, theirs);
            compared++;
            matches += ours;
        }
        tc_free(&leaf);
    }
    tc_free(&ca);
    printf("\n  compared %zu pairs with X509_check_host (%zu matches)\n", compared, matches);
    /* The table must exercise both outcomes, or it proves nothing. */
    CU_ASSERT_TRUE(compared > 300);
    CU_ASSERT_TRUE(matches >= 10);
}

int main(void)
{
    static const unit_test tests[] = {
        {"agrees with X509_check_host", test_agrees_with_openssl},
        {NULL, NULL},
    };
    return unit_run("names_differential", NULL, NULL, tests);
}
