/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mxverify OpenSSL provider: the policy for every OpenSSL program on a
 * machine, enabled in openssl.cnf, no LD_PRELOAD. It offers no algorithms;
 * OSSL_provider_init reads the settings from the provider's section,
 * installs the shared hook (core/hook.c) and is done. libssl loads the
 * configuration at the start of the first SSL_CTX_new(), before that
 * SSL_CTX's ex_data exists, so the hook reaches every SSL_CTX.
 *
 * Settings: every key of mxverify.conf(5) read by name from the section
 * (they act as its global keys), an optional `conf` naming a policy file
 * (its globals and destinations refine the section's), then MXVERIFY_*
 * variables. A bad key or value fails activation with an error in the
 * OpenSSL error queue: never a silent run without verification.
 */
#include "hook.h"
#include "received.h"
#include "mxverify.h"
#include "policy.h"

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/conf.h>
#include <openssl/params.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define PROVIDER_NAME "mxverify: ESA-style TLS verification for SMTP clients"

/* The settings a section may hold are the settings table's keys, read
 * one by one: OpenSSL hands a provider only the parameters it asks for by
 * name. Keys it does not know are found by reading the section itself
 * from the configuration file (mxv_config_check_provider_section). */
#define MAX_KEYS 64

/* Why the section could not be checked at start-up, or "". */
static char held_why[1400];

static OSSL_FUNC_core_get_params_fn *core_get_params;
static OSSL_FUNC_core_new_error_fn *core_new_error;
static OSSL_FUNC_core_set_error_debug_fn *core_set_error_debug;
static OSSL_FUNC_core_vset_error_fn *core_vset_error;

static char last_error[1024];

/* Into the OpenSSL error queue, and remembered for the log: OpenSSL 3.0
 * drops a provider that fails to activate without a word unless the
 * configuration asks for config_diagnostics. */
static void raise_error(const OSSL_CORE_HANDLE *handle, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void raise_error(const OSSL_CORE_HANDLE *handle, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
    if (core_new_error && core_set_error_debug && core_vset_error) {
        core_new_error(handle);
        core_set_error_debug(handle, __FILE__, __LINE__, "OSSL_provider_init");
        va_start(ap, fmt);
        core_vset_error(handle, 0, fmt, ap);
        va_end(ap);
    }
}

static const OSSL_PARAM gettable[] = {
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_NAME, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_VERSION, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_BUILDINFO, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_STATUS, OSSL_PARAM_INTEGER, NULL, 0),
    OSSL_PARAM_END,
};

static const OSSL_PARAM *provider_gettable_params(void *provctx)
{
    (void)provctx;
    return gettable;
}

static int provider_get_params(void *provctx, OSSL_PARAM params[])
{
    (void)provctx;
    OSSL_PARAM *p;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME)) &&
        !OSSL_PARAM_set_utf8_ptr(p, PROVIDER_NAME))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION)) &&
        !OSSL_PARAM_set_utf8_ptr(p, MXV_VERSION))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO)) &&
        !OSSL_PARAM_set_utf8_ptr(p, "mxverify " MXV_VERSION))
        return 0;
    if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS)) && !OSSL_PARAM_set_int(p, 1))
        return 0;
    return 1;
}

static const OSSL_ALGORITHM *provider_query(void *provctx, int operation_id, int *no_cache)
{
    (void)provctx, (void)operation_id;
    *no_cache = 0;
    return NULL; /* no algorithms: `default` keeps doing the cryptography */
}

static void provider_teardown(void *provctx)
{
    /* The hook stays: SSL_CTXs made earlier still point into it, and the
     * module is linked -z nodelete so that it is never unmapped. */
    (void)provctx;
}

static const OSSL_DISPATCH dispatch[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))provider_teardown},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))provider_gettable_params},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))provider_get_params},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))provider_query},
    {0, NULL},
};

static void capture_core(const OSSL_DISPATCH *in)
{
    for (; in && in->function_id; in++) {
        switch (in->function_id) {
        case OSSL_FUNC_CORE_GET_PARAMS:
            core_get_params = OSSL_FUNC_core_get_params(in);
            break;
        case OSSL_FUNC_CORE_NEW_ERROR:
            core_new_error = OSSL_FUNC_core_new_error(in);
            break;
        case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
            core_set_error_debug = OSSL_FUNC_core_set_error_debug(in);
            break;
        case OSSL_FUNC_CORE_VSET_ERROR:
            core_vset_error = OSSL_FUNC_core_vset_error(in);
            break;
        }
    }
}

/* Every key of the provider's section must be one mxverify or OpenSSL
 * knows: a misspelt `mdoe` would otherwise leave the mode unset and mail
 * unchecked. The section is read from the file OpenSSL loaded. false: an
 * unknown key (raised as an error). A section that cannot be found (a
 * program that loaded a configuration of its own) is said once. */
static int section_keys_known(const OSSL_CORE_HANDLE *handle, const char *provider,
                              const char *const *keys, char *const *values, size_t n)
{
    char err[1024];
    char *path = CONF_get1_default_config_file();
    int rc = mxv_config_check_provider_section(path, provider, keys, values, n, err, sizeof(err));
    OPENSSL_free(path);
    if (rc == 0)
        raise_error(handle, "mxverify provider section: %s", err);
    else if (rc < 0)
        snprintf(held_why, sizeof(held_why),
                 "the provider's section could not be checked (%s): the program loaded an "
                 "OpenSSL configuration of its own; give it mxverify_required (see "
                 "examples/openssl-mxverify.cnf), which checks it",
                 err);
    return rc;
}

/* What the section gave (received.h): every setting's key, then `conf`. */
static const char *received_keys[MAX_KEYS + 1];
static char *received_values[MAX_KEYS + 1];
static size_t received_n;

static bool keep_received(const mxv_setting *rows, size_t nkeys, char *const *values, char *conf)
{
    for (size_t i = 0; i < received_n; i++)
        free(received_values[i]);
    received_n = 0;
    for (size_t i = 0; i <= nkeys; i++) {
        const char *value = i < nkeys ? values[i] : conf;
        received_keys[i] = i < nkeys ? rows[i].key : "conf";
        received_values[i] = value ? strdup(value) : NULL;
        received_n = i + 1;
        if (value && !received_values[i])
            return false;
    }
    return true;
}

size_t mxv_provider_received(const char *const **keys, char *const **values)
{
    *keys = received_keys;
    *values = received_values;
    return received_n;
}

/* The section's keys, then `conf`, then the environment. */
static mxv_policy *load_policy(const OSSL_CORE_HANDLE *handle)
{
    const mxv_setting *rows = mxv_setting_rows();
    size_t nkeys = mxv_setting_count();
    if (nkeys > MAX_KEYS) {
        raise_error(handle, "mxverify: more settings than the provider reads");
        return NULL;
    }
    char *values[MAX_KEYS + 1] = {0}, *name = NULL;
    OSSL_PARAM req[MAX_KEYS + 3];
    for (size_t i = 0; i < nkeys; i++)
        req[i] = OSSL_PARAM_construct_utf8_ptr((char *)rows[i].key, &values[i], 0);
    req[nkeys] = OSSL_PARAM_construct_utf8_ptr("conf", &values[MAX_KEYS], 0);
    req[nkeys + 1] = OSSL_PARAM_construct_utf8_ptr(OSSL_PROV_PARAM_CORE_PROV_NAME, &name, 0);
    req[nkeys + 2] = OSSL_PARAM_construct_end();
    if (!core_get_params || !core_get_params(handle, req)) {
        raise_error(handle, "mxverify: cannot read the provider's configuration section");
        return NULL;
    }
    /* What was received, to be found again in the file checked, and by
     * the configuration module in the configuration OpenSSL loaded. */
    if (!keep_received(rows, nkeys, values, values[MAX_KEYS])) {
        raise_error(handle, "mxverify: out of memory");
        return NULL;
    }
    if (section_keys_known(handle, name ? name : "mxverify", received_keys, received_values,
                           received_n) == 0)
        return NULL;
    char err[1024];
    mxv_policy *policy = mxv_policy_new();
    if (!policy) {
        raise_error(handle, "mxverify: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < nkeys; i++) {
        if (values[i] &&
            !mxv_policy_set_default(policy, rows[i].key, values[i], err, sizeof(err))) {
            raise_error(handle, "mxverify provider section: %s", err);
            goto fail;
        }
    }
    if (values[MAX_KEYS] && !mxv_policy_load_file(policy, values[MAX_KEYS], err, sizeof(err))) {
        raise_error(handle, "mxverify provider conf: %s", err);
        goto fail;
    }
    if (!mxv_policy_load_env(policy, err, sizeof(err))) {
        raise_error(handle, "mxverify: %s", err);
        goto fail;
    }
    return policy;
fail:
    mxv_policy_free(policy);
    return NULL;
}

/* The section's `ports`, for failing closed on the connections meant. */
static char *section_ports(const OSSL_CORE_HANDLE *handle)
{
    char *ports = NULL;
    OSSL_PARAM req[2] = {OSSL_PARAM_construct_utf8_ptr("ports", &ports, 0),
                         OSSL_PARAM_construct_end()};
    return core_get_params && core_get_params(handle, req) ? ports : NULL;
}

__attribute__((visibility("default"))) int OSSL_provider_init(const OSSL_CORE_HANDLE *handle,
                                                              const OSSL_DISPATCH *in,
                                                              const OSSL_DISPATCH **out,
                                                              void **provctx)
{
    capture_core(in);
    mxv_policy *policy = load_policy(handle);
    char err[512];
    if (!policy) {
        /* Activation fails, loudly; and since OpenSSL may carry on without
         * the provider, the hook is armed to fail SMTP connections closed. */
        fprintf(stderr, "mxverify: provider not activated: %s; SMTP connections fail closed\n",
                last_error);
        syslog(LOG_MAIL | LOG_ERR, "mxverify: provider not activated: %s", last_error);
        mxv_hook_install_broken(last_error, section_ports(handle), err, sizeof(err));
        return 0;
    }
    if (!mxv_hook_install(policy, NULL, err, sizeof(err))) {
        raise_error(handle, "mxverify: %s", err);
        return 0;
    }
    if (held_why[0]) /* until the configuration module checks the section */
        mxv_hook_hold(held_why);
    *out = dispatch;
    *provctx = (void *)handle;
    return 1;
}
