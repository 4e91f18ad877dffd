/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mxverify audit HOST[:PORT]`: the receiver's view (policy.md section 6).
 * Is *my* server's certificate verifiable by the strictest senders? One
 * line per check, PASS / WARN / FAIL with why: STARTTLS offered, the
 * greeting's host name, a certificate CN equal to it exactly, the chain
 * sent complete and in order, not self-signed, leading to a known CA, the
 * dates, forward-confirmed reverse DNS, and for a host name its DANE
 * TLSA records (each against what the server sends). Then, for
 * information, which sender algorithms accept the certificate.
 *
 * Exit status: 0 every check passed (WARN counts as passed), 1 one failed,
 * 2 usage or configuration, 3 the server could not be reached or DNS failed.
 */
#include "buf.h"
#include "cli.h"
#include "decision.h"
#include "postfix_match.h"
#include "smtp.h"
#include "target.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "usage: mxverify audit HOST[:PORT] [--port N] [--timeout SECONDS] [--domain D]\n"
    "                      [--ca-file F] [--ca-path D] [--unbound-conf F] [--dnssec D]\n"
    "                      [--smtp] [--json] [--conf F]\n";

enum status { PASS, WARN, FAIL };
static const char *const status_word[] = {"PASS", "WARN", "FAIL"};

typedef struct {
    bool json, color;
    mxv_buf out; /* text lines or the JSON "checks" array */
    int nchecks;
    int failed;
    int temporary; /* of the failed checks, those a DNS failure decided */
} report;

static void check(report *r, const char *name, enum status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void check(report *r, const char *name, enum status st, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (st == FAIL)
        r->failed++;
    if (r->json) {
        mxv_buf_printf(&r->out,
                       "%s{\"name\":\"%s\",\"status\":\"%s\",\"detail\":", r->nchecks ? "," : "",
                       name, status_word[st]);
        mxv_buf_json_string(&r->out, detail, strlen(detail));
        mxv_buf_puts(&r->out, "}");
    } else {
        const char *color = !r->color    ? ""
                            : st == PASS ? "\033[32m"
                            : st == WARN ? "\033[33m"
                                         : "\033[31m";
        mxv_buf_printf(&r->out, "%s%s%s  %-15s ", color, status_word[st], r->color ? "\033[0m" : "",
                       name);
        mxv_buf_printable(&r->out, detail, strlen(detail));
        mxv_buf_puts(&r->out, "\n");
    }
    r->nchecks++;
}

static bool same_name(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen && a[alen - 1] == '.')
        alen--;
    if (blen && b[blen - 1] == '.')
        blen--;
    return alen == blen && strncasecmp(a, b, alen) == 0;
}

/* Section 6.4: some CN of the subject equals the greeting name, exactly
 * (a wildcard is not an exact match). */
static void check_cn(report *r, X509 *leaf, const char *greeting)
{
    X509_NAME *subject = X509_get_subject_name(leaf);
    char first[256] = "";
    for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
        ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
        const char *cn = (const char *)ASN1_STRING_get0_data(v);
        size_t len = (size_t)ASN1_STRING_length(v);
        if (!first[0])
            snprintf(first, sizeof(first), "%.*s", (int)(len < 255 ? len : 255), cn);
        if (greeting[0] && memchr(cn, '*', len) == NULL && strlen(cn) == len &&
            same_name(cn, len, greeting)) {
            check(r, "cn-greeting", PASS, "CN %s is the greeting name", greeting);
            return;
        }
    }
    if (!first[0])
        check(r, "cn-greeting", FAIL, "the certificate has no CN");
    else if (strchr(first, '*'))
        check(r, "cn-greeting", FAIL, "CN %s is a wildcard, not the greeting name %s exactly",
              first, greeting[0] ? greeting : "(none)");
    else
        check(r, "cn-greeting", FAIL, "CN %s is not the greeting name %s", first,
              greeting[0] ? greeting : "(none)");
}

/* Section 6.5: the chain as sent, each certificate issued by the next. */
static void check_chain(report *r, STACK_OF(X509) * sent, const mxv_decision *d)
{
    int n = sk_X509_num(sent);
    X509 *leaf = sk_X509_value(sent, 0);
    bool ordered = true;
    for (int i = 0; i + 1 < n; i++)
        ordered &=
            X509_check_issued(sk_X509_value(sent, i + 1), sk_X509_value(sent, i)) == X509_V_OK;
    bool self_signed = X509_check_issued(leaf, leaf) == X509_V_OK;
    if (!ordered)
        check(r, "chain-order", FAIL, "%d certificates sent, not each issued by the next", n);
    else if (n == 1)
        check(r, "chain-order", PASS, "the server certificate alone (no intermediate sent)");
    else
        check(r, "chain-order", PASS, "%d certificates sent, each issued by the next", n);
    check(r, "self-signed", self_signed ? FAIL : PASS, "%s",
          self_signed ? "the server certificate is self-signed" : "the leaf is not self-signed");
    const char *chain_error = mxv_decision_chain_error(d);
    char issuer[256];
    X509_NAME_oneline(X509_get_issuer_name(sk_X509_value(sent, n - 1)), issuer, sizeof(issuer));
    if (!chain_error)
        check(r, "chain-trust", PASS, "leads to a trusted CA (%s)", issuer);
    else
        check(r, "chain-trust", FAIL, "%s", chain_error); /* says when no intermediate came */
}

/* The dates: valid now, and a warning within 30 days of the end. */
static void check_dates(report *r, X509 *leaf)
{
    int days = 0, secs = 0;
    const ASN1_TIME *end = X509_get0_notAfter(leaf);
    if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
        check(r, "validity", FAIL, "not valid yet");
        return;
    }
    if (!ASN1_TIME_diff(&days, &secs, NULL, end) || days < 0 || (days == 0 && secs < 0)) {
        check(r, "validity", FAIL, "expired");
        return;
    }
    struct tm tm;
    char when[32] = "?";
    if (ASN1_TIME_to_tm(end, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d", &tm);
    check(r, "validity", days < 30 ? WARN : PASS, "valid until %s (%d days left%s)", when, days,
          days < 30 ? ": renew soon" : "");
}

/* The same address, whatever its text form ("2001:DB8::1" = "2001:db8::1"). */
static bool same_address(const char *a, const char *b)
{
    unsigned char x[16], y[16];
    int family = strchr(a, ':') ? AF_INET6 : AF_INET;
    return inet_pton(family, a, x) == 1 && inet_pton(family, b, y) == 1 &&
           memcmp(x, y, family == AF_INET6 ? 16 : 4) == 0;
}

/* Section 6.1: A(PTR(IP)) = IP. A lookup that failed is temporary, never a
 * "no": only a DNS answer makes this check fail for good. */
static void check_fcrdns(report *r, mxv_policy *policy, const char *ip)
{
    char err[512], fwd_err[512] = "", **names = NULL;
    size_t n = 0;
    int rc = mxv_lookup_ptr(policy, ip, &names, &n, err, sizeof(err));
    if (rc < 0) {
        r->temporary++;
        check(r, "fcrdns", FAIL, "PTR lookup of %s failed: %s (temporary)", ip, err);
    } else if (rc == 0) {
        check(r, "fcrdns", FAIL, "%s has no PTR record", ip);
    } else {
        bool confirmed = false;
        for (size_t i = 0; i < n && !confirmed; i++) {
            char **addrs = NULL;
            size_t na = 0;
            int frc = mxv_lookup_addresses(policy, names[i], &addrs, &na, err, sizeof(err));
            if (frc < 0 && !fwd_err[0])
                snprintf(fwd_err, sizeof(fwd_err), "%s", err);
            for (size_t k = 0; frc > 0 && k < na && !confirmed; k++)
                if (same_address(addrs[k], ip)) {
                    confirmed = true;
                    check(r, "fcrdns", PASS, "%s -> %s -> %s", ip, names[i], ip);
                }
            mxv_free_list(addrs);
        }
        if (!confirmed && fwd_err[0]) {
            r->temporary++;
            check(r, "fcrdns", FAIL, "forward lookup of the PTR name failed: %s (temporary)",
                  fwd_err);
        } else if (!confirmed) {
            check(r, "fcrdns", FAIL, "PTR %s -> %s is not forward-confirmed", ip, names[0]);
        }
    }
    mxv_free_list(names);
}

/* One sender algorithm on this certificate: "pass", "fail" or "n/a". */
static const char *algorithm(mxv_policy *policy, const char *mode, const char *domain,
                             const char *route, const char *ip, X509 *leaf, STACK_OF(X509) * rest)
{
    char err[256];
    mxv_request *req = mxv_request_new();
    if (!req || (domain && !mxv_request_set(req, "domain", domain, err, sizeof(err))) ||
        (route && !mxv_request_set(req, "route", route, err, sizeof(err))) ||
        !mxv_request_set(req, "ip", ip, err, sizeof(err)) ||
        !mxv_policy_set(policy, "mode", mode, err, sizeof(err))) {
        mxv_request_free(req);
        return "n/a";
    }
    mxv_decision *d = mxv_decide(policy, req, leaf, rest);
    const char *verdict = mxv_decision_passed(d) ? "pass" : "fail";
    mxv_decision_free(d);
    mxv_request_free(req);
    return verdict;
}

/* The names a certificate presents equal to the greeting name, no wildcard. */
static bool greeting_exact(X509 *leaf, const char *greeting)
{
    if (!greeting[0])
        return false;
    if (X509_check_host(leaf, greeting, 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1)
        return true;
    X509_NAME *subject = X509_get_subject_name(leaf);
    for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
        ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
        size_t len = (size_t)ASN1_STRING_length(v);
        const char *cn = (const char *)ASN1_STRING_get0_data(v);
        if (strlen(cn) == len && !memchr(cn, '*', len) && same_name(cn, len, greeting))
            return true;
    }
    return false;
}

static const char *pass_if(bool ok)
{
    return ok ? "pass" : "fail";
}

static void algorithms(report *r, mxv_policy *policy, const target *t, const char *domain,
                       const char *ip, const char *greeting, STACK_OF(X509) * sent, bool trusted)
{
    X509 *leaf = sk_X509_value(sent, 0);
    STACK_OF(X509) *rest = sk_X509_new_null();
    for (int i = 1; i < sk_X509_num(sent); i++)
        sk_X509_push(rest, sk_X509_value(sent, i));
    const char *host = target_is_ip(t->host) ? NULL : t->host;
    struct {
        const char *name, *verdict, *what;
    } rows[] = {
        {"verify",
         domain ? algorithm(policy, "required-verify", domain, NULL, ip, leaf, rest) : "n/a",
         "ESA Required - Verify: domain, PTR names for the CN"},
        {"hosted",
         domain ? algorithm(policy, "required-verify-hosted", domain, NULL, ip, leaf, rest) : "n/a",
         "ESA Verify Hosted Domains: domain, MX, PTR"},
        {"greeting-exact", pass_if(greeting_exact(leaf, greeting)),
         "a name equal to the greeting name, no wildcard"},
        /* Postfix's own matching rules, not RFC 6125's (postfix_match.h). */
        {"postfix-verify", host ? pass_if(trusted && postfix_verify_matches(leaf, host)) : "n/a",
         "the MX host name, as Postfix 'verify' (a wildcard may cover several labels)"},
        {"postfix-secure",
         domain ? pass_if(trusted && postfix_secure_matches(leaf, domain)) : "n/a",
         "the recipient domain or a subdomain of it, as Postfix 'secure'"},
    };
    sk_X509_free(rest);
    if (r->json) {
        mxv_buf_puts(&r->out, "],\"algorithms\":{");
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
            mxv_buf_printf(&r->out, "%s\"%s\":\"%s\"", i ? "," : "", rows[i].name, rows[i].verdict);
        mxv_buf_puts(&r->out, "}");
        return;
    }
    mxv_buf_puts(&r->out, "\nSender algorithms (informational, not part of the exit status):\n");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        mxv_buf_printf(&r->out, "  %-15s %-5s %s%s\n", rows[i].name, rows[i].verdict, rows[i].what,
                       strcmp(rows[i].verdict, "n/a") != 0 ? ""
                       : i == 3                            ? " (needs a host name, not an IP)"
                                                           : " (needs --domain)");
}

/* Section 6.2: a fully qualified host name: labels of 1 to 63 letters,
 * digits and hyphens (no hyphen at either end), at least two, the last not
 * all digits, so an address, bare or as an [address literal], is not one. */
/* DANE (RFC 7672): does the TLSA RRset this server's host publishes
 * match what it serves? One check for the whole, one per record: the
 * current key matches; a usable record that matches nothing served is
 * the next key of a rollover, or stale. */
static void check_dane(report *r, mxv_policy *policy, const target *t, const char *ip, X509 *leaf,
                       STACK_OF(X509) * rest)
{
    char err[300], port[8];
    if (target_is_ip(t->host))
        return; /* no host name, no TLSA name */
    snprintf(port, sizeof(port), "%d", t->port);
    mxv_request *req = mxv_request_new();
    if (!req || !mxv_request_set(req, "host", t->host, err, sizeof(err)) ||
        !mxv_request_set(req, "port", port, err, sizeof(err)) ||
        !mxv_request_set(req, "ip", ip, err, sizeof(err)) ||
        !mxv_policy_set(policy, "dane", "on", err, sizeof(err))) {
        check(r, "dane", FAIL, "cannot check DANE: %s", req ? err : "out of memory");
        mxv_request_free(req);
        return;
    }
    req->each_tlsa = true;
    mxv_decision *d = mxv_decide(policy, req, leaf, rest);
    char name[16];
    switch (d ? d->dane_outcome : MXV_DANE_FAILURE) {
    case MXV_DANE_NOT_ASKED:
    case MXV_DANE_NO_DANE:
        check(r, "dane", PASS, "no DANE for %s: %s", t->host, d->dane_why ? d->dane_why : "-");
        break;
    case MXV_DANE_ENCRYPT:
        check(r, "dane", WARN,
              "only unusable TLSA records at _%d._tcp.%s: senders doing DANE require TLS and "
              "authenticate nothing by them (SMTP uses DANE-TA(2) and DANE-EE(3) only)",
              t->port, d->dane_base ? d->dane_base : t->host);
        break;
    case MXV_DANE_DECIDED:
        if (d->pass)
            check(r, "dane", PASS, "DANE: %s %u %u matched what the server sends (TLSA base %s)",
                  mxv_tlsa_usage_name(d->tlsa_usage, name), d->tlsa_selector, d->tlsa_mtype,
                  d->dane_base ? d->dane_base : t->host);
        else
            check(r, "dane", FAIL, "DANE senders refuse this server: %s (%s)", d->reason,
                  d->why ? d->why : "-");
        break;
    case MXV_DANE_FAILURE:
        if (d && d->dane_unanchored) { /* the sender's set-up, not the server's fault */
            check(r, "dane", WARN,
                  "not checked: mxverify's resolver has no DNSSEC trust anchor (dns-root-data "
                  "missing, or unbound_conf names none)");
            break;
        }
        r->temporary += d && d->temporary;
        check(r, "dane", FAIL, "%s: %s", d ? d->reason : "tlsa-invalid",
              d && d->why ? d->why : "cannot check DANE: out of memory");
        break;
    }
    for (size_t i = 0; d && i < d->tlsa_each.n; i++) {
        const char *line = d->tlsa_each.items[i];
        check(r, "tlsa", line[0] == '+' ? PASS : WARN, "%s", line + 2);
    }
    mxv_decision_free(d);
    mxv_request_free(req);
    mxv_policy_set(policy, "dane", "off", err, sizeof(err)); /* the algorithms below: PKIX */
}

static bool is_host_name(const char *name)
{
    size_t len = strlen(name), labels = 0, start = 0;
    if (len && name[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return false;
    bool digits_only = true;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && name[i] != '.') {
            if (!isalnum((unsigned char)name[i]) && name[i] != '-')
                return false;
            digits_only &= isdigit((unsigned char)name[i]) != 0;
            continue;
        }
        if (i == start || i - start > 63 || name[start] == '-' || name[i - 1] == '-')
            return false;
        labels++;
        start = i + 1;
        if (i == len && digits_only)
            return false;
        digits_only = true;
    }
    return labels >= 2;
}

/* Connects and runs every check; returns the exit status. */
static int audit(report *r, mxv_policy *policy, const target *t, const char *domain, int timeout_ms,
                 bool show_smtp)
{
    char err[512], **addrs = NULL;
    size_t naddrs = 0;
    if (target_is_ip(t->host)) {
        addrs = calloc(2, sizeof(char *));
        if (addrs)
            addrs[0] = strdup(t->host);
        naddrs = addrs && addrs[0] ? 1 : 0;
    } else if (mxv_lookup_addresses(policy, t->host, &addrs, &naddrs, err, sizeof(err)) <= 0) {
        cli_error("audit: no address for %s: %s", t->host, err);
        mxv_free_list(addrs);
        return EXIT_TEMPORARY;
    }
    smtp_session s = {.show = show_smtp};
    const char *ip = NULL;
    for (size_t i = 0; i < naddrs && !ip; i++) {
        if (smtp_connect(&s, addrs[i], t->port, timeout_ms))
            ip = addrs[i];
        else
            smtp_close(&s);
    }
    if (!ip || !smtp_hello(&s)) {
        cli_error("audit: %s:%d: %s", t->host, t->port, s.error[0] ? s.error : "cannot connect");
        smtp_close(&s);
        mxv_free_list(addrs);
        return EXIT_TEMPORARY;
    }
    if (!r->json)
        mxv_buf_printf(&r->out, "Audit of %s [%s]:%d\n\n", t->host, ip, t->port);
    else {
        mxv_buf_puts(&r->out, "\"server\":");
        mxv_buf_json_string(&r->out, t->host, strlen(t->host));
        mxv_buf_printf(&r->out, ",\"address\":\"%s\",\"port\":%d,\"greeting\":", ip, t->port);
        mxv_buf_json_string(&r->out, s.greeting, strlen(s.greeting));
        mxv_buf_puts(&r->out, ",\"checks\":[");
    }
    check(r, "starttls", s.starttls ? PASS : FAIL, "%s",
          s.starttls ? "STARTTLS offered" : "STARTTLS not offered: no sender can use TLS");
    bool valid_greeting = is_host_name(s.greeting);
    check(r, "greeting", valid_greeting ? PASS : FAIL, "%s%s",
          s.greeting[0] ? s.greeting : "no host name in the greeting",
          s.greeting[0] && !valid_greeting ? " is not a fully qualified host name" : "");
    SSL_CTX *ctx = NULL;
    int status = EXIT_VERIFIED;
    if (s.starttls && (ctx = target_probe_ctx()) &&
        smtp_starttls(&s, ctx, target_is_ip(t->host) ? NULL : t->host)) {
        STACK_OF(X509) *sent = SSL_get_peer_cert_chain(s.ssl);
        X509 *leaf = sk_X509_value(sent, 0);
        STACK_OF(X509) *rest = sk_X509_new_null();
        for (int i = 1; i < sk_X509_num(sent); i++)
            sk_X509_push(rest, sk_X509_value(sent, i));
        mxv_request *req = mxv_request_new();
        mxv_policy_set(policy, "mode", "required-verify-hosted", err, sizeof(err));
        /* The chain as a PKIX sender sees it: DANE is the next check's. */
        mxv_policy_set(policy, "dane", "off", err, sizeof(err));
        mxv_decision *d = mxv_decide(policy, req, leaf, rest);
        sk_X509_free(rest);
        check_cn(r, leaf, s.greeting);
        check_chain(r, sent, d);
        check_dates(r, leaf);
        bool trusted = mxv_decision_chain_error(d) == NULL;
        mxv_decision_free(d);
        mxv_request_free(req);
        check_fcrdns(r, policy, ip);
        rest = sk_X509_new_null();
        for (int i = 1; i < sk_X509_num(sent); i++)
            sk_X509_push(rest, sk_X509_value(sent, i));
        check_dane(r, policy, t, ip, leaf, rest);
        sk_X509_free(rest);
        algorithms(r, policy, t, domain, ip, s.greeting, sent, trusted);
    } else {
        if (s.starttls)
            check(r, "tls", FAIL, "TLS handshake failed: %s", s.error);
        check_fcrdns(r, policy, ip);
        check_dane(r, policy, t, ip, NULL, NULL);
        if (r->json)
            mxv_buf_puts(&r->out, "],\"algorithms\":null");
    }
    /* 3 only when a DNS failure is all that kept a check from passing. */
    status = !r->failed                  ? EXIT_VERIFIED
             : r->failed == r->temporary ? EXIT_TEMPORARY
                                         : EXIT_NOT_VERIFIED;
    if (!r->json)
        mxv_buf_printf(&r->out, "\nResult: %d of %d checks failed\n", r->failed, r->nchecks);
    else
        mxv_buf_printf(&r->out, ",\"failed\":%d,\"passed\":%s}", r->failed,
                       r->failed ? "false" : "true");
    smtp_close(&s);
    SSL_CTX_free(ctx);
    mxv_free_list(addrs);
    return status;
}

int cmd_audit(int argc, char **argv)
{
    enum { OPT_PORT = 0x200, OPT_TIMEOUT, OPT_SMTP };
    struct option options[40];
    size_t n = cli_options(options, 32);
    options[n++] = (struct option){"port", required_argument, NULL, OPT_PORT};
    options[n++] = (struct option){"timeout", required_argument, NULL, OPT_TIMEOUT};
    options[n++] = (struct option){"smtp", no_argument, NULL, OPT_SMTP};
    options[n++] = (struct option){"help", no_argument, NULL, 'h'};
    options[n] = (struct option){NULL, 0, NULL, 0};

    cli_common c = {.request = mxv_request_new()};
    int port = 25, timeout_ms = 30000, opt;
    bool error = false, show_smtp = false;
    const char *domain = NULL;
    optind = 1;
    while (!error && (opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'h': {
            static const char *const own[][2] = {
                {"HOST[:PORT]", "the server to audit (a host name: its DANE records too)"},
                {"--port N", "the port (default 25)"},
                {"--domain D", "a recipient domain it serves, for the hosted algorithm"},
                {"--timeout S", "seconds for each network step (default 30)"},
                {"--smtp", "show the SMTP exchange on standard error"},
                {NULL, NULL}};
            cli_help(usage, own, true);
            mxv_request_free(c.request);
            return EXIT_VERIFIED;
        }
        case OPT_PORT:
            port = (int)strtol(optarg, &end, 10);
            error = *end || port < 1 || port > 65535;
            if (error)
                cli_error("--port: \"%s\" is not a TCP port", optarg);
            break;
        case OPT_TIMEOUT: {
            double sec = strtod(optarg, &end);
            error = *end || sec <= 0 || sec > 600;
            if (error)
                cli_error("--timeout: \"%s\" is not a number of seconds", optarg);
            timeout_ms = (int)(sec * 1000);
            break;
        }
        case OPT_SMTP:
            show_smtp = true;
            break;
        default:
            if (!cli_take_option(&c, opt, optarg, &error))
                error = true;
            else if (cli_option_is(opt, "domain"))
                domain = optarg;
        }
    }
    target t;
    if (!error && (optind != argc - 1 || !target_parse(argv[optind], port, &t))) {
        cli_error("audit: one HOST[:PORT] is required");
        error = true;
    }
    /* The DANE check needs a resolver that never takes answers stripped of
     * DNSSEC for insecure (policy_runtime.c): DANE is on from the start,
     * before the resolver is built; the PKIX checks turn it off for their
     * own decisions. */
    if (!error && c.nsettings < (int)(sizeof(c.settings) / sizeof(c.settings[0])))
        c.settings[c.nsettings++] = (typeof(c.settings[0])){"dane", "dane", "on"};
    mxv_policy *policy = error ? NULL : cli_load_policy(&c, "required-verify-hosted");
    mxv_request_free(c.request);
    if (!policy) {
        if (error)
            fputs(usage, stderr);
        return EXIT_USAGE;
    }
    /* "user@example.com" is accepted like elsewhere: the domain part. */
    if (domain && strchr(domain, '@'))
        domain = strrchr(domain, '@') + 1;
    report r = {.json = c.json, .color = cli_color() && !c.json};
    if (r.json)
        mxv_buf_puts(&r.out, "{");
    int status = audit(&r, policy, &t, domain, timeout_ms, show_smtp);
    char *text = mxv_buf_finish(&r.out);
    if (text && (status != EXIT_TEMPORARY || r.nchecks))
        fputs(text, stdout);
    if (r.json && text && (status != EXIT_TEMPORARY || r.nchecks))
        fputs("\n", stdout);
    free(text);
    mxv_policy_free(policy);
    return status;
}
