/* SPDX-License-Identifier: Apache-2.0 */
/* dane_host: which host DANE asks about, and whether to trust it (dane_host.h). */
#include "dane_host.h"
#include "names.h"
#include "policy.h"
#include "settings.h"
#include "text_copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool mxv_mx_rrset_names_domain(const mxv_mx_rrset *mx)
{
    return mx->secure && mx->lists_host && !mx->aliased;
}

void mxv_mx_rrset_answer(void *arg, const mxv_dns_answer *a)
{
    mxv_mx_rrset *m = arg;
    m->answered = true;
    m->failed = a->status == MXV_DNS_FAIL;
    m->aliased = a->canonical[0] != '\0';
    mxv_text_copy(m->detail, sizeof(m->detail), a->detail);
    m->secure = !m->failed && a->sec == MXV_SEC_SECURE;
    /* No MX records: the domain is its own (RFC 5321 section 5.1). */
    if (m->secure && a->status == MXV_DNS_NODATA && m->domain)
        m->lists_host = strcasecmp(m->domain, m->host) == 0;
    for (size_t i = 0; m->secure && a->status == MXV_DNS_OK && i < a->n; i++) {
        unsigned pref;
        char name[MXV_NAME_MAX + 1];
        if (mxv_dns_parse_mx(a->rdata[i], a->rdlen[i], &pref, name, sizeof(name)) &&
            strcasecmp(name, m->host) == 0)
            m->lists_host = true;
    }
}

/* No host from the connection: the one MX host the request or the
 * settings name, if they name exactly one (with several, which one this
 * connection is to is not known). */
static const char *only_mx(const mxv_decision *d, mxv_policy *policy, const mxv_request *req)
{
    mxv_effective e;
    mxv_policy_effective(policy, d->domain, &e);
    const mxv_strlist *mx = req && req->mx.n ? &req->mx : e.mx;
    if (mx->n)
        return mx->n == 1 ? mx->items[0] : NULL;
    /* A route to one host name (a relay): that host. */
    const mxv_strlist *route = req && req->route.n ? &req->route : e.route;
    static __thread char host[MXV_NAME_MAX + 1];
    bool is_ip, one = route->n == 1;
    char why[64];
    if (one && mxv_parse_route(route->items[0], host, sizeof(host), &is_ip, why, sizeof(why)) &&
        !is_ip)
        return host;
    return NULL;
}

/* Does the list name host (as an MX host, or a route's host)? */
static bool listed(const mxv_strlist *list, const char *host)
{
    for (size_t i = 0; i < list->n; i++) {
        char name[MXV_NAME_MAX + 1], why[64];
        bool is_ip;
        if (strcasecmp(list->items[i], host) == 0 ||
            (mxv_parse_route(list->items[i], name, sizeof(name), &is_ip, why, sizeof(why)) &&
             !is_ip && strcasecmp(name, host) == 0))
            return true;
    }
    return false;
}

/* Did the request or the settings name this host (an MX or route given,
 * which replaces the MX lookup), rather than the connection (what the
 * program looked up, or gave OpenSSL)? */
static bool configured_host(const mxv_decision *d, mxv_policy *policy, const mxv_request *req,
                            const char *host)
{
    mxv_effective e;
    mxv_policy_effective(policy, d->domain, &e);
    /* The request's MX hosts are the caller's (explain, the API), unless
     * the hook put there the name the program gave OpenSSL. */
    bool request_mx = req && !req->mx_from_program && listed(&req->mx, host);
    return request_mx || (req && listed(&req->route, host)) || listed(e.mx, host) ||
           listed(e.route, host);
}

/* The host as DNS names it: A-labels, lower case, without the root's
 * dot (out: MXV_NAME_MAX + 1 bytes). false: not a host name, or a
 * single-label one, which a resolver completes from its search list
 * (which host the program reached is then not known). */
static bool normal_host(const char *host, char *out)
{
    const char *why;
    return mxv_reference_normalize(host, out, MXV_NAME_MAX + 1, &why) && strchr(out, '.') &&
           out[0] != '*';
}

/* The host came from the connection (what the program looked up): when
 * the recipient domain's DNSSEC-secure MX RRset does not name it, the
 * program's own DNS answer may have been forged (RFC 7672 section 2.2.1
 * trusts MX hosts from a validated RRset only), and whatever DANE the
 * host has or lacks decides nothing: the evidence fails. */
void mxv_dane_host_check(const mxv_decision *d, mxv_policy *policy, const mxv_request *req,
                         const char *host, const mxv_mx_rrset *mx, mxv_dane_evidence *ev)
{
    if (ev->state == MXV_DANE_NONE && ev->no_address) {
        /* The program reached an address DNS does not give this name: the
         * resolver completed it (search list), or a hosts file has it; a
         * setting naming such a host is no better (DANE would be asked of
         * a name that is not the one reached). */
        ev->state = MXV_DANE_FAILED;
        snprintf(ev->why, sizeof(ev->why),
                 "the program reached %.60s at an address DNS does not give that name (a name "
                 "its resolver completed from a search list, or a hosts file entry: for such a "
                 "relay, set dane = off for its destinations)",
                 host);
        return;
    }
    if (ev->state == MXV_DANE_FAILED || configured_host(d, policy, req, host))
        return;
    if (!d->domain)
        return;
    if (!mx->answered || mx->failed) {
        /* Whether the program was sent to a host of the domain's is not
         * known: never taken as yes. */
        ev->state = MXV_DANE_FAILED;
        ev->bogus = strstr(mx->detail, "bogus") != NULL;
        snprintf(ev->why, sizeof(ev->why),
                 "the MX lookup of %.60s failed (%.50s): whether %.60s is one of its MX hosts "
                 "is not known",
                 d->domain, mx->answered ? mx->detail : "not made", host);
        return;
    }
    if (!mx->secure || mx->lists_host)
        return;
    ev->state = MXV_DANE_FAILED;
    ev->bogus = false;
    snprintf(ev->why, sizeof(ev->why),
             "the MX host %.60s is not in %.60s's DNSSEC-secure MX records (a forged answer to "
             "the program, or a relay mxverify was not told of: set route)",
             host, d->domain);
}

const char *mxv_dane_host(mxv_decision *d, mxv_policy *policy, const mxv_request *req,
                          const char *host, char *out, const char **raw)
{
    if (!host)
        host = only_mx(d, policy, req);
    *raw = host;
    if (!host || !normal_host(host, out))
        return NULL;
    if (!d->host || strcmp(d->host, out) != 0) {
        free(d->host); /* mx= in the log line: the host DANE judges */
        d->host = strdup(out);
    }
    return out;
}
