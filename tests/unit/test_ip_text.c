/* SPDX-License-Identifier: Apache-2.0 */
/* ip_text: mxv_inet_ntop() writes what glibc's inet_ntop() writes, for
 * every value of every IPv4 octet and for IPv6, and refuses a buffer one
 * octet too small the same way. */
#include "ip_text.h"
#include "unit_main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

static void same_as_glibc(int family, const void *addr)
{
    char want[INET6_ADDRSTRLEN], got[INET6_ADDRSTRLEN];
    CU_ASSERT_PTR_NOT_NULL_FATAL(inet_ntop(family, addr, want, sizeof(want)));
    CU_ASSERT_PTR_EQUAL(mxv_inet_ntop(family, addr, got, sizeof(got)), got);
    CU_ASSERT_STRING_EQUAL(got, want);
    /* exactly enough room, then one octet less: ENOSPC, buffer untouched */
    size_t need = strlen(want) + 1;
    memset(got, 'x', sizeof(got));
    CU_ASSERT_PTR_EQUAL(mxv_inet_ntop(family, addr, got, need), got);
    CU_ASSERT_STRING_EQUAL(got, want);
    memset(got, 'x', sizeof(got));
    errno = 0;
    CU_ASSERT_PTR_NULL(mxv_inet_ntop(family, addr, got, need - 1));
    CU_ASSERT_EQUAL(errno, ENOSPC);
    if (family == AF_INET)
        CU_ASSERT_EQUAL(got[0], 'x');
}

static void test_every_octet_value(void)
{
    for (unsigned v = 0; v < 256; v++)
        for (int at = 0; at < 4; at++) {
            unsigned char a[4] = {192, 0, 2, 1};
            a[at] = (unsigned char)v;
            same_as_glibc(AF_INET, a);
        }
    static const unsigned char ends[][4] = {{0, 0, 0, 0}, {255, 255, 255, 255}, {10, 100, 9, 99}};
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
        same_as_glibc(AF_INET, ends[i]);
}

static void test_ipv6_and_others(void)
{
    struct in6_addr a6;
    CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET6, "2001:db8::1", &a6), 1);
    same_as_glibc(AF_INET6, &a6);
    CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET6, "::ffff:192.0.2.1", &a6), 1);
    same_as_glibc(AF_INET6, &a6);
    char out[64];
    errno = 0;
    CU_ASSERT_PTR_NULL(mxv_inet_ntop(AF_UNIX, &a6, out, sizeof(out)));
    CU_ASSERT_EQUAL(errno, EAFNOSUPPORT);
}

int main(void)
{
    static const unit_test tests[] = {
        {"every IPv4 octet value formats as inet_ntop() does", test_every_octet_value},
        {"IPv6 and other families as inet_ntop()", test_ipv6_and_others},
        {NULL, NULL},
    };
    return unit_run("ip_text", NULL, NULL, tests);
}
