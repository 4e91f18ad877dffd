/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_program_dns: the MX RRsets the host program received stand for
 * mxverify's own MX lookup only where policy.md section 4 allows it (the
 * system resolver, dnssec not `require`, DANE off) and where mxverify's
 * own lookup could not have told more (it would not validate, or a
 * trusted resolver validated the program's answer), as `insecure`
 * evidence; a certificate that matches an MX host then costs no lookup,
 * and the PTR evidence is asked only when a step needs it.
 *
 * Decisions here run from the caches only (d->dns_cache_only), so nothing
 * ever reaches this machine's resolver: a lookup that would have been made
 * shows as d->dns_missed.
 */
#include "decision.h"
#include "names.h"
#include "policy.h"
#include "program_dns.h"
#include "testcert.h"
#include "unit_main.h"
#include "world.h"

#include <stdio.h>
#include <string.h>

static tc_pair ca, mx_cert, ptr_cert;
static char *world;

static int setup(void)
{
    static const tc_name mx_names[] = {{"DNS", "mx01.subd.emailhosted.not", 0}, {NULL, NULL, 0}};
    static const tc_name ptr_names[] = {{"CN", "mx0a.emailhosted.not", 0}, {NULL, NULL, 0}};
    ca = tc_make_ca("program dns test CA", NULL);
    mx_cert = tc_make_leaf(&(tc_leaf_spec){.names = mx_names}, &ca);
    ptr_cert = tc_make_leaf(&(tc_leaf_spec){.names = ptr_names}, &ca);
    world = world_write(world_conf);
    return world ? 0 : 1;
}

static int cleanup(void)
{
    tc_free(&mx_cert);
    tc_free(&ptr_cert);
    tc_free(&ca);
    unlink(world);
    free(world);
    return 0;
}

static const mxv_program_mx example_mx[] = {{20, "mx02.subd.emailhosted.not"},
                                            {10, "mx01.subd.emailhosted.not"}};

static mxv_policy *policy_with(const char *key, const char *value);

/* The program's evidence for `domain` under the default settings (or
 * dnssec = off), from the caches' point of view. */
static bool evidence(const char *domain, const char *dnssec, mxv_dns_answer *a,
                     mxv_program_answer_storage *keep)
{
    mxv_policy *p = policy_with(dnssec ? "dnssec" : NULL, dnssec);
    mxv_effective e;
    mxv_policy_effective(p, domain, &e);
    bool have = mxv_program_mx_evidence(p, &e, domain, true, a, keep);
    /* Asked without copying (the prefetch's question): the same answer. */
    CU_ASSERT_EQUAL(mxv_program_mx_evidence(p, &e, domain, true, NULL, NULL), have);
    mxv_policy_free(p);
    return have;
}

static void test_kept_and_given_back(void)
{
    mxv_program_mx_seen("example.com.", example_mx, 2, 300, true);
    mxv_dns_answer a;
    mxv_program_answer_storage keep;
    CU_ASSERT_FATAL(evidence("EXAMPLE.com", NULL, &a, &keep));
    CU_ASSERT_EQUAL(a.status, MXV_DNS_OK);
    CU_ASSERT_EQUAL(a.sec, MXV_SEC_INSECURE);
    CU_ASSERT_EQUAL_FATAL(a.n, 2);
    unsigned pref;
    char name[MXV_NAME_MAX + 1];
    CU_ASSERT_FATAL(mxv_dns_parse_mx(a.rdata[1], a.rdlen[1], &pref, name, sizeof(name)));
    CU_ASSERT_EQUAL(pref, 10);
    CU_ASSERT_STRING_EQUAL(name, "mx01.subd.emailhosted.not");
    CU_ASSERT_FALSE(evidence("other.example", NULL, &a, &keep));
}

/* What mxverify would validate itself (dnssec = prefer with the root
 * anchor, a path not known to strip DNSSEC) it does not take from an
 * answer no trusted resolver validated: a forged MX of a signed zone in a
 * non-validating resolver's cache would pass where mxverify's own lookup
 * finds it bogus. Without validation (dnssec = off) it is worth as much. */
static void test_unvalidated_only_where_mxverify_would_not_validate(void)
{
    if (access("/usr/share/dns/root.key", R_OK) != 0) {
        fprintf(stderr, "\n  skipped: no root trust anchor on this machine\n");
        return;
    }
    mxv_program_mx_seen("signed.example", example_mx, 2, 300, false);
    mxv_dns_answer a;
    mxv_program_answer_storage keep;
    CU_ASSERT_FALSE(evidence("signed.example", NULL, &a, &keep));
    CU_ASSERT_TRUE(evidence("signed.example", "off", &a, &keep));
}

static void test_not_kept(void)
{
    mxv_dns_answer a;
    mxv_program_answer_storage keep;
    char long_label[80];
    memset(long_label, 'a', 70);
    strcpy(long_label + 70, ".example");
    const mxv_program_mx bad[] = {{10, long_label}};
    mxv_program_mx_seen("bad.example", bad, 1, 300, true);
    CU_ASSERT_FALSE(evidence("bad.example", NULL, &a, &keep));
    mxv_program_mx_seen("zero.example", example_mx, 2, 0, true);
    CU_ASSERT_FALSE(evidence("zero.example", NULL, &a, &keep));
    mxv_program_mx many[MXV_DNS_MAX_RECORDS + 1];
    for (size_t i = 0; i <= MXV_DNS_MAX_RECORDS; i++)
        many[i] = (mxv_program_mx){10, "mx.example"};
    mxv_program_mx_seen("many.example", many, MXV_DNS_MAX_RECORDS + 1, 300, true);
    CU_ASSERT_FALSE(evidence("many.example", NULL, &a, &keep));
    /* The null MX (RFC 7505) is an answer like any other. */
    const mxv_program_mx null_mx[] = {{0, ""}};
    mxv_program_mx_seen("null.example", null_mx, 1, 300, true);
    CU_ASSERT_FATAL(evidence("null.example", NULL, &a, &keep));
    CU_ASSERT_EQUAL(a.rdlen[0], 3);
}

static mxv_policy *policy_with(const char *key, const char *value)
{
    char err[512];
    mxv_policy *p = mxv_policy_new();
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_FATAL(mxv_policy_set(p, "mode", "required-verify-hosted", err, sizeof(err)));
    if (key)
        CU_ASSERT_FATAL(mxv_policy_set(p, key, value, err, sizeof(err)));
    return p;
}

static void test_usable_only_where_allowed(void)
{
    static const struct {
        const char *key, *value;
        bool usable;
    } rows[] = {
        {NULL, NULL, true},
        {"dnssec", "off", true},
        {"dnssec", "prefer", true},
        {"dnssec", "require", false},
        {"dane", "on", false},
        {"dane", "require", false},
        {"unbound_conf", NULL, false}, /* the world's file */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        mxv_policy *p = policy_with(rows[i].key, rows[i].value ? rows[i].value : world);
        mxv_effective e;
        mxv_policy_effective(p, "example.com", &e);
        CU_ASSERT_EQUAL(mxv_program_dns_usable(&e), rows[i].usable);
        mxv_policy_free(p);
    }
}

/* Decides the identity of `leaf` for example.com at 192.0.2.1 from the
 * caches only. */
static mxv_decision *decide(mxv_policy *p, X509 *leaf)
{
    char err[256];
    mxv_request *r = mxv_request_new();
    mxv_decision *d = mxv_decision_new();
    CU_ASSERT_FATAL(r && d);
    CU_ASSERT_FATAL(mxv_request_set(r, "domain", "example.com", err, sizeof(err)));
    CU_ASSERT_FATAL(mxv_request_set(r, "ip", "192.0.2.1", err, sizeof(err)));
    mxv_decision_begin(d, p, r, NULL);
    d->dns_cache_only = true;
    CU_ASSERT_FATAL(mxv_presented_from_cert(leaf, &d->presented));
    mxv_decide_identity(d, p, r);
    mxv_request_free(r);
    return d;
}

static bool noted(const mxv_decision *d, const char *text)
{
    for (size_t i = 0; i < d->notes.n; i++)
        if (strstr(d->notes.items[i], text))
            return true;
    return false;
}

static void test_mx_match_asks_nothing(void)
{
    mxv_program_mx_seen("example.com", example_mx, 2, 300, true);
    mxv_policy *p = policy_with(NULL, NULL);
    mxv_decision *d = decide(p, mx_cert.cert);
    CU_ASSERT_TRUE(d->matched);
    CU_ASSERT_EQUAL(d->refs[d->match_ref].source, MXV_SRC_MX);
    CU_ASSERT_EQUAL(d->refs[d->match_ref].dnssec, MXV_SEC_INSECURE);
    CU_ASSERT_TRUE(noted(d, "the program's own lookup"));
    CU_ASSERT_FALSE(d->dns_missed); /* no lookup at all: not even the PTR */
    CU_ASSERT_PTR_NULL(p->dns);     /* no resolver was set up */
    mxv_decision_free(d);
    mxv_policy_free(p);
}

static void test_ptr_asked_when_needed(void)
{
    mxv_program_mx_seen("example.com", example_mx, 2, 300, true);
    mxv_policy *p = policy_with(NULL, NULL);
    mxv_decision *d = decide(p, ptr_cert.cert);
    CU_ASSERT_FALSE(d->matched);
    CU_ASSERT_TRUE(d->dns_missed); /* the PTR step asked (the caches) */
    CU_ASSERT_TRUE(noted(d, "the program's own lookup"));
    mxv_decision_free(d);
    mxv_policy_free(p);
}

static void test_not_under_require_or_dane(void)
{
    static const char *const settings[][2] = {{"dnssec", "require"}, {"dane", "on"}};
    mxv_program_mx_seen("example.com", example_mx, 2, 300, true);
    for (size_t i = 0; i < 2; i++) {
        mxv_policy *p = policy_with(settings[i][0], settings[i][1]);
        mxv_decision *d = decide(p, mx_cert.cert);
        CU_ASSERT_FALSE(d->matched);
        CU_ASSERT_TRUE(d->dns_missed); /* its own MX lookup was wanted */
        CU_ASSERT_FALSE(noted(d, "the program's own lookup"));
        mxv_decision_free(d);
        mxv_policy_free(p);
    }
}

int main(void)
{
    static const unit_test tests[] = {
        {"an RRset kept and given back", test_kept_and_given_back},
        {"what is not kept", test_not_kept},
        {"unvalidated answers only where mxverify would not validate",
         test_unvalidated_only_where_mxverify_would_not_validate},
        {"usable only where policy.md allows", test_usable_only_where_allowed},
        {"an MX match asks nothing", test_mx_match_asks_nothing},
        {"the PTR asked only when a step needs it", test_ptr_asked_when_needed},
        {"never under dnssec = require or DANE", test_not_under_require_or_dane},
        {NULL, NULL},
    };
    return unit_run("program_dns", setup, cleanup, tests);
}
