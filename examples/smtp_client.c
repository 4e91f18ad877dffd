/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smtp_client: a small SMTP client that verifies its server with
 * libmxverify, for programs that can be changed. It connects, reads the
 * greeting, sends EHLO, insists on STARTTLS, does the TLS handshake with
 * mxverify's verify callback, prints the decision, and says QUIT. It sends
 * no mail.
 *
 *   smtp_client HOST PORT DOMAIN [--ca-file FILE] [--unbound-conf FILE]
 *
 * Settings come from /etc/mxverify.conf and MXVERIFY_* as usual; the mode
 * defaults to required-verify-hosted. Exit: 0 verified, 1 not verified or
 * handshake refused, 2 usage or network error.
 */
#include "mxverify.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define TIMEOUT_SECONDS 15

static int dial(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "smtp_client: %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        /* Every read and write is bounded: a stalled server is an error. */
        struct timeval tv = {.tv_sec = TIMEOUT_SECONDS};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            perror("smtp_client: connect");
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* Reads one (possibly multi-line) SMTP reply into buf; returns its code. */
static int reply(int fd, char *buf, size_t len)
{
    size_t used = 0;
    for (;;) {
        ssize_t n = read(fd, buf + used, len - used - 1);
        if (n <= 0)
            return -1;
        used += (size_t)n;
        buf[used] = '\0';
        /* The last line of a reply is "NNN text\r\n" (a space, not '-'). */
        char *last = buf, *nl;
        while ((nl = strstr(last, "\r\n")) && nl[2])
            last = nl + 2;
        if (strstr(last, "\r\n") && strlen(last) >= 4 && last[3] == ' ')
            return atoi(last);
        if (used + 1 >= len)
            return -1;
    }
}

static int command(int fd, const char *line, char *buf, size_t len)
{
    if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
        return -1;
    return reply(fd, buf, len);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: smtp_client HOST PORT DOMAIN [--ca-file F] [--unbound-conf F]\n");
        return 2;
    }
    const char *host = argv[1], *port = argv[2], *domain = argv[3];
    char err[512], buf[8192];

    mxv_policy *policy = mxv_policy_load_default(err, sizeof(err));
    if (!policy ||
        !mxv_policy_set_default(policy, "mode", "required-verify-hosted", err, sizeof(err))) {
        fprintf(stderr, "smtp_client: %s\n", err);
        return 2;
    }
    for (int i = 4; i + 1 < argc; i += 2) {
        const char *key = strcmp(argv[i], "--ca-file") == 0        ? "ca_file"
                          : strcmp(argv[i], "--unbound-conf") == 0 ? "unbound_conf"
                                                                   : NULL;
        if (!key || !mxv_policy_set(policy, key, argv[i + 1], err, sizeof(err))) {
            fprintf(stderr, "smtp_client: %s\n", key ? err : "unknown option");
            return 2;
        }
    }

    int fd = dial(host, port);
    if (fd < 0)
        return 2;
    if (reply(fd, buf, sizeof(buf)) != 220 ||
        command(fd, "EHLO client.invalid\r\n", buf, sizeof(buf)) != 250) {
        fprintf(stderr, "smtp_client: unexpected greeting or EHLO reply: %s\n", buf);
        return 2;
    }
    if (!strstr(buf, "STARTTLS")) {
        fprintf(stderr, "smtp_client: %s does not offer STARTTLS: no mail would be sent\n", host);
        return 1;
    }
    if (command(fd, "STARTTLS\r\n", buf, sizeof(buf)) != 220) {
        fprintf(stderr, "smtp_client: STARTTLS refused: %s\n", buf);
        return 1;
    }

    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    /* mxverify checks the chain and the identity; the program asks for
     * nothing more than "verify the peer". */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (!ctx || !mxv_ssl_ctx_enable(ctx, policy, err, sizeof(err))) {
        fprintf(stderr, "smtp_client: %s\n", err);
        return 2;
    }
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, host);
    if (!mxv_ssl_set(ssl, "domain", domain, err, sizeof(err))) {
        fprintf(stderr, "smtp_client: %s\n", err);
        return 2;
    }
    int ok = SSL_connect(ssl) == 1;
    const mxv_decision *d = mxv_ssl_decision(ssl);
    char *trace = d ? mxv_decision_format(d, MXV_FORMAT_TEXT) : NULL;
    if (trace)
        fputs(trace, stdout);
    mxv_free(trace);
    if (ok) {
        printf("TLS established with %s (%s)\n", host, SSL_get_version(ssl));
        SSL_write(ssl, "QUIT\r\n", 6);
        SSL_shutdown(ssl);
    } else {
        printf("TLS handshake with %s refused: %s\n", host,
               X509_verify_cert_error_string(SSL_get_verify_result(ssl)));
    }
    int status = ok && d && mxv_decision_passed(d) ? 0 : 1;
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    mxv_policy_free(policy);
    return status;
}
