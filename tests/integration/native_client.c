/* SPDX-License-Identifier: Apache-2.0 */
/*
 * native_client: an SMTP client built with the project's compiler flags
 * (so, in a sanitizer build, with ASan in the executable itself), used to
 * run the preload shim and the provider under ASan where Debian's clients
 * cannot be. It knows nothing of mxverify: it verifies nothing itself
 * (SSL_VERIFY_NONE, like curl -k) and delivers one message per connection.
 *
 * usage: native_client ADDR|HOST|DOMAIN PORT MARKER [--threads N] [--fork] [--plain]
 *                      [--ctx-per-thread] [--cleanup] [--mx [--own-ns IP]]
 *                      [--count-threads]
 * A HOST name is looked up (getaddrinfo, IPv4) in the thread that connects,
 * as an MTA looks up its MX host. --mx: the first argument is a recipient
 * DOMAIN whose MX records are asked first (res_query, as Postfix and Exim
 * do; the most preferred host is used), through the name server IP
 * instead of resolv.conf's with --own-ns. --count-threads: prints
 * "threads N" (the process's threads) before exiting.
 * Prints "delivered MARKER-i" or "failed MARKER-i: why" per message.
 */
#include "thread_count.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *addr, *marker;
static int port;
static bool plain, ctx_per_thread;
static SSL_CTX *shared_ctx;

typedef struct {
    int fd;
    SSL *ssl;
} conn;

static bool send_line(conn *c, const char *line)
{
    size_t n = strlen(line);
    return c->ssl ? SSL_write(c->ssl, line, (int)n) == (int)n : write(c->fd, line, n) == (ssize_t)n;
}

/* Reads one reply (all its lines); returns its code, 0 on error. */
static int reply(conn *c, char *text, size_t len)
{
    size_t used = 0;
    for (;;) {
        char ch;
        int r = c->ssl ? SSL_read(c->ssl, &ch, 1) : (int)read(c->fd, &ch, 1);
        if (r != 1)
            return 0;
        if (used + 1 < len)
            text[used++] = ch;
        text[used] = '\0';
        if (ch == '\n') {
            char *line = strrchr(text, '\n');
            while (line > text && line[-1] != '\n')
                line--;
            if (strlen(line) >= 4 && line[3] == ' ')
                return atoi(line);
        }
    }
}

static bool command(conn *c, const char *line, int want, char *buf, size_t len)
{
    return send_line(c, line) && reply(c, buf, len) == want;
}

static const char *deliver(const char *tag)
{
    static __thread char why[256];
    char buf[2048];
    conn c = {.fd = socket(AF_INET, SOCK_STREAM, 0)};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
        if (getaddrinfo(addr, NULL, &hints, &ai) == 0 && ai)
            sa.sin_addr = ((struct sockaddr_in *)ai->ai_addr)->sin_addr;
        freeaddrinfo(ai);
    }
    SSL_CTX *ctx = NULL;
    const char *fail = NULL;
    if (c.fd < 0 || connect(c.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        fail = "connect";
    else if (reply(&c, buf, sizeof(buf)) != 220 ||
             !command(&c, "EHLO native.test\r\n", 250, buf, sizeof(buf)))
        fail = "greeting/EHLO";
    else if (!plain && strstr(buf, "STARTTLS")) {
        ctx = ctx_per_thread ? SSL_CTX_new(TLS_client_method()) : shared_ctx;
        if (!command(&c, "STARTTLS\r\n", 220, buf, sizeof(buf)) || !ctx)
            fail = "STARTTLS";
        else if (!(c.ssl = SSL_new(ctx)) || !SSL_set_fd(c.ssl, c.fd) || SSL_connect(c.ssl) != 1)
            fail = "TLS handshake";
        else if (!command(&c, "EHLO native.test\r\n", 250, buf, sizeof(buf)))
            fail = "EHLO after STARTTLS";
    }
    char data[512];
    snprintf(data, sizeof(data), "Subject: %s\r\n\r\n%s\r\n.\r\n", tag, tag);
    if (!fail && !command(&c, "MAIL FROM:<s@native.test>\r\n", 250, buf, sizeof(buf)))
        fail = "MAIL FROM";
    else if (!fail && !command(&c, "RCPT TO:<user@example.com>\r\n", 250, buf, sizeof(buf)))
        fail = "RCPT TO";
    else if (!fail && !command(&c, "DATA\r\n", 354, buf, sizeof(buf)))
        fail = "DATA";
    else if (!fail && !command(&c, data, 250, buf, sizeof(buf)))
        fail = "message";
    if (!fail)
        command(&c, "QUIT\r\n", 221, buf, sizeof(buf));
    if (c.ssl) {
        SSL_shutdown(c.ssl);
        SSL_free(c.ssl);
    }
    if (ctx && ctx != shared_ctx)
        SSL_CTX_free(ctx);
    if (c.fd >= 0)
        close(c.fd);
    ERR_clear_error();
    if (!fail)
        return NULL;
    snprintf(why, sizeof(why), "%s", fail);
    return why;
}

static void report(const char *tag)
{
    const char *why = deliver(tag);
    if (why)
        printf("failed %s: %s\n", tag, why);
    else
        printf("delivered %s\n", tag);
    fflush(stdout);
}

static void *thread_main(void *arg)
{
    char tag[128];
    snprintf(tag, sizeof(tag), "%s-%d", marker, (int)(long)arg);
    report(tag);
    return NULL;
}

/* The most preferred MX host of `domain`, as an MTA finds it; NULL when
 * there is none. */
static const char *mx_host(const char *domain, const char *own_ns)
{
    static char best[NS_MAXDNAME];
    unsigned char answer[4096];
    res_init();
    if (own_ns) {
        _res.nscount = 1;
        _res.nsaddr_list[0] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(53)};
        inet_pton(AF_INET, own_ns, &_res.nsaddr_list[0].sin_addr);
    }
    int len = res_query(domain, C_IN, T_MX, answer, sizeof(answer));
    if (len < NS_HFIXEDSZ)
        return NULL;
    const unsigned char *end = answer + len, *p = answer + NS_HFIXEDSZ;
    char name[NS_MAXDNAME];
    int n = dn_expand(answer, end, p, name, sizeof(name));
    if (n < 0)
        return NULL;
    p += n + 4;
    unsigned best_pref = 70000, count = answer[6] << 8 | answer[7];
    for (unsigned i = 0; i < count && p < end; i++) {
        if ((n = dn_expand(answer, end, p, name, sizeof(name))) < 0 || p + n + 10 > end)
            return NULL;
        p += n;
        unsigned type = p[0] << 8 | p[1], rdlen = p[8] << 8 | p[9];
        p += 10;
        if (p + rdlen > end)
            return NULL;
        if (type == T_MX && rdlen > 2 && (unsigned)(p[0] << 8 | p[1]) < best_pref &&
            dn_expand(answer, end, p + 2, name, sizeof(name)) > 0) {
            best_pref = p[0] << 8 | p[1];
            snprintf(best, sizeof(best), "%s", name);
        }
        p += rdlen;
    }
    return best_pref < 70000 ? best : NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: native_client ADDR PORT MARKER [options]\n");
        return 2;
    }
    addr = argv[1];
    port = atoi(argv[2]);
    marker = argv[3];
    int threads = 0;
    bool do_fork = false, cleanup = false, mx = false, threads_at_exit = false;
    const char *own_ns = NULL;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--fork") == 0)
            do_fork = true;
        else if (strcmp(argv[i], "--plain") == 0)
            plain = true;
        else if (strcmp(argv[i], "--ctx-per-thread") == 0)
            ctx_per_thread = true;
        else if (strcmp(argv[i], "--cleanup") == 0)
            cleanup = true;
        else if (strcmp(argv[i], "--mx") == 0)
            mx = true;
        else if (strcmp(argv[i], "--own-ns") == 0 && i + 1 < argc)
            own_ns = argv[++i];
        else if (strcmp(argv[i], "--count-threads") == 0)
            threads_at_exit = true;
    }
    if (mx && !(addr = mx_host(argv[1], own_ns))) {
        printf("failed %s: no MX for %s\n", marker, argv[1]);
        return 1;
    }
    shared_ctx = SSL_CTX_new(TLS_client_method());
    if (!shared_ctx)
        return 1;
    if (threads > 0) {
        pthread_t t[64];
        int n = threads < 64 ? threads : 64;
        for (int i = 0; i < n; i++)
            pthread_create(&t[i], NULL, thread_main, (void *)(long)i);
        for (int i = 0; i < n; i++)
            pthread_join(t[i], NULL);
    } else if (do_fork) {
        char tag[128];
        snprintf(tag, sizeof(tag), "%s-parent1", marker);
        report(tag);
        pid_t pid = fork();
        if (pid == 0) {
            snprintf(tag, sizeof(tag), "%s-child", marker);
            report(tag);
            _exit(0);
        }
        snprintf(tag, sizeof(tag), "%s-parent2", marker);
        report(tag);
        waitpid(pid, NULL, 0);
    } else {
        report(marker);
    }
    SSL_CTX_free(shared_ctx);
    if (cleanup)
        OPENSSL_cleanup();
    if (threads_at_exit)
        printf("threads %d\n", thread_count());
    return 0;
}
