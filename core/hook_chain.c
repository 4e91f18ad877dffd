/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hook_chain: handshakes of TLS libraries other than OpenSSL (GnuTLS),
 * which the preload shim hooks itself (shim/hook_gnutls.c) and hands here
 * as DER: the same decision as for OpenSSL programs (DANE, MTA-STS, the
 * ESA setting), from the same context (the recipient domain the program
 * looked up or the settings name, the name it gave its library, the
 * connected address and port), logged with tls=gnutls, and told to the
 * shim's guard so that TLS data flows only after a pass.
 *
 * The chain is checked against mxverify's anchors (the system's plus
 * ca_file/ca_path) and those the program gave its library (the shim hands
 * them over: mxv_hook_program_anchors); the program's own check runs too,
 * and its rejection stands (the shim keeps it).
 */
#include "decision.h"
#include "hook_state.h"
#include "log.h"
#include "recent_failures.h"
#include "ssl_verify.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The program named its peer (SNI, verify name) or looked it up: that is
 * the MX host, unless the settings name the hosts themselves. */
static void request_host(mxv_request *req, const mxv_effective *e, const char *name,
                         const mxv_observed *seen, mxv_decision *d)
{
    char err[8];
    const char *host = name && *name ? name : seen && seen->host[0] ? seen->host : NULL;
    if (!host)
        return;
    if (!mxv_request_set(req, "host", host, err, sizeof(err)))
        return; /* an IP literal or junk: not a host name */
    if (req->mx.n || e->mx->n || req->route.n || e->route->n)
        return;
    if (mxv_request_set(req, "mx", host, err, sizeof(err))) {
        req->mx_from_program = true;
        mxv_decision_note(d, "MX host %s: %s", host,
                          name && *name ? "the name the program gave its TLS library"
                                        : "the name the program looked up for this address");
    }
}

/* The certificates as OpenSSL objects: the leaf, and the rest in a stack. */
static X509 *read_chain(const mxv_hook_chain *in, STACK_OF(X509) * *rest)
{
    X509 *leaf = NULL;
    *rest = sk_X509_new_null();
    for (size_t i = 0; i < in->n && *rest; i++) {
        const unsigned char *p = in->der[i];
        X509 *cert = d2i_X509(NULL, &p, (long)in->der_len[i]);
        if (!cert)
            break; /* what follows a damaged certificate is not a chain */
        if (!leaf)
            leaf = cert;
        else if (!sk_X509_push(*rest, cert))
            X509_free(cert);
    }
    return leaf;
}

static void tell(const mxv_hook_chain *in, bool pass)
{
    if (mxv_hook.host && mxv_hook.host->decided && in->random)
        mxv_hook.host->decided(in->fd, in->random, pass);
}

mxv_chain_verdict mxv_hook_decide_chain(const mxv_hook_chain *in, bool *replace_name)
{
    *replace_name = false;
    char ip[64];
    mxv_peer_ip(in->fd, ip, sizeof(ip));
    if (mxv_hook.broken) {
        mxv_hook_broken_line(ip, "handshake", in->library);
        tell(in, false);
        return MXV_CHAIN_FAIL;
    }
    mxv_observed seen;
    memset(&seen, 0, sizeof(seen));
    bool have = mxv_hook.host && mxv_hook.host->observed && mxv_hook.host->observed(in->fd, &seen);
    mxv_effective e;
    const char *domain = mxv_hook_destination(have && seen.domain[0] ? seen.domain : NULL, &e);
    if (mxv_mode_algorithm(e.mode) == MXV_ALG_NONE && !mxv_published_asked(&e))
        return MXV_CHAIN_UNTOUCHED; /* nothing to verify: the program's checks alone */

    char err[256], port[8];
    mxv_request *req = mxv_request_new();
    mxv_decision *d = NULL;
    STACK_OF(X509) *rest = NULL;
    X509 *leaf = read_chain(in, &rest);
    snprintf(port, sizeof(port), "%u", mxv_tcp_peer_port(in->fd));
    if (req && (!domain || mxv_request_set(req, "domain", domain, err, sizeof(err))) &&
        (!ip[0] || mxv_request_set(req, "ip", ip, err, sizeof(err))) &&
        mxv_request_set(req, "port", port, err, sizeof(err))) {
        mxv_decision *scratch = mxv_decision_new(); /* the notes of the context, kept below */
        if (scratch)
            request_host(req, &e, in->server_name, have ? &seen : NULL, scratch);
        d = mxv_decide(mxv_hook.policy, req, leaf, rest);
        for (size_t i = 0; d && scratch && i < scratch->notes.n; i++)
            mxv_decision_note(d, "%s", scratch->notes.items[i]);
        mxv_decision_free(scratch);
    }
    mxv_chain_verdict verdict = MXV_CHAIN_FAIL;
    if (d) {
        if (!d->host && req->host)
            d->host = strdup(req->host); /* the log's mx= */
        d->tls = in->library;
        d->resumed = in->resumed;
        if (!leaf)
            d->pass = false, d->abort = !d->report_only, d->reason = "validation-failure";
        mxv_decision_connection(d, in->fd);
        mxv_log_decision(&e, d);
        if (d->abort)
            mxv_recent_failure_add(d->ip, d->reason);
        verdict = d->abort ? MXV_CHAIN_FAIL : MXV_CHAIN_PASS;
        /* As for OpenSSL programs: where the policy enforces a verifying
         * mode, its identity replaces the program's host-name check. */
        *replace_name = d->pass && !d->report_only && mxv_mode_requires_tls(d->mode) &&
                        mxv_mode_verifies(d->mode);
    } else {
        mxv_hook_undecided_line(ip, in->library, "out of memory");
    }
    tell(in, verdict == MXV_CHAIN_PASS);
    mxv_decision_free(d);
    mxv_request_free(req);
    X509_free(leaf);
    sk_X509_pop_free(rest, X509_free);
    return verdict;
}

bool mxv_hook_program_anchors(const char *path, bool directory, const void *data, size_t len,
                              bool pem)
{
    if (!mxv_hook.installed || mxv_hook.broken)
        return false;
    const char *why = NULL;
    bool ok = false;
    pthread_mutex_lock(&mxv_hook.policy->lock);
    X509_STORE *store = mxv_policy_store(mxv_hook.policy, &why);
    if (store && path)
        ok = directory ? X509_STORE_load_path(store, path) : X509_STORE_load_file(store, path);
    else if (store && data) {
        BIO *bio = BIO_new_mem_buf(data, (int)len);
        X509 *cert;
        ok = bio != NULL;
        if (!pem) {
            const unsigned char *p = data;
            cert = d2i_X509(NULL, &p, (long)len);
            ok = cert && X509_STORE_add_cert(store, cert);
            X509_free(cert);
        } else {
            /* every certificate of the PEM text (a duplicate is no error) */
            while (bio && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
                ERR_set_mark();
                X509_STORE_add_cert(store, cert);
                ERR_pop_to_mark();
                X509_free(cert);
            }
            ERR_clear_error();
        }
        BIO_free(bio);
    }
    pthread_mutex_unlock(&mxv_hook.policy->lock);
    return ok;
}
