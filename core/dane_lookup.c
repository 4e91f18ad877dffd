/* dane_lookup: the DNS evidence for DANE, one MX host (dane_lookup.h). */
#include "dane_lookup.h"

#include <stdio.h>
#include <string.h>

#define MXV_RR_TLSA 52

enum { SLOT_A, SLOT_AAAA, SLOT_TLSA };
static const char *const slot_names[] = {"A", "AAAA", "TLSA"};

static void on_answer(void *arg, const mxv_dns_answer *a)
{
    struct mxv_dane_slot *s = arg;
    mxv_dane_evidence *ev = s->ev;
    s->answered = true;
    s->status = a->status;
    s->sec = a->sec;
    s->truncated = a->truncated;
    snprintf(s->detail, sizeof(s->detail), "%s", a->detail);
    if (s != &ev->slot[SLOT_TLSA] || a->status != MXV_DNS_OK)
        return;
    /* The records are read now: the answer's data is not kept. */
    for (size_t i = 0; i < a->n && ev->n < MXV_DNS_MAX_RECORDS; i++) {
        char why[160];
        if (!mxv_tlsa_from_rdata(a->rdata[i], a->rdlen[i], &ev->records[ev->n], why, sizeof(why))) {
            snprintf(ev->unreadable, sizeof(ev->unreadable), "%s", why);
            continue;
        }
        if (!mxv_tlsa_unusable(&ev->records[ev->n]))
            ev->usable++;
        ev->n++;
    }
}

static void failed(mxv_dane_evidence *ev, bool bogus, const char *fmt, const char *a, const char *b)
{
    ev->state = MXV_DANE_FAILED;
    ev->bogus = bogus;
    ev->n = ev->usable = 0; /* records of a failed RRset do not count */
    snprintf(ev->why, sizeof(ev->why), fmt, a, b);
}

bool mxv_dane_lookup_start(mxv_dns *dns, const char *host, unsigned port, mxv_dane_evidence *ev)
{
    memset(ev, 0, sizeof(*ev));
    char tlsa_name[300];
    int n = snprintf(tlsa_name, sizeof(tlsa_name), "_%u._tcp.%s", port, host ? host : "");
    if (!host || !*host || strlen(host) >= sizeof(ev->base) || n < 0 || n > 253) {
        failed(ev, false, "no TLSA name for the MX host \"%.64s\"%s", host ? host : "", "");
        return false;
    }
    snprintf(ev->base, sizeof(ev->base), "%s", host);
    static const int types[3] = {MXV_RR_A, MXV_RR_AAAA, MXV_RR_TLSA};
    for (int i = 0; i < 3; i++) {
        ev->slot[i].ev = ev;
        if (!mxv_dns_submit(dns, i == SLOT_TLSA ? tlsa_name : host, types[i], on_answer,
                            &ev->slot[i])) {
            failed(ev, false, "the %s lookup for %s could not be made", slot_names[i], host);
            return false;
        }
    }
    return true;
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
        return 0;
    }
    return 1;
}

void mxv_dane_lookup_finish(mxv_dane_evidence *ev)
{
    if (ev->state == MXV_DANE_FAILED)
        return;
    const char *why = NULL;
    int secure = addresses_secure(ev, &why);
    if (secure < 0)
        return;
    const struct mxv_dane_slot *t = &ev->slot[SLOT_TLSA];
    if (secure == 0) {
        ev->state = MXV_DANE_NONE;
    } else if (!t->answered || t->status == MXV_DNS_FAIL) {
        failed(ev, t->answered && t->sec == MXV_SEC_BOGUS, "TLSA lookup: %s%s",
               t->answered ? t->detail : "no answer in time", "");
        return;
    } else if (t->sec != MXV_SEC_SECURE) {
        ev->state = MXV_DANE_NONE;
        why = "the TLSA records are not DNSSEC-secure";
    } else if (t->status == MXV_DNS_NODATA) {
        ev->state = MXV_DANE_NONE;
        why = "no TLSA records (a DNSSEC-secure denial)";
    } else if (t->truncated || ev->unreadable[0]) {
        failed(ev, false, "TLSA records: %s%s",
               t->truncated ? "more than are read" : ev->unreadable, "");
        return;
    } else {
        ev->state = ev->usable ? MXV_DANE_USABLE : MXV_DANE_UNUSABLE;
    }
    if (why)
        snprintf(ev->why, sizeof(ev->why), "%s", why);
    /* Evidence that does not count is not kept. */
    if (ev->state == MXV_DANE_NONE)
        ev->n = ev->usable = 0;
}
