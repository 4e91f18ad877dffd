#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_MODE = 0x100,
    OPT_DOMAIN,
    OPT_MX,
    OPT_ROUTE,
    OPT_REFERENCE,
    OPT_IP,
    OPT_CA_FILE,
    OPT_CA_PATH,
    OPT_UNBOUND_CONF,
    OPT_DNSSEC,
    OPT_CONF,
    OPT_JSON,
    OPT_REPORT_ONLY,
    OPT_DNS_TIMEOUT,
};

const struct option cli_setting_options[] = {
    {"mode", required_argument, NULL, OPT_MODE},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"mx", required_argument, NULL, OPT_MX},
    {"route", required_argument, NULL, OPT_ROUTE},
    {"reference", required_argument, NULL, OPT_REFERENCE},
    {"ip", required_argument, NULL, OPT_IP},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"ca-path", required_argument, NULL, OPT_CA_PATH},
    {"unbound-conf", required_argument, NULL, OPT_UNBOUND_CONF},
    {"dnssec", required_argument, NULL, OPT_DNSSEC},
    {"conf", required_argument, NULL, OPT_CONF},
    {"json", no_argument, NULL, OPT_JSON},
    {"report-only", no_argument, NULL, OPT_REPORT_ONLY},
    {"dns-timeout", required_argument, NULL, OPT_DNS_TIMEOUT},
    {NULL, 0, NULL, 0},
};

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mxverify: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void add_setting(cli_common *c, const char *key, const char *value)
{
    if (c->nsettings < (int)(sizeof(c->settings) / sizeof(c->settings[0])))
        c->settings[c->nsettings++] = (typeof(c->settings[0])){key, value};
}

bool cli_take_option(cli_common *c, int opt, const char *arg, bool *error)
{
    char err[512];
    const char *request_key = NULL;
    switch (opt) {
    case OPT_MODE:
        add_setting(c, "mode", arg);
        return true;
    case OPT_CA_FILE:
        add_setting(c, "ca_file", arg);
        return true;
    case OPT_CA_PATH:
        add_setting(c, "ca_path", arg);
        return true;
    case OPT_UNBOUND_CONF:
        add_setting(c, "unbound_conf", arg);
        return true;
    case OPT_DNSSEC:
        add_setting(c, "dnssec", arg);
        return true;
    case OPT_REPORT_ONLY:
        add_setting(c, "report_only", "1");
        return true;
    case OPT_DNS_TIMEOUT:
        add_setting(c, "dns_timeout", arg);
        return true;
    case OPT_CONF:
        c->conf = arg;
        return true;
    case OPT_JSON:
        c->json = true;
        return true;
    case OPT_DOMAIN:
        c->has_domain = true;
        request_key = "domain";
        break;
    case OPT_MX:
        request_key = "mx";
        break;
    case OPT_ROUTE:
        request_key = "route";
        break;
    case OPT_REFERENCE:
        request_key = "reference";
        break;
    case OPT_IP:
        request_key = "ip";
        break;
    default:
        return false;
    }
    if (!mxv_request_set(c->request, request_key, arg, err, sizeof(err))) {
        cli_error("--%s", err);
        *error = true;
    }
    return true;
}

mxv_policy *cli_load_policy(cli_common *c, const char *default_mode)
{
    char err[1024];
    mxv_policy *policy;
    if (c->conf) {
        policy = mxv_policy_new();
        if (policy && (!mxv_policy_load_file(policy, c->conf, err, sizeof(err)) ||
                       !mxv_policy_load_env(policy, err, sizeof(err)))) {
            mxv_policy_free(policy);
            policy = NULL;
        }
    } else {
        policy = mxv_policy_load_default(err, sizeof(err));
    }
    if (!policy) {
        cli_error("%s", err);
        return NULL;
    }
    for (int i = 0; i < c->nsettings; i++) {
        if (!mxv_policy_set(policy, c->settings[i].key, c->settings[i].value, err, sizeof(err))) {
            cli_error("--%s", err);
            mxv_policy_free(policy);
            return NULL;
        }
    }
    if (default_mode && !mxv_policy_set_default(policy, "mode", default_mode, err, sizeof(err))) {
        cli_error("%s", err);
        mxv_policy_free(policy);
        return NULL;
    }
    return policy;
}
