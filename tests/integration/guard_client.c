/* SPDX-License-Identifier: Apache-2.0 */
/*
 * guard_client: an SMTP client (OpenSSL) whose every unusual-but-legal I/O
 * path can be chosen on the command line, for the enforcement-boundary
 * tests: whatever way a client writes its commands, holds its socket or
 * feeds OpenSSL, mxverify around it must still see the session. Like
 * native_client it knows nothing of mxverify, and verifies nothing unless
 * told to (SSL_VERIFY_NONE, like curl -k).
 *
 * usage: guard_client ADDR PORT [options]
 * Delivers one message (MAIL FROM:<s@client.test>, RCPT TO:<user@example.com>,
 * "Subject: MARKER", body MARKER) and prints "delivered tls=yes|no
 * reused=0|1" (exit 0) or "failed STAGE: why" (exit 1); with --no-mail
 * "ok tls=.. reused=..". Exit 2: usage; 77: skipped (--bigfd not allowed).
 *   --marker M                 subject and body (default "guard")
 *   --starttls try|no|implicit try (default): STARTTLS when offered;
 *                              implicit: TLS at once (port 465 style)
 *   --on-tls-failure continue|quit   when STARTTLS is refused or its
 *                              handshake fails: go on in clear on the same
 *                              socket (like swaks -tlso) or QUIT (default)
 *   --write write|send|sendto|sendmsg|writev|sendmmsg|stdio|stdout|sendfile|splice|
 *           __write|__send|pwritev2|aio|oob|stdio-inline|wide|syscall
 *                              how clear-text commands are written (stdout:
 *                              the socket dup2()ed onto fd 1 for each write;
 *                              results then go to stderr; pwritev2 at offset
 *                              -1; aio: aio_write() and wait; oob: send()
 *                              with MSG_OOB; stdio-inline: putc_unlocked()
 *                              per byte, then fflush(NULL); wide: fputwc();
 *                              syscall: syscall(SYS_write); syscall-pwritev2:
 *                              syscall(SYS_pwritev2) at offset -1)
 *   --iov N                    writev/sendmsg/sendmmsg: N iovecs (<= 1024,
 *                              every fourth one empty)
 *   --split N                  each command in writes of at most N bytes
 *   --dup dup|dup2|fcntl|none  use only a duplicate of the socket: dup(),
 *                              dup2(fd, 200+i), fcntl(F_DUPFD, 300)
 *   --bigfd                    move the socket to a descriptor >= 70000
 *                              (RLIMIT_NOFILE raised to allow it, the hard
 *                              limit too if privileged; else exit 77. Built
 *                              with -DBIG_FD=N, >= N instead)
 *   --fd-gap N                 open N more descriptors before each connect
 *   --exec-child               after EHLO in clear, exec a child (this
 *                              program, --child-write FD) that does the mail
 *                              transaction in clear on the inherited socket;
 *                              no STARTTLS then
 *   --bio socket|mem|custom    SSL_set_fd; two memory BIOs pumped by this
 *                              program (an event loop's way); a BIO_METHOD
 *                              of its own calling send()/recv() (curl's way)
 *   --interleave ADDR2         (with --bio mem) two connections: EHLO and
 *                              STARTTLS on both, then both handshakes driven
 *                              step by step in one thread (ClientHello 1,
 *                              ClientHello 2, then whichever socket is ready)
 *   --resume-to ADDR2          then deliver to ADDR2 offering the session
 *   --session-out F / --session-in F   save the session (PEM) at the end /
 *                              offer a saved one
 *   --ciphers STR --tls-max 1.2|1.3 --sni NAME
 *   --verify none|peer --cafile F      (chain only, no name check)
 *   --own-verify-cb            a certificate verify callback that runs
 *                              X509_verify_cert() but accepts anyway (sendmail)
 *   --own-security-cb ctx|ssl|chain  a security callback of the program's own,
 *                              set on the SSL_CTX after it is made, or on each
 *                              SSL: one that allows everything (ctx, ssl), or
 *                              one that calls the callback it replaced (chain,
 *                              on the SSL_CTX, as s_client -security_debug)
 *   --psk IDENTITY:HEXKEY      TLS 1.3 with an external pre-shared key
 *                              (SSL_CTX_set_psk_use_session_callback, as
 *                              s_client -psk): a server that knows it needs
 *                              no certificate
 *   --raw LINE                 (repeatable) extra clear-text line after EHLO,
 *                              \t \r \n \\ interpreted, CRLF added unless it
 *                              ends in \n; the replies are shown on stderr
 *   --no-mail                  only EHLO, STARTTLS, QUIT
 *   --port8443 ADDR:PORT       after STARTTLS, a memory-BIO TLS connection to
 *                              a plain TLS server: prints "side: ok|failed .."
 *   --lookup DOMAIN            find the server as an MTA does, through libc:
 *                              res_query(DOMAIN, MX), then getaddrinfo() of
 *                              the first MX host (ADDR is then ignored)
 *   --chroot DIR               chroot(DIR) first of all, before any TLS or
 *                              connection (as OpenSMTPD's client does; root)
 *   --vfork close|close_range|closefrom|dup2   after EHLO, a vfork() child
 *                              does that to the socket, then _exit()s (the
 *                              child of Python's subprocess, posix_spawn)
 *   --connect-eintr            the socket's number was a file's first (written
 *                              to, closed); a blocking connect() interrupted
 *                              by SIGALRM (EINTR) goes on in the background,
 *                              waited for with poll() (a server that accepts
 *                              late: a filler connection first)
 *   --fork-raw                 after EHLO, a child made by _Fork() (no fork
 *                              handlers run) opens a connection of its own to
 *                              the same server and writes EHLO and MAIL FROM
 *                              in clear there, then _exit()s
 *   --zerocopy                 after EHLO (to a server that stops reading:
 *                              adversary_smtp.py stall), NOOP lines until bytes
 *                              wait in the send queue, then one NOOP line sent
 *                              with MSG_ZEROCOPY from a buffer this program
 *                              keeps intact, as the API asks; then work whose
 *                              stack holds other text, never sent
 *   --seccomp                  after EHLO, a seccomp filter that kills the
 *                              process at process_vm_readv or kcmp, loaded
 *                              with syscall(SYS_seccomp) as libseccomp does
 *   --load-conf F              CONF_modules_load_file(F) first, as a program
 *                              that loads a configuration of its own and
 *                              then lets OpenSSL load its default one
 *   --openssl-conf F           OpenSSL's configuration from F, as a program
 *                              with a configuration of its own loads it
 *   --tfo-other                after EHLO, sendto(MSG_FASTOPEN) to port 80 on
 *                              the connected socket (the kernel says EISCONN)
 *   --unix-other               after EHLO, connect() and sendto(MSG_FASTOPEN)
 *                              with a UNIX address on the connected socket
 *                              (the kernel says EISCONN to both)
 *   --selfpipe                 a signal handler writes to a self-pipe every
 *                              50 us for the whole session
 *   --efault                   after EHLO, writes from buffers that cannot be
 *                              read (NULL; a small and a large chunk at an
 *                              unmapped address; a readable iovec then an
 *                              unreadable one): prints "efault: ok" when each
 *                              fails as the kernel says (EFAULT), else what
 *                              came back
 *   --errno-check              first of all: errno set, a first write to
 *                              stderr, then prints "errno: kept" or
 *                              "errno: changed" and goes on
 * Two connections (--interleave, --resume-to) print "conn1: RESULT" and
 * "conn2: RESULT"; exit 0 when both delivered. Every read and write on a
 * socket gives up after 20 s. Clear-text replies are read a byte at a time,
 * so bytes after a 220 to STARTTLS are left for OpenSSL.
 */
#ifndef _GNU_SOURCE /* the project defines it; sendmmsg, splice */
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <resolv.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <aio.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wchar.h>

#define MAX_IOV 1024
#ifndef BIG_FD /* -DBIG_FD=N: try --bigfd where the hard limit is lower */
#define BIG_FD 70000
#endif

enum {
    W_WRITE,
    W_SEND,
    W_SENDTO,
    W_SENDMSG,
    W_WRITEV,
    W_SENDMMSG,
    W_STDIO,
    W_STDOUT,
    W_SENDFILE,
    W_SPLICE,
    W__WRITE,
    W__SEND,
    W_PWRITEV2,
    W_AIO,
    W_OOB,
    W_STDIO_INLINE,
    W_WIDE,
    W_SYSCALL,
    W_SYSCALL_PWRITEV2
};
static const char *const write_names[] = {
    "write",  "send",         "sendto", "sendmsg", "writev",           "sendmmsg", "stdio",
    "stdout", "sendfile",     "splice", "__write", "__send",           "pwritev2", "aio",
    "oob",    "stdio-inline", "wide",   "syscall", "syscall-pwritev2", NULL};
enum { V_NONE, V_CLOSE, V_CLOSE_RANGE, V_CLOSEFROM, V_DUP2 };
static const char *const vfork_names[] = {"none",      "close", "close_range",
                                          "closefrom", "dup2",  NULL};
/* glibc's other names for write() and send(), which programs may call. */
extern ssize_t __write(int, const void *, size_t);
extern ssize_t __send(int, const void *, size_t, int);
enum { S_TRY, S_NO, S_IMPLICIT };
static const char *const starttls_names[] = {"try", "no", "implicit", NULL};
enum { D_NONE, D_DUP, D_DUP2, D_FCNTL };
static const char *const dup_names[] = {"none", "dup", "dup2", "fcntl", NULL};
enum { B_SOCKET, B_MEM, B_CUSTOM };
static const char *const bio_names[] = {"socket", "mem", "custom", NULL};

static struct {
    const char *addr, *addr2, *marker, *ciphers, *cafile, *sni, *session_in, *session_out, *side;
    const char *lookup, *chroot_dir;
    const char *raw[64];
    int port, write, starttls, dup, bio, iov, split, fd_gap, tls_max, nraw, child_fd, vfork;
    const char *own_security_cb, *psk;
    bool tls_fail_continue, verify_peer, own_verify_cb, bigfd, exec_child, no_mail, interleave;
    bool connect_eintr, tfo_other, unix_other, selfpipe, errno_check, efault, fork_raw, zerocopy,
        seccomp;
    const char *openssl_conf, *load_conf;
} opt = {.marker = "guard", .iov = 1, .child_fd = -1};

static SSL_CTX *ctx;
static BIO_METHOD *custom_method;
static FILE *out; /* results: stdout, or stderr when stdout is the socket */
static int connections;

typedef struct {
    const char *addr;
    int fd;
    SSL *ssl;
    BIO *rbio, *wbio; /* --bio mem: the BIOs this program fills and drains */
    FILE *stdio;      /* --write stdio */
    bool offers_starttls, tls, reused;
    char reply[4096];
    char fail[512]; /* "STAGE: why" once failed */
} conn;

static bool failed(conn *c, const char *stage, const char *why)
{
    snprintf(c->fail, sizeof(c->fail), "%s: %s", stage, why);
    return false;
}

static const char *ssl_why(void)
{
    static char why[256];
    unsigned long e = ERR_peek_last_error();
    if (!e)
        return errno ? strerror(errno) : "connection closed";
    ERR_error_string_n(e, why, sizeof(why));
    return why;
}

/* The first line of the last reply, for messages. */
static const char *reply_why(conn *c)
{
    static char why[256];
    if (!c->reply[0])
        return "no reply";
    snprintf(why, sizeof(why), "%.*s", (int)strcspn(c->reply, "\r\n"), c->reply);
    return why;
}

/* ---- clear text: the chosen way of writing ------------------------------ */

/* n bytes of buf over opt.iov iovecs, every fourth one empty (k > 1). */
static int make_iov(struct iovec *iov, const char *buf, size_t n)
{
    int k = opt.iov < 1 ? 1 : opt.iov > MAX_IOV ? MAX_IOV : opt.iov;
    size_t full = 0, f = 0, off = 0;
    for (int i = 0; i < k; i++)
        full += k == 1 || i % 4 != 3;
    for (int i = 0; i < k; i++) {
        size_t len = 0;
        if (k == 1 || i % 4 != 3)
            len = n / full + (f++ < n % full);
        iov[i] = (struct iovec){.iov_base = (char *)buf + off, .iov_len = len};
        off += len;
    }
    return k;
}

/* One call of the chosen kind; returns the bytes written, -1 on error. */
static ssize_t write_once(conn *c, const char *buf, size_t n)
{
    static struct iovec iov[MAX_IOV];
    static int tmp = -1, pipefd[2] = {-1, -1};
    int k = make_iov(iov, buf, n);
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)k};
    switch (opt.write) {
    case W_SEND:
        return send(c->fd, buf, n, MSG_NOSIGNAL);
    case W_SENDTO:
        return sendto(c->fd, buf, n, MSG_NOSIGNAL, NULL, 0);
    case W_SENDMSG:
        return sendmsg(c->fd, &msg, MSG_NOSIGNAL);
    case W_WRITEV:
        return writev(c->fd, iov, k);
    case W_SENDMMSG: {
        struct mmsghdr one = {.msg_hdr = msg};
        return sendmmsg(c->fd, &one, 1, MSG_NOSIGNAL) == 1 ? (ssize_t)one.msg_len : -1;
    }
    case W_STDIO:
        if (!c->stdio && !(c->stdio = fdopen(c->fd, "r+")))
            return -1;
        return fprintf(c->stdio, "%.*s", (int)n, buf) == (int)n && fflush(c->stdio) == 0
                   ? (ssize_t)n
                   : -1;
    case W_STDOUT: {
        /* fd 1 is the socket only while writing, so other output is not lost. */
        fflush(stdout);
        int saved = dup(1);
        if (saved < 0 || dup2(c->fd, 1) < 0)
            return -1;
        bool ok = printf("%.*s", (int)n, buf) == (int)n && fflush(stdout) == 0;
        dup2(saved, 1);
        close(saved);
        return ok ? (ssize_t)n : -1;
    }
    case W_SENDFILE: {
        if (tmp < 0) {
            char path[] = "/tmp/guard_client.XXXXXX";
            if ((tmp = mkstemp(path)) < 0)
                return -1;
            unlink(path);
        }
        off_t from = 0;
        if (ftruncate(tmp, 0) != 0 || pwrite(tmp, buf, n, 0) != (ssize_t)n)
            return -1;
        return sendfile(c->fd, tmp, &from, n);
    }
    case W_SPLICE: {
        if (pipefd[0] < 0 && pipe(pipefd) != 0)
            return -1;
        ssize_t in = write(pipefd[1], buf, n < 65536 ? n : 65536);
        for (ssize_t moved = 0; in > 0 && moved < in;) {
            ssize_t r = splice(pipefd[0], NULL, c->fd, NULL, (size_t)(in - moved), 0);
            if (r <= 0)
                return -1; /* the pipe keeps bytes it could not move: give up */
            moved += r;
        }
        return in;
    }
    case W__WRITE:
        return __write(c->fd, buf, n);
    case W_SYSCALL:
        return syscall(SYS_write, c->fd, buf, n);
    case W_SYSCALL_PWRITEV2:
        return syscall(SYS_pwritev2, c->fd, iov, k, -1L, -1L, 0);
    case W__SEND:
        return __send(c->fd, buf, n, MSG_NOSIGNAL);
    case W_PWRITEV2:
        return pwritev2(c->fd, iov, k, -1, 0);
    case W_AIO: {
        struct aiocb cb = {.aio_fildes = c->fd, .aio_buf = (void *)buf, .aio_nbytes = n};
        const struct aiocb *list[1] = {&cb};
        if (aio_write(&cb) != 0)
            return -1;
        while (aio_error(&cb) == EINPROGRESS)
            aio_suspend(list, 1, NULL);
        return aio_return(&cb);
    }
    case W_OOB:
        return send(c->fd, buf, n, MSG_OOB | MSG_NOSIGNAL);
    case W_STDIO_INLINE:
        if (!c->stdio && !(c->stdio = fdopen(c->fd, "r+")))
            return -1;
        for (size_t i = 0; i < n; i++)
            if (putc_unlocked((unsigned char)buf[i], c->stdio) == EOF)
                return -1;
        return fflush(NULL) == 0 && !ferror(c->stdio) ? (ssize_t)n : -1;
    case W_WIDE:
        if (!c->stdio && !(c->stdio = fdopen(c->fd, "r+")))
            return -1;
        for (size_t i = 0; i < n; i++)
            if (fputwc((wchar_t)(unsigned char)buf[i], c->stdio) == WEOF)
                return -1;
        return fflush(c->stdio) == 0 ? (ssize_t)n : -1;
    default:
        return write(c->fd, buf, n);
    }
}

static bool clear_write(conn *c, const char *buf, size_t n)
{
    while (n > 0) {
        size_t piece = opt.split > 0 && (size_t)opt.split < n ? (size_t)opt.split : n;
        ssize_t r = write_once(c, buf, piece);
        if (r <= 0)
            return false;
        buf += r;
        n -= (size_t)r;
    }
    return true;
}

/* ---- TLS: three ways of connecting OpenSSL to the socket ---------------- */

static int custom_write(BIO *b, const char *buf, int n)
{
    BIO_clear_retry_flags(b);
    ssize_t r = send((int)(intptr_t)BIO_get_data(b), buf, (size_t)n, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR)
        BIO_set_retry_write(b);
    return (int)r;
}

static int custom_read(BIO *b, char *buf, int n)
{
    BIO_clear_retry_flags(b);
    ssize_t r = recv((int)(intptr_t)BIO_get_data(b), buf, (size_t)n, 0);
    if (r < 0 && errno == EINTR)
        BIO_set_retry_read(b);
    return (int)r;
}

static long custom_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH; /* nothing buffered; everything else unsupported */
}

/* --bio mem: what OpenSSL wrote goes to the socket. */
static bool flush_out(conn *c)
{
    char buf[16384];
    int n;
    while ((n = BIO_read(c->wbio, buf, sizeof(buf))) > 0)
        for (char *p = buf; n > 0;) {
            ssize_t w = write(c->fd, p, (size_t)n);
            if (w <= 0)
                return false;
            p += w;
            n -= (int)w;
        }
    return true;
}

/* --bio mem: one read(2) of the socket for OpenSSL; false at end or error. */
static bool fill_in(conn *c)
{
    char buf[16384];
    ssize_t n = read(c->fd, buf, sizeof(buf));
    return n > 0 && BIO_write(c->rbio, buf, (int)n) == (int)n;
}

enum { OP_CONNECT, OP_READ, OP_WRITE };

/* Runs one SSL call to completion. Socket and custom BIOs block, so one
 * call is enough; with memory BIOs this loop is the event loop. */
static int tls_run(conn *c, int op, void *buf, int n)
{
    for (int round = 0; round < 100000; round++) {
        int r = op == OP_CONNECT ? SSL_connect(c->ssl)
                : op == OP_READ  ? SSL_read(c->ssl, buf, n)
                                 : SSL_write(c->ssl, buf, n);
        if (!c->wbio)
            return r;
        int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
        if (!flush_out(c))
            return -1;
        if (r > 0 || e != SSL_ERROR_WANT_READ || !fill_in(c))
            return r;
    }
    return -1;
}

/* Allows everything: what a program that lowers OpenSSL's security level
 * with a callback of its own does, at its most. */
static int own_security(const SSL *ssl, const SSL_CTX *c, int op, int bits, int nid, void *other,
                        void *ex)
{
    (void)ssl, (void)c, (void)op, (void)bits, (void)nid, (void)other, (void)ex;
    return 1;
}

static const char *const own_security_names[] = {"ctx", "ssl", "chain", NULL};

/* --psk: the identity (before the colon) and the key. */
static unsigned char psk_key[64];
static long psk_key_len;

static bool parse_psk(const char *v)
{
    const char *colon = strchr(v, ':');
    unsigned char *key = colon ? OPENSSL_hexstr2buf(colon + 1, &psk_key_len) : NULL;
    bool ok = key && colon > v && psk_key_len > 0 && (size_t)psk_key_len <= sizeof(psk_key);
    if (ok)
        memcpy(psk_key, key, (size_t)psk_key_len);
    OPENSSL_free(key);
    return ok;
}

/* The session the external pre-shared key stands for
 * (TLS_AES_128_GCM_SHA256, as odd_tls_server's); none for a handshake
 * digest other than its SHA-256. */
static int use_psk(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                   SSL_SESSION **sess)
{
    static const unsigned char aes128gcm[] = {0x13, 0x01};
    const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, aes128gcm);
    *sess = NULL;
    if (!cipher || (md && md != SSL_CIPHER_get_handshake_digest(cipher)))
        return 1;
    SSL_SESSION *s = SSL_SESSION_new();
    if (!s || !SSL_SESSION_set1_master_key(s, psk_key, (size_t)psk_key_len) ||
        !SSL_SESSION_set_cipher(s, cipher) ||
        !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
        SSL_SESSION_free(s);
        return 0;
    }
    *id = (const unsigned char *)opt.psk;
    *idlen = strcspn(opt.psk, ":");
    *sess = s;
    return 1;
}
static int (*replaced_security)(const SSL *, const SSL_CTX *, int, int, int, void *, void *);
static unsigned long chained_calls;

/* Counts, then asks the callback it replaced. */
static int chained_security(const SSL *ssl, const SSL_CTX *c, int op, int bits, int nid,
                            void *other, void *ex)
{
    chained_calls++;
    return replaced_security ? replaced_security(ssl, c, op, bits, nid, other, ex) : 1;
}

/* A new SSL on the connection's socket, offering a session if given. */
static bool tls_prepare(conn *c, int bio, SSL_SESSION *offer)
{
    if (!(c->ssl = SSL_new(ctx)))
        return failed(c, "handshake", ssl_why());
    if (opt.own_security_cb && strcmp(opt.own_security_cb, "ssl") == 0)
        SSL_set_security_callback(c->ssl, own_security);
    if (opt.sni)
        SSL_set_tlsext_host_name(c->ssl, opt.sni);
    if (offer)
        SSL_set_session(c->ssl, offer);
    if (bio == B_MEM) {
        c->rbio = BIO_new(BIO_s_mem());
        c->wbio = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(c->rbio, -1); /* empty means "wait", not "end" */
        SSL_set_bio(c->ssl, c->rbio, c->wbio);
    } else if (bio == B_CUSTOM) {
        BIO *b = BIO_new(custom_method);
        BIO_set_data(b, (void *)(intptr_t)c->fd);
        BIO_set_init(b, 1);
        SSL_set_bio(c->ssl, b, b);
    } else {
        SSL_set_fd(c->ssl, c->fd);
    }
    return true;
}

static void tls_done(conn *c)
{
    c->tls = true;
    c->reused = SSL_session_reused(c->ssl);
}

/* After a failed handshake: no TLS any more, the socket stays open. */
static void tls_drop(conn *c)
{
    SSL_free(c->ssl);
    c->ssl = NULL;
    c->rbio = c->wbio = NULL;
    ERR_clear_error();
}

static bool tls_connect(conn *c, SSL_SESSION *offer)
{
    if (!tls_prepare(c, opt.bio, offer))
        return false;
    errno = 0; /* so that ssl_why() tells no stale error */
    if (tls_run(c, OP_CONNECT, NULL, 0) != 1)
        return failed(c, "handshake", ssl_why());
    tls_done(c);
    return true;
}

/* ---- SMTP ---------------------------------------------------------------- */

static bool send_line(conn *c, const char *line)
{
    int n = (int)strlen(line);
    if (c->ssl)
        return tls_run(c, OP_WRITE, (void *)line, n) == n;
    return clear_write(c, line, (size_t)n);
}

/* One byte at a time in clear: nothing past the reply is taken, so what
 * follows a 220 to STARTTLS is left in the socket for OpenSSL. */
static int get_byte(conn *c)
{
    unsigned char ch;
    if (c->ssl)
        return tls_run(c, OP_READ, &ch, 1) == 1 ? ch : -1;
    return read(c->fd, &ch, 1) == 1 ? ch : -1;
}

/* Reads one reply (all its lines) into c->reply; returns its code, 0 on
 * error. Binary bytes (a TLS record read as text) are taken as they come. */
static int read_reply(conn *c)
{
    size_t used = 0, start = 0; /* start: where the current line begins */
    c->reply[0] = '\0';
    for (;;) {
        int ch = get_byte(c);
        if (ch < 0)
            return 0;
        if (used + 1 >= sizeof(c->reply))
            used = start = 0; /* too long: keep only what follows */
        c->reply[used++] = (char)ch;
        c->reply[used] = '\0';
        if (ch == '\n') {
            if (used - start >= 4 && c->reply[start + 3] == ' ')
                return atoi(c->reply + start);
            start = used;
        }
    }
}

static bool command(conn *c, const char *line, int want, const char *stage)
{
    if (!send_line(c, line))
        return failed(c, stage, c->ssl ? ssl_why() : strerror(errno));
    int got = read_reply(c);
    return got == want || failed(c, stage, reply_why(c));
}

static bool ehlo(conn *c, const char *stage)
{
    if (!command(c, "EHLO client.test\r\n", 250, stage))
        return false;
    c->offers_starttls = strstr(c->reply, "STARTTLS") != NULL;
    return true;
}

/* --raw: the extra lines, then whatever replies come within 300 ms. */
static void raw_lines(conn *c)
{
    for (int i = 0; i < opt.nraw; i++) {
        char line[1024];
        size_t n = 0;
        for (const char *p = opt.raw[i]; *p && n + 3 < sizeof(line); p++) {
            char e = p[0] == '\\' ? p[1] : 0;
            if (e == 't' || e == 'r' || e == 'n' || e == '\\') {
                line[n++] = e == 't' ? '\t' : e == 'r' ? '\r' : e == 'n' ? '\n' : '\\';
                p++;
            } else {
                line[n++] = *p;
            }
        }
        if (n == 0 || line[n - 1] != '\n') {
            line[n++] = '\r';
            line[n++] = '\n';
        }
        if (!clear_write(c, line, n))
            return;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        for (int round = 0; round < 20 && poll(&p, 1, 300) == 1; round++) {
            char buf[1024];
            ssize_t r = read(c->fd, buf, sizeof(buf));
            if (r <= 0)
                break;
            fprintf(stderr, "raw reply: %.*s", (int)r, buf);
        }
    }
}

/* The mail transaction, in clear or in TLS: what --exec-child's child does. */
static bool transaction(conn *c)
{
    char data[512];
    snprintf(data, sizeof(data), "Subject: %s\r\n\r\n%s\r\n.\r\n", opt.marker, opt.marker);
    return command(c, "MAIL FROM:<s@client.test>\r\n", 250, "MAIL") &&
           command(c, "RCPT TO:<user@example.com>\r\n", 250, "RCPT") &&
           command(c, "DATA\r\n", 354, "DATA") && command(c, data, 250, "message");
}

/* --exec-child: the transaction done by a new program on the same socket. */
static bool exec_child(conn *c)
{
    char fd[16], iov[16], split[16];
    snprintf(fd, sizeof(fd), "%d", c->fd);
    snprintf(iov, sizeof(iov), "%d", opt.iov);
    snprintf(split, sizeof(split), "%d", opt.split);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", "guard_client", "-", "0", "--child-write", fd, "--marker",
              opt.marker, "--write", write_names[opt.write], "--iov", iov, "--split", split,
              (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return failed(c, "exec-child", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return failed(c, "exec-child", "the child did not deliver (see stderr)");
    return true;
}

/* No wait is endless: a silent server fails the stage after 20 s. */
static void limit_waits(int fd)
{
    struct timeval limit = {.tv_sec = 20};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
}

/* --port8443: another TLS connection, memory BIOs, while SMTP waits. */
static bool side_steps(conn *s)
{
    char host[256], buf[64];
    const char *colon = strrchr(opt.side, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET};
    snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - opt.side) : 0, opt.side);
    sa.sin_port = htons((uint16_t)(colon ? atoi(colon + 1) : 0));
    if (!colon || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return failed(s, "address", opt.side);
    if ((s->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        return failed(s, "connect", strerror(errno));
    limit_waits(s->fd);
    if (!tls_prepare(s, B_MEM, NULL))
        return false;
    if (tls_run(s, OP_CONNECT, NULL, 0) != 1)
        return failed(s, "handshake", ssl_why());
    /* Any answer will do: s_server -www sends a page, tlsecho the line. */
    if (tls_run(s, OP_WRITE, "GET / HTTP/1.0\r\n\r\n", 18) != 18)
        return failed(s, "write", ssl_why());
    if (tls_run(s, OP_READ, buf, sizeof(buf)) <= 0)
        return failed(s, "read", ssl_why());
    return true;
}

static void side_connection(void)
{
    conn s = {.fd = -1};
    if (side_steps(&s))
        fprintf(out, "side: ok\n");
    else
        fprintf(out, "side: failed %s\n", s.fail);
    if (s.ssl) {
        SSL_shutdown(s.ssl);
        flush_out(&s);
        SSL_free(s.ssl);
    }
    if (s.fd >= 0)
        close(s.fd);
    ERR_clear_error();
}

/* The socket under another number: a duplicate, and/or one >= 70000. */
static int move_fd(int fd)
{
    int moved = opt.dup == D_DUP     ? dup(fd)
                : opt.dup == D_DUP2  ? dup2(fd, 200 + connections)
                : opt.dup == D_FCNTL ? fcntl(fd, F_DUPFD, 300)
                                     : fd;
    if (opt.bigfd && moved >= 0) {
        int big = fcntl(moved, F_DUPFD, BIG_FD);
        if (moved != fd)
            close(moved);
        moved = big;
    }
    if (moved != fd)
        close(fd);
    return moved;
}

/* --lookup: the first MX host of the domain, as text, through libc's
 * resolver, then its address (so the preload shim sees both lookups). */
static bool look_up(conn *c, char *addr, size_t len)
{
    unsigned char answer[4096];
    int n = res_query(opt.lookup, ns_c_in, ns_t_mx, answer, sizeof(answer));
    ns_msg msg;
    ns_rr rr;
    char host[NS_MAXDNAME];
    if (n < 0 || ns_initparse(answer, n, &msg) != 0 || ns_msg_count(msg, ns_s_an) < 1 ||
        ns_parserr(&msg, ns_s_an, 0, &rr) != 0 || ns_rr_type(rr) != ns_t_mx ||
        dn_expand(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 2, host, sizeof(host)) < 0)
        return failed(c, "lookup", "no MX record");
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, NULL, &hints, &ai) != 0 || !ai)
        return failed(c, "lookup", "no address for the MX host");
    inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, addr, (socklen_t)len);
    freeaddrinfo(ai);
    return true;
}

static void on_alarm(int sig)
{
    (void)sig;
}

/* --connect-eintr: the socket gets the number a file had (written to, so
 * known as a file), and its blocking connect() is interrupted. */
static bool connect_interrupted(conn *c, const struct sockaddr_in *sa)
{
    /* Fill the late server's accept queue (one place): one connection,
     * waited for (whatever loads at a first connect has loaded too). */
    int filler = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0); /* left open */
    if (filler >= 0 && connect(filler, (const struct sockaddr *)sa, sizeof(*sa)) != 0) {
        struct pollfd p = {.fd = filler, .events = POLLOUT};
        poll(&p, 1, 5000);
    }
    int f = open("/dev/null", O_WRONLY);
    if (f < 0 || write(f, "x", 1) != 1)
        return failed(c, "connect", strerror(errno));
    close(f);
    struct sigaction quiet = {.sa_handler = on_alarm}; /* no SA_RESTART */
    sigaction(SIGALRM, &quiet, NULL);
    if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) != f)
        fprintf(stderr, "guard_client: the socket is %d, the file was %d\n", c->fd, f);
    struct itimerval once = {.it_value = {.tv_usec = 300000}};
    setitimer(ITIMER_REAL, &once, NULL);
    if (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
        fprintf(stderr, "guard_client: connect() was not interrupted\n");
        return true;
    }
    if (errno != EINTR)
        return failed(c, "connect", strerror(errno));
    fprintf(stderr, "guard_client: connect() interrupted (EINTR), waiting for it\n");
    struct pollfd p = {.fd = c->fd, .events = POLLOUT};
    int error = -1;
    socklen_t len = sizeof(error);
    if (poll(&p, 1, 20000) != 1 || getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 ||
        error != 0)
        return failed(c, "connect", "the interrupted connection did not complete");
    return true;
}

/* --vfork: what a child between vfork() and exec does to the socket. */
static void vfork_child(int fd)
{
    pid_t pid = vfork();
    if (pid == 0) {
        int devnull;
        switch (opt.vfork) {
        case V_CLOSE:
            close(fd);
            break;
        case V_CLOSE_RANGE:
            close_range(3, ~0u, 0);
            break;
        case V_CLOSEFROM:
            closefrom(3);
            break;
        case V_DUP2:
            if ((devnull = open("/dev/null", O_WRONLY)) >= 0)
                dup2(devnull, fd);
            break;
        }
        _exit(0);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

/* --fork-raw: a child made without fork()'s handlers, with a connection
 * of its own. */
static void fork_raw(const struct sockaddr_in *sa)
{
    fflush(NULL);
    pid_t pid = _Fork();
    if (pid == 0) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        char buf[512];
        if (s >= 0 && connect(s, (const struct sockaddr *)sa, sizeof(*sa)) == 0 &&
            read(s, buf, sizeof(buf)) > 0) {
            static const char lines[] = "EHLO child.test\r\nMAIL FROM:<fork-raw@client.test>\r\n";
            ssize_t w = write(s, lines, sizeof(lines) - 1);
            fprintf(stderr, "guard_client: _Fork child wrote MAIL FROM: %zd (%s)\n", w,
                    w < 0 ? strerror(errno) : "sent");
        }
        _exit(0);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

/* --zerocopy: text on the stack that is never written. */
__attribute__((noinline)) static void other_work(void)
{
    volatile char scratch[16384];
    static const char text[] = "MAIL FROM:<stack@client.test> never-written ";
    for (size_t i = 0; i < sizeof(scratch); i++)
        scratch[i] = text[i % (sizeof(text) - 1)];
}

/* --zerocopy: a send whose bytes the kernel reads after it returned. */
static void zerocopy_send(int fd)
{
    static const char kept[] = "NOOP zero-copy line, kept intact by the program\r\n";
    char noop[502];
    memset(noop, 'x', sizeof(noop));
    memcpy(noop, "NOOP ", 5);
    memcpy(noop + 500, "\r\n", 2);
    int one = 1, queued = 0, flags = fcntl(fd, F_GETFL);
    if (setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) != 0) {
        fprintf(stderr, "guard_client: SO_ZEROCOPY: %s\n", strerror(errno));
        return;
    }
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    for (int i = 0; i < 2000 && write(fd, noop, sizeof(noop)) == (ssize_t)sizeof(noop); i++) {
        usleep(2000);
        if (ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0) {
            usleep(50000);
            if (ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0)
                break;
        }
    }
    ssize_t r = send(fd, kept, sizeof(kept) - 1, MSG_ZEROCOPY);
    fprintf(stderr, "guard_client: %d bytes queued; zero-copy send -> %zd (%s)\n", queued, r,
            r < 0 ? strerror(errno) : "queued");
    other_work();
    fcntl(fd, F_SETFL, flags);
}

/* --seccomp: from now on, process_vm_readv and kcmp kill the process (as
 * systemd's @system-service filter would), loaded the way libseccomp does. */
static void sandbox(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_kcmp, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        fprintf(stderr, "guard_client: seccomp: %s\n", strerror(errno));
    else
        fprintf(stderr, "guard_client: seccomp filter loaded\n");
}

/* --efault: what writes from unreadable buffers return. */
static void efault_writes(int fd)
{
    /* volatile: the compiler would refuse to build the mistake */
    char *volatile nowhere = NULL, *volatile unmapped = (char *)16;
    struct iovec half[2] = {{.iov_base = "NOOP\r\n", .iov_len = 6},
                            {.iov_base = unmapped, .iov_len = 5000}};
    errno = 0;
    ssize_t a = write(fd, nowhere, 10);
    int ea = errno;
    errno = 0;
    ssize_t b = write(fd, unmapped, 100000);
    int eb = errno;
    errno = 0;
    ssize_t c = writev(fd, half, 2);
    int ec = errno;
    if (a == -1 && ea == EFAULT && b == -1 && eb == EFAULT && c == -1 && ec == EFAULT)
        fprintf(out, "efault: ok\n");
    else
        fprintf(out,
                "efault: write(NULL) %zd (%s), write(unmapped, 100000) %zd (%s), writev %zd (%s)\n",
                a, strerror(ea), b, strerror(eb), c, strerror(ec));
}

/* --selfpipe: 400 self-pipes, each written once by a signal handler while
 * this thread opens, writes and closes files (the shim busy each time). */
#define SELFPIPES 400
static int selfpipes[SELFPIPES][2];
static volatile sig_atomic_t selfpipe_next;

static void selfpipe_handler(int sig)
{
    (void)sig;
    int saved = errno;
    if (selfpipe_next < SELFPIPES) {
        ssize_t w = write(selfpipes[selfpipe_next][1], "x", 1);
        (void)w;
        selfpipe_next++;
    }
    errno = saved;
}

static void selfpipe_storm(void)
{
    for (int i = 0; i < SELFPIPES; i++)
        if (pipe(selfpipes[i]) != 0) {
            printf("selfpipe: pipe: %s\n", strerror(errno));
            return;
        }
    struct sigaction sa = {.sa_handler = selfpipe_handler, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every = {{0, 50}, {0, 50}};
    setitimer(ITIMER_REAL, &every, NULL);
    for (long loops = 0; selfpipe_next < SELFPIPES && loops < 10000000; loops++) {
        int f = open("/dev/null", O_WRONLY);
        ssize_t w = write(f, "y", 1);
        (void)w;
        close(f);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    for (int i = 0; i < SELFPIPES; i++)
        close(selfpipes[i][0]), close(selfpipes[i][1]);
    printf("selfpipe: %d signals handled\n", (int)selfpipe_next);
}

/* Connects and gets as far as EHLO in clear (with the --raw lines, the
 * side connection, or in implicit TLS). */
static bool smtp_open(conn *c)
{
    for (int i = 0; i < opt.fd_gap; i++)
        if (open("/dev/null", O_RDONLY) < 0)
            return failed(c, "fd-gap", strerror(errno));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    static char found[64];
    if (opt.lookup && c->addr == opt.addr) {
        if (!look_up(c, found, sizeof(found)))
            return false;
        c->addr = found;
    }
    if (inet_pton(AF_INET, c->addr, &sa.sin_addr) != 1)
        return failed(c, "connect", "not an IPv4 address");
    if (opt.connect_eintr) {
        if (!connect_interrupted(c, &sa))
            return false;
    } else {
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
            return failed(c, "connect", strerror(errno));
    }
    limit_waits(c->fd);
    if ((c->fd = move_fd(c->fd)) < 0)
        return failed(c, "dup", strerror(errno));
    connections++;
    if (opt.starttls == S_IMPLICIT && !tls_connect(c, NULL))
        return false;
    if (read_reply(c) != 220)
        return failed(c, "greeting", reply_why(c));
    if (!ehlo(c, "EHLO"))
        return false;
    raw_lines(c);
    if (opt.vfork != V_NONE)
        vfork_child(c->fd);
    if (opt.efault)
        efault_writes(c->fd);
    if (opt.fork_raw)
        fork_raw(&sa);
    if (opt.zerocopy)
        zerocopy_send(c->fd);
    if (opt.seccomp)
        sandbox();
    if (opt.tfo_other) {
        struct sockaddr_in other = sa;
        other.sin_port = htons(80);
        ssize_t r = sendto(c->fd, "", 0, MSG_FASTOPEN, (struct sockaddr *)&other, sizeof(other));
        fprintf(stderr, "guard_client: sendto(MSG_FASTOPEN, port 80) -> %zd (%s)\n", r,
                r < 0 ? strerror(errno) : "sent");
    }
    if (opt.unix_other) {
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        snprintf(un.sun_path, sizeof(un.sun_path), "/nonexistent/mxverify-test");
        int r = connect(c->fd, (struct sockaddr *)&un, sizeof(un));
        fprintf(stderr, "guard_client: connect(AF_UNIX) -> %d (%s)\n", r,
                r < 0 ? strerror(errno) : "connected");
        ssize_t s = sendto(c->fd, "", 0, MSG_FASTOPEN, (struct sockaddr *)&un, sizeof(un));
        fprintf(stderr, "guard_client: sendto(MSG_FASTOPEN, AF_UNIX) -> %zd (%s)\n", s,
                s < 0 ? strerror(errno) : "sent");
    }
    return true;
}

/* STARTTLS as --starttls and --on-tls-failure say; true to go on. */
static bool smtp_starttls(conn *c, SSL_SESSION *offer)
{
    if (opt.starttls != S_TRY || !c->offers_starttls)
        return true;
    if (!command(c, "STARTTLS\r\n", 220, "STARTTLS") || !tls_connect(c, offer)) {
        if (c->ssl)
            tls_drop(c);
        if (opt.tls_fail_continue) {
            c->fail[0] = '\0';
            return true; /* on in clear, no new EHLO: what swaks -tlso does */
        }
        char why[sizeof(c->fail)];
        memcpy(why, c->fail, sizeof(why));
        command(c, "QUIT\r\n", 221, "QUIT");
        memcpy(c->fail, why, sizeof(why));
        return false;
    }
    return ehlo(c, "EHLO after STARTTLS");
}

/* QUIT, the session kept if asked, the connection closed. */
static SSL_SESSION *smtp_close(conn *c, bool keep_session)
{
    SSL_SESSION *session = NULL;
    if (c->fd >= 0 && !c->fail[0] && !command(c, "QUIT\r\n", 221, "QUIT"))
        c->fail[0] = '\0'; /* delivered is delivered: a lost 221 changes nothing */
    if (c->ssl) {
        if (keep_session)
            session = SSL_get1_session(c->ssl);
        SSL_shutdown(c->ssl);
        if (c->wbio)
            flush_out(c);
        SSL_free(c->ssl);
    }
    if (c->stdio)
        fclose(c->stdio); /* closes c->fd as well */
    else if (c->fd >= 0)
        close(c->fd);
    ERR_clear_error();
    return session;
}

static bool report(conn *c, const char *prefix)
{
    if (c->fail[0])
        fprintf(out, "%sfailed %s\n", prefix, c->fail);
    else
        fprintf(out, "%s%s tls=%s reused=%d\n", prefix, opt.no_mail ? "ok" : "delivered",
                c->tls ? "yes" : "no", c->reused);
    fflush(out);
    return !c->fail[0];
}

/* One whole session with addr; returns the TLS session if keep_session. */
static SSL_SESSION *deliver(conn *c, SSL_SESSION *offer, bool keep_session)
{
    bool ok = smtp_open(c);
    if (ok && opt.exec_child)
        ok = exec_child(c);
    else if (ok)
        ok = smtp_starttls(c, offer);
    /* The side connection once this one's handshake is done: the last
     * ClientHello the thread wrote was the SMTP connection's. */
    if (ok && opt.side)
        side_connection();
    if (ok && !opt.exec_child)
        ok = opt.no_mail || transaction(c);
    (void)ok; /* a failure is in c->fail */
    return smtp_close(c, keep_session);
}

/* One step of a handshake driven by hand: 1 done, 0 wants bytes, -1 failed. */
static int handshake_step(conn *c)
{
    int r = SSL_connect(c->ssl);
    int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
    if (!flush_out(c))
        return -1;
    return r > 0 ? 1 : e == SSL_ERROR_WANT_READ ? 0 : -1;
}

/* --interleave: the two handshakes in one thread, step by step. */
static int interleave(void)
{
    conn cs[2] = {{.addr = opt.addr, .fd = -1}, {.addr = opt.addr2, .fd = -1}};
    int state[2] = {-1, -1}; /* -1 failed, 0 in handshake, 1 done */
    for (int i = 0; i < 2; i++)
        if (smtp_open(&cs[i]) && command(&cs[i], "STARTTLS\r\n", 220, "STARTTLS") &&
            tls_prepare(&cs[i], B_MEM, NULL))
            state[i] = 0;
    for (int i = 0; i < 2; i++) /* ClientHello 1, ClientHello 2 */
        if (state[i] == 0 && (state[i] = handshake_step(&cs[i])) < 0)
            failed(&cs[i], "handshake", ssl_why());
    for (int round = 0; round < 200 && (state[0] == 0 || state[1] == 0); round++) {
        struct pollfd p[2] = {{.fd = state[0] == 0 ? cs[0].fd : -1, .events = POLLIN},
                              {.fd = state[1] == 0 ? cs[1].fd : -1, .events = POLLIN}};
        if (poll(p, 2, 10000) <= 0)
            break;
        for (int i = 0; i < 2; i++)
            if (p[i].revents && (!fill_in(&cs[i]) || (state[i] = handshake_step(&cs[i])) < 0)) {
                state[i] = -1;
                failed(&cs[i], "handshake", ssl_why());
            }
    }
    bool all = true;
    for (int i = 0; i < 2; i++) {
        if (state[i] == 0)
            failed(&cs[i], "handshake", "timed out");
        if (state[i] == 1) {
            tls_done(&cs[i]);
            if (ehlo(&cs[i], "EHLO after STARTTLS") && !opt.no_mail)
                transaction(&cs[i]);
        }
        smtp_close(&cs[i], false);
        all &= report(&cs[i], i ? "conn2: " : "conn1: ");
    }
    return all ? 0 : 1;
}

static int pick(const char *value, const char *const names[], const char *what)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(value, names[i]) == 0)
            return i;
    fprintf(stderr, "guard_client: unknown %s '%s'\n", what, value);
    exit(2);
}

/* --bigfd: room for a descriptor >= 70000, or exit 77 (skipped). */
static void allow_bigfd(void)
{
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    if (r.rlim_max <= BIG_FD + 16) /* only with CAP_SYS_RESOURCE */
        r.rlim_max = BIG_FD + 1024;
    r.rlim_cur = r.rlim_max == RLIM_INFINITY ? BIG_FD + 1024 : r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &r) != 0) {
        getrlimit(RLIMIT_NOFILE, &r);
        printf("skipped: RLIMIT_NOFILE hard limit %llu allows no descriptor %d\n",
               (unsigned long long)r.rlim_max, BIG_FD);
        exit(77);
    }
}

static int own_verify(X509_STORE_CTX *store, void *arg)
{
    (void)arg;
    int ok = X509_verify_cert(store);
    fprintf(stderr, "guard_client: certificate %s (%s), accepted anyway\n",
            ok == 1 ? "verified" : "NOT verified",
            X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)));
    return 1;
}

static void parse(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: guard_client ADDR PORT [options] (see the source)\n");
        exit(2);
    }
    opt.addr = argv[1];
    opt.port = atoi(argv[2]);
    for (int i = 3; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool flag = true;
        if (strcmp(o, "--bigfd") == 0)
            opt.bigfd = true;
        else if (strcmp(o, "--exec-child") == 0)
            opt.exec_child = true;
        else if (strcmp(o, "--own-verify-cb") == 0)
            opt.own_verify_cb = true;
        else if (strcmp(o, "--no-mail") == 0)
            opt.no_mail = true;
        else if (strcmp(o, "--connect-eintr") == 0)
            opt.connect_eintr = true;
        else if (strcmp(o, "--tfo-other") == 0)
            opt.tfo_other = true;
        else if (strcmp(o, "--unix-other") == 0)
            opt.unix_other = true;
        else if (strcmp(o, "--selfpipe") == 0)
            opt.selfpipe = true;
        else if (strcmp(o, "--errno-check") == 0)
            opt.errno_check = true;
        else if (strcmp(o, "--efault") == 0)
            opt.efault = true;
        else if (strcmp(o, "--fork-raw") == 0)
            opt.fork_raw = true;
        else if (strcmp(o, "--zerocopy") == 0)
            opt.zerocopy = true;
        else if (strcmp(o, "--seccomp") == 0)
            opt.seccomp = true;
        else
            flag = false;
        if (flag)
            continue;
        if (!v) {
            fprintf(stderr, "guard_client: unknown option or no value: %s\n", o);
            exit(2);
        }
        i++;
        if (strcmp(o, "--marker") == 0)
            opt.marker = v;
        else if (strcmp(o, "--starttls") == 0)
            opt.starttls = pick(v, starttls_names, o);
        else if (strcmp(o, "--on-tls-failure") == 0)
            opt.tls_fail_continue = pick(v, (const char *const[]){"quit", "continue", NULL}, o);
        else if (strcmp(o, "--write") == 0)
            opt.write = pick(v, write_names, o);
        else if (strcmp(o, "--iov") == 0)
            opt.iov = atoi(v);
        else if (strcmp(o, "--split") == 0)
            opt.split = atoi(v);
        else if (strcmp(o, "--dup") == 0)
            opt.dup = pick(v, dup_names, o);
        else if (strcmp(o, "--fd-gap") == 0)
            opt.fd_gap = atoi(v);
        else if (strcmp(o, "--bio") == 0)
            opt.bio = pick(v, bio_names, o);
        else if (strcmp(o, "--interleave") == 0)
            opt.addr2 = v, opt.interleave = true;
        else if (strcmp(o, "--resume-to") == 0)
            opt.addr2 = v;
        else if (strcmp(o, "--session-out") == 0)
            opt.session_out = v;
        else if (strcmp(o, "--session-in") == 0)
            opt.session_in = v;
        else if (strcmp(o, "--psk") == 0) {
            opt.psk = v;
            if (!parse_psk(v)) {
                fprintf(stderr, "guard_client: --psk IDENTITY:HEXKEY, not %s\n", v);
                exit(2);
            }
        } else if (strcmp(o, "--own-security-cb") == 0)
            opt.own_security_cb = own_security_names[pick(v, own_security_names, o)];
        else if (strcmp(o, "--ciphers") == 0)
            opt.ciphers = v;
        else if (strcmp(o, "--tls-max") == 0)
            opt.tls_max = pick(v, (const char *const[]){"1.2", "1.3", NULL}, o) ? TLS1_3_VERSION
                                                                                : TLS1_2_VERSION;
        else if (strcmp(o, "--verify") == 0)
            opt.verify_peer = pick(v, (const char *const[]){"none", "peer", NULL}, o);
        else if (strcmp(o, "--cafile") == 0)
            opt.cafile = v;
        else if (strcmp(o, "--sni") == 0)
            opt.sni = v;
        else if (strcmp(o, "--raw") == 0 && opt.nraw < 64)
            opt.raw[opt.nraw++] = v;
        else if (strcmp(o, "--port8443") == 0)
            opt.side = v;
        else if (strcmp(o, "--lookup") == 0)
            opt.lookup = v;
        else if (strcmp(o, "--chroot") == 0)
            opt.chroot_dir = v;
        else if (strcmp(o, "--child-write") == 0)
            opt.child_fd = atoi(v);
        else if (strcmp(o, "--vfork") == 0)
            opt.vfork = pick(v, vfork_names, o);
        else if (strcmp(o, "--load-conf") == 0)
            opt.load_conf = v;
        else if (strcmp(o, "--openssl-conf") == 0)
            opt.openssl_conf = v;
        else {
            fprintf(stderr, "guard_client: unknown option %s\n", o);
            exit(2);
        }
    }
    if (opt.interleave && opt.bio != B_MEM) {
        fprintf(stderr, "guard_client: --interleave needs --bio mem\n");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* write(2) and writev(2) have no MSG_NOSIGNAL */
    parse(argc, argv);
    if (opt.errno_check) {
        errno = EACCES;
        ssize_t w = write(2, "", 0); /* the first write to stderr: looked at by the shim */
        (void)w;
        printf("errno: %s\n", errno == EACCES ? "kept" : "changed");
    }
    if (opt.selfpipe)
        selfpipe_storm();
    if (opt.chroot_dir && (chroot(opt.chroot_dir) != 0 || chdir("/") != 0)) {
        fprintf(stderr, "guard_client: chroot %s: %s\n", opt.chroot_dir, strerror(errno));
        return 77;
    }
    out = opt.write == W_STDOUT ? stderr : stdout;
    if (opt.child_fd >= 0) { /* --exec-child's child: the socket is inherited */
        conn c = {.fd = opt.child_fd};
        bool ok = transaction(&c);
        if (!ok)
            fprintf(stderr, "guard_client child: failed %s\n", c.fail);
        if (c.stdio)
            fflush(c.stdio); /* and not fclose: the socket is the parent's too */
        return ok ? 0 : 1;
    }
    if (opt.bigfd)
        allow_bigfd();
    if (opt.load_conf && CONF_modules_load_file(opt.load_conf, NULL, 0) <= 0)
        fprintf(stderr, "guard_client: %s: OpenSSL's configuration failed\n", opt.load_conf);
    if (opt.openssl_conf) {
        OPENSSL_INIT_SETTINGS *settings = OPENSSL_INIT_new();
        if (!settings || !OPENSSL_INIT_set_config_filename(settings, opt.openssl_conf) ||
            !OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, settings))
            fprintf(stderr, "guard_client: %s: OpenSSL's configuration failed\n", opt.openssl_conf);
        OPENSSL_INIT_free(settings);
    }
    custom_method = BIO_meth_new(BIO_TYPE_SOURCE_SINK | BIO_get_new_index(), "guard_client");
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx || !custom_method || !BIO_meth_set_write(custom_method, custom_write) ||
        !BIO_meth_set_read(custom_method, custom_read) ||
        !BIO_meth_set_ctrl(custom_method, custom_ctrl))
        return 1;
    if (opt.ciphers && !SSL_CTX_set_cipher_list(ctx, opt.ciphers)) {
        fprintf(stderr, "guard_client: bad --ciphers %s\n", opt.ciphers);
        return 2;
    }
    if (opt.tls_max)
        SSL_CTX_set_max_proto_version(ctx, opt.tls_max);
    if (opt.cafile && !SSL_CTX_load_verify_locations(ctx, opt.cafile, NULL)) {
        fprintf(stderr, "guard_client: cannot read %s\n", opt.cafile);
        return 2;
    }
    SSL_CTX_set_verify(ctx, opt.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (opt.own_verify_cb)
        SSL_CTX_set_cert_verify_callback(ctx, own_verify, NULL);
    if (opt.psk)
        SSL_CTX_set_psk_use_session_callback(ctx, use_psk);
    if (opt.own_security_cb && strcmp(opt.own_security_cb, "ctx") == 0)
        SSL_CTX_set_security_callback(ctx, own_security);
    if (opt.own_security_cb && strcmp(opt.own_security_cb, "chain") == 0) {
        replaced_security = SSL_CTX_get_security_callback(ctx);
        SSL_CTX_set_security_callback(ctx, chained_security);
    }

    int rc;
    if (opt.interleave) {
        rc = interleave();
    } else {
        SSL_SESSION *offer = NULL;
        if (opt.session_in) {
            FILE *f = fopen(opt.session_in, "r");
            offer = f ? PEM_read_SSL_SESSION(f, NULL, NULL, NULL) : NULL;
            if (f)
                fclose(f);
            if (!offer)
                fprintf(stderr, "guard_client: no session in %s, none offered\n", opt.session_in);
        }
        conn c = {.addr = opt.addr, .fd = -1};
        SSL_SESSION *got = deliver(&c, offer, opt.addr2 || opt.session_out);
        if (opt.session_out) {
            FILE *f = got ? fopen(opt.session_out, "w") : NULL;
            if (!f || !PEM_write_SSL_SESSION(f, got))
                fprintf(stderr, "guard_client: no session saved to %s\n", opt.session_out);
            if (f)
                fclose(f);
        }
        rc = report(&c, opt.addr2 ? "conn1: " : "") ? 0 : 1;
        if (opt.addr2) {
            /* One more descriptor open: the second socket gets another number. */
            int gap = open("/dev/null", O_RDONLY);
            conn c2 = {.addr = opt.addr2, .fd = -1};
            SSL_SESSION_free(deliver(&c2, got, false));
            rc |= report(&c2, "conn2: ") ? 0 : 1;
            if (gap >= 0)
                close(gap);
        }
        SSL_SESSION_free(got);
        SSL_SESSION_free(offer);
    }
    if (replaced_security)
        fprintf(stderr, "guard_client: own security callback called %lu times\n", chained_calls);
    SSL_CTX_free(ctx);
    BIO_meth_free(custom_method);
    return rc;
}
