/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns_answer: the answer records of a DNS response the program received
 * (res_query and friends). Untrusted input: every offset is checked, name
 * compression may only point backwards, and a name is at most 255 octets.
 */
#include "shim.h"

#include <stdio.h>

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
    size_t o = 0, total = 0;
    if (outlen == 0)
        return false;
    for (unsigned hops = 0; at < len;) {
        uint8_t b = msg[at];
        if (b == 0) {
            out[o] = '\0';
            return true;
        }
        if ((b & 0xc0) == 0xc0) {
            if (at + 2 > len || ++hops > 64)
                return false;
            size_t target = (size_t)(b & 0x3f) << 8 | msg[at + 1];
            if (target >= at)
                return false; /* only backwards: no loops */
            at = target;
            continue;
        }
        if (b & 0xc0 || at + 1 + b > len)
            return false;
        total += 1u + b;
        if (total > 255 || o + b + 2 > outlen)
            return false;
        if (o)
            out[o++] = '.';
        for (size_t i = 0; i < b; i++) {
            uint8_t c = msg[at + 1 + i];
            out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        at += 1u + b;
    }
    return false;
}

bool shim_dns_answer_walk(const uint8_t *msg, size_t len, shim_answer_cb cb, void *arg)
{
    unsigned qd, an;
    if (!msg || len < HEADER_LEN || !get16(msg, len, 4, &qd) || !get16(msg, len, 6, &an))
        return false;
    size_t at = HEADER_LEN;
    for (unsigned i = 0; i < qd; i++)
        if (!skip_name(msg, len, at, &at) || (at += 4) > len)
            return false;
    for (unsigned i = 0; i < an; i++) {
        unsigned type, rdlen;
        if (!skip_name(msg, len, at, &at) || !get16(msg, len, at, &type) ||
            !get16(msg, len, at + 8, &rdlen) || at + 10 + rdlen > len)
            return false;
        cb(arg, (int)type, msg + at + 10, rdlen, msg, len);
        at += 10u + rdlen;
    }
    return true;
}
