/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conns: the in-scope connections of the program, one object per socket,
 * named by every descriptor that refers to it (dup, dup2, F_DUPFD, a
 * descriptor inherited across exec or received from another process: the
 * socket is recognised by its inode). The context the program revealed
 * (its DNS lookups) follows the socket, not a descriptor number.
 *
 * Each connection has a guard (core/guard.h) at the level the engine gave
 * it; send.c judges every byte the program sends on it; host.c answers
 * the engine's questions about it.
 */
#include "conn.h"
#include "ip_text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/kcmp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int holding __attribute__((tls_model("initial-exec")));
static shim_conn *live;
static _Atomic pid_t owner; /* the process whose descriptors the table describes */

static void fresh_lock(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&lock, &fresh, sizeof(lock));
}

/* fork(): the child is one thread, whatever the parent's others held. */
static void after_fork_child(void)
{
    fresh_lock();
    holding = 0;
    atomic_store(&owner, getpid());
}

__attribute__((constructor)) static void conns_init(void)
{
    atomic_store(&owner, getpid());
    pthread_atfork(NULL, NULL, after_fork_child);
}

bool shim_conns_lock(void)
{
    if (holding)
        return false;
    /* Said before waiting: a handler that interrupts the wait must not
     * wait too. */
    holding = 1;
    atomic_signal_fence(memory_order_seq_cst);
    pthread_mutex_lock(&lock);
    return true;
}

void shim_conns_unlock(void)
{
    pthread_mutex_unlock(&lock);
    atomic_signal_fence(memory_order_seq_cst);
    holding = 0;
}

bool shim_table_mine(void)
{
    int saved = errno;
    pid_t self = getpid(), was = atomic_load(&owner);
    bool mine = self == was;
    if (!mine) {
        /* Another process: does it share this memory? (kcmp: 0 = same.)
         * Cannot tell (no kcmp, or a seccomp filter that may not allow
         * it): as if it did, which leaves the parent's table as it is. */
        long same = -1;
        errno = 0;
        if (!shim_syscalls_filtered())
            same = syscall(SYS_kcmp, self, was, KCMP_VM, 0, 0);
        if (same > 0 || (same < 0 && errno == ESRCH)) {
            /* A child of its own, made without fork()'s handlers: the lock
             * is made anew as fork() would, unless this thread holds it
             * (then it is this thread's, and not stuck). */
            if (!holding)
                fresh_lock();
            atomic_store(&owner, self);
            mine = true;
        }
    }
    errno = saved;
    return mine;
}

bool shim_conn_watching(const shim_conn *c)
{
    return c->refused || !mxv_guard_finished(&c->guard);
}

uintptr_t shim_conn_entry(shim_conn *c)
{
    return (uintptr_t)c | (shim_conn_watching(c) ? SHIM_FD_GUARDING : 0);
}

bool shim_conn_same_socket(int fd, const shim_conn *c)
{
    int saved = errno;
    struct stat st;
    bool same = fstat(fd, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino;
    errno = saved;
    return same;
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

void shim_conn_set_locked(int fd, uintptr_t entry)
{
    shim_conn *old = shim_conn_of(shim_fd_entry(fd)), *c = shim_conn_of(entry);
    if (c)
        c->refs++;
    if (!shim_fd_set(fd, entry) && c) {
        c->refs--;
        return;
    }
    if (old)
        release_locked(old);
}

shim_conn *shim_conns_live(void)
{
    return live;
}

static shim_conn *find_socket_locked(dev_t dev, ino_t ino)
{
    for (shim_conn *c = live; c; c = c->next)
        if (c->dev == dev && c->ino == ino)
            return c;
    return NULL;
}

/* fd's entry becomes `entry`, or, when the lock cannot be had (a signal
 * handler interrupted this thread inside the shim), UNKNOWN: looked at
 * afresh at its next write, which is never weaker. */
static void set_entry(int fd, uintptr_t entry)
{
    if (!shim_table_mine())
        return;
    if (!shim_conns_lock()) {
        shim_fd_forget(fd);
        return;
    }
    shim_conn_set_locked(fd, entry);
    shim_conns_unlock();
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
    mxv_inet_ntop(*family, raw, text, len);
    return raw;
}

mxv_guard_level shim_guard_level(mxv_hook_level level)
{
    return level == MXV_HOOK_REQUIRE_VERIFIED || level == MXV_HOOK_PUBLISHED ? MXV_GUARD_VERIFIED
           : level == MXV_HOOK_REQUIRE_TLS                                   ? MXV_GUARD_TLS
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
        c->port = port;
        mxv_hook_level level = api->connected(c->seen.domain[0] ? c->seen.domain : NULL,
                                              c->seen.host[0] ? c->seen.host : NULL, c->ip, port);
        shim_busy--;
        mxv_guard_init(&c->guard, shim_guard_level(level));
        if (level == MXV_HOOK_PUBLISHED)
            mxv_guard_ask_clear(&c->guard);
        return true;
    }
    /* No engine where one was needed: what the settings might enforce is
     * enforced, and nothing can pass a decision that cannot be made. */
    if (!shim_engine_failed() || !shim_settings_may_enforce() || !shim_failclosed_port(port))
        return false;
    c->engineless = true;
    mxv_guard_init(&c->guard, MXV_GUARD_VERIFIED);
    return true;
}

static bool tcp_address(const struct sockaddr *addr, socklen_t len)
{
    return addr && ((addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) ||
                    (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)));
}

/* fd names the socket st, connected (or connecting) to addr: a new
 * connection record, or PLAIN when it is not in scope. `fresh`: a
 * connection that starts now; else one already recorded for this socket
 * is kept (connect() again after EINTR, EALREADY, EISCONN). */
static void attach(int fd, const struct sockaddr *addr, socklen_t len, const struct stat *st,
                   bool fresh)
{
    if (!fresh && shim_conns_lock()) {
        shim_conn *known = shim_conn_of(shim_fd_entry(fd));
        bool kept = known && known->dev == st->st_dev && known->ino == st->st_ino;
        shim_conns_unlock();
        if (kept)
            return;
    }
    int type = 0;
    socklen_t tlen = sizeof(type);
    shim_conn *c = NULL;
    if (tcp_address(addr, len) && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 &&
        type == SOCK_STREAM && (c = calloc(1, sizeof(*c))) && !scope_of(addr, c)) {
        free(c);
        c = NULL;
    }
    if (!c) {
        set_entry(fd, SHIM_FD_PLAIN);
        return;
    }
    c->dev = st->st_dev;
    c->ino = st->st_ino;
    c->last_fd = fd;
    if (!shim_conns_lock()) {
        free(c);
        shim_fd_forget(fd);
        return;
    }
    /* connect() again on a socket already known: a fresh connection. */
    shim_conn *old = find_socket_locked(c->dev, c->ino);
    if (old)
        old->ino = 0, old->dev = 0; /* no longer this socket's record */
    static unsigned long serials;
    c->serial = ++serials;
    c->next = live;
    if (live)
        live->prev = c;
    live = c;
    shim_conn_set_locked(fd, shim_conn_entry(c));
    if (c->refs == 0) /* out of memory for the table */
        release_locked((c->refs = 1, c));
    bool std_stream = fd <= 2 && c->guard.level != MXV_GUARD_WATCH;
    shim_conns_unlock();
    if (std_stream) /* a connection made on 0-2: that stream keeps nothing back */
        shim_stdio_std_attached(fd);
}

void shim_conn_connected(int fd, const struct sockaddr *addr, socklen_t len, bool fresh)
{
    struct stat st;
    if (fd < 0 || !shim_settings_present())
        return; /* no settings at all: nothing is watched */
    if (!tcp_address(addr, len) && (fresh || shim_fd_entry(fd) <= SHIM_FD_PLAIN)) {
        /* PLAIN, as attach() would make it, without a look at the socket:
         * Postfix's daemons connect to each other's UNIX sockets for
         * every message, and the look cost two system calls each time.
         * Not for a connection already recorded when this is no fresh
         * start (EISCONN, EALREADY, Fast Open with another address): the
         * kernel refused that call, and the connection goes on guarded. */
        if (shim_fd_entry(fd) != SHIM_FD_PLAIN)
            set_entry(fd, SHIM_FD_PLAIN);
        return;
    }
    if (!shim_table_mine() || fstat(fd, &st) != 0)
        return;
    attach(fd, addr, len, &st, fresh);
}

/* A descriptor the shim never saw made: a socket inherited across exec or
 * received from another process is an in-scope connection like any.
 * Returns whether its bytes must pass the guard. */
static bool classify(int fd)
{
    struct stat st;
    int domain = 0;
    socklen_t dlen = sizeof(domain);
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    /* Only a connected TCP socket can be an SMTP connection; the rest is
     * told without the lock (a signal handler's self-pipe is such a rest). */
    bool tcp = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
               getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) == 0 &&
               (domain == AF_INET || domain == AF_INET6) &&
               getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
    if (!shim_table_mine())
        return false; /* a vfork() child, which may only exec or exit */
    if (!shim_conns_lock())
        return tcp; /* refused by shim_conn_send(): it cannot be judged now */
    if (!tcp) {
        shim_conn_set_locked(fd, SHIM_FD_PLAIN);
        shim_conns_unlock();
        return false;
    }
    shim_conn *known = find_socket_locked(st.st_dev, st.st_ino);
    if (known)
        shim_conn_set_locked(fd, shim_conn_entry(known));
    shim_conns_unlock();
    if (!known)
        attach(fd, (struct sockaddr *)&ss, len, &st, true);
    uintptr_t e = shim_fd_entry(fd);
    return e > SHIM_FD_PLAIN && (e & SHIM_FD_GUARDING);
}

bool shim_guarded_unknown(int fd)
{
    int saved = errno;
    bool guarded = false;
    if (fd >= 0 && shim_settings_present()) {
        shim_busy++;
        guarded = classify(fd);
        shim_busy--;
    }
    errno = saved;
    return guarded;
}

bool shim_guarded_strictly(int fd)
{
    if (!shim_guarded(fd))
        return false;
    if (!shim_conns_lock())
        return true;
    shim_conn *c = shim_conn_of(shim_fd_entry(fd));
    bool strict = !c || c->guard.level != MXV_GUARD_WATCH;
    shim_conns_unlock();
    return strict;
}

void shim_conn_closed(int fd)
{
    /* Only a connection's entry needs forgetting: an UNKNOWN or PLAIN
     * number stays right for whatever is opened there next (a socket that
     * connects is recorded at connect()). */
    if (shim_fd_entry(fd) <= SHIM_FD_PLAIN)
        return;
    set_entry(fd, SHIM_FD_PLAIN);
}

void shim_conn_closed_range(unsigned first, unsigned last)
{
    int high = shim_fd_high();
    for (unsigned fd = first; fd <= last && (int)fd <= high && fd <= 0x7fffffffu; fd++)
        if (shim_fd_entry((int)fd) > SHIM_FD_PLAIN)
            shim_conn_closed((int)fd);
}

void shim_conn_duplicated(int oldfd, int newfd)
{
    if (oldfd == newfd || newfd < 0 || !shim_table_mine())
        return;
    if (!shim_conns_lock()) {
        shim_fd_forget(newfd);
        return;
    }
    uintptr_t e = shim_fd_entry(oldfd);
    shim_conn *c = shim_conn_of(e);
    /* An unknown original leaves the copy unknown: classified, by inode,
     * at its first write. */
    shim_conn_set_locked(newfd, c ? shim_conn_entry(c) : e);
    bool std_stream = c && newfd <= 2 && c->guard.level != MXV_GUARD_WATCH;
    shim_conns_unlock();
    if (std_stream)
        shim_stdio_std_attached(newfd);
}

void shim_conn_received(int fd)
{
    if (shim_table_mine())
        set_entry(fd, SHIM_FD_UNKNOWN);
}

void shim_conn_kernel_tls(int fd)
{
    if (!shim_conns_lock())
        return; /* the guard stays where it was: stricter, never weaker */
    shim_conn *c = shim_conn_of(shim_fd_entry(fd));
    if (c) {
        mxv_guard_kernel_tls(&c->guard);
        if (shim_table_mine())
            shim_fd_set(fd, shim_conn_entry(c));
    }
    shim_conns_unlock();
}
