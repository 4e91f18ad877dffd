/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verify-callback API (mxv_ssl_ctx_enable) in real TLS 1.3 handshakes
 * between two OpenSSL endpoints over an in-memory BIO pair: what the
 * client program sees (handshake result, SSL_get_verify_result) and the
 * decision mxverify records, for the settings of policy.md section 3 and
 * the promises of interfaces.md (chain never relaxed, a program's own
 * rejection never overturned, the program's checks untouched when the
 * policy does not enforce).
 */
#include "mxverify.h"
#include "testcert.h"

#include <CUnit/Basic.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tc_pair ca, other_ca, leaf, untrusted_leaf;
static char world[] = "/tmp/mxv-ssl-api-XXXXXX";

static int setup(void)
{
    /* An empty DNS world: every lookup is answered NXDOMAIN locally, so
     * no test reaches for the network and MX evidence is simply absent. */
    int fd = mkstemp(world);
    static const char conf[] = "server:\n    local-zone: \".\" static\n";
    if (fd < 0 || write(fd, conf, sizeof(conf) - 1) != (ssize_t)(sizeof(conf) - 1))
        return 1;
    close(fd);
    ca = tc_make_ca("api test CA", NULL);
    other_ca = tc_make_ca("unknown CA", NULL);
    const tc_name names[] = {
        {"DNS", "mx.example.com", 0}, {"DNS", "example.com", 0}, {NULL, NULL, 0}};
    leaf = tc_make_leaf(&(tc_leaf_spec){.names = names}, &ca);
    untrusted_leaf = tc_make_leaf(&(tc_leaf_spec){.names = names}, &other_ca);
    return 0;
}

static int teardown(void)
{
    unlink(world);
    tc_free(&ca);
    tc_free(&other_ca);
    tc_free(&leaf);
    tc_free(&untrusted_leaf);
    return 0;
}

typedef struct {
    const char *mode;         /* policy mode */
    const char *domain;       /* mxv_ssl_set(ssl, "domain", ...) */
    bool report_only;         /* policy report_only = 1 */
    int program_verify;       /* SSL_VERIFY_PEER or SSL_VERIFY_NONE */
    const char *program_host; /* SSL_set1_host by the program, or NULL */
    bool program_rejects;     /* the program's verify callback says no */
    bool server_untrusted;    /* server certificate from an unknown CA */
    bool dup;                 /* the handshake is a copy's, made by SSL_dup() */
} scenario;

typedef struct {
    bool handshake_ok;
    long verify_result;
    bool has_decision;
    bool passed;
    bool aborts;
    char reason[64];
} outcome;

static int rejecting_cb(int ok, X509_STORE_CTX *x)
{
    (void)ok, (void)x;
    return 0;
}

static X509_STORE *trust_store(void)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_add_cert(store, ca.cert);
    return store;
}

/* One handshake of client against a new server SSL of sctx, in memory:
 * true when the client's completed. */
static bool handshake(SSL *client, SSL_CTX *sctx)
{
    SSL *srv = SSL_new(sctx);
    BIO *cbio, *sbio;
    BIO_new_bio_pair(&cbio, 0, &sbio, 0);
    SSL_set_bio(client, cbio, cbio);
    SSL_set_bio(srv, sbio, sbio);
    SSL_set_connect_state(client);
    SSL_set_accept_state(srv);
    int crc = -1, src = -1;
    for (int round = 0; round < 50 && (crc != 1 || src != 1); round++) {
        if (crc != 1) {
            crc = SSL_do_handshake(client);
            if (crc <= 0 && SSL_get_error(client, crc) != SSL_ERROR_WANT_READ)
                break;
        }
        if (src != 1) {
            src = SSL_do_handshake(srv);
            if (src <= 0 && SSL_get_error(srv, src) != SSL_ERROR_WANT_READ)
                break;
        }
    }
    SSL_free(srv);
    return crc == 1;
}

static outcome run(const scenario *s)
{
    outcome out = {0};
    char err[512];
    mxv_policy *policy = mxv_policy_new();
    CU_ASSERT_FATAL(policy != NULL);
    CU_ASSERT_FATAL(mxv_policy_set(policy, "mode", s->mode, err, sizeof(err)));
    CU_ASSERT_FATAL(mxv_policy_set(policy, "log", "none", err, sizeof(err)));
    CU_ASSERT_FATAL(mxv_policy_set(policy, "unbound_conf", world, err, sizeof(err)));
    if (s->report_only)
        CU_ASSERT_FATAL(mxv_policy_set(policy, "report_only", "1", err, sizeof(err)));

    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    const tc_pair *server = s->server_untrusted ? &untrusted_leaf : &leaf;
    SSL_CTX_use_certificate(sctx, server->cert);
    SSL_CTX_use_PrivateKey(sctx, server->key);

    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
    SSL_CTX_set_cert_store(cctx, trust_store());
    SSL_CTX_set_verify(cctx, s->program_verify, s->program_rejects ? rejecting_cb : NULL);
    CU_ASSERT_FATAL(mxv_ssl_ctx_enable(cctx, policy, err, sizeof(err)));

    SSL *client = SSL_new(cctx);
    if (s->domain)
        CU_ASSERT_FATAL(mxv_ssl_set(client, "domain", s->domain, err, sizeof(err)));
    if (s->program_host)
        SSL_set1_host(client, s->program_host);
    SSL *original = NULL;
    if (s->dup) {
        original = client;
        client = SSL_dup(original);
        CU_ASSERT_FATAL(client != NULL && client != original);
    }
    out.handshake_ok = handshake(client, sctx);
    out.verify_result = SSL_get_verify_result(client);
    const mxv_decision *d = mxv_ssl_decision(client);
    out.has_decision = d != NULL;
    if (d) {
        out.passed = mxv_decision_passed(d);
        out.aborts = mxv_decision_aborts(d);
        const char *r = mxv_decision_reason(d);
        snprintf(out.reason, sizeof(out.reason), "%s", r ? r : "");
    }
    SSL_free(client);
    SSL_free(original); /* after the copy: each frees its own state */
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    mxv_policy_free(policy);
    ERR_clear_error();
    return out;
}

/* hosted: the recipient domain is a DNS-ID of the certificate. */
static void test_hosted_pass(void)
{
    outcome o = run(
        &(scenario){"required-verify-hosted", "example.com", .program_verify = SSL_VERIFY_PEER});
    CU_ASSERT_TRUE(o.handshake_ok);
    CU_ASSERT_EQUAL(o.verify_result, X509_V_OK);
    CU_ASSERT_TRUE(o.has_decision);
    CU_ASSERT_TRUE(o.passed);
}

/* SSL_dup() of an SSL the caller gave its domain: the copy decides with
 * that domain, from a state of its own (before: both SSLs shared one,
 * freed twice). */
static void test_dup_keeps_callers_domain(void)
{
    outcome o = run(&(scenario){"required-verify-hosted", "example.com",
                                .program_verify = SSL_VERIFY_PEER, .dup = true});
    CU_ASSERT_TRUE(o.handshake_ok);
    CU_ASSERT_TRUE(o.has_decision);
    CU_ASSERT_TRUE(o.passed);
    o = run(&(scenario){"required-verify-hosted", "other.example",
                        .program_verify = SSL_VERIFY_PEER, .dup = true});
    CU_ASSERT_FALSE(o.handshake_ok);
    CU_ASSERT_STRING_EQUAL(o.reason, "certificate-host-mismatch");
}

/* Enforcing mode, no name matches: the handshake fails, and the program
 * reads a host-name mismatch from SSL_get_verify_result. */
static void test_hosted_mismatch_aborts(void)
{
    outcome o = run(
        &(scenario){"required-verify-hosted", "other.example", .program_verify = SSL_VERIFY_PEER});
    CU_ASSERT_FALSE(o.handshake_ok);
    CU_ASSERT_EQUAL(o.verify_result, X509_V_ERR_HOSTNAME_MISMATCH);
    CU_ASSERT_TRUE(o.aborts);
    CU_ASSERT_STRING_EQUAL(o.reason, "certificate-host-mismatch");
}

/* policy.md 3: enforcing even when the program itself verifies nothing
 * (curl -k, most MTAs at level "may"). */
static void test_enforced_under_verify_none(void)
{
    outcome o = run(
        &(scenario){"required-verify-hosted", "other.example", .program_verify = SSL_VERIFY_NONE});
    CU_ASSERT_FALSE(o.handshake_ok);
    CU_ASSERT_TRUE(o.aborts);
}

/* Chain checks are never relaxed: unknown CA fails even with VERIFY_NONE. */
static void test_unknown_ca_aborts_under_verify_none(void)
{
    outcome o = run(&(scenario){"required-verify-hosted", "example.com",
                                .program_verify = SSL_VERIFY_NONE, .server_untrusted = true});
    CU_ASSERT_FALSE(o.handshake_ok);
    CU_ASSERT_FALSE(o.passed);
    CU_ASSERT_STRING_EQUAL(o.reason, "certificate-not-trusted");
}

/* The policy replaces the program's host-name check in enforcing modes:
 * the program asked for mx.other.example, the policy verifies via domain. */
static void test_policy_replaces_program_host(void)
{
    outcome o =
        run(&(scenario){"required-verify-hosted", "example.com", .program_verify = SSL_VERIFY_PEER,
                        .program_host = "mx.other.example"});
    CU_ASSERT_TRUE(o.handshake_ok);
    CU_ASSERT_TRUE(o.passed);
}

/* A rejection by the program's own verify callback is never overturned,
 * even when the policy would accept. */
static void test_program_rejection_stands(void)
{
    outcome o = run(&(scenario){"required-verify-hosted", "example.com",
                                .program_verify = SSL_VERIFY_PEER, .program_rejects = true});
    CU_ASSERT_FALSE(o.handshake_ok);
}

/* preferred-verify: a failure is logged, mail proceeds encrypted. */
static void test_preferred_verify_proceeds(void)
{
    outcome o =
        run(&(scenario){"preferred-verify", "other.example", .program_verify = SSL_VERIFY_NONE});
    CU_ASSERT_TRUE(o.handshake_ok);
    CU_ASSERT_TRUE(o.has_decision);
    CU_ASSERT_FALSE(o.passed);
    CU_ASSERT_FALSE(o.aborts);
}

/* preferred-verify does not enforce, so the program's own host check
 * stays in force: a program that asked for a name it does not get still
 * fails, as it would without mxverify. */
static void test_non_enforcing_keeps_program_check(void)
{
    outcome o =
        run(&(scenario){"preferred-verify", "example.com", .program_verify = SSL_VERIFY_PEER,
                        .program_host = "mx.other.example"});
    CU_ASSERT_FALSE(o.handshake_ok);
    CU_ASSERT_EQUAL(o.verify_result, X509_V_ERR_HOSTNAME_MISMATCH);
}

/* report_only: decide and log, never enforce. */
static void test_report_only(void)
{
    outcome o = run(&(scenario){"required-verify-hosted", "other.example", .report_only = true,
                                .program_verify = SSL_VERIFY_NONE});
    CU_ASSERT_TRUE(o.handshake_ok);
    CU_ASSERT_FALSE(o.passed);
    CU_ASSERT_FALSE(o.aborts);
}

/* Modes that do not verify leave the handshake exactly as the program
 * configured it, and record no decision. */
static void test_required_does_not_verify(void)
{
    outcome o = run(&(scenario){"required", "other.example", .program_verify = SSL_VERIFY_NONE,
                                .server_untrusted = true});
    CU_ASSERT_TRUE(o.handshake_ok);
    CU_ASSERT_FALSE(o.has_decision);
}

/* Fail closed: no recipient domain and no other reference identifier. */
static void test_no_reference_fails_closed(void)
{
    outcome o = run(&(scenario){"required-verify-hosted", NULL, .program_verify = SSL_VERIFY_NONE});
    CU_ASSERT_FALSE(o.handshake_ok);
    CU_ASSERT_STRING_EQUAL(o.reason, "validation-failure");
}

/* verify (Required - Verify) accepts the domain as a DNS-ID too. */
static void test_verify_domain(void)
{
    outcome o =
        run(&(scenario){"required-verify", "example.com", .program_verify = SSL_VERIFY_PEER});
    CU_ASSERT_TRUE(o.handshake_ok);
    CU_ASSERT_TRUE(o.passed);
}

/* An SSL used again (SSL_clear()) for another destination carries over
 * nothing the program revealed for the last one: the second handshake is
 * judged by the name the program gave for it, not the first one's (which
 * the certificate matches; the session the first left is offered too, and
 * is decided for the second name). */
static void test_cleared_ssl_forgets_program_host(void)
{
    char err[512];
    mxv_policy *policy = mxv_policy_new();
    CU_ASSERT_FATAL(policy != NULL);
    CU_ASSERT_FATAL(mxv_policy_set(policy, "mode", "required-verify-hosted", err, sizeof(err)));
    CU_ASSERT_FATAL(mxv_policy_set(policy, "log", "none", err, sizeof(err)));
    CU_ASSERT_FATAL(mxv_policy_set(policy, "unbound_conf", world, err, sizeof(err)));
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(sctx, leaf.cert);
    SSL_CTX_use_PrivateKey(sctx, leaf.key);
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_cert_store(cctx, trust_store());
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
    CU_ASSERT_FATAL(mxv_ssl_ctx_enable(cctx, policy, err, sizeof(err)));
    SSL *client = SSL_new(cctx);
    SSL_set1_host(client, "mx.example.com");
    CU_ASSERT_TRUE(handshake(client, sctx));
    CU_ASSERT_TRUE(mxv_ssl_decision(client) && mxv_decision_passed(mxv_ssl_decision(client)));
    CU_ASSERT_EQUAL(SSL_clear(client), 1);
    SSL_set1_host(client, "mx.other.example");
    CU_ASSERT_FALSE(handshake(client, sctx));
    CU_ASSERT_TRUE(mxv_ssl_decision(client) && mxv_decision_aborts(mxv_ssl_decision(client)));
    /* What the program sets itself (mxv_ssl_set) stays: the MX it names
     * now, over the name it gives OpenSSL, which the certificate does not
     * match. */
    CU_ASSERT_EQUAL(SSL_clear(client), 1);
    CU_ASSERT_FATAL(mxv_ssl_set(client, "mx", "mx.example.com", err, sizeof(err)));
    CU_ASSERT_TRUE(handshake(client, sctx));
    CU_ASSERT_TRUE(mxv_ssl_decision(client) && mxv_decision_passed(mxv_ssl_decision(client)));
    CU_ASSERT_EQUAL(SSL_clear(client), 1);
    CU_ASSERT_TRUE(handshake(client, sctx));
    CU_ASSERT_TRUE(mxv_ssl_decision(client) && mxv_decision_passed(mxv_ssl_decision(client)));
    SSL_free(client);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    mxv_policy_free(policy);
    ERR_clear_error();
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite suite = CU_add_suite("ssl_api", setup, teardown);
    CU_add_test(suite, "hosted pass", test_hosted_pass);
    CU_add_test(suite, "hosted mismatch aborts", test_hosted_mismatch_aborts);
    CU_add_test(suite, "an SSL_dup() copy keeps the caller's domain, in a state of its own",
                test_dup_keeps_callers_domain);
    CU_add_test(suite, "enforced under VERIFY_NONE", test_enforced_under_verify_none);
    CU_add_test(suite, "unknown CA aborts under VERIFY_NONE",
                test_unknown_ca_aborts_under_verify_none);
    CU_add_test(suite, "policy replaces program host", test_policy_replaces_program_host);
    CU_add_test(suite, "program rejection stands", test_program_rejection_stands);
    CU_add_test(suite, "preferred-verify proceeds", test_preferred_verify_proceeds);
    CU_add_test(suite, "non-enforcing keeps program check", test_non_enforcing_keeps_program_check);
    CU_add_test(suite, "report only", test_report_only);
    CU_add_test(suite, "required does not verify", test_required_does_not_verify);
    CU_add_test(suite, "no reference fails closed", test_no_reference_fails_closed);
    CU_add_test(suite, "verify via domain", test_verify_domain);
    CU_add_test(suite, "a cleared SSL forgets the program's host",
                test_cleared_ssl_forgets_program_host);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failures ? 1 : 0;
}
