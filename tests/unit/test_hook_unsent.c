/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_hook_unsent: without the shim, the socket a BIO of the program's
 * own writes to is found by the octets each connection took since the
 * ClientHello was made; octets still queued in the kernel count. A server
 * that keeps its receive window shut holds the ClientHello in the
 * client's queue and sends its own first flight meanwhile (in TLS 1.2 it
 * needs nothing of the client's): counting sent octets alone found no
 * connection, took the handshake for one out of scope, and nothing was
 * decided (found by review). TCP_CORK holds the ClientHello here as the
 * shut window would.
 *
 * The server is a process of its own, made before mxverify decides
 * anything, that answers every connection with one recorded first flight
 * (ServerHello, Certificate, ServerHelloDone) without reading.
 */
#include "hook.h"
#include "hook_harness.h"
#include "mxverify.h"
#include "testcert.h"
#include "unit_main.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SUITE "AES128-GCM-SHA256" /* static RSA: nothing signed after the certificate */

static tc_pair ca, rsa_leaf;
static int listener = -1, outside = -1;
static unsigned short port, outside_port;
static pid_t server = -1;
static char world[] = "/tmp/mxv-hook-unsent-XXXXXX";
static char conf[] = "/tmp/mxv-hook-unsent-conf-XXXXXX";

static SSL_CTX *client_ctx(void)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    if (c) {
        SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
        SSL_CTX_set_cipher_list(c, SUITE);
        SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    }
    return c;
}

/* The server's first flight, recorded from a handshake in memory, then
 * written to every connection without reading it. No CUnit here. */
static void server_run(void)
{
    SSL_CTX *s = SSL_CTX_new(TLS_server_method()), *c = client_ctx();
    if (!s || !c || SSL_CTX_use_certificate(s, rsa_leaf.cert) != 1 ||
        SSL_CTX_use_PrivateKey(s, rsa_leaf.key) != 1 || SSL_CTX_set_cipher_list(s, SUITE) != 1)
        _exit(1);
    SSL *cs = SSL_new(c), *ss = SSL_new(s);
    BIO *ci, *co, *si, *so;
    if (!cs || !ss || !BIO_new_bio_pair(&ci, 0, &co, 0) || !BIO_new_bio_pair(&si, 0, &so, 0))
        _exit(1);
    SSL_set_bio(cs, ci, ci);
    SSL_set_bio(ss, si, si);
    SSL_set_connect_state(cs);
    SSL_set_accept_state(ss);
    static char flight[65536];
    SSL_do_handshake(cs);
    int n = BIO_read(co, flight, sizeof(flight));
    if (n <= 0 || BIO_write(so, flight, n) != n)
        _exit(1);
    SSL_do_handshake(ss);
    int len = BIO_read(so, flight, sizeof(flight));
    SSL_free(cs); /* with its BIO pair's end */
    SSL_free(ss);
    BIO_free(co);
    BIO_free(so);
    SSL_CTX_free(c);
    SSL_CTX_free(s);
    if (len <= 0)
        _exit(1);
    alarm(300); /* gone in five minutes, whatever becomes of the test */
    for (int i = 0; i < 12; i++) {
        int fd = accept(listener, NULL, NULL);
        if (fd >= 0 && write(fd, flight, (size_t)len) != len)
            _exit(2);
        /* left open: the client closes */
    }
    _exit(0);
}

static int setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    ca = tc_make_ca("hook unsent CA", NULL);
    const tc_name names[] = {{"DNS", "unrelated.example.org", 0}, {NULL, NULL, 0}};
    rsa_leaf = tc_make_leaf(&(tc_leaf_spec){.names = names, .rsa = true}, &ca);
    if ((listener = hh_listen(&port)) < 0 || (outside = hh_listen(&outside_port)) < 0 ||
        !hh_write_temp(world, "server:\n    local-zone: \".\" static\n"))
        return 1;
    char text[512];
    snprintf(text, sizeof(text),
             "mode = none\nlog = stderr\nports = %u\nunbound_conf = %s\n"
             "destinations = dest\n[dest]\nstrict.example = strict\n"
             "[strict]\nmode = required-verify-hosted\n",
             port, world);
    if (!hh_install_hook(conf, text))
        return 1;
    server = hh_fork_server(server_run);
    return server < 0;
}

static int teardown(void)
{
    hh_stop_server(server);
    close(listener);
    close(outside);
    unlink(world);
    unlink(conf);
    tc_free(&ca);
    tc_free(&rsa_leaf);
    return 0;
}

typedef enum {
    SENT,                        /* the ClientHello handed to the kernel, and sent */
    HELD,                        /* handed to the kernel, held there (TCP_CORK) */
    PREFED,                      /* not written yet: the server's flight given to OpenSSL first */
    PREFED_OTHER_SENDS,          /* the same, while another in-scope connection sends */
    SENT_DUPLICATED,             /* sent, on a socket the program holds under two descriptors */
    SENT_DUPLICATED_OTHER_SENDS, /* the same, while another in-scope connection sends */
    PREFED_OUTSIDE_SENDS         /* not written yet, while an out-of-scope connection sends */
} hello_fate;

/* A client to strict.example through a memory BIO pair, its ClientHello
 * as `fate` says, the server's flight read and given to OpenSSL. true
 * when the client went on (wrote its next flight) instead of failing. */
static bool went_on(hello_fate fate, char *said, size_t saidlen)
{
    SSL_CTX *cctx = client_ctx();
    CU_ASSERT_FATAL(cctx != NULL);
    bool duplicated = fate == SENT_DUPLICATED || fate == SENT_DUPLICATED_OTHER_SENDS;
    int fd = hh_connect(port), one = 1, second = duplicated ? dup(fd) : -1;
    CU_ASSERT_FATAL(!duplicated || second >= 0);
    if (fate == HELD)
        CU_ASSERT_FATAL(setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)) == 0);
    SSL *ssl = SSL_new(cctx);
    char err[256];
    CU_ASSERT(mxv_ssl_set(ssl, "domain", "strict.example", err, sizeof(err)));
    BIO *inner, *outer;
    CU_ASSERT_FATAL(BIO_new_bio_pair(&inner, 0, &outer, 0) == 1);
    SSL_set_bio(ssl, inner, inner);
    SSL_set_connect_state(ssl);
    /* Another in-scope connection, open before the ClientHello: it moves
     * only by what it sends. */
    bool other_sends = fate == PREFED_OTHER_SENDS || fate == SENT_DUPLICATED_OTHER_SENDS ||
                       fate == PREFED_OUTSIDE_SENDS;
    int other = other_sends ? hh_connect(fate == PREFED_OUTSIDE_SENDS ? outside_port : port) : -1;
    hh_capture c = hh_capture_stderr();
    static char buf[65536];
    SSL_do_handshake(ssl);
    int n = BIO_read(outer, buf, sizeof(buf));
    CU_ASSERT_FATAL(n > 0); /* the ClientHello */
    if (other_sends)
        CU_ASSERT_FATAL(write(other, "EHLO me\n", 8) == 8);
    if (fate != PREFED && fate != PREFED_OTHER_SENDS && fate != PREFED_OUTSIDE_SENDS)
        CU_ASSERT_FATAL(write(fd, buf, (size_t)n) == n);
    usleep(100000); /* the server's flight arrives */
    n = (int)read(fd, buf, sizeof(buf));
    CU_ASSERT_FATAL(n > 0 && BIO_write(outer, buf, n) == n);
    int r = SSL_do_handshake(ssl);
    bool on = r == 1 || SSL_get_error(ssl, r) == SSL_ERROR_WANT_READ;
    hh_captured(c, said, saidlen);
    SSL_free(ssl);
    BIO_free(outer);
    close(fd);
    if (other >= 0)
        close(other);
    if (second >= 0)
        close(second);
    SSL_CTX_free(cctx);
    return on;
}

static void test_queued_client_hello_counts(void)
{
    char said[4096];
    /* Control: the ClientHello left; static RSA under strict.example's
     * enforcing settings is refused, saying why. */
    CU_ASSERT_FALSE(went_on(SENT, said, sizeof(said)));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "has no server signature"));
    /* Held in the client's queue: the same (before: out of scope, the
     * client went on, nothing decided or said). */
    CU_ASSERT_FALSE(went_on(HELD, said, sizeof(said)));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "has no server signature"));
}

static void test_hello_no_connection_took(void)
{
    /* The server's flight reaches OpenSSL before the program wrote its
     * ClientHello anywhere (a program that reads before it writes; an
     * attacker who appends the flight to the STARTTLS reply): no
     * connection took it, so which one it is cannot be told, and
     * strict.example's settings refuse (before: out of scope, the client
     * went on, nothing decided or said). Found by review. */
    char said[4096];
    CU_ASSERT_FALSE(went_on(PREFED, said, sizeof(said)));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "cannot tell which"));
    /* Meanwhile another in-scope connection sends a few octets of its
     * own: it did not take the ClientHello (fewer octets than OpenSSL
     * wrote), and is not taken for its connection (before: the one that
     * moved, so judged as this handshake's, its peer address read). */
    CU_ASSERT_FALSE(went_on(PREFED_OTHER_SENDS, said, sizeof(said)));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "cannot tell which"));
    /* An out-of-scope connection (a log or database link) sends a few
     * octets meanwhile: that is no sign the ClientHello went there
     * (before: out of scope, the client went on, nothing decided or
     * said). Found by review. */
    CU_ASSERT_FALSE(went_on(PREFED_OUTSIDE_SENDS, said, sizeof(said)));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "cannot tell which"));
}

static void test_socket_under_two_descriptors(void)
{
    /* The program holds its connection under two descriptors (dup()):
     * one socket, judged on its own, as SENT is (before: two connections
     * moved, "cannot tell which", refused under enforcing settings
     * whatever the certificate). Found by review. */
    char said[4096];
    CU_ASSERT_FALSE(went_on(SENT_DUPLICATED, said, sizeof(said)));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "has no server signature"));
    CU_ASSERT_PTR_NULL(strstr(said, "cannot tell which"));
    /* Counted once, not hidden: another in-scope connection that moved
     * meanwhile still makes two, and which one cannot be told. */
    CU_ASSERT_FALSE(went_on(SENT_DUPLICATED_OTHER_SENDS, said, sizeof(said)));
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "cannot tell which"));
}

int main(void)
{
    static const unit_test tests[] = {
        {"a ClientHello still queued in the kernel counts for its connection",
         test_queued_client_hello_counts},
        {"a ClientHello no connection took cannot be told", test_hello_no_connection_took},
        {"a socket under two descriptors is one connection", test_socket_under_two_descriptors},
        {NULL, NULL},
    };
    return unit_run("hook_unsent", setup, teardown, tests);
}
