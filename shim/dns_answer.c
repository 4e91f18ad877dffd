/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns_answer: the answer records of a DNS response the program received
 * (res_query and friends). Untrusted input: every offset is checked; names
 * are decoded by libc's dn_expand (docs/decisions.md says why the records
 * are walked here and not by libresolv's ns_parserr).
 */
#include "shim.h"

#include <resolv.h>

#define HEADER_LEN 12

static bool get16(const uint8_t *msg, size_t len, size_t at, unsigned *out)
{
    if (at + 2 > len)
        return false;
    *out = (unsigned)msg[at] << 8 | msg[at + 1];
    return true;
}

/* Offset just past the name at `at` (compression pointers end a name). */
static bool skip_name(const uint8_t *msg, size_t len, size_t at, size_t *next)
{
    for (unsigned labels = 0; at < len && labels < 128; labels++) {
        uint8_t b = msg[at];
        if (b == 0) {
            *next = at + 1;
            return true;
        }
        if ((b & 0xc0) == 0xc0) {
            if (at + 2 > len)
                return false;
            *next = at + 2;
            return true;
        }
        if (b & 0xc0)
            return false;
        at += 1u + b;
    }
    return false;
}

bool shim_dns_name(const uint8_t *msg, size_t len, size_t at, char *out, size_t outlen)
{
    if (at >= len || outlen == 0 || len > 65535 ||
        dn_expand(msg, msg + len, msg + at, out, (int)(outlen > 1024 ? 1024 : outlen)) < 0)
        return false;
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    return true;
}

bool shim_dns_answer_walk(const uint8_t *msg, size_t len, shim_answer_cb cb, void *arg)
{
    unsigned flags, qd, an;
    if (!msg || len < HEADER_LEN || !get16(msg, len, 2, &flags) || (flags & 0xf) != 0 ||
        !get16(msg, len, 4, &qd) || !get16(msg, len, 6, &an))
        return false;
    size_t at = HEADER_LEN;
    for (unsigned i = 0; i < qd; i++)
        if (!skip_name(msg, len, at, &at) || (at += 4) > len)
            return false;
    for (unsigned i = 0; i < an; i++) {
        shim_rr rr = {.owner = at};
        unsigned type, rrclass, ttl_hi, ttl_lo, rdlen;
        if (!skip_name(msg, len, at, &at) || !get16(msg, len, at, &type) ||
            !get16(msg, len, at + 2, &rrclass) || !get16(msg, len, at + 4, &ttl_hi) ||
            !get16(msg, len, at + 6, &ttl_lo) || !get16(msg, len, at + 8, &rdlen) ||
            at + 10 + rdlen > len)
            return false;
        rr.rrtype = (int)type;
        rr.rrclass = (int)rrclass;
        /* RFC 2181 section 8: a TTL with the top bit set counts as zero. */
        rr.ttl = ttl_hi & 0x8000 ? 0 : ttl_hi << 16 | ttl_lo;
        rr.rdata = msg + at + 10;
        rr.rdlen = rdlen;
        cb(arg, &rr, msg, len);
        at += 10u + rdlen;
    }
    return true;
}
