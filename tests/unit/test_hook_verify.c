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
#include "testcert.h"
#include "unit_main.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static tc_pair ca, leaf;
static int listener = -1;
static unsigned short port;
static char world[] = "/tmp/mxv-hook-verify-XXXXXX";
static char conf[] = "/tmp/mxv-hook-verify-conf-XXXXXX";

static bool write_file(char *path, const char *text)
{
    int fd = mkstemp(path);
    size_t len = strlen(text);
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;
    if (fd >= 0)
        close(fd);
    return ok;
}

static int setup(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    signal(SIGPIPE, SIG_IGN); /* a server writing to a client that gave up */
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(listener, 4) != 0 || getsockname(listener, (struct sockaddr *)&a, &len) != 0)
        return 1;
    port = ntohs(a.sin_port);
    /* No DNS: every lookup NXDOMAIN, locally. */
    if (!write_file(world, "server:\n    local-zone: \".\" static\n"))
        return 1;
    char text[512];
    snprintf(text, sizeof(text),
             "mode = required-verify-hosted\nlog = stderr\nports = %u\nunbound_conf = %s\n"
             "destinations = dest\n[dest]\nlax.example = lax\n[lax]\nmode = none\n",
             port, world);
    if (!write_file(conf, text))
        return 1;
    mxv_policy *policy = mxv_policy_new();
    char err[256];
    if (!policy || !mxv_policy_load_file(policy, conf, err, sizeof(err)) ||
        !mxv_hook_install(policy, NULL, err, sizeof(err))) {
        fprintf(stderr, "setup: %s\n", err);
        return 1;
    }
    ca = tc_make_ca("hook test CA", NULL);
    /* A name no reference identifier of these tests matches. */
    const tc_name names[] = {{"DNS", "unrelated.example.org", 0}, {NULL, NULL, 0}};
    leaf = tc_make_leaf(&(tc_leaf_spec){.names = names}, &ca);
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

/* One server handshake on the next connection. */
static void *serve_one(void *arg)
{
    SSL_CTX *sctx = arg;
    int fd = accept(listener, NULL, NULL);
    if (fd < 0)
        return NULL;
    SSL *srv = SSL_new(sctx);
    SSL_set_fd(srv, fd);
    if (SSL_accept(srv) == 1)
        SSL_shutdown(srv);
    SSL_free(srv);
    close(fd);
    return NULL;
}

/* A client handshake with the program's checks off (SSL_VERIFY_NONE), as
 * Postfix at "may": true when it completed. domain: mxv_ssl_set()'s;
 * what mxverify wrote to stderr meanwhile in said[]. */
static bool client_handshake(const char *domain, char *said, size_t saidlen)
{
    char path[] = "/tmp/mxv-hook-verify-stderr-XXXXXX";
    int out = mkstemp(path), saved = dup(2);
    CU_ASSERT_FATAL(out >= 0 && saved >= 0 && dup2(out, 2) == 2);
    unlink(path);
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    CU_ASSERT_FATAL(sctx != NULL);
    SSL_CTX_use_certificate(sctx, leaf.cert);
    SSL_CTX_use_PrivateKey(sctx, leaf.key);
    pthread_t server;
    CU_ASSERT_FATAL(pthread_create(&server, NULL, serve_one, sctx) == 0);

    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    CU_ASSERT_FATAL(cctx != NULL);
    SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    SSL *ssl = SSL_new(cctx);
    SSL_set_fd(ssl, fd);
    char err[256];
    if (domain)
        CU_ASSERT(mxv_ssl_set(ssl, "domain", domain, err, sizeof(err)));
    bool ok = SSL_connect(ssl) == 1;
    if (ok)
        SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    pthread_join(server, NULL);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    dup2(saved, 2);
    close(saved);
    ssize_t n = pread(out, said, saidlen - 1, 0);
    said[n > 0 ? n : 0] = '\0';
    close(out);
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

int main(void)
{
    static const unit_test tests[] = {
        {"the global mode refuses a certificate that matches nothing", test_global_mode_refuses},
        {"the caller's domain's settings apply in the hook and its checkpoint",
         test_callers_domain_settings_apply},
        {NULL, NULL},
    };
    return unit_run("hook_verify", setup, teardown, tests);
}
