/* SPDX-License-Identifier: Apache-2.0 */
/* decide_offline: mxv_decide(), the whole decision from a chain on disk or
 * in memory (what `mxverify explain` and programs without a live TLS
 * connection use), and the chain check it and the hook share. */
#include "decision.h"
#include "policy.h"
#include "session_verdict.h"
#include "ssl_verify.h"

#include <openssl/x509_vfy.h>
#include <stdlib.h>
#include <string.h>

static bool issuer_unknown(int error)
{
    return error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
           error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
           error == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
           error == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT;
}

/* One chain verification as libssl's client makes it (purpose: a TLS
 * server certificate): 1 valid, 0 not (*error says why), -1 could not be
 * set up. A valid chain's validity window goes into d. */
static int verify_with(mxv_decision *d, X509_STORE *store, X509 *leaf, STACK_OF(X509) * chain,
                       int *error)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = -1;
    if (ctx && X509_STORE_CTX_init(ctx, store, leaf, chain)) {
        X509_STORE_CTX_set_default(ctx, "ssl_server");
        rc = X509_verify_cert(ctx) == 1;
        *error = rc ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
        if (rc == 1)
            d->chain_window = mxv_chain_window(X509_STORE_CTX_get0_chain(ctx), &d->chain_not_before,
                                               &d->chain_not_after);
    }
    X509_STORE_CTX_free(ctx);
    return rc;
}

void mxv_check_chain(mxv_decision *d, mxv_policy *policy, X509 *leaf, STACK_OF(X509) * chain)
{
    d->chain_checked = true;
    const char *why;
    pthread_mutex_lock(&policy->lock);
    X509_STORE *store = mxv_policy_store(policy, &why);
    pthread_mutex_unlock(&policy->lock);
    if (!store) {
        d->chain_ok = false;
        d->chain_error = X509_V_ERR_UNSPECIFIED;
        d->chain_error_text = strdup(why);
        return;
    }
    int error = X509_V_OK;
    int rc = verify_with(d, store, leaf, chain, &error);
    /* The CA directory lacked the issuer: again with the bundle file too. */
    if (rc == 0 && issuer_unknown(error) && mxv_policy_store_add_bundle(policy))
        rc = verify_with(d, store, leaf, chain, &error);
    if (rc < 0) {
        d->chain_error = X509_V_ERR_OUT_OF_MEM;
        d->chain_error_text = strdup("cannot set up chain verification");
        return;
    }
    d->chain_ok = rc == 1;
    if (!d->chain_ok) {
        /* The chain given may start with the leaf (a peer's chain) or not. */
        int n = chain ? sk_X509_num(chain) : 0;
        int sent = n > 0 && X509_cmp(sk_X509_value(chain, 0), leaf) == 0 ? n : n + 1;
        d->chain_error = error;
        d->chain_error_text = mxv_chain_error_text(error, sent);
    }
}

/* The MX host connected to, offline: the one the request names, else the
 * first MX given (interfaces.md, explain), else none known. */
static const char *connected_host(const mxv_request *req, const mxv_effective *e)
{
    if (req && req->host)
        return req->host;
    if (req && req->mx.n)
        return req->mx.items[0];
    return e->mx->n ? e->mx->items[0] : NULL;
}

mxv_decision *mxv_decide(mxv_policy *policy, const mxv_request *req, X509 *leaf,
                         STACK_OF(X509) * chain)
{
    mxv_decision *d = mxv_decision_new();
    if (!d || !policy)
        return d;
    mxv_effective e;
    mxv_decision_begin(d, policy, req, &e);
    if (!mxv_presented_from_cert(leaf, &d->presented))
        mxv_decision_note(d, "out of memory reading the certificate's names");
    const char *host = connected_host(req, &e);
    if (host && !d->host && d->dane != MXV_DANE_OFF)
        d->host = strdup(host);
    if (mxv_decide_dane(d, policy, req, host, req && req->port ? req->port : 25, leaf, chain))
        return d; /* DANE decided: the ESA algorithm is not consulted */
    if (leaf)
        mxv_check_chain(d, policy, leaf, chain);
    else
        d->chain_error_text = strdup("no certificate");
    if (host && !d->host && d->mta_sts != MXV_STS_OFF)
        d->host = strdup(host);
    if (mxv_decide_sts(d, policy, req, host, leaf != NULL))
        return d; /* an enforced MTA-STS policy decided */
    if (d->algorithm != MXV_ALG_NONE && leaf)
        mxv_decide_identity(d, policy, req);
    mxv_decision_conclude(d);
    return d;
}

void mxv_free(void *p)
{
    free(p);
}

const char *mxv_version(void)
{
    return MXV_VERSION;
}
