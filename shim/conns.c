/*
 * conns: the in-scope connections of the program, one object per socket,
 * named by every descriptor that refers to it (dup, dup2, F_DUPFD, a
 * descriptor inherited across exec or received from another process: the
 * socket is recognised by its inode). The context the program revealed
 * (its DNS lookups) follows the socket, not a descriptor number.
 *
 * Each connection has a guard (core/guard.h) at the level the engine gave
 * it: every byte the program sends on it, by whatever call, is judged
 * before it leaves; a refusal shuts the socket down (so every descriptor of
 * it, and every later write, fails) and is logged once. The guard also
 * notes the ClientHello's random, which ties an SSL with a BIO of the
 * program's own to this socket.
 */
#include "shim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct shim_conn {
    struct shim_conn *next, *prev; /* every live connection */
    unsigned refs;                 /* descriptors naming it */
    dev_t dev;
    ino_t ino;
    mxv_guard guard;
    bool refused;    /* ended by the shim: every later write fails */
    bool engineless; /* the engine could not be loaded: nothing passes */
    int last_fd;     /* the descriptor it was last used through */
    char ip[64];
    mxv_observed seen;
} shim_conn;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static shim_conn *live;

static void reset_after_fork(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&lock, &fresh, sizeof(lock));
}

__attribute__((constructor)) static void conns_init(void)
{
    pthread_atfork(NULL, NULL, reset_after_fork);
}

static shim_conn *conn_of(uintptr_t entry)
{
    return entry > SHIM_FD_PLAIN ? (shim_conn *)(entry & ~SHIM_FD_GUARDING) : NULL;
}

static bool watching(const shim_conn *c)
{
    return c->refused || !mxv_guard_finished(&c->guard);
}

static uintptr_t entry_for(shim_conn *c)
{
    return (uintptr_t)c | (watching(c) ? SHIM_FD_GUARDING : 0);
}

/* --- with the lock held --- */

static void release_locked(shim_conn *c)
{
    if (--c->refs)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        live = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

/* fd now holds `entry`; what it held before lets go. */
static void set_locked(int fd, uintptr_t entry)
{
    shim_conn *old = conn_of(shim_fd_entry(fd)), *c = conn_of(entry);
    if (c)
        c->refs++;
    if (!shim_fd_set(fd, entry) && c) {
        c->refs--;
        return;
    }
    if (old)
        release_locked(old);
}

static shim_conn *find_socket_locked(dev_t dev, ino_t ino)
{
    for (shim_conn *c = live; c; c = c->next)
        if (c->dev == dev && c->ino == ino)
            return c;
    return NULL;
}

/* --- context --- */

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

static mxv_guard_level guard_level(mxv_hook_level level)
{
    return level == MXV_HOOK_REQUIRE_VERIFIED ? MXV_GUARD_VERIFIED
           : level == MXV_HOOK_REQUIRE_TLS    ? MXV_GUARD_TLS
                                              : MXV_GUARD_WATCH;
}

/* How a TCP connection to addr is guarded, or false: not in scope. */
static bool scope_of(const struct sockaddr *addr, shim_conn *c)
{
    unsigned port = port_of(addr);
    const mxv_hook_api *api = shim_engine(shim_engine_wanted(port));
    int family;
    const void *raw = ip_of(addr, &family, c->ip, sizeof(c->ip));
    if (api) {
        if (!api->port_in_scope(port))
            return false;
        shim_lookups_explain(family, raw, &c->seen);
        shim_busy++;
        mxv_hook_level level = api->connected(c->seen.domain[0] ? c->seen.domain : NULL,
                                              c->seen.host[0] ? c->seen.host : NULL, c->ip);
        shim_busy--;
        mxv_guard_init(&c->guard, guard_level(level));
        return true;
    }
    /* No engine where one was needed: what the settings might enforce is
     * enforced, and nothing can pass a decision that cannot be made. */
    if (!shim_engine_failed() || !shim_settings_may_enforce() || !shim_env_lists_port(port))
        return false;
    c->engineless = true;
    mxv_guard_init(&c->guard, MXV_GUARD_VERIFIED);
    return true;
}

static void attach(int fd, const struct sockaddr *addr, socklen_t len, const struct stat *st)
{
    if (!addr || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) ||
        len < (addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                          : sizeof(struct sockaddr_in6))) {
        pthread_mutex_lock(&lock);
        set_locked(fd, SHIM_FD_PLAIN);
        pthread_mutex_unlock(&lock);
        return;
    }
    shim_conn *c = calloc(1, sizeof(*c));
    int type = 0;
    socklen_t tlen = sizeof(type);
    if (!c || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM ||
        !scope_of(addr, c)) {
        free(c);
        pthread_mutex_lock(&lock);
        set_locked(fd, SHIM_FD_PLAIN);
        pthread_mutex_unlock(&lock);
        return;
    }
    c->dev = st->st_dev;
    c->ino = st->st_ino;
    pthread_mutex_lock(&lock);
    /* connect() again on a socket already known: a fresh connection. */
    shim_conn *old = find_socket_locked(c->dev, c->ino);
    if (old)
        old->ino = 0, old->dev = 0; /* no longer this socket's record */
    c->next = live;
    if (live)
        live->prev = c;
    live = c;
    c->refs = 0;
    c->last_fd = fd;
    set_locked(fd, entry_for(c));
    if (c->refs == 0) /* out of memory for the table */
        release_locked((c->refs = 1, c));
    pthread_mutex_unlock(&lock);
}

void shim_conn_connected(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        return;
    attach(fd, addr, len, &st);
}

/* A descriptor the shim never saw made: a socket inherited across exec or
 * received from another process is an in-scope connection like any. */
static void classify(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        pthread_mutex_lock(&lock);
        set_locked(fd, SHIM_FD_PLAIN);
        pthread_mutex_unlock(&lock);
        return;
    }
    pthread_mutex_lock(&lock);
    shim_conn *known = find_socket_locked(st.st_dev, st.st_ino);
    if (known)
        set_locked(fd, entry_for(known));
    pthread_mutex_unlock(&lock);
    if (known)
        return;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        len = 0;
    attach(fd, len ? (struct sockaddr *)&ss : NULL, len, &st);
}

bool shim_guarded_unknown(int fd)
{
    if (fd < 0 || !shim_settings_present())
        return false;
    shim_busy++;
    classify(fd);
    shim_busy--;
    uintptr_t e = shim_fd_entry(fd);
    return e > SHIM_FD_PLAIN && (e & SHIM_FD_GUARDING);
}

bool shim_guarded_strictly(int fd)
{
    if (!shim_guarded(fd))
        return false;
    pthread_mutex_lock(&lock);
    shim_conn *c = conn_of(shim_fd_entry(fd));
    bool strict = c && c->guard.level != MXV_GUARD_WATCH;
    pthread_mutex_unlock(&lock);
    return strict;
}

void shim_conn_closed(int fd)
{
    if (shim_fd_entry(fd) == SHIM_FD_UNKNOWN)
        return; /* nothing known, nothing to forget (and no page to make) */
    pthread_mutex_lock(&lock);
    set_locked(fd, SHIM_FD_PLAIN);
    pthread_mutex_unlock(&lock);
}

void shim_conn_closed_range(unsigned first, unsigned last)
{
    /* Only descriptors that name a connection matter: the others stay what
     * they were (PLAIN or UNKNOWN), as after close(). */
    int high = shim_fd_high();
    for (unsigned fd = first; fd <= last && (int)fd <= high && fd <= 0x7fffffffu; fd++)
        if (shim_fd_entry((int)fd) > SHIM_FD_PLAIN)
            shim_conn_closed((int)fd);
}

void shim_conn_duplicated(int oldfd, int newfd)
{
    if (oldfd == newfd || newfd < 0)
        return;
    pthread_mutex_lock(&lock);
    uintptr_t e = shim_fd_entry(oldfd);
    shim_conn *c = conn_of(e);
    /* An unknown original leaves the copy unknown: classified, by inode,
     * at its first write. */
    set_locked(newfd, c ? entry_for(c) : e);
    bool std_stream = c && newfd <= 2 && c->guard.level != MXV_GUARD_WATCH;
    pthread_mutex_unlock(&lock);
    if (std_stream)
        shim_stdio_std_attached(newfd);
}

void shim_conn_received(int fd)
{
    pthread_mutex_lock(&lock);
    set_locked(fd, SHIM_FD_UNKNOWN);
    pthread_mutex_unlock(&lock);
}

void shim_conn_kernel_tls(int fd)
{
    pthread_mutex_lock(&lock);
    shim_conn *c = conn_of(shim_fd_entry(fd));
    if (c) {
        mxv_guard_kernel_tls(&c->guard);
        shim_fd_set(fd, entry_for(c));
    }
    pthread_mutex_unlock(&lock);
}

/* --- sending --- */

/* Still the socket that was recorded? A descriptor closed behind the
 * shim's back (fclose() closes without close()) may name something else
 * now: then the record goes, and the bytes are not the guard's. */
static bool same_socket(int fd, const shim_conn *c)
{
    struct stat st;
    return fstat(fd, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino;
}

/* Ends the connection: nothing more leaves on any of its descriptors. */
static ssize_t end_connection(int fd, shim_conn *c, const mxv_guard_refusal *r)
{
    shutdown(fd, SHUT_RDWR);
    mxv_hook_refusal what = {
        .domain = c->seen.domain[0] ? c->seen.domain : NULL,
        .host = c->seen.host[0] ? c->seen.host : NULL,
        .ip = c->ip,
        .no_decision = r->tls,
        .why = r->why,
        .line = r->head,
    };
    const mxv_hook_api *api = c->engineless ? NULL : shim_engine(false);
    shim_busy++;
    if (api)
        api->refused(&what);
    else
        shim_say("verdict=fail ip=%s action=abort reason=%s why=\"%s%s%s%s (libmxverify could "
                 "not be loaded: in-scope connections fail closed)\"",
                 c->ip, what.no_decision ? "validation-failure" : "starttls-not-supported",
                 r->why ? r->why : "refused", r->head[0] ? ": '" : "", r->head,
                 r->head[0] ? "'" : "");
    shim_busy--;
    errno = ECONNABORTED;
    return -1;
}

/* Judges iov against a copy of the guard, which moves on as if all of it
 * left; c is locked. */
static bool judge_locked(const shim_conn *c, const struct iovec *iov, size_t n,
                         mxv_guard_refusal *r)
{
    mxv_guard g = c->guard;
    for (size_t i = 0; i < n; i++) {
        if (!mxv_guard_check(&g, iov[i].iov_base, iov[i].iov_len, r))
            return false;
        mxv_guard_commit(&g, iov[i].iov_base, iov[i].iov_len);
    }
    return true;
}

static void commit_locked(shim_conn *c, const struct iovec *iov, size_t n, size_t sent)
{
    for (size_t i = 0; i < n && sent; i++) {
        size_t len = iov[i].iov_len < sent ? iov[i].iov_len : sent;
        mxv_guard_commit(&c->guard, iov[i].iov_base, len);
        sent -= len;
    }
}

ssize_t shim_conn_send(int fd, const struct iovec *iov, size_t n, shim_send_fn send, void *arg)
{
    pthread_mutex_lock(&lock);
    shim_conn *c = conn_of(shim_fd_entry(fd));
    if (!c || !watching(c)) {
        pthread_mutex_unlock(&lock);
        return send(arg);
    }
    if (c->refused) {
        pthread_mutex_unlock(&lock);
        errno = ECONNABORTED;
        return -1;
    }
    mxv_guard_refusal r = {0};
    if (!judge_locked(c, iov, n, &r)) {
        if (!same_socket(fd, c)) {
            /* Looked at afresh: it may be another in-scope connection. */
            set_locked(fd, SHIM_FD_UNKNOWN);
            pthread_mutex_unlock(&lock);
            return shim_guarded(fd) ? shim_conn_send(fd, iov, n, send, arg) : send(arg);
        }
        c->refused = true;
        shim_conn copy = *c;
        pthread_mutex_unlock(&lock);
        return end_connection(fd, &copy, &r);
    }
    pthread_mutex_unlock(&lock);
    ssize_t sent = send(arg);
    if (sent <= 0)
        return sent;
    int saved = errno;
    pthread_mutex_lock(&lock);
    if (conn_of(shim_fd_entry(fd)) == c) {
        c->last_fd = fd;
        commit_locked(c, iov, n, (size_t)sent);
        if (!watching(c))
            shim_fd_set(fd, entry_for(c));
    }
    pthread_mutex_unlock(&lock);
    errno = saved;
    return sent;
}

ssize_t shim_conn_refuse_opaque(int fd, const char *how)
{
    pthread_mutex_lock(&lock);
    shim_conn *c = conn_of(shim_fd_entry(fd));
    if (!c || !watching(c) || c->guard.level == MXV_GUARD_WATCH) {
        pthread_mutex_unlock(&lock);
        return 0; /* not refused: the caller sends */
    }
    c->refused = true;
    shim_conn copy = *c;
    pthread_mutex_unlock(&lock);
    mxv_guard_refusal r = {.why = how};
    return end_connection(fd, &copy, &r);
}

/* --- the engine's view --- */

static bool host_observed(int fd, mxv_observed *out)
{
    bool found = false;
    pthread_mutex_lock(&lock);
    const shim_conn *c = conn_of(shim_fd_entry(fd));
    if (c && (c->seen.domain[0] || c->seen.host[0])) {
        *out = c->seen;
        found = true;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

static void host_decided(int fd, const unsigned char random[MXV_HELLO_RANDOM_LEN], bool pass)
{
    pthread_mutex_lock(&lock);
    shim_conn *c = conn_of(shim_fd_entry(fd));
    if (c)
        mxv_guard_decided(&c->guard, random, pass);
    pthread_mutex_unlock(&lock);
}

static int host_fd_of_hello(const unsigned char random[MXV_HELLO_RANDOM_LEN])
{
    int fd = -1;
    pthread_mutex_lock(&lock);
    const shim_conn *found = NULL;
    uint8_t r[MXV_GUARD_RANDOM_LEN];
    for (const shim_conn *c = live; c && !found; c = c->next)
        if (mxv_guard_hello_random(&c->guard, r) && memcmp(r, random, sizeof(r)) == 0)
            found = c;
    /* The descriptor that carried it (still naming it: a descriptor is
     * never shared by two connections). */
    if (found && conn_of(shim_fd_entry(found->last_fd)) == found)
        fd = found->last_fd;
    pthread_mutex_unlock(&lock);
    return fd;
}

const mxv_hook_host shim_host = {
    .observed = host_observed,
    .decided = host_decided,
    .fd_of_hello = host_fd_of_hello,
};
