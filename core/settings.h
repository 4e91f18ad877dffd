/*
 * settings: the one vocabulary of interfaces.md ("Settings"), its parsing
 * and validation, and how global, per-destination and override values
 * combine for one recipient domain.
 *
 * Precedence, lowest first: built-in defaults, the config file's global
 * keys, the config file's destination entry (exact domain, else the longest
 * ".parent" entry), then overrides (MXVERIFY_* variables and command-line
 * options or mxv_policy_set()), which win over everything.
 */
#ifndef MXV_SETTINGS_H
#define MXV_SETTINGS_H

#include "mxverify.h"
#include "strlist.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum { MXV_DNSSEC_OFF, MXV_DNSSEC_PREFER, MXV_DNSSEC_REQUIRE } mxv_dnssec_mode;
typedef enum { MXV_LOG_SYSLOG, MXV_LOG_STDERR, MXV_LOG_FILE, MXV_LOG_NONE } mxv_log_target;

enum {
    MXV_SET_MODE = 1u << 0,
    MXV_SET_DOMAIN = 1u << 1,
    MXV_SET_MX = 1u << 2,
    MXV_SET_ROUTE = 1u << 3,
    MXV_SET_REFERENCE = 1u << 4,
    MXV_SET_PORTS = 1u << 5,
    MXV_SET_CA_FILE = 1u << 6,
    MXV_SET_CA_PATH = 1u << 7,
    MXV_SET_UNBOUND_CONF = 1u << 8,
    MXV_SET_DNSSEC = 1u << 9,
    MXV_SET_REPORT_ONLY = 1u << 10,
    MXV_SET_LOG = 1u << 11,
    MXV_SET_LOG_FORMAT = 1u << 12,
    MXV_SET_DNS_TIMEOUT = 1u << 13,
    MXV_SET_DNS_CACHE = 1u << 14,
};

/* Keys a destination entry may set; the rest are machine-wide. */
#define MXV_DESTINATION_KEYS                                                                       \
    (MXV_SET_MODE | MXV_SET_MX | MXV_SET_ROUTE | MXV_SET_REFERENCE | MXV_SET_DNSSEC |              \
     MXV_SET_REPORT_ONLY)

#define MXV_MAX_PORTS 32

typedef struct {
    unsigned set; /* MXV_SET_* bits of the fields given explicitly */
    mxv_mode mode;
    char *domain;
    mxv_strlist mx, route, reference;
    unsigned short ports[MXV_MAX_PORTS];
    size_t nports;
    char *ca_file, *ca_path, *unbound_conf;
    mxv_dnssec_mode dnssec;
    bool report_only;
    mxv_log_target log;
    char *log_path;
    bool log_json;
    int dns_timeout_ms;
    char *dns_cache;
} mxv_settings;

typedef struct {
    char *pattern; /* "example.com" (that domain) or ".example.com" (its subdomains) */
    mxv_settings s;
} mxv_destination;

/* The settings in force for one domain: views into the policy, not copies. */
typedef struct {
    mxv_mode mode;
    const char *domain;
    const mxv_strlist *mx, *route, *reference;
    const unsigned short *ports;
    size_t nports;
    const char *ca_file, *ca_path, *unbound_conf;
    mxv_dnssec_mode dnssec;
    bool report_only;
    mxv_log_target log;
    const char *log_path;
    bool log_json;
    int dns_timeout_ms;
    const char *dns_cache;
    const char *destination; /* the matching destination pattern, or NULL */
} mxv_effective;

/* Known key? Returns its MXV_SET_* bit, 0 if unknown. */
unsigned mxv_setting_bit(const char *key);
/* Parses and stores one value; on error writes the reason (no location). */
bool mxv_settings_apply(mxv_settings *s, const char *key, const char *value, char *err,
                        size_t errlen);
void mxv_settings_clear(mxv_settings *s);

bool mxv_parse_mode(const char *value, mxv_mode *mode);
/* Splits a comma-separated list, trimming blanks; rejects empty items. */
bool mxv_split_list(const char *value, mxv_strlist *out, char *err, size_t errlen);
/* A route entry: "host", "[host]", "[host]:port", "host:port", an IP. */
bool mxv_parse_route(const char *entry, char *host, size_t hostlen, bool *is_ip, char *err,
                     size_t errlen);

#endif
