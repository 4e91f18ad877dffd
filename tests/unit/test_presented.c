/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Presented identifiers from certificates built in memory (policy.md 1):
 * every SAN dNSName and every subject CN, nothing else, raw bytes kept.
 */
#include "presented.h"
#include "testcert.h"
#include "unit_main.h"

#include <string.h>

static tc_pair ca;

static int setup(void)
{
    ca = tc_make_ca("presented test CA", NULL);
    return ca.cert ? 0 : 1;
}

static int cleanup(void)
{
    tc_free(&ca);
    return 0;
}

/* Extracts from a leaf with the given names; the caller clears `p`. */
static void extract(const tc_name *names, bool bmp, mxv_presented *p)
{
    tc_pair leaf = tc_make_leaf(&(tc_leaf_spec){.names = names, .cn_bmpstring = bmp}, &ca);
    CU_ASSERT_FATAL(leaf.cert != NULL);
    CU_ASSERT_FATAL(mxv_presented_from_cert(leaf.cert, p));
    tc_free(&leaf);
}

#define END                                                                                        \
    {                                                                                              \
        NULL, NULL, 0                                                                              \
    }

static void test_dns_then_cn_in_order(void)
{
    const tc_name names[] = {
        {"CN", "cn.example.com", 0}, {"DNS", "a.example.com", 0}, {"DNS", "*.example.net", 0}, END};
    mxv_presented p;
    extract(names, false, &p);
    CU_ASSERT_EQUAL_FATAL(p.n, 3);
    CU_ASSERT_EQUAL(p.n_dns, 2);
    CU_ASSERT_STRING_EQUAL(p.ids[0].name, "a.example.com");
    CU_ASSERT_EQUAL(p.ids[0].type, MXV_ID_DNS);
    CU_ASSERT_STRING_EQUAL(p.ids[1].name, "*.example.net");
    CU_ASSERT_STRING_EQUAL(p.ids[2].name, "cn.example.com");
    CU_ASSERT_EQUAL(p.ids[2].type, MXV_ID_CN);
    CU_ASSERT_TRUE(p.ids[0].valid && p.ids[1].valid && p.ids[2].valid);
    mxv_presented_clear(&p);
}

/* "good.example.com\0.evil.com": kept with its true length, never valid. */
static void test_nul_in_san_and_cn(void)
{
    static const char hostile[] = "good.example.com\0.evil.com";
    const tc_name names[] = {
        {"DNS", hostile, sizeof(hostile) - 1}, {"CN", hostile, sizeof(hostile) - 1}, END};
    mxv_presented p;
    extract(names, false, &p);
    CU_ASSERT_EQUAL_FATAL(p.n, 2);
    for (size_t i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(p.ids[i].len, sizeof(hostile) - 1);
        CU_ASSERT_EQUAL(memcmp(p.ids[i].name, hostile, sizeof(hostile) - 1), 0);
        CU_ASSERT_FALSE(p.ids[i].valid);
    }
    /* A malformed DNS-ID still counts: it hides the CN from `hosted`. */
    CU_ASSERT_EQUAL(p.n_dns, 1);
    mxv_presented_clear(&p);
}

static void test_several_cns(void)
{
    const tc_name names[] = {{"CN", "one.example.com", 0}, {"CN", "two.example.com", 0}, END};
    mxv_presented p;
    extract(names, false, &p);
    CU_ASSERT_EQUAL_FATAL(p.n, 2);
    CU_ASSERT_EQUAL(p.n_dns, 0);
    CU_ASSERT_STRING_EQUAL(p.ids[0].name, "one.example.com");
    CU_ASSERT_STRING_EQUAL(p.ids[1].name, "two.example.com");
    mxv_presented_clear(&p);
}

/* IP, email and URI entries are never compared and are not DNS-IDs. */
static void test_san_without_dns(void)
{
    const tc_name names[] = {{"IP", "192.0.2.1", 0},
                             {"email", "postmaster@example.com", 0},
                             {"URI", "https://example.com/", 0},
                             {"CN", "mx.example.com", 0},
                             END};
    mxv_presented p;
    extract(names, false, &p);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    CU_ASSERT_EQUAL(p.n_dns, 0);
    CU_ASSERT_EQUAL(p.ids[0].type, MXV_ID_CN);
    CU_ASSERT_STRING_EQUAL(p.ids[0].name, "mx.example.com");
    mxv_presented_clear(&p);
}

static void test_no_san(void)
{
    const tc_name names[] = {{"CN", "*.emailhosted.not", 0}, END};
    mxv_presented p;
    extract(names, false, &p);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    CU_ASSERT_EQUAL(p.n_dns, 0);
    CU_ASSERT_TRUE(p.ids[0].valid);
    mxv_presented_clear(&p);
}

/* A CN in a BMPString (UTF-16) is decoded to the same text. */
static void test_bmpstring_cn(void)
{
    const tc_name names[] = {{"CN", "mx.example.com", 0}, END};
    mxv_presented p;
    extract(names, true, &p);
    CU_ASSERT_EQUAL_FATAL(p.n, 1);
    CU_ASSERT_STRING_EQUAL(p.ids[0].name, "mx.example.com");
    CU_ASSERT_EQUAL(p.ids[0].len, strlen("mx.example.com"));
    CU_ASSERT_TRUE(p.ids[0].valid);
    mxv_presented_clear(&p);
}

/* A CN such as "Hosting Operator" is collected but can never match. */
static void test_non_host_cn(void)
{
    const tc_name names[] = {{"DNS", "*.emailhosted.not", 0}, {"CN", "Hosting Operator", 0}, END};
    mxv_presented p;
    extract(names, false, &p);
    CU_ASSERT_EQUAL_FATAL(p.n, 2);
    CU_ASSERT_FALSE(p.ids[1].valid);
    mxv_presented_clear(&p);
}

static void test_null_cert(void)
{
    mxv_presented p;
    CU_ASSERT_TRUE(mxv_presented_from_cert(NULL, &p));
    CU_ASSERT_EQUAL(p.n, 0);
}

int main(void)
{
    static const unit_test tests[] = {
        {"DNS-IDs then CN-IDs, in order", test_dns_then_cn_in_order},
        {"NUL in SAN and CN", test_nul_in_san_and_cn},
        {"several CNs", test_several_cns},
        {"SAN with IP/email/URI only", test_san_without_dns},
        {"no SAN", test_no_san},
        {"BMPString CN", test_bmpstring_cn},
        {"non-host CN", test_non_host_cn},
        {"no certificate", test_null_cert},
        {NULL, NULL},
    };
    return unit_run("presented", setup, cleanup, tests);
}
