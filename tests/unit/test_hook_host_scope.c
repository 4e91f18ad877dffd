/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_hook_host_scope: where the preload shim is the engine's host, the
 * scope of a handshake on a socket the SSL was given (SSL_set_fd) comes
 * from the shim's table when the table knows the socket to be in scope,
 * sparing the kernel's view (getpeername, getsockopt) three times a
 * handshake; when the table does not know it, the kernel's view decides
 * as before. The table can only put a handshake in scope, never out.
 *
 * The engine is loaded as the shim loads it (MXV_PRELOAD_ENGINE, settings
 * from MXVERIFY_CONF) with a host of the test's own whose table holds one
 * descriptor. Real TLS 1.3 handshakes over a UNIX socket pair (which the
 * kernel's view puts out of scope) and loopback TCP (in scope).
 */
#include "hook.h"
#include "mxverify.h"
#include "hook_harness.h"
#include "testcert.h"
#include "unit_main.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static tc_pair ca, leaf;
static int listener = -1;
static unsigned short port;
static char world[] = "/tmp/mxv-host-scope-XXXXXX";
static char conf[] = "/tmp/mxv-host-scope-conf-XXXXXX";

/* The host's table: the one descriptor it holds in scope, or -1. */
static int table_fd = -1;
static unsigned table_asked;

static bool host_observed(int fd, mxv_observed *out)
{
    (void)fd, (void)out;
    return false;
}

static void host_decided(int fd, const unsigned char random[MXV_HELLO_RANDOM_LEN], bool pass)
{
    (void)fd, (void)random, (void)pass;
}

static int host_fd_of_hello(const unsigned char random[MXV_HELLO_RANDOM_LEN])
{
    (void)random;
    return -1;
}

static void host_tls_started(int fd, const char *library)
{
    (void)fd, (void)library;
}

static bool host_fd_in_scope(int fd)
{
    table_asked++;
    return fd >= 0 && fd == table_fd;
}

static const mxv_hook_host host = {
    .observed = host_observed,
    .decided = host_decided,
    .fd_of_hello = host_fd_of_hello,
    .tls_started = host_tls_started,
    .fd_in_scope = host_fd_in_scope,
};

static int setup(void)
{
    signal(SIGPIPE, SIG_IGN); /* a server writing to a client that gave up */
    ca = tc_make_ca("host scope test CA", NULL);
    /* A name no reference identifier of these tests matches: a handshake
     * in scope fails, one out of scope completes. */
    const tc_name names[] = {{"DNS", "unrelated.example.org", 0}, {NULL, NULL, 0}};
    leaf = tc_make_leaf(&(tc_leaf_spec){.names = names}, &ca);
    if ((listener = hh_listen(&port)) < 0)
        return 1;
    /* No DNS: every lookup NXDOMAIN, locally. */
    if (!hh_write_temp(world, "server:\n    local-zone: \".\" static\n"))
        return 1;
    char text[512];
    snprintf(text, sizeof(text),
             "mode = required-verify-hosted\nlog = stderr\nports = %u\nunbound_conf = %s\n", port,
             world);
    char err[256] = "";
    if (!hh_write_temp(conf, text) || setenv("MXVERIFY_CONF", conf, 1) != 0 ||
        !MXV_PRELOAD_ENGINE(&host, err, sizeof(err))) {
        fprintf(stderr, "engine not loaded: %s\n", err);
        return 1;
    }
    return 0;
}

static int teardown(void)
{
    close(listener);
    unlink(world);
    unlink(conf);
    tc_free(&ca);
    tc_free(&leaf);
    return 0;
}

/* A client handshake (the program's checks off, recipient domain
 * a.example) on one end of a UNIX socket pair, the table holding that
 * end or not: true when it completed. */
static bool pair_handshake(bool in_table)
{
    int sv[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    SSL_CTX *sctx = hh_server_of(&leaf);
    pthread_t server = hh_serve_socket_in_thread(sv[1], sctx);

    SSL_CTX *cctx = hh_tls13_client(NULL);
    SSL *ssl = SSL_new(cctx);
    CU_ASSERT_FATAL(ssl != NULL);
    SSL_set_fd(ssl, sv[0]);
    char err[256];
    CU_ASSERT(mxv_ssl_set(ssl, "domain", "a.example", err, sizeof(err)));
    table_fd = in_table ? sv[0] : -1;
    bool ok = SSL_connect(ssl) == 1;
    if (ok)
        SSL_shutdown(ssl);
    table_fd = -1;
    SSL_free(ssl);
    close(sv[0]);
    hh_served(server);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    return ok;
}

static void test_table_in_scope_is_taken(void)
{
    char said[4096];
    /* Control: a UNIX socket the table does not hold is out of scope by
     * the kernel's view: nothing decided, the handshake completes. */
    hh_capture c = hh_capture_stderr();
    table_asked = 0;
    bool ok = pair_handshake(false);
    hh_captured(c, said, sizeof(said));
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_PTR_NULL(strstr(said, "verdict=fail"));
    CU_ASSERT(table_asked > 0);
    /* The table holds it in scope: decided, and the certificate matches
     * nothing of a.example's. */
    c = hh_capture_stderr();
    ok = pair_handshake(true);
    hh_captured(c, said, sizeof(said));
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "verdict=fail"));
}

static void test_kernel_decides_what_the_table_lacks(void)
{
    /* A TCP connection to the in-scope port that the table does not hold
     * (a socket the shim did not see connected): the kernel's view puts
     * it in scope, and the certificate fails. */
    char said[4096];
    hh_capture c = hh_capture_stderr();
    SSL_CTX *sctx = hh_server_of(&leaf);
    pthread_t server = hh_serve_in_thread(listener, sctx);
    SSL_CTX *cctx = hh_tls13_client(NULL);
    table_fd = -1;
    bool ok = hh_client_handshake(cctx, port, "a.example");
    hh_served(server);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    hh_captured(c, said, sizeof(said));
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_PTR_NOT_NULL(strstr(said, "verdict=fail"));
}

int main(void)
{
    static const unit_test tests[] = {
        {"a socket the shim's table holds in scope is in scope", test_table_in_scope_is_taken},
        {"the kernel decides a socket the table does not hold",
         test_kernel_decides_what_the_table_lacks},
        {NULL, NULL},
    };
    return unit_run("hook_host_scope", setup, teardown, tests);
}
