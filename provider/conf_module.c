/* SPDX-License-Identifier: Apache-2.0 */
/* conf_module: the provider module doubles as an OpenSSL configuration
 * module that requires the provider to be active (see below). */
#include "hook.h"
#include "policy.h"
#include "received.h"

#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <stdio.h>
#include <syslog.h>

/*
 * The same module is also an OpenSSL configuration module, so that an
 * openssl.cnf can require the provider: OpenSSL 3.0 counts a provider that
 * fails to load or to activate as a "non-fatal" failure even with
 * config_diagnostics = 1, and carries on without it. A configuration module
 * that fails is fatal under config_diagnostics: this one fails when the
 * provider it names (`provider`, default "mxverify") is not active, so a
 * wrong module path or a broken section stops the program's TLS, loudly;
 * and, for a program that carries on after a failed configuration, it
 * arms the hook to fail SMTP connections closed, as a provider whose
 * section is broken does.
 * OpenSSL finds it by the names "OPENSSL_init" and "OPENSSL_finish" in the
 * file named by the module section's `path` (examples/openssl-mxverify.cnf).
 */
/* Named so for OpenSSL's loader only: libcrypto has an OPENSSL_init() of
 * its own (another signature), whose C declaration this file cannot see
 * beside this one. */
int mxv_conf_module_init(CONF_IMODULE *md, const CONF *cnf) __asm__("OPENSSL_init");
void mxv_conf_module_finish(CONF_IMODULE *md) __asm__("OPENSSL_finish");

/* The `ports` of the provider's own section, or NULL. */
static const char *provider_ports(const CONF *cnf, const char *name)
{
    const char *section = mxv_config_provider_section(cnf, name);
    const char *ports = section ? NCONF_get_string((CONF *)cnf, section, "ports") : NULL;
    ERR_clear_error(); /* a missing key leaves an error queued */
    return ports;
}

__attribute__((visibility("default"))) int mxv_conf_module_init(CONF_IMODULE *md, const CONF *cnf)
{
    const char *section = CONF_imodule_get_value(md);
    const char *name = section ? NCONF_get_string(cnf, section, "provider") : NULL;
    ERR_clear_error(); /* no `provider` key: the default name */
    if (!name)
        name = "mxverify";
    if (OSSL_PROVIDER_available(NCONF_get0_libctx((CONF *)cnf), name)) {
        /* Active: its section, as OpenSSL loaded it, is checked here (the
         * provider could check only the default file). */
        char err[1024];
        const char *const *keys;
        char *const *values;
        size_t n = mxv_provider_received(&keys, &values);
        int rc = mxv_config_check_provider_conf(cnf, name, keys, values, n, err, sizeof(err));
        if (rc == 1) {
            mxv_hook_release(NULL);
            return 1;
        }
        fprintf(stderr, "mxverify: provider section: %s: SMTP connections fail closed\n", err);
        syslog(LOG_MAIL | LOG_ERR, "mxverify: provider section: %s", err);
        mxv_hook_release(err);
        ERR_raise_data(ERR_LIB_USER, 0, "mxverify provider section: %s", err);
        return 0;
    }
    fprintf(stderr,
            "mxverify: the provider '%s' is not active (not loaded, or its section is "
            "broken): OpenSSL's configuration fails, and SMTP connections fail closed\n",
            name);
    char why[256], err[256];
    snprintf(why, sizeof(why), "the provider '%s' is not active", name);
    mxv_hook_install_broken(why, provider_ports(cnf, name), err, sizeof(err));
    syslog(LOG_MAIL | LOG_ERR, "mxverify: the provider '%s' is not active: TLS refused", name);
    ERR_raise_data(ERR_LIB_USER, 0, "mxverify: provider '%s' required but not active", name);
    return 0;
}

__attribute__((visibility("default"))) void mxv_conf_module_finish(CONF_IMODULE *md)
{
    (void)md;
}
