#include "policy.h"
#include "dns_shared.h"
#include "log.h"
#include "names.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#define DEFAULT_CONF        "/etc/mxverify.conf"
#define DEFAULT_DNS_TIMEOUT 5000

mxv_policy *mxv_policy_new(void)
{
    mxv_policy *p = calloc(1, sizeof(*p));
    if (p)
        pthread_mutex_init(&p->lock, NULL);
    return p;
}

void mxv_policy_free(mxv_policy *p)
{
    if (!p)
        return;
    mxv_settings_clear(&p->defaults);
    mxv_settings_clear(&p->global);
    mxv_settings_clear(&p->override);
    for (size_t i = 0; i < p->ndests; i++) {
        free(p->dests[i].pattern);
        mxv_settings_clear(&p->dests[i].s);
    }
    free(p->dests);
    mxv_dns_free(p->dns);
    free(p->dns_error);
    X509_STORE_free(p->store);
    free(p->store_error);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

mxv_settings *mxv_policy_add_destination(mxv_policy *p, const char *pattern, char *err,
                                         size_t errlen)
{
    char name[MXV_NAME_MAX + 2];
    const char *why;
    bool subdomains = pattern[0] == '.';
    if (!mxv_reference_normalize(pattern + subdomains, name + 1, sizeof(name) - 1, &why)) {
        snprintf(err, errlen, "destination \"%s\": %s", pattern, why);
        return NULL;
    }
    name[0] = '.';
    const char *key = subdomains ? name : name + 1;
    for (size_t i = 0; i < p->ndests; i++)
        if (strcmp(p->dests[i].pattern, key) == 0) {
            snprintf(err, errlen, "destination \"%s\" given twice", pattern);
            return NULL;
        }
    mxv_destination *d = realloc(p->dests, (p->ndests + 1) * sizeof(*d));
    if (!d || !(key = strdup(key))) {
        snprintf(err, errlen, "out of memory");
        if (d)
            p->dests = d;
        return NULL;
    }
    p->dests = d;
    d[p->ndests] = (mxv_destination){.pattern = (char *)key};
    return &d[p->ndests++].s;
}

/* Exact entry first; else the longest ".parent" entry (like a Postfix
 * TLS policy table or ESA destination controls). */
static const mxv_destination *find_destination(const mxv_policy *p, const char *domain)
{
    if (!domain)
        return NULL;
    const mxv_destination *best = NULL;
    size_t dlen = strlen(domain), best_len = 0;
    for (size_t i = 0; i < p->ndests; i++) {
        const char *pat = p->dests[i].pattern;
        size_t plen = strlen(pat);
        if (pat[0] != '.') {
            if (strcmp(pat, domain) == 0)
                return &p->dests[i];
        } else if (dlen > plen && strcmp(domain + dlen - plen, pat) == 0 && plen > best_len) {
            best = &p->dests[i];
            best_len = plen;
        }
    }
    return best;
}

void mxv_policy_effective(const mxv_policy *p, const char *domain, mxv_effective *out)
{
    static const mxv_strlist empty;
    static const unsigned short smtp_port[] = {25};
    *out = (mxv_effective){
        .mode = MXV_MODE_NONE,
        .mx = &empty,
        .route = &empty,
        .reference = &empty,
        .ports = smtp_port,
        .nports = 1,
        .dnssec = MXV_DNSSEC_PREFER,
        .log = MXV_LOG_SYSLOG,
        .dns_timeout_ms = DEFAULT_DNS_TIMEOUT,
    };
    mxv_settings_layer(out, &p->defaults);
    mxv_settings_layer(out, &p->global);
    if (!domain)
        domain = (p->override.set & MXV_SET_DOMAIN) ? p->override.domain : p->global.domain;
    const mxv_destination *d = find_destination(p, domain);
    if (d) {
        mxv_settings_layer(out, &d->s);
        out->destination = d->pattern;
    }
    mxv_settings_layer(out, &p->override);
}

mxv_mode mxv_policy_mode(const mxv_policy *p, const char *domain)
{
    mxv_effective e;
    mxv_policy_effective(p, domain, &e);
    return e.mode;
}

int mxv_policy_set(mxv_policy *p, const char *key, const char *value, char *err, size_t errlen)
{
    char why[256];
    if (!mxv_settings_apply(&p->override, key, value, why, sizeof(why))) {
        snprintf(err, errlen, "%s: %s", key, why);
        return 0;
    }
    return 1;
}

int mxv_policy_set_default(mxv_policy *p, const char *key, const char *value, char *err,
                           size_t errlen)
{
    char why[256];
    if (!mxv_settings_apply(&p->defaults, key, value, why, sizeof(why))) {
        snprintf(err, errlen, "%s: %s", key, why);
        return 0;
    }
    return 1;
}

int mxv_policy_load_env(mxv_policy *p, char *err, size_t errlen)
{
    const mxv_setting *rows = mxv_setting_rows();
    for (size_t i = 0; i < mxv_setting_count(); i++) {
        /* secure_getenv: a setuid program never takes policy from its caller. */
        const char *value = secure_getenv(rows[i].env);
        if (!value || !*value)
            continue;
        char why[256];
        if (!mxv_settings_apply(&p->override, rows[i].key, value, why, sizeof(why))) {
            snprintf(err, errlen, "%s=%s: %s", rows[i].env, value, why);
            return 0;
        }
    }
    return 1;
}

mxv_policy *mxv_policy_load_default(char *err, size_t errlen)
{
    mxv_policy *p = mxv_policy_new();
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const char *conf = secure_getenv("MXVERIFY_CONF");
    struct stat st;
    if ((!conf || !*conf) && stat(DEFAULT_CONF, &st) == 0)
        conf = DEFAULT_CONF;
    if ((conf && *conf && !mxv_policy_load_file(p, conf, err, errlen)) ||
        !mxv_policy_load_env(p, err, errlen)) {
        mxv_policy_free(p);
        return NULL;
    }
    return p;
}

static bool any_validation(const mxv_policy *p)
{
    mxv_effective e;
    mxv_policy_effective(p, NULL, &e);
    if (e.dnssec != MXV_DNSSEC_OFF)
        return true;
    for (size_t i = 0; i < p->ndests; i++)
        if ((p->dests[i].s.set & MXV_SET_DNSSEC) && p->dests[i].s.dnssec != MXV_DNSSEC_OFF &&
            !(p->override.set & MXV_SET_DNSSEC))
            return true;
    return false;
}

/* Does any setting (global or a destination's) require DNSSEC? */
static bool any_require(const mxv_policy *p)
{
    mxv_effective e;
    mxv_policy_effective(p, NULL, &e);
    if (e.dnssec == MXV_DNSSEC_REQUIRE)
        return true;
    for (size_t i = 0; i < p->ndests; i++) {
        mxv_policy_effective(
            p, p->dests[i].pattern[0] == '.' ? p->dests[i].pattern + 1 : p->dests[i].pattern, &e);
        if (e.dnssec == MXV_DNSSEC_REQUIRE)
            return true;
    }
    return false;
}

/* A cache file that cannot be used safely only costs speed: say so once
 * and go on with this process's own lookups. */
static void share_answers(mxv_dns *dns, const mxv_effective *e, bool validate)
{
    char err[512];
    mxv_dns_shared *shared = mxv_dns_shared_open(
        e->dns_cache, mxv_dns_shared_scope(e->unbound_conf, validate), err, sizeof(err));
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
        bool validate = any_validation(p);
        p->dns = mxv_dns_new(e.unbound_conf, validate, err, sizeof(err));
        if (!p->dns) {
            p->dns_error = strdup(err);
        } else {
            mxv_dns_allow_downgrade(p->dns, !any_require(p));
            if (e.dns_cache)
                share_answers(p->dns, &e, validate);
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

bool mxv_policy_store_add_bundle(mxv_policy *p)
{
    pthread_mutex_lock(&p->lock);
    bool now = p->store && !p->store_bundle_loaded;
    if (now) {
        const char *file = secure_getenv(X509_get_default_cert_file_env());
        ERR_set_mark(); /* as set_default_paths: a missing file is no error */
        X509_STORE_load_file(p->store, file ? file : X509_get_default_cert_file());
        ERR_pop_to_mark();
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
