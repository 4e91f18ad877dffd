/* SPDX-License-Identifier: Apache-2.0 */
/* test_recent_failures: the memory of refused servers that explains a later
 * clear-text attempt in the log. */
#include "recent_failures.h"
#include "unit_main.h"

#include <stdio.h>
#include <string.h>

static void test_found_by_address(void)
{
    const char *reason = NULL;
    time_t age = -1;
    CU_ASSERT_FALSE(mxv_recent_failure_find("192.0.2.1", 3600, &reason, &age));
    mxv_recent_failure_add("192.0.2.1", "certificate-host-mismatch");
    CU_ASSERT_TRUE(mxv_recent_failure_find("192.0.2.1", 3600, &reason, &age));
    CU_ASSERT_STRING_EQUAL(reason, "certificate-host-mismatch");
    CU_ASSERT(age >= 0 && age <= 1);
    CU_ASSERT_FALSE(mxv_recent_failure_find("192.0.2.1", -1, &reason, &age)); /* too old */
    CU_ASSERT_FALSE(mxv_recent_failure_find("192.0.2.10", 3600, &reason, &age));
    CU_ASSERT_FALSE(mxv_recent_failure_find("", 3600, &reason, &age));
    CU_ASSERT_FALSE(mxv_recent_failure_find(NULL, 3600, &reason, &age));
}

static void test_newest_wins(void)
{
    const char *reason = NULL;
    time_t age;
    mxv_recent_failure_add("2001:db8::7", "certificate-expired");
    mxv_recent_failure_add("2001:db8::7", "certificate-not-trusted");
    CU_ASSERT_TRUE(mxv_recent_failure_find("2001:db8::7", 3600, &reason, &age));
    CU_ASSERT_STRING_EQUAL(reason, "certificate-not-trusted");
    mxv_recent_failure_add("2001:db8::8", NULL);
    CU_ASSERT_TRUE(mxv_recent_failure_find("2001:db8::8", 3600, &reason, &age));
    CU_ASSERT_STRING_EQUAL(reason, "validation-failure");
}

static void test_ring_forgets_the_oldest(void)
{
    const char *reason;
    time_t age;
    mxv_recent_failure_add("198.51.100.200", "certificate-expired");
    char ip[32];
    for (int i = 0; i < 32; i++) {
        snprintf(ip, sizeof(ip), "198.51.100.%d", i);
        mxv_recent_failure_add(ip, "certificate-host-mismatch");
    }
    CU_ASSERT_FALSE(mxv_recent_failure_find("198.51.100.200", 3600, &reason, &age));
    CU_ASSERT_TRUE(mxv_recent_failure_find("198.51.100.0", 3600, &reason, &age));
    CU_ASSERT_TRUE(mxv_recent_failure_find("198.51.100.31", 3600, &reason, &age));
}

static void test_oversized_address_ignored(void)
{
    const char *reason;
    time_t age;
    char long_ip[100];
    memset(long_ip, '1', sizeof(long_ip) - 1);
    long_ip[sizeof(long_ip) - 1] = '\0';
    mxv_recent_failure_add(long_ip, "certificate-expired");
    CU_ASSERT_FALSE(mxv_recent_failure_find(long_ip, 3600, &reason, &age));
}

int main(void)
{
    static const unit_test tests[] = {
        {"a refused server is found by its address, others are not", test_found_by_address},
        {"the newest failure for an address wins", test_newest_wins},
        {"the ring forgets the oldest entry first", test_ring_forgets_the_oldest},
        {"an address too long to be one is not stored", test_oversized_address_ignored},
        {NULL, NULL},
    };
    return unit_run("recent_failures", NULL, NULL, tests);
}
