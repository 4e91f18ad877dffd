/*
 * mxv_bench: the speed figures of the engine issue, printed (not timed
 * tests; the machine decides how fast is fast).
 *  1. identity decisions per second with DNS answers cached (target:
 *     under 10 µs each), for a domain match (no DNS) and for the worked
 *     example (MX, PTR and A answers needed);
 *  2. the cost of the verify callback in full local TLS 1.3 handshakes
 *     over an in-memory BIO pair, relative to plain OpenSSL verification
 *     (target: under 3% added).
 */
#include "decision.h"
#include "policy.h"
#include "testcert.h"

#include <openssl/err.h>
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

static const char world[] =
    "server:\n"
    "    local-zone: \".\" static\n"
    "    local-zone: \"2.0.192.in-addr.arpa.\" nodefault\n"
    "    local-data: \"example.com. 3600 IN MX 10 mx01.subd.emailhosted.not.\"\n"
    "    local-data: \"example.com. 3600 IN MX 20 mx02.subd.emailhosted.not.\"\n"
    "    local-data-ptr: \"192.0.2.1 3600 mx0a.emailhosted.not.\"\n"
    "    local-data: \"mx0a.emailhosted.not. 3600 IN A 192.0.2.1\"\n";

static mxv_policy *make_policy(const char *world_path)
{
    char err[512];
    mxv_policy *p = mxv_policy_new();
    if (!mxv_policy_set(p, "mode", "required-verify-hosted", err, sizeof(err)) ||
        !mxv_policy_set(p, "log", "none", err, sizeof(err)) ||
        (world_path && !mxv_policy_set(p, "unbound_conf", world_path, err, sizeof(err)))) {
        fprintf(stderr, "bench: %s\n", err);
        exit(1);
    }
    return p;
}

/* Identity only (chain checking is OpenSSL's, measured in part 2). */
static double identity_us(mxv_policy *p, X509 *leaf, const char *domain, const char *ip,
                          const char *expect_source, int n)
{
    char err[256];
    mxv_request *req = mxv_request_new();
    mxv_request_set(req, "domain", domain, err, sizeof(err));
    if (ip)
        mxv_request_set(req, "ip", ip, err, sizeof(err));
    double start = 0;
    for (int i = -1; i < n; i++) {
        if (i == 0)
            start = now(); /* the first round fills the caches */
        mxv_decision *d = mxv_decision_new();
        d->domain = strdup(domain);
        if (ip)
            snprintf(d->ip, sizeof(d->ip), "%s", ip);
        d->mode = MXV_MODE_REQUIRED_VERIFY_HOSTED;
        d->algorithm = MXV_ALG_HOSTED;
        d->chain_ok = true;
        mxv_presented_from_cert(leaf, &d->presented);
        mxv_decide_identity(d, p, req);
        mxv_decision_conclude(d);
        if (!d->pass || strcmp(mxv_source_name(d->refs[d->match_ref].source), expect_source)) {
            fprintf(stderr, "bench: unexpected decision\n");
            exit(1);
        }
        mxv_decision_free(d);
    }
    double us = (now() - start) / n * 1e6;
    mxv_request_free(req);
    return us;
}

/* One full TLS 1.3 handshake over a BIO pair; returns 1 on success. */
static int handshake(SSL_CTX *cctx, SSL_CTX *sctx, const char *domain)
{
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    char err[128];
    if (domain)
        mxv_ssl_set(c, "domain", domain, err, sizeof(err));
    BIO *cb, *sb;
    BIO_new_bio_pair(&cb, 0, &sb, 0);
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
    int ok = cr == 1 && sr == 1;
    SSL_free(c);
    SSL_free(s);
    return ok;
}

static SSL_CTX *client_ctx(const tc_pair *ca)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca->cert);
    return ctx;
}

int main(int argc, char **argv)
{
    int n_identity = argc > 1 ? atoi(argv[1]) : 20000;
    int n_tls = argc > 2 ? atoi(argv[2]) : 3000;
    char path[] = "/tmp/mxv-bench-world-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, world, sizeof(world) - 1) != (ssize_t)(sizeof(world) - 1))
        return 1;
    close(fd);

    tc_pair ca = tc_make_ca("bench CA", NULL);
    const tc_name worked[] = {{"CN", "*.emailhosted.not", 0},
                              {"DNS", "*.emailhosted.not", 0},
                              {"DNS", "emailhosted.not", 0},
                              {NULL, NULL, 0}};
    const tc_name domain[] = {{"DNS", "example.com", 0}, {NULL, NULL, 0}};
    tc_pair worked_leaf = tc_make_leaf(&(tc_leaf_spec){.names = worked}, &ca);
    tc_pair domain_leaf = tc_make_leaf(&(tc_leaf_spec){.names = domain}, &ca);

    mxv_policy *p = make_policy(path);
    double us_domain = identity_us(p, domain_leaf.cert, "example.com", NULL, "domain", n_identity);
    double us_worked =
        identity_us(p, worked_leaf.cert, "example.com", "192.0.2.1", "ptr", n_identity);
    printf("identity decision, domain match (no DNS):         %8.2f us  (%.0f/s)\n", us_domain,
           1e6 / us_domain);
    printf(
        "identity decision, worked example (MX+PTR+A cached): %5.2f us  (%.0f/s)  target < 10 us: "
        "%s\n",
        us_worked, 1e6 / us_worked, us_worked < 10 ? "met" : "MISSED");

    /* Part 2: handshakes, plain vs with the verify callback, interleaved
     * in rounds so drift in machine speed hits both alike. */
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(sctx, domain_leaf.cert);
    SSL_CTX_use_PrivateKey(sctx, domain_leaf.key);
    SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(sctx, 0);
    SSL_CTX *plain = client_ctx(&ca), *with = client_ctx(&ca);
    char err[256];
    if (!mxv_ssl_ctx_enable(with, p, err, sizeof(err))) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    /* Alternate one plain and one mxverify handshake, so drift in the
     * machine's speed (frequency, other load) hits both alike. */
    double t_plain = 0, t_with = 0;
    for (int i = 0; i < n_tls; i++) {
        double t0 = now();
        if (!handshake(plain, sctx, NULL))
            return fprintf(stderr, "bench: plain handshake failed\n"), 1;
        double t1 = now();
        if (!handshake(with, sctx, "example.com"))
            return fprintf(stderr, "bench: mxverify handshake failed\n"), 1;
        t_plain += t1 - t0;
        t_with += now() - t1;
    }
    int total = n_tls;
    double added = (t_with / t_plain - 1) * 100;
    printf("TLS 1.3 handshakes, plain OpenSSL verification:   %8.0f/s\n", total / t_plain);
    printf("TLS 1.3 handshakes, with the mxverify callback:   %8.0f/s\n", total / t_with);
    printf("added by the verify callback:                     %+7.2f %%  target < 3 %%: %s\n",
           added, added < 3 ? "met" : "MISSED");

    SSL_CTX_free(plain);
    SSL_CTX_free(with);
    SSL_CTX_free(sctx);
    mxv_policy_free(p);
    tc_free(&worked_leaf);
    tc_free(&domain_leaf);
    tc_free(&ca);
    unlink(path);
    return 0;
}
