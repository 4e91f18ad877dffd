/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy: settings as loaded (config file global + destinations, and
 * overrides), plus what deciding needs at run time and is built once:
 * the libunbound context (its cache) and the trust store.
 */
#ifndef MXV_POLICY_H
#define MXV_POLICY_H

#include "dns.h"
#include "settings.h"

#include <openssl/x509_vfy.h>
#include <pthread.h>

struct mxv_policy {
    mxv_settings defaults; /* the caller's fallbacks, below everything */
    mxv_settings global;
    mxv_destination *dests;
    size_t ndests;
    mxv_settings override;

    pthread_mutex_t lock; /* guards dns, store and their use */
    mxv_dns *dns;
    char *dns_error; /* why the DNS context could not be built (sticky) */
    X509_STORE *store;
    char *store_error;
    bool store_bundle_loaded;       /* the system's CA file, read on demand */
    struct mxv_sts_cache *sts;      /* MTA-STS policies kept (sts_cache.h) */
    pthread_mutex_t sts_fetch_lock; /* one policy fetch at a time */
};

/* The settings in force for `domain` (may be NULL: globals only). */
MXV_SETTINGS_API void mxv_policy_effective(const mxv_policy *policy, const char *domain,
                                           mxv_effective *out);
/* Does `holds` hold for the settings in force without a destination
 * entry, or under any of the entries? */
bool mxv_policy_any(const mxv_policy *policy, bool (*holds)(const mxv_effective *e));
/* Does any destination, or the global setting, ask anything of a
 * connection (a mode other than none, or DANE or MTA-STS on)? (Exported privately: `run` says when
 * nothing will be checked.) */
MXV_SETTINGS_API bool mxv_policy_any_mode(const mxv_policy *policy);
/* The recipient domain the settings give (file, environment, options), or
 * NULL. (Exported privately: explain needs one from somewhere.) */
MXV_SETTINGS_API const char *mxv_policy_domain(const mxv_policy *policy);
/* The path of a `file:` log, or NULL (exported privately: run checks it). */
MXV_SETTINGS_API const char *mxv_policy_log_file(const mxv_policy *policy);
/* Adds a destination entry (pattern validated) and returns its settings. */
mxv_settings *mxv_policy_add_destination(mxv_policy *policy, const char *pattern, char *err,
                                         size_t errlen);
/* Lazily built run-time parts (policy_runtime.c); NULL with *why set when
 * unavailable. */
void mxv_policy_runtime_free(mxv_policy *p);
mxv_dns *mxv_policy_dns(mxv_policy *policy, const char **why);
X509_STORE *mxv_policy_store(mxv_policy *policy, const char **why);
/* One round of lookups on the policy's resolver, under its lock (the
 * command's lookups): `submit` puts them, they run until answered or
 * dns_timeout. false, with err, when there is no resolver. */
bool mxv_policy_dns_round(mxv_policy *policy, void (*submit)(mxv_dns *dns, void *arg), void *arg,
                          char *err, size_t errlen);
/* Would the policy's resolver take its answers unvalidated (see
 * mxv_dns_unvalidated)? `wait`: may wait for its lock (false: a busy
 * resolver counts as no). */
bool mxv_policy_dns_unvalidated(mxv_policy *policy, bool wait);
/* Reads the system's CA bundle file into the store, once: true when it was
 * read now (a chain that found no issuer is then worth checking again). */
bool mxv_policy_store_add_bundle(mxv_policy *policy);
/* The MTA-STS policy cache (with the `sts_cache` file when it can be used
 * safely; else said once, and policies stay in the process). Callers hold
 * the policy's lock; NULL only when out of memory. */
struct mxv_sts_cache *mxv_policy_sts_cache(mxv_policy *policy);
/* The anchors X509_STORE_set_default_paths() adds (the system's CA
 * directory and bundle file), without the OSSL_STORE lookup OpenSSL 3.0
 * adds beside them, which lists the whole CA directory for every issuer
 * it does not find (about 0.3 ms a handshake for a self-signed server). */
bool mxv_store_add_system_anchors(X509_STORE *store);

/* The name of provider `provider`'s section in `cnf` (a CONF *):
 * openssl_conf = INIT; [INIT] providers = PROVS; [PROVS] NAME = SECTION.
 * NULL when there is none. Owned by cnf. */
MXV_SETTINGS_API const char *mxv_config_provider_section(const void *cnf, const char *provider);
/*
 * For the provider, which OpenSSL hands only the keys it asks for by name:
 * every key of the section that configures provider `provider` in the
 * configuration file `path` must be a setting, `conf`, or one of OpenSSL's
 * own, none given twice, and no value the name of a section (OpenSSL would
 * pass that section's keys instead). `keys`/`values` (n of them, a value
 * NULL when not received) are what the provider received: each must be
 * what the file says, else the file is not the one OpenSSL loaded. 1: all
 * is well; 0: err names the mistake with its file and line; -1: this file
 * cannot tell (no such section, or another file was loaded; err says why).
 */
MXV_SETTINGS_API int mxv_config_check_provider_section(const char *path, const char *provider,
                                                       const char *const *keys, char *const *values,
                                                       size_t n, char *err, size_t errlen);
/* The same in the configuration OpenSSL loaded, `cnf` (a CONF *), where a
 * key given twice cannot be seen: 1, 0 (a mistake), or -1 (no such
 * section, or the received values differ: another configuration started
 * the provider). */
MXV_SETTINGS_API int mxv_config_check_provider_conf(const void *cnf, const char *provider,
                                                    const char *const *keys, char *const *values,
                                                    size_t n, char *err, size_t errlen);

#endif
