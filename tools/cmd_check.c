/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mxverify check DOMAIN`: what an ESA-style sender decides delivering to
 * DOMAIN. For each MX in preference order (or the --server, or the
 * --route hosts): connect, greeting, EHLO, STARTTLS, handshake capturing
 * the chain the server sends, then the decision of `explain` on it.
 *
 * Exit status: 0 every server verified (or the mode does not verify),
 * 1 one was not verified (or offered no STARTTLS where TLS is required),
 * 2 usage, 3 temporary (DNS failure, no server reachable).
 */
#include "buf.h"
#include "cli.h"
#include "decision.h"
#include "smtp.h"
#include "target.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: mxverify check DOMAIN [--server HOST[:PORT]] [--port N] [--timeout SECONDS]\n"
    "                      [--mode M] [--mx H]... [--route R]... [--reference N]...\n"
    "                      [--ca-file F] [--ca-path D] [--unbound-conf F] [--dnssec D]\n"
    "                      [--dane off|on|require] [--smtp] [--trace] [--json] [--conf F]\n";

typedef struct {
    bool json, trace, color;
    int timeout_ms;
    mxv_mode mode;
} check_options;

enum outcome { VERIFIED, NOT_VERIFIED, TEMPORARY };

static const char *paint(const check_options *o, const char *color)
{
    return o->color ? color : "";
}
#define GREEN "\033[32m"
#define RED   "\033[31m"
#define PLAIN "\033[0m"

/* none, preferred and required use TLS without checking the certificate. */
static bool checks_certificate(mxv_mode mode)
{
    return mode == MXV_MODE_PREFERRED_VERIFY || mode == MXV_MODE_REQUIRED_VERIFY ||
           mode == MXV_MODE_REQUIRED_VERIFY_HOSTED;
}

/* Did DANE decide (policy=dane)? */
static bool dane_decided(const mxv_decision *d)
{
    return d && (d->dane_outcome == MXV_DANE_DECIDED || d->dane_outcome == MXV_DANE_FAILURE);
}

/* "DANE-EE(3) matched", "DANE-TA(2) matched, name mx1.example.net", for
 * the verdict line of a server DANE decided. */
static void dane_words(const mxv_decision *d, char *out, size_t len)
{
    char name[16];
    const char *presented, *reference, *source;
    if (d->dane_outcome == MXV_DANE_FAILURE) { /* no evidence, or none where required */
        snprintf(out, len, "%s", d->why ? d->why : "no DANE evidence");
        return;
    }
    if (!d->tlsa_matched) {
        snprintf(out, len, "no TLSA record matched");
        return;
    }
    int n = snprintf(out, len, "%s matched", mxv_tlsa_usage_name(d->tlsa_usage, name));
    if (n > 0 && (size_t)n < len && mxv_decision_match(d, &presented, NULL, &reference, &source))
        snprintf(out + n, len - (size_t)n, ", %s ~ %s %s", presented, source, reference);
}

/* Did an enforced MTA-STS policy decide (policy=sts)? */
static bool sts_decided(const mxv_decision *d)
{
    return d && d->sts_outcome == MXV_STS_ENFORCED;
}

/* "MTA-STS enforce: mx pattern *.example.net, matched DNS-ID mx1.example.net",
 * or what failed, for the verdict line. */
static void sts_words(const mxv_decision *d, char *out, size_t len)
{
    if (mxv_decision_passed(d)) {
        snprintf(out, len, "MTA-STS enforce: mx pattern %s, matched",
                 d->sts_pattern ? d->sts_pattern : "?");
        return;
    }
    snprintf(out, len, "MTA-STS enforce: %s: %s", d->reason ? d->reason : "failed",
             d->why ? d->why : "refused");
}

/* The server offers no STARTTLS: may mail go in clear? Not where the mode
 * requires TLS, nor where DANE does (a decision without a certificate
 * says whether DANE found TLSA records; `why` then). */
static bool clear_text_refused(const check_options *o, mxv_policy *policy, mxv_request *req,
                               char *why, size_t len)
{
    *why = '\0';
    if (o->mode != MXV_MODE_NONE && o->mode != MXV_MODE_PREFERRED &&
        o->mode != MXV_MODE_PREFERRED_VERIFY)
        return true;
    mxv_decision *d = mxv_decide(policy, req, NULL, NULL);
    bool refused =
        d && (d->dane_outcome == MXV_DANE_DECIDED || d->dane_outcome == MXV_DANE_ENCRYPT ||
              d->dane_outcome == MXV_DANE_FAILURE);
    if (refused)
        snprintf(why, len, " (DANE: %s)",
                 d->dane_outcome == MXV_DANE_FAILURE && d->why ? d->why
                                                               : "TLSA records make TLS mandatory");
    else if (d && sts_decided(d))
        snprintf(why, len, " (MTA-STS: the domain's policy, id %s, is enforce)", d->sts_id);
    refused = refused || (d && sts_decided(d));
    mxv_decision_free(d);
    return refused;
}

/* Probes one server; prints its progress and verdict lines. */
static enum outcome probe(const check_options *o, mxv_policy *policy, mxv_request *req,
                          const target *t, bool show_smtp, mxv_buf *json)
{
    char err[512];
    char **addrs = NULL;
    size_t naddrs = 0;
    if (target_is_ip(t->host)) {
        addrs = calloc(2, sizeof(char *));
        addrs[0] = strdup(t->host);
        naddrs = 1;
    } else {
        int rc = mxv_lookup_addresses(policy, t->host, &addrs, &naddrs, err, sizeof(err));
        if (rc <= 0) {
            /* No address at all is a definite answer (the name does not
             * exist, or has no A/AAAA): no mail can go there. A lookup that
             * failed is temporary. */
            enum outcome r = rc == 0 ? NOT_VERIFIED : TEMPORARY;
            char why[600];
            snprintf(why, sizeof(why), "%.300s: %.290s", t->host,
                     rc == 0 ? "no such host (no A or AAAA record): no mail can be delivered"
                             : err);
            if (!o->json) {
                printf("%s%s%s\n", paint(o, RED), why, paint(o, PLAIN));
            } else {
                mxv_buf_puts(json, "{\"host\":");
                mxv_buf_json_string(json, t->host, strlen(t->host));
                mxv_buf_printf(json, ",\"result\":\"%s\",\"summary\":",
                               r == TEMPORARY ? "temporary" : "failed");
                mxv_buf_json_string(json, why, strlen(why));
                mxv_buf_puts(json, ",\"decision\":null}");
            }
            mxv_free_list(addrs);
            return r;
        }
    }
    smtp_session s = {.show = show_smtp};
    enum outcome result = TEMPORARY;
    const char *connected = NULL;
    for (size_t i = 0; i < naddrs && !connected; i++) {
        if (!o->json)
            printf("Connecting to %s [%s]:%d ...\n", t->host, addrs[i], t->port);
        fflush(stdout);
        if (smtp_connect(&s, addrs[i], t->port, o->timeout_ms))
            connected = addrs[i];
        else if (!o->json)
            printf("  %s\n", s.error);
        if (!connected)
            smtp_close(&s);
    }
    mxv_decision *d = NULL;
    SSL_CTX *ctx = NULL;
    char line[1024] = "";
    /* DANE's TLSA base domain and port: this server's. */
    char port[8];
    snprintf(port, sizeof(port), "%d", t->port);
    mxv_request_set(req, "port", port, err, sizeof(err));
    /* An address has no name: the previous target's must not stay. */
    mxv_request_set(req, "host", target_is_ip(t->host) ? "" : t->host, err, sizeof(err));
    if (connected)
        mxv_request_set(req, "ip", connected, err, sizeof(err));
    if (!connected) {
        snprintf(line, sizeof(line), "Connection failed to %s: %s", t->host, s.error);
    } else if (!smtp_hello(&s)) {
        snprintf(line, sizeof(line), "SMTP error from %s [%s]: %s", t->host, connected, s.error);
    } else if (!s.starttls) {
        char why[400];
        bool needed = clear_text_refused(o, policy, req, why, sizeof(why));
        snprintf(line, sizeof(line), "STARTTLS not offered by %s [%s]: %s%s", t->host, connected,
                 needed ? "no mail would be sent" : "mail would go in clear", why);
        result = needed ? NOT_VERIFIED : VERIFIED;
    } else if (!(ctx = target_probe_ctx()) ||
               !smtp_starttls(&s, ctx, target_is_ip(t->host) ? NULL : t->host)) {
        snprintf(line, sizeof(line), "TLS failed with %s [%s]: %s", t->host, connected, s.error);
    } else {
        STACK_OF(X509) *sent = SSL_get_peer_cert_chain(s.ssl);
        STACK_OF(X509) *rest = sk_X509_new_null();
        for (int i = 1; i < sk_X509_num(sent); i++)
            sk_X509_push(rest, sk_X509_value(sent, i));
        /* The request holds the domain and --mx/--route/--reference; the
         * connected host, address and port are this probe's. */
        d = mxv_decide(policy, req, sk_X509_value(sent, 0), rest);
        sk_X509_free(rest);
        result = mxv_decision_passed(d)      ? VERIFIED
                 : mxv_decision_temporary(d) ? TEMPORARY
                                             : NOT_VERIFIED;
        /* "*.example.net ~ ptr mx1.example.net", the words mail people read. */
        const char *presented, *reference, *source, *reason = mxv_decision_reason(d);
        char matched[600] = "";
        if (mxv_decision_match(d, &presented, NULL, &reference, &source))
            snprintf(matched, sizeof(matched), "matched %s ~ %s %s", presented, source, reference);
        char dane[600];
        if (dane_decided(d))
            dane_words(d, dane, sizeof(dane));
        else if (sts_decided(d))
            sts_words(d, dane, sizeof(dane));
        if (dane_decided(d) && mxv_decision_passed(d))
            snprintf(line, sizeof(line), "Verified TLS connection established to %s [%s]: %s (%s)",
                     t->host, connected, dane, SSL_get_version(s.ssl));
        else if (dane_decided(d))
            snprintf(line, sizeof(line),
                     "Untrusted TLS connection established to %s [%s]: DANE %s: %s%s", t->host,
                     connected, reason ? reason : "failed", dane,
                     mxv_decision_aborts(d) ? " (no mail would be sent)" : "");
        else if (sts_decided(d) && mxv_decision_passed(d))
            snprintf(line, sizeof(line), "Verified TLS connection established to %s [%s]: %s (%s)",
                     t->host, connected, dane, SSL_get_version(s.ssl));
        else if (sts_decided(d))
            snprintf(line, sizeof(line), "Untrusted TLS connection established to %s [%s]: %s%s",
                     t->host, connected, dane,
                     mxv_decision_aborts(d) ? " (no mail would be sent)" : "");
        else if (!checks_certificate(o->mode))
            snprintf(line, sizeof(line),
                     "TLS connection established to %s [%s]: certificate not checked (mode %s) "
                     "(%s)",
                     t->host, connected, mxv_mode_name(o->mode), SSL_get_version(s.ssl));
        else if (mxv_decision_passed(d))
            snprintf(line, sizeof(line), "Verified TLS connection established to %s [%s]: %s (%s)",
                     t->host, connected, matched, SSL_get_version(s.ssl));
        else /* Postfix's words: Trusted is a good chain, whatever the name */
            snprintf(line, sizeof(line), "%s TLS connection established to %s [%s]: %s%s",
                     mxv_decision_chain_error(d) ? "Untrusted" : "Trusted", t->host, connected,
                     reason ? reason : "not verified",
                     mxv_decision_aborts(d) ? " (an enforcing sender would not deliver)" : "");
    }
    if (!o->json) {
        printf("%s%s%s\n", paint(o, result == VERIFIED ? GREEN : RED), line, paint(o, PLAIN));
        if (o->trace && d) {
            char *trace = mxv_decision_format(d, MXV_FORMAT_TEXT);
            printf("\n%s\n", trace ? trace : "");
            mxv_free(trace);
        }
    } else {
        char *dj = d ? mxv_decision_format(d, MXV_FORMAT_JSON) : NULL;
        /* Everything the server said is untrusted: escaped as JSON. */
        mxv_buf_puts(json, "{\"host\":");
        mxv_buf_json_string(json, t->host, strlen(t->host));
        mxv_buf_puts(json, ",\"address\":");
        if (connected)
            mxv_buf_json_string(json, connected, strlen(connected));
        else
            mxv_buf_puts(json, "null");
        mxv_buf_printf(json, ",\"port\":%d,\"greeting\":", t->port);
        mxv_buf_json_string(json, s.greeting, strlen(s.greeting));
        mxv_buf_printf(
            json, ",\"starttls\":%s,\"result\":\"%s\",\"summary\":", s.starttls ? "true" : "false",
            result == VERIFIED    ? "verified"
            : result == TEMPORARY ? "temporary"
                                  : "failed");
        mxv_buf_json_string(json, line, strlen(line));
        mxv_buf_printf(json, ",\"decision\":%s}", dj ? dj : "null");
        mxv_free(dj);
    }
    mxv_decision_free(d);
    smtp_close(&s);
    SSL_CTX_free(ctx);
    mxv_free_list(addrs);
    return result;
}

static bool add_target(target *targets, size_t *n, size_t cap, const char *text, int port)
{
    if (*n == cap)
        return false;
    return target_parse(text, port, &targets[(*n)++]);
}

int cmd_check(int argc, char **argv)
{
    enum { OPT_SERVER = 0x200, OPT_PORT, OPT_TIMEOUT, OPT_SMTP, OPT_TRACE };
    struct option options[40];
    size_t n = cli_options(options, 32);
    options[n++] = (struct option){"server", required_argument, NULL, OPT_SERVER};
    options[n++] = (struct option){"port", required_argument, NULL, OPT_PORT};
    options[n++] = (struct option){"timeout", required_argument, NULL, OPT_TIMEOUT};
    options[n++] = (struct option){"smtp", no_argument, NULL, OPT_SMTP};
    options[n++] = (struct option){"trace", no_argument, NULL, OPT_TRACE};
    options[n++] = (struct option){"help", no_argument, NULL, 'h'};
    options[n] = (struct option){NULL, 0, NULL, 0};

    cli_common c = {.request = mxv_request_new()};
    check_options o = {.timeout_ms = 30000, .color = cli_color()};
    const char *server = NULL, *mx_opts[32], *route_opts[32];
    size_t nmx = 0, nroute = 0;
    int port = 25;
    bool error = false, show_smtp = false;
    int opt;
    optind = 1;
    while (!error && (opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'h': {
            static const char *const own[][2] = {
                {"DOMAIN", "the recipient domain whose MX servers are probed"},
                {"--server HOST[:PORT]", "probe this server instead of the MX hosts"},
                {"--port N", "the port (default 25)"},
                {"--timeout S", "seconds for each network step (default 30)"},
                {"--smtp", "show the SMTP exchange on standard error"},
                {"--trace", "the explain trace of each decision"},
                {NULL, NULL}};
            cli_help(usage, own, true);
            mxv_request_free(c.request);
            return EXIT_VERIFIED;
        }
        case OPT_SERVER:
            server = optarg;
            break;
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
            o.timeout_ms = (int)(sec * 1000);
            break;
        }
        case OPT_SMTP:
            show_smtp = true;
            break;
        case OPT_TRACE:
            o.trace = true;
            break;
        default:
            /* --mx and --route also name the servers to probe. */
            if (!cli_take_option(&c, opt, optarg, &error))
                error = true;
            else if (cli_option_is(opt, "mx") && nmx < 32)
                mx_opts[nmx++] = optarg;
            else if (cli_option_is(opt, "route") && nroute < 32)
                route_opts[nroute++] = optarg;
        }
    }
    const char *domain = !error && optind == argc - 1 ? argv[optind] : NULL;
    if (!error && !domain) {
        cli_error("check: one DOMAIN is required");
        error = true;
    }
    char err[512];
    if (!error && !mxv_request_set(c.request, "domain", domain, err, sizeof(err))) {
        cli_error("check: %s", err);
        error = true;
    }
    /* An address works too: the domain is the request's, normalised. */
    if (!error)
        domain = c.request->domain;
    o.json = c.json;
    mxv_policy *policy = error ? NULL : cli_load_policy(&c, "required-verify-hosted");
    if (!policy) {
        if (error)
            fputs(usage, stderr);
        mxv_request_free(c.request);
        return EXIT_USAGE;
    }
    /* The mode in force for this domain decides what "STARTTLS missing" means. */
    o.mode = mxv_policy_mode(policy, domain);

    target targets[64];
    size_t ntargets = 0;
    int status = EXIT_VERIFIED;
    bool bad = false, null_mx = false;
    if (server) {
        bad = !add_target(targets, &ntargets, 64, server, port);
    } else if (nroute || nmx) {
        for (size_t i = 0; i < nroute && !bad; i++)
            bad = !add_target(targets, &ntargets, 64, route_opts[i], port);
        for (size_t i = 0; i < nmx && !bad; i++)
            bad = !add_target(targets, &ntargets, 64, mx_opts[i], port);
    } else {
        char **hosts = NULL;
        size_t nhosts = 0;
        int rc = mxv_lookup_mx(policy, domain, &hosts, &nhosts, err, sizeof(err));
        if (rc < 0) {
            cli_error("check: MX lookup of %s failed: %s (temporary)", domain, err);
            status = EXIT_TEMPORARY;
        } else if (rc == 0 && strstr(err, "null MX")) {
            null_mx = true; /* RFC 7505: no mail goes there, no implicit MX either */
        } else if (rc == 0) {
            bad = !add_target(targets, &ntargets, 64, domain, port); /* implicit MX */
        }
        for (size_t i = 0; i < nhosts && !bad && ntargets < 64; i++)
            bad = !add_target(targets, &ntargets, 64, hosts[i], port);
        mxv_free_list(hosts);
    }
    if (bad) {
        cli_error("check: bad server or route");
        status = EXIT_USAGE;
    }
    mxv_buf json = {0};
    bool any_fail = false, any_temp = false;
    if (o.json)
        mxv_buf_printf(&json, "{\"domain\":\"%s\",\"mode\":\"%s\",\"null_mx\":%s,\"servers\":[",
                       domain, mxv_mode_name(o.mode), null_mx ? "true" : "false");
    else if (null_mx)
        printf("%s%s publishes a null MX (RFC 7505): it accepts no mail%s\n", paint(&o, RED),
               domain, paint(&o, PLAIN));
    if (null_mx)
        status = EXIT_NOT_VERIFIED;
    for (size_t i = 0; status == EXIT_VERIFIED && i < ntargets; i++) {
        if (o.json && i)
            mxv_buf_puts(&json, ",");
        enum outcome r = probe(&o, policy, c.request, &targets[i], show_smtp, &json);
        any_fail |= r == NOT_VERIFIED;
        any_temp |= r == TEMPORARY;
    }
    if (status == EXIT_VERIFIED)
        status = any_fail ? EXIT_NOT_VERIFIED : any_temp ? EXIT_TEMPORARY : EXIT_VERIFIED;
    if (o.json) {
        mxv_buf_printf(&json, "],\"verdict\":\"%s\",\"temporary\":%s}",
                       status == EXIT_VERIFIED ? "pass" : "fail",
                       status == EXIT_TEMPORARY ? "true" : "false");
    }
    char *text = mxv_buf_finish(&json); /* always: also frees the buffer */
    if (o.json && text)
        puts(text);
    free(text);
    mxv_policy_free(policy);
    mxv_request_free(c.request);
    return status;
}
