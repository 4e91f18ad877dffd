/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Settings and config files (interfaces.md "Settings"): every key parses,
 * bad values are refused, errors name FILE:LINE and the key, destinations
 * resolve exact-then-longest-suffix, and the precedence holds.
 */
#include "policy.h"
#include "settings.h"
#include "unit_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *write_file(const char *text)
{
    char *path = strdup("/tmp/mxv-unit-conf-XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

typedef struct {
    const char *key, *value;
    bool ok;
} value_row;

static const value_row values[] = {
    {"mode", "none", true},
    {"mode", "required-verify-hosted", true},
    {"mode", "6", true},
    {"mode", "7", false},
    {"mode", "0", false},
    {"mode", "Required-Verify", false},
    {"domain", "example.com", true},
    {"domain", "user@example.com", true},
    {"domain", "exa mple.com", false},
    {"mx", "mx1.example.com, mx2.example.com", true},
    {"mx", "mx1.example.com,,mx2.example.com", false},
    {"mx", "mx1.example.com,", false},
    {"route", "[smtp.example.net]:587", true},
    {"route", "192.0.2.1, [2001:db8::1]:25, 2001:db8::2", true},
    {"route", "smtp.example.net:0", false},
    {"route", "smtp.example.net:+25", false}, /* digits only */
    {"route", "192.0.2.1.", false},           /* an address, not a host name */
    {"domain", "192.0.2.1", false},
    {"route", "[smtp.example.net", false},
    {"reference", "mail.example.com", true},
    {"reference", "*.example.com", false},
    {"ports", "25, 465, 587", true},
    {"ports", "25,70000", false},
    {"ports", "smtp", false},
    {"ca_file", "/etc/ssl/certs/ca-certificates.crt", true},
    {"ca_file", "", false},
    {"ca_file", "/nonexistent/ca.pem", false},
    {"ca_file", "/etc/ssl/certs", false},
    {"ca_path", "/etc/ssl/certs", true},
    {"ca_path", "/etc/ssl/certs/ca-certificates.crt", false},
    {"unbound_conf", "/nonexistent/unbound.conf", false},
    {"unbound_conf", "/etc/unbound/unbound.conf", true},
    {"dnssec", "off", true},
    {"dnssec", "prefer", true},
    {"dnssec", "require", true},
    {"dnssec", "yes", false},
    {"report_only", "1", true},
    {"report_only", "0", true},
    {"report_only", "true", false},
    {"log", "stderr", true},
    {"log", "syslog", true},
    {"log", "none", true},
    {"log", "file:/var/log/mxverify.log", true},
    {"log", "file:relative.log", false},
    {"log", "stdout", false},
    {"log_format", "json", true},
    {"log_format", "xml", false},
    {"dns_timeout", "2.5", true},
    {"dns_timeout", "0", false},
    {"dns_timeout", "0.0001", false}, /* would round to 0 ms */
    {"dns_timeout", "0.001", true},
    {"dns_timeout", "soon", false},
    {"dns_cache", "/var/tmp/mxverify-dns.cache", true},
    {"dns_cache", "", false}, /* unset it instead */
    {"dns_cache", "mxverify-dns.cache", false},
    {"dns_cache", "/nonexistent/mxverify-dns.cache", false},
    {"dns_cache", "/var/tmp/", false},
    {"dns_cache_size", "64M", true},
    {"dns_cache_size", "1M", true},
    {"dns_cache_size", "4G", true},
    {"dns_cache_size", "4g", true},
    {"dns_cache_size", "1048576", true},
    {"dns_cache_size", "4194304K", true},
    {"dns_cache_size", "1023K", false}, /* less than 1M */
    {"dns_cache_size", "4097M", false}, /* more than 4G */
    {"dns_cache_size", "5G", false},
    {"dns_cache_size", "0", false},
    {"dns_cache_size", "", false},
    {"dns_cache_size", "M", false},
    {"dns_cache_size", "64MB", false},
    {"dns_cache_size", "64 M", false},
    {"dns_cache_size", "-64M", false},
    {"dns_cache_size", "1T", false},
    {"dns_cache_size", "18446744073709551617", false}, /* 2^64 + 1: no wrap-around */
    {"dns_cache_size", "17179869184K", false},         /* 2^44 K: no wrap-around */
    {"no_such_key", "1", false},
};

static void test_values(void)
{
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        mxv_settings s = {0};
        char err[512] = "";
        bool ok = mxv_settings_apply(&s, values[i].key, values[i].value, err, sizeof(err));
        if (ok != values[i].ok)
            fprintf(stderr, "\n%s = \"%s\": got %d (%s)\n", values[i].key, values[i].value, ok,
                    err);
        CU_ASSERT_EQUAL(ok, values[i].ok);
        if (!ok)
            CU_ASSERT_TRUE(err[0] != '\0'); /* every refusal says why */
        mxv_settings_clear(&s);
    }
}

static void test_route_parsing(void)
{
    char host[300], err[256];
    bool is_ip;
    CU_ASSERT_TRUE(
        mxv_parse_route("[SMTP.Example.NET]:587", host, sizeof(host), &is_ip, err, sizeof(err)));
    CU_ASSERT_STRING_EQUAL(host, "smtp.example.net");
    CU_ASSERT_FALSE(is_ip);
    CU_ASSERT_TRUE(
        mxv_parse_route("[2001:db8::1]:25", host, sizeof(host), &is_ip, err, sizeof(err)));
    CU_ASSERT_STRING_EQUAL(host, "2001:db8::1");
    CU_ASSERT_TRUE(is_ip);
    CU_ASSERT_TRUE(mxv_parse_route("192.0.2.1:25", host, sizeof(host), &is_ip, err, sizeof(err)));
    CU_ASSERT_STRING_EQUAL(host, "192.0.2.1");
    CU_ASSERT_TRUE(is_ip);
}

static mxv_policy *load(const char *text, char *err, size_t errlen, char **path)
{
    *path = write_file(text);
    mxv_policy *p = mxv_policy_new();
    if (!mxv_policy_load_file(p, *path, err, errlen)) {
        mxv_policy_free(p);
        p = NULL;
    }
    return p;
}

static const char good_conf[] = "# global\n"
                                "mode = required-verify-hosted\n"
                                "dnssec = prefer\n"
                                "destinations = dests\n"
                                "\n"
                                "[dests]\n"
                                "example.com = exact\n"
                                ".example.com = subs\n"
                                ".deep.example.com = deep\n"
                                "\n"
                                "[exact]\n"
                                "mode = required-verify\n"
                                "[subs]\n"
                                "mode = preferred-verify\n"
                                "route = [relay.example.net]:25\n"
                                "[deep]\n"
                                "mode = none\n";

static void test_destinations(void)
{
    char err[512], *path;
    mxv_policy *p = load(good_conf, err, sizeof(err), &path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    mxv_effective e;
    mxv_policy_effective(p, "example.com", &e);
    CU_ASSERT_EQUAL(e.mode, MXV_MODE_REQUIRED_VERIFY); /* exact entry */
    mxv_policy_effective(p, "a.example.com", &e);
    CU_ASSERT_EQUAL(e.mode, MXV_MODE_PREFERRED_VERIFY); /* ".example.com" */
    CU_ASSERT_EQUAL(e.route->n, 1);
    mxv_policy_effective(p, "x.deep.example.com", &e);
    CU_ASSERT_EQUAL(e.mode, MXV_MODE_NONE); /* the longest suffix wins */
    mxv_policy_effective(p, "deep.example.com", &e);
    CU_ASSERT_EQUAL(e.mode, MXV_MODE_PREFERRED_VERIFY); /* ".deep" is its subdomains only */
    mxv_policy_effective(p, "other.org", &e);
    CU_ASSERT_EQUAL(e.mode, MXV_MODE_REQUIRED_VERIFY_HOSTED); /* global */
    mxv_policy_effective(p, "notexample.com", &e);
    CU_ASSERT_EQUAL(e.mode, MXV_MODE_REQUIRED_VERIFY_HOSTED); /* a label boundary matters */

    /* Overrides (env, options) win over a destination's own setting. */
    CU_ASSERT_TRUE(mxv_policy_set(p, "mode", "required", err, sizeof(err)));
    mxv_policy_effective(p, "example.com", &e);
    CU_ASSERT_EQUAL(e.mode, MXV_MODE_REQUIRED);
    mxv_policy_free(p);
    unlink(path);
    free(path);
}

/* The defaults layer is below everything: the file's mode stands. */
static void test_default_layer(void)
{
    char err[512], *path;
    mxv_policy *p = load("mode = preferred\n", err, sizeof(err), &path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_TRUE(mxv_policy_set_default(p, "mode", "required-verify-hosted", err, sizeof(err)));
    mxv_effective e;
    mxv_policy_effective(p, NULL, &e);
    CU_ASSERT_EQUAL(e.mode, MXV_MODE_PREFERRED);
    mxv_policy_free(p);
    unlink(path);
    free(path);
    p = mxv_policy_new();
    mxv_policy_effective(p, NULL, &e);
    CU_ASSERT_EQUAL(e.mode, MXV_MODE_NONE); /* no settings at all: mode none */
    CU_ASSERT_EQUAL(e.nports, 1);
    CU_ASSERT_EQUAL(e.ports[0], 25);
    CU_ASSERT_EQUAL(e.dnssec, MXV_DNSSEC_PREFER);
    CU_ASSERT_EQUAL(e.dns_cache_size, (uint64_t)64 << 20);
    mxv_policy_free(p);
}

/* Every setting of a layer counts, the first row's and the last's alike,
 * and a later layer's wins for each: mxv_settings_layer() stops looking at
 * a layer once its settings are used up. */
static void test_layer_every_row(void)
{
    char err[512], *path;
    mxv_policy *p = load("mode = preferred\n"
                         "sts_cache = /var/tmp/a.cache\n"
                         "mta_sts = on\n"
                         "destinations = dests\n"
                         "[dests]\n"
                         "example.com = exact\n"
                         "[exact]\n"
                         "mta_sts = report\n",
                         err, sizeof(err), &path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_TRUE(mxv_policy_set(p, "sts_cache", "/var/tmp/b.cache", err, sizeof(err)));
    mxv_effective e;
    mxv_policy_effective(p, "example.com", &e);
    CU_ASSERT_EQUAL(e.mode, MXV_MODE_PREFERRED); /* the file's first row */
    CU_ASSERT_EQUAL(e.mta_sts, MXV_STS_REPORT);  /* the destination's, over the file's */
    CU_ASSERT_STRING_EQUAL(e.sts_cache, "/var/tmp/b.cache"); /* the last row: the override's */
    mxv_policy_effective(p, "other.org", &e);
    CU_ASSERT_EQUAL(e.mta_sts, MXV_STS_ON);
    mxv_policy_free(p);
    unlink(path);
    free(path);
}

/* A size as set: its bytes, through the file and the environment. */
static void test_dns_cache_size(void)
{
    char err[512], *path;
    mxv_policy *p = load("dns_cache_size = 3M\n", err, sizeof(err), &path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    mxv_effective e;
    mxv_policy_effective(p, NULL, &e);
    CU_ASSERT_EQUAL(e.dns_cache_size, (uint64_t)3 << 20);
    setenv("MXVERIFY_DNS_CACHE_SIZE", "2g", 1);
    CU_ASSERT_TRUE(mxv_policy_load_env(p, err, sizeof(err)));
    mxv_policy_effective(p, NULL, &e);
    CU_ASSERT_EQUAL(e.dns_cache_size, (uint64_t)2 << 30);
    mxv_policy_free(p);
    setenv("MXVERIFY_DNS_CACHE_SIZE", "64MB", 1);
    p = mxv_policy_new();
    CU_ASSERT_FALSE(mxv_policy_load_env(p, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "MXVERIFY_DNS_CACHE_SIZE"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "is not a size from 1M to 4G"));
    mxv_policy_free(p);
    unsetenv("MXVERIFY_DNS_CACHE_SIZE");
    unlink(path);
    free(path);
}

typedef struct {
    const char *text;
    int line;           /* expected in "FILE:LINE", 0: no line expected */
    const char *expect; /* substring of the message */
} error_row;

static const error_row errors[] = {
    {"mode = required\nbogus_key = 1\n", 2, "key 'bogus_key': unknown key"},
    {"# comment\n\nmode = sometimes\n", 3, "key 'mode': \"sometimes\" is not a mode"},
    {"destinations = d\n[d]\nexample.com = e\n[e]\nports = 25\n", 5,
     "key 'ports': not allowed in a destination section"},
    {"mode = none\n[example.com]\nmode = required\n", 0, "section [example.com] is not used"},
    {"destinations = missing\n", 1, "key 'destinations': names no section"},
    {"destinations = d\n[d]\nexample.com = nowhere\n", 3, "value must name a section"},
    {"destinations = d\n[d]\nexample.com = e\n.example.com = e\nEXAMPLE.com = e\n[e]\nmode=5\n", 0,
     "given twice"},
    {"mode = none\n[unterminated\n", 2, "syntax error"},
    {"destinations = d\n[d]\nexa mple.com = e\n[e]\nmode = 5\n", 0, ""},
    {"dnssec = maybe\n", 1, "key 'dnssec'"},
};

static void test_errors(void)
{
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        char err[1024] = "", *path;
        mxv_policy *p = load(errors[i].text, err, sizeof(err), &path);
        CU_ASSERT_PTR_NULL(p);
        char where[300];
        snprintf(where, sizeof(where), "%s:%d:", path, errors[i].line);
        bool ok = strstr(err, path) != NULL && strstr(err, errors[i].expect) != NULL;
        if (errors[i].line)
            ok = ok && strstr(err, where) != NULL;
        if (!ok)
            fprintf(stderr, "\nerror row %zu: message \"%s\"\n", i, err);
        CU_ASSERT_TRUE(ok);
        mxv_policy_free(p);
        unlink(path);
        free(path);
    }
    char err[512];
    mxv_policy *p = mxv_policy_new();
    CU_ASSERT_FALSE(mxv_policy_load_file(p, "/nonexistent/mxverify.conf", err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/mxverify.conf"));
    mxv_policy_free(p);
}

static void test_env(void)
{
    char err[512];
    setenv("MXVERIFY_MODE", "5", 1);
    setenv("MXVERIFY_CAFILE", "/etc/ssl/certs/ca-certificates.crt", 1);
    setenv("MXVERIFY_MX", "mx1.example.com,mx2.example.com", 1);
    setenv("MXVERIFY_DNSSEC", "", 1); /* empty: unset */
    mxv_policy *p = mxv_policy_new();
    CU_ASSERT_TRUE(mxv_policy_load_env(p, err, sizeof(err)));
    mxv_effective e;
    mxv_policy_effective(p, NULL, &e);
    CU_ASSERT_EQUAL(e.mode, MXV_MODE_REQUIRED_VERIFY);
    CU_ASSERT_STRING_EQUAL(e.ca_file, "/etc/ssl/certs/ca-certificates.crt");
    CU_ASSERT_EQUAL(e.mx->n, 2);
    CU_ASSERT_EQUAL(e.dnssec, MXV_DNSSEC_PREFER);
    mxv_policy_free(p);

    setenv("MXVERIFY_PORTS", "twenty-five", 1);
    p = mxv_policy_new();
    CU_ASSERT_FALSE(mxv_policy_load_env(p, err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "MXVERIFY_PORTS"));
    mxv_policy_free(p);
    unsetenv("MXVERIFY_PORTS");
    unsetenv("MXVERIFY_MODE");
    unsetenv("MXVERIFY_CAFILE");
    unsetenv("MXVERIFY_MX");
    unsetenv("MXVERIFY_DNSSEC");
}

static void test_request(void)
{
    char err[512];
    mxv_request *r = mxv_request_new();
    CU_ASSERT_TRUE(mxv_request_set(r, "ip", "::ffff:192.0.2.1", err, sizeof(err)));
    CU_ASSERT_TRUE(mxv_request_set(r, "ip", "2001:DB8::1", err, sizeof(err)));
    CU_ASSERT_FALSE(mxv_request_set(r, "ip", "mx.example.com", err, sizeof(err)));
    CU_ASSERT_TRUE(mxv_request_set(r, "mx", "a.example.com", err, sizeof(err)));
    CU_ASSERT_TRUE(mxv_request_set(r, "mx", "b.example.com", err, sizeof(err))); /* appends */
    CU_ASSERT_FALSE(mxv_request_set(r, "mode", "5", err, sizeof(err))); /* not a request key */
    mxv_request_free(r);
}

int main(void)
{
    static const unit_test tests[] = {
        {"setting values", test_values},
        {"route parsing", test_route_parsing},
        {"destinations and precedence", test_destinations},
        {"default layer", test_default_layer},
        {"layer every row", test_layer_every_row},
        {"dns_cache_size in bytes", test_dns_cache_size},
        {"config errors name file, line, key", test_errors},
        {"environment", test_env},
        {"request keys", test_request},
        {NULL, NULL},
    };
    return unit_run("config", NULL, NULL, tests);
}
