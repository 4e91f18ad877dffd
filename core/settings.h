/* SPDX-License-Identifier: Apache-2.0 */
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
#include <stdint.h>

/* The table is also read by the provider, through libmxverify's private
 * version node. */
#if defined(MXV_BUILDING)
#define MXV_SETTINGS_API __attribute__((visibility("default")))
#else
#define MXV_SETTINGS_API
#endif

typedef enum { MXV_DNSSEC_OFF, MXV_DNSSEC_PREFER, MXV_DNSSEC_REQUIRE } mxv_dnssec_mode;
/* DANE for SMTP (RFC 7672): not asked; applied where published; required. */
typedef enum { MXV_DANE_OFF, MXV_DANE_ON, MXV_DANE_REQUIRE } mxv_dane_mode;
/* MTA-STS (RFC 8461): not asked; enforced where a domain's policy says
 * enforce; evaluated and logged only (policy.md section 7). */
typedef enum { MXV_STS_OFF, MXV_STS_ON, MXV_STS_REPORT } mxv_sts_setting;
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
    MXV_SET_DANE = 1u << 15,
    MXV_SET_MTA_STS = 1u << 16,
    MXV_SET_STS_CACHE = 1u << 17,
    MXV_SET_DNS_CACHE_SIZE = 1u << 18,
};

/* dns_cache_size, in bytes: the default and the values allowed. */
#define MXV_DNS_CACHE_SIZE_DEFAULT ((uint64_t)64 << 20)
#define MXV_DNS_CACHE_SIZE_MIN     ((uint64_t)1 << 20)
#define MXV_DNS_CACHE_SIZE_MAX     ((uint64_t)4 << 30)

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
    uint64_t dns_cache_size; /* bytes */
    mxv_dane_mode dane;
    mxv_sts_setting mta_sts;
    char *sts_cache;
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
    uint64_t dns_cache_size; /* bytes */
    mxv_dane_mode dane;
    mxv_sts_setting mta_sts;
    const char *sts_cache;
    const char *destination; /* the matching destination pattern, or NULL */
} mxv_effective;

/*
 * The settings table: one row per setting, from which every way a setting
 * arrives is derived: the config file's keys (and which may stand in a
 * destination section), the MXVERIFY_* variables, the command-line options
 * of every subcommand, what `mxverify run` exports, the provider's keys,
 * and the check that the manual lists them all.
 */
typedef enum {
    MXV_VALUE_MODE,       /* none .. required-verify-hosted, 1..6 */
    MXV_VALUE_DOMAIN,     /* a domain, or an address whose domain it is */
    MXV_VALUE_NAMES,      /* comma-separated host names */
    MXV_VALUE_ROUTES,     /* comma-separated route hosts */
    MXV_VALUE_PORTS,      /* comma-separated TCP ports */
    MXV_VALUE_FILE,       /* a readable file */
    MXV_VALUE_DIRECTORY,  /* a readable directory */
    MXV_VALUE_DNSSEC,     /* off, prefer, require */
    MXV_VALUE_BOOL,       /* 0, 1 */
    MXV_VALUE_LOG,        /* stderr, syslog, file:/PATH, none */
    MXV_VALUE_LOG_FORMAT, /* text, json */
    MXV_VALUE_SECONDS,    /* 0.001 to 300 */
    MXV_VALUE_CACHE_FILE, /* an absolute path in an existing directory */
    MXV_VALUE_DANE,       /* off, on, require */
    MXV_VALUE_MTA_STS,    /* off, on, report */
    MXV_VALUE_SIZE,       /* bytes, or with K, M or G (powers of 1024): 1M to 4G */
} mxv_value_type;

enum {
    MXV_SETTING_DESTINATION = 1u << 0, /* may be set per destination */
    MXV_SETTING_REPEATABLE = 1u << 1,  /* an option given again adds to the list */
    MXV_SETTING_FLAG = 1u << 2,        /* an option without a value: "1" */
    /* On explain/check/audit, a fact about the connection (the request),
     * not a policy setting. */
    MXV_SETTING_FACT = 1u << 3,
};

typedef struct {
    const char *key;    /* config file and provider section */
    const char *env;    /* the MXVERIFY_* override */
    const char *option; /* the command-line option, without "--" */
    unsigned bit;       /* MXV_SET_* */
    mxv_value_type type;
    unsigned flags; /* MXV_SETTING_* */
    const char *help;
} mxv_setting;

/* Every setting, in the manual's order; mxv_setting_count() rows. */
MXV_SETTINGS_API const mxv_setting *mxv_setting_rows(void);
MXV_SETTINGS_API size_t mxv_setting_count(void);
/* The row of `key` (config key), or NULL. */
MXV_SETTINGS_API const mxv_setting *mxv_setting_find(const char *key);
/* The row whose variable is `env` (MXVERIFY_...), or NULL. */
const mxv_setting *mxv_setting_by_env(const char *env);
/* Known key? Returns its MXV_SET_* bit, 0 if unknown. */
unsigned mxv_setting_bit(const char *key);
/* The MXV_SET_* bits a destination section may set. */
unsigned mxv_destination_bits(void);
/* Parses and stores one value; on error writes the reason (no location). */
bool mxv_settings_apply(mxv_settings *s, const char *key, const char *value, char *err,
                        size_t errlen);
void mxv_settings_clear(mxv_settings *s);
/* Lays the settings given explicitly in s over e (precedence: policy.c). */
void mxv_settings_layer(mxv_effective *e, const mxv_settings *s);

/* The mode rules, in one place (policy.md section 3). */
bool mxv_mode_verifies(mxv_mode mode);     /* the certificate is checked */
bool mxv_mode_requires_tls(mxv_mode mode); /* no mail without TLS */
/* What the settings in force enforce (report_only enforces nothing;
 * preferred-verify logs a failed check and proceeds; DANE on enforces a
 * certificate decision in every mode, TLS only where DANE applies). */
bool mxv_enforces_tls(const mxv_effective *e);
bool mxv_enforces_verify(const mxv_effective *e);
/* Are policies the destination publishes asked for (dane or mta_sts not
 * off)? Then every in-scope handshake is decided, whatever the mode. */
bool mxv_published_asked(const mxv_effective *e);
bool mxv_parse_mode(const char *value, mxv_mode *mode);
/* Splits a comma-separated list, trimming blanks; rejects empty items. */
bool mxv_split_list(const char *value, mxv_strlist *out, char *err, size_t errlen);
/* A route entry: "host", "[host]", "[host]:port", "host:port", an IP. */
bool mxv_parse_route(const char *entry, char *host, size_t hostlen, bool *is_ip, char *err,
                     size_t errlen);

#endif
