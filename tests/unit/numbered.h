/* SPDX-License-Identifier: Apache-2.0 */
/* numbered: answers for the DNS cache tests, one per number, each telling
 * its number, so that an answer handed out for another name cannot go
 * unnoticed. */
#ifndef MXV_TEST_NUMBERED_H
#define MXV_TEST_NUMBERED_H

#include "dns.h"

#include <stdio.h>

/* The answer of name number i ("hostI.example"): an A record 10.x.y.z
 * that says i, with DNSSEC status sec; its rdata in `rdata`. */
static inline void numbered(int i, mxv_dnssec_status sec, char *name, size_t len, uint8_t rdata[4],
                            mxv_dns_answer *a)
{
    snprintf(name, len, "host%d.example", i);
    rdata[0] = 10;
    rdata[1] = (uint8_t)(i >> 16);
    rdata[2] = (uint8_t)(i >> 8);
    rdata[3] = (uint8_t)i;
    *a = (mxv_dns_answer){.status = MXV_DNS_OK, .sec = sec, .n = 1};
    a->rdata[0] = rdata;
    a->rdlen[0] = 4;
}

#endif
