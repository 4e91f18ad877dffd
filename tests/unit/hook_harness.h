/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hook_harness: what the unit tests of mxverify's OpenSSL hooks share:
 * loopback TCP servers (the hook's scope is a TCP port), client sockets,
 * what mxverify writes to stderr, and small files.
 */
#ifndef MXV_HOOK_HARNESS_H
#define MXV_HOOK_HARNESS_H

#include "testcert.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes text to a new file made from the mkstemp() template path. */
bool hh_write_temp(char *path, const char *text);

/* Writes text (openssl.cnf syntax) to a new file from the mkstemp()
 * template conf and installs mxverify's hooks with it, as the provider
 * does; false (said on stderr) when it cannot. Once per process. */
bool hh_install_hook(char *conf, const char *text);

/* A server process of its own: run() in a child, which must end with
 * _exit() and use no CUnit; forked before mxverify decides anything (a
 * child of a process that did abandons its DNS context: a leak to
 * valgrind). -1 when it cannot. hh_stop_server() ends it. */
pid_t hh_fork_server(void (*run)(void));
void hh_stop_server(pid_t server);

/* A socket listening on 127.0.0.1, its port in *port; -1 on failure. */
int hh_listen(unsigned short *port);
/* One server handshake of sctx on the next connection to listener. */
void hh_serve_one(int listener, SSL_CTX *sctx);
/* The same in a thread of its own, joined by hh_served(). */
pthread_t hh_serve_in_thread(int listener, SSL_CTX *sctx);
void hh_served(pthread_t server);
/* A TLS server with `cert`, ticket keys of its own. */
SSL_CTX *hh_server_of(const tc_pair *cert);

/* A TLS 1.3 client whose own checks are off (SSL_VERIFY_NONE, as
 * Postfix at "may"), trusting `trusted` (NULL: nothing). */
SSL_CTX *hh_tls13_client(const tc_pair *trusted);

/* A TCP socket connected to 127.0.0.1:port (fails the test otherwise). */
int hh_connect(unsigned short port);

/* A handshake of a new SSL of cctx on a new connection to port, the
 * recipient domain set with mxv_ssl_set() first (NULL: none): true when
 * it completed. Closed after. */
bool hh_client_handshake(SSL_CTX *cctx, unsigned short port, const char *domain);

/* What is written to stderr from hh_capture_stderr() to hh_captured(),
 * which puts it in said[] (NUL-terminated). */
typedef struct {
    int file, saved;
} hh_capture;
hh_capture hh_capture_stderr(void);
void hh_captured(hh_capture c, char *said, size_t saidlen);

/* How many times `what` occurs in text. */
size_t hh_count(const char *text, const char *what);

#endif
