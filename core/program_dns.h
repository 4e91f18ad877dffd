/* SPDX-License-Identifier: Apache-2.0 */
/*
 * program_dns: the MX RRsets the host program itself received from the
 * system resolver (its res_query/res_search lookups, seen by the preload
 * shim), kept for their TTL so that a decision need not ask the same
 * resolver the same question a moment later (policy.md section 4, the
 * one exception to "every lookup is mxverify's own").
 *
 * Such an answer stands for mxverify's own MX lookup only where asking
 * again could not tell more (docs/decisions.md):
 * - mxverify's resolver is the system resolver (no unbound_conf), the
 *   destination's dnssec is not `require`, and DANE is off for it (DANE
 *   needs its own validated MX RRset, RFC 7672 section 2.2.1);
 * - and mxverify's own answer would not be validated either (no DNSSEC
 *   validation at all, no root trust anchor, or a resolver path known to
 *   carry no DNSSEC, where bogus answers are taken as insecure), or the
 *   program's answer was validated by a resolver the administrator
 *   trusts (the AD bit under resolv.conf's trust-ad): a forged answer for
 *   a signed zone is then never accepted where mxverify would have
 *   discarded it as bogus.
 * It is then evidence of DNSSEC status `insecure`. Never for PTR names or
 * their forward confirmation: the program did not ask those.
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

struct mxv_policy;

/* One MX record as the program received it: preference and the exchange
 * host (no trailing dot; "" for a null MX). */
typedef struct {
    unsigned pref;
    const char *host;
} mxv_program_mx;

/* The program received, for `domain`'s MX question, exactly these records
 * (the whole RRset, owner name = domain, no alias) with the smallest TTL
 * `ttl` seconds; `authenticated`: validated by a trusted resolver (the AD
 * bit under trust-ad). Kept for that TTL (an hour at most); an RRset
 * larger than MXV_DNS_MAX_RECORDS, an invalid name or ttl 0 is not kept. */
void mxv_program_mx_seen(const char *domain, const mxv_program_mx *records, size_t n, unsigned ttl,
                         bool authenticated);

/* Storage for the rdata of an answer handed out (caller's, valid while
 * it is). */
typedef struct {
    uint8_t data[MXV_DNS_MAX_RECORDS * (2 + MXV_NAME_WIRE_MAX)];
} mxv_program_answer_storage;

/* The program's MX RRset of `domain` as an answer (status OK, DNSSEC
 * status `insecure`, rdata in *keep; out and keep NULL: whether there is
 * one, nothing copied), when one is kept, within its TTL,
 * and it may stand for mxverify's own lookup under the settings `e` of
 * that domain and the state of `policy`'s resolver (see above). `wait`:
 * may wait for the resolver's lock (false: a busy resolver means no). */
bool mxv_program_mx_evidence(struct mxv_policy *policy, const mxv_effective *e, const char *domain,
                             bool wait, mxv_dns_answer *out, mxv_program_answer_storage *keep);

/* The settings part of the rule alone (for tests and the docs' table). */
bool mxv_program_dns_usable(const mxv_effective *e);

#endif
