/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hook_scope: which connection an SSL's handshake belongs to (see
 * hook_state.h). Everything here reads the kernel's view of the process's
 * sockets; nothing is sent or changed.
 */
#include "hook_state.h"
#include "ssl_verify.h"

#include <dirent.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* The TCP connections of the process and what each had sent, at one
 * moment. */
typedef struct {
    int fd;
    ino_t ino;
    /* The socket's SO_COOKIE, 0 when the kernel has none: with the inode,
     * what tells two sockets apart (correlate()). */
    uint64_t cookie;
    bool in_scope;
    unsigned long long sent; /* octets sent (tcpi_bytes_sent), or ~0: unknown */
} sent_mark;

struct mxv_hook_ssl {
    sent_mark *marks;
    size_t nmarks;
    bool marked; /* a snapshot was taken at this SSL's ClientHello */
    /* octets OpenSSL had written to the SSL's write BIO then */
    uint64_t written;
    /* The socket a handshake of this SSL was tied to (BIO of the
     * program's own), and that handshake's ClientHello random: the rest of
     * that handshake is tied to it whatever other connections send, and
     * so is a renegotiation (its ClientHello is encrypted), while it names
     * the same socket. */
    bool tied;
    int tied_fd;
    dev_t tied_dev;
    ino_t tied_ino;
    unsigned char tied_random[MXV_HELLO_RANDOM_LEN];
    /* the handshake (ClientHello random) for which "cannot tell which
     * connection" was said */
    bool untold_said;
    unsigned char untold_random[MXV_HELLO_RANDOM_LEN];
};

/* Is fd a connected TCP socket whose peer port is in `ports`? */
static bool in_scope_socket(int fd)
{
    unsigned port = mxv_tcp_peer_port(fd);
    return port && mxv_hook_port_listed(port);
}

/* Octets the program has written to TCP socket fd, as far as they tell a
 * ClientHello's way: those the kernel sent (with any sent again) plus
 * those still queued. Queued ones count: a server that keeps its receive
 * window shut holds the ClientHello in the client's queue while it sends
 * its own first flight (TLS 1.2 needs nothing of the client's for it), and
 * counting sent octets alone then found that no connection carried the
 * ClientHello: out of scope, nothing decided. ~0: cannot be read. */
static unsigned long long octets_sent(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    int protocol = 0;
    socklen_t plen = sizeof(protocol);
    /* tcpi_bytes_sent came with Linux 4.19 (after tcpi_notsent_bytes, 4.6):
     * an older kernel fills less. Plain TCP only: on an MPTCP socket
     * TCP_INFO tells one subflow, not what the program wrote. */
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &plen) != 0 || protocol != IPPROTO_TCP ||
        getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_sent) + sizeof(ti.tcpi_bytes_sent))
        return ~0ULL;
    return ti.tcpi_bytes_sent + ti.tcpi_notsent_bytes;
}

/* Calls each(fd) for every open descriptor: /proc/thread-self/fd (the
 * process's /proc/self/fd lists nothing once its main thread has
 * exited), else /proc/self/fd (Linux before 3.17), else every number
 * below the descriptor limit (a chroot without /proc). Every descriptor,
 * however high: a socket at 70000 is found as one at 5. */
static void each_descriptor(void (*each)(int fd, void *arg), void *arg)
{
    DIR *d = opendir("/proc/thread-self/fd");
    if (!d)
        d = opendir("/proc/self/fd");
    if (d) {
        int self = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d))) {
            char *end;
            long fd = strtol(e->d_name, &end, 10);
            if (*end == '\0' && e->d_name[0] != '\0' && fd != self && fd >= 0 && fd <= 0x7fffffff)
                each((int)fd, arg);
        }
        closedir(d);
        return;
    }
    struct rlimit rl;
    rlim_t max = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
    for (rlim_t fd = 0; fd < max && fd < (1u << 20); fd++)
        each((int)fd, arg);
}

typedef struct {
    sent_mark *marks;
    size_t n, cap;
    bool lost; /* out of memory: a socket may be missing */
} mark_list;

static uint64_t socket_cookie(int fd)
{
    uint64_t cookie = 0;
    socklen_t len = sizeof(cookie);
    if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0 || len != sizeof(cookie))
        return 0;
    return cookie;
}

static void mark_one(int fd, void *arg)
{
    mark_list *l = arg;
    struct stat st;
    /* The cookie before and after: another thread of the program may make
     * the number name another socket meanwhile (dup2()), and an entry
     * whose peer and count are two sockets' tells nothing. */
    uint64_t cookie = socket_cookie(fd);
    unsigned port = mxv_tcp_peer_port(fd);
    if (!port || fstat(fd, &st) != 0)
        return;
    unsigned long long sent = octets_sent(fd);
    if (socket_cookie(fd) != cookie) {
        l->lost = true;
        return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        sent_mark *m = realloc(l->marks, cap * sizeof(*m));
        if (!m) {
            l->lost = true;
            return;
        }
        l->marks = m;
        l->cap = cap;
    }
    l->marks[l->n++] = (sent_mark){.fd = fd,
                                   .ino = st.st_ino,
                                   .cookie = cookie,
                                   .in_scope = mxv_hook_port_listed(port),
                                   .sent = sent};
}

mxv_hook_ssl *mxv_hook_ssl_get(SSL *ssl, bool create)
{
    mxv_hook_ssl *h = SSL_get_ex_data(ssl, mxv_hook.ssl_index);
    if (h || !create)
        return h;
    if ((h = calloc(1, sizeof(*h))) && !SSL_set_ex_data(ssl, mxv_hook.ssl_index, h)) {
        free(h);
        h = NULL;
    }
    return h;
}

/* SSL_dup() of an SSL that has not started (or was cleared) copies its
 * ex_data: the copy, a connection of its own, starts with no state
 * instead of the original's pointer (which both would free). */
int mxv_hook_ssl_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                     long argl, void *argp)
{
    (void)to, (void)from, (void)idx, (void)argl, (void)argp;
    *from_d = NULL;
    return 1;
}

void mxv_hook_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    mxv_hook_ssl *h = ptr;
    if (h)
        free(h->marks);
    free(h);
}

void mxv_hook_scope_hello(SSL *ssl)
{
    mxv_hook_ssl *h = mxv_hook_ssl_get(ssl, true);
    if (!h)
        return;
    mark_list l = {0};
    each_descriptor(mark_one, &l);
    free(h->marks);
    h->marks = l.marks;
    h->nmarks = l.n;
    h->marked = !l.lost; /* a snapshot missing a socket tells nothing */
    BIO *wbio = SSL_get_wbio(ssl);
    h->written = wbio ? BIO_number_written(wbio) : 0;
}

/* Without the shim, a BIO of the program's own: the TCP connection that
 * took octets since this SSL's ClientHello was made. When one in scope did
 * and no other connection did, that is it; when only connections out of
 * scope did, it went there; anything else (none, several, a count lost to
 * a lack of memory) cannot be told. */
static mxv_scope correlate(SSL *ssl, int *fd)
{
    mxv_hook_ssl *h = mxv_hook_ssl_get(ssl, false);
    if (!h || !h->marked)
        return MXV_SCOPE_AMBIGUOUS;
    mark_list now = {0};
    each_descriptor(mark_one, &now);
    if (now.lost) {
        free(now.marks);
        return MXV_SCOPE_AMBIGUOUS;
    }
    /* What OpenSSL wrote since (the ClientHello at least): the connection
     * that carried it took as much. */
    BIO *wbio = SSL_get_wbio(ssl);
    uint64_t need = wbio ? BIO_number_written(wbio) - h->written : 0;
    /* A socket is counted once, however many descriptors name it (dup(),
     * one inherited and one of its own): its octets are the socket's, and
     * two names for one connection that moved are not two connections.
     * One socket is one cookie and one inode: a cookie is unique among
     * the system's sockets since Linux 5.3 but only per network namespace
     * before, and inode numbers wrap, so the pair tells sockets apart.
     * Two names of one cookie that disagree on the inode or the scope are
     * not one socket read whole: which connection cannot be told. The
     * names' counts merge into the first's, moved if any moved. Without
     * cookies (0), each descriptor counts on its own. */
    for (size_t i = 0; i < now.n; i++) {
        sent_mark *m = &now.marks[i], *first = NULL;
        for (size_t j = 0; j < i && !first && m->cookie; j++)
            if (now.marks[j].cookie == m->cookie)
                first = &now.marks[j]; /* the earliest: never one merged away */
        if (!first)
            continue;
        if (first->ino != m->ino || first->in_scope != m->in_scope) {
            free(now.marks);
            return MXV_SCOPE_AMBIGUOUS;
        }
        if (first->sent != m->sent)
            first->sent = first->sent == ~0ULL || m->sent == ~0ULL ? ~0ULL
                          : first->sent > m->sent                  ? first->sent
                                                                   : m->sent;
        m->fd = -1; /* counted with first */
    }
    int found = -1, moved_in = 0, moved_out = 0, carried = 0, carried_out = 0;
    for (size_t i = 0; i < now.n; i++) {
        const sent_mark *m = &now.marks[i], *before = NULL;
        if (m->fd < 0)
            continue;
        for (size_t j = 0; j < h->nmarks && !before; j++)
            if (m->cookie ? h->marks[j].cookie == m->cookie && h->marks[j].ino == m->ino
                          : h->marks[j].fd == m->fd && h->marks[j].ino == m->ino)
                before = &h->marks[j];
        /* A connection opened since (counted from nothing), or one whose
         * count cannot be read, may have carried it too. */
        bool readable = m->sent != ~0ULL && (!before || before->sent != ~0ULL);
        if (before && readable && m->sent == before->sent)
            continue;
        /* grew by what OpenSSL wrote: it may have carried the ClientHello */
        bool grew = readable && m->sent - (before ? before->sent : 0) >= need;
        if (m->in_scope) {
            moved_in++;
            found = m->fd;
            carried += !readable || grew;
        } else {
            moved_out++;
            /* Out of scope only on evidence: a count that grew (not a few
             * octets of a log or database link's own while the ClientHello
             * had gone nowhere yet); an unreadable one never is. */
            carried_out += grew;
        }
    }
    free(now.marks);
    /* Out only when it went elsewhere: a ClientHello that no connection
     * took yet (the program handed the server's flight to OpenSSL before
     * writing its own; an attacker who appended that flight to the
     * STARTTLS reply) cannot be told. */
    if (moved_in == 0)
        return carried_out > 0 ? MXV_SCOPE_OUT : MXV_SCOPE_AMBIGUOUS;
    /* One in-scope connection moved, nothing else, and by as much as
     * OpenSSL wrote: not one that sent a few octets of its own while
     * this ClientHello had gone nowhere yet. */
    *fd = found;
    return moved_in == 1 && moved_out == 0 && carried == 1 ? MXV_SCOPE_IN : MXV_SCOPE_AMBIGUOUS;
}

/* Remembers (or, tied = false, recalls) the socket an SSL with a BIO of
 * the program's own was tied to. */
static void tie(SSL *ssl, int fd)
{
    struct stat st;
    mxv_hook_ssl *h = mxv_hook_ssl_get(ssl, true);
    if (!h || fd < 0 || fstat(fd, &st) != 0)
        return;
    h->tied = mxv_ssl_random_note(ssl, h->tied_random);
    h->tied_fd = fd;
    h->tied_dev = st.st_dev;
    h->tied_ino = st.st_ino;
}

bool mxv_hook_scope_untold_first(SSL *ssl)
{
    mxv_hook_ssl *h = mxv_hook_ssl_get(ssl, true);
    if (!h)
        return true;
    if (h->untold_said && mxv_ssl_random_current(ssl, h->untold_random))
        return false;
    h->untold_said = mxv_ssl_random_note(ssl, h->untold_random);
    return true;
}

/* An SSL tied before, on the same connection: later in the handshake it
 * was tied in (other connections may send meanwhile), or in a
 * renegotiation. Its socket, if it still names the same one; AMBIGUOUS if
 * not; OUT if never tied. An SSL cleared (SSL_clear()) and used again
 * starts a new connection, whatever socket the last one had (which may
 * still be open). */
static mxv_scope tied_before(SSL *ssl, int *fd)
{
    mxv_hook_ssl *h = mxv_hook_ssl_get(ssl, false);
    struct stat st;
    if (!h || !h->tied ||
        (!mxv_ssl_random_current(ssl, h->tied_random) && !SSL_renegotiate_pending(ssl)))
        return MXV_SCOPE_OUT;
    if (fstat(h->tied_fd, &st) != 0 || st.st_dev != h->tied_dev || st.st_ino != h->tied_ino)
        return MXV_SCOPE_AMBIGUOUS;
    *fd = h->tied_fd;
    return MXV_SCOPE_IN;
}

mxv_scope mxv_hook_scope(SSL *ssl, bool hello_sent, int *fd)
{
    *fd = -1;
    if (!ssl || SSL_is_server(ssl))
        return MXV_SCOPE_OUT;
    int own = SSL_get_fd(ssl);
    if (own >= 0) {
        *fd = own;
        return in_scope_socket(own) ? MXV_SCOPE_IN : MXV_SCOPE_OUT;
    }
    unsigned char random[MXV_HELLO_RANDOM_LEN];
    if (!hello_sent || !mxv_ssl_random_note(ssl, random))
        return MXV_SCOPE_NOT_YET;
    mxv_scope scope;
    if (mxv_hook.host && mxv_hook.host->fd_of_hello) {
        /* The shim watches every in-scope socket until its ClientHello: one
         * that no in-scope socket carried went elsewhere, unless it was
         * encrypted (a renegotiation on a connection tied before). */
        int tied = mxv_hook.host->fd_of_hello(random);
        *fd = tied;
        scope = tied >= 0 ? MXV_SCOPE_IN : MXV_SCOPE_OUT;
    } else {
        scope = correlate(ssl, fd);
    }
    if (scope == MXV_SCOPE_IN) {
        tie(ssl, *fd);
        return scope;
    }
    mxv_scope before = tied_before(ssl, fd);
    return before != MXV_SCOPE_OUT ? before : scope;
}
