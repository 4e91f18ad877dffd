/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decide_dane: DANE for SMTP as the first policy of policy.md section 7
 * (RFC 7672): the evidence for the connected MX host (records given, or
 * looked up with its addresses and the recipient domain's MX RRset in one
 * round), then what it says:
 *
 *   usable records      DANE decides: OpenSSL's DANE checks the chain
 *                       (dane.c); a DANE-TA match also needs a name of
 *                       RFC 7672 section 3.2.2, with the project's matcher;
 *   unusable records    TLS is mandatory, the ESA setting decides the
 *                       certificate;
 *   a failed lookup     a temporary failure for this host, never a
 *                       fall-back;
 *   no DANE             the next policy decides, unless dane = require.
 */
#include "dane.h"
#include "dane_host.h"
#include "dane_lookup.h"
#include "decision.h"
#include "log.h"
#include "names.h"
#include "policy.h"
#include "text_copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

/* The records the request gives stand for a secure RRset at `host`, whose
 * addresses are taken as secure too (interfaces.md, explain --tlsa). */
static void given_evidence(mxv_dane_evidence *ev, const mxv_request *req, const char *host)
{
    ev->state = MXV_DANE_NONE;
    mxv_text_copy(ev->base, sizeof(ev->base), host ? host : "");
    ev->records = malloc(req->ntlsa * sizeof(*ev->records));
    if (!ev->records) {
        ev->state = MXV_DANE_FAILED;
        mxv_text_copy(ev->why, sizeof(ev->why), "out of memory");
        return;
    }
    for (size_t i = 0; i < req->ntlsa && ev->n < MXV_DNS_MAX_RECORDS; i++) {
        ev->records[ev->n++] = req->tlsa[i];
        ev->usable += mxv_tlsa_unusable(&req->tlsa[i]) == NULL;
    }
    ev->state = ev->usable ? MXV_DANE_USABLE : MXV_DANE_UNUSABLE;
}

typedef struct {
    mxv_decision *d;
    const char *host;
    unsigned port;
    mxv_dane_evidence *ev;
    mxv_mx_rrset *mx;
} lookup_job;

static void submit_dane(mxv_dns *dns, void *arg)
{
    lookup_job *j = arg;
    if (mxv_dns_downgrade_allowed(dns)) {
        /* Built before DANE was on (a setting changed since): its answers
         * may be stripped ones taken for insecure; DANE cannot use them. */
        j->ev->state = MXV_DANE_FAILED;
        snprintf(j->ev->why, sizeof(j->ev->why),
                 "the resolver was set up without DANE, taking answers stripped of DNSSEC as "
                 "insecure");
        return;
    }
    if (mxv_dane_lookup_start(dns, j->host, j->port, j->ev) && j->d->domain)
        mxv_dns_submit(dns, j->d->domain, MXV_RR_MX, mxv_mx_rrset_answer, j->mx);
}

static void read_dane(mxv_dns *dns, void *arg)
{
    lookup_job *j = arg;
    mxv_dane_lookup_finish(j->ev);
    /* "Not secure" means nothing without a trust anchor: nothing is
     * secure then, and DANE would be off without a word. */
    if (j->ev->state == MXV_DANE_NONE && !j->d->dns_cache_only && !mxv_dns_anchored(dns)) {
        j->ev->state = MXV_DANE_FAILED;
        j->d->dane_unanchored = true;
        snprintf(j->ev->why, sizeof(j->ev->why),
                 "the resolver has no DNSSEC trust anchor, so no answer can be secure (install "
                 "dns-root-data, or name one in unbound_conf: trust-anchor-file)");
    }
}

static void looked_up_evidence(mxv_decision *d, mxv_policy *policy, const char *host, unsigned port,
                               mxv_dane_evidence *ev, mxv_mx_rrset *mx)
{
    mxv_effective e;
    mxv_policy_effective(policy, d->domain, &e);
    lookup_job j = {d, host, port, ev, mx};
    const char *missing =
        mxv_decision_dns_round(d, policy, e.dns_timeout_ms, submit_dane, read_dane, &j);
    if (missing) {
        ev->state = MXV_DANE_FAILED;
        mxv_text_copy(ev->why, sizeof(ev->why), missing);
    }
}

struct mxv_dane_primer {
    char host[256], domain[256];
    unsigned port;
    bool started;
    mxv_mx_rrset mx;
    mxv_dane_evidence ev;
};

mxv_dane_primer *mxv_dane_primer_new(const char *host, unsigned port, const char *domain)
{
    mxv_dane_primer *p = calloc(1, sizeof(*p));
    if (!p || !host || strlen(host) >= sizeof(p->host) ||
        (domain && strlen(domain) >= sizeof(p->domain))) {
        free(p);
        return NULL;
    }
    mxv_text_copy(p->host, sizeof(p->host), host);
    mxv_text_copy(p->domain, sizeof(p->domain), domain ? domain : "");
    p->port = port;
    p->mx.host = p->host;
    p->mx.domain = p->domain;
    return p;
}

void mxv_dane_prime(mxv_dns *dns, void *arg)
{
    mxv_dane_primer *p = arg;
    if (p->started || mxv_dns_downgrade_allowed(dns))
        return; /* a resolver DANE cannot use: the decision says so itself */
    p->started = true;
    if (mxv_dane_lookup_start(dns, p->host, p->port, &p->ev) && p->domain[0])
        mxv_dns_submit(dns, p->domain, MXV_RR_MX, mxv_mx_rrset_answer, &p->mx);
}

void mxv_dane_primer_free(mxv_dane_primer *p)
{
    if (p)
        mxv_dane_evidence_clear(&p->ev);
    free(p);
}

/* "3 1 1 0123...; 2 0 1 ..." for the trace and policy_string. */
static char *rrset_text(const mxv_dane_evidence *ev)
{
    size_t room = ev->n * 80 + 1;
    char *out = calloc(1, room);
    for (size_t i = 0; out && i < ev->n; i++) {
        char one[76];
        size_t len = strlen(out);
        snprintf(out + len, room - len, "%s%s", i ? "; " : "",
                 mxv_tlsa_format(&ev->records[i], one, sizeof(one)));
    }
    return out;
}

/* DANE decided a failure: the records did not authenticate the server
 * (outcome DECIDED), or there was no evidence to decide on (FAILURE). */
static bool failure(mxv_decision *d, const char *reason, bool temporary, const char *why)
{
    if (d->dane_outcome != MXV_DANE_DECIDED)
        d->dane_outcome = MXV_DANE_FAILURE;
    d->pass = false;
    d->temporary = temporary;
    d->reason = reason;
    d->abort = !d->report_only;
    free(d->why);
    d->why = strdup(why);
    return true;
}

/* RFC 7672 section 3.2.2: a DNS-ID (else, without DNS-IDs, a CN-ID) that
 * matches the TLSA base domain, or the recipient domain when its MX RRset
 * is secure and names the host. */
static bool dane_ta_names(mxv_decision *d, const mxv_dane_evidence *ev, const mxv_mx_rrset *mx)
{
    size_t first = d->nrefs;
    mxv_decision_add_ref(d, ev->base, MXV_SRC_MX, MXV_SEC_SECURE, ev->base[0] != '\0',
                         "the TLSA base domain (RFC 7672 section 3.2.2)");
    if (d->domain)
        mxv_decision_add_ref(
            d, d->domain, MXV_SRC_DOMAIN, mx->secure ? MXV_SEC_SECURE : MXV_SEC_NONE,
            mxv_mx_rrset_names_domain(mx),
            mxv_mx_rrset_names_domain(mx) ? "the recipient domain: its MX RRset is DNSSEC-secure"
                                          : "not used: the recipient domain's MX RRset was not "
                                            "DNSSEC-validated with this host in it");
    for (size_t r = first; r < d->nrefs; r++) {
        if (!d->refs[r].eligible)
            continue;
        d->refs[r].used = true;
        for (size_t i = 0; i < d->presented.n; i++) {
            const mxv_presented_id *id = &d->presented.ids[i];
            bool kind = d->presented.n_dns ? id->type == MXV_ID_DNS : id->type == MXV_ID_CN;
            if (kind && mxv_name_matches(id->name, id->len, d->refs[r].name)) {
                d->matched = true;
                d->match_id = i;
                d->match_ref = r;
                return true;
            }
        }
    }
    return false;
}

/* For audit: each record alone against the chain, one line each in
 * d->tlsa_each: "+ 3 1 1 ...: matches certificate 0 (the leaf)", "- ...:
 * matches nothing the server sent", "- ...: unusable: why". */
static void each_record(mxv_decision *d, const mxv_dane_evidence *ev, X509 *leaf,
                        STACK_OF(X509) * sent)
{
    for (size_t i = 0; i < ev->n; i++) {
        char text[80], line[300], err[200];
        mxv_tlsa_format(&ev->records[i], text, sizeof(text));
        const char *unusable = mxv_tlsa_unusable(&ev->records[i]);
        mxv_dane_result r;
        if (unusable)
            snprintf(line, sizeof(line), "- %s: unusable for SMTP: %s", text, unusable);
        else if (!leaf || !mxv_dane_check(leaf, sent, &ev->records[i], 1, &r, err, sizeof(err)))
            snprintf(line, sizeof(line), "- %s: not checked: %s", text,
                     leaf ? err : "no certificate");
        else if (r.tlsa)
            snprintf(line, sizeof(line), "%c %s: matches certificate %d (0: the leaf)%s%s",
                     r.matched ? '+' : '-', text, r.depth, r.matched ? "" : ", but ",
                     r.matched ? "" : X509_verify_cert_error_string(r.error));
        else
            snprintf(line, sizeof(line),
                     "- %s: matches nothing the server sent (the next key of a rollover, or a "
                     "stale record)",
                     text);
        mxv_strlist_add(&d->tlsa_each, line);
    }
}

/* Usable records: the chain against them, and the outcome. false: OpenSSL
 * refused every usable-looking record, so the RRset is unusable. */
static bool decide_usable(mxv_decision *d, const mxv_dane_evidence *ev, const mxv_mx_rrset *mx,
                          X509 *leaf, STACK_OF(X509) * sent)
{
    d->dane_outcome = MXV_DANE_DECIDED;
    d->chain_checked = true;
    if (!leaf)
        return failure(d, "tlsa-invalid", false, "DANE: the server sent no certificate");
    mxv_dane_result r;
    char err[300];
    if (!mxv_dane_check(leaf, sent, ev->records, ev->n, &r, err, sizeof(err)))
        return failure(d, "tlsa-invalid", false, err);
    if (r.refused)
        mxv_decision_note(d, "DANE: %zu usable-looking TLSA record%s unusable: %s", r.refused,
                          r.refused == 1 ? "" : "s", err);
    if (r.usable == 0) {
        d->dane_outcome = MXV_DANE_NOT_ASKED; /* every one refused: the RRset is unusable */
        return false;
    }
    char name[16];
    if (r.tlsa) {
        d->tlsa_matched = true;
        d->tlsa_usage = r.tlsa->usage;
        d->tlsa_selector = r.tlsa->selector;
        d->tlsa_mtype = r.tlsa->mtype;
        d->tlsa_depth = r.depth;
        mxv_decision_note(d, "DANE: %s record matched certificate %d of the chain (0: the leaf)",
                          mxv_tlsa_usage_name(r.tlsa->usage, name), r.depth);
    }
    d->chain_ok = r.matched;
    d->chain_error = r.error;
    free(d->chain_error_text);
    d->chain_error_text = NULL;
    if (!r.matched) {
        d->chain_error_text = strdup(X509_verify_cert_error_string(r.error));
        char why[400];
        bool dates =
            r.error == X509_V_ERR_CERT_HAS_EXPIRED || r.error == X509_V_ERR_CERT_NOT_YET_VALID;
        snprintf(why, sizeof(why), "DANE: %s (%zu usable TLSA record%s at %s)",
                 r.tlsa ? d->chain_error_text
                        : "no usable TLSA record matches the certificate chain",
                 r.usable, r.usable == 1 ? "" : "s", ev->base);
        return failure(d, dates ? "certificate-expired" : "tlsa-invalid", false, why);
    }
    if (r.names_unchecked && !dane_ta_names(d, ev, mx)) {
        char why[400];
        snprintf(why, sizeof(why),
                 "DANE-TA(2) matched, but no name of the certificate matches the TLSA base "
                 "domain %s%s",
                 ev->base, mxv_mx_rrset_names_domain(mx) ? " or the recipient domain" : "");
        return failure(d, "certificate-host-mismatch", false, why);
    }
    d->pass = true;
    d->abort = false;
    d->temporary = false;
    d->reason = NULL;
    return true;
}

bool mxv_decide_dane(mxv_decision *d, mxv_policy *policy, const mxv_request *req, const char *host,
                     unsigned port, X509 *leaf, STACK_OF(X509) * sent)
{
    if (d->dane == MXV_DANE_OFF)
        return false;
    char name[MXV_NAME_MAX + 1];
    const char *raw;
    host = mxv_dane_host(d, policy, req, host, name, &raw);
    mxv_dane_evidence *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return failure(d, "tlsa-invalid", true, "DANE: out of memory");
    mxv_mx_rrset mx = {.host = host, .domain = d->domain};
    bool given = req && req->ntlsa;
    if (given) {
        given_evidence(ev, req, host);
    } else if (!host) {
        ev->state = MXV_DANE_FAILED;
        if (raw)
            snprintf(ev->why, sizeof(ev->why),
                     "the MX host \"%.80s\" is not a fully qualified host name (a resolver "
                     "completes a single label from its search list)",
                     raw);
        else
            mxv_text_copy(ev->why, sizeof(ev->why), "the MX host connected to is not known");
    } else if ((size_t)snprintf(NULL, 0, "_%u._tcp.%s", port, host) > 253) {
        /* A TLSA name longer than DNS names can be: there is no RRset. */
        ev->state = MXV_DANE_NONE;
        snprintf(ev->why, sizeof(ev->why),
                 "the TLSA name _%u._tcp.HOST would be longer than a DNS "
                 "name can be",
                 port);
    } else {
        looked_up_evidence(d, policy, host, port, ev, &mx);
        mxv_dane_host_check(d, policy, req, host, &mx, ev);
    }
    free(d->dane_base);
    d->dane_base = ev->base[0] ? strdup(ev->base) : NULL;
    free(d->tlsa_rrset);
    d->tlsa_rrset = rrset_text(ev);
    if (ev->n)
        mxv_decision_note(d, "DANE: TLSA at _%u._tcp.%s%s: %s", port, ev->base,
                          given ? " (given, taken as DNSSEC-secure)" : " (DNSSEC-secure)",
                          d->tlsa_rrset ? d->tlsa_rrset : "");
    if (ev->malformed)
        mxv_decision_note(d, "DANE: %zu TLSA record%s could not be read (%s): unusable, left out",
                          ev->malformed, ev->malformed == 1 ? "" : "s", ev->malformed_why);
    if (req && req->each_tlsa)
        each_record(d, ev, leaf, sent);
    bool decided = true;
    char why[400];
    switch (ev->state) {
    case MXV_DANE_NONE:
        snprintf(why, sizeof(why), "no DANE for %.120s: %.250s", host, ev->why);
        if (d->dane == MXV_DANE_REQUIRE) {
            failure(d, "dane-required", false, why);
            break;
        }
        d->dane_outcome = MXV_DANE_NO_DANE;
        d->dane_why = strdup(ev->why);
        mxv_decision_note(d, "DANE: %s; the next policy decides", why);
        decided = false;
        break;
    case MXV_DANE_USABLE:
        if (decide_usable(d, ev, &mx, leaf, sent))
            break;
        __attribute__((fallthrough));
    case MXV_DANE_UNUSABLE:
        d->dane_outcome = MXV_DANE_ENCRYPT;
        mxv_decision_note(d, "DANE: only unusable TLSA records (RFC 7672 section 3.1.3): TLS is "
                             "mandatory, the ESA setting decides the certificate");
        decided = false;
        break;
    case MXV_DANE_FAILED:
        snprintf(why, sizeof(why), "DANE evidence for %.100s could not be had: %.250s (temporary)",
                 host ? host : "the MX host", ev->why);
        failure(d, ev->bogus ? "dnssec-invalid" : "tlsa-invalid", true, why);
        break;
    }
    mxv_dane_evidence_clear(ev);
    free(ev);
    return decided;
}

bool mxv_dane_requires_tls(const mxv_decision *d)
{
    return d->dane_outcome == MXV_DANE_DECIDED || d->dane_outcome == MXV_DANE_ENCRYPT ||
           d->dane_outcome == MXV_DANE_FAILURE;
}
