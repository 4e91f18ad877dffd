/* SPDX-License-Identifier: Apache-2.0 */
/*
 * program_dns: the MX RRsets the host program itself received from the
 * system resolver (its res_query/res_search lookups, seen by the preload
 * shim), kept for their TTL so that a decision need not ask the same
 * resolver the same question a moment later (policy.md section 4, the
 * one exception to "every lookup is mxverify's own").
 *
 * Such an answer counts only where asking again could not tell more:
 * mxverify's resolver is the system resolver (no unbound_conf), the
 * destination's dnssec is not `require`, and DANE is off for it (DANE
 * needs its own validated MX RRset, RFC 7672 section 2.2.1). It is then
 * evidence of DNSSEC status `insecure`. Never for PTR names or their
 * forward confirmation: the program did not ask those.
 *
 * Process-wide, bounded, thread-safe; nothing here makes a lookup.
 */
#ifndef MXV_PROGRAM_DNS_H
#define MXV_PROGRAM_DNS_H

#include "dns.h"
#include "settings.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MXV_NAME_WIRE_MAX 255 /* octets of a DNS name in wire form */

/* One MX record as the program received it: preference and the exchange
 * host (lower case, no trailing dot; "" for a null MX). */
typedef struct {
    unsigned pref;
    const char *host;
} mxv_program_mx;

/* The program received, for `domain`'s MX question, exactly these records
 * (the whole RRset, owner name = domain, no alias) with the smallest TTL
 * `ttl` seconds. Kept for that TTL (an hour at most); an RRset larger
 * than MXV_DNS_MAX_RECORDS, an invalid name or ttl 0 is not kept. */
void mxv_program_mx_seen(const char *domain, const mxv_program_mx *records, size_t n, unsigned ttl);

/* May the program's answers stand for mxverify's own lookups under the
 * settings `e` (see above)? */
bool mxv_program_dns_usable(const mxv_effective *e);

/* The program's MX RRset of `domain`, still within its TTL, as an answer
 * of status OK and DNSSEC status `insecure` whose rdata point into *keep
 * (caller's storage, valid while it is). false when there is none. */
typedef struct {
    uint8_t data[MXV_DNS_MAX_RECORDS * (2 + MXV_NAME_WIRE_MAX)];
} mxv_program_answer_storage;
bool mxv_program_mx_get(const char *domain, mxv_dns_answer *out, mxv_program_answer_storage *keep);

/* In a child after fork(): the lock may have been held by another thread
 * of the parent. */
void mxv_program_dns_after_fork(void);

#endif
