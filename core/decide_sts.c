/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decide_sts: MTA-STS (RFC 8461, policy.md section 7 item 2) for one
 * connection, after DANE found none. The policy's rules, and only them:
 * the MX host connected to must match one of the policy's mx patterns,
 * and the certificate must chain to a trusted anchor, be in date, and
 * carry a DNS-ID matching that MX host (RFC 8461 section 4.2: CN-IDs are
 * never consulted; PTR names, the recipient domain and configured
 * reference identifiers do not count).
 */
#include "decision.h"
#include "names.h"
#include "policy.h"
#include "sts_lookup.h"
#include "text_copy.h"

#include <openssl/x509_vfy.h>
#include <stdlib.h>
#include <string.h>

/* A DNS-ID of the certificate that matches host, or NULL. */
static const mxv_presented_id *dns_id_for(const mxv_decision *d, const char *host)
{
    for (size_t i = 0; i < d->presented.n; i++) {
        const mxv_presented_id *id = &d->presented.ids[i];
        if (id->type == MXV_ID_DNS && id->valid && mxv_name_matches(id->name, id->len, host))
            return id;
    }
    return NULL;
}

/* The policy's verdict on this connection: NULL when it passes, else the
 * RFC 8460 result type, with why. */
static const char *evaluate(mxv_decision *d, const mxv_sts_policy *p, const char *host,
                            bool have_cert, char *why, size_t whylen)
{
    size_t which = 0;
    if (!host) {
        snprintf(why, whylen,
                 "MTA-STS: the MX host connected to is not known, and the policy "
                 "allows only the hosts it names");
        return "validation-failure";
    }
    if (!mxv_sts_mx_match(p, host, &which)) {
        snprintf(why, whylen, "mx-not-in-policy: %s matches none of the policy's mx patterns%s",
                 host,
                 p->truncated ? " (of the policy's patterns, mxverify keeps the first 64)" : "");
        return "validation-failure";
    }
    d->sts_pattern = strdup(p->mx[which]);
    if (!have_cert)
        return NULL;
    if (!d->chain_ok) {
        snprintf(why, whylen, "MTA-STS: the certificate chain is not valid: %s",
                 d->chain_error_text ? d->chain_error_text : "not verified");
        return mxv_chain_reason(d->chain_error ? d->chain_error : X509_V_ERR_UNSPECIFIED);
    }
    const mxv_presented_id *id = dns_id_for(d, host);
    if (!id) {
        snprintf(why, whylen,
                 "MTA-STS: no DNS-ID of the certificate matches the MX host %s "
                 "(CN-IDs are not consulted)",
                 host);
        return "certificate-host-mismatch";
    }
    mxv_decision_note(d, "MTA-STS: MX host %s matches pattern %s; DNS-ID %.*s matches it", host,
                      p->mx[which], (int)id->len, id->name);
    return NULL;
}

/* The domain's policy: the one given, else the cache rules (sts_lookup.h). */
static bool find_policy(mxv_decision *d, mxv_policy *policy, const mxv_request *req,
                        mxv_sts_cached *out)
{
    if (req && req->sts_given) {
        *out = *req->sts_given;
        mxv_decision_note(d, "MTA-STS: policy given (mode %s)",
                          mxv_sts_mode_name(out->policy.mode));
        return true;
    }
    mxv_effective e;
    mxv_policy_effective(policy, d->domain, &e);
    mxv_sts_found *found = malloc(sizeof(*found));
    if (!found) {
        mxv_decision_note(d, "MTA-STS: out of memory");
        d->sts_result = "sts-policy-fetch-error";
        return false;
    }
    mxv_sts_lookup(d, policy, MXV_STS_FETCH_MISSING, e.dns_timeout_ms, found);
    bool ok = found->state == MXV_STS_FOUND;
    if (ok)
        *out = found->entry;
    else
        d->sts_result = found->error;
    if (!ok && found->why[0])
        mxv_decision_note(d, "MTA-STS: no policy applies: %s", found->why);
    if (!ok && found->error) {
        free(d->why);
        d->why = strdup(found->why);
    }
    if (found->txt_id[0])
        mxv_text_copy(d->sts_id, sizeof(d->sts_id), found->txt_id);
    free(found);
    return ok;
}

bool mxv_decide_sts(mxv_decision *d, mxv_policy *policy, const mxv_request *req, const char *host,
                    bool have_cert)
{
    /* DANE, where it decided, comes first (RFC 8461 section 2). An RRset of
     * unusable records only (MXV_DANE_ENCRYPT) makes TLS mandatory but
     * authenticates nothing: the domain's policy still applies. */
    if (d->mta_sts == MXV_STS_OFF || d->dane_outcome == MXV_DANE_DECIDED ||
        d->dane_outcome == MXV_DANE_FAILURE)
        return false;
    d->sts_outcome = MXV_STS_NO_POLICY;
    if (host && !d->host)
        d->host = strdup(host); /* the log's mx=, a report's receiving-mx-hostname */
    mxv_sts_cached *c = malloc(sizeof(*c));
    if (!c || !find_policy(d, policy, req, c)) {
        free(c);
        return false;
    }
    d->sts_policy = true;
    d->sts_mode = c->policy.mode;
    mxv_text_copy(d->sts_id, sizeof(d->sts_id), c->id);
    d->sts_string = mxv_sts_policy_lines(&c->policy, "; ");
    if (c->policy.mode == MXV_STS_MODE_NONE) {
        free(c);
        mxv_decision_note(d, "MTA-STS: policy mode none: the ESA setting decides");
        return false;
    }
    char why[400] = "";
    const char *result = evaluate(d, &c->policy, host, have_cert, why, sizeof(why));
    bool enforce = c->policy.mode == MXV_STS_MODE_ENFORCE && d->mta_sts == MXV_STS_ON;
    free(c);
    d->sts_result = result;
    if (result)
        mxv_decision_note(d, "%s", why);
    if (!enforce) {
        d->sts_outcome = MXV_STS_EVALUATED;
        mxv_decision_note(d, "MTA-STS: evaluated (%s), not enforced: the ESA setting decides",
                          result ? result : "pass");
        return false;
    }
    d->sts_outcome = MXV_STS_ENFORCED;
    if (!have_cert && !result)
        return false; /* TLS mandatory; the certificate is decided at the handshake */
    d->pass = result == NULL;
    d->abort = !d->pass && !d->report_only;
    d->temporary = false;
    d->reason = result;
    if (result) {
        free(d->why);
        d->why = strdup(why);
    }
    return true;
}

bool mxv_sts_requires_tls(const mxv_decision *d)
{
    return d->sts_outcome == MXV_STS_ENFORCED;
}

bool mxv_decision_published(const mxv_decision *d)
{
    return d->dane != MXV_DANE_OFF || d->mta_sts != MXV_STS_OFF;
}
