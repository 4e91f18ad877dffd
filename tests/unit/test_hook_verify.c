/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_hook_verify: the hook's certificate callback (provider, shim) and
 * its checkpoint at the server's signature read the same settings as the
 * decision they follow. A program that names its recipient domain with
 * mxv_ssl_set() gets that domain's settings throughout: before, the
 * decision took the domain's mode (none: nothing to decide), while the
 * hook judged "no decision" against the global mode, logged an abort, and
 * the checkpoint failed a handshake the settings let through.
 *
 * Real TLS 1.3 handshakes over loopback TCP (the hook's scope is a TCP
 * port), with mxverify's hooks installed as the provider installs them.
 */
#include "hook.h"
#include "mxverify.h"
#include "hook_harness.h"
#include "testcert.h"
#include "unit_main.h"

#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static tc_pair ca, leaf, leaf_a;
static int listener = -1, resuming_listener = -1;
static unsigned short port, resuming_port;
static pid_t resuming_server = -1;
static char world[] = "/tmp/mxv-hook-verify-XXXXXX";
static char conf[] = "/tmp/mxv-hook-verify-conf-XXXXXX";

static int sni_acknowledged(SSL *ssl, int *al, void *arg)
{
    (void)ssl, (void)al, (void)arg;
    return SSL_TLSEXT_ERR_OK; /* any name: the session's goes with it */
}

/* The server of the resumption test: TLS 1.2 with a session cache, the
 * certificate of mx.a.example, any SNI acknowledged (so the client's
 * session keeps the name). A process of its own, started before mxverify
 * decides anything (a child of a process that did abandons the DNS
 * context, which is not carried over fork: a leak to valgrind): its
 * socket sends too, and a BIO's connection is told by the one in-scope
 * socket that sent. */
static void resuming_server_run(void)
{
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    if (!sctx)
        _exit(1);
    SSL_CTX_use_certificate(sctx, leaf_a.cert);
    SSL_CTX_use_PrivateKey(sctx, leaf_a.key);
    SSL_CTX_set_max_proto_version(sctx, TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_tlsext_servername_callback(sctx, sni_acknowledged);
    alarm(300);                 /* gone in five minutes (valgrind), whatever becomes of the test */
    for (int i = 0; i < 8; i++) /* bounded: the test makes 4 connections */
        hh_serve_one(resuming_listener, sctx);
    SSL_CTX_free(sctx);
    tc_free(&ca);
    tc_free(&leaf);
    tc_free(&leaf_a);
    _exit(0);
}

static int setup(void)
{
    signal(SIGPIPE, SIG_IGN); /* a server writing to a client that gave up */
    ca = tc_make_ca("hook test CA", NULL);
    /* A name no reference identifier of these tests matches. */
    const tc_name names[] = {{"DNS", "unrelated.example.org", 0}, {NULL, NULL, 0}};
    leaf = tc_make_leaf(&(tc_leaf_spec){.names = names}, &ca);
    const tc_name names_a[] = {{"DNS", "mx.a.example", 0}, {NULL, NULL, 0}};
    leaf_a = tc_make_leaf(&(tc_leaf_spec){.names = names_a}, &ca);
    if ((listener = hh_listen(&port)) < 0 || (resuming_listener = hh_listen(&resuming_port)) < 0)
        return 1;
    /* No DNS: every lookup NXDOMAIN, locally. */
    if (!hh_write_temp(world, "server:\n    local-zone: \".\" static\n"))
        return 1;
    char text[512];
    snprintf(text, sizeof(text),
             "mode = required-verify-hosted\nlog = stderr\nports = %u, %u\nunbound_conf = %s\n"
             "destinations = dest\n[dest]\nlax.example = lax\n[lax]\nmode = none\n",
             port, resuming_port, world);
    if (!hh_install_hook(conf, text))
        return 1;
    /* Last: nothing of mxverify's is built yet (the first decision
     * builds it), and nothing can fail after. */
    resuming_server = hh_fork_server(resuming_server_run);
    return resuming_server < 0;
}

static int teardown(void)
{
    hh_stop_server(resuming_server);
    close(resuming_listener);
    close(listener);
    unlink(world);
    unlink(conf);
    tc_free(&ca);
    tc_free(&leaf);
    tc_free(&leaf_a);
    return 0;
}

/* A client handshake with the program's checks off (SSL_VERIFY_NONE), as
 * Postfix at "may": true when it completed. domain: mxv_ssl_set()'s;
 * what mxverify wrote to stderr meanwhile in said[]. */
static bool client_handshake(const char *domain, char *said, size_t saidlen)
{
    hh_capture c = hh_capture_stderr();
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    CU_ASSERT_FATAL(sctx != NULL);
    SSL_CTX_use_certificate(sctx, leaf.cert);
    SSL_CTX_use_PrivateKey(sctx, leaf.key);
    pthread_t server = hh_serve_in_thread(listener, sctx);

    SSL_CTX *cctx = hh_tls13_client(NULL);
    bool ok = hh_client_handshake(cctx, port, domain);
    hh_served(server);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    hh_captured(c, said, saidlen);
    return ok;
}

static void test_global_mode_refuses(void)
{
    /* Control: the global mode verifies, the name matches nothing, and
     * the refusal is said (so the capture of stderr works). */
    char said[4096];
    CU_ASSERT_FALSE(client_handshake(NULL, said, sizeof(said)));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "action=abort"));
    CU_ASSERT_FALSE(client_handshake("strict.example", said, sizeof(said)));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "verdict=fail"));
}

static void test_callers_domain_settings_apply(void)
{
    /* lax.example's mode is none: nothing to decide, nothing refused,
     * and no line says otherwise (before: "no decision could be made
     * ... action=abort" for a handshake that went on, which the shim's
     * guard would then have refused). */
    char said[4096];
    CU_ASSERT_TRUE(client_handshake("lax.example", said, sizeof(said)));
    CU_ASSERT_PTR_NULL(strstr(said, "action=abort"));
    CU_ASSERT_PTR_NULL(strstr(said, "verdict=fail"));
}

/* The handshake of ssl over a BIO pair of the program's own, its bytes
 * carried to and from socket fd by the program (as Python's asyncio
 * does): mxverify learns the socket only when the server answers. */
static bool pumped_handshake(SSL *ssl, int fd)
{
    BIO *inner, *outer;
    CU_ASSERT_FATAL(BIO_new_bio_pair(&inner, 0, &outer, 0) == 1);
    SSL_set_bio(ssl, inner, inner);
    SSL_set_connect_state(ssl);
    bool ok = false;
    char buf[16384];
    for (int round = 0; round < 50; round++) {
        int r = SSL_do_handshake(ssl), n;
        while ((n = BIO_read(outer, buf, sizeof(buf))) > 0)
            if (write(fd, buf, (size_t)n) != n)
                goto out;
        if (r == 1) {
            ok = true;
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ || poll(&p, 1, 5000) != 1 ||
            (n = (int)read(fd, buf, sizeof(buf))) <= 0 || BIO_write(outer, buf, n) != n)
            break;
    }
out:
    SSL_set_bio(ssl, NULL, NULL); /* frees inner */
    BIO_free(outer);
    return ok;
}

/* A TLS 1.2 session made with mx.a.example, offered on a connection the
 * program names `name` (SNI), through a BIO of its own: the server
 * resumes it, and mxverify decides at the ServerHello. */
static bool resumed_as(const char *name, char *said, size_t saidlen)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    CU_ASSERT_FATAL(cctx != NULL);
    SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), ca.cert);
    int fd = hh_connect(resuming_port);
    SSL *first = SSL_new(cctx);
    SSL_set_fd(first, fd);
    SSL_set_tlsext_host_name(first, "mx.a.example");
    CU_ASSERT_FATAL(SSL_connect(first) == 1); /* the name matches: passed */
    SSL_SESSION *session = SSL_get1_session(first);
    SSL_shutdown(first);
    SSL_free(first);
    close(fd);
    CU_ASSERT_FATAL(session != NULL);

    hh_capture c = hh_capture_stderr();
    fd = hh_connect(resuming_port);
    SSL *again = SSL_new(cctx);
    SSL_set_tlsext_host_name(again, name);
    SSL_set_session(again, session);
    bool ok = pumped_handshake(again, fd);
    bool resumed = SSL_session_reused(again) == 1;
    SSL_free(again);
    close(fd);
    hh_captured(c, said, saidlen);
    SSL_SESSION_free(session);
    SSL_CTX_free(cctx);
    CU_ASSERT(!ok || resumed);
    return ok;
}

static void test_resumption_judged_by_this_connections_name(void)
{
    char said[4096];
    /* Control: offered to the host it was made with, it passes. */
    CU_ASSERT_TRUE(resumed_as("mx.a.example", said, sizeof(said)));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "resumed=1"));
    /* Offered to mx.b.example, which the certificate does not name: the
     * reference identifier is mx.b.example, not the session's name that
     * OpenSSL reports once the server resumed (before: passed). */
    CU_ASSERT_FALSE(resumed_as("mx.b.example", said, sizeof(said)));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "verdict=fail"));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "mx=mx.b.example"));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "resumed=1")); /* the resumption was what was judged */
}

/* A TLS 1.3 server of mx.a.example that has only P-384 for key exchange:
 * a client that sends an X25519 key share (OpenSSL's default) is asked
 * again (HelloRetryRequest), and writes its ClientHello twice. */
static SSL_CTX *retrying_server(void)
{
    SSL_CTX *sctx = hh_server_of(&leaf_a);
    CU_ASSERT_FATAL(SSL_CTX_set1_groups_list(sctx, "P-384") == 1);
    return sctx;
}

static int hellos_written; /* ClientHellos the last retried() client wrote */

static void count_hellos(int write_p, int version, int content_type, const void *buf, size_t len,
                         SSL *ssl, void *arg)
{
    (void)version, (void)ssl, (void)arg;
    if (write_p && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
        ((const unsigned char *)buf)[0] == SSL3_MT_CLIENT_HELLO)
        hellos_written++;
}

/* One connection of cctx to a retrying server of sctx (its ticket keys:
 * the same for both), offering `session` (NULL: none); the session it
 * ends with (tickets read), when asked. */
static bool retried(SSL_CTX *cctx, SSL_CTX *sctx, SSL_SESSION *session, SSL_SESSION **ends_with,
                    bool *resumed)
{
    pthread_t server = hh_serve_in_thread(listener, sctx);
    int fd = hh_connect(port);
    SSL *ssl = SSL_new(cctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "mx.a.example");
    hellos_written = 0;
    SSL_set_msg_callback(ssl, count_hellos);
    if (session)
        SSL_set_session(ssl, session);
    bool ok = SSL_connect(ssl) == 1;
    char byte;
    if (ok && ends_with) {
        SSL_read(ssl, &byte, 1); /* the tickets, then the server's close_notify */
        *ends_with = SSL_get1_session(ssl);
        SSL_shutdown(ssl); /* else SSL_free() takes the session for a bad one */
    }
    *resumed = SSL_session_reused(ssl) == 1;
    SSL_free(ssl);
    close(fd);
    hh_served(server);
    return ok;
}

/* The session (a ticket) of a first connection of cctx to sctx. */
static SSL_SESSION *first_session(SSL_CTX *cctx, SSL_CTX *sctx)
{
    SSL_SESSION *session = NULL;
    bool resumed;
    CU_ASSERT_FATAL(retried(cctx, sctx, NULL, &session, &resumed));
    CU_ASSERT_FATAL(session != NULL && SSL_SESSION_is_resumable(session));
    return session;
}

/* retried(), with what mxverify wrote to stderr meanwhile in said[]. */
static bool retried_said(SSL_CTX *cctx, SSL_CTX *sctx, SSL_SESSION *session,
                         SSL_SESSION **ends_with, bool *resumed, char *said, size_t saidlen)
{
    hh_capture c = hh_capture_stderr();
    bool ok = retried(cctx, sctx, session, ends_with, resumed);
    hh_captured(c, said, saidlen);
    return ok;
}

static void test_retried_hello_decides_once(void)
{
    SSL_CTX *cctx = hh_tls13_client(&ca), *sctx = retrying_server();
    SSL_SESSION *session = first_session(cctx, sctx);
    bool resumed;

    char said[4096];
    bool ok = retried_said(cctx, sctx, session, NULL, &resumed, said, sizeof(said));
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_TRUE(resumed);
    CU_ASSERT_EQUAL(hellos_written, 2); /* the server did ask again */
    /* One connection, one decision line (before: two, one for each
     * ClientHello, and so two sessions in a report). */
    CU_ASSERT_EQUAL(hh_count(said, "verdict="), 1);
    CU_ASSERT_EQUAL(hh_count(said, "verdict=pass"), 1);
    SSL_SESSION_free(session);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
}

static int accept_anything(X509_STORE_CTX *x, void *arg)
{
    (void)x, (void)arg;
    return 1;
}

static void test_declined_resumption_certificate_judged(void)
{
    SSL_CTX *cctx = hh_tls13_client(&ca), *sctx = retrying_server();
    SSL_SESSION *session = first_session(cctx, sctx);
    bool resumed;

    /* The program takes the certificate check away from mxverify (without
     * the shim, nothing stops it), and offers the session, which passes,
     * to a server that cannot resume it (other ticket keys) and sends a
     * certificate that names nothing of this destination's. */
    SSL_CTX_set_cert_verify_callback(cctx, accept_anything, NULL);
    SSL_CTX *other = hh_server_of(&leaf);
    char said[4096];
    bool ok = retried_said(cctx, other, session, NULL, &resumed, said, sizeof(said));
    CU_ASSERT_FALSE(resumed);
    /* The decision on the session is not one on this certificate: the
     * checkpoint at the server's signature fails it (before: passed). */
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "never shown to mxverify"));
    SSL_SESSION_free(session);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    SSL_CTX_free(other);
}

static void test_declined_resumption_judged_anew(void)
{
    /* Control: with mxverify's callback in place, the declined session's
     * server is judged on its certificate, which passes. */
    SSL_CTX *cctx = hh_tls13_client(&ca), *sctx = retrying_server();
    SSL_SESSION *session = first_session(cctx, sctx);
    SSL_CTX *other = hh_server_of(&leaf_a);
    bool resumed;
    char said[4096];
    CU_ASSERT_TRUE(retried_said(cctx, other, session, NULL, &resumed, said, sizeof(said)));
    CU_ASSERT_FALSE(resumed);
    CU_ASSERT_EQUAL(hh_count(said, "verdict=pass"), 2); /* the session, then the certificate */
    SSL_SESSION_free(session);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    SSL_CTX_free(other);
}

/* The program verifies with a policy of its own through
 * mxv_ssl_ctx_enable(), which replaces the hook's callback; the server's
 * certificate names nothing of the destination's. The hook's settings
 * (verifying) still need a decision of their own, and the checkpoint
 * finds none. Before: it took the program's "nothing" (mode none) or the
 * program's verdict (preferred-verify: fail, proceed) for its own, and
 * passed. */
static void lax_policy_of_the_program(const char *mode)
{
    char err[256];
    mxv_policy *lax = mxv_policy_new();
    CU_ASSERT_FATAL(lax != NULL);
    CU_ASSERT_FATAL(mxv_policy_set(lax, "mode", mode, err, sizeof(err)));
    CU_ASSERT_FATAL(mxv_policy_set(lax, "log", "none", err, sizeof(err)));
    SSL_CTX *cctx = hh_tls13_client(&ca);
    CU_ASSERT_FATAL(mxv_ssl_ctx_enable(cctx, lax, err, sizeof(err)));
    SSL_CTX *sctx = hh_server_of(&leaf);
    bool resumed;
    char said[4096];
    bool ok = retried_said(cctx, sctx, NULL, NULL, &resumed, said, sizeof(said));
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "never shown to mxverify"));
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    mxv_policy_free(lax);
}

static void test_programs_own_lax_policy_is_not_the_hooks(void)
{
    lax_policy_of_the_program("none");
    lax_policy_of_the_program("preferred-verify");
}

int main(void)
{
    static const unit_test tests[] = {
        {"the global mode refuses a certificate that matches nothing", test_global_mode_refuses},
        {"the caller's domain's settings apply in the hook and its checkpoint",
         test_callers_domain_settings_apply},
        {"a resumption decided at the ServerHello is judged by this connection's name",
         test_resumption_judged_by_this_connections_name},
        {"a HelloRetryRequest's second ClientHello is not decided again",
         test_retried_hello_decides_once},
        {"a declined resumption's new certificate is still to be judged",
         test_declined_resumption_certificate_judged},
        {"a declined resumption's new certificate is judged by mxverify's callback",
         test_declined_resumption_judged_anew},
        {"a program's own policy that verifies nothing is not the hook's",
         test_programs_own_lax_policy_is_not_the_hooks},
        {NULL, NULL},
    };
    return unit_run("hook_verify", setup, teardown, tests);
}
