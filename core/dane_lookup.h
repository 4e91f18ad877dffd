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
 *             are read, a record that cannot be read): the host must not
 *             be used now, never a fall-back (`bogus` when DNSSEC
 *             validation failed).
 *
 * Not yet, and needed before this evidence decides anything:
 *  - the CNAME rules of RFC 7672 section 2.2.2 (the TLSA base domain of an
 *    MX host that is an alias is its target first): answers do not carry
 *    the canonical name yet, so an alias reads as its own name, and a
 *    TLSA RRset published at the target is missed;
 *  - answers taken as insecure because the resolver path was found to
 *    strip DNSSEC (dnssec = prefer's downgrade, dns.h) look like any
 *    insecure answer here; DANE must count them as bogus, or an attacker
 *    who strips signatures turns DANE off.
 * Not wired to any setting yet.
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
    bool bogus;       /* FAILED because DNSSEC validation failed */
    char why[256];    /* NONE and FAILED: why; else empty */
    char base[256];   /* the TLSA base domain (the MX host) */
    size_t n, usable; /* records read, and how many of them are usable */
    mxv_tlsa records[MXV_DNS_MAX_RECORDS];
    /* what the lookups returned (A, AAAA, TLSA), until
     * mxv_dane_lookup_finish() */
    struct mxv_dane_slot {
        struct mxv_dane_evidence *ev;
        bool answered, truncated;
        mxv_dns_status status;
        mxv_dnssec_status sec;
        char detail[160];
    } slot[3];
    char unreadable[160]; /* a TLSA record that could not be read, or "" */
} mxv_dane_evidence;

/* Submits the three lookups for `host` and `port` on `dns`; the caller
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
