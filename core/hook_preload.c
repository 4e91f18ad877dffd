/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hook_preload: the engine's entry points for the preload shim (hook.h's
 * mxv_hook_api): scope and guard level of a new connection, DNS evidence
 * started early, the log line of a refusal the shim's guard made, and what
 * a program needs loaded before it chroots.
 */
#include "hook_state.h"
#include "lazy_libs.h"
#include "log.h"
#include "prefetch.h"
#include "program_dns.h"
#include "recent_failures.h"
#include "ssl_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

bool mxv_hook_active; /* a mode other than none somewhere, or a broken policy */

static bool api_port_in_scope(unsigned port)
{
    return mxv_hook_active && mxv_hook_port_listed(port);
}

/* Destinations have settings of their own, and the program revealed no
 * recipient domain before it connected (swaks --server ADDRESS): those
 * settings cannot apply. Said for every such connection. */
static void unknown_destination(const mxv_effective *e, const char *ip)
{
    mxv_log_message(e, LOG_WARNING,
                    "destination=unknown ip=%s mode=%s why=\"no recipient domain known for this "
                    "connection (no setting, no MX lookup seen): the global mode applies, not "
                    "the %zu destination entries of the configuration\"",
                    ip && *ip ? ip : "-", mxv_mode_name(e->mode), mxv_hook.policy->ndests);
}

/* The recipient domain as the decision will take it: the configured one
 * first, then the one the program looked up (ssl_verify.c); and the
 * settings in force for it. */
const char *mxv_hook_destination(const char *domain, mxv_effective *e)
{
    mxv_policy_effective(mxv_hook.policy, NULL, e); /* the configured one's settings */
    if (e->domain)
        return e->domain;
    mxv_policy_effective(mxv_hook.policy, domain, e);
    return domain;
}

/* What the ESA setting alone guards. */
static mxv_hook_level esa_level(const mxv_effective *e)
{
    bool verify = mxv_enforces_tls(e) && mxv_mode_verifies(e->mode);
    return verify                ? MXV_HOOK_REQUIRE_VERIFIED
           : mxv_enforces_tls(e) ? MXV_HOOK_REQUIRE_TLS
                                 : MXV_HOOK_WATCH;
}

static mxv_hook_level api_connected(const char *domain, const char *host, const char *ip,
                                    unsigned port)
{
    if (mxv_hook.broken)
        return MXV_HOOK_REQUIRE_VERIFIED; /* nothing will pass: fail closed */
    mxv_effective e;
    domain = mxv_hook_destination(domain, &e);
    if (!domain && mxv_hook.policy->ndests)
        unknown_destination(&e, ip);
    bool published = mxv_published_asked(&e);
    if (mxv_mode_algorithm(e.mode) != MXV_ALG_NONE || published)
        mxv_prefetch(mxv_hook.policy, domain, ip, published ? host : NULL, port);
    /* With DANE or MTA-STS on, whether clear text may go is known only
     * from their evidence: asked when the program first tries
     * (api_clear_text). */
    bool may_mandate = e.dane != MXV_DANE_OFF || e.mta_sts == MXV_STS_ON;
    return may_mandate && !e.report_only ? MXV_HOOK_PUBLISHED : esa_level(&e);
}

static bool api_clear_text(const char *domain, const char *host, const char *ip, unsigned port,
                           mxv_hook_level *level, char *why, size_t whylen, const char **reason,
                           const char **policy)
{
    mxv_effective e;
    domain = mxv_hook_destination(domain, &e);
    *level = esa_level(&e);
    *reason = "starttls-not-supported";
    *policy = "dane";
    if (mxv_hook.broken || !mxv_published_asked(&e) || e.report_only)
        return !mxv_hook.broken;
    char err[64];
    mxv_request *req = mxv_request_new();
    mxv_decision *d = mxv_decision_new();
    bool allowed = false;
    if (req && d && (!domain || mxv_request_set(req, "domain", domain, err, sizeof(err))) &&
        (!ip || mxv_request_set(req, "ip", ip, err, sizeof(err)))) {
        mxv_decision_begin(d, mxv_hook.policy, req, NULL);
        mxv_decide_dane(d, mxv_hook.policy, req, host, port, NULL, NULL);
        bool sts_refused = mxv_decide_sts(d, mxv_hook.policy, req, host, false);
        allowed = !mxv_dane_requires_tls(d) && !mxv_sts_requires_tls(d);
        if (mxv_sts_requires_tls(d))
            *policy = "sts";
        if (d->dane_outcome == MXV_DANE_FAILURE || sts_refused) {
            snprintf(why, whylen, "%s", d->why ? d->why : "DANE failed");
            *reason = d->reason;
        } else if (mxv_sts_requires_tls(d)) {
            snprintf(why, whylen,
                     "MTA-STS: TLS is mandatory for %s (its policy, id %s, is enforce)",
                     d->domain ? d->domain : "the domain", d->sts_id);
        } else {
            snprintf(why, whylen,
                     "DANE: TLS is mandatory for %s (a DNSSEC-secure TLSA RRset at %s)",
                     host ? host : "the MX host", d->dane_base ? d->dane_base : "it");
        }
    } else {
        snprintf(why, whylen, "out of memory deciding whether DANE applies");
    }
    mxv_decision_free(d);
    mxv_request_free(req);
    return allowed;
}

static void api_mx_lookup_seen(const char *domain, const unsigned *prefs,
                               const char *const *records, size_t n, unsigned ttl,
                               bool authenticated)
{
    if (!mxv_hook_active || mxv_hook.broken)
        return;
    mxv_program_mx rrset[MXV_DNS_MAX_RECORDS];
    for (size_t i = 0; records && i < n && n <= MXV_DNS_MAX_RECORDS; i++)
        rrset[i] = (mxv_program_mx){prefs[i], records[i]};
    if (records && n <= MXV_DNS_MAX_RECORDS)
        mxv_program_mx_seen(domain, rrset, n, ttl, authenticated);
    mxv_effective e;
    mxv_policy_effective(mxv_hook.policy, domain, &e);
    if (mxv_mode_algorithm(e.mode) != MXV_ALG_NONE)
        mxv_prefetch(mxv_hook.policy, domain, NULL, NULL, 0);
}

/* How long a refused certificate explains a later clear-text attempt to the
 * same address (Postfix retries in clear in the same delivery, within
 * seconds; its smtp processes live minutes). */
enum { RETRY_WINDOW_SECONDS = 3600 };

/* Why the connection was ended, and the RFC 8460 result it counts as: a
 * clear-text retry after this server's certificate was refused counts as
 * that refusal (the server did offer TLS). */
static const char *refusal_why(const mxv_decision *d, const mxv_hook_refusal *r, char *why,
                               size_t len)
{
    const char *before;
    time_t age;
    const char *what = r->why ? r->why : "refused";
    if (r->no_decision) {
        snprintf(why, len, "%s", what);
        return "validation-failure";
    }
    if (mxv_recent_failure_find(d->ip, RETRY_WINDOW_SECONDS, &before, &age)) {
        snprintf(why, len,
                 "clear-text retry refused: this server's certificate was refused %llds ago (%s)",
                 (long long)age, before);
        return before;
    }
    if (r->line && *r->line)
        snprintf(why, len, "\"%s\" in clear refused: %s", r->line, what);
    else
        snprintf(why, len, "clear text refused: %s", what);
    return "starttls-not-supported";
}

static void api_refused(const mxv_hook_refusal *r)
{
    if (mxv_hook.broken) {
        mxv_hook_broken_line(r->ip, "connection", r->no_decision ? r->library : "none");
        return;
    }
    char err[64];
    mxv_request *req = mxv_request_new();
    mxv_decision *d = mxv_decision_new();
    if (req && d) {
        if (r->domain)
            mxv_request_set(req, "domain", r->domain, err, sizeof(err));
        if (r->ip)
            mxv_request_set(req, "ip", r->ip, err, sizeof(err));
        mxv_effective e;
        mxv_decision_begin(d, mxv_hook.policy, req, &e);
        mxv_decision_connection(d, r->fd);
        d->tls = r->no_decision ? r->library : "none";
        d->host = r->host ? strdup(r->host) : NULL;
        d->chain_error_text =
            strdup(r->no_decision ? "no certificate decision" : "not checked (no TLS)");
        d->abort = true;
        mxv_decision_note(d, "connection ended under %s: %s", mxv_mode_name(d->mode),
                          r->why ? r->why : "refused");
        char why[400];
        d->reason = refusal_why(d, r, why, sizeof(why));
        if (r->reason && r->policy && strcmp(r->policy, "sts") == 0) {
            /* the engine's answer (api_clear_text): MTA-STS decided; the
             * policy (cached now) is named in the line, for reports */
            const char *reason = d->reason;
            mxv_decide_sts(d, mxv_hook.policy, req, r->host, false);
            d->pass = false, d->abort = true, d->temporary = false;
            d->sts_outcome = MXV_STS_ENFORCED;
            d->reason = strcmp(reason, "starttls-not-supported") == 0 ? r->reason : reason;
        } else if (r->reason) { /* the engine's answer (api_clear_text): DANE decided */
            d->dane_outcome = MXV_DANE_FAILURE;
            if (strcmp(d->reason, "starttls-not-supported") == 0)
                d->reason = r->reason;
        }
        free(d->why);
        d->why = strdup(why);
        mxv_log_decision(&e, d);
    }
    mxv_decision_free(d);
    mxv_request_free(req);
}

static bool sts_on(const mxv_effective *e)
{
    return e->mta_sts != MXV_STS_OFF;
}

/* A chroot()ed program will not find the resolver's configuration, the
 * CA directory or the libraries afterwards: all are loaded now. */
static void api_before_chroot(void)
{
    if (!mxv_hook.installed || mxv_hook.broken)
        return;
    char err[512];
    if (!mxv_policy_prepare(mxv_hook.policy, err, sizeof(err)))
        mxv_hook_complain("before chroot: %s; in-scope connections will fail closed", err);
    mxv_policy_store_add_bundle(mxv_hook.policy);
    if (mxv_policy_any(mxv_hook.policy, sts_on) && !mxv_curl(err, sizeof(err)))
        mxv_hook_complain("before chroot: %s; MTA-STS policies cannot be fetched", err);
    char *ascii = NULL;
    if (mxv_idn2_to_ascii_8z("example", &ascii, 0) == 0)
        free(ascii);
}

static const mxv_hook_api api = {
    .version = MXV_HOOK_API_VERSION,
    .port_in_scope = api_port_in_scope,
    .connected = api_connected,
    .clear_text = api_clear_text,
    .mx_lookup_seen = api_mx_lookup_seen,
    .refused = api_refused,
    .before_chroot = api_before_chroot,
    .set_program_cert_verify = mxv_hook_set_program_verify,
    .decide_chain = mxv_hook_decide_chain,
    .program_anchors = mxv_hook_program_anchors,
};

/* A policy that cannot be loaded: the mode alone decides whether to fail
 * closed (an enforcing or unreadable mode) or to stay out of the way. */
static bool broken_mode_enforces(void)
{
    const char *value = secure_getenv("MXVERIFY_MODE");
    mxv_mode mode;
    if (!value || !mxv_parse_mode(value, &mode))
        return true;
    return mxv_mode_requires_tls(mode);
}

const mxv_hook_api *MXV_PRELOAD_ENGINE(const mxv_hook_host *host, char *err, size_t errlen)
{
    static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
    static bool done;
    pthread_mutex_lock(&once);
    if (done) {
        pthread_mutex_unlock(&once);
        return &api;
    }
    char why[512];
    mxv_policy *p = mxv_policy_load_default(why, sizeof(why));
    mxv_hook.host = host;
    bool ok = true;
    if (p) {
        mxv_hook_active = mxv_policy_any_mode(p);
        if (mxv_hook_active)
            ok = mxv_hook_install(p, NULL, err, errlen);
        else
            mxv_policy_free(p); /* mode none everywhere: nothing to hook */
    } else if (broken_mode_enforces()) {
        mxv_hook_complain("configuration error: %s; connections in scope fail closed", why);
        mxv_hook_active = true;
        ok = mxv_hook_install_broken(why, NULL, err, errlen);
    } else {
        mxv_hook_complain("configuration error: %s; the mode does not enforce, so mxverify "
                          "stays off",
                          why);
    }
    done = ok;
    pthread_mutex_unlock(&once);
    return ok ? &api : NULL;
}
