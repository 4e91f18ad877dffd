/* SPDX-License-Identifier: Apache-2.0 */
/* hook_harness: see the header. */
#include "hook_harness.h"

#include "hook.h"
#include "mxverify.h"

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

bool hh_write_temp(char *path, const char *text)
{
    int fd = mkstemp(path);
    size_t len = strlen(text);
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;
    if (fd >= 0)
        close(fd);
    return ok;
}

bool hh_install_hook(char *conf, const char *text)
{
    mxv_policy *policy = mxv_policy_new();
    char err[256] = "out of memory";
    if (!hh_write_temp(conf, text) || !policy ||
        !mxv_policy_load_file(policy, conf, err, sizeof(err)) ||
        !mxv_hook_install(policy, NULL, err, sizeof(err))) {
        fprintf(stderr, "hook not installed: %s\n", err);
        return false;
    }
    return true;
}

pid_t hh_fork_server(void (*run)(void))
{
    fflush(NULL);
    pid_t server = fork();
    if (server == 0)
        run();
    return server;
}

void hh_stop_server(pid_t server)
{
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
    }
}

int hh_listen(unsigned short *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

void hh_serve_one(int listener, SSL_CTX *sctx)
{
    int fd = accept(listener, NULL, NULL);
    if (fd < 0)
        return;
    SSL *srv = SSL_new(sctx);
    SSL_set_fd(srv, fd);
    if (SSL_accept(srv) == 1)
        SSL_shutdown(srv);
    SSL_free(srv);
    close(fd);
}

typedef struct {
    int listener;
    SSL_CTX *sctx;
} server_job;

static void *serve_job(void *arg)
{
    server_job *job = arg;
    hh_serve_one(job->listener, job->sctx);
    free(job);
    return NULL;
}

pthread_t hh_serve_in_thread(int listener, SSL_CTX *sctx)
{
    server_job *job = malloc(sizeof(*job));
    CU_ASSERT_FATAL(job != NULL);
    *job = (server_job){listener, sctx};
    pthread_t server;
    CU_ASSERT_FATAL(pthread_create(&server, NULL, serve_job, job) == 0);
    return server;
}

void hh_served(pthread_t server)
{
    pthread_join(server, NULL);
}

SSL_CTX *hh_server_of(const tc_pair *cert)
{
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    CU_ASSERT_FATAL(sctx != NULL);
    SSL_CTX_use_certificate(sctx, cert->cert);
    SSL_CTX_use_PrivateKey(sctx, cert->key);
    return sctx;
}

SSL_CTX *hh_tls13_client(const tc_pair *trusted)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    CU_ASSERT_FATAL(cctx != NULL);
    SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
    if (trusted)
        X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), trusted->cert);
    return cctx;
}

int hh_connect(unsigned short port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CU_ASSERT_FATAL(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    return fd;
}

bool hh_client_handshake(SSL_CTX *cctx, unsigned short port, const char *domain)
{
    int fd = hh_connect(port);
    SSL *ssl = SSL_new(cctx);
    CU_ASSERT_FATAL(ssl != NULL);
    SSL_set_fd(ssl, fd);
    char err[256];
    if (domain)
        CU_ASSERT(mxv_ssl_set(ssl, "domain", domain, err, sizeof(err)));
    bool ok = SSL_connect(ssl) == 1;
    if (ok)
        SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    return ok;
}

hh_capture hh_capture_stderr(void)
{
    char path[] = "/tmp/mxv-hook-test-stderr-XXXXXX";
    hh_capture c = {mkstemp(path), dup(2)};
    CU_ASSERT_FATAL(c.file >= 0 && c.saved >= 0 && dup2(c.file, 2) == 2);
    unlink(path);
    return c;
}

void hh_captured(hh_capture c, char *said, size_t saidlen)
{
    dup2(c.saved, 2);
    close(c.saved);
    ssize_t n = pread(c.file, said, saidlen - 1, 0);
    said[n > 0 ? n : 0] = '\0';
    close(c.file);
}

size_t hh_count(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}
