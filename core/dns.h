/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns: asynchronous lookups through libunbound with a hard deadline.
 *
 * Callers submit queries with a callback; mxv_dns_run() processes answers
 * (callbacks may submit follow-up queries, e.g. the forward confirmation of
 * a PTR name) until nothing is pending or the deadline passes. Queries
 * still pending at the deadline are cancelled and reported as failures, so
 * a dead DNS server costs at most the deadline, never a hang.
 *
 * The libunbound context (and its cache) lives as long as the mxv_dns, so
 * repeated decisions for the same destination are answered from cache.
 */
#ifndef MXV_DNS_H
#define MXV_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    MXV_SEC_NONE = 0, /* not validated (dnssec = off) or not from DNS */
    MXV_SEC_SECURE,
    MXV_SEC_INSECURE,
    MXV_SEC_BOGUS,
} mxv_dnssec_status;

typedef enum {
    MXV_DNS_OK,     /* data present */
    MXV_DNS_NODATA, /* NXDOMAIN or no record of that type: a definite "no" */
    MXV_DNS_FAIL,   /* SERVFAIL, timeout, bogus: temporary, not a "no" */
} mxv_dns_status;

#define MXV_DNS_MAX_RECORDS 32

typedef struct {
    mxv_dns_status status;
    mxv_dnssec_status sec;
    char detail[160]; /* "SERVFAIL", "timeout", "DNSSEC bogus: ...", "NXDOMAIN" */
    size_t n;         /* records (only for OK and bogus-with-data) */
    const uint8_t *rdata[MXV_DNS_MAX_RECORDS];
    size_t rdlen[MXV_DNS_MAX_RECORDS];
    /* The answer had more records than these: a consumer that found
     * nothing in them must say so and treat it as temporary, never as a
     * "no" (such answers are not cached). */
    bool truncated;
    /* The name the records belong to when the name asked is an alias
     * (libunbound followed a CNAME/DNAME chain; `sec` covers the chain),
     * lower case without trailing dot; else "". Such answers are not
     * cached, here or in the shared file: the caches keep no alias, and
     * DANE's TLSA base domain depends on it (RFC 7672 section 2.2.2). */
    char canonical[256];
} mxv_dns_answer;

typedef void (*mxv_dns_cb)(void *arg, const mxv_dns_answer *answer);

typedef struct mxv_dns mxv_dns;

/* unbound_conf NULL: /etc/resolv.conf and /etc/hosts, root trust anchor if
 * installed and validate is true. The libunbound context is built at the
 * first lookup the caches cannot answer; mxv_dns_ready() builds it now,
 * to report a broken configuration before any lookup. */
mxv_dns *mxv_dns_new(const char *unbound_conf, bool validate, char *err, size_t errlen);
bool mxv_dns_ready(mxv_dns *dns, char *err, size_t errlen);
/* dnssec = prefer everywhere (no setting requires DNSSEC): with the system
 * resolver and the root anchor, a resolver path that carries no DNSSEC
 * makes answers insecure instead of bogus (asked once, in parallel with
 * the first lookups). Set before the first lookup. */
void mxv_dns_allow_downgrade(mxv_dns *dns, bool allow);
bool mxv_dns_downgrade_allowed(const mxv_dns *dns);
/* Does the resolver hold a DNSSEC trust anchor (builds its libunbound
 * context if need be)? false also when it cannot be built. */
bool mxv_dns_anchored(mxv_dns *dns);
/* Would this resolver's answers come unvalidated, so that an answer from
 * the same system resolver is worth as much (core/program_dns.h)? True
 * when it does not validate, has no root trust anchor to validate with,
 * or its path is known to carry no DNSSEC (with the downgrade allowed:
 * bogus answers then count as insecure), by its own probe or, within ten
 * minutes, another process's (through the shared answer file). Never for
 * a resolver of an unbound_conf. Builds no libunbound context. */
bool mxv_dns_unvalidated(mxv_dns *dns);
/* Something worth one log line (such a downgrade), once; else NULL. */
const char *mxv_dns_take_notice(mxv_dns *dns);
void mxv_dns_free(mxv_dns *dns);
/* Answers from and for other processes too (dns_shared.h); dns owns it. */
struct mxv_dns_shared;
void mxv_dns_share(mxv_dns *dns, struct mxv_dns_shared *shared);
bool mxv_dns_submit(mxv_dns *dns, const char *name, int rrtype, mxv_dns_cb cb, void *arg);
/* While on (set and cleared under the owner's lock), a lookup the caches
 * cannot answer fails at once ("not cached") instead of going to
 * libunbound. Turning it off returns whether any lookup missed. */
bool mxv_dns_cache_only(mxv_dns *dns, bool on);
void mxv_dns_run(mxv_dns *dns, int timeout_ms);

/* Wire-format helpers for untrusted rdata; false when malformed. A name is
 * written in lower case without trailing dot; "" is the root. */
bool mxv_dns_wire_name(const uint8_t *wire, size_t len, size_t *used, char *out, size_t outlen);
bool mxv_dns_parse_mx(const uint8_t *rdata, size_t len, unsigned *pref, char *out, size_t outlen);
/* The PTR owner name of an IPv4/IPv6 literal; false if ip is not one. */
bool mxv_dns_reverse_name(const char *ip, char *out, size_t outlen);

#define MXV_RR_A    1
#define MXV_RR_PTR  12
#define MXV_RR_MX   15
#define MXV_RR_AAAA 28
#define MXV_RR_TLSA 52

#endif
