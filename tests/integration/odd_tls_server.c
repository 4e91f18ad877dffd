/* SPDX-License-Identifier: Apache-2.0 */
/*
 * odd_tls_server: an SMTP server (STARTTLS) whose TLS does what ordinary
 * servers do not, for the enforcement-boundary tests:
 *  - reneg: TLS 1.2; renegotiates inside TLS, presenting another
 *    certificate, once the client's first command in TLS has arrived: the
 *    certificate a client verified is not the one it then sends mail to;
 *  - psk: TLS 1.3 authenticated by an external pre-shared key alone
 *    (RFC 8446 2.2), no certificate at all.
 *
 * usage: odd_tls_server reneg ADDR PORT CHAIN1 KEY1 CHAIN2 KEY2 LOG LIFETIME
 *        odd_tls_server psk ADDR PORT IDENTITY HEXKEY LOG LIFETIME
 * Serves connections one after another for LIFETIME seconds; appends to
 * LOG "ready" once listening, then per connection "renegotiated" when the
 * second handshake completed (reneg), "handshake" when a TLS handshake
 * completed, and "accepted SUBJECT-LINE" for each message.
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
/* reneg: the second certificate and key; psk: the identity and its key. */
static const char *chain2, *key2;
static const char *psk_identity;
static unsigned char psk_key[64];
static long psk_key_len;

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

/* psk: the session a client's identity names (TLS_AES_128_GCM_SHA256,
 * whose hash every TLS 1.3 client offers); no session for any other. */
static int find_psk(SSL *ssl, const unsigned char *identity, size_t len, SSL_SESSION **out)
{
    static const unsigned char aes128gcm[] = {0x13, 0x01};
    *out = NULL;
    if (len != strlen(psk_identity) || memcmp(identity, psk_identity, len) != 0)
        return 1;
    const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, aes128gcm);
    SSL_SESSION *s = SSL_SESSION_new();
    if (!cipher || !s || !SSL_SESSION_set1_master_key(s, psk_key, (size_t)psk_key_len) ||
        !SSL_SESSION_set_cipher(s, cipher) ||
        !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
        SSL_SESSION_free(s);
        return 0;
    }
    *out = s;
    return 1;
}

static void session(int fd, SSL_CTX *ctx)
{
    char line[1024];
    put(fd, NULL, "220 odd ESMTP\r\n");
    while (get_line(fd, NULL, line, sizeof(line))) {
        if (strncasecmp(line, "EHLO", 4) == 0)
            put(fd, NULL, "250-odd\r\n250 STARTTLS\r\n");
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
    note("handshake");
    /* reneg only: a renegotiation still to do, then to note. */
    bool renegotiated = !chain2, noted = !chain2, data = false;
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
            put(fd, ssl, "250-odd\r\n250 8BITMIME\r\n");
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

/* The server's SSL_CTX for `mode` and its arguments; NULL on error. */
static SSL_CTX *server_ctx(const char *mode, char **arg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_options(ctx, SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION | SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (strcmp(mode, "reneg") == 0) {
        chain2 = arg[2], key2 = arg[3];
        if (SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) &&
            SSL_CTX_use_certificate_chain_file(ctx, arg[0]) == 1 &&
            SSL_CTX_use_PrivateKey_file(ctx, arg[1], SSL_FILETYPE_PEM) == 1)
            return ctx;
    } else {
        psk_identity = arg[0];
        unsigned char *key = OPENSSL_hexstr2buf(arg[1], &psk_key_len);
        /* The suite is chosen before the key is looked up: only the one
         * whose hash the key's session has. */
        if (key && psk_key_len > 0 && (size_t)psk_key_len <= sizeof(psk_key) &&
            SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) &&
            SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256")) {
            memcpy(psk_key, key, (size_t)psk_key_len);
            OPENSSL_free(key);
            SSL_CTX_set_psk_find_session_callback(ctx, find_psk);
            return ctx;
        }
        OPENSSL_free(key);
    }
    SSL_CTX_free(ctx);
    return NULL;
}

int main(int argc, char **argv)
{
    bool reneg = argc == 10 && strcmp(argv[1], "reneg") == 0;
    if (!reneg && !(argc == 8 && strcmp(argv[1], "psk") == 0)) {
        fprintf(stderr,
                "usage: odd_tls_server reneg ADDR PORT CHAIN1 KEY1 CHAIN2 KEY2 LOG LIFETIME\n"
                "       odd_tls_server psk ADDR PORT IDENTITY HEXKEY LOG LIFETIME\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    log_path = argv[argc - 2];
    SSL_CTX *ctx = server_ctx(argv[1], argv + 4);
    if (!ctx) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1 ||
        bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 8) != 0) {
        perror("odd_tls_server: listen");
        return 1;
    }
    note("ready");
    time_t end = time(NULL) + atoi(argv[argc - 1]);
    while (time(NULL) < end) {
        struct pollfd p = {.fd = l, .events = POLLIN};
        if (poll(&p, 1, 1000) != 1)
            continue;
        int c = accept(l, NULL, NULL);
        if (c < 0)
            continue;
        struct timeval limit = {.tv_sec = 20};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
        session(c, ctx);
        close(c);
    }
    return 0;
}
