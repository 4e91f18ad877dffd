/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy_runtime: what deciding needs at run time and builds once, from
 * the settings in force: the libunbound context (with its caches and the
 * shared answer file) and the trust store. Built lazily, under the
 * policy's lock; a forked child builds its own (hook.c).
 */
#include "dns_shared.h"
#include "log.h"
#include "policy.h"
#include "sts_cache.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

void mxv_policy_runtime_free(mxv_policy *p)
{
    mxv_dns_free(p->dns);
    free(p->dns_error);
    X509_STORE_free(p->store);
    free(p->store_error);
    mxv_sts_cache_free(p->sts);
}

/* DANE rests on DNSSEC (RFC 7672 section 2.1): where it is on, answers
 * are validated, and a path that strips signatures is never taken for
 * "insecure" (that would turn DANE off for whoever strips them). */
static bool validates(const mxv_effective *e)
{
    return e->dnssec != MXV_DNSSEC_OFF || e->dane != MXV_DANE_OFF;
}

static bool no_downgrade(const mxv_effective *e)
{
    return e->dnssec == MXV_DNSSEC_REQUIRE || e->dane != MXV_DANE_OFF;
}

/* A cache file that cannot be used safely only costs speed: say so once
 * and go on with this process's own lookups. */
static void share_answers(mxv_dns *dns, const mxv_effective *e, bool validate, bool downgrade)
{
    char err[512];
    mxv_dns_shared *shared = mxv_dns_shared_open(
        e->dns_cache, e->dns_cache_size, mxv_dns_shared_scope(e->unbound_conf, validate, downgrade),
        err, sizeof(err));
    if (shared)
        mxv_dns_share(dns, shared);
    else
        mxv_log_message(e, LOG_WARNING, "dns_cache %s; DNS answers are not shared", err);
}

/* Callers hold p->lock. */
mxv_dns *mxv_policy_dns(mxv_policy *p, const char **why)
{
    if (!p->dns && !p->dns_error) {
        mxv_effective e;
        mxv_policy_effective(p, NULL, &e);
        char err[512];
        bool validate = mxv_policy_any(p, validates);
        bool downgrade = !mxv_policy_any(p, no_downgrade);
        p->dns = mxv_dns_new(e.unbound_conf, validate, err, sizeof(err));
        if (!p->dns) {
            p->dns_error = strdup(err);
        } else {
            mxv_dns_allow_downgrade(p->dns, downgrade);
            if (e.dns_cache)
                share_answers(p->dns, &e, validate, downgrade);
        }
    }
    *why = p->dns_error ? p->dns_error : "out of memory";
    return p->dns;
}

/* The system's CA directory (SSL_CERT_DIR or OpenSSL's default), whose
 * certificates are read one by one as chains need them. The same anchors
 * as X509_STORE_set_default_paths(), without reading the whole bundle file
 * (about 240 M instructions, 80 ms here) in every process that decides once:
 * the file is read only when the directory did not know an issuer. */
static bool add_default_dir(X509_STORE *store)
{
    X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
    if (!lookup)
        return false;
    const char *dir = secure_getenv(X509_get_default_cert_dir_env());
    ERR_set_mark(); /* a missing directory is not an error: the file may do */
    X509_LOOKUP_add_dir(lookup, dir ? dir : X509_get_default_cert_dir(), X509_FILETYPE_PEM);
    ERR_pop_to_mark();
    return true;
}

/* The system's CA bundle file (SSL_CERT_FILE or OpenSSL's default). */
static void add_default_file(X509_STORE *store)
{
    const char *file = secure_getenv(X509_get_default_cert_file_env());
    ERR_set_mark(); /* as set_default_paths: a missing file is no error */
    X509_STORE_load_file(store, file ? file : X509_get_default_cert_file());
    ERR_pop_to_mark();
}

bool mxv_store_add_system_anchors(X509_STORE *store)
{
    if (!add_default_dir(store))
        return false;
    add_default_file(store);
    return true;
}

bool mxv_policy_store_add_bundle(mxv_policy *p)
{
    pthread_mutex_lock(&p->lock);
    bool now = p->store && !p->store_bundle_loaded;
    if (now) {
        add_default_file(p->store);
        p->store_bundle_loaded = true;
    }
    pthread_mutex_unlock(&p->lock);
    return now;
}

/* Callers hold p->lock. The system's default CA paths plus the configured
 * extra anchors: ca_file and ca_path add to the system's trust. */
X509_STORE *mxv_policy_store(mxv_policy *p, const char **why)
{
    if (!p->store && !p->store_error) {
        mxv_effective e;
        mxv_policy_effective(p, NULL, &e);
        X509_STORE *store = X509_STORE_new();
        char err[512] = "out of memory";
        bool ok = store && add_default_dir(store);
        if (ok && e.ca_file && !X509_STORE_load_file(store, e.ca_file)) {
            snprintf(err, sizeof(err), "ca_file %s: cannot be read as PEM certificates", e.ca_file);
            ok = false;
        }
        if (ok && e.ca_path && !X509_STORE_load_path(store, e.ca_path)) {
            snprintf(err, sizeof(err), "ca_path %s: not a usable directory", e.ca_path);
            ok = false;
        }
        if (ok) {
            p->store = store;
        } else {
            X509_STORE_free(store);
            p->store_error = strdup(err);
        }
    }
    *why = p->store_error ? p->store_error : "out of memory";
    return p->store;
}

/* Callers hold p->lock. Policies are shared only between processes that
 * would have fetched and accepted them alike (same resolver, same
 * anchors). */
mxv_sts_cache *mxv_policy_sts_cache(mxv_policy *p)
{
    if (p->sts)
        return p->sts;
    mxv_effective e;
    mxv_policy_effective(p, NULL, &e);
    bool validate = mxv_policy_any(p, validates), downgrade = !mxv_policy_any(p, no_downgrade);
    uint64_t scope = mxv_sts_cache_scope(mxv_dns_shared_scope(e.unbound_conf, validate, downgrade),
                                         e.ca_file, e.ca_path);
    char err[512];
    if (e.sts_cache && (p->sts = mxv_sts_cache_new(e.sts_cache, scope, err, sizeof(err))))
        return p->sts;
    if (e.sts_cache)
        mxv_log_message(&e, LOG_WARNING,
                        "sts_cache %s; MTA-STS policies are kept in this process only", err);
    p->sts = mxv_sts_cache_new(NULL, scope, err, sizeof(err));
    return p->sts;
}

bool mxv_policy_dns_round(mxv_policy *p, void (*submit)(mxv_dns *dns, void *arg), void *arg,
                          char *err, size_t errlen)
{
    pthread_mutex_lock(&p->lock);
    const char *why;
    mxv_dns *dns = mxv_policy_dns(p, &why);
    if (!dns) {
        pthread_mutex_unlock(&p->lock);
        snprintf(err, errlen, "DNS unavailable: %s", why);
        return false;
    }
    mxv_effective e;
    mxv_policy_effective(p, NULL, &e);
    submit(dns, arg);
    mxv_dns_run(dns, e.dns_timeout_ms);
    pthread_mutex_unlock(&p->lock);
    return true;
}

bool mxv_policy_dns_unvalidated(mxv_policy *p, bool wait)
{
    if (wait)
        pthread_mutex_lock(&p->lock);
    else if (pthread_mutex_trylock(&p->lock) != 0)
        return false;
    const char *why;
    mxv_dns *dns = mxv_policy_dns(p, &why);
    bool unvalidated = dns && mxv_dns_unvalidated(dns);
    pthread_mutex_unlock(&p->lock);
    return unvalidated;
}

int mxv_policy_prepare(mxv_policy *p, char *err, size_t errlen)
{
    const char *why;
    pthread_mutex_lock(&p->lock);
    mxv_dns *dns = mxv_policy_dns(p, &why);
    bool ok = dns != NULL;
    char dns_err[512];
    if (ok && !mxv_dns_ready(dns, dns_err, sizeof(dns_err))) {
        why = dns_err;
        ok = false;
    }
    if (ok)
        ok = mxv_policy_store(p, &why) != NULL;
    if (!ok)
        snprintf(err, errlen, "%s", why);
    pthread_mutex_unlock(&p->lock);
    return ok;
}
