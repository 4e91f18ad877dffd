/* SPDX-License-Identifier: Apache-2.0 */
#include "smtp.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

bool smtp_parse_line(const char *line, size_t len, int *code, bool *last)
{
    if (len < 3 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
        !isdigit((unsigned char)line[2]) || line[0] < '2' || line[0] > '5')
        return false;
    if (len > 3 && line[3] != ' ' && line[3] != '-')
        return false;
    *code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    *last = len == 3 || line[3] == ' ';
    return true;
}

void smtp_greeting_host(const char *reply, char *out, size_t outlen)
{
    const char *p = reply + (strlen(reply) > 4 ? 4 : strlen(reply));
    size_t n = strcspn(p, " \t\n");
    snprintf(out, outlen, "%.*s", (int)n, p);
}

bool smtp_ehlo_has(const char *reply, const char *keyword)
{
    size_t klen = strlen(keyword);
    for (const char *line = reply; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        /* "250-KEYWORD params": the keyword is the first word after the code. */
        if (len >= 4 + klen && strncasecmp(line + 4, keyword, klen) == 0 &&
            (len == 4 + klen || line[4 + klen] == ' '))
            return true;
        line = end ? end + 1 : NULL;
    }
    return false;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool wait_fd(smtp_session *s, short events, long long deadline)
{
    long long left = deadline - now_ms();
    struct pollfd pfd = {.fd = s->fd, .events = events};
    int n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
    if (n == 0)
        snprintf(s->error, sizeof(s->error), "timed out after %d ms", s->timeout_ms);
    else if (n < 0)
        snprintf(s->error, sizeof(s->error), "poll: %s", strerror(errno));
    return n > 0;
}

bool smtp_connect(smtp_session *s, const char *address, int port, int timeout_ms)
{
    bool show = s->show;
    memset(s, 0, sizeof(*s));
    s->show = show;
    s->fd = -1;
    s->timeout_ms = timeout_ms;
    s->port = port;
    snprintf(s->address, sizeof(s->address), "%s", address);
    struct sockaddr_storage ss = {0};
    socklen_t len;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        len = sizeof(*v6);
    } else {
        snprintf(s->error, sizeof(s->error), "%s: not an address", address);
        return false;
    }
    s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        snprintf(s->error, sizeof(s->error), "socket: %s", strerror(errno));
        return false;
    }
    if (connect(s->fd, (struct sockaddr *)&ss, len) != 0 && errno != EINPROGRESS) {
        snprintf(s->error, sizeof(s->error), "connect: %s", strerror(errno));
        return false;
    }
    if (!wait_fd(s, POLLOUT, now_ms() + timeout_ms))
        return false;
    int soerr = 0;
    socklen_t slen = sizeof(soerr);
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &slen);
    if (soerr) {
        snprintf(s->error, sizeof(s->error), "connect: %s", strerror(soerr));
        return false;
    }
    return true;
}

/* One reply (all its lines) into s->reply and s->code. */
static bool read_reply(smtp_session *s)
{
    long long deadline = now_ms() + s->timeout_ms;
    size_t rlen = 0;
    s->reply[0] = '\0';
    for (int lines = 0; lines < SMTP_MAX_LINES;) {
        char *nl = memchr(s->in, '\n', s->inlen);
        if (!nl) {
            if (s->inlen >= SMTP_MAX_LINE) {
                snprintf(s->error, sizeof(s->error), "reply line longer than %d octets",
                         SMTP_MAX_LINE);
                return false;
            }
            if (!wait_fd(s, POLLIN, deadline))
                return false;
            ssize_t n = read(s->fd, s->in + s->inlen, sizeof(s->in) - s->inlen);
            if (n <= 0) {
                snprintf(s->error, sizeof(s->error), "connection closed by the server");
                return false;
            }
            s->inlen += (size_t)n;
            continue;
        }
        size_t len = (size_t)(nl - s->in);
        size_t consumed = len + 1;
        if (len && s->in[len - 1] == '\r')
            len--;
        int code;
        bool last;
        if (!smtp_parse_line(s->in, len, &code, &last) || (lines && code != s->code)) {
            snprintf(s->error, sizeof(s->error), "not an SMTP reply: \"%.*s\"",
                     (int)(len > 60 ? 60 : len), s->in);
            for (char *p = s->error; *p; p++)
                if (!isprint((unsigned char)*p))
                    *p = '?'; /* the server's bytes are made printable */
            return false;
        }
        s->code = code;
        if (rlen + len + 2 < sizeof(s->reply)) {
            memcpy(s->reply + rlen, s->in, len);
            rlen += len;
            s->reply[rlen++] = '\n';
            s->reply[rlen] = '\0';
        }
        if (s->show)
            fprintf(stderr, "S: %.*s\n", (int)len, s->in);
        memmove(s->in, s->in + consumed, s->inlen - consumed);
        s->inlen -= consumed;
        lines++;
        if (last)
            return true;
    }
    snprintf(s->error, sizeof(s->error), "reply of more than %d lines", SMTP_MAX_LINES);
    return false;
}

static bool send_line(smtp_session *s, const char *line)
{
    if (s->show)
        fprintf(stderr, "C: %s\n", line);
    char buf[600];
    int n = snprintf(buf, sizeof(buf), "%s\r\n", line);
    long long deadline = now_ms() + s->timeout_ms;
    for (int off = 0; off < n;) {
        if (!wait_fd(s, POLLOUT, deadline))
            return false;
        ssize_t w = send(s->fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) {
            snprintf(s->error, sizeof(s->error), "write: %s", strerror(errno));
            return false;
        }
        off += w > 0 ? (int)w : 0;
    }
    return true;
}

/* The last reply for a message: its lines joined with " | ", control
 * characters as \xHH (the server's words are untrusted). */
static const char *reply_text(const smtp_session *s)
{
    static __thread char text[240];
    size_t k = 0;
    for (const char *p = s->reply; *p && k + 5 < sizeof(text); p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n') {
            if (p[1] && k + 4 < sizeof(text))
                k += (size_t)snprintf(text + k, sizeof(text) - k, " | ");
        } else if (c < 0x20 || c == 0x7f) {
            k += (size_t)snprintf(text + k, sizeof(text) - k, "\\x%02x", c);
        } else {
            text[k++] = (char)c;
        }
    }
    text[k] = '\0';
    return text;
}

bool smtp_hello(smtp_session *s)
{
    if (!read_reply(s))
        return false;
    if (s->code != 220) {
        snprintf(s->error, sizeof(s->error), "greeting refused: %s", reply_text(s));
        return false;
    }
    smtp_greeting_host(s->reply, s->greeting, sizeof(s->greeting));
    if (!send_line(s, "EHLO mxverify.invalid") || !read_reply(s))
        return false;
    if (s->code != 250) {
        snprintf(s->error, sizeof(s->error), "EHLO refused: %s", reply_text(s));
        return false;
    }
    s->starttls = smtp_ehlo_has(s->reply, "STARTTLS");
    return true;
}

bool smtp_starttls(smtp_session *s, SSL_CTX *ctx, const char *sni)
{
    if (!send_line(s, "STARTTLS") || !read_reply(s))
        return false;
    if (s->code != 220) {
        snprintf(s->error, sizeof(s->error), "STARTTLS refused: %s", reply_text(s));
        return false;
    }
    if (s->inlen) { /* RFC 3207 5: nothing may follow the 220 in clear */
        snprintf(s->error, sizeof(s->error), "data sent after the STARTTLS reply (injection)");
        return false;
    }
    s->ssl = SSL_new(ctx);
    if (!s->ssl || !SSL_set_fd(s->ssl, s->fd)) {
        snprintf(s->error, sizeof(s->error), "cannot set up TLS");
        return false;
    }
    if (sni)
        SSL_set_tlsext_host_name(s->ssl, sni);
    long long deadline = now_ms() + s->timeout_ms;
    for (;;) {
        int rc = SSL_connect(s->ssl);
        if (rc == 1)
            return true;
        int e = SSL_get_error(s->ssl, rc);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (!wait_fd(s, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
                return false;
            continue;
        }
        unsigned long ossl = ERR_get_error();
        snprintf(s->error, sizeof(s->error), "TLS handshake failed: %s",
                 ossl ? ERR_reason_error_string(ossl) : "connection closed");
        ERR_clear_error();
        return false;
    }
}

void smtp_close(smtp_session *s)
{
    if (s->ssl) {
        SSL_set_quiet_shutdown(s->ssl, 1);
        SSL_free(s->ssl);
        s->ssl = NULL;
    } else if (s->fd >= 0 && s->greeting[0]) {
        char saved[sizeof(s->error)];
        memcpy(saved, s->error, sizeof(saved)); /* QUIT is a courtesy: keep the real error */
        send_line(s, "QUIT");
        memcpy(s->error, saved, sizeof(saved));
    }
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}
