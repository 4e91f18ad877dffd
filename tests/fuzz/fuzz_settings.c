/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz: every setting's value parser (MXVERIFY_* variables, command-line
 * options and mxv_policy_set() reach these with untrusted text).
 *
 * Input: one key-selector byte ('a' = mode, 'b' = domain, ... in the order
 * of keys[] below, wrapping around), then the value. The value also goes
 * through mxv_split_list() and, item by item, mxv_parse_route().
 *
 * Two invariants below found real bugs (since fixed); the seeds
 * route-ip-trailing-dot and dns_timeout-tiny keep them found:
 *  - an address with a trailing dot ("192.0.2.1.") must not become a
 *    route to the host *name* "192.0.2.1";
 *  - a dns_timeout must not round to 0 ms.
 */
#include "names.h"
#include "settings.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {
    "mode",  "domain",     "mx",           "route",   "reference",
    "ports", "ca_file",    "unbound_conf", "dnssec",  "report_only",
    "log",   "log_format", "dns_timeout",  "ca_path", "dns_cache_size",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* A route's host: an address literal, or a normalised host name. */
static void check_route(const char *entry)
{
    char host[MXV_NAME_MAX + 1], err[512], norm[MXV_NAME_MAX + 1];
    bool is_ip = false;
    if (!mxv_parse_route(entry, host, sizeof(host), &is_ip, err, sizeof(err)))
        return;
    if (is_ip != mxv_is_ip_literal(host))
        abort();
    if (!is_ip && (!mxv_reference_normalize(host, norm, sizeof(norm), NULL) || strcmp(norm, host)))
        abort();
}

static void check_list(const char *value)
{
    mxv_strlist list = {0};
    char err[512];
    if (mxv_split_list(value, &list, err, sizeof(err))) {
        if (list.n == 0)
            abort();
        for (size_t i = 0; i < list.n; i++) {
            const char *item = list.items[i];
            size_t len = strlen(item);
            /* Items are non-empty, trimmed, and hold no separator. */
            if (len == 0 || strchr(item, ',') || item[0] == ' ' || item[0] == '\t' ||
                item[len - 1] == ' ' || item[len - 1] == '\t')
                abort();
            check_route(item);
        }
    }
    mxv_strlist_clear(&list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *key = keys[(uint8_t)(data[0] - 'a') % NKEYS];
    char *value = malloc(size);
    if (!value)
        return 0;
    memcpy(value, data + 1, size - 1);
    value[size - 1] = '\0';

    mxv_settings s = {0};
    char err[512];
    if (mxv_settings_apply(&s, key, value, err, sizeof(err))) {
        if (!(s.set & mxv_setting_bit(key)) || s.nports > MXV_MAX_PORTS)
            abort();
        if ((s.set & MXV_SET_DNS_TIMEOUT) && (s.dns_timeout_ms < 1 || s.dns_timeout_ms > 300000))
            abort();
        if ((s.set & MXV_SET_DNS_CACHE_SIZE) && (s.dns_cache_size < MXV_DNS_CACHE_SIZE_MIN ||
                                                 s.dns_cache_size > MXV_DNS_CACHE_SIZE_MAX))
            abort();
        /* Setting it again replaces the value (and frees the old one). */
        if (!mxv_settings_apply(&s, key, value, err, sizeof(err)))
            abort();
    }
    mxv_settings_clear(&s);

    check_list(value);
    check_route(value);
    free(value);
    return 0;
}
