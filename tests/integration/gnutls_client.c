/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gnutls_client: an SMTP client on GnuTLS 3.7 that checks certificates the way
 * real GnuTLS mail programs do, to test a shim hooking GnuTLS. Knows nothing
 * of mxverify.
 *
 * usage: gnutls_client [--style none|exim|msmtp|auto|cred] [--optional] [--tryclear]
 *          [--sni NAME] [--verify-name NAME] [--cafile F] [--resume-to HOST2]
 *          [--fastopen] [--repeat N] HOST PORT MARKER
 * HOST: a name (getaddrinfo) or an IP. One message: MAIL FROM:<s@client.test>,
 * RCPT TO:<user@example.com>, "Subject: MARKER", body MARKER. Last stdout line:
 * "delivered" (exit 0), "refused: WHY" (1: certificate rejected), "error: ..."
 * (2), "no starttls" (3). Trust: system store + --cafile. SNI: --sni, else HOST
 * if a name; verify name: --verify-name, else --sni, else HOST. Gives up after
 * 120 s (SIGALRM). --style (default exim):
 *   none   no verification call at all
 *   exim   Exim 4.96 src/src/tls-gnu.c tls_client_start(): priority "NORMAL",
 *          gnutls_certificate_server_set_request, gnutls_transport_set_ptr,
 *          handshake, THEN verify_certificate(): gnutls_certificate_get_peers,
 *          gnutls_certificate_verify_peers2 and, only if the chain is good,
 *          gnutls_x509_crt_check_hostname; failure: fatal bad_certificate alert
 *   msmtp  msmtp 1.8.23 src/mtls-gnutls.c mtls_start(): handshake, then
 *          gnutls_certificate_verify_peers3(name); any status bit refuses
 *   auto   gnutls_session_set_verify_cert(name): GnuTLS verifies in the
 *          handshake (--optional does not apply)
 *   cred   gnutls_certificate_set_verify_function: verify_peers3(name) inside
 *          the handshake, -1 on any status bit
 * --optional (exim, msmtp, cred): print "verification failed: ..." on stderr
 *   and deliver anyway (Exim's default, tls_try_verify_hosts = *).
 * --tryclear: Exim's tls_tempfail_tryclear (default true there): STARTTLS not
 *   offered: go on in clear; the TLS session failed (handshake, or verification
 *   as Exim's smtp.c counts it): "... retrying in clear" on stderr, then a new
 *   connection that does not STARTTLS.
 * --repeat N: N deliveries to HOST, one after the other, in this process
 *   (full handshakes: the handshake bench).
 * --resume-to HOST2: afterwards deliver to HOST2 (same PORT; SNI and verify
 *   name as given, else HOST2) with gnutls_session_set_data() of the first
 *   session's gnutls_session_get_data2(); "resumed" on stderr if it was.
 * --fastopen: connect as Exim 4.96 ip_connect() does for SMTP: sendto(fd, NULL,
 *   0, MSG_FASTOPEN|MSG_DONTWAIT) (TFO without data: SMTP servers speak first);
 *   EINPROGRESS is success, EOPNOTSUPP (net.ipv4.tcp_fastopen lacks bit 1) and
 *   EPIPE fall back to connect(); outcome on stderr ("fastopen: ..."). A cookie
 *   is only used when the server does TFO, e.g. tcp_fastopen=1027 in a netns
 *   set before the server listens.
 */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { DELIVERED, REFUSED, ERROR, NO_STARTTLS, TLS_FAILED };
enum style { NONE, EXIM, MSMTP, AUTO, CRED };

static struct {
    unsigned style;                   /* index into main()'s styles[] */
    int optional, tryclear, fastopen; /* int: set by getopt_long() */
    const char *sni, *verify_name, *cafile, *resume_to, *port, *marker;
} o;
static gnutls_certificate_credentials_t cred;
static char why[512]; /* the reason of the last failure */

struct conn {
    int fd;
    gnutls_session_t tls; /* NULL while in clear */
    char buf[8192], reply[4096];
    size_t len;
};

static int fail(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return rc;
}

static bool is_ip(const char *s)
{
    unsigned char a[16];
    return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static void status_text(unsigned status, char *out, size_t cap)
{
    gnutls_datum_t t = {NULL, 0};
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &t, 0) == 0) {
        snprintf(out, cap, "%s", (char *)t.data);
        gnutls_free(t.data);
        for (size_t n = strlen(out); n && out[n - 1] == ' ';) /* GnuTLS ends with one */
            out[--n] = '\0';
    } else {
        snprintf(out, cap, "status 0x%x", status);
    }
}

/* Exim 4.96 ip_connect() (src/src/ip.c) with the no-data blob that
 * smtp_sock_connect() (src/src/smtp_out.c) passes for a plain delivery. */
static int tcp_connect(const char *host)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    int rc = getaddrinfo(host, o.port, &hints, &res), fd = -1;
    if (rc != 0)
        return fail(-1, "resolve %s: %s", host, gai_strerror(rc));
    for (ai = res; ai; ai = ai->ai_next) {
        if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0)
            continue;
        bool legacy = !o.fastopen;
        if (o.fastopen) {
            ssize_t r =
                sendto(fd, NULL, 0, MSG_FASTOPEN | MSG_DONTWAIT, ai->ai_addr, ai->ai_addrlen);
            if (r >= 0 || errno == EINPROGRESS) { /* SYN sent; the first read waits */
                fprintf(stderr, "fastopen: sendto(MSG_FASTOPEN) %s\n",
                        r >= 0 ? "ok" : "EINPROGRESS");
                break;
            }
            /* Exim's legacy_connect: TFO off by sysctl, or an old kernel;
             * any other error fails as connect() would. */
            legacy = errno == EOPNOTSUPP || errno == EPIPE;
            if (legacy)
                fprintf(stderr, "fastopen: %s, connect()\n", strerror(errno));
        }
        if (legacy && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        fail(-1, "connect %s: %s", host, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int put(struct conn *c, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    for (int off = 0, w; off < n; off += w) {
        w = c->tls ? (int)gnutls_record_send(c->tls, line + off, (size_t)(n - off))
                   : (int)send(c->fd, line + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w <= 0)
            return fail(-1, "write: %s", c->tls ? gnutls_strerror(w) : strerror(errno));
    }
    return 0;
}

/* One (multi-line) reply into c->reply; returns its code, -1 on I/O error. */
static int get(struct conn *c)
{
    size_t used = 0;
    c->reply[0] = '\0';
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (!nl) {
            if (c->len == sizeof(c->buf))
                return fail(-1, "reply line too long");
            ssize_t r;
            do /* GNUTLS_E_AGAIN: a TLS 1.3 ticket was read, no data yet */
                r = c->tls ? gnutls_record_recv(c->tls, c->buf + c->len, sizeof(c->buf) - c->len)
                           : recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
            while (c->tls && (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED));
            if (r <= 0)
                return fail(-1, "read: %s",
                            r == 0   ? "connection closed"
                            : c->tls ? gnutls_strerror((int)r)
                                     : strerror(errno));
            c->len += (size_t)r;
            continue;
        }
        size_t n = (size_t)(nl - c->buf) + 1;
        used += (size_t)snprintf(c->reply + used, sizeof(c->reply) - used, "%.*s", (int)n, c->buf);
        used = used < sizeof(c->reply) ? used : sizeof(c->reply) - 1;
        bool last = n < 4 || c->buf[3] != '-';
        int code = atoi(c->buf);
        memmove(c->buf, nl + 1, c->len - n);
        c->len -= n;
        if (last)
            return code;
    }
}

/* One command, its reply must be in class `want` (2 or 3). */
static int cmd(struct conn *c, int want, const char *text)
{
    if (put(c, "%s\r\n", text) < 0)
        return -1;
    int code = get(c);
    if (code < 0)
        return -1;
    if (code / 100 != want)
        return fail(-1, "%s: server said %.*s", text, (int)strcspn(c->reply, "\r\n"), c->reply);
    return code;
}

/* --style cred: runs inside gnutls_handshake() once the server's Certificate
 * message is in; nonzero aborts the handshake (GNUTLS_E_CERTIFICATE_ERROR). */
static int cred_verify(gnutls_session_t s)
{
    unsigned status = 0;
    if (gnutls_certificate_verify_peers3(s, gnutls_session_get_ptr(s), &status) < 0)
        status = GNUTLS_CERT_INVALID;
    if (status == 0)
        return 0;
    status_text(status, why, sizeof(why));
    if (!o.optional)
        return -1;
    fprintf(stderr, "verification failed: %s\n", why);
    return 0;
}

/* --style exim: tls-gnu.c verify_certificate() (with peer_status() for the
 * peer certificate), called by tls_client_start() after the handshake. */
static int exim_verify(gnutls_session_t s, const char *name)
{
    unsigned n = 0, verify = 0;
    int rc = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
    gnutls_x509_crt_t crt = NULL;
    char detail[400] = "";
    const char *err = NULL;
    if (!certs || !n || gnutls_certificate_type_get(s) != GNUTLS_CRT_X509 ||
        gnutls_x509_crt_init(&crt) < 0 ||
        gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) < 0)
        verify = GNUTLS_CERT_INVALID, err = "certificate not supplied";
    else
        rc = gnutls_certificate_verify_peers2(s, &verify);
    if (rc < 0 || (verify & (GNUTLS_CERT_INVALID | GNUTLS_CERT_REVOKED))) {
        if (!err)
            err = verify & GNUTLS_CERT_REVOKED ? "certificate revoked" : "certificate invalid";
        status_text(verify, detail, sizeof(detail));
        /* Exim: with the chain bad the name is never looked at */
    } else if (!gnutls_x509_crt_check_hostname(crt, name)) {
        err = "cert name mismatch";
    }
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (!err)
        return 0;
    fail(0, "%s%s%s", err, *detail ? ": " : "", detail);
    if (o.optional) { /* tls_try_verify_hosts: "TLS verify failure overridden" */
        fprintf(stderr, "verification failed: %s\n", why);
        return 0;
    }
    gnutls_alert_send(s, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
    return -1;
}

/* STARTTLS has been accepted: the handshake and the style's verification. */
static int tls_start(struct conn *c, const char *host, gnutls_datum_t *resume)
{
    const char *sni = o.sni ? o.sni : is_ip(host) ? NULL : host;
    const char *name = o.verify_name ? o.verify_name : o.sni ? o.sni : host;
    gnutls_session_t s;
    int rc = gnutls_init(&s, GNUTLS_CLIENT);
    if (rc < 0)
        return fail(ERROR, "gnutls_init: %s", gnutls_strerror(rc));
    c->tls = s; /* freed by the caller */
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    if (sni)
        gnutls_server_name_set(s, GNUTLS_NAME_DNS, sni, strlen(sni));
    if (o.style == EXIM) { /* tls_init(): creds_load_pristring() + gnutls_priority_set() */
        gnutls_priority_t prio;
        gnutls_priority_init(&prio, "NORMAL", NULL);
        gnutls_priority_set(s, prio);
        gnutls_priority_deinit(prio); /* the session keeps its own reference */
        gnutls_certificate_server_set_request(s, o.optional ? GNUTLS_CERT_REQUEST
                                                            : GNUTLS_CERT_REQUIRE);
    } else {
        gnutls_set_default_priority(s);
    }
    if (o.style == AUTO)
        gnutls_session_set_verify_cert(s, name, 0);
    gnutls_session_set_ptr(s, (void *)name); /* for cred_verify() */
    if (resume && resume->size && (rc = gnutls_session_set_data(s, resume->data, resume->size)))
        fprintf(stderr, "gnutls_session_set_data: %s\n", gnutls_strerror(rc));
    if (o.style == EXIM) /* Exim passes the descriptor as a pointer */
        gnutls_transport_set_ptr(s, (gnutls_transport_ptr_t)(long)c->fd);
    else
        gnutls_transport_set_int(s, c->fd);
    do
        rc = gnutls_handshake(s);
    while (rc == GNUTLS_E_INTERRUPTED);
    if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) { /* auto */
        status_text(gnutls_session_get_verify_cert_status(s), why, sizeof(why));
        return REFUSED;
    }
    if (rc == GNUTLS_E_CERTIFICATE_ERROR && o.style == CRED)
        return REFUSED; /* why: set by cred_verify() */
    if (rc < 0)
        return fail(TLS_FAILED, "handshake failed: %s", gnutls_strerror(rc));
    if (gnutls_session_is_resumed(s))
        fprintf(stderr, "resumed\n");
    if (o.style == EXIM && exim_verify(s, name) < 0)
        return REFUSED;
    if (o.style == MSMTP) { /* mtls-gnutls.c mtls_start() + mtls_check_cert() */
        unsigned status = 0;
        char *desc = gnutls_session_get_desc(s); /* mtls_parameter_description */
        gnutls_free(desc);
        if ((rc = gnutls_certificate_verify_peers3(s, name, &status)) != 0)
            return fail(REFUSED, "%s", gnutls_strerror(rc));
        if (status) {
            status_text(status, why, sizeof(why));
            if (!o.optional)
                return REFUSED;
            fprintf(stderr, "verification failed: %s\n", why);
        }
    }
    return DELIVERED;
}

/* One SMTP session; use_tls false: never STARTTLS (the in-clear retry). */
static int deliver(const char *host, bool use_tls, gnutls_datum_t *resume_in,
                   gnutls_datum_t *resume_out)
{
    struct conn c = {.fd = tcp_connect(host)};
    char data[600];
    int rc = ERROR;
    if (c.fd < 0)
        return ERROR;
    int code = get(&c);
    if (code >= 0 && code / 100 != 2)
        fail(ERROR, "greeting: %.*s", (int)strcspn(c.reply, "\r\n"), c.reply);
    if (code / 100 != 2 || cmd(&c, 2, "EHLO client.test") < 0)
        goto out;
    if (use_tls && strcasestr(c.reply, "STARTTLS")) {
        if (cmd(&c, 2, "STARTTLS") < 0)
            goto out;
        if (c.len) { /* Exim: "synch error before connect" */
            rc = fail(ERROR, "data after the STARTTLS reply");
            goto out;
        }
        if ((rc = tls_start(&c, host, resume_in)) != DELIVERED)
            goto out; /* no QUIT: the TLS state is unknown, like Exim */
        rc = ERROR;
        if (cmd(&c, 2, "EHLO client.test") < 0)
            goto out;
    } else if (use_tls && !o.tryclear) {
        cmd(&c, 2, "QUIT");
        rc = fail(NO_STARTTLS, "no starttls");
        goto out;
    }
    snprintf(data, sizeof(data), "Subject: %s\r\n\r\n%s\r\n.", o.marker, o.marker);
    if (cmd(&c, 2, "MAIL FROM:<s@client.test>") < 0 ||
        cmd(&c, 2, "RCPT TO:<user@example.com>") < 0 || cmd(&c, 3, "DATA") < 0 ||
        cmd(&c, 2, data) < 0)
        goto out;
    /* TLS 1.3 tickets come after the handshake: by now they have been read. */
    if (c.tls && resume_out && (rc = gnutls_session_get_data2(c.tls, resume_out)) < 0)
        fprintf(stderr, "gnutls_session_get_data2: %s\n", gnutls_strerror(rc));
    cmd(&c, 2, "QUIT"); /* the message is accepted already */
    if (c.tls)
        gnutls_bye(c.tls, GNUTLS_SHUT_WR);
    rc = DELIVERED;
out:
    if (c.tls)
        gnutls_deinit(c.tls);
    close(c.fd);
    return rc;
}

/* One host, with Exim's in-clear retry after a failed TLS session. */
static int attempt(const char *host, gnutls_datum_t *resume_in, gnutls_datum_t *resume_out)
{
    int rc = deliver(host, true, resume_in, resume_out);
    if ((rc == TLS_FAILED || rc == REFUSED) && o.tryclear) {
        fprintf(stderr, "TLS failed (%s); retrying in clear\n", why);
        rc = deliver(host, false, NULL, NULL);
    }
    return rc == TLS_FAILED ? ERROR : rc;
}

int main(int argc, char **argv)
{
    static const char *styles[] = {"none", "exim", "msmtp", "auto", "cred", NULL};
    const char *style = "exim",
               **value[] = {&style, &o.sni, &o.verify_name, &o.cafile, &o.resume_to};
    static const struct option opts[] = {
        {"style", 1, NULL, 1},           {"sni", 1, NULL, 2},
        {"verify-name", 1, NULL, 3},     {"cafile", 1, NULL, 4},
        {"resume-to", 1, NULL, 5},       {"optional", 0, &o.optional, 1},
        {"tryclear", 0, &o.tryclear, 1}, {"fastopen", 0, &o.fastopen, 1},
        {"repeat", 1, NULL, 6},          {NULL, 0, NULL, 0}};
    long repeat = 1; /* deliveries to HOST in this process (the bench's handshakes) */
    int opt, bad = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if (opt > 0 && opt <= 5)
            *value[opt - 1] = optarg;
        else if (opt == 6)
            bad |= (repeat = strtol(optarg, NULL, 10)) < 1;
        else
            bad |= opt != 0;
    while (styles[o.style] && strcmp(style, styles[o.style]))
        o.style++;
    if (bad || !styles[o.style] || argc - optind != 3) {
        fprintf(stderr, "usage: gnutls_client [--style none|exim|msmtp|auto|cred] [--optional] "
                        "[--tryclear] [--sni NAME] [--verify-name NAME] [--cafile F] "
                        "[--resume-to HOST2] [--fastopen] [--repeat N] HOST PORT MARKER\n");
        printf("error: usage\n");
        return 2;
    }
    int i = optind;
    const char *host = argv[i];
    o.port = argv[i + 1];
    o.marker = argv[i + 2];
    signal(SIGPIPE, SIG_IGN);
    alarm(repeat > 1 ? 600 : 120); /* a dead server must not hang a test: SIGALRM ends it all */
    /* One credentials object for every connection, as Exim's transport preload. */
    gnutls_certificate_allocate_credentials(&cred);
    gnutls_certificate_set_x509_system_trust(cred);
    if (o.cafile &&
        gnutls_certificate_set_x509_trust_file(cred, o.cafile, GNUTLS_X509_FMT_PEM) <= 0) {
        printf("error: no CA certificate in %s\n", o.cafile);
        return 2;
    }
    if (o.style == CRED)
        gnutls_certificate_set_verify_function(cred, cred_verify);

    gnutls_datum_t saved = {NULL, 0};
    int rc = attempt(host, NULL, o.resume_to ? &saved : NULL);
    while (rc == DELIVERED && --repeat > 0)
        rc = attempt(host, NULL, NULL);
    if (rc == DELIVERED && o.resume_to) /* SNI, verify name: as given, else HOST2 */
        rc = attempt(o.resume_to, &saved, NULL);
    gnutls_free(saved.data);
    gnutls_certificate_free_credentials(cred);
    if (rc == DELIVERED)
        printf("delivered\n");
    else if (rc == NO_STARTTLS)
        printf("no starttls\n");
    else
        printf("%s: %s\n", rc == REFUSED ? "refused" : "error", why);
    return rc;
}
