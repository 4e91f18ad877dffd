/* SPDX-License-Identifier: Apache-2.0 */
#include "settings.h"
#include "names.h"
#include "text_copy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEST   MXV_SETTING_DESTINATION
#define REPEAT MXV_SETTING_REPEATABLE
#define FLAG   MXV_SETTING_FLAG
#define FACT   MXV_SETTING_FACT

/* The one settings table (settings.h): key, variable, option, what it
 * holds, where it may stand, and one line of help. */
/* A value as an error message shows it: control characters as \xHH (a
 * value with a newline forges no message line), at most 64 octets (the
 * reason that follows is what matters). Thread-local: one per message. */
static const char *shown(const char *value)
{
    static __thread char out[96];
    size_t k = 0, i = 0;
    for (; value[i] && i < 64 && k + 5 < sizeof(out); i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7f)
            k += (size_t)snprintf(out + k, sizeof(out) - k, "\\x%02x", c);
        else
            out[k++] = (char)c;
    }
    if (value[i] && k + 4 < sizeof(out))
        k += (size_t)snprintf(out + k, sizeof(out) - k, "...");
    out[k] = '\0';
    return out;
}

/* The part of an address before its last @: not empty, and with an @ of
 * its own only when quoted (RFC 5321 4.1.2). */
static bool local_part_ok(const char *value, const char *at)
{
    size_t n = (size_t)(at - value);
    if (n == 0)
        return false;
    bool quoted = n >= 2 && value[0] == '"' && value[n - 1] == '"';
    return quoted || !memchr(value, '@', n);
}

static const mxv_setting rows[] = {
    {"mode", "MXVERIFY_MODE", "mode", MXV_SET_MODE, MXV_VALUE_MODE, DEST,
     "none, preferred, required, preferred-verify, required-verify, required-verify-hosted, or "
     "1..6"},
    {"domain", "MXVERIFY_DOMAIN", "domain", MXV_SET_DOMAIN, MXV_VALUE_DOMAIN, FACT,
     "the recipient domain (an address works too)"},
    {"mx", "MXVERIFY_MX", "mx", MXV_SET_MX, MXV_VALUE_NAMES, DEST | REPEAT | FACT,
     "MX host names, comma-separated (default: looked up in DNS)"},
    {"route", "MXVERIFY_ROUTE", "route", MXV_SET_ROUTE, MXV_VALUE_ROUTES, DEST | REPEAT | FACT,
     "SMTP route hosts: host, [host], [host]:port, or an address"},
    {"reference", "MXVERIFY_REFERENCE", "reference", MXV_SET_REFERENCE, MXV_VALUE_NAMES,
     DEST | REPEAT | FACT, "configured reference identifiers, comma-separated"},
    {"ports", "MXVERIFY_PORTS", "ports", MXV_SET_PORTS, MXV_VALUE_PORTS, REPEAT,
     "TCP ports the policy applies to (default 25)"},
    {"ca_file", "MXVERIFY_CAFILE", "ca-file", MXV_SET_CA_FILE, MXV_VALUE_FILE, 0,
     "extra trust anchors (PEM file), added to the system's"},
    {"ca_path", "MXVERIFY_CAPATH", "ca-path", MXV_SET_CA_PATH, MXV_VALUE_DIRECTORY, 0,
     "extra trust anchors (hashed directory), added to the system's"},
    {"unbound_conf", "MXVERIFY_UNBOUND_CONF", "unbound-conf", MXV_SET_UNBOUND_CONF, MXV_VALUE_FILE,
     0, "a libunbound configuration file for every lookup"},
    {"dnssec", "MXVERIFY_DNSSEC", "dnssec", MXV_SET_DNSSEC, MXV_VALUE_DNSSEC, DEST,
     "off, prefer (default) or require"},
    {"dane", "MXVERIFY_DANE", "dane", MXV_SET_DANE, MXV_VALUE_DANE, DEST,
     "off (default), on (DANE where the MX host publishes TLSA records) or require"},
    {"mta_sts", "MXVERIFY_MTA_STS", "mta-sts", MXV_SET_MTA_STS, MXV_VALUE_MTA_STS, DEST,
     "off (default), on (MTA-STS where the domain publishes a policy) or report"},
    {"report_only", "MXVERIFY_REPORT_ONLY", "report-only", MXV_SET_REPORT_ONLY, MXV_VALUE_BOOL,
     DEST | FLAG, "decide and log, never enforce"},
    {"log", "MXVERIFY_LOG", "log", MXV_SET_LOG, MXV_VALUE_LOG, 0,
     "stderr, syslog (default), file:/ABSOLUTE/PATH or none"},
    {"log_format", "MXVERIFY_LOG_FORMAT", "log-format", MXV_SET_LOG_FORMAT, MXV_VALUE_LOG_FORMAT, 0,
     "text (default) or json"},
    {"dns_timeout", "MXVERIFY_DNS_TIMEOUT", "dns-timeout", MXV_SET_DNS_TIMEOUT, MXV_VALUE_SECONDS,
     0, "seconds for all lookups of one decision (default 5)"},
    {"dns_cache", "MXVERIFY_DNS_CACHE", "dns-cache", MXV_SET_DNS_CACHE, MXV_VALUE_CACHE_FILE, 0,
     "a file in which the processes of one user share DNS answers"},
    {"dns_cache_size", "MXVERIFY_DNS_CACHE_SIZE", "dns-cache-size", MXV_SET_DNS_CACHE_SIZE,
     MXV_VALUE_SIZE, 0, "the most the dns_cache file takes: bytes, or K, M or G (default 64M)"},
    {"sts_cache", "MXVERIFY_STS_CACHE", "sts-cache", MXV_SET_STS_CACHE, MXV_VALUE_CACHE_FILE, 0,
     "a file in which the processes of one user keep fetched MTA-STS policies"},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

const mxv_setting *mxv_setting_rows(void)
{
    return rows;
}

size_t mxv_setting_count(void)
{
    return NROWS;
}

const mxv_setting *mxv_setting_find(const char *key)
{
    for (size_t i = 0; key && i < NROWS; i++)
        if (strcmp(rows[i].key, key) == 0)
            return &rows[i];
    return NULL;
}

const mxv_setting *mxv_setting_by_env(const char *env)
{
    for (size_t i = 0; env && i < NROWS; i++)
        if (strcmp(rows[i].env, env) == 0)
            return &rows[i];
    return NULL;
}

unsigned mxv_setting_bit(const char *key)
{
    const mxv_setting *row = mxv_setting_find(key);
    return row ? row->bit : 0;
}

unsigned mxv_destination_bits(void)
{
    unsigned bits = 0;
    for (size_t i = 0; i < NROWS; i++)
        if (rows[i].flags & DEST)
            bits |= rows[i].bit;
    return bits;
}

static const char *const mode_names[] = {
    NULL,
    "none",
    "preferred",
    "required",
    "preferred-verify",
    "required-verify",
    "required-verify-hosted",
};

bool mxv_parse_mode(const char *value, mxv_mode *mode)
{
    for (int m = MXV_MODE_NONE; m <= MXV_MODE_REQUIRED_VERIFY_HOSTED; m++) {
        char digit[2] = {(char)('0' + m), '\0'};
        if (strcmp(value, mode_names[m]) == 0 || strcmp(value, digit) == 0) {
            *mode = (mxv_mode)m;
            return true;
        }
    }
    return false;
}

const char *mxv_mode_name(mxv_mode mode)
{
    return (mode >= MXV_MODE_NONE && mode <= MXV_MODE_REQUIRED_VERIFY_HOSTED) ? mode_names[mode]
                                                                              : "?";
}

bool mxv_mode_verifies(mxv_mode mode)
{
    return mode == MXV_MODE_PREFERRED_VERIFY || mode == MXV_MODE_REQUIRED_VERIFY ||
           mode == MXV_MODE_REQUIRED_VERIFY_HOSTED;
}

bool mxv_mode_requires_tls(mxv_mode mode)
{
    return mode == MXV_MODE_REQUIRED || mode == MXV_MODE_REQUIRED_VERIFY ||
           mode == MXV_MODE_REQUIRED_VERIFY_HOSTED;
}

bool mxv_enforces_tls(const mxv_effective *e)
{
    return !e->report_only && mxv_mode_requires_tls(e->mode);
}

bool mxv_enforces_verify(const mxv_effective *e)
{
    /* With DANE or MTA-STS on, every handshake is decided, and the
     * failures of the policy that applies abort whatever the mode
     * (policy.md section 7). */
    return (mxv_enforces_tls(e) && mxv_mode_verifies(e->mode)) ||
           ((e->dane != MXV_DANE_OFF || e->mta_sts == MXV_STS_ON) && !e->report_only);
}

bool mxv_published_asked(const mxv_effective *e)
{
    return e->dane != MXV_DANE_OFF || e->mta_sts != MXV_STS_OFF;
}

bool mxv_split_list(const char *value, mxv_strlist *out, char *err, size_t errlen)
{
    const char *p = value;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0) {
            snprintf(err, errlen, "empty item in list \"%s\"", shown(value));
            return false;
        }
        char item[512];
        if (len >= sizeof(item)) {
            snprintf(err, errlen, "list item too long");
            return false;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (!mxv_strlist_add(out, item)) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        if (!end)
            return true;
        p = end + 1;
    }
}

bool mxv_parse_route(const char *entry, char *host, size_t hostlen, bool *is_ip, char *err,
                     size_t errlen)
{
    char tmp[512];
    if (!mxv_text_copy(tmp, sizeof(tmp), entry)) {
        snprintf(err, errlen, "route \"%s\" too long", shown(entry));
        return false;
    }
    char *name = tmp, *port = NULL;
    if (tmp[0] == '[') { /* Postfix nexthop syntax: [host] or [host]:port */
        char *close = strchr(tmp, ']');
        if (!close || (close[1] && close[1] != ':')) {
            snprintf(err, errlen, "route \"%s\": unbalanced [ ]", shown(entry));
            return false;
        }
        *close = '\0';
        name = tmp + 1;
        port = close[1] ? close + 2 : NULL;
    } else if (!mxv_is_ip_literal(tmp)) { /* a bare IPv6 literal holds ':' */
        char *colon = strrchr(tmp, ':');
        if (colon) {
            *colon = '\0';
            port = colon + 1;
        }
    }
    if (port) {
        char *end;
        errno = 0;
        long p = strtol(port, &end, 10);
        /* Digits only: strtol would also take "+25" and " 25". */
        if (!*port || strspn(port, "0123456789") != strlen(port) || *end || errno || p < 1 ||
            p > 65535) {
            snprintf(err, errlen, "route \"%s\": bad port", shown(entry));
            return false;
        }
    }
    *is_ip = mxv_is_ip_literal(name);
    if (*is_ip) {
        if (snprintf(host, hostlen, "%s", name) >= (int)hostlen)
            return false;
        return true;
    }
    const char *why = NULL;
    if (!mxv_reference_normalize(name, host, hostlen, &why) || !mxv_host_name_ok(host, &why)) {
        snprintf(err, errlen, "route \"%s\": %s", shown(entry), why);
        return false;
    }
    return true;
}

/* Host-name lists (mx, reference): every item must be a host name. */
static bool parse_names(const char *value, mxv_strlist *out, char *err, size_t errlen)
{
    mxv_strlist raw = {0};
    bool ok = mxv_split_list(value, &raw, err, errlen);
    for (size_t i = 0; ok && i < raw.n; i++) {
        char name[MXV_NAME_MAX + 1];
        const char *why = NULL;
        ok = mxv_reference_normalize(raw.items[i], name, sizeof(name), &why) &&
             mxv_host_name_ok(name, &why);
        if (!ok)
            snprintf(err, errlen, "\"%s\": %s", shown(raw.items[i]), why);
        else if (!mxv_strlist_contains(out, name))
            ok = mxv_strlist_add(out, name);
    }
    mxv_strlist_clear(&raw);
    return ok;
}

static bool parse_routes(const char *value, mxv_strlist *out, char *err, size_t errlen)
{
    mxv_strlist raw = {0};
    bool ok = mxv_split_list(value, &raw, err, errlen);
    for (size_t i = 0; ok && i < raw.n; i++) {
        char host[MXV_NAME_MAX + 1];
        bool is_ip;
        ok = mxv_parse_route(raw.items[i], host, sizeof(host), &is_ip, err, errlen) &&
             mxv_strlist_add(out, host);
    }
    mxv_strlist_clear(&raw);
    return ok;
}

static bool parse_ports(const char *value, mxv_settings *s, char *err, size_t errlen)
{
    mxv_strlist raw = {0};
    bool ok = mxv_split_list(value, &raw, err, errlen);
    s->nports = 0;
    for (size_t i = 0; ok && i < raw.n; i++) {
        char *end;
        errno = 0;
        long p = strtol(raw.items[i], &end, 10);
        ok = *end == '\0' && errno == 0 && p >= 1 && p <= 65535 && s->nports < MXV_MAX_PORTS;
        if (!ok)
            snprintf(err, errlen, "\"%s\" is not a TCP port (1-65535, at most %d)",
                     shown(raw.items[i]), MXV_MAX_PORTS);
        else
            s->ports[s->nports++] = (unsigned short)p;
    }
    mxv_strlist_clear(&raw);
    return ok;
}

static bool replace_string(char **field, const char *value, char *err, size_t errlen)
{
    if (!*value) {
        snprintf(err, errlen, "empty value");
        return false;
    }
    char *copy = strdup(value);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    free(*field);
    *field = copy;
    return true;
}

/* Files are checked when set, so a typo is a configuration error that
 * names the key, not a failure at the first connection. */
static bool replace_path(char **field, const char *value, bool directory, char *err, size_t errlen)
{
    struct stat st;
    if (*value && (stat(value, &st) != 0 || access(value, R_OK) != 0)) {
        snprintf(err, errlen, "%s: %s", value, strerror(errno));
        return false;
    }
    if (*value && directory != S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", value, directory ? "not a directory" : "is a directory");
        return false;
    }
    /* A device or FIFO would read as nothing, or never end. */
    if (*value && !directory && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", value);
        return false;
    }
    return replace_string(field, value, err, errlen);
}

/* An absolute path in an existing directory; the file itself is checked
 * when opened (dns_shared.c). */
static bool parse_cache_path(const char *value, char **field, char *err, size_t errlen)
{
    if (!*value)
        return replace_string(field, value, err, errlen); /* refused, as for every key */
    const char *slash = strrchr(value, '/');
    if (value[0] != '/' || !slash[1]) {
        snprintf(err, errlen, "\"%s\" is not an absolute file path", shown(value));
        return false;
    }
    char dir[PATH_MAX];
    struct stat st;
    snprintf(dir, sizeof(dir), "%.*s", slash == value ? 1 : (int)(slash - value), value);
    if (strstr(dir, "%u")) {
        snprintf(err, errlen, "\"%s\": %%u (the user) may stand in the file name only",
                 shown(value));
        return false;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: no such directory", dir);
        return false;
    }
    return replace_string(field, value, err, errlen);
}

static bool parse_log(const char *value, mxv_settings *s, char *err, size_t errlen)
{
    if (strcmp(value, "stderr") == 0)
        s->log = MXV_LOG_STDERR;
    else if (strcmp(value, "syslog") == 0)
        s->log = MXV_LOG_SYSLOG;
    else if (strcmp(value, "none") == 0)
        s->log = MXV_LOG_NONE;
    else if (strncmp(value, "file:", 5) == 0 && value[5] == '/') {
        s->log = MXV_LOG_FILE;
        return replace_string(&s->log_path, value + 5, err, errlen);
    } else {
        snprintf(err, errlen, "\"%s\" is not stderr, syslog, none or file:/ABSOLUTE/PATH",
                 shown(value));
        return false;
    }
    return true;
}

/* One of three words: its index (the enum's value, in the enum's order),
 * or -1 with "\"VALUE\" is not A, B or C". */
static int choice(const char *value, const char *const words[3], char *err, size_t errlen)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(value, words[i]) == 0)
            return i;
    snprintf(err, errlen, "\"%s\" is not %s, %s or %s", shown(value), words[0], words[1], words[2]);
    return -1;
}

static bool parse_bool01(const char *value, bool *out, char *err, size_t errlen)
{
    if (strcmp(value, "0") == 0 || strcmp(value, "1") == 0) {
        *out = value[0] == '1';
        return true;
    }
    snprintf(err, errlen, "\"%s\" is not 0 or 1", shown(value));
    return false;
}

static bool parse_timeout(const char *value, int *ms, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double sec = strtod(value, &end);
    /* At least a millisecond: a deadline that rounds to 0 ms would make
     * every uncached lookup fail at once. */
    if (*value && !*end && errno == 0 && sec >= 0.001 && sec <= 300) {
        *ms = (int)(sec * 1000 + 0.5);
        return true;
    }
    snprintf(err, errlen, "\"%s\" is not a number of seconds (0.001 to 300)", shown(value));
    return false;
}

/* A size in bytes: digits, then K, M or G for powers of 1024 (1M to 4G:
 * less holds too few answers to share, more is more than DNS answers of
 * an hour need). */
static bool parse_size(const char *value, uint64_t *out, char *err, size_t errlen)
{
    static const char units[] = "KMG";
    size_t digits = strspn(value, "0123456789");
    char unit = (char)toupper((unsigned char)value[digits]);
    const char *u = unit ? strchr(units, unit) : NULL;
    uint64_t n = 0;
    /* Past the largest size the digits left cannot make it valid again. */
    for (size_t i = 0; i < digits && n <= MXV_DNS_CACHE_SIZE_MAX; i++)
        n = n * 10 + (uint64_t)(value[i] - '0');
    unsigned shift = u ? 10 * (unsigned)(u - units + 1) : 0;
    bool ok = digits > 0 && (!unit || (u && !value[digits + 1])) &&
              n <= (MXV_DNS_CACHE_SIZE_MAX >> shift);
    if (ok && (n << shift) >= MXV_DNS_CACHE_SIZE_MIN) {
        *out = n << shift;
        return true;
    }
    snprintf(err, errlen, "\"%s\" is not a size from 1M to 4G (bytes, or a number with K, M or G)",
             shown(value));
    return false;
}

/* Where each list and path setting lives: in the settings, in the view. */
static mxv_strlist *list_field(mxv_settings *s, unsigned bit)
{
    return bit == MXV_SET_MX ? &s->mx : bit == MXV_SET_REFERENCE ? &s->reference : &s->route;
}

static const mxv_strlist **list_view(mxv_effective *e, unsigned bit)
{
    return bit == MXV_SET_MX ? &e->mx : bit == MXV_SET_REFERENCE ? &e->reference : &e->route;
}

static char **path_field(mxv_settings *s, unsigned bit)
{
    switch (bit) {
    case MXV_SET_CA_FILE:
        return &s->ca_file;
    case MXV_SET_CA_PATH:
        return &s->ca_path;
    case MXV_SET_DNS_CACHE:
        return &s->dns_cache;
    case MXV_SET_STS_CACHE:
        return &s->sts_cache;
    default:
        return &s->unbound_conf;
    }
}

static const char **path_view(mxv_effective *e, unsigned bit)
{
    switch (bit) {
    case MXV_SET_CA_FILE:
        return &e->ca_file;
    case MXV_SET_CA_PATH:
        return &e->ca_path;
    case MXV_SET_DNS_CACHE:
        return &e->dns_cache;
    case MXV_SET_STS_CACHE:
        return &e->sts_cache;
    default:
        return &e->unbound_conf;
    }
}

static bool parse_value(mxv_settings *s, const mxv_setting *row, const char *value, char *err,
                        size_t errlen)
{
    mxv_strlist list = {0};
    bool ok;
    switch (row->type) {
    case MXV_VALUE_MODE:
        ok = mxv_parse_mode(value, &s->mode);
        if (!ok)
            snprintf(err, errlen, "\"%s\" is not a mode (%s)", shown(value), row->help);
        return ok;
    case MXV_VALUE_DOMAIN: {
        const char *at = strrchr(value, '@'); /* an address works too */
        char name[MXV_NAME_MAX + 1];
        const char *why = NULL;
        if (at && !local_part_ok(value, at)) {
            snprintf(err, errlen, "\"%s\": not a mail address (user@domain)", shown(value));
            return false;
        }
        if (!mxv_reference_normalize(at ? at + 1 : value, name, sizeof(name), &why) ||
            !mxv_host_name_ok(name, &why)) {
            snprintf(err, errlen, "\"%s\": %s", shown(value), why);
            return false;
        }
        return replace_string(&s->domain, name, err, errlen);
    }
    case MXV_VALUE_NAMES:
    case MXV_VALUE_ROUTES:
        ok = row->type == MXV_VALUE_ROUTES ? parse_routes(value, &list, err, errlen)
                                           : parse_names(value, &list, err, errlen);
        if (ok) {
            mxv_strlist *field = list_field(s, row->bit);
            mxv_strlist_clear(field);
            *field = list;
        } else {
            mxv_strlist_clear(&list);
        }
        return ok;
    case MXV_VALUE_PORTS:
        return parse_ports(value, s, err, errlen);
    case MXV_VALUE_FILE:
    case MXV_VALUE_DIRECTORY:
        return replace_path(path_field(s, row->bit), value, row->type == MXV_VALUE_DIRECTORY, err,
                            errlen);
    case MXV_VALUE_CACHE_FILE:
        return parse_cache_path(value, path_field(s, row->bit), err, errlen);
    case MXV_VALUE_DNSSEC: {
        static const char *const words[] = {"off", "prefer", "require"}; /* mxv_dnssec_mode */
        int i = choice(value, words, err, errlen);
        s->dnssec = i >= 0 ? (mxv_dnssec_mode)i : s->dnssec;
        return i >= 0;
    }
    case MXV_VALUE_DANE: {
        static const char *const words[] = {"off", "on", "require"}; /* mxv_dane_mode */
        int i = choice(value, words, err, errlen);
        s->dane = i >= 0 ? (mxv_dane_mode)i : s->dane;
        return i >= 0;
    }
    case MXV_VALUE_MTA_STS: {
        static const char *const words[] = {"off", "on", "report"}; /* mxv_sts_setting */
        int i = choice(value, words, err, errlen);
        s->mta_sts = i >= 0 ? (mxv_sts_setting)i : s->mta_sts;
        return i >= 0;
    }
    case MXV_VALUE_BOOL:
        return parse_bool01(value, &s->report_only, err, errlen);
    case MXV_VALUE_LOG:
        return parse_log(value, s, err, errlen);
    case MXV_VALUE_LOG_FORMAT:
        ok = strcmp(value, "text") == 0 || strcmp(value, "json") == 0;
        if (ok)
            s->log_json = value[0] == 'j';
        else
            snprintf(err, errlen, "\"%s\" is not text or json", shown(value));
        return ok;
    case MXV_VALUE_SECONDS:
        return parse_timeout(value, &s->dns_timeout_ms, err, errlen);
    case MXV_VALUE_SIZE:
        return parse_size(value, &s->dns_cache_size, err, errlen);
    }
    return false;
}

bool mxv_settings_apply(mxv_settings *s, const char *key, const char *value, char *err,
                        size_t errlen)
{
    const mxv_setting *row = mxv_setting_find(key);
    if (!row) {
        snprintf(err, errlen, "unknown key");
        return false;
    }
    if (!parse_value(s, row, value, err, errlen))
        return false;
    s->set |= row->bit;
    return true;
}

void mxv_settings_layer(mxv_effective *e, const mxv_settings *s)
{
    /* Called for every layer of every decision (about 15 times a
     * delivery): a layer that sets nothing, and the rows after its last
     * setting, are not looked at. */
    unsigned left = s->set;
    for (size_t i = 0; left && i < NROWS; i++) {
        unsigned bit = rows[i].bit;
        if (!(left & bit))
            continue;
        left &= ~bit;
        /* The view points into s: the policy owns both. */
        mxv_settings *w = (mxv_settings *)s;
        switch (rows[i].type) {
        case MXV_VALUE_MODE:
            e->mode = s->mode;
            break;
        case MXV_VALUE_DOMAIN:
            e->domain = s->domain;
            break;
        case MXV_VALUE_NAMES:
        case MXV_VALUE_ROUTES:
            *list_view(e, bit) = list_field(w, bit);
            break;
        case MXV_VALUE_PORTS:
            e->ports = s->ports;
            e->nports = s->nports;
            break;
        case MXV_VALUE_FILE:
        case MXV_VALUE_DIRECTORY:
        case MXV_VALUE_CACHE_FILE:
            *path_view(e, bit) = *path_field(w, bit);
            break;
        case MXV_VALUE_DNSSEC:
            e->dnssec = s->dnssec;
            break;
        case MXV_VALUE_DANE:
            e->dane = s->dane;
            break;
        case MXV_VALUE_MTA_STS:
            e->mta_sts = s->mta_sts;
            break;
        case MXV_VALUE_BOOL:
            e->report_only = s->report_only;
            break;
        case MXV_VALUE_LOG:
            e->log = s->log;
            e->log_path = s->log_path;
            break;
        case MXV_VALUE_LOG_FORMAT:
            e->log_json = s->log_json;
            break;
        case MXV_VALUE_SECONDS:
            e->dns_timeout_ms = s->dns_timeout_ms;
            break;
        case MXV_VALUE_SIZE:
            e->dns_cache_size = s->dns_cache_size;
            break;
        }
    }
}

void mxv_settings_clear(mxv_settings *s)
{
    mxv_strlist_clear(&s->mx);
    mxv_strlist_clear(&s->route);
    mxv_strlist_clear(&s->reference);
    free(s->domain);
    free(s->ca_file);
    free(s->ca_path);
    free(s->unbound_conf);
    free(s->log_path);
    free(s->dns_cache);
    free(s->sts_cache);
    memset(s, 0, sizeof(*s));
}
