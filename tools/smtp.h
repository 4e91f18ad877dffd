/* SPDX-License-Identifier: Apache-2.0 */
/*
 * smtp: the client side of an SMTP conversation up to STARTTLS and the
 * TLS handshake, for the live probes. Every step has a deadline; replies
 * from the server are untrusted and parsed strictly (bounded line length
 * and count), so a server that stalls or talks nonsense is a clear error,
 * never a hang.
 */
#ifndef MXV_SMTP_H
#define MXV_SMTP_H

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#define SMTP_MAX_LINE  1000 /* RFC 5321 4.5.3.1.5: 512; be lenient, not unbounded */
#define SMTP_MAX_LINES 64

typedef struct {
    int fd;
    int timeout_ms;
    char address[64]; /* the connected address, text */
    int port;
    bool show; /* echo the exchange on stderr */
    char in[4096];
    size_t inlen;
    char reply[SMTP_MAX_LINES * 80]; /* the last reply, lines joined by '\n' */
    int code;
    bool starttls;      /* offered in the EHLO reply */
    char greeting[256]; /* the host name announced in the 220 greeting */
    char error[256];
    SSL *ssl;
} smtp_session;

/* "250-STARTTLS": code 250, last = false. False if not a reply line. */
bool smtp_parse_line(const char *line, size_t len, int *code, bool *last);
/* The host name in a 220 greeting ("220 mx.example.com ESMTP"). */
void smtp_greeting_host(const char *reply, char *out, size_t outlen);
/* Does an EHLO reply offer this keyword (whole word, any case)? */
bool smtp_ehlo_has(const char *reply, const char *keyword);

bool smtp_connect(smtp_session *s, const char *address, int port, int timeout_ms);
/* Greeting, EHLO; then STARTTLS if offered. False on any failure. */
bool smtp_hello(smtp_session *s);
bool smtp_starttls(smtp_session *s, SSL_CTX *ctx, const char *sni);
void smtp_close(smtp_session *s);

#endif
