/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mxverify.h: the public C API of libmxverify.
 *
 * libmxverify decides whether an SMTP server's TLS certificate is acceptable
 * for a recipient domain, the way Cisco's ESA "Verify" and "Verify Hosted
 * Domains" settings do (RFC 6125 identities: recipient domain, MX host
 * names, forward-confirmed PTR names, SMTP routes, configured names).
 *
 * Two ways to use it:
 *  - Offline: build an mxv_request (domain, MX, route, IP, ...) and call
 *    mxv_decide() with the certificate chain the server sent.
 *  - In a TLS client you can change: mxv_ssl_ctx_enable() on the SSL_CTX,
 *    mxv_ssl_set() on each SSL for the destination, then read
 *    mxv_ssl_decision() after the handshake.
 *
 * Every function reports errors through a caller buffer (err, errlen) and a
 * return value; none prints, none exits.
 */
#ifndef MXVERIFY_H
#define MXVERIFY_H

#include <stddef.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MXV_BUILDING)
#define MXV_API __attribute__((visibility("default")))
#else
#define MXV_API
#endif

#define MXV_VERSION "0.1.0"

/* The six ESA TLS settings, numbered as in the ESA's destconfig menu. */
typedef enum {
    MXV_MODE_NONE = 1,
    MXV_MODE_PREFERRED = 2,
    MXV_MODE_REQUIRED = 3,
    MXV_MODE_PREFERRED_VERIFY = 4,
    MXV_MODE_REQUIRED_VERIFY = 5,
    MXV_MODE_REQUIRED_VERIFY_HOSTED = 6,
} mxv_mode;

/* Output formats of mxv_decision_format(). */
typedef enum {
    MXV_FORMAT_TEXT = 0,     /* the multi-line human trace of `mxverify explain` */
    MXV_FORMAT_JSON = 1,     /* one JSON object (fields in interfaces.md) */
    MXV_FORMAT_LOG = 2,      /* one log line: verdict= mode= domain= ip= match= ... */
    MXV_FORMAT_LOG_JSON = 3, /* the same fields as one compact JSON object */
} mxv_format;

typedef struct mxv_policy mxv_policy;
typedef struct mxv_request mxv_request;
typedef struct mxv_decision mxv_decision;

/* --- policy: settings from a config file, the environment, or set by key --- */

MXV_API mxv_policy *mxv_policy_new(void);
MXV_API void mxv_policy_free(mxv_policy *policy);
/* Reads a config file in openssl.cnf syntax (see mxverify.conf(5)). */
MXV_API int mxv_policy_load_file(mxv_policy *policy, const char *path, char *err, size_t errlen);
/* Applies MXVERIFY_* variables (ignored in setuid/setgid programs). */
MXV_API int mxv_policy_load_env(mxv_policy *policy, char *err, size_t errlen);
/* One setting by its config key ("mode", "mx", "dnssec", ...). */
MXV_API int mxv_policy_set(mxv_policy *policy, const char *key, const char *value, char *err,
                           size_t errlen);
/* A fallback value, used only where no file, variable or option sets the key. */
MXV_API int mxv_policy_set_default(mxv_policy *policy, const char *key, const char *value,
                                   char *err, size_t errlen);
/*
 * Builds what deciding needs (the libunbound context from unbound_conf, the
 * trust store from ca_file/ca_path) now instead of at the first decision,
 * so a broken file is reported as a configuration error. Optional: without
 * it, a context that cannot be built fails each decision closed.
 */
MXV_API int mxv_policy_prepare(mxv_policy *policy, char *err, size_t errlen);
/* The mode in force for a recipient domain (destination entries applied). */
MXV_API mxv_mode mxv_policy_mode(const mxv_policy *policy, const char *domain);
/* The usual start: MXVERIFY_CONF (or /etc/mxverify.conf if present), then env. */
MXV_API mxv_policy *mxv_policy_load_default(char *err, size_t errlen);

/* --- request: what one connection is for --- */

MXV_API mxv_request *mxv_request_new(void);
MXV_API void mxv_request_free(mxv_request *request);
/*
 * key: "domain" (recipient domain), "mx", "route", "reference" (comma
 * separated, each call appends), "ip" (the connected address), "tlsa" (one
 * TLSA record, "USAGE SELECTOR MTYPE HEX" as RFC 6698 section 2.2 writes
 * it; each call adds one; together they stand for a DNSSEC-secure TLSA
 * RRset at the first "mx", used when the setting dane is on or require,
 * RFC 7672), "host" (the MX host connected to: DANE's TLSA base domain;
 * default the first "mx"; "" unsets it), "port" (the TCP port connected to, default 25;
 * the TLSA name is _PORT._tcp.HOST), "sts_policy" (the recipient domain's
 * MTA-STS policy body as served, RFC 8461 section 3.2: used instead of a
 * lookup when the setting mta_sts is on or report; an invalid body is an
 * error naming sts-policy-invalid). Returns 1, or 0 with a reason in err.
 */
MXV_API int mxv_request_set(mxv_request *request, const char *key, const char *value, char *err,
                            size_t errlen);

/*
 * Decides offline: chain checks against the policy's trust anchors (plus
 * `extra_store` when not NULL), identity by the mode's algorithm, DNS
 * evidence through libunbound. `chain` holds the intermediates the server
 * sent (may be NULL). Returns NULL only on allocation failure.
 */
MXV_API mxv_decision *mxv_decide(mxv_policy *policy, const mxv_request *request, X509 *leaf,
                                 STACK_OF(X509) * chain);

/* --- DNS through the policy's resolver (unbound_conf, DNSSEC, deadline) --- */

/*
 * The MX hosts of `domain`, lowest preference first (a NULL-terminated
 * array; release with mxv_free_list()). Returns 1 found, 0 none (NXDOMAIN,
 * no MX, or only a null MX: err says which, "null MX" for the last), -1
 * DNS failure (temporary; err says why).
 */
MXV_API int mxv_lookup_mx(mxv_policy *policy, const char *domain, char ***hosts, size_t *n,
                          char *err, size_t errlen);
/* The IPv4 and IPv6 addresses of `host`, as text; same return values. */
MXV_API int mxv_lookup_addresses(mxv_policy *policy, const char *host, char ***addrs, size_t *n,
                                 char *err, size_t errlen);
/* The PTR names of an IPv4/IPv6 address (not forward-confirmed here). */
MXV_API int mxv_lookup_ptr(mxv_policy *policy, const char *ip, char ***names, size_t *n, char *err,
                           size_t errlen);
MXV_API void mxv_free_list(char **list);

/* --- decision --- */

MXV_API void mxv_decision_free(mxv_decision *decision);
MXV_API int mxv_decision_passed(const mxv_decision *decision);    /* 1 verified, 0 not */
MXV_API int mxv_decision_aborts(const mxv_decision *decision);    /* 1: an enforcing client stops */
MXV_API int mxv_decision_temporary(const mxv_decision *decision); /* 1: DNS failure decided it */
MXV_API mxv_mode mxv_decision_mode(const mxv_decision *decision);
/* RFC 8460-style reason of a failure ("certificate-host-mismatch", ...), NULL on pass. */
MXV_API const char *mxv_decision_reason(const mxv_decision *decision);
/* Why the chain failed ("unable to get local issuer certificate", ...), NULL when it passed. */
MXV_API const char *mxv_decision_chain_error(const mxv_decision *decision);
/*
 * The pair of identifiers that matched (policy.md section 2): the presented
 * identifier as the certificate has it and its type ("dns" for a DNS-ID,
 * "cn" for a CN-ID), the reference identifier and its source ("domain",
 * "configured", "mx", "ptr", "route"). Returns 1 and sets every non-NULL
 * pointer; 0 when nothing matched (the pointers are left alone). The
 * strings belong to the decision and live as long as it does.
 */
MXV_API int mxv_decision_match(const mxv_decision *decision, const char **presented,
                               const char **presented_type, const char **reference,
                               const char **source);
/* A malloc'd string; release with mxv_free(). */
MXV_API char *mxv_decision_format(const mxv_decision *decision, mxv_format format);
MXV_API void mxv_free(void *p);

/* --- TLS clients that can be changed: the verify-callback API --- */

/*
 * Installs mxverify's certificate verification on `ctx`: the chain is
 * checked with the program's store plus the policy's trust anchors, the
 * identity with the policy. The policy must outlive the SSL_CTX.
 */
MXV_API int mxv_ssl_ctx_enable(SSL_CTX *ctx, mxv_policy *policy, char *err, size_t errlen);
/* Context of one connection; same keys as mxv_request_set(). */
MXV_API int mxv_ssl_set(SSL *ssl, const char *key, const char *value, char *err, size_t errlen);
/* The decision of the last handshake on `ssl`, or NULL (none made, or a resumed session). */
MXV_API const mxv_decision *mxv_ssl_decision(const SSL *ssl);

MXV_API const char *mxv_mode_name(mxv_mode mode);
MXV_API const char *mxv_version(void);

#ifdef __cplusplus
}
#endif
#endif
