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
#include "mxverify.h"

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define PROVIDER_NAME "mxverify: ESA-style TLS verification for SMTP clients"

/* The settings a section may hold, read one by one: OpenSSL hands a
 * provider only the parameters it asks for by name. */
static const char *const keys[] = {
    "mode",    "domain",       "mx",     "route",       "reference", "ports",      "ca_file",
    "ca_path", "unbound_conf", "dnssec", "report_only", "log",       "log_format", "dns_timeout",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

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

/* The section's keys, then `conf`, then the environment. */
static mxv_policy *load_policy(const OSSL_CORE_HANDLE *handle)
{
    char *values[NKEYS + 1] = {0};
    OSSL_PARAM req[NKEYS + 2];
    for (size_t i = 0; i < NKEYS; i++)
        req[i] = OSSL_PARAM_construct_utf8_ptr(keys[i], &values[i], 0);
    req[NKEYS] = OSSL_PARAM_construct_utf8_ptr("conf", &values[NKEYS], 0);
    req[NKEYS + 1] = OSSL_PARAM_construct_end();
    if (!core_get_params || !core_get_params(handle, req)) {
        raise_error(handle, "mxverify: cannot read the provider's configuration section");
        return NULL;
    }
    char err[1024];
    mxv_policy *policy = mxv_policy_new();
    if (!policy) {
        raise_error(handle, "mxverify: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < NKEYS; i++) {
        if (values[i] && !mxv_policy_set_default(policy, keys[i], values[i], err, sizeof(err))) {
            raise_error(handle, "mxverify provider section: %s", err);
            goto fail;
        }
    }
    if (values[NKEYS] && !mxv_policy_load_file(policy, values[NKEYS], err, sizeof(err))) {
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

/* For a section that cannot be used: its `ports` (or MXVERIFY_PORTS) if
 * readable, so that failing closed hits the connections meant. */
static mxv_policy *scope_only(const OSSL_CORE_HANDLE *handle)
{
    char *ports = NULL, err[256];
    OSSL_PARAM req[2] = {OSSL_PARAM_construct_utf8_ptr("ports", &ports, 0),
                         OSSL_PARAM_construct_end()};
    mxv_policy *p = mxv_policy_new();
    const char *env = secure_getenv("MXVERIFY_PORTS");
    if (p && core_get_params && core_get_params(handle, req) && ports)
        mxv_policy_set(p, "ports", ports, err, sizeof(err));
    if (p && env)
        mxv_policy_set(p, "ports", env, err, sizeof(err));
    return p;
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
        mxv_hook_install(scope_only(handle), last_error, err, sizeof(err));
        return 0;
    }
    if (!mxv_hook_install(policy, NULL, err, sizeof(err))) {
        raise_error(handle, "mxverify: %s", err);
        return 0;
    }
    *out = dispatch;
    *provctx = (void *)handle;
    return 1;
}
