/* SPDX-License-Identifier: Apache-2.0 */
/* request: the context of one connection (domain, MX, route, IP). */
#include "decision.h"
#include "ip_text.h"
#include "names.h"
#include "settings.h"
#include "sts_cache.h"
#include "text_copy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mxv_request *mxv_request_new(void)
{
    return calloc(1, sizeof(mxv_request));
}

void mxv_request_free(mxv_request *r)
{
    if (!r)
        return;
    free(r->domain);
    mxv_strlist_clear(&r->mx);
    mxv_strlist_clear(&r->route);
    mxv_strlist_clear(&r->reference);
    free(r->tlsa);
    free(r->host);
    free(r->sts_given);
    free(r);
}

mxv_request *mxv_request_dup(const mxv_request *r)
{
    mxv_request *copy = mxv_request_new();
    if (!copy)
        return NULL;
    memcpy(copy->ip, r->ip, sizeof(copy->ip));
    copy->mx_from_program = r->mx_from_program;
    copy->port = r->port;
    copy->each_tlsa = r->each_tlsa;
    copy->ntlsa = r->ntlsa;
    bool ok = (!r->domain || (copy->domain = strdup(r->domain))) &&
              (!r->host || (copy->host = strdup(r->host))) && mxv_strlist_copy(&copy->mx, &r->mx) &&
              mxv_strlist_copy(&copy->route, &r->route) &&
              mxv_strlist_copy(&copy->reference, &r->reference) &&
              (!r->ntlsa || (copy->tlsa = malloc(r->ntlsa * sizeof(*r->tlsa)))) &&
              (!r->sts_given || (copy->sts_given = malloc(sizeof(*r->sts_given))));
    if (!ok) {
        mxv_request_free(copy);
        return NULL;
    }
    if (r->ntlsa)
        memcpy(copy->tlsa, r->tlsa, r->ntlsa * sizeof(*r->tlsa));
    if (r->sts_given)
        *copy->sts_given = *r->sts_given;
    return copy;
}

static bool set_ip(mxv_request *r, const char *value, char *err, size_t errlen)
{
    unsigned char addr[16];
    int family = strchr(value, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(family, value, addr) != 1) {
        snprintf(err, errlen, "ip: \"%s\" is not an IPv4 or IPv6 address", value);
        return false;
    }
    /* An IPv4-mapped IPv6 address is the IPv4 address (as the socket of
     * such a connection is, in the shim and the hook): its PTR is under
     * in-addr.arpa. Canonical text, so "2001:DB8::1" compares right. */
    if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)addr))
        mxv_inet_ntop(AF_INET, addr + 12, r->ip, sizeof(r->ip));
    else
        inet_ntop(family, addr, r->ip, sizeof(r->ip));
    return true;
}

static bool set_port(mxv_request *r, const char *value, char *err, size_t errlen)
{
    char *end;
    unsigned long port = strtoul(value, &end, 10);
    if (!*value || *end || port == 0 || port > 65535) {
        snprintf(err, errlen, "port: \"%.40s\" is not a TCP port (1-65535)", value);
        return false;
    }
    r->port = (unsigned)port;
    return true;
}

/* The MX host connected to: a host name, as an "mx" entry is. */
static bool set_host(mxv_request *r, const char *value, char *err, size_t errlen)
{
    if (!*value) { /* "": no host known (check's next target is an address) */
        free(r->host);
        r->host = NULL;
        return true;
    }
    mxv_strlist one = {0};
    char why[200];
    bool ok = mxv_split_list(value, &one, why, sizeof(why)) && one.n == 1;
    mxv_strlist_clear(&one);
    mxv_settings s = {0};
    if (!ok || !mxv_settings_apply(&s, "mx", value, why, sizeof(why))) {
        snprintf(err, errlen, "host: \"%.80s\": %s", value, ok ? why : "one host name");
        mxv_settings_clear(&s);
        return false;
    }
    free(r->host);
    r->host = strdup(s.mx.items[0]);
    mxv_settings_clear(&s);
    if (!r->host)
        snprintf(err, errlen, "out of memory");
    return r->host != NULL;
}

/* The recipient domain's MTA-STS policy, as served (explain --sts-policy):
 * taken as just fetched, with no TXT id. */
static bool set_sts_policy(mxv_request *r, const char *value, char *err, size_t errlen)
{
    char why[200];
    mxv_sts_cached *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    if (!mxv_sts_policy_parse(value, strlen(value), &c->policy, why, sizeof(why))) {
        snprintf(err, errlen, "sts_policy: sts-policy-invalid: %s", why);
        free(c);
        return false;
    }
    mxv_text_copy(c->id, sizeof(c->id), "given");
    c->fetched = (int64_t)time(NULL);
    c->expires = c->fetched + c->policy.max_age;
    free(r->sts_given);
    r->sts_given = c;
    return true;
}

/* One more TLSA record of the RRset given (presentation form). */
static bool add_tlsa(mxv_request *r, const char *value, char *err, size_t errlen)
{
    char why[200];
    if (r->ntlsa == MXV_DNS_MAX_RECORDS) {
        snprintf(err, errlen, "tlsa: more than %d records", MXV_DNS_MAX_RECORDS);
        return false;
    }
    mxv_tlsa *more = realloc(r->tlsa, (r->ntlsa + 1) * sizeof(*more));
    if (!more) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    r->tlsa = more;
    if (!mxv_tlsa_from_text(value, &r->tlsa[r->ntlsa], why, sizeof(why))) {
        snprintf(err, errlen, "tlsa: \"%.80s\": %s", value, why);
        return false;
    }
    r->ntlsa++;
    return true;
}

int mxv_request_set(mxv_request *r, const char *key, const char *value, char *err, size_t errlen)
{
    char why[256];
    if (!r || !key || !value) {
        snprintf(err, errlen, "missing argument");
        return 0;
    }
    if (strcmp(key, "ip") == 0)
        return set_ip(r, value, err, errlen);
    if (strcmp(key, "tlsa") == 0)
        return add_tlsa(r, value, err, errlen);
    if (strcmp(key, "port") == 0)
        return set_port(r, value, err, errlen);
    if (strcmp(key, "host") == 0)
        return set_host(r, value, err, errlen);
    if (strcmp(key, "sts_policy") == 0)
        return set_sts_policy(r, value, err, errlen);
    /* Parse with the settings' own rules, then append to the request. */
    mxv_settings s = {0};
    bool known = strcmp(key, "domain") == 0 || strcmp(key, "mx") == 0 ||
                 strcmp(key, "route") == 0 || strcmp(key, "reference") == 0;
    if (!known) {
        snprintf(err, errlen,
                 "%s: not a request key (domain, mx, route, reference, ip, tlsa, host, port, "
                 "sts_policy)",
                 key);
        return 0;
    }
    if (!mxv_settings_apply(&s, key, value, why, sizeof(why))) {
        snprintf(err, errlen, "%s: %s", key, why);
        mxv_settings_clear(&s);
        return 0;
    }
    bool ok = true;
    if (s.domain) {
        free(r->domain);
        r->domain = s.domain;
        s.domain = NULL;
    }
    ok = mxv_strlist_copy(&r->mx, &s.mx) && mxv_strlist_copy(&r->route, &s.route) &&
         mxv_strlist_copy(&r->reference, &s.reference);
    mxv_settings_clear(&s);
    if (!ok)
        snprintf(err, errlen, "out of memory");
    return ok;
}
