/*
 * send: what may leave on an in-scope connection. Every chunk the program
 * writes on a guarded descriptor, by whatever call, is judged whole by
 * the connection's guard (core/guard.h) before any of it leaves; a
 * refusal shuts the socket down, so that every descriptor of it, and
 * every later write by any path, fails, and is logged once.
 *
 * Where clear text is restricted the judged bytes are a copy, read with
 * process_vm_readv(): an unreadable buffer is EFAULT, as the kernel would
 * say, never a crash in the shim, and the bytes that leave are the bytes
 * judged, whatever another thread does to the buffer meanwhile.
 */
#include "conn.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define COPY_MAX   (1u << 20) /* bytes judged per call; more is a short write */
#define COPY_STACK 2048       /* SMTP lines and handshake messages fit here */

/* Ends the connection: nothing more leaves on any of its descriptors. */
static ssize_t end_connection(int fd, const shim_conn *c, const mxv_guard_refusal *r)
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

/* The first `sent` bytes of iov left on fd: its connection's guard moves
 * on (unless fd names another connection by now). */
static void commit(int fd, shim_conn *c, const struct iovec *iov, size_t n, ssize_t sent)
{
    if (sent <= 0)
        return;
    int saved = errno;
    if (shim_conns_lock()) {
        if (shim_conn_of(shim_fd_entry(fd)) == c) {
            c->last_fd = fd;
            size_t left = (size_t)sent;
            for (size_t i = 0; i < n && left; i++) {
                size_t len = iov[i].iov_len < left ? iov[i].iov_len : left;
                mxv_guard_commit(&c->guard, iov[i].iov_base, len);
                left -= len;
            }
            if (!shim_conn_watching(c) && shim_table_mine())
                shim_fd_set(fd, shim_conn_entry(c));
        }
        shim_conns_unlock();
    }
    errno = saved;
}

/* The bytes of iov, up to `cap`, into buf, as the kernel would read them:
 * the count read, or -1 (EFAULT) when the first byte cannot be read. */
static ssize_t gather(const struct iovec *iov, size_t n, void *buf, size_t cap)
{
    if (cap == 0)
        return 0;
    struct iovec local = {.iov_base = buf, .iov_len = cap};
    ssize_t got = process_vm_readv(getpid(), &local, 1, iov, n, 0);
    if (got > 0)
        return got;
    if (got == 0 || (errno != ENOSYS && errno != EPERM)) {
        errno = EFAULT;
        return -1;
    }
    /* No process_vm_readv here (a seccomp filter): an ordinary copy. */
    size_t done = 0;
    for (size_t i = 0; i < n && done < cap; i++) {
        size_t len = iov[i].iov_len < cap - done ? iov[i].iov_len : cap - done;
        memcpy((char *)buf + done, iov[i].iov_base, len);
        done += len;
    }
    return (ssize_t)done;
}

static size_t total_of(const struct iovec *iov, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total = iov[i].iov_len > SIZE_MAX - total ? SIZE_MAX : total + iov[i].iov_len;
    return total;
}

/* The connection fd names, locked, if its bytes must be judged; NULL (not
 * locked) with *result set when the call is already settled. */
static shim_conn *lock_guarded(int fd, shim_send_fn send, void *arg, ssize_t *result)
{
    if (!shim_conns_lock()) {
        /* A signal handler that interrupted the shim in this thread: its
         * bytes cannot be judged now. */
        errno = EINTR;
        *result = -1;
        return NULL;
    }
    uintptr_t e = shim_fd_entry(fd);
    shim_conn *c = shim_conn_of(e);
    if (c && c->refused && !shim_conn_same_socket(fd, c) && shim_table_mine()) {
        /* An ended connection's number, reused behind the shim's back
         * (fclose(), freopen()): looked at afresh. */
        shim_conn_set_locked(fd, SHIM_FD_UNKNOWN);
        shim_conns_unlock();
        *result = shim_guarded(fd) ? -2 : send(arg, NULL, 0);
        return NULL;
    }
    if (c && c->refused) {
        shim_conns_unlock();
        errno = ECONNABORTED;
        *result = -1;
        return NULL;
    }
    if (!c || !shim_conn_watching(c)) {
        shim_conns_unlock();
        if (!c && e == SHIM_FD_UNKNOWN) {
            /* Seen in scope, but it could not be recorded (out of memory). */
            errno = ENOBUFS;
            *result = -1;
        } else {
            *result = send(arg, NULL, 0);
        }
        return NULL;
    }
    return c;
}

/* Judged (c locked on entry, unlocked on return): sends, or ends c. */
static ssize_t judged(int fd, shim_conn *c, const struct iovec *iov, size_t n, const void *copy,
                      size_t len, shim_send_fn send, void *arg)
{
    mxv_guard_refusal r = {0};
    if (!judge_locked(c, iov, n, &r)) {
        if (!shim_conn_same_socket(fd, c) && shim_table_mine()) {
            /* Not this connection's bytes: the descriptor names something
             * else now. Looked at afresh. */
            shim_conn_set_locked(fd, SHIM_FD_UNKNOWN);
            shim_conns_unlock();
            return -2;
        }
        c->refused = true;
        shim_conn ended = *c;
        shim_conns_unlock();
        return end_connection(fd, &ended, &r);
    }
    shim_conns_unlock();
    ssize_t sent = send(arg, copy, len);
    commit(fd, c, iov, n, sent);
    return sent;
}

static ssize_t send_once(int fd, const struct iovec *iov, size_t n, shim_send_fn send, void *arg,
                         bool copy)
{
    ssize_t result;
    shim_conn *c = lock_guarded(fd, send, arg, &result);
    if (!c)
        return result;
    if (c->guard.level == MXV_GUARD_WATCH || !copy) {
        /* Nothing refused at WATCH (the bytes are followed, for the
         * ClientHello); stdio's bytes are judged in place. */
        if (c->guard.level != MXV_GUARD_WATCH)
            return judged(fd, c, iov, n, NULL, 0, send, arg);
        shim_conns_unlock();
        ssize_t sent = send(arg, NULL, 0);
        commit(fd, c, iov, n, sent);
        return sent;
    }
    shim_conns_unlock();
    if (n > IOV_MAX)
        return send(arg, NULL, 0); /* refused by the kernel (EINVAL, EMSGSIZE) */
    uint8_t small[COPY_STACK];
    size_t total = total_of(iov, n), cap = total < COPY_MAX ? total : COPY_MAX;
    void *heap = cap > sizeof(small) ? malloc(cap) : NULL;
    void *buf = cap > sizeof(small) ? heap : small;
    if (!buf) {
        errno = ENOBUFS;
        return -1;
    }
    ssize_t got = gather(iov, n, buf, cap);
    if (got < 0 && total > 0) {
        free(heap);
        return -1;
    }
    struct iovec one = {.iov_base = buf, .iov_len = got > 0 ? (size_t)got : 0};
    c = lock_guarded(fd, send, arg, &result);
    if (c)
        result = judged(fd, c, &one, 1, buf, one.iov_len, send, arg);
    free(heap);
    return result;
}

static ssize_t judged_send(int fd, const struct iovec *iov, size_t n, shim_send_fn send, void *arg,
                           bool copy)
{
    /* -2: the descriptor named something else and was looked at afresh;
     * once more, with what it names now. */
    ssize_t r = send_once(fd, iov, n, send, arg, copy);
    if (r == -2)
        r = send_once(fd, iov, n, send, arg, copy);
    if (r == -2) {
        errno = EAGAIN;
        r = -1;
    }
    return r;
}

ssize_t shim_conn_send(int fd, const struct iovec *iov, size_t n, shim_send_fn send, void *arg)
{
    return judged_send(fd, iov, n, send, arg, true);
}

ssize_t shim_conn_emit(int fd, const struct iovec *iov, size_t n, shim_send_fn send, void *arg)
{
    return judged_send(fd, iov, n, send, arg, false);
}

ssize_t shim_conn_refuse_opaque(int fd, const char *how)
{
    if (!shim_conns_lock()) {
        errno = EINTR;
        return -1;
    }
    shim_conn *c = shim_conn_of(shim_fd_entry(fd));
    if (!c || !shim_conn_watching(c) || c->guard.level == MXV_GUARD_WATCH ||
        !shim_conn_same_socket(fd, c)) {
        shim_conns_unlock();
        return 0; /* not refused: the caller sends */
    }
    if (c->refused) {
        shim_conns_unlock();
        errno = ECONNABORTED;
        return -1;
    }
    c->refused = true;
    shim_conn ended = *c;
    shim_conns_unlock();
    mxv_guard_refusal r = {.why = how};
    return end_connection(fd, &ended, &r);
}
