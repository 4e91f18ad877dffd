/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mxv_bench [IDENTITY_N [HANDSHAKES_N]]: the speed figures of the engine,
 * printed (not timed tests; the machine decides how fast is fast).
 *
 *  1. Decisions per second with DNS answers cached (target: under 10 µs
 *     each). The policy's unbound_conf is a local-data copy of the worked
 *     example (examples/sandbox/world.conf); the first decision fills
 *     libunbound's cache, the timed ones are answered from it.
 *       - the worked example: example.com, connected to 192.0.2.1, leaf
 *         *.emailhosted.not; matches on the forward-confirmed PTR name, so
 *         it needs the MX, PTR and A answers;
 *       - a domain match (leaf example.com): no DNS at all.
 *     Each is timed through mxv_decide() (the public API: chain check with
 *     X509_verify_cert() plus identity) and as the identity part alone
 *     (mxv_decide() without the chain check, which is OpenSSL's work and
 *     also part of any TLS handshake).
 *  2. The cost of the verify callback in full TLS 1.3 handshakes over an
 *     in-memory BIO pair (no session resumption), relative to plain
 *     OpenSSL verification (target: under 3% added). Client: VERIFY_PEER
 *     with the CA; once plain, once with mxv_ssl_ctx_enable() under
 *     required-verify-hosted and the request domain matching the leaf's
 *     SAN (no DNS). Plain and mxverify handshakes alternate, so drift in
 *     the machine's speed hits both alike.
 *  3. DANE-EE in full handshakes (target: a program doing DANE itself
 *     keeps at least 0.97 of its handshake rate with mxverify loaded): the
 *     server's certificate self-signed, its key published as "3 1 1"; a
 *     client doing DANE with OpenSSL's own calls (SSL_dane_enable,
 *     SSL_dane_tlsa_add) alone, and with mxverify's callback deciding by
 *     DANE too (dane = on, the record given to mxv_ssl_set: no DNS). For
 *     information, a client with no DANE of its own (SSL_VERIFY_NONE, as
 *     Postfix at level may) and mxverify's DANE.
 *
 * Run: cmake --build BUILD --target bench (Release build for real figures).
 */
#include "decision.h"
#include "policy.h"
#include "testcert.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A copy of examples/sandbox/world.conf (the worked example, policy.md 5). */
static const char world[] =
    "server:\n"
    "    local-zone: \".\" static\n"
    "    local-zone: \"2.0.192.in-addr.arpa.\" nodefault\n"
    "    local-zone: \"test.\" nodefault\n"
    "    local-zone: \"invalid.\" nodefault\n"
    "    local-data: \"example.com. 3600 IN MX 10 mx01.subd.emailhosted.not.\"\n"
    "    local-data: \"example.com. 3600 IN MX 20 mx02.subd.emailhosted.not.\"\n"
    "    local-data: \"mx01.subd.emailhosted.not. 3600 IN A 192.0.2.1\"\n"
    "    local-data: \"mx02.subd.emailhosted.not. 3600 IN A 192.0.2.2\"\n"
    "    local-data-ptr: \"192.0.2.1 3600 mx0a.emailhosted.not.\"\n"
    "    local-data-ptr: \"192.0.2.2 3600 mx0b.emailhosted.not.\"\n"
    "    local-data: \"mx0a.emailhosted.not. 3600 IN A 192.0.2.1\"\n"
    "    local-data: \"mx0b.emailhosted.not. 3600 IN A 192.0.2.2\"\n"
    "    local-data-ptr: \"192.0.2.3 3600 mx0a.emailhosted.not.\"\n";

static void die(const char *what)
{
    fprintf(stderr, "mxv_bench: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static void set(mxv_policy *p, const char *key, const char *value)
{
    char err[512];
    if (!mxv_policy_set(p, key, value, err, sizeof(err)))
        die(err);
}

static mxv_request *make_request(const char *domain, const char *ip)
{
    char err[256];
    mxv_request *req = mxv_request_new();
    if (!req || !mxv_request_set(req, "domain", domain, err, sizeof(err)) ||
        (ip && !mxv_request_set(req, "ip", ip, err, sizeof(err))))
        die("cannot build the request");
    return req;
}

/* mxv_decide() without the chain check: what it does after X509_verify_cert(). */
static mxv_decision *decide_identity(mxv_policy *p, const mxv_request *req, X509 *leaf)
{
    mxv_decision *d = mxv_decision_new();
    if (!d)
        die("out of memory");
    mxv_decision_begin(d, p, req, NULL);
    mxv_presented_from_cert(leaf, &d->presented);
    d->chain_checked = d->chain_ok = true;
    mxv_decide_identity(d, p, req);
    mxv_decision_conclude(d);
    return d;
}

/* µs per decision, after one untimed decision that fills the caches. */
static double decision_us(mxv_policy *p, X509 *leaf, const char *domain, const char *ip,
                          const char *expect_source, bool with_chain, int n)
{
    mxv_request *req = make_request(domain, ip);
    double start = 0;
    for (int i = -1; i < n; i++) {
        if (i == 0)
            start = now();
        mxv_decision *d =
            with_chain ? mxv_decide(p, req, leaf, NULL) : decide_identity(p, req, leaf);
        if (!d || !mxv_decision_passed(d) || !d->matched ||
            strcmp(mxv_source_name(d->refs[d->match_ref].source), expect_source) != 0) {
            char *trace = d ? mxv_decision_format(d, MXV_FORMAT_TEXT) : NULL;
            fprintf(stderr, "%s\n", trace ? trace : "");
            die("unexpected decision (the trace above says why)");
        }
        mxv_decision_free(d);
    }
    double us = (now() - start) / n * 1e6;
    mxv_request_free(req);
    return us;
}

/* What a client sets on each SSL before its handshake. */
typedef struct {
    const char *domain;          /* mxverify's request: its decision must pass */
    const char *tlsa;            /* with domain: the record given to mxverify */
    const char *mx;              /* the MX host (mxverify's, and OpenSSL's DANE base) */
    const unsigned char *digest; /* the record's SHA-256: DANE by OpenSSL, which must match */
} client_setup;

static void set_up(SSL *c, const client_setup *cs)
{
    char err[256];
    if (cs->domain) {
        if (!mxv_ssl_set(c, "domain", cs->domain, err, sizeof(err)) ||
            (cs->tlsa && (!mxv_ssl_set(c, "mx", cs->mx, err, sizeof(err)) ||
                          !mxv_ssl_set(c, "tlsa", cs->tlsa, err, sizeof(err)))))
            die(err);
    }
    if (cs->digest) {
        if (SSL_dane_enable(c, cs->mx) <= 0 || SSL_dane_tlsa_add(c, 3, 1, 1, cs->digest, 32) <= 0)
            die("cannot enable OpenSSL's DANE");
        SSL_dane_set_flags(c, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    }
}

/* One full TLS handshake over a BIO pair, the client set up as `cs` says;
 * an mxverify decision must have been made and passed, and DANE by
 * OpenSSL must have matched. */
static void handshake(SSL_CTX *cctx, SSL_CTX *sctx, const client_setup *cs)
{
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    BIO *cb, *sb;
    if (!c || !s || !BIO_new_bio_pair(&cb, 0, &sb, 0))
        die("cannot set up a handshake");
    set_up(c, cs);
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    int cr = 0, sr = 0;
    for (int round = 0; round < 20 && (cr != 1 || sr != 1); round++) {
        if (cr != 1)
            cr = SSL_do_handshake(c);
        if (sr != 1)
            sr = SSL_do_handshake(s);
    }
    if (cr != 1 || sr != 1)
        die("handshake failed");
    if (SSL_version(c) != TLS1_3_VERSION || SSL_session_reused(c))
        die("not a full TLS 1.3 handshake");
    if (cs->domain && !mxv_decision_passed(mxv_ssl_decision(c)))
        die("the mxverify decision did not pass");
    if (cs->digest && SSL_get0_dane_authority(c, NULL, NULL) != 0)
        die("OpenSSL's DANE did not match the leaf");
    SSL_free(c);
    SSL_free(s);
}

/* n handshakes by each of two clients, alternating which goes first (so
 * neither always runs on a warm cache); their total times. */
static void alternate(SSL_CTX *a, const client_setup *as, SSL_CTX *b, const client_setup *bs,
                      SSL_CTX *sctx, int n, double *ta, double *tb)
{
    handshake(a, sctx, as); /* warm-up: lazy loading on both sides */
    handshake(b, sctx, bs);
    *ta = *tb = 0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
            bool second = (k == 0) != (i % 2 == 0);
            double s = now();
            handshake(second ? b : a, sctx, second ? bs : as);
            *(second ? tb : ta) += now() - s;
        }
    }
}

/* A TLS 1.3 client without a session cache: verify mode `mode`, DANE
 * enabled (OpenSSL's) when `dane`, mxverify's callback when `policy`. */
static SSL_CTX *dane_client(int mode, bool dane, mxv_policy *policy)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    char err[256];
    if (!ctx || (dane && SSL_CTX_dane_enable(ctx) <= 0))
        die("cannot set up a DANE client");
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, mode, NULL);
    if (policy && !mxv_ssl_ctx_enable(ctx, policy, err, sizeof(err)))
        die(err);
    return ctx;
}

static void print_pair(const char *a_name, double ta, const char *b_name, double tb, int n,
                       bool target)
{
    printf("  %-52s %8.0f/s  %8.1f us each\n", a_name, n / ta, ta / n * 1e6);
    printf("  %-52s %8.0f/s  %8.1f us each\n", b_name, n / tb, tb / n * 1e6);
    printf("  %-52s %8.3f  %s\n", "rate ratio", ta / tb,
           !target           ? "(for information)"
           : ta / tb >= 0.97 ? "(>= 0.97: met)"
                             : "(>= 0.97: MISSED)");
}

/* Part 3: DANE-EE (see the top). */
static void dane_handshakes(mxv_policy *p, int n)
{
    const tc_name wrong[] = {{"DNS", "not-the-mx.example", 0}, {NULL, NULL, 0}};
    tc_pair server = tc_make_leaf(&(tc_leaf_spec){.names = wrong, .self_signed = true}, NULL);
    unsigned char *der = NULL, digest[32];
    unsigned int dlen = 0;
    int len = server.cert ? i2d_PUBKEY(X509_get0_pubkey(server.cert), &der) : -1;
    if (len <= 0 || !EVP_Digest(der, (size_t)len, digest, &dlen, EVP_sha256(), NULL))
        die("cannot make the DANE-EE server");
    OPENSSL_free(der);
    char record[128] = "3 1 1 ";
    for (unsigned i = 0; i < dlen; i++)
        snprintf(record + strlen(record), sizeof(record) - strlen(record), "%02x", digest[i]);
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    if (!sctx || SSL_CTX_use_certificate(sctx, server.cert) != 1 ||
        SSL_CTX_use_PrivateKey(sctx, server.key) != 1)
        die("cannot set up the DANE server");
    SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(sctx, 0);
    set(p, "dane", "on");
    set(p, "mode", "none");
    SSL_CTX *own = dane_client(SSL_VERIFY_PEER, true, NULL);
    SSL_CTX *own_with = dane_client(SSL_VERIFY_PEER, true, p);
    SSL_CTX *plain_with = dane_client(SSL_VERIFY_NONE, false, p);
    const client_setup by_openssl = {.mx = "mx.example.com", .digest = digest};
    const client_setup both = {
        .domain = "example.com", .mx = "mx.example.com", .tlsa = record, .digest = digest};
    const client_setup by_mxverify = {
        .domain = "example.com", .mx = "mx.example.com", .tlsa = record};
    double t_own, t_both, t_own2, t_mxv;
    alternate(own, &by_openssl, own_with, &both, sctx, n, &t_own, &t_both);
    alternate(own, &by_openssl, plain_with, &by_mxverify, sctx, n / 2, &t_own2, &t_mxv);
    printf("DANE-EE handshakes over a BIO pair (%d each, alternating; target: rate ratio >= "
           "0.97):\n",
           n);
    print_pair("a program doing DANE itself (OpenSSL)", t_own,
               "the same, mxverify loaded (dane = on; checks it too)", t_both, n, true);
    printf("and a program that does no DANE (SSL_VERIFY_NONE, the system CAs), DANE by\n"
           "mxverify alone; its own PKIX check of the self-signed leaf (a signature check\n"
           "OpenSSL's DANE-EE skips) still runs and is most of the difference:\n");
    print_pair("a program doing DANE itself (OpenSSL)", t_own2, "no DANE of its own, mxverify's",
               t_mxv, n / 2, false);
    SSL_CTX_free(own);
    SSL_CTX_free(own_with);
    SSL_CTX_free(plain_with);
    SSL_CTX_free(sctx);
    tc_free(&server);
}

static SSL_CTX *client_ctx(const tc_pair *ca)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        die("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* Both clients get the system CAs (mxv_ssl_ctx_enable adds them to its
     * store anyway), so the two stores are alike. */
    SSL_CTX_set_default_verify_paths(ctx);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca->cert);
    return ctx;
}

/* The target is for identity decisions; a full mxv_decide also verifies
 * the chain's signatures (OpenSSL's cost), shown for reference only. */
static void print_decision(const char *what, double us, bool identity)
{
    printf("  %-52s %8.2f us  %9.0f/s  %s\n", what, us, 1e6 / us,
           !identity ? "(reference: mostly ECDSA in X509_verify_cert)"
           : us < 10 ? "(< 10 us: met)"
                     : "(< 10 us: MISSED)");
}

int main(int argc, char **argv)
{
    int n_identity = argc > 1 ? atoi(argv[1]) : 20000;
    int n_tls = argc > 2 ? atoi(argv[2]) : 2000;
    if (n_identity < 1 || n_tls < 1)
        die("usage: mxv_bench [IDENTITY_N [HANDSHAKES_N]]");
    char world_path[] = "/tmp/mxv-bench-world-XXXXXX", ca_path[] = "/tmp/mxv-bench-ca-XXXXXX";
    int fd = mkstemp(world_path);
    if (fd < 0 || write(fd, world, sizeof(world) - 1) != (ssize_t)(sizeof(world) - 1))
        die("cannot write the unbound configuration");
    close(fd);
    fd = mkstemp(ca_path);
    if (fd < 0)
        die("cannot create the CA file");
    close(fd);

    tc_pair ca = tc_make_ca("bench CA", NULL);
    const tc_name worked[] = {{"CN", "*.emailhosted.not", 0},
                              {"DNS", "*.emailhosted.not", 0},
                              {"DNS", "emailhosted.not", 0},
                              {NULL, NULL, 0}};
    const tc_name domain[] = {{"DNS", "example.com", 0}, {NULL, NULL, 0}};
    tc_pair worked_leaf = tc_make_leaf(&(tc_leaf_spec){.names = worked}, &ca);
    tc_pair domain_leaf = tc_make_leaf(&(tc_leaf_spec){.names = domain}, &ca);
    if (!ca.cert || !worked_leaf.cert || !domain_leaf.cert || !tc_write_pem(ca_path, &ca.cert, 1))
        die("cannot make the test certificates");

    mxv_policy *p = mxv_policy_new();
    set(p, "mode", "required-verify-hosted");
    set(p, "log", "none");
    set(p, "unbound_conf", world_path);
    set(p, "ca_file", ca_path);

    printf("decisions, DNS answers cached (%d each; target: identity under 10 us):\n", n_identity);
    double t0 = now();
    print_decision(
        "worked example, mxv_decide (chain + identity)",
        decision_us(p, worked_leaf.cert, "example.com", "192.0.2.1", "ptr", true, n_identity),
        false);
    print_decision(
        "worked example, identity alone (MX+PTR+A cached)",
        decision_us(p, worked_leaf.cert, "example.com", "192.0.2.1", "ptr", false, n_identity),
        true);
    print_decision(
        "domain match, mxv_decide (chain + identity)",
        decision_us(p, domain_leaf.cert, "example.com", NULL, "domain", true, n_identity), false);
    print_decision(
        "domain match, identity alone (no DNS)",
        decision_us(p, domain_leaf.cert, "example.com", NULL, "domain", false, n_identity), true);
    double t_decisions = now() - t0;

    /* Part 2: full handshakes, plain against the mxverify callback. */
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    if (!sctx || SSL_CTX_use_certificate(sctx, domain_leaf.cert) != 1 ||
        SSL_CTX_use_PrivateKey(sctx, domain_leaf.key) != 1)
        die("cannot set up the server");
    SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(sctx, 0);
    SSL_CTX *plain = client_ctx(&ca), *with = client_ctx(&ca);
    char err[256];
    if (!mxv_ssl_ctx_enable(with, p, err, sizeof(err)))
        die(err);
    const client_setup none = {0}, domain_only = {.domain = "example.com"};
    double t_plain, t_with;
    alternate(plain, &none, with, &domain_only, sctx, n_tls, &t_plain, &t_with);
    double added = (t_with / t_plain - 1) * 100;
    printf("TLS 1.3 handshakes over a BIO pair (%d each, alternating; target: under 3%% "
           "added):\n",
           n_tls);
    printf("  %-52s %8.0f/s  %8.1f us each\n", "plain OpenSSL verification", n_tls / t_plain,
           t_plain / n_tls * 1e6);
    printf("  %-52s %8.0f/s  %8.1f us each\n", "with the mxverify callback", n_tls / t_with,
           t_with / n_tls * 1e6);
    printf("  %-52s %+8.2f %%  %+8.1f us each  %s\n", "added by the verify callback", added,
           (t_with - t_plain) / n_tls * 1e6, added < 3 ? "(< 3 %: met)" : "(< 3 %: MISSED)");
    printf("(decisions %.1f s, handshakes %.1f s)\n", t_decisions, t_plain + t_with);
    dane_handshakes(p, n_tls);

    SSL_CTX_free(plain);
    SSL_CTX_free(with);
    SSL_CTX_free(sctx);
    mxv_policy_free(p);
    tc_free(&worked_leaf);
    tc_free(&domain_leaf);
    tc_free(&ca);
    unlink(world_path);
    unlink(ca_path);
    return 0;
}
