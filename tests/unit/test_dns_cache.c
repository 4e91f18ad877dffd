/* SPDX-License-Identifier: Apache-2.0 */
/* test_dns_cache: the process's own answer cache in front of libunbound:
 * what it keeps and hands back, how long, how many (growing as needed),
 * and which answer goes when it is full, in answers or in bytes (the
 * least recently used). */
#include "dns_cache.h"
#include "numbered.h"
#include "unit_main.h"

#include <stdio.h>
#include <string.h>

static void put_numbered(mxv_dns_cache *c, int i, time_t now)
{
    char name[64];
    uint8_t rdata[4];
    mxv_dns_answer a;
    numbered(i, MXV_SEC_SECURE, name, sizeof(name), rdata, &a);
    mxv_dns_cache_put(c, name, 1, now, 3600, &a);
}

/* 1: the answer of name i; 0: a miss; -1: anything else (never). */
static int get_numbered(mxv_dns_cache *c, int i, time_t now)
{
    char name[64];
    uint8_t rdata[4];
    mxv_dns_answer a, got;
    numbered(i, MXV_SEC_SECURE, name, sizeof(name), rdata, &a);
    if (!mxv_dns_cache_get(c, name, 1, now, &got))
        return 0;
    return got.status == MXV_DNS_OK && got.sec == MXV_SEC_SECURE && got.n == 1 &&
                   got.rdlen[0] == 4 && memcmp(got.rdata[0], rdata, 4) == 0
               ? 1
               : -1;
}

static void test_round_trip(void)
{
    mxv_dns_cache *c = mxv_dns_cache_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    mxv_dns_answer got;
    CU_ASSERT_FALSE(mxv_dns_cache_get(c, "example.net", 15, 1000, &got)); /* empty */
    static const uint8_t mx[] = {0, 10, 2, 'm', 'x', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
    static const uint8_t addr[] = {192, 0, 2, 1};
    mxv_dns_answer a = {.status = MXV_DNS_OK, .sec = MXV_SEC_INSECURE, .n = 2};
    a.rdata[0] = mx;
    a.rdlen[0] = sizeof(mx);
    a.rdata[1] = addr;
    a.rdlen[1] = sizeof(addr);
    mxv_dns_cache_put(c, "example.net", 15, 1000, 300, &a);
    CU_ASSERT_TRUE_FATAL(mxv_dns_cache_get(c, "EXAMPLE.net", 15, 1299, &got));
    CU_ASSERT_EQUAL(got.status, MXV_DNS_OK);
    CU_ASSERT_EQUAL(got.sec, MXV_SEC_INSECURE);
    CU_ASSERT_EQUAL(got.n, 2);
    CU_ASSERT_TRUE(got.rdlen[0] == sizeof(mx) && memcmp(got.rdata[0], mx, sizeof(mx)) == 0);
    CU_ASSERT_TRUE(got.rdlen[1] == sizeof(addr) && memcmp(got.rdata[1], addr, 4) == 0);
    CU_ASSERT_PTR_NOT_EQUAL(got.rdata[0], mx); /* a copy */
    CU_ASSERT_FALSE(mxv_dns_cache_get(c, "example.net", 1, 1001, &got));
    CU_ASSERT_FALSE(mxv_dns_cache_get(c, "example.ne", 15, 1001, &got));
    /* NODATA, with its detail, is kept; failures are not. */
    mxv_dns_answer nodata = {.status = MXV_DNS_NODATA};
    snprintf(nodata.detail, sizeof(nodata.detail), "NXDOMAIN");
    mxv_dns_cache_put(c, "gone.example", 1, 1000, 60, &nodata);
    CU_ASSERT_TRUE_FATAL(mxv_dns_cache_get(c, "gone.example", 1, 1001, &got));
    CU_ASSERT_EQUAL(got.status, MXV_DNS_NODATA);
    CU_ASSERT_STRING_EQUAL(got.detail, "NXDOMAIN");
    mxv_dns_answer fail = {.status = MXV_DNS_FAIL};
    mxv_dns_cache_put(c, "fail.example", 1, 1000, 60, &fail);
    CU_ASSERT_FALSE(mxv_dns_cache_get(c, "fail.example", 1, 1001, &got));
    mxv_dns_cache_put(c, "zero.example", 1, 1000, 0, &a);
    CU_ASSERT_FALSE(mxv_dns_cache_get(c, "zero.example", 1, 1000, &got));
    /* A new answer for the same name replaces the old one. */
    mxv_dns_cache_put(c, "Example.NET", 15, 1050, 300, &nodata);
    CU_ASSERT_TRUE(mxv_dns_cache_get(c, "example.net", 15, 1051, &got));
    CU_ASSERT_EQUAL(got.status, MXV_DNS_NODATA);
    CU_ASSERT_EQUAL(mxv_dns_cache_count(c), 2);
    mxv_dns_cache_free(c);
}

static void test_expiry(void)
{
    mxv_dns_cache *c = mxv_dns_cache_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    uint8_t rdata[4];
    char name[64];
    mxv_dns_answer a, got;
    numbered(1, MXV_SEC_SECURE, name, sizeof(name), rdata, &a);
    mxv_dns_cache_put(c, name, 1, 1000, 5, &a);
    CU_ASSERT_TRUE(mxv_dns_cache_get(c, name, 1, 1004, &got));
    mxv_dns_answer expired;
    CU_ASSERT_FALSE(mxv_dns_cache_get(c, name, 1, 1005, &expired));
    /* A get frees nothing: the answer got before is still readable. */
    CU_ASSERT_EQUAL(mxv_dns_cache_count(c), 1);
    CU_ASSERT_EQUAL(memcmp(got.rdata[0], rdata, 4), 0);
    /* Puts drop the expired answers they meet. */
    for (int i = 2; i < 20002; i++)
        put_numbered(c, i, 1006);
    CU_ASSERT_EQUAL(mxv_dns_cache_count(c), 20000);
    mxv_dns_cache_free(c);
    c = mxv_dns_cache_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* A week-long TTL is kept an hour. */
    mxv_dns_cache_put(c, name, 1, 1000, 7 * 86400, &a);
    CU_ASSERT_TRUE(mxv_dns_cache_get(c, name, 1, 4599, &got));
    CU_ASSERT_FALSE(mxv_dns_cache_get(c, name, 1, 4600, &got));
    mxv_dns_cache_free(c);
}

/* Tens of thousands of destinations: all kept (the table grows). */
static void test_holds_many(void)
{
    mxv_dns_cache *c = mxv_dns_cache_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    enum { N = 50000 };
    for (int i = 0; i < N; i++)
        put_numbered(c, i, 1000);
    CU_ASSERT_EQUAL(mxv_dns_cache_count(c), N);
    int found = 0, wrong = 0;
    for (int i = 0; i < N; i++) {
        int got = get_numbered(c, i, 1001);
        found += got == 1;
        wrong += got < 0;
    }
    CU_ASSERT_EQUAL(found, N);
    CU_ASSERT_EQUAL(wrong, 0);
    mxv_dns_cache_free(c);
}

/* Full: the least recently used answer goes, one per new answer; a hit
 * counts as a use. */
static void test_least_recently_used_goes(void)
{
    mxv_dns_cache *c = mxv_dns_cache_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    for (int i = 0; i < MXV_DNS_CACHE_MAX; i++)
        put_numbered(c, i, 1000);
    CU_ASSERT_EQUAL(mxv_dns_cache_count(c), MXV_DNS_CACHE_MAX);
    CU_ASSERT_EQUAL(get_numbered(c, 0, 1001), 1); /* 0 used: 1 is the oldest now */
    put_numbered(c, MXV_DNS_CACHE_MAX, 1001);
    CU_ASSERT_EQUAL(mxv_dns_cache_count(c), MXV_DNS_CACHE_MAX);
    CU_ASSERT_EQUAL(get_numbered(c, 1, 1002), 0);
    CU_ASSERT_EQUAL(get_numbered(c, 0, 1002), 1);
    CU_ASSERT_EQUAL(get_numbered(c, 2, 1002), 1);
    CU_ASSERT_EQUAL(get_numbered(c, MXV_DNS_CACHE_MAX, 1002), 1);
    /* A replaced answer evicts nothing. */
    put_numbered(c, 3, 1002);
    CU_ASSERT_EQUAL(get_numbered(c, 4, 1002), 1);
    CU_ASSERT_EQUAL(mxv_dns_cache_count(c), MXV_DNS_CACHE_MAX);
    /* Another 1,000: the next 1,000 oldest go (5 to 1,004, as 0 to 4 were
     * used since). */
    for (int i = 0; i < 1000; i++)
        put_numbered(c, MXV_DNS_CACHE_MAX + 1 + i, 1003);
    int gone = 0;
    for (int i = 5; i < 1005; i++)
        gone += get_numbered(c, i, 1004) == 0;
    CU_ASSERT_EQUAL(gone, 1000);
    CU_ASSERT_EQUAL(get_numbered(c, 1005, 1004), 1);
    mxv_dns_cache_free(c);
}

/* An answer of name i with one record of `len` bytes that says i. */
static void put_big(mxv_dns_cache *c, int i, size_t len, time_t now)
{
    static uint8_t rdata[8192];
    char name[64];
    mxv_dns_answer a;
    numbered(i, MXV_SEC_SECURE, name, sizeof(name), rdata, &a);
    a.rdlen[0] = len;
    mxv_dns_cache_put(c, name, 1, now, 3600, &a);
}

/* Big answers: the bytes held stay within the budget, the least recently
 * used going first; an answer above the per-answer cap is not kept, the
 * largest legitimate one (32 TLSA records with SHA-512 digests) is. */
static void test_byte_budget(void)
{
    mxv_dns_cache *c = mxv_dns_cache_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    enum { N = 6000 }; /* 6,000 answers of 8 KB: 48 MB */
    size_t most = 0;
    for (int i = 0; i < N; i++) {
        put_big(c, i, 8192, 1000);
        if (mxv_dns_cache_bytes(c) > most)
            most = mxv_dns_cache_bytes(c);
    }
    CU_ASSERT_TRUE(most <= MXV_DNS_CACHE_BYTES);
    CU_ASSERT_TRUE(mxv_dns_cache_bytes(c) > MXV_DNS_CACHE_BYTES - MXV_DNS_CACHE_ENTRY_MAX);
    CU_ASSERT_TRUE(mxv_dns_cache_count(c) < N);
    CU_ASSERT_EQUAL(get_numbered(c, 0, 1001), 0);
    int found = 0;
    char name[64];
    uint8_t rdata[4];
    mxv_dns_answer a, got;
    for (int i = N - 1000; i < N; i++) {
        numbered(i, MXV_SEC_SECURE, name, sizeof(name), rdata, &a);
        found += mxv_dns_cache_get(c, name, 1, 1001, &got) && got.n == 1 && got.rdlen[0] == 8192 &&
                 memcmp(got.rdata[0], rdata, 4) == 0;
    }
    CU_ASSERT_EQUAL(found, 1000);
    mxv_dns_cache_free(c);

    c = mxv_dns_cache_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    static uint8_t tlsa[MXV_DNS_MAX_RECORDS][67];
    a = (mxv_dns_answer){.status = MXV_DNS_OK, .n = MXV_DNS_MAX_RECORDS};
    for (size_t i = 0; i < MXV_DNS_MAX_RECORDS; i++) {
        a.rdata[i] = tlsa[i];
        a.rdlen[i] = sizeof(tlsa[i]);
    }
    mxv_dns_cache_put(c, "_25._tcp.mx.example", 52, 1000, 300, &a);
    CU_ASSERT_TRUE(mxv_dns_cache_get(c, "_25._tcp.mx.example", 52, 1001, &got));
    static uint8_t huge[3][8192];
    a = (mxv_dns_answer){.status = MXV_DNS_OK, .n = 3};
    for (size_t i = 0; i < 3; i++) {
        a.rdata[i] = huge[i];
        a.rdlen[i] = sizeof(huge[i]);
    }
    mxv_dns_cache_put(c, "huge.example", 16, 1000, 300, &a);
    CU_ASSERT_FALSE(mxv_dns_cache_get(c, "huge.example", 16, 1001, &got));
    CU_ASSERT_EQUAL(mxv_dns_cache_count(c), 1);
    CU_ASSERT_TRUE(mxv_dns_cache_bytes(c) < MXV_DNS_CACHE_ENTRY_MAX);
    mxv_dns_cache_free(c);
}

int main(void)
{
    static const unit_test tests[] = {
        {"an answer comes back whole, for its name and type only", test_round_trip},
        {"answers expire with their TTL, an hour at most", test_expiry},
        {"50,000 answers are kept", test_holds_many},
        {"when full, the least recently used answer goes", test_least_recently_used_goes},
        {"big answers stay within the byte budget; oversized ones are not kept", test_byte_budget},
        {NULL, NULL},
    };
    return unit_run("dns_cache", NULL, NULL, tests);
}
