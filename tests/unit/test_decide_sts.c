/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MTA-STS as the second policy of a decision (core/decide_sts.c,
 * policy.md section 7 item 2), with the policy given as `explain
 * --sts-policy` gives it: an enforced policy decides in every mode by its
 * own rules (the MX host among its patterns, a trusted chain in date, a
 * DNS-ID for the MX host; never a CN-ID); testing and report only log;
 * DANE, when it applies, comes first.
 */
#include "decision.h"
#include "testcert.h"
#include "unit_main.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tc_pair root, named, wild, cn_only, expired, stranger_root, stranger;
static char ca_path[64] = "/tmp/mxv-sts-ca.XXXXXX";

static int setup(void)
{
    static const tc_name mx_name[] = {{"DNS", "mx.sts.example", 0}, {NULL, NULL, 0}};
    static const tc_name wild_name[] = {{"DNS", "*.sts.example", 0}, {NULL, NULL, 0}};
    static const tc_name cn_name[] = {{"CN", "mx.sts.example", 0}, {NULL, NULL, 0}};
    root = tc_make_ca("decide-sts root", NULL);
    stranger_root = tc_make_ca("decide-sts unknown root", NULL);
    named = tc_make_leaf(&(tc_leaf_spec){.names = mx_name}, &root);
    wild = tc_make_leaf(&(tc_leaf_spec){.names = wild_name}, &root);
    cn_only = tc_make_leaf(&(tc_leaf_spec){.names = cn_name}, &root);
    expired = tc_make_leaf(
        &(tc_leaf_spec){.names = mx_name, .not_before_days = -30, .not_after_days = -1}, &root);
    stranger = tc_make_leaf(&(tc_leaf_spec){.names = mx_name}, &stranger_root);
    int fd = mkstemp(ca_path);
    if (fd < 0)
        return 1;
    close(fd);
    X509 *anchors[] = {root.cert};
    return root.cert && named.cert && wild.cert && cn_only.cert && expired.cert && stranger.cert &&
                   tc_write_pem(ca_path, anchors, 1)
               ? 0
               : 1;
}

static int teardown(void)
{
    tc_free(&root), tc_free(&named), tc_free(&wild), tc_free(&cn_only), tc_free(&expired);
    tc_free(&stranger_root), tc_free(&stranger);
    unlink(ca_path);
    return 0;
}

typedef struct {
    const char *mode, *mta_sts, *mx, *policy; /* policy: a body, or NULL */
    const char *tlsa;                         /* a TLSA record given (dane on), or NULL */
    bool report_only;
} ask;

static mxv_decision *decide(const ask *a, X509 *leaf)
{
    char err[256];
    mxv_policy *p = mxv_policy_new();
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_TRUE(mxv_policy_set(p, "mode", a->mode, err, sizeof(err)));
    CU_ASSERT_TRUE(mxv_policy_set(p, "mta_sts", a->mta_sts, err, sizeof(err)));
    CU_ASSERT_TRUE(mxv_policy_set(p, "ca_file", ca_path, err, sizeof(err)));
    CU_ASSERT_TRUE(mxv_policy_set(p, "log", "none", err, sizeof(err)));
    if (a->tlsa)
        CU_ASSERT_TRUE(mxv_policy_set(p, "dane", "on", err, sizeof(err)));
    if (a->report_only)
        CU_ASSERT_TRUE(mxv_policy_set(p, "report_only", "1", err, sizeof(err)));
    mxv_request *req = mxv_request_new();
    CU_ASSERT_TRUE(mxv_request_set(req, "domain", "example.com", err, sizeof(err)));
    CU_ASSERT_TRUE(mxv_request_set(req, "ip", "192.0.2.1", err, sizeof(err)));
    CU_ASSERT_TRUE(mxv_request_set(req, "mx", a->mx ? a->mx : "mx.sts.example", err, sizeof(err)));
    if (a->policy)
        CU_ASSERT_TRUE(mxv_request_set(req, "sts_policy", a->policy, err, sizeof(err)));
    if (a->tlsa)
        CU_ASSERT_TRUE(mxv_request_set(req, "tlsa", a->tlsa, err, sizeof(err)));
    mxv_decision *d = mxv_decide(p, req, leaf, NULL);
    mxv_request_free(req);
    mxv_policy_free(p);
    CU_ASSERT_FATAL(d != NULL);
    return d;
}

static bool log_has(const mxv_decision *d, const char *text)
{
    char *line = mxv_decision_format(d, MXV_FORMAT_LOG);
    bool has = line && strstr(line, text);
    if (!has)
        printf("\n  log line: %s\n  lacks: %s\n", line ? line : "(none)", text);
    mxv_free(line);
    return has;
}

static const char enforce[] = "version: STSv1\nmode: enforce\nmx: mx.sts.example\n"
                              "mx: *.hosted.example\nmax_age: 86400\n";

static void test_enforce_decides(void)
{
    /* MX host listed, DNS-ID for it: pass, in the strictest mode too, with
     * no ESA reference identifier consulted. */
    mxv_decision *d = decide(
        &(ask){.mode = "required-verify-hosted", .mta_sts = "on", .mx = NULL, .policy = enforce},
        named.cert);
    CU_ASSERT_TRUE(d->pass);
    CU_ASSERT_EQUAL(d->sts_outcome, MXV_STS_ENFORCED);
    CU_ASSERT_EQUAL(d->nrefs, 0);
    CU_ASSERT_TRUE(log_has(d, "policy=sts"));
    CU_ASSERT_TRUE(log_has(d, "sts=enforce:mx.sts.example"));
    mxv_decision_free(d);
    /* ... and in mode none: the policy asks for it. */
    d = decide(&(ask){.mode = "none", .mta_sts = "on", .mx = NULL, .policy = enforce}, named.cert);
    CU_ASSERT_TRUE(d->pass);
    CU_ASSERT_EQUAL(d->sts_outcome, MXV_STS_ENFORCED);
    mxv_decision_free(d);
}

static void test_mx_not_in_policy(void)
{
    /* The certificate would match, the MX host is not listed: refused,
     * under preferred too (the policy never allows less). */
    mxv_decision *d = decide(
        &(ask){
            .mode = "preferred", .mta_sts = "on", .mx = "mx.elsewhere.example", .policy = enforce},
        named.cert);
    CU_ASSERT_FALSE(d->pass);
    CU_ASSERT_TRUE(d->abort);
    CU_ASSERT_STRING_EQUAL(d->reason, "validation-failure");
    CU_ASSERT_PTR_NOT_NULL(d->why && strstr(d->why, "mx-not-in-policy"));
    mxv_decision_free(d);
    /* "*.hosted.example" covers one label: a.hosted.example, not a.b. */
    d = decide(&(ask){.mode = "none", .mta_sts = "on", .mx = "a.hosted.example", .policy = enforce},
               wild.cert);
    CU_ASSERT_STRING_EQUAL(d->reason ? d->reason : "", "certificate-host-mismatch");
    CU_ASSERT_STRING_EQUAL(d->sts_pattern, "*.hosted.example");
    mxv_decision_free(d);
    d = decide(
        &(ask){.mode = "none", .mta_sts = "on", .mx = "a.b.hosted.example", .policy = enforce},
        wild.cert);
    CU_ASSERT_STRING_EQUAL(d->reason, "validation-failure");
    mxv_decision_free(d);
}

static void test_certificate_rules(void)
{
    mxv_decision *d = decide(&(ask){.mode = "none", .mta_sts = "on", .mx = NULL, .policy = enforce},
                             cn_only.cert);
    CU_ASSERT_STRING_EQUAL(d->reason, "certificate-host-mismatch"); /* CN-IDs never count */
    CU_ASSERT_TRUE(d->abort);
    mxv_decision_free(d);
    d = decide(&(ask){.mode = "none", .mta_sts = "on", .mx = NULL, .policy = enforce},
               expired.cert);
    CU_ASSERT_STRING_EQUAL(d->reason, "certificate-expired");
    mxv_decision_free(d);
    d = decide(&(ask){.mode = "none", .mta_sts = "on", .mx = NULL, .policy = enforce},
               stranger.cert);
    CU_ASSERT_STRING_EQUAL(d->reason, "certificate-not-trusted");
    mxv_decision_free(d);
    /* A wildcard DNS-ID matches the host it covers. */
    static const char wild_policy[] = "version: STSv1\nmode: enforce\nmx: *.sts.example\n"
                                      "max_age: 600\n";
    d = decide(
        &(ask){.mode = "none", .mta_sts = "on", .mx = "mx.sts.example", .policy = wild_policy},
        wild.cert);
    CU_ASSERT_TRUE(d->pass);
    mxv_decision_free(d);
}

static void test_not_enforced(void)
{
    /* testing: evaluated and logged, the ESA setting decides. */
    static const char testing[] = "version: STSv1\nmode: testing\nmx: mx.sts.example\n"
                                  "max_age: 86400\n";
    mxv_decision *d =
        decide(&(ask){.mode = "none", .mta_sts = "on", .mx = "mx.other.example", .policy = testing},
               named.cert);
    CU_ASSERT_TRUE(d->pass);
    CU_ASSERT_EQUAL(d->sts_outcome, MXV_STS_EVALUATED);
    CU_ASSERT_TRUE(log_has(d, "policy=esa"));
    CU_ASSERT_TRUE(log_has(d, "sts_result=validation-failure"));
    mxv_decision_free(d);
    /* mta_sts = report: an enforce policy only evaluated. */
    d = decide(
        &(ask){.mode = "none", .mta_sts = "report", .mx = "mx.other.example", .policy = enforce},
        named.cert);
    CU_ASSERT_TRUE(d->pass);
    CU_ASSERT_EQUAL(d->sts_outcome, MXV_STS_EVALUATED);
    mxv_decision_free(d);
    /* report_only: decided, not enforced. */
    d = decide(&(ask){.mode = "none",
                      .mta_sts = "on",
                      .mx = "mx.other.example",
                      .policy = enforce,
                      .tlsa = NULL,
                      .report_only = true},
               named.cert);
    CU_ASSERT_FALSE(d->pass);
    CU_ASSERT_FALSE(d->abort);
    mxv_decision_free(d);
    /* Policy mode none: no policy, the ESA setting decides. */
    static const char none[] = "version: STSv1\nmode: none\nmax_age: 86400\n";
    d = decide(&(ask){.mode = "required-verify", .mta_sts = "on", .mx = NULL, .policy = none},
               stranger.cert);
    CU_ASSERT_EQUAL(d->sts_outcome, MXV_STS_NO_POLICY);
    CU_ASSERT_STRING_EQUAL(d->reason, "certificate-not-trusted");
    CU_ASSERT_TRUE(log_has(d, "policy=esa"));
    mxv_decision_free(d);
    /* mta_sts off: the policy given is not consulted. */
    d = decide(
        &(ask){.mode = "none", .mta_sts = "off", .mx = "mx.other.example", .policy = enforce},
        named.cert);
    CU_ASSERT_EQUAL(d->sts_outcome, MXV_STS_NOT_ASKED);
    CU_ASSERT_TRUE(d->pass);
    mxv_decision_free(d);
}

/* "3 1 1 HEX" of the leaf's key. */
static const char *ee_record(X509 *cert)
{
    unsigned char *der = NULL, md[32];
    unsigned int mdlen = 0;
    int len = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
    CU_ASSERT_FATAL(len > 0 && EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL));
    OPENSSL_free(der);
    static char text[128];
    int n = snprintf(text, sizeof(text), "3 1 1 ");
    for (unsigned i = 0; i < mdlen; i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "%02x", md[i]);
    return text;
}

static void test_dane_first(void)
{
    /* DANE applies (RFC 8461 section 2): MTA-STS is not asked, even when
     * its policy would refuse the MX host. */
    mxv_decision *d = decide(&(ask){.mode = "none",
                                    .mta_sts = "on",
                                    .mx = "mx.sts.example",
                                    .policy = enforce,
                                    .tlsa = ee_record(stranger.cert)},
                             stranger.cert);
    CU_ASSERT_TRUE(d->pass);
    CU_ASSERT_EQUAL(d->dane_outcome, MXV_DANE_DECIDED);
    CU_ASSERT_EQUAL(d->sts_outcome, MXV_STS_NOT_ASKED);
    CU_ASSERT_TRUE(log_has(d, "policy=dane"));
    mxv_decision_free(d);
}

static void test_bad_policy_refused(void)
{
    char err[256];
    mxv_request *req = mxv_request_new();
    CU_ASSERT_FALSE(
        mxv_request_set(req, "sts_policy", "version: STSv1\nmode: enforce\n", err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "sts-policy-invalid"));
    mxv_request_free(req);
}

int main(void)
{
    static const unit_test tests[] = {
        {"an enforce policy decides, in every mode", test_enforce_decides},
        {"the MX host must be among the policy's patterns", test_mx_not_in_policy},
        {"trusted, in date, a DNS-ID for the MX host (never a CN-ID)", test_certificate_rules},
        {"testing, report, report_only and mode none do not enforce", test_not_enforced},
        {"DANE comes first", test_dane_first},
        {"an invalid policy given is an error", test_bad_policy_refused},
        {NULL, NULL},
    };
    return unit_run("decide_sts", setup, teardown, tests);
}
