/* SPDX-License-Identifier: Apache-2.0 */
/* dane_lookup: the DNS evidence for DANE, one MX host (dane_lookup.h). */
#include "dane_lookup.h"
#include "text_copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLOT_A, SLOT_AAAA, SLOT_TLSA, SLOT_TARGET_TLSA };
static const char *const slot_names[] = {"A", "AAAA", "TLSA", "TLSA (alias target)"};

static void on_answer(void *arg, const mxv_dns_answer *a);

static void failed(mxv_dane_evidence *ev, bool bogus, const char *fmt, const char *a, const char *b)
{
    ev->state = MXV_DANE_FAILED;
    ev->bogus = bogus;
    ev->n = ev->usable = 0; /* records of a failed RRset do not count */
    snprintf(ev->why, sizeof(ev->why), fmt, a, b);
}

/* Asks for the TLSA RRset of `name` into `slot`. */
static bool ask_tlsa(mxv_dane_evidence *ev, int slot, const char *name)
{
    char tlsa_name[300];
    int n = snprintf(tlsa_name, sizeof(tlsa_name), "_%u._tcp.%s", ev->port, name);
    ev->slot[slot].asked = true;
    if (n < 0 || n > 253) {
        failed(ev, false, "no TLSA name for \"%.64s\"%s", name, "");
        return false;
    }
    if (!mxv_dns_submit(ev->dns, tlsa_name, MXV_RR_TLSA, on_answer, &ev->slot[slot])) {
        failed(ev, false, "the TLSA lookup for %s could not be made%s", name, "");
        return false;
    }
    return true;
}

static void read_records(mxv_dane_evidence *ev, struct mxv_dane_slot *s, const mxv_dns_answer *a)
{
    s->first = ev->n;
    size_t room = ev->n + a->n < MXV_DNS_MAX_RECORDS ? ev->n + a->n : MXV_DNS_MAX_RECORDS;
    mxv_tlsa *more = room ? realloc(ev->records, room * sizeof(*more)) : ev->records;
    if (!more) {
        s->truncated = true; /* out of memory: not all were read */
        return;
    }
    ev->records = more;
    for (size_t i = 0; i < a->n && ev->n < room; i++) {
        char why[160];
        /* A record that cannot be read is unusable (RFC 7671 section 4):
         * it can match nothing, so leaving it out changes no match; the
         * RRset still exists, and still makes TLS mandatory. */
        if (!mxv_tlsa_from_rdata(a->rdata[i], a->rdlen[i], &ev->records[ev->n], why, sizeof(why))) {
            if (!s->malformed++)
                mxv_text_copy(s->unreadable, sizeof(s->unreadable), why);
            continue;
        }
        if (!mxv_tlsa_unusable(&ev->records[ev->n]))
            s->usable++;
        ev->n++;
        s->n++;
    }
    /* The two RRsets share the array: one that did not fit is cut. */
    if (s->n + s->malformed < a->n)
        s->truncated = true;
}

static void on_answer(void *arg, const mxv_dns_answer *a)
{
    struct mxv_dane_slot *s = arg;
    mxv_dane_evidence *ev = s->ev;
    s->answered = true;
    s->status = a->status;
    s->sec = a->sec;
    s->truncated = a->truncated;
    mxv_text_copy(s->detail, sizeof(s->detail), a->detail);
    int which = (int)(s - ev->slot);
    if (which >= SLOT_TLSA) {
        if (a->status == MXV_DNS_OK)
            read_records(ev, s, a); /* now: the answer's data is not kept */
        return;
    }
    /* The host is an alias: its target's TLSA RRset is asked at once
     * (only a secure chain makes it count, decided at the end). */
    if (a->canonical[0] && !ev->target[0] && ev->state != MXV_DANE_FAILED &&
        strlen(a->canonical) < sizeof(ev->target)) {
        mxv_text_copy(ev->target, sizeof(ev->target), a->canonical);
        ask_tlsa(ev, SLOT_TARGET_TLSA, ev->target);
    }
}

void mxv_dane_evidence_clear(mxv_dane_evidence *ev)
{
    free(ev->records);
    ev->records = NULL;
    ev->n = ev->usable = 0;
}

bool mxv_dane_lookup_start(mxv_dns *dns, const char *host, unsigned port, mxv_dane_evidence *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->dns = dns;
    ev->port = port;
    for (int i = 0; i < 4; i++)
        ev->slot[i].ev = ev;
    if (!host || !*host || strlen(host) >= sizeof(ev->host)) {
        failed(ev, false, "no TLSA name for the MX host \"%.64s\"%s", host ? host : "", "");
        return false;
    }
    mxv_text_copy(ev->host, sizeof(ev->host), host);
    mxv_text_copy(ev->base, sizeof(ev->base), host);
    static const int types[2] = {MXV_RR_A, MXV_RR_AAAA};
    for (int i = SLOT_A; i <= SLOT_AAAA; i++) {
        ev->slot[i].asked = true;
        if (!mxv_dns_submit(dns, host, types[i], on_answer, &ev->slot[i])) {
            failed(ev, false, "the %s lookup for %s could not be made", slot_names[i], host);
            return false;
        }
    }
    return ask_tlsa(ev, SLOT_TLSA, host);
}

/* Are the host's address records DNSSEC-secure? 1 yes, 0 no (*why), -1
 * a lookup failed (ev FAILED). */
static int addresses_secure(mxv_dane_evidence *ev, const char **why)
{
    bool any = false;
    for (int i = SLOT_A; i <= SLOT_AAAA; i++) {
        const struct mxv_dane_slot *s = &ev->slot[i];
        if (!s->answered || s->status == MXV_DNS_FAIL) {
            failed(ev, s->answered && s->sec == MXV_SEC_BOGUS, "%s lookup: %s", slot_names[i],
                   s->answered ? s->detail : "no answer in time");
            return -1;
        }
        if (s->sec != MXV_SEC_SECURE) {
            *why = "the MX host's address records are not DNSSEC-secure";
            return 0;
        }
        any |= s->status == MXV_DNS_OK;
    }
    if (!any) {
        *why = "the MX host has no address records";
        ev->no_address = true;
        return 0;
    }
    return 1;
}

/* What one TLSA RRset says: 1 records that decide (usable or not), 0 none
 * (*why), -1 a failure (ev FAILED). */
static int tlsa_rrset(mxv_dane_evidence *ev, int slot, const char **why)
{
    const struct mxv_dane_slot *t = &ev->slot[slot];
    if (!t->answered || t->status == MXV_DNS_FAIL) {
        failed(ev, t->answered && t->sec == MXV_SEC_BOGUS, "%s lookup: %s", slot_names[slot],
               t->answered ? t->detail : "no answer in time");
        return -1;
    }
    if (t->sec != MXV_SEC_SECURE) {
        *why = "the TLSA records are not DNSSEC-secure";
        return 0;
    }
    if (t->status == MXV_DNS_NODATA) {
        *why = "no TLSA records (a DNSSEC-secure denial)";
        return 0;
    }
    if (t->truncated) {
        failed(ev, false, "TLSA records: more than are read%s%s", "", "");
        return -1;
    }
    return 1;
}

/* Keeps the records of `slot` alone, first in the array. */
static void keep(mxv_dane_evidence *ev, int slot)
{
    const struct mxv_dane_slot *t = &ev->slot[slot];
    memmove(ev->records, ev->records + t->first, t->n * sizeof(ev->records[0]));
    ev->n = t->n;
    ev->usable = t->usable;
    ev->malformed = t->malformed;
    mxv_text_copy(ev->malformed_why, sizeof(ev->malformed_why), t->unreadable);
    ev->state = ev->usable ? MXV_DANE_USABLE : MXV_DANE_UNUSABLE;
}

void mxv_dane_lookup_finish(mxv_dane_evidence *ev)
{
    ev->dns = NULL;
    if (ev->state == MXV_DANE_FAILED)
        return;
    const char *why = NULL;
    int secure = addresses_secure(ev, &why);
    if (secure < 0)
        return;
    int found = 0;
    if (secure && ev->target[0]) {
        /* The chain to the target is secure (the addresses are): the
         * target's RRset first, then the original name's. */
        found = tlsa_rrset(ev, SLOT_TARGET_TLSA, &why);
        if (found < 0)
            return;
        if (found) {
            keep(ev, SLOT_TARGET_TLSA);
            mxv_text_copy(ev->base, sizeof(ev->base), ev->target);
        }
    }
    if (secure && !found) {
        found = tlsa_rrset(ev, SLOT_TLSA, &why);
        if (found < 0)
            return;
        if (found)
            keep(ev, SLOT_TLSA);
    }
    if (!found) {
        ev->state = MXV_DANE_NONE;
        ev->n = ev->usable = 0; /* evidence that does not count is not kept */
        mxv_text_copy(ev->why, sizeof(ev->why), why);
    }
}
