/* SPDX-License-Identifier: Apache-2.0 */
/*
 * send: what may leave on an in-scope connection. Every chunk the program
 * writes on a guarded descriptor, by whatever call, is judged whole by
 * the connection's guard (core/guard.h) before any of it leaves; a
 * refusal shuts the socket down, so that every descriptor of it, and
 * every later write by any path, fails, and is logged once.
 *
 * Where clear text is restricted the guard reads the program's bytes
 * through shim_peek() (peek.c): an unreadable buffer is EFAULT, as the
 * kernel would say, not a crash in the shim (bytes in the main heap are
 * copied directly: peek.c says when that could crash). A small chunk (an
 * SMTP line, a handshake message) is copied whole, judged, and the copy is
 * what is sent, so another thread cannot change it in between. A larger one
 * (TLS records of a data phase) is read only where the guard reads it
 * (record headers; the bodies it passes over are never copied, which
 * cost a data phase about a quarter more CPU) and sent as it is.
 */
#include "conn.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define COPY_STACK 2048 /* a chunk up to this is judged and sent as a copy */
#define WINDOW     256  /* what is read at a time of a larger one */

/* The TLS library whose records were refused on c, for the log line's
 * tls=: the one whose handshake ran there (the engine and the GnuTLS
 * hooks say which); without the engine, which is what sees OpenSSL's,
 * OpenSSL when libssl is in the process (shim_program_has_libssl()). NULL
 * when it cannot be told. */
static const char *records_library(const shim_conn *c)
{
    if (c->library)
        return c->library;
    return c->engineless && shim_program_has_libssl() ? "openssl" : NULL;
}

/* Ends the connection: nothing more leaves on any of its descriptors
 * (the record is marked refused already: its other writes are refused).
 * The engine logs first, while the socket still names both ends (its
 * session id in the log is the connection's). */
static ssize_t end_connection(int fd, const shim_conn *c, const mxv_guard_refusal *r,
                              const char *reason, const char *policy)
{
    mxv_hook_refusal what = {
        .domain = c->seen.domain[0] ? c->seen.domain : NULL,
        .host = c->seen.host[0] ? c->seen.host : NULL,
        .ip = c->ip,
        .no_decision = r->tls,
        .why = r->why,
        .line = r->head,
        .reason = reason,
        .policy = policy,
        .fd = fd,
        .library = r->tls ? records_library(c) : NULL,
    };
    const mxv_hook_api *api = c->engineless ? NULL : shim_engine(false);
    const char *tls = what.no_decision ? what.library : "none"; /* the line's tls=, if known */
    shim_busy++;
    if (api)
        api->refused(&what);
    else
        shim_say("verdict=fail ip=%s action=abort reason=%s why=\"%s%s%s%s (libmxverify could "
                 "not be loaded: in-scope connections fail closed)\"%s%s",
                 c->ip, what.no_decision ? "validation-failure" : "starttls-not-supported",
                 r->why ? r->why : "refused", r->head[0] ? ": '" : "", r->head,
                 r->head[0] ? "'" : "", tls ? " tls=" : "", tls ? tls : "");
    shim_busy--;
    shutdown(fd, SHUT_RDWR);
    errno = ECONNABORTED;
    return -1;
}

/* Clear text on a connection where DANE may apply (c locked, unlocked on
 * return): the engine is asked, without the lock (it may wait for DNS),
 * whether TLS is mandatory for the host. Allowed: the guard carries on at
 * the level the engine gives, and -2 has the chunk judged afresh; else
 * the connection ends with the engine's reason. */
static ssize_t ask_engine(int fd, shim_conn *c, const mxv_guard_refusal *r)
{
    shim_conn asked = *c;
    shim_conns_unlock();
    const mxv_hook_api *api = shim_engine(false);
    mxv_hook_level level = MXV_HOOK_REQUIRE_VERIFIED;
    char why[400] = "the engine could not be asked whether DANE applies";
    const char *reason = NULL, *policy = NULL;
    shim_busy++;
    bool allowed = api && api->clear_text(asked.seen.domain[0] ? asked.seen.domain : NULL,
                                          asked.seen.host[0] ? asked.seen.host : NULL, asked.ip,
                                          asked.port, &level, why, sizeof(why), &reason, &policy);
    shim_busy--;
    if (!shim_conns_lock()) {
        errno = EINTR;
        return -1;
    }
    /* Still the same connection on fd (another thread may have closed it
     * meanwhile, and a new record may sit at the same address): the
     * answer applies to it alone. */
    shim_conn *now = shim_conn_of(shim_fd_entry(fd));
    if (now != c || now->serial != asked.serial || !shim_conn_same_socket(fd, c) || c->refused) {
        shim_conns_unlock();
        return -2;
    }
    if (allowed) {
        mxv_guard_clear_answered(&c->guard, shim_guard_level(level));
        shim_conns_unlock();
        return -2;
    }
    mxv_guard_refusal dane = *r;
    dane.ask = false;
    dane.why = why;
    c->refused = true;
    shim_conn ended = *c;
    shim_conns_unlock();
    return end_connection(fd, &ended, &dane, reason, policy);
}

/* The refused chunk (c locked, unlocked on return): c ends, or -2 when fd
 * no longer names c's socket (forgotten: to be looked at afresh). */
static ssize_t refuse_locked(int fd, shim_conn *c, const mxv_guard_refusal *r)
{
    if (r->ask && shim_conn_same_socket(fd, c) && !c->engineless)
        return ask_engine(fd, c, r);
    if (!shim_conn_same_socket(fd, c) && shim_table_mine()) {
        shim_conn_set_locked(fd, SHIM_FD_UNKNOWN);
        shim_conns_unlock();
        return -2;
    }
    c->refused = true;
    shim_conn ended = *c;
    shim_conns_unlock();
    return end_connection(fd, &ended, r, NULL, NULL);
}

/* Runs the in-memory chunk iov through g; false when refused (r says
 * why; r NULL: commit, nothing is refused). */
static bool run_in_place(mxv_guard *g, const struct iovec *iov, size_t n, size_t len,
                         mxv_guard_refusal *r)
{
    for (size_t i = 0; i < n && len; i++) {
        size_t k = iov[i].iov_len < len ? iov[i].iov_len : len;
        if (!r)
            mxv_guard_commit(g, iov[i].iov_base, k);
        else if (!mxv_guard_advance(g, iov[i].iov_base, k, r))
            return false;
        len -= k;
    }
    return true;
}

/* A larger chunk of the program's, read where the guard reads it: the
 * windows read while judging are kept, so that committing what was sent
 * reads nothing again. */
typedef struct {
    const struct iovec *iov;
    size_t n;
    struct {
        size_t pos, len;
        uint8_t data[WINDOW];
    } kept[4];
    size_t nkept;
} chunk;

/* Up to want octets at pos: a pointer into a kept window, and how many
 * (0: unreadable). */
static size_t chunk_at(chunk *ck, size_t pos, size_t want, const uint8_t **out)
{
    for (size_t i = 0; i < ck->nkept; i++)
        if (pos >= ck->kept[i].pos && pos < ck->kept[i].pos + ck->kept[i].len) {
            size_t avail = ck->kept[i].pos + ck->kept[i].len - pos;
            *out = ck->kept[i].data + (pos - ck->kept[i].pos);
            return avail < want ? avail : want;
        }
    size_t slot = ck->nkept < 4 ? ck->nkept++ : 3; /* the last one, reused */
    ssize_t got =
        shim_peek(ck->iov, ck->n, pos, ck->kept[slot].data, want < WINDOW ? want : WINDOW);
    ck->kept[slot].pos = pos;
    ck->kept[slot].len = got > 0 ? (size_t)got : 0;
    *out = ck->kept[slot].data;
    return ck->kept[slot].len;
}

/* Runs the first len octets of the chunk through g, reading only what the
 * guard reads. false when refused (r NULL: never). *readable: len, or
 * where an octet the guard needed could not be read. */
static bool run_chunk(mxv_guard *g, chunk *ck, size_t len, mxv_guard_refusal *r, size_t *readable)
{
    size_t pos = 0;
    while (pos < len) {
        size_t unread = mxv_guard_unread(g);
        if (unread) {
            size_t k = unread < len - pos ? unread : len - pos;
            mxv_guard_skip(g, k);
            pos += k;
            continue;
        }
        const uint8_t *bytes;
        size_t got = chunk_at(ck, pos, len - pos, &bytes);
        if (got == 0)
            break;
        if (!r)
            mxv_guard_commit(g, bytes, got);
        else if (!mxv_guard_advance(g, bytes, got, r))
            return false;
        pos += got;
    }
    *readable = pos;
    return true;
}

/* A chunk's judgement: the guard it started from, and where the whole
 * chunk took it. */
typedef struct {
    mxv_guard from, to;
    size_t total;
} judged;

/* What left on fd moves its connection's guard on (unless fd names
 * another connection by now): the first `sent` octets of the chunk, in
 * memory (iov: a copy, or judged in place) or read where the guard reads
 * it (ck). When all of a judged chunk left and the guard is still where
 * the judgement started (the guard is a pure state machine: the same
 * state and the same octets make the same state), it takes the judged
 * state instead of reading the octets a third time. */
static void commit(int fd, shim_conn *c, chunk *ck, const struct iovec *iov, size_t n, ssize_t sent,
                   const judged *j)
{
    if (sent <= 0)
        return;
    int saved = errno;
    if (shim_conns_lock()) {
        if (shim_conn_of(shim_fd_entry(fd)) == c) {
            c->last_fd = fd;
            size_t readable;
            if (j && (size_t)sent == j->total && memcmp(&c->guard, &j->from, sizeof(j->from)) == 0)
                c->guard = j->to;
            else if (ck)
                run_chunk(&c->guard, ck, (size_t)sent, NULL, &readable);
            else
                run_in_place(&c->guard, iov, n, (size_t)sent, NULL);
            if (!shim_conn_watching(c) && shim_table_mine())
                shim_fd_set(fd, shim_conn_entry(c));
        }
        shim_conns_unlock();
    }
    errno = saved;
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
        *result = shim_guarded(fd) ? -2 : send(arg, NULL, SIZE_MAX);
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
            *result = send(arg, NULL, SIZE_MAX);
        }
        return NULL;
    }
    return c;
}

/* A chunk up to COPY_STACK where clear text is restricted: copied, judged,
 * and the copy sent. */
static ssize_t send_copy(int fd, const struct iovec *iov, size_t n, size_t total, shim_send_fn send,
                         void *arg)
{
    uint8_t copy[COPY_STACK];
    ssize_t got = total ? shim_peek(iov, n, 0, copy, total) : 0;
    if (got < (ssize_t)total) {
        errno = EFAULT; /* as the kernel says for a buffer it cannot read */
        return -1;
    }
    struct iovec one = {.iov_base = copy, .iov_len = (size_t)got};
    ssize_t result;
    shim_conn *c = lock_guarded(fd, send, arg, &result);
    if (!c)
        return result;
    judged j = {.from = c->guard, .to = c->guard, .total = one.iov_len};
    mxv_guard_refusal r = {0};
    if (!run_in_place(&j.to, &one, 1, one.iov_len, &r))
        return refuse_locked(fd, c, &r);
    shim_conns_unlock();
    ssize_t sent = send(arg, copy, one.iov_len);
    commit(fd, c, NULL, &one, 1, sent, &j);
    return sent;
}

/* A larger chunk where clear text is restricted: judged where the guard
 * reads it, sent as the program's own bytes (the kernel finds unreadable
 * bytes the guard passed over). */
static ssize_t send_peeked(int fd, shim_conn *c, const struct iovec *iov, size_t n, size_t total,
                           shim_send_fn send, void *arg)
{
    chunk ck = {.iov = iov, .n = n};
    judged j = {.from = c->guard, .to = c->guard, .total = total};
    mxv_guard_refusal r = {0};
    size_t readable;
    if (!run_chunk(&j.to, &ck, total, &r, &readable))
        return refuse_locked(fd, c, &r);
    shim_conns_unlock();
    if (readable < total) {
        errno = EFAULT; /* an octet the guard needed cannot be read */
        return -1;
    }
    ssize_t sent = send(arg, NULL, SIZE_MAX);
    commit(fd, c, &ck, iov, n, sent, &j);
    return sent;
}

static ssize_t send_once(int fd, const struct iovec *iov, size_t n, shim_send_fn send, void *arg,
                         bool in_place)
{
    ssize_t result;
    shim_conn *c = lock_guarded(fd, send, arg, &result);
    if (!c)
        return result;
    size_t total = total_of(iov, n);
    if (c->guard.level == MXV_GUARD_WATCH || in_place) {
        /* Nothing is refused at WATCH (the bytes are followed after they
         * left, for the ClientHello); stdio's bytes are judged where they
         * are, under the stream's lock. */
        mxv_guard_refusal r = {0};
        judged j = {.from = c->guard, .to = c->guard, .total = total};
        bool judging = c->guard.level != MXV_GUARD_WATCH;
        if (judging && !run_in_place(&j.to, iov, n, total, &r))
            return refuse_locked(fd, c, &r);
        shim_conns_unlock();
        ssize_t sent = send(arg, NULL, SIZE_MAX);
        commit(fd, c, NULL, iov, n, sent, judging ? &j : NULL);
        return sent;
    }
    if (n > IOV_MAX) {
        shim_conns_unlock();
        return send(arg, NULL, SIZE_MAX); /* refused by the kernel (EINVAL, EMSGSIZE) */
    }
    if (total > COPY_STACK)
        return send_peeked(fd, c, iov, n, total, send, arg);
    shim_conns_unlock();
    return send_copy(fd, iov, n, total, send, arg);
}

static ssize_t judged_send(int fd, const struct iovec *iov, size_t n, shim_send_fn send, void *arg,
                           bool in_place)
{
    /* -2: the descriptor named something else and was looked at afresh;
     * once more, with what it names now. */
    ssize_t r = send_once(fd, iov, n, send, arg, in_place);
    if (r == -2)
        r = shim_guarded(fd) ? send_once(fd, iov, n, send, arg, in_place)
                             : send(arg, NULL, SIZE_MAX);
    if (r == -2) {
        errno = EAGAIN;
        r = -1;
    }
    return r;
}

ssize_t shim_conn_send(int fd, const struct iovec *iov, size_t n, shim_send_fn send, void *arg)
{
    return judged_send(fd, iov, n, send, arg, false);
}

ssize_t shim_conn_emit(int fd, const struct iovec *iov, size_t n, shim_send_fn send, void *arg)
{
    return judged_send(fd, iov, n, send, arg, true);
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
    /* Inside TLS, what could not be read is TLS records, not clear text. */
    mxv_guard_refusal r = {.why = how, .tls = ended.guard.phase == MXV_GUARD_HANDSHAKE};
    return end_connection(fd, &ended, &r, NULL, NULL);
}
