/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The identity algorithms of policy.md section 2 and the settings of
 * section 3, decided offline (mxv_decide) against certificates built in
 * memory and the DNS world of world.h.
 */
#include "decision.h"
#include "slot_file.h"
#include "testcert.h"
#include "unit_main.h"
#include "world.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum shape {
    EMAILHOSTED,         /* CN *.emailhosted.not, SAN *.emailhosted.not, emailhosted.not */
    SAN_ONLY,            /* SAN *.emailhosted.not, CN "Hosting Operator" */
    CN_WILDCARD,         /* CN *.emailhosted.not, SAN unrelated.invalid */
    EXAMPLE,             /* SAN example.com, mail.example.com */
    MX_NAME,             /* SAN mx01.subd.emailhosted.not */
    CN_PTR_ONLY,         /* CN mx0a.emailhosted.not, no SAN */
    DOMAIN_AND_WILDCARD, /* SAN *.emailhosted.not, example.com */
    CN_DOMAIN,           /* CN example.com, SAN unrelated.invalid */
    MX6,                 /* SAN mx6.emailhosted.not */
    NSHAPES
};

#define END                                                                                        \
    {                                                                                              \
        NULL, NULL, 0                                                                              \
    }
static const tc_name shape_names[NSHAPES][4] = {
    [EMAILHOSTED] = {{"CN", "*.emailhosted.not", 0},
                     {"DNS", "*.emailhosted.not", 0},
                     {"DNS", "emailhosted.not", 0},
                     END},
    [SAN_ONLY] = {{"CN", "Hosting Operator", 0}, {"DNS", "*.emailhosted.not", 0}, END},
    [CN_WILDCARD] = {{"CN", "*.emailhosted.not", 0}, {"DNS", "unrelated.invalid", 0}, END},
    [EXAMPLE] = {{"DNS", "example.com", 0}, {"DNS", "mail.example.com", 0}, END},
    [MX_NAME] = {{"DNS", "mx01.subd.emailhosted.not", 0}, END},
    [CN_PTR_ONLY] = {{"CN", "mx0a.emailhosted.not", 0}, END},
    [DOMAIN_AND_WILDCARD] = {{"DNS", "*.emailhosted.not", 0}, {"DNS", "example.com", 0}, END},
    [CN_DOMAIN] = {{"CN", "example.com", 0}, {"DNS", "unrelated.invalid", 0}, END},
    [MX6] = {{"DNS", "mx6.emailhosted.not", 0}, END},
};

static tc_pair ca, other_ca, certs[NSHAPES];
static char *world, *dead;

static int setup(void)
{
    ca = tc_make_ca("decide test CA", NULL);
    other_ca = tc_make_ca("unknown CA", NULL);
    for (int i = 0; i < NSHAPES; i++)
        certs[i] = tc_make_leaf(&(tc_leaf_spec){.names = shape_names[i]}, &ca);
    world = world_write(world_conf);
    dead = world_write(dead_conf);
    return world && dead ? 0 : 1;
}

static int cleanup(void)
{
    for (int i = 0; i < NSHAPES; i++)
        tc_free(&certs[i]);
    tc_free(&ca);
    tc_free(&other_ca);
    unlink(world);
    unlink(dead);
    free(world);
    free(dead);
    return 0;
}

typedef struct {
    const char *why;
    enum shape cert;
    const char *mode; /* NULL: required-verify-hosted */
    const char *domain, *ip, *mx, *route, *reference, *dnssec;
    bool pass;
    const char *source; /* of the matching reference, when pass */
    const char *reference_matched;
    const char *presented_type;
    int max_refs; /* when > 0: at most this many references were built */
} row;

static mxv_policy *policy_for(const char *mode, const char *dnssec, const char *conf)
{
    char err[512];
    mxv_policy *p = mxv_policy_new();
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_FATAL(
        mxv_policy_set(p, "mode", mode ? mode : "required-verify-hosted", err, sizeof(err)));
    CU_ASSERT_FATAL(mxv_policy_set(p, "unbound_conf", conf, err, sizeof(err)));
    CU_ASSERT_FATAL(mxv_policy_set(p, "dns_timeout", "0.5", err, sizeof(err)));
    if (dnssec)
        CU_ASSERT_FATAL(mxv_policy_set(p, "dnssec", dnssec, err, sizeof(err)));
    return p;
}

static void set(mxv_request *r, const char *key, const char *value)
{
    char err[512];
    if (value)
        CU_ASSERT_FATAL(mxv_request_set(r, key, value, err, sizeof(err)));
}

/* Decides with only the CA as extra trust: chains of `ca` are trusted. */
static mxv_decision *decide(mxv_policy *p, const row *r, X509 *leaf, STACK_OF(X509) * chain)
{
    mxv_request *req = mxv_request_new();
    set(req, "domain", r->domain);
    set(req, "ip", r->ip);
    set(req, "mx", r->mx);
    set(req, "route", r->route);
    set(req, "reference", r->reference);
    mxv_decision *d = mxv_decide(p, req, leaf, chain);
    mxv_request_free(req);
    return d;
}

/* The CA goes in a PEM file given as ca_file, as a user would. */
static char *ca_file;

static void trust_ca(mxv_policy *p)
{
    char err[512];
    if (!ca_file) {
        ca_file = world_write("");
        CU_ASSERT_FATAL(tc_write_pem(ca_file, &ca.cert, 1));
    }
    CU_ASSERT_FATAL(mxv_policy_set(p, "ca_file", ca_file, err, sizeof(err)));
}

static const row rows[] = {
    /* policy.md 5: the worked example. */
    {.why = "worked example: *.emailhosted.not ~ ptr mx0a (forward-confirmed)",
     .cert = EMAILHOSTED,
     .domain = "example.com",
     .ip = "192.0.2.1",
     .pass = true,
     .source = "ptr",
     .reference_matched = "mx0a.emailhosted.not",
     .presented_type = "dns"},
    {.why = "PTR of 192.0.2.3 is mx0a, whose A is 192.0.2.1: not forward-confirmed",
     .cert = EMAILHOSTED,
     .domain = "example.com",
     .ip = "192.0.2.3",
     .pass = false},
    {.why = "SAN-only wildcard, CN 'Hosting Operator': hosted verifies via DNS-ID ~ ptr",
     .cert = SAN_ONLY,
     .domain = "example.com",
     .ip = "192.0.2.1",
     .pass = true,
     .source = "ptr",
     .reference_matched = "mx0a.emailhosted.not",
     .presented_type = "dns"},
    {.why = "... and verify fails: it compares PTR names with the CN only",
     .cert = SAN_ONLY,
     .mode = "required-verify",
     .domain = "example.com",
     .ip = "192.0.2.1",
     .pass = false},
    {.why = "CN wildcard, SAN unrelated: verify verifies via CN ~ ptr",
     .cert = CN_WILDCARD,
     .mode = "required-verify",
     .domain = "example.com",
     .ip = "192.0.2.1",
     .pass = true,
     .source = "ptr",
     .reference_matched = "mx0a.emailhosted.not",
     .presented_type = "cn"},
    {.why = "... and hosted fails: a DNS-ID exists, so the CN is ignored",
     .cert = CN_WILDCARD,
     .domain = "example.com",
     .ip = "192.0.2.1",
     .pass = false},
    /* Order and sources. */
    {.why = "domain first: no DNS lookup at all when it matches",
     .cert = EXAMPLE,
     .domain = "example.com",
     .ip = "192.0.2.1",
     .pass = true,
     .source = "domain",
     .reference_matched = "example.com",
     .presented_type = "dns",
     .max_refs = 1},
    {.why = "domain beats a later ptr match",
     .cert = DOMAIN_AND_WILDCARD,
     .domain = "example.com",
     .ip = "192.0.2.1",
     .pass = true,
     .source = "domain",
     .reference_matched = "example.com",
     .max_refs = 1},
    {.why = "MX host names: every MX, preference order",
     .cert = MX_NAME,
     .domain = "example.com",
     .ip = "192.0.2.3",
     .pass = true,
     .source = "mx",
     .reference_matched = "mx01.subd.emailhosted.not"},
    {.why = "verify never uses MX host names",
     .cert = MX_NAME,
     .mode = "required-verify",
     .domain = "example.com",
     .ip = "192.0.2.3",
     .pass = false},
    {.why = "configured names come right after the domain",
     .cert = EMAILHOSTED,
     .domain = "example.com",
     .ip = "192.0.2.1",
     .reference = "mx0b.emailhosted.not",
     .pass = true,
     .source = "configured",
     .reference_matched = "mx0b.emailhosted.not",
     .max_refs = 2},
    {.why = "given MX names replace the MX lookup",
     .cert = EMAILHOSTED,
     .domain = "example.com",
     .mx = "mx0b.emailhosted.not",
     .pass = true,
     .source = "mx",
     .reference_matched = "mx0b.emailhosted.not"},
    {.why = "hosted: CN used when there is no DNS-ID",
     .cert = CN_PTR_ONLY,
     .domain = "example.com",
     .ip = "192.0.2.1",
     .pass = true,
     .source = "ptr",
     .presented_type = "cn"},
    {.why = "verify: CN consulted even when DNS-IDs exist",
     .cert = CN_DOMAIN,
     .mode = "required-verify",
     .domain = "example.com",
     .pass = true,
     .source = "domain",
     .presented_type = "cn"},
    {.why = "hosted: the same CN is ignored",
     .cert = CN_DOMAIN,
     .domain = "example.com",
     .pass = false},
    /* SMTP routes. */
    {.why = "route to a host name: route names are references",
     .cert = EMAILHOSTED,
     .domain = "example.com",
     .route = "[relay.emailhosted.not]:25",
     .pass = true,
     .source = "route",
     .reference_matched = "relay.emailhosted.not"},
    {.why = "route to a host name: MX names are not considered",
     .cert = MX_NAME,
     .domain = "example.com",
     .route = "relay.example.net",
     .ip = "192.0.2.1",
     .pass = false},
    {.why = "route to a host name: PTR names are not considered",
     .cert = SAN_ONLY,
     .domain = "example.com",
     .route = "relay.example.net",
     .ip = "192.0.2.1",
     .pass = false},
    {.why = "route to an IP: PTR of the connected IP",
     .cert = SAN_ONLY,
     .domain = "example.com",
     .route = "192.0.2.1",
     .ip = "192.0.2.1",
     .pass = true,
     .source = "ptr"},
    {.why = "route to an IP: MX names are not considered",
     .cert = MX_NAME,
     .domain = "example.com",
     .route = "192.0.2.1",
     .ip = "192.0.2.3",
     .pass = false},
    /* DNS evidence. */
    {.why = "dnssec=require: insecure MX and PTR evidence is discarded",
     .cert = EMAILHOSTED,
     .domain = "example.com",
     .ip = "192.0.2.1",
     .dnssec = "require",
     .pass = false},
    {.why = "IPv6: PTR under ip6.arpa, forward-confirmed by AAAA",
     .cert = MX6,
     .domain = "nomx.example",
     .ip = "2001:db8::25",
     .pass = true,
     .source = "ptr",
     .reference_matched = "mx6.emailhosted.not"},
    {.why = "IPv6 MX host names",
     .cert = MX6,
     .domain = "v6.example",
     .pass = true,
     .source = "mx"},
    {.why = "a null MX gives no reference",
     .cert = EMAILHOSTED,
     .domain = "nullmx.example",
     .pass = false},
};

static const char *matched_source(const mxv_decision *d)
{
    return d->matched ? mxv_source_name(d->refs[d->match_ref].source) : NULL;
}

static void test_rows(void)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row *r = &rows[i];
        mxv_policy *p = policy_for(r->mode, r->dnssec, world);
        trust_ca(p);
        mxv_decision *d = decide(p, r, certs[r->cert].cert, NULL);
        CU_ASSERT_FATAL(d != NULL);
        bool ok = d->pass == r->pass && d->chain_ok;
        if (r->pass && r->source)
            ok = ok && matched_source(d) && strcmp(matched_source(d), r->source) == 0;
        if (r->pass && r->reference_matched)
            ok = ok && strcmp(d->refs[d->match_ref].name, r->reference_matched) == 0;
        if (r->pass && r->presented_type)
            ok = ok && strcmp(mxv_id_type_name(d->presented.ids[d->match_id].type),
                              r->presented_type) == 0;
        if (r->max_refs)
            ok = ok && d->nrefs <= (size_t)r->max_refs;
        if (!r->pass)
            ok = ok && !d->temporary && d->abort;
        if (!ok) {
            char *trace = mxv_decision_format(d, MXV_FORMAT_TEXT);
            fprintf(stderr, "\nrow %zu FAILED: %s\n%s\n", i, r->why, trace);
            free(trace);
        }
        CU_ASSERT_TRUE(ok);
        mxv_decision_free(d);
        mxv_policy_free(p);
    }
}

/* A reference listed but not reached stays used=false; refs before the
 * match were all compared. */
static void test_used_flags(void)
{
    mxv_policy *p = policy_for(NULL, NULL, world);
    trust_ca(p);
    const row r = {.domain = "example.com", .ip = "192.0.2.1"};
    mxv_decision *d = decide(p, &r, certs[EMAILHOSTED].cert, NULL);
    CU_ASSERT_TRUE_FATAL(d->matched);
    CU_ASSERT_EQUAL(d->nrefs, 4); /* domain, 2 MX, ptr */
    for (size_t i = 0; i < d->nrefs; i++)
        CU_ASSERT_TRUE(d->refs[i].used);
    CU_ASSERT_STRING_EQUAL(d->refs[1].name, "mx01.subd.emailhosted.not");
    CU_ASSERT_STRING_EQUAL(d->refs[2].name, "mx02.subd.emailhosted.not");
    CU_ASSERT_EQUAL(d->refs[1].dnssec, MXV_SEC_INSECURE);
    CU_ASSERT_EQUAL(d->refs[0].dnssec, MXV_SEC_NONE);
    mxv_decision_free(d);
    mxv_policy_free(p);
}

/* Fail closed: nothing to compare with. */
static void test_no_reference(void)
{
    mxv_policy *p = policy_for(NULL, NULL, world);
    trust_ca(p);
    const row r = {0};
    mxv_decision *d = decide(p, &r, certs[EXAMPLE].cert, NULL);
    CU_ASSERT_FALSE(d->pass);
    CU_ASSERT_TRUE(d->abort);
    CU_ASSERT_STRING_EQUAL(d->reason, "validation-failure");
    CU_ASSERT_TRUE(d->notes.n > 0);
    mxv_decision_free(d);
    mxv_policy_free(p);
}

/* A DNS failure is temporary, never a mismatch; but a match found without
 * the failed lookup still passes. */
static void test_dns_failure(void)
{
    mxv_policy *p = policy_for(NULL, NULL, dead);
    trust_ca(p);
    const row fail = {.domain = "example.com", .ip = "198.51.100.7"};
    mxv_decision *d = decide(p, &fail, certs[EMAILHOSTED].cert, NULL);
    CU_ASSERT_FALSE(d->pass);
    CU_ASSERT_TRUE(d->temporary);
    CU_ASSERT_STRING_EQUAL(d->reason, "validation-failure");
    mxv_decision_free(d);

    const row domain_match = {.domain = "example.com", .ip = "198.51.100.7"};
    d = decide(p, &domain_match, certs[EXAMPLE].cert, NULL);
    CU_ASSERT_TRUE(d->pass);
    CU_ASSERT_FALSE(d->temporary);
    mxv_decision_free(d);

    const row given_mx = {
        .domain = "example.com", .mx = "mx01.subd.emailhosted.not", .ip = "198.51.100.7"};
    d = decide(p, &given_mx, certs[MX_NAME].cert, NULL);
    CU_ASSERT_TRUE(d->pass); /* matched on the given MX before PTR was needed */
    mxv_decision_free(d);
    mxv_policy_free(p);
}

/* policy.md 3: verdict and action per setting, plus report-only. */
typedef struct {
    const char *mode;
    bool report_only;
    bool verifies;      /* the certificate is checked */
    bool abort_on_fail; /* a failed check ends the connection */
} mode_row;

static const mode_row modes[] = {
    {"none", false, false, false},
    {"1", false, false, false},
    {"preferred", false, false, false},
    {"required", false, false, false},
    {"3", false, false, false},
    {"preferred-verify", false, true, false},
    {"4", false, true, false},
    {"required-verify", false, true, true},
    {"5", false, true, true},
    {"required-verify-hosted", false, true, true},
    {"6", false, true, true},
    {"required-verify", true, true, false},
    {"required-verify-hosted", true, true, false},
};

static void test_modes(void)
{
    tc_pair untrusted = tc_make_leaf(&(tc_leaf_spec){.names = shape_names[EXAMPLE]}, &other_ca);
    tc_pair expired = tc_make_leaf(&(tc_leaf_spec){.names = shape_names[EXAMPLE],
                                                   .not_before_days = -30,
                                                   .not_after_days = -1},
                                   &ca);
    tc_pair self =
        tc_make_leaf(&(tc_leaf_spec){.names = shape_names[EXAMPLE], .self_signed = true}, NULL);
    struct {
        X509 *cert;
        bool good;
        const char *reason;
    } cases[] = {
        {certs[EXAMPLE].cert, true, NULL},
        {certs[CN_WILDCARD].cert, false, "certificate-host-mismatch"},
        {untrusted.cert, false, "certificate-not-trusted"},
        {expired.cert, false, "certificate-expired"},
        {self.cert, false, "certificate-not-trusted"},
    };
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
            mxv_policy *p = policy_for(modes[m].mode, NULL, world);
            trust_ca(p);
            char err[256];
            if (modes[m].report_only)
                CU_ASSERT_FATAL(mxv_policy_set(p, "report_only", "1", err, sizeof(err)));
            const row r = {.domain = "example.com"};
            mxv_decision *d = decide(p, &r, cases[c].cert, NULL);
            bool want_pass = !modes[m].verifies || cases[c].good;
            bool want_abort = !want_pass && modes[m].abort_on_fail;
            bool ok = d->pass == want_pass && d->abort == want_abort &&
                      (d->algorithm != MXV_ALG_NONE) == modes[m].verifies;
            if (!want_pass)
                ok = ok && d->reason && strcmp(d->reason, cases[c].reason) == 0;
            else
                ok = ok && d->reason == NULL;
            if (!ok)
                fprintf(stderr, "\nmode %s%s case %zu: pass %d abort %d reason %s\n", modes[m].mode,
                        modes[m].report_only ? " report-only" : "", c, d->pass, d->abort,
                        d->reason ? d->reason : "-");
            CU_ASSERT_TRUE(ok);
            mxv_decision_free(d);
            mxv_policy_free(p);
        }
    }
    tc_free(&untrusted);
    tc_free(&expired);
    tc_free(&self);
}

/* Intermediates: complete chain verifies, a missing one fails. */
static void test_intermediate(void)
{
    tc_pair inter = tc_make_ca("intermediate", &ca);
    tc_pair leaf = tc_make_leaf(&(tc_leaf_spec){.names = shape_names[EXAMPLE]}, &inter);
    mxv_policy *p = policy_for(NULL, NULL, world);
    trust_ca(p);
    const row r = {.domain = "example.com"};
    STACK_OF(X509) *chain = sk_X509_new_null();
    mxv_decision *d = decide(p, &r, leaf.cert, chain);
    CU_ASSERT_FALSE(d->chain_ok);
    CU_ASSERT_STRING_EQUAL(d->reason, "certificate-not-trusted");
    mxv_decision_free(d);
    sk_X509_push(chain, inter.cert);
    d = decide(p, &r, leaf.cert, chain);
    CU_ASSERT_TRUE(d->chain_ok);
    CU_ASSERT_TRUE(d->pass);
    mxv_decision_free(d);
    sk_X509_free(chain);
    mxv_policy_free(p);
    tc_free(&leaf);
    tc_free(&inter);
}

/* The output contract of interfaces.md: JSON fields and the log line. */
static void test_formats(void)
{
    mxv_policy *p = policy_for(NULL, NULL, world);
    trust_ca(p);
    const row r = {.domain = "example.com", .ip = "192.0.2.1"};
    mxv_decision *d = decide(p, &r, certs[EMAILHOSTED].cert, NULL);
    char *json = mxv_decision_format(d, MXV_FORMAT_JSON);
    static const char *const fields[] = {
        "\"verdict\":\"pass\"",
        "\"action\":\"proceed\"",
        "\"mode\":\"required-verify-hosted\"",
        "\"algorithm\":\"hosted\"",
        "\"chain\":{\"ok\":true,\"error\":null}",
        "\"match\":{\"presented\":\"*.emailhosted.not\",\"presented_type\":\"dns\","
        "\"reference\":\"mx0a.emailhosted.not\",\"source\":\"ptr\"}",
        "\"presented\":[{\"name\":\"*.emailhosted.not\",\"type\":\"dns\"",
        "\"references\":[{\"name\":\"example.com\",\"source\":\"domain\",\"dnssec\":null,"
        "\"used\":true",
        "\"dnssec\":\"insecure\"",
        "\"temporary\":false",
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (!strstr(json, fields[i]))
            fprintf(stderr, "\nmissing %s in %s\n", fields[i], json);
        CU_ASSERT_PTR_NOT_NULL(strstr(json, fields[i]));
    }
    free(json);
    char *line = mxv_decision_format(d, MXV_FORMAT_LOG);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "verdict=pass mode=required-verify-hosted "
                                        "domain=example.com ip=192.0.2.1 "
                                        "match=dns:*.emailhosted.not~ptr:mx0a.emailhosted.not "
                                        "chain=ok action=proceed"));
    free(line);
    mxv_decision_free(d);
    mxv_policy_free(p);
}

/* Hostile certificate names are escaped in every output. */
static void test_hostile_names_escaped(void)
{
    static const char evil[] = "a\"b\\c\n\x01.example.com";
    const tc_name names[] = {{"DNS", evil, sizeof(evil) - 1}, END};
    tc_pair leaf = tc_make_leaf(&(tc_leaf_spec){.names = names}, &ca);
    mxv_policy *p = policy_for(NULL, NULL, world);
    trust_ca(p);
    const row r = {.domain = "example.com"};
    mxv_decision *d = decide(p, &r, leaf.cert, NULL);
    for (int f = MXV_FORMAT_TEXT; f <= MXV_FORMAT_LOG_JSON; f++) {
        char *out = mxv_decision_format(d, (mxv_format)f);
        CU_ASSERT_PTR_NULL(strchr(out, '\x01'));
        if (f != MXV_FORMAT_TEXT)
            CU_ASSERT_PTR_NULL(strchr(out, '\n'));
        free(out);
    }
    mxv_decision_free(d);
    mxv_policy_free(p);
    tc_free(&leaf);
}

/* JSON keeps valid UTF-8 as it is and escapes only what is not. */
static void test_json_utf8(void)
{
    static const char utf8[] = "H\xc3\xa9"
                               "bergeur \xe2\x9c\x93",
                      bad[] = "bad\xff\xc3(";
    const tc_name names[] = {{"CN", utf8, 0}, {"DNS", bad, 0}, END};
    tc_pair leaf = tc_make_leaf(&(tc_leaf_spec){.names = names}, &ca);
    mxv_policy *p = policy_for(NULL, NULL, world);
    trust_ca(p);
    const row r = {.domain = "example.com"};
    mxv_decision *d = decide(p, &r, leaf.cert, NULL);
    char *out = mxv_decision_format(d, MXV_FORMAT_JSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"H\xc3\xa9"
                                       "bergeur \xe2\x9c\x93\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"bad\\u00ff\\u00c3(\""));
    free(out);
    mxv_decision_free(d);
    mxv_policy_free(p);
    tc_free(&leaf);
}

/* A connection's session id: "PID-STARTED-" and 16 hex digits of the
 * hash of its two ends; the same for the same connection, another for
 * another, the same whether formatted first or again. */
static void test_session_id(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    CU_ASSERT_FATAL(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
                    listen(lfd, 4) == 0 && getsockname(lfd, (struct sockaddr *)&a, &alen) == 0);
    int c1 = socket(AF_INET, SOCK_STREAM, 0), c2 = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(connect(c1, (struct sockaddr *)&a, sizeof(a)) == 0 &&
                    connect(c2, (struct sockaddr *)&a, sizeof(a)) == 0);
    char ids[3][48];
    int fds[3] = {c1, c1, c2};
    for (int i = 0; i < 3; i++) {
        mxv_decision *d = mxv_decision_new();
        mxv_decision_connection(d, fds[i]);
        snprintf(ids[i], sizeof(ids[i]), "%s", d->session);
        CU_ASSERT_STRING_EQUAL(d->ip, "127.0.0.1");
        CU_ASSERT_STRING_EQUAL(d->local_ip, "127.0.0.1");
        mxv_decision_free(d);
    }
    struct sockaddr_storage ends[2];
    socklen_t l0 = sizeof(ends[0]), l1 = sizeof(ends[1]);
    memset(ends, 0, sizeof(ends));
    getsockname(c1, (struct sockaddr *)&ends[0], &l0);
    getpeername(c1, (struct sockaddr *)&ends[1], &l1);
    char want[128], prefix[32];
    snprintf(prefix, sizeof(prefix), "%ld-", (long)getpid());
    const char *started = ids[0] + strlen(prefix);
    snprintf(want, sizeof(want), "%s%.*s%016llx", prefix, (int)(strchr(started, '-') + 1 - started),
             started, (unsigned long long)mxv_fnv(MXV_FNV_BASIS, ends, sizeof(ends)));
    CU_ASSERT_STRING_EQUAL(ids[0], want);
    CU_ASSERT_STRING_EQUAL(ids[1], ids[0]);
    CU_ASSERT_STRING_NOT_EQUAL(ids[2], ids[0]);
    CU_ASSERT_EQUAL(strlen(ids[2]), strlen(ids[0]));
    close(c1), close(c2), close(lfd);
}

int main(void)
{
    static const unit_test tests[] = {
        {"JSON keeps valid UTF-8, escapes the rest", test_json_utf8},
        {"a connection's session id", test_session_id},
        {"algorithm rows (policy.md 2 and 5)", test_rows},
        {"used flags and order", test_used_flags},
        {"no reference fails closed", test_no_reference},
        {"DNS failure is temporary", test_dns_failure},
        {"six settings and report-only", test_modes},
        {"intermediates", test_intermediate},
        {"JSON and log formats", test_formats},
        {"hostile names escaped", test_hostile_names_escaped},
        {NULL, NULL},
    };
    int rc = unit_run("decide", setup, cleanup, tests);
    if (ca_file) {
        unlink(ca_file);
        free(ca_file);
    }
    return rc;
}
