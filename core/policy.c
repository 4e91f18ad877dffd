/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy: the settings as loaded (defaults, the config file's globals and
 * destinations, overrides from the environment and options) and the
 * settings in force for one destination. What deciding builds from them
 * at run time (resolver, trust store) is policy_runtime.c's.
 */
#include "policy.h"
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <syslog.h>

#define DEFAULT_CONF        "/etc/mxverify.conf"
#define DEFAULT_DNS_TIMEOUT 5000

mxv_policy *mxv_policy_new(void)
{
    mxv_policy *p = calloc(1, sizeof(*p));
    if (p) {
        pthread_mutex_init(&p->lock, NULL);
        pthread_mutex_init(&p->sts_fetch_lock, NULL);
    }
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
    mxv_policy_runtime_free(p);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->sts_fetch_lock);
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

/* The settings in force under destination entry `d` (NULL: none). */
static void effective_with(const mxv_policy *p, const mxv_destination *d, mxv_effective *out)
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
        .dns_cache_size = MXV_DNS_CACHE_SIZE_DEFAULT,
    };
    mxv_settings_layer(out, &p->defaults);
    mxv_settings_layer(out, &p->global);
    if (d) {
        mxv_settings_layer(out, &d->s);
        out->destination = d->pattern;
    }
    mxv_settings_layer(out, &p->override);
}

void mxv_policy_effective(const mxv_policy *p, const char *domain, mxv_effective *out)
{
    if (!domain)
        domain = (p->override.set & MXV_SET_DOMAIN) ? p->override.domain : p->global.domain;
    effective_with(p, find_destination(p, domain), out);
}

bool mxv_policy_any(const mxv_policy *p, bool (*holds)(const mxv_effective *e))
{
    mxv_effective e;
    effective_with(p, NULL, &e);
    if (holds(&e))
        return true;
    for (size_t i = 0; i < p->ndests; i++) {
        effective_with(p, &p->dests[i], &e);
        if (holds(&e))
            return true;
    }
    return false;
}

const char *mxv_policy_domain(const mxv_policy *p)
{
    mxv_effective e;
    mxv_policy_effective(p, NULL, &e);
    return e.domain;
}

const char *mxv_policy_log_file(const mxv_policy *p)
{
    mxv_effective e;
    mxv_policy_effective(p, NULL, &e);
    return e.log == MXV_LOG_FILE ? e.log_path : NULL;
}

static bool mode_set(const mxv_effective *e)
{
    return e->mode != MXV_MODE_NONE || mxv_published_asked(e);
}

bool mxv_policy_any_mode(const mxv_policy *p)
{
    return mxv_policy_any(p, mode_set);
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

/* An MXVERIFY_* variable that is no setting's (MXVERIFY_MDOE=...) is a
 * setting lost in silence: an error, as an unknown key is. */
static bool unknown_variable(char *err, size_t errlen)
{
    extern char **environ;
    if (getauxval(AT_SECURE))
        return false; /* a setuid program reads none of them */
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (strncmp(*e, "MXVERIFY_", 9) != 0 || !eq || !eq[1])
            continue;
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)(eq - *e), *e);
        if (strcmp(name, "MXVERIFY_CONF") == 0 || mxv_setting_by_env(name))
            continue;
        snprintf(err, errlen, "%s: unknown variable (no setting has that name; a misspelt one?)",
                 name);
        return true;
    }
    return false;
}

int mxv_policy_load_env(mxv_policy *p, char *err, size_t errlen)
{
    if (unknown_variable(err, errlen))
        return 0;
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
    /* A set-user-ID program (Exim, through /etc/ld.so.preload) runs with
     * privileges its caller does not have: it takes settings only from a
     * file its caller could not have written. */
    if (conf && *conf && getauxval(AT_SECURE) &&
        (stat(conf, &st) != 0 || st.st_uid != 0 || (st.st_mode & 022))) {
        snprintf(err, errlen,
                 "%s: not used by a set-user-ID program unless owned by root and writable by "
                 "no one else",
                 conf);
        mxv_policy_free(p);
        return NULL;
    }
    if ((conf && *conf && !mxv_policy_load_file(p, conf, err, errlen)) ||
        !mxv_policy_load_env(p, err, errlen)) {
        mxv_policy_free(p);
        return NULL;
    }
    return p;
}
