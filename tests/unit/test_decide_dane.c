/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DANE as the first policy of a decision (core/decide_dane.c, policy.md
 * section 7), with the TLSA records given as `explain --tlsa` gives them:
 * DANE decides in every mode and the ESA algorithm is not consulted;
 * DANE-TA names are those of RFC 7672 section 3.2.2; unusable records
 * leave the certificate to the ESA setting (TLS still mandatory);
 * evidence that cannot be had is a temporary failure; the log line says
 * policy= and tlsa=.
 */
#include "decision.h"
#include "testcert.h"
#include "unit_main.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tc_pair root, inter, named, wrong, expired;

static int setup(void)
{
    static const tc_name mx_name[] = {{"DNS", "mx.dane.example", 0}, {NULL, NULL, 0}};
    static const tc_name other_name[] = {{"DNS", "elsewhere.example", 0}, {NULL, NULL, 0}};
    root = tc_make_ca("decide-dane root", NULL);
    inter = tc_make_ca("decide-dane intermediate", &root);
    named = tc_make_leaf(&(tc_leaf_spec){.names = mx_name}, &inter);
    wrong = tc_make_leaf(&(tc_leaf_spec){.names = other_name}, &inter);
    expired = tc_make_leaf(
        &(tc_leaf_spec){.names = mx_name, .not_before_days = -30, .not_after_days = -1}, &inter);
    return root.cert && inter.cert && named.cert && wrong.cert && expired.cert ? 0 : 1;
}

static int teardown(void)
{
    tc_free(&root), tc_free(&inter), tc_free(&named), tc_free(&wrong), tc_free(&expired);
    return 0;
}

/* "USAGE SELECTOR 1 SHA256HEX" for cert (selector 0: the certificate, 1:
 * its key), as --tlsa takes it. */
static char *record(int usage, int selector, X509 *cert)
{
    unsigned char *der = NULL, md[32];
    unsigned int mdlen = 0;
    int len = selector == 0 ? i2d_X509(cert, &der) : i2d_PUBKEY(X509_get0_pubkey(cert), &der);
    CU_ASSERT_FATAL(len > 0 && EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL));
    OPENSSL_free(der);
    static char text[2][128];
    static int which;
    char *out = text[which ^= 1];
    int n = snprintf(out, sizeof(text[0]), "%d %d 1 ", usage, selector);
    for (unsigned i = 0; i < mdlen; i++)
        n += snprintf(out + n, sizeof(text[0]) - (size_t)n, "%02x", md[i]);
    return out;
}

/* One decision: mode, dane setting, the chain (leaf, then one sent
 * certificate or NULL), records (NULL-terminated; the first MX is
 * mx.dane.example unless no_mx). */
static mxv_decision *decide(const char *mode, const char *dane, X509 *leaf, X509 *sent,
                            const char *const *tlsa, bool no_mx, bool report_only)
{
    char err[256];
    mxv_policy *p = mxv_policy_new();
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_TRUE(mxv_policy_set(p, "mode", mode, err, sizeof(err)));
    CU_ASSERT_TRUE(mxv_policy_set(p, "dane", dane, err, sizeof(err)));
    CU_ASSERT_TRUE(mxv_policy_set(p, "log", "none", err, sizeof(err)));
    if (report_only)
        CU_ASSERT_TRUE(mxv_policy_set(p, "report_only", "1", err, sizeof(err)));
    mxv_request *req = mxv_request_new();
    CU_ASSERT_TRUE(mxv_request_set(req, "domain", "example.com", err, sizeof(err)));
    if (!no_mx)
        CU_ASSERT_TRUE(mxv_request_set(req, "mx", "mx.dane.example", err, sizeof(err)));
    for (size_t i = 0; tlsa && tlsa[i]; i++)
        CU_ASSERT_TRUE(mxv_request_set(req, "tlsa", tlsa[i], err, sizeof(err)));
    STACK_OF(X509) *chain = sk_X509_new_null();
    if (sent)
        sk_X509_push(chain, sent);
    mxv_decision *d = mxv_decide(p, req, leaf, chain);
    sk_X509_free(chain);
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

static void test_dane_ee(void)
{
    /* The key of a leaf whose name is wrong: DANE decides, under the
     * strictest ESA mode too, and in mode none. */
    const char *ee[] = {record(3, 1, wrong.cert), NULL};
    mxv_decision *d = decide("required-verify-hosted", "on", wrong.cert, NULL, ee, false, false);
    CU_ASSERT_TRUE(d->pass);
    CU_ASSERT_EQUAL(d->dane_outcome, MXV_DANE_DECIDED);
    CU_ASSERT_TRUE(log_has(d, "policy=dane tlsa=\"3 1 1\""));
    CU_ASSERT_EQUAL(d->nrefs, 0); /* the ESA algorithm was not consulted */
    mxv_decision_free(d);
    /* Another key: a failure whatever the mode, preferred included. */
    const char *other[] = {record(3, 1, named.cert), NULL};
    d = decide("preferred", "on", wrong.cert, NULL, other, false, false);
    CU_ASSERT_FALSE(d->pass);
    CU_ASSERT_TRUE(d->abort);
    CU_ASSERT_FALSE(d->temporary);
    CU_ASSERT_STRING_EQUAL(d->reason, "tlsa-invalid");
    CU_ASSERT_TRUE(log_has(d, "policy=dane tlsa=none"));
    mxv_decision_free(d);
    /* ... unless nothing is enforced. */
    d = decide("none", "on", wrong.cert, NULL, other, false, true);
    CU_ASSERT_FALSE(d->pass);
    CU_ASSERT_FALSE(d->abort);
    mxv_decision_free(d);
    /* DANE off: the records given change nothing. */
    d = decide("required-verify", "off", wrong.cert, NULL, other, false, false);
    CU_ASSERT_EQUAL(d->dane_outcome, MXV_DANE_NOT_ASKED);
    CU_ASSERT_TRUE(log_has(d, "policy=esa"));
    char *line = mxv_decision_format(d, MXV_FORMAT_LOG);
    CU_ASSERT_PTR_NULL(line ? strstr(line, "tlsa=") : NULL);
    mxv_free(line);
    mxv_decision_free(d);
}

static void test_dane_ta(void)
{
    /* The intermediate as trust anchor, a leaf named for the MX host. */
    const char *ta[] = {record(2, 0, inter.cert), NULL};
    mxv_decision *d = decide("none", "on", named.cert, inter.cert, ta, false, false);
    CU_ASSERT_TRUE(d->pass);
    CU_ASSERT_TRUE(d->matched);
    CU_ASSERT_TRUE(log_has(d, "match=dns:mx.dane.example~mx:mx.dane.example"));
    CU_ASSERT_TRUE(log_has(d, "tlsa=\"2 0 1\""));
    mxv_decision_free(d);
    /* A name that is neither the TLSA base domain nor (the MX RRset not
     * being DNSSEC-validated) the recipient domain. */
    d = decide("none", "on", wrong.cert, inter.cert, ta, false, false);
    CU_ASSERT_FALSE(d->pass);
    CU_ASSERT_STRING_EQUAL(d->reason, "certificate-host-mismatch");
    mxv_decision_free(d);
    /* Dates count for DANE-TA. */
    d = decide("none", "on", expired.cert, inter.cert, ta, false, false);
    CU_ASSERT_FALSE(d->pass);
    CU_ASSERT_STRING_EQUAL(d->reason, "certificate-expired");
    mxv_decision_free(d);
    /* The anchor not sent: nothing to build the chain to. */
    d = decide("none", "on", named.cert, NULL, ta, false, false);
    CU_ASSERT_FALSE(d->pass);
    CU_ASSERT_STRING_EQUAL(d->reason, "tlsa-invalid");
    mxv_decision_free(d);
}

static void test_unusable_and_missing(void)
{
    /* PKIX-EE only: TLS mandatory, the ESA setting decides (none: pass;
     * required-verify: the chain is not trusted here, fail as ESA). */
    const char *pkix[] = {record(1, 1, wrong.cert), NULL};
    mxv_decision *d = decide("none", "on", wrong.cert, inter.cert, pkix, false, false);
    CU_ASSERT_EQUAL(d->dane_outcome, MXV_DANE_ENCRYPT);
    CU_ASSERT_TRUE(mxv_dane_requires_tls(d));
    CU_ASSERT_TRUE(d->pass);
    CU_ASSERT_TRUE(log_has(d, "policy=esa"));
    mxv_decision_free(d);
    d = decide("required-verify", "on", wrong.cert, inter.cert, pkix, false, false);
    CU_ASSERT_FALSE(d->pass);
    CU_ASSERT_STRING_EQUAL(d->reason, "certificate-not-trusted");
    mxv_decision_free(d);
    /* No MX host to look TLSA up for: never "no DANE", a temporary
     * failure, in mode none too. */
    d = decide("none", "on", wrong.cert, NULL, NULL, true, false);
    CU_ASSERT_EQUAL(d->dane_outcome, MXV_DANE_FAILURE);
    CU_ASSERT_TRUE(d->temporary);
    CU_ASSERT_TRUE(d->abort);
    CU_ASSERT_TRUE(log_has(d, "policy=dane"));
    mxv_decision_free(d);
}

int main(void)
{
    static const unit_test tests[] = {{"DANE-EE decides in every mode", test_dane_ee},
                                      {"DANE-TA: anchor, names, dates", test_dane_ta},
                                      {"unusable records, no evidence", test_unusable_and_missing},
                                      {NULL, NULL}};
    return unit_run("decide_dane", setup, teardown, tests);
}
