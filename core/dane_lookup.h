/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dane_lookup: the DNS evidence DANE for SMTP rests on (RFC 7672 section
 * 2.2), for one MX host and port: its address records (A, AAAA) and the
 * TLSA RRset at _PORT._tcp.HOST, asked together so that DANE adds no round
 * trip, and what they say:
 *
 *   NONE      no DANE for this host: its address records are not
 *             DNSSEC-secure, or the TLSA RRset is insecure, or a secure
 *             denial says there is none (`why` says which);
 *   USABLE    a secure RRset with at least one usable record: TLS is
 *             mandatory and the records decide the certificate;
 *   UNUSABLE  a secure RRset of unusable records only: TLS is mandatory,
 *             DANE authenticates nothing;
 *   FAILED    a lookup failed (SERVFAIL, timeout, bogus, more records than
 *             are read): the host must not be used now, never a fall-back
 *             (`bogus` when DNSSEC validation failed).
 *
 * A record that cannot be read (too short, too long) is unusable: left
 * out of `records`, counted in `malformed`; an RRset of only such records
 * is UNUSABLE, never NONE.
 *
 * An MX host that is an alias (RFC 7672 section 2.2.2): when its address
 * records were reached through a DNSSEC-secure CNAME chain, the TLSA
 * RRset at the alias target is asked (a second round, started as soon as
 * the first address answer names the target) and decides when it is
 * there and secure; else the RRset at the original name does, which is
 * asked with the addresses. `base` is the name whose RRset decided.
 *
 * A resolver path that strips DNSSEC never makes answers "insecure" here:
 * where DANE is on, the downgrade of dnssec = prefer is refused
 * (policy_runtime.c), so stripped answers are bogus, and FAILED.
 */
#ifndef MXV_DANE_LOOKUP_H
#define MXV_DANE_LOOKUP_H

#include "dns.h"
#include "tlsa.h"

#include <stdbool.h>

typedef enum {
    MXV_DANE_NONE,
    MXV_DANE_USABLE,
    MXV_DANE_UNUSABLE,
    MXV_DANE_FAILED,
} mxv_dane_state;

typedef struct mxv_dane_evidence {
    mxv_dane_state state;
    bool bogus;        /* FAILED because DNSSEC validation failed */
    char why[256];     /* NONE and FAILED: why; else empty */
    char base[256];    /* the TLSA base domain (the MX host, or its alias target) */
    char host[256];    /* the MX host asked about */
    char target[256];  /* its alias target (a secure CNAME chain), or "" */
    size_t n, usable;  /* records read, and how many of them are usable */
    mxv_tlsa *records; /* n of them, at most MXV_DNS_MAX_RECORDS; malloc'd
                          (mxv_dane_evidence_clear) */
    size_t malformed;  /* records of the RRset that could not be read: unusable */
    bool no_address;   /* NONE because the host has no address records at all */
    char malformed_why[160];
    /* what the lookups returned (A, AAAA, TLSA at the host, TLSA at its
     * alias target), until mxv_dane_lookup_finish() */
    struct mxv_dane_slot {
        struct mxv_dane_evidence *ev;
        bool asked, answered, truncated;
        mxv_dns_status status;
        mxv_dnssec_status sec;
        char detail[160];
        size_t first, n, usable; /* its records in `records` */
        size_t malformed;        /* records that could not be read (unusable) */
        char unreadable[160];    /* why the first of them could not, or "" */
    } slot[4];
    mxv_dns *dns; /* while the lookups run */
    unsigned port;
} mxv_dane_evidence;

/* Frees what ev holds (its records); ev can then be started again. */
void mxv_dane_evidence_clear(mxv_dane_evidence *ev);
/* Submits the three lookups for `host` and `port` on `dns` (ev fresh or
 * cleared); the caller
 * runs mxv_dns_run() (with its other lookups), then calls
 * mxv_dane_lookup_finish(). `ev` must stay where it is until mxv_dns_run()
 * has returned, also after a false return (lookups submitted before one
 * failed still answer into it). false: a name too long or a lookup that
 * could not be submitted (ev FAILED). */
bool mxv_dane_lookup_start(mxv_dns *dns, const char *host, unsigned port, mxv_dane_evidence *ev);
/* What the answers say (ev->state and the rest). A lookup with no answer
 * by then (the deadline passed) is a failure. */
void mxv_dane_lookup_finish(mxv_dane_evidence *ev);

#endif
