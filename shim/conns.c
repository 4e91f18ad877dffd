/*
 * conns: the in-scope connections of the program, by file descriptor.
 *
 * A connection enters at connect() when its peer port is in scope; the
 * engine says whether its destination forbids mail in clear (the required
 * settings). Outgoing bytes are looked at until TLS starts (a TLS handshake
 * record at the start of a line): that moment also ties the SSL being
 * driven in this thread to the socket, for programs whose SSL writes
 * through a BIO of their own. Where mail in clear is forbidden, the bytes
 * are scanned line by line: a MAIL FROM command before TLS ends the
 * connection, so no message data crosses it in clear. A TLS handshake the
 * policy refused puts the connection back under watch.
 */
#include "shim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FD_MAX 65536

typedef struct {
    bool enforce; /* mail in clear forbidden */
    bool tls;     /* a TLS handshake started */
    bool refused; /* MAIL FROM in clear was refused: every later write fails too */
    unsigned char linepos;
    char prefix[9];
    struct sockaddr_storage peer;
    char ip[64];
    mxv_observed seen;
} conn;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The table by descriptor, allocated at the first in-scope connection: a
 * program that makes none (most programs the shim is preloaded into) maps
 * no memory for it, which is measurable in start-up time. */
typedef struct {
    conn *table[FD_MAX];
    atomic_uchar watched[FD_MAX];
} fd_map;
static _Atomic(fd_map *) fds;

static fd_map *fds_get(void)
{
    return atomic_load_explicit(&fds, memory_order_acquire);
}

/* Called with the lock held. */
static fd_map *fds_create_locked(void)
{
    fd_map *m = fds_get();
    if (!m && (m = calloc(1, sizeof(*m))))
        atomic_store_explicit(&fds, m, memory_order_release);
    return m;
}

/* SSL objects and the sockets their handshakes started on, newest last. */
#define PAIRS 64
static struct {
    const void *ssl;
    int fd;
} pairs[PAIRS];
static unsigned next_pair;

__thread const void *shim_current_ssl __attribute__((tls_model("initial-exec")));
static __thread int last_tls_fd __attribute__((tls_model("initial-exec"))) = -1;

static void reset_after_fork(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&lock, &fresh, sizeof(lock));
}

__attribute__((constructor)) static void conns_init(void)
{
    pthread_atfork(NULL, NULL, reset_after_fork);
}

static void drop_locked(int fd)
{
    fd_map *m = fds_get();
    if (!m)
        return;
    atomic_store_explicit(&m->watched[fd], 0, memory_order_relaxed);
    free(m->table[fd]);
    m->table[fd] = NULL;
}

void shim_conn_closed(int fd)
{
    fd_map *m = fds_get();
    if (fd < 0 || fd >= FD_MAX || !m || !m->table[fd])
        return;
    pthread_mutex_lock(&lock);
    drop_locked(fd);
    pthread_mutex_unlock(&lock);
}

static unsigned port_of(const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)addr)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
}

/* The address as text and raw bytes (an IPv4-mapped IPv6 peer is IPv4). */
static const void *ip_of(const struct sockaddr *addr, int *family, char *text, size_t len)
{
    const void *raw;
    if (addr->sa_family == AF_INET) {
        raw = &((const struct sockaddr_in *)addr)->sin_addr;
        *family = AF_INET;
    } else {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)addr)->sin6_addr;
        bool mapped = IN6_IS_ADDR_V4MAPPED(a6);
        raw = mapped ? (const void *)&a6->s6_addr[12] : (const void *)a6;
        *family = mapped ? AF_INET : AF_INET6;
    }
    inet_ntop(*family, raw, text, (socklen_t)len);
    return raw;
}

void shim_conn_connected(int fd, const struct sockaddr *addr, socklen_t len)
{
    if (fd < 0 || fd >= FD_MAX || !addr ||
        (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) ||
        len < (addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                          : sizeof(struct sockaddr_in6))) {
        shim_conn_closed(fd);
        return;
    }
    unsigned port = port_of(addr);
    const mxv_hook_api *api = shim_engine(shim_engine_wanted(port));
    int type = 0;
    socklen_t tlen = sizeof(type);
    if (!api || !api->port_in_scope(port) ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM) {
        shim_conn_closed(fd);
        return;
    }
    conn *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    memcpy(&c->peer, addr, len < sizeof(c->peer) ? len : sizeof(c->peer));
    int family;
    const void *raw = ip_of(addr, &family, c->ip, sizeof(c->ip));
    shim_lookups_explain(family, raw, &c->seen);
    shim_busy++;
    c->enforce = api->connected(c->seen.domain[0] ? c->seen.domain : NULL,
                                c->seen.host[0] ? c->seen.host : NULL, c->ip);
    shim_busy--;
    pthread_mutex_lock(&lock);
    fd_map *m = fds_create_locked();
    if (!m) {
        pthread_mutex_unlock(&lock);
        free(c);
        return;
    }
    drop_locked(fd);
    m->table[fd] = c;
    atomic_store_explicit(&m->watched[fd], 1, memory_order_relaxed);
    pthread_mutex_unlock(&lock);
}

bool shim_conn_watched(int fd)
{
    fd_map *m = fds_get();
    return m && fd >= 0 && fd < FD_MAX &&
           atomic_load_explicit(&m->watched[fd], memory_order_relaxed);
}

/* Still the connection that was recorded? (An fd closed behind the shim's
 * back, e.g. by fclose(), may now be something else.) */
static bool same_peer(int fd, const conn *c)
{
    struct sockaddr_storage now;
    socklen_t len = sizeof(now);
    if (getpeername(fd, (struct sockaddr *)&now, &len) != 0 || now.ss_family != c->peer.ss_family)
        return false;
    if (now.ss_family == AF_INET)
        return memcmp(&((struct sockaddr_in *)&now)->sin_addr,
                      &((const struct sockaddr_in *)&c->peer)->sin_addr, 4) == 0 &&
               port_of((struct sockaddr *)&now) == port_of((const struct sockaddr *)&c->peer);
    return memcmp(&((struct sockaddr_in6 *)&now)->sin6_addr,
                  &((const struct sockaddr_in6 *)&c->peer)->sin6_addr, 16) == 0 &&
           port_of((struct sockaddr *)&now) == port_of((const struct sockaddr *)&c->peer);
}

static void tls_started(conn *c, int fd)
{
    c->tls = true;
    last_tls_fd = fd;
    if (shim_current_ssl) {
        pairs[next_pair % PAIRS].ssl = shim_current_ssl;
        pairs[next_pair % PAIRS].fd = fd;
        next_pair++;
    }
}

/* true: MAIL FROM found at the start of a line. */
static bool scan(conn *c, int fd, const unsigned char *p, size_t n)
{
    static const char mail_from[9] = "MAIL FROM";
    for (size_t i = 0; i < n && !c->tls; i++) {
        unsigned char b = p[i];
        if (c->linepos == 0 && b == 0x16) {
            tls_started(c, fd); /* a TLS handshake record: STARTTLS done */
            return false;
        }
        if (!c->enforce) {
            c->linepos = b == '\n' ? 0 : 1;
            continue;
        }
        if (b == '\n') {
            c->linepos = 0;
            continue;
        }
        if (c->linepos < sizeof(c->prefix)) {
            c->prefix[c->linepos++] = (char)(b >= 'a' && b <= 'z' ? b - 32 : b);
            if (c->linepos == sizeof(c->prefix) && memcmp(c->prefix, mail_from, 9) == 0)
                return true;
        }
    }
    return false;
}

bool shim_conn_outgoing(int fd, const void *const *bufs, const size_t *lens, size_t n)
{
    fd_map *m = fds_get();
    if (!m || fd < 0 || fd >= FD_MAX)
        return true;
    pthread_mutex_lock(&lock);
    conn *c = m->table[fd];
    bool refuse = c && c->refused;
    if (refuse) {
        pthread_mutex_unlock(&lock);
        errno = ECONNABORTED;
        return false;
    }
    for (size_t i = 0; c && !c->tls && i < n && !refuse; i++)
        refuse = scan(c, fd, bufs[i], lens[i]);
    if (c && c->tls)
        atomic_store_explicit(&m->watched[fd], 0, memory_order_relaxed);
    mxv_observed seen;
    char ip[64];
    if (refuse && !same_peer(fd, c)) {
        drop_locked(fd);
        refuse = false;
    } else if (refuse) {
        seen = c->seen;
        memcpy(ip, c->ip, sizeof(ip));
        c->refused = true;
    }
    pthread_mutex_unlock(&lock);
    if (!refuse)
        return true;
    shutdown(fd, SHUT_RDWR);
    const mxv_hook_api *api = shim_engine(false);
    if (api) {
        shim_busy++;
        api->plaintext_refused(seen.domain[0] ? seen.domain : NULL, seen.host[0] ? seen.host : NULL,
                               ip);
        shim_busy--;
    }
    errno = ECONNABORTED;
    return false;
}

/* --- the engine's view --- */

static bool host_observed(int fd, mxv_observed *out)
{
    bool found = false;
    fd_map *m = fds_get();
    if (!m || fd < 0 || fd >= FD_MAX)
        return false;
    pthread_mutex_lock(&lock);
    const conn *c = m->table[fd];
    if (c && (c->seen.domain[0] || c->seen.host[0])) {
        *out = c->seen;
        found = true;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

static void host_tls_state(int fd, bool established)
{
    fd_map *m = fds_get();
    if (!m || fd < 0 || fd >= FD_MAX)
        return;
    pthread_mutex_lock(&lock);
    conn *c = m->table[fd];
    if (c) {
        c->tls = established;
        c->linepos = 0;
        atomic_store_explicit(&m->watched[fd], !established, memory_order_relaxed);
    }
    pthread_mutex_unlock(&lock);
}

static int host_fd_of(const void *ssl)
{
    int fd = -1;
    pthread_mutex_lock(&lock);
    for (unsigned k = 1; k <= PAIRS && k <= next_pair && fd < 0; k++)
        if (pairs[(next_pair - k) % PAIRS].ssl == ssl)
            fd = pairs[(next_pair - k) % PAIRS].fd;
    pthread_mutex_unlock(&lock);
    return fd >= 0 ? fd : last_tls_fd;
}

const mxv_hook_host shim_host = {
    .observed = host_observed,
    .tls_state = host_tls_state,
    .fd_of = host_fd_of,
};
