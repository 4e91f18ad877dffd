/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decide: the identity algorithms of policy.md section 2 and the six
 * settings of section 3.
 *
 * A plan is the ordered list of (presented-identifier kind, reference
 * source) steps of an algorithm. Steps run in order and stop at the first
 * match. Reference identifiers of a source are built when a step first
 * needs them; the first step that needs DNS evidence starts every lookup
 * the rest of the plan needs at once (MX, PTR, then the forward
 * confirmation of each PTR name), so the latency is one round of
 * parallel queries, and none at all when the domain already matched.
 */
#include "decision.h"
#include "log.h"
#include "names.h"
#include "policy.h"
#include "program_dns.h"
#include "text_copy.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

typedef enum { IDS_DNS, IDS_CN, IDS_HOSTED } id_kind;

typedef struct {
    id_kind ids;
    mxv_source source;
} step;

#define MAX_STEPS 5
#define NSOURCES  5

typedef struct {
    char name[MXV_NAME_MAX + 1];
    mxv_dnssec_status sec;
    int fwd_status; /* -1 not asked, else mxv_dns_status */
    mxv_dnssec_status fwd_sec;
    bool confirmed;
    char fwd_detail[160];
} ptr_name;

typedef struct {
    mxv_decision *d;
    mxv_policy *policy;
    const mxv_request *req;
    mxv_effective e;
    const mxv_strlist *mx_given, *route, *reference;
    step plan[MAX_STEPS];
    size_t nsteps;
    bool built[NSOURCES];
    size_t first[NSOURCES], count[NSOURCES];
    bool mx_in, ptr_in;   /* that evidence is gathered (or not needed) */
    bool ask_mx, ask_ptr; /* the lookups of the round under way */
    bool dns_failed;
    mxv_dns *dns; /* while gathering: the resolver, under the policy lock */
    /* DNS evidence */
    mxv_dns_status mx_status;
    mxv_dnssec_status mx_sec;
    char mx_detail[160];
    size_t nmx;
    int ptr_status; /* -1 not asked */
    char ptr_detail[160];
    size_t nptr;
    /* Last, and not zeroed (a decision zeroing 22 KB three times per
     * connection showed in profiles): entries are written as they are
     * added, and only the first nmx / nptr are read. */
    struct {
        unsigned pref;
        char name[MXV_NAME_MAX + 1];
    } mx[MXV_DNS_MAX_RECORDS];
    ptr_name ptr[MXV_DNS_MAX_RECORDS];
} state;

static void add_ref(state *st, const char *name, mxv_source source, mxv_dnssec_status sec,
                    bool eligible, const char *note)
{
    mxv_decision_add_ref(st->d, name, source, sec, eligible, note);
}

/* --- the plans of policy.md section 2 --- */

static void add_step(state *st, id_kind ids, mxv_source source)
{
    st->plan[st->nsteps++] = (step){ids, source};
}

static void make_plan(state *st)
{
    if (st->d->algorithm == MXV_ALG_VERIFY) {
        /* 2.1: DNS-IDs vs domain, then CN-IDs vs domain, then CN-IDs vs
         * forward-confirmed PTR; configured names after each domain step. */
        add_step(st, IDS_DNS, MXV_SRC_DOMAIN);
        add_step(st, IDS_DNS, MXV_SRC_CONFIGURED);
        add_step(st, IDS_CN, MXV_SRC_DOMAIN);
        add_step(st, IDS_CN, MXV_SRC_CONFIGURED);
        add_step(st, IDS_CN, MXV_SRC_PTR);
        return;
    }
    add_step(st, IDS_HOSTED, MXV_SRC_DOMAIN);
    add_step(st, IDS_HOSTED, MXV_SRC_CONFIGURED);
    bool route_fqdn = false, route_ip = false;
    for (size_t i = 0; i < st->route->n; i++) {
        if (mxv_is_ip_literal(st->route->items[i]))
            route_ip = true;
        else
            route_fqdn = true;
    }
    if (!route_fqdn && !route_ip) { /* 2.2 without a route: MX, then PTR */
        add_step(st, IDS_HOSTED, MXV_SRC_MX);
        add_step(st, IDS_HOSTED, MXV_SRC_PTR);
        return;
    }
    /* A route replaces the MX lookup: route host names, and the PTR of the
     * connected IP only when the route names an address. */
    if (route_fqdn)
        add_step(st, IDS_HOSTED, MXV_SRC_ROUTE);
    if (route_ip)
        add_step(st, IDS_HOSTED, MXV_SRC_PTR);
}

static bool plan_has(const state *st, mxv_source source)
{
    for (size_t i = 0; i < st->nsteps; i++)
        if (st->plan[i].source == source)
            return true;
    return false;
}

/* --- DNS evidence --- */

static mxv_dnssec_status weakest(mxv_dnssec_status a, mxv_dnssec_status b)
{
    if (a == MXV_SEC_BOGUS || b == MXV_SEC_BOGUS)
        return MXV_SEC_BOGUS;
    if (a == MXV_SEC_INSECURE || b == MXV_SEC_INSECURE)
        return MXV_SEC_INSECURE;
    return a == MXV_SEC_SECURE && b == MXV_SEC_SECURE ? MXV_SEC_SECURE : MXV_SEC_NONE;
}

static void on_mx(void *arg, const mxv_dns_answer *a)
{
    state *st = arg;
    st->mx_status = a->status;
    st->mx_sec = a->sec;
    mxv_text_copy(st->mx_detail, sizeof(st->mx_detail), a->detail);
    if (a->status != MXV_DNS_OK)
        return;
    if (a->truncated) {
        st->dns_failed = true; /* no match in the first ones is not a "no" */
        mxv_decision_note(st->d,
                          "MX answer of %s has more than %d records: only the first %d are "
                          "compared, so a failure to match is temporary",
                          st->d->domain, MXV_DNS_MAX_RECORDS, MXV_DNS_MAX_RECORDS);
        mxv_decision_dns_failed(st->d, "the MX answer of %s has more than %d records",
                                st->d->domain, MXV_DNS_MAX_RECORDS);
    }
    for (size_t i = 0; i < a->n && st->nmx < MXV_DNS_MAX_RECORDS; i++) {
        unsigned pref;
        char name[MXV_NAME_MAX + 1];
        if (!mxv_dns_parse_mx(a->rdata[i], a->rdlen[i], &pref, name, sizeof(name))) {
            mxv_decision_note(st->d, "MX record of %s ignored: not a valid host name",
                              st->d->domain);
            continue;
        }
        /* Insertion sort by preference, stable for equal preferences. */
        size_t j = st->nmx++;
        while (j > 0 && st->mx[j - 1].pref > pref) {
            st->mx[j] = st->mx[j - 1];
            j--;
        }
        st->mx[j].pref = pref;
        mxv_text_copy(st->mx[j].name, sizeof(st->mx[j].name), name);
    }
}

static bool address_matches(const uint8_t *rdata, size_t len, const char *ip)
{
    unsigned char want[16];
    if (len == 4 && inet_pton(AF_INET, ip, want) == 1)
        return memcmp(rdata, want, 4) == 0;
    if (len == 16 && inet_pton(AF_INET6, ip, want) == 1)
        return memcmp(rdata, want, 16) == 0;
    return false;
}

typedef struct {
    state *st;
    size_t index;
} fwd_arg;

static void on_forward(void *arg, const mxv_dns_answer *a)
{
    fwd_arg *fa = arg;
    ptr_name *p = &fa->st->ptr[fa->index];
    p->fwd_status = (int)a->status;
    p->fwd_sec = a->sec;
    mxv_text_copy(p->fwd_detail, sizeof(p->fwd_detail), a->detail);
    for (size_t i = 0; a->status == MXV_DNS_OK && i < a->n; i++)
        if (address_matches(a->rdata[i], a->rdlen[i], fa->st->d->ip))
            p->confirmed = true;
    /* The connected address may be among the records not kept: that is
     * not "not forward-confirmed", but not known either. */
    if (!p->confirmed && a->status == MXV_DNS_OK && a->truncated) {
        p->fwd_status = MXV_DNS_FAIL;
        snprintf(p->fwd_detail, sizeof(p->fwd_detail),
                 "more than %d addresses in the answer: the connected one may be among those "
                 "not compared",
                 MXV_DNS_MAX_RECORDS);
    }
    free(fa);
}

static void on_ptr(void *arg, const mxv_dns_answer *a)
{
    state *st = arg;
    st->ptr_status = (int)a->status;
    mxv_text_copy(st->ptr_detail, sizeof(st->ptr_detail), a->detail);
    if (a->status != MXV_DNS_OK)
        return;
    if (a->truncated) {
        st->dns_failed = true;
        mxv_decision_note(st->d,
                          "PTR answer of %s has more than %d names: only the first %d are "
                          "compared, so a failure to match is temporary",
                          st->d->ip, MXV_DNS_MAX_RECORDS, MXV_DNS_MAX_RECORDS);
        mxv_decision_dns_failed(st->d, "the PTR answer of %s has more than %d names", st->d->ip,
                                MXV_DNS_MAX_RECORDS);
    }
    bool v6 = strchr(st->d->ip, ':') != NULL;
    /* Every name first: a forward lookup answered from the shared file
     * stores into the DNS cache, which may free the records of `a`. */
    size_t first = st->nptr;
    for (size_t i = 0; i < a->n && st->nptr < MXV_DNS_MAX_RECORDS; i++) {
        ptr_name *p = &st->ptr[st->nptr];
        *p = (ptr_name){.fwd_status = -1};
        size_t used;
        if (!mxv_dns_wire_name(a->rdata[i], a->rdlen[i], &used, p->name, sizeof(p->name)) ||
            !p->name[0]) {
            mxv_decision_note(st->d, "PTR record of %s ignored: not a valid host name", st->d->ip);
            continue;
        }
        p->sec = a->sec;
        st->nptr++;
    }
    for (size_t i = first; i < st->nptr; i++) {
        ptr_name *p = &st->ptr[i];
        fwd_arg *fa = malloc(sizeof(*fa));
        if (!fa) {
            p->fwd_status = MXV_DNS_FAIL;
            mxv_text_copy(p->fwd_detail, sizeof(p->fwd_detail), "out of memory");
            continue;
        }
        *fa = (fwd_arg){st, i};
        /* A(PTR(IP)) = IP: the same address family as the connection. */
        if (!mxv_dns_submit(st->dns, p->name, v6 ? MXV_RR_AAAA : MXV_RR_A, on_forward, fa)) {
            free(fa);
            p->fwd_status = MXV_DNS_FAIL;
            mxv_text_copy(p->fwd_detail, sizeof(p->fwd_detail), "out of memory");
        }
    }
}

/* No lookup made: the sources asked for are failures, with this detail. */
static void dns_not_asked(state *st, bool need_mx, bool need_ptr, const char *detail)
{
    st->dns_failed = true;
    mxv_decision_dns_failed(st->d, "no lookup made: %s", detail);
    if (need_mx) {
        st->mx_status = MXV_DNS_FAIL;
        mxv_text_copy(st->mx_detail, sizeof(st->mx_detail), detail);
    }
    if (need_ptr) {
        st->ptr_status = MXV_DNS_FAIL;
        mxv_text_copy(st->ptr_detail, sizeof(st->ptr_detail), detail);
    }
}

static void submit_evidence(mxv_dns *dns, void *arg)
{
    state *st = arg;
    mxv_decision *d = st->d;
    st->dns = dns;
    if (st->ask_mx)
        mxv_dns_submit(dns, d->domain, MXV_RR_MX, on_mx, st);
    char rev[128];
    if (st->ask_ptr && mxv_dns_reverse_name(d->ip, rev, sizeof(rev)))
        mxv_dns_submit(dns, rev, MXV_RR_PTR, on_ptr, st);
}

/* The MX RRset the program itself just received, where it may stand for
 * mxverify's own lookup (program_dns.h). */
static bool program_mx(state *st)
{
    mxv_dns_answer a;
    mxv_program_answer_storage *keep = malloc(sizeof(*keep));
    bool have = keep && mxv_program_mx_evidence(st->policy, &st->e, st->d->domain,
                                                !st->d->dns_cache_only, &a, keep);
    if (have) {
        on_mx(st, &a);
        mxv_decision_note(st->d,
                          "MX RRset of %s: the program's own lookup through the system resolver "
                          "(insecure; mxverify's own lookup could not have told more)",
                          st->d->domain);
    }
    free(keep);
    return have;
}

/* Gathers what the plan needs from DNS for `source` in one round of
 * parallel lookups: the MX and PTR evidence together (and the forward
 * confirmation of each PTR name), so that a decision waits for one round
 * trip at most. When the MX RRset comes without a lookup (the program's
 * own answer), the PTR evidence waits until a step needs it: a
 * certificate that matches an MX host then costs no lookup at all. */
static void gather_dns(state *st, mxv_source source)
{
    mxv_decision *d = st->d;
    bool need_mx = !st->mx_in && plan_has(st, MXV_SRC_MX) && st->mx_given->n == 0 && d->domain;
    bool need_ptr = !st->ptr_in && plan_has(st, MXV_SRC_PTR) && d->ip[0];
    if (need_mx && program_mx(st)) {
        need_mx = false;
        st->mx_in = true;
        need_ptr = need_ptr && source == MXV_SRC_PTR;
    }
    st->mx_in = st->mx_in || need_mx || source == MXV_SRC_MX;
    st->ptr_in = st->ptr_in || need_ptr || source == MXV_SRC_PTR;
    if (!need_mx && !need_ptr)
        return;
    st->ask_mx = need_mx;
    st->ask_ptr = need_ptr;
    const char *missing =
        mxv_decision_dns_round(d, st->policy, st->e.dns_timeout_ms, submit_evidence, NULL, st);
    st->dns = NULL;
    if (missing)
        dns_not_asked(st, need_mx, need_ptr, missing);
}

const char *mxv_decision_dns_round(mxv_decision *d, mxv_policy *policy, int timeout_ms,
                                   void (*submit)(mxv_dns *dns, void *arg),
                                   void (*after)(mxv_dns *dns, void *arg), void *arg)
{
    if (!d->dns_cache_only) {
        pthread_mutex_lock(&policy->lock);
    } else if (pthread_mutex_trylock(&policy->lock) != 0) {
        d->dns_missed = true; /* another decision is resolving: do not wait for it */
        return "resolver busy";
    }
    const char *why;
    mxv_dns *dns = mxv_policy_dns(policy, &why);
    if (!dns) {
        mxv_decision_note(d, "DNS unavailable: %s", why);
        pthread_mutex_unlock(&policy->lock);
        return "DNS unavailable";
    }
    mxv_dns_cache_only(dns, d->dns_cache_only);
    submit(dns, arg);
    if (d->also_submit)
        d->also_submit(dns, d->also_arg);
    mxv_dns_run(dns, timeout_ms);
    const char *notice = mxv_dns_take_notice(dns);
    if (notice) {
        mxv_effective e;
        mxv_policy_effective(policy, d->domain, &e);
        mxv_log_message(&e, LOG_WARNING, "%s", notice);
    }
    if (mxv_dns_cache_only(dns, false))
        d->dns_missed = true;
    if (after)
        after(dns, arg);
    pthread_mutex_unlock(&policy->lock);
    return NULL;
}

/* --- reference identifiers, per source --- */

static mxv_dnssec_status shown(const state *st, mxv_dnssec_status s)
{
    return st->e.dnssec == MXV_DNSSEC_OFF ? MXV_SEC_NONE : s;
}

static bool dnssec_acceptable(const state *st, mxv_dnssec_status s)
{
    return st->e.dnssec != MXV_DNSSEC_REQUIRE || s == MXV_SEC_SECURE;
}

static void build_mx(state *st)
{
    mxv_decision *d = st->d;
    if (st->mx_given->n) {
        for (size_t i = 0; i < st->mx_given->n; i++)
            add_ref(st, st->mx_given->items[i], MXV_SRC_MX, MXV_SEC_NONE, true, "given");
        return;
    }
    if (!d->domain)
        return;
    if (st->mx_status == MXV_DNS_FAIL) {
        st->dns_failed = true;
        mxv_decision_note(d, "MX lookup of %s failed: %s (temporary)", d->domain, st->mx_detail);
        mxv_decision_dns_failed(d, "MX lookup of %s failed: %s", d->domain, st->mx_detail);
        return;
    }
    if (st->mx_status == MXV_DNS_NODATA) {
        /* RFC 5321 5.1: no MX record makes the domain its own MX; a domain
         * that does not exist has none. */
        bool nxdomain = strstr(st->mx_detail, "NXDOMAIN") != NULL;
        mxv_decision_note(d, "MX lookup of %s: %s%s", d->domain, st->mx_detail,
                          nxdomain ? " (no such domain)"
                                   : " (the domain itself is its implicit MX)");
        return;
    }
    mxv_dnssec_status sec = shown(st, st->mx_sec);
    bool ok = dnssec_acceptable(st, st->mx_sec);
    for (size_t i = 0; i < st->nmx; i++) {
        if (!st->mx[i].name[0]) {
            mxv_decision_note(d, "%s has a null MX (RFC 7505): it accepts no mail", d->domain);
            continue;
        }
        char note[64];
        snprintf(note, sizeof(note), "preference %u%s", st->mx[i].pref,
                 ok ? "" : "; not DNSSEC-secure (dnssec = require)");
        add_ref(st, st->mx[i].name, MXV_SRC_MX, sec, ok, note);
    }
}

static void build_ptr(state *st)
{
    mxv_decision *d = st->d;
    if (!d->ip[0]) {
        mxv_decision_note(d, "no connected IP address: no PTR evidence");
        return;
    }
    if (st->ptr_status == MXV_DNS_FAIL) {
        st->dns_failed = true;
        mxv_decision_note(d, "PTR lookup of %s failed: %s (temporary)", d->ip, st->ptr_detail);
        mxv_decision_dns_failed(d, "PTR lookup of %s failed: %s", d->ip, st->ptr_detail);
        return;
    }
    if (st->ptr_status == MXV_DNS_NODATA) {
        mxv_decision_note(d, "PTR lookup of %s: %s", d->ip, st->ptr_detail);
        return;
    }
    for (size_t i = 0; i < st->nptr; i++) {
        const ptr_name *p = &st->ptr[i];
        char note[512];
        const char *family = strchr(d->ip, ':') ? "AAAA" : "A";
        mxv_dnssec_status sec = weakest(p->sec, p->fwd_sec);
        bool eligible = false;
        if (p->fwd_status == MXV_DNS_FAIL) {
            st->dns_failed = true;
            snprintf(note, sizeof(note), "forward lookup (%s) failed: %s (temporary)", family,
                     p->fwd_detail);
            mxv_decision_dns_failed(d, "%s lookup of %s (PTR name of %s) failed: %s", family,
                                    p->name, d->ip, p->fwd_detail);
        } else if (!p->confirmed) {
            snprintf(note, sizeof(note), "not forward-confirmed: %s %s does not contain %s", family,
                     p->name, d->ip);
        } else if (!dnssec_acceptable(st, sec)) {
            snprintf(note, sizeof(note),
                     "forward-confirmed, but not DNSSEC-secure (dnssec = "
                     "require)");
        } else {
            snprintf(note, sizeof(note), "forward-confirmed: %s %s = %s", family, p->name, d->ip);
            eligible = true;
        }
        add_ref(st, p->name, MXV_SRC_PTR, shown(st, sec), eligible, note);
    }
}

static void build_source(state *st, mxv_source source)
{
    if (st->built[source])
        return;
    if ((source == MXV_SRC_MX && !st->mx_in) || (source == MXV_SRC_PTR && !st->ptr_in))
        gather_dns(st, source);
    st->built[source] = true;
    st->first[source] = st->d->nrefs;
    switch (source) {
    case MXV_SRC_DOMAIN:
        if (st->d->domain)
            add_ref(st, st->d->domain, MXV_SRC_DOMAIN, MXV_SEC_NONE, true, NULL);
        break;
    case MXV_SRC_CONFIGURED:
        for (size_t i = 0; i < st->reference->n; i++)
            add_ref(st, st->reference->items[i], MXV_SRC_CONFIGURED, MXV_SEC_NONE, true, NULL);
        break;
    case MXV_SRC_ROUTE:
        for (size_t i = 0; i < st->route->n; i++)
            if (!mxv_is_ip_literal(st->route->items[i]))
                add_ref(st, st->route->items[i], MXV_SRC_ROUTE, MXV_SEC_NONE, true, NULL);
        break;
    case MXV_SRC_MX:
        build_mx(st);
        break;
    case MXV_SRC_PTR:
        build_ptr(st);
        break;
    }
    st->count[source] = st->d->nrefs - st->first[source];
}

static bool id_in_step(const mxv_decision *d, const mxv_presented_id *id, id_kind kind)
{
    switch (kind) {
    case IDS_DNS:
        return id->type == MXV_ID_DNS;
    case IDS_CN:
        return id->type == MXV_ID_CN;
    case IDS_HOSTED:
        /* RFC 6125 6.4.4: the CN counts only when there is no DNS-ID. */
        return d->presented.n_dns ? id->type == MXV_ID_DNS : id->type == MXV_ID_CN;
    }
    return false;
}

static bool run_step(state *st, const step *s)
{
    mxv_decision *d = st->d;
    build_source(st, s->source);
    for (size_t r = st->first[s->source]; r < st->first[s->source] + st->count[s->source]; r++) {
        mxv_reference *ref = &d->refs[r];
        if (!ref->eligible)
            continue;
        ref->used = true;
        for (size_t i = 0; i < d->presented.n; i++) {
            const mxv_presented_id *id = &d->presented.ids[i];
            if (id_in_step(d, id, s->ids) && mxv_name_matches(id->name, id->len, ref->name)) {
                d->matched = true;
                d->match_id = i;
                d->match_ref = r;
                return true;
            }
        }
    }
    return false;
}

void mxv_decide_identity(mxv_decision *d, mxv_policy *policy, const mxv_request *req)
{
    state *st = malloc(sizeof(*st));
    if (!st)
        return;
    memset(st, 0, offsetof(state, mx));
    st->d = d;
    st->policy = policy;
    st->req = req;
    mxv_policy_effective(policy, d->domain, &st->e);
    st->mx_given = req && req->mx.n ? &req->mx : st->e.mx;
    st->route = req && req->route.n ? &req->route : st->e.route;
    st->reference = req && req->reference.n ? &req->reference : st->e.reference;
    st->ptr_status = -1;
    make_plan(st);
    for (size_t i = 0; i < st->nsteps && !run_step(st, &st->plan[i]); i++)
        ;
    if (!d->matched && d->nrefs == 0)
        mxv_decision_note(d, "no reference identifier: nothing to compare the certificate with "
                             "(fail closed)");
    d->temporary = !d->matched && st->dns_failed;
    free(st);
}

mxv_algorithm mxv_mode_algorithm(mxv_mode m)
{
    return m == MXV_MODE_REQUIRED_VERIFY_HOSTED ? MXV_ALG_HOSTED
           : mxv_mode_verifies(m)               ? MXV_ALG_VERIFY
                                                : MXV_ALG_NONE;
}
