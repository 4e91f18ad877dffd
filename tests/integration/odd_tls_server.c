/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reneg_server: an SMTP server (TLS 1.2, STARTTLS) that renegotiates
 * inside TLS, presenting another certificate, once the client's first
 * command in TLS has arrived: the certificate a client verified is not
 * the one it then sends mail to. For the enforcement-boundary tests.
 *
 * usage: reneg_server ADDR PORT CHAIN1 KEY1 CHAIN2 KEY2 LOG LIFETIME
 * Serves connections one after another for LIFETIME seconds; appends to
 * LOG "ready" once listening, then per connection "renegotiated" when the
 * second handshake completed and "accepted SUBJECT-LINE" for each message.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *log_path;

static void note(const char *fmt, ...)
{
    FILE *f = fopen(log_path, "a");
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

/* One line, in clear (ssl NULL) or in TLS; false at end or error. */
static bool get_line(int fd, SSL *ssl, char *buf, size_t len)
{
    size_t n = 0;
    while (n + 1 < len) {
        char ch;
        int r = ssl ? SSL_read(ssl, &ch, 1) : (int)recv(fd, &ch, 1, 0);
        if (r != 1)
            return false;
        buf[n++] = ch;
        if (ch == '\n')
            break;
    }
    buf[n] = '\0';
    return n > 0;
}

static void put(int fd, SSL *ssl, const char *text)
{
    if (ssl)
        SSL_write(ssl, text, (int)strlen(text));
    else if (send(fd, text, strlen(text), MSG_NOSIGNAL) < 0)
        return;
}

static void session(int fd, SSL_CTX *ctx, const char *chain2, const char *key2)
{
    char line[1024];
    put(fd, NULL, "220 reneg ESMTP\r\n");
    while (get_line(fd, NULL, line, sizeof(line))) {
        if (strncasecmp(line, "EHLO", 4) == 0)
            put(fd, NULL, "250-reneg\r\n250 STARTTLS\r\n");
        else if (strncasecmp(line, "STARTTLS", 8) == 0)
            break;
        else
            put(fd, NULL, strncasecmp(line, "QUIT", 4) == 0 ? "221 bye\r\n" : "503 TLS first\r\n");
    }
    put(fd, NULL, "220 go ahead\r\n");
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        return;
    }
    bool renegotiated = false, noted = false, data = false;
    char subject[256] = "";
    while (get_line(fd, ssl, line, sizeof(line))) {
        if (!renegotiated) {
            /* The new certificate, then a full handshake (no resumption). */
            renegotiated = true;
            if (SSL_use_certificate_chain_file(ssl, chain2) != 1 ||
                SSL_use_PrivateKey_file(ssl, key2, SSL_FILETYPE_PEM) != 1 ||
                SSL_renegotiate(ssl) != 1 || SSL_do_handshake(ssl) != 1)
                break;
        }
        if (!noted && SSL_renegotiate_pending(ssl) == 0 && SSL_num_renegotiations(ssl) > 0) {
            noted = true;
            note("renegotiated");
        }
        if (data) {
            if (strncasecmp(line, "Subject: ", 9) == 0)
                snprintf(subject, sizeof(subject), "%.*s", (int)strcspn(line + 9, "\r\n"),
                         line + 9);
            if (strcmp(line, ".\r\n") == 0) {
                data = false;
                note("accepted %s", subject);
                put(fd, ssl, "250 queued\r\n");
            }
        } else if (strncasecmp(line, "EHLO", 4) == 0) {
            put(fd, ssl, "250-reneg\r\n250 8BITMIME\r\n");
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            data = true;
            put(fd, ssl, "354 go on\r\n");
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            put(fd, ssl, "221 bye\r\n");
            break;
        } else {
            put(fd, ssl, "250 ok\r\n");
        }
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
}

int main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: reneg_server ADDR PORT CHAIN1 KEY1 CHAIN2 KEY2 LOG LIFETIME\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    log_path = argv[7];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx || !SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) ||
        SSL_CTX_use_certificate_chain_file(ctx, argv[3]) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, argv[4], SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION | SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1 ||
        bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 8) != 0) {
        perror("reneg_server: listen");
        return 1;
    }
    note("ready");
    time_t end = time(NULL) + atoi(argv[8]);
    while (time(NULL) < end) {
        struct pollfd p = {.fd = l, .events = POLLIN};
        if (poll(&p, 1, 1000) != 1)
            continue;
        int c = accept(l, NULL, NULL);
        if (c < 0)
            continue;
        struct timeval limit = {.tv_sec = 20};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
        session(c, ctx, argv[5], argv[6]);
        close(c);
    }
    return 0;
}
