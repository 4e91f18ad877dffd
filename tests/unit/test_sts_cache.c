/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The MTA-STS policy cache (core/sts_cache.c): kept for max_age in the
 * process and in the shared file; a policy fetched under another scope
 * (resolver, anchors) is never used; a damaged file is a miss, never a
 * policy; a domain's newer policy replaces its older one; a busy file
 * keeps the policies that expire last.
 */
#include "sts_cache.h"
#include "unit_main.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64] = "/tmp/mxv-sts-cache.XXXXXX";
static char path[128];

static int setup(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/sts.cache", dir);
    return 0;
}

static int teardown(void)
{
    unlink(path);
    rmdir(dir);
    return 0;
}

static mxv_sts_cached entry(const char *domain, const char *id, const char *mx, int64_t fetched,
                            uint32_t max_age)
{
    mxv_sts_cached e;
    memset(&e, 0, sizeof(e));
    snprintf(e.domain, sizeof(e.domain), "%s", domain);
    snprintf(e.id, sizeof(e.id), "%s", id);
    e.fetched = fetched;
    e.expires = fetched + max_age;
    e.policy.mode = MXV_STS_MODE_ENFORCE;
    e.policy.max_age = max_age;
    e.policy.nmx = 1;
    snprintf(e.policy.mx[0], sizeof(e.policy.mx[0]), "%s", mx);
    return e;
}

static mxv_sts_cache *open_cache(uint64_t scope)
{
    char err[256];
    mxv_sts_cache *c = mxv_sts_cache_new(path, scope, err, sizeof(err));
    if (!c)
        printf("\n  %s\n", err);
    CU_ASSERT_FATAL(c != NULL);
    return c;
}

static void test_shared_between_processes(void)
{
    time_t now = time(NULL);
    mxv_sts_cache *a = open_cache(7), *b = open_cache(7), *other = open_cache(8);
    mxv_sts_cached e = entry("example.com", "20261130", "*.mx.example.com", now - 10, 86400), got;
    mxv_sts_cache_put(a, &e);
    CU_ASSERT_TRUE(mxv_sts_cache_get(a, "EXAMPLE.com", now, &got));
    /* Another process (a cache of its own) finds it in the file. */
    CU_ASSERT_TRUE_FATAL(mxv_sts_cache_get(b, "example.com", now, &got));
    CU_ASSERT_STRING_EQUAL(got.id, "20261130");
    CU_ASSERT_EQUAL(got.expires, e.expires);
    CU_ASSERT_EQUAL(got.policy.nmx, 1);
    CU_ASSERT_STRING_EQUAL(got.policy.mx[0], "*.mx.example.com");
    CU_ASSERT_EQUAL(got.policy.mode, MXV_STS_MODE_ENFORCE);
    /* Another scope: never. Expired: never. A subdomain: never. */
    CU_ASSERT_FALSE(mxv_sts_cache_get(other, "example.com", now, &got));
    CU_ASSERT_FALSE(mxv_sts_cache_get(b, "example.com", now + 86400, &got));
    CU_ASSERT_FALSE(mxv_sts_cache_get(b, "sub.example.com", now, &got));
    /* A newer policy replaces the older one, for everyone. */
    mxv_sts_cached newer = entry("example.com", "2", "mx.example.com", now, 600);
    mxv_sts_cache_put(b, &newer);
    mxv_sts_cache *c = open_cache(7);
    CU_ASSERT_TRUE(mxv_sts_cache_get(c, "example.com", now, &got));
    CU_ASSERT_STRING_EQUAL(got.id, "2");
    mxv_sts_cache_free(a), mxv_sts_cache_free(b), mxv_sts_cache_free(c), mxv_sts_cache_free(other);
}

static void test_damaged_file(void)
{
    time_t now = time(NULL);
    mxv_sts_cache *a = open_cache(9);
    mxv_sts_cached e = entry("damaged.example", "1", "mx.damaged.example", now, 86400), got;
    mxv_sts_cache_put(a, &e);
    mxv_sts_cache_free(a);
    /* Every byte after the header flipped where the policy text is. */
    int fd = open(path, O_RDWR);
    CU_ASSERT_FATAL(fd >= 0);
    unsigned char buf[4096];
    for (off_t off = MXV_STS_CACHE_SLOT; pread(fd, buf, sizeof(buf), off) == sizeof(buf);
         off += sizeof(buf)) {
        bool used = false;
        for (size_t i = 0; i < sizeof(buf) && !used; i++)
            used = buf[i] != 0;
        if (used) {
            buf[400] ^= 0x20;
            CU_ASSERT_EQUAL(pwrite(fd, buf, sizeof(buf), off), (ssize_t)sizeof(buf));
        }
    }
    close(fd);
    mxv_sts_cache *b = open_cache(9);
    CU_ASSERT_FALSE(mxv_sts_cache_get(b, "damaged.example", now, &got));
    mxv_sts_cache_free(b);
}

static void test_busy_file(void)
{
    /* Far more policies than slots: each set keeps the four that expire
     * last, and every lookup is a hit or a miss, never another domain's. */
    time_t now = time(NULL);
    mxv_sts_cache *a = open_cache(10);
    for (int i = 0; i < 6000; i++) {
        char domain[64], mx[80];
        snprintf(domain, sizeof(domain), "d%d.example", i);
        snprintf(mx, sizeof(mx), "mx.d%d.example", i);
        mxv_sts_cached e = entry(domain, "1", mx, now, 1000 + (uint32_t)i);
        mxv_sts_cache_put(a, &e);
    }
    mxv_sts_cache_free(a);
    mxv_sts_cache *b = open_cache(10);
    int hits = 0;
    for (int i = 0; i < 6000; i++) {
        char domain[64], mx[80];
        snprintf(domain, sizeof(domain), "d%d.example", i);
        snprintf(mx, sizeof(mx), "mx.d%d.example", i);
        mxv_sts_cached got;
        if (mxv_sts_cache_get(b, domain, now, &got)) {
            hits++;
            CU_ASSERT_STRING_EQUAL(got.policy.mx[0], mx);
        }
    }
    CU_ASSERT(hits > 3000);
    CU_ASSERT(hits <= 4096);
    mxv_sts_cache_free(b);
}

static void test_refused_files(void)
{
    char err[256], other[160];
    snprintf(other, sizeof(other), "%s/not-a-cache", dir);
    FILE *f = fopen(other, "w");
    CU_ASSERT_FATAL(f != NULL);
    fputs("precious data\n", f);
    fclose(f);
    CU_ASSERT_PTR_NULL(mxv_sts_cache_new(other, 1, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not an mxverify MTA-STS policy cache file"));
    unlink(other);
    CU_ASSERT_PTR_NULL(mxv_sts_cache_new(dir, 1, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));
}

int main(void)
{
    static const unit_test tests[] = {
        {"policies are shared through the file, by scope, until max_age",
         test_shared_between_processes},
        {"a damaged slot is a miss", test_damaged_file},
        {"a busy file keeps hits exact", test_busy_file},
        {"files of another kind are refused", test_refused_files},
        {NULL, NULL},
    };
    return unit_run("sts_cache", setup, teardown, tests);
}
