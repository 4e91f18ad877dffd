/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every libc call that writes to a socket: write(), send(), sendto(),
 * sendmsg(), writev(), pwritev2() (at the current position, the only one
 * a socket has), sendmmsg() and the double-underscore names glibc also
 * exports for some of them; and the ones whose bytes the shim cannot read
 * first (sendfile(), splice(), POSIX AIO, urgent data). On a descriptor
 * that is not a guarded connection each costs a table read; on one that
 * is, its bytes pass the connection's guard (send.c) before they leave,
 * however many iovecs they come in. stdio is in hook_stdio.c.
 *
 * sendto() and sendmsg() with MSG_FASTOPEN also open the connection (TCP
 * Fast Open, which Exim uses): it enters scope as at connect().
 */
#include "shim.h"

#include <aio.h>
#include <errno.h>
#include <sys/sendfile.h>
#include <unistd.h>

#define REAL(name, type)                                                                           \
    static __typeof__(type) real;                                                                  \
    if (!real && !(real = (type)shim_real(name))) {                                                \
        errno = ENOSYS;                                                                            \
        return -1;                                                                                 \
    }

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*send_fn)(int, const void *, size_t, int);
typedef ssize_t (*sendto_fn)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwritev2_fn)(int, const struct iovec *, int, off_t, int);

/* One pending call, for shim_conn_send() to make once the guard agrees:
 * with the program's own bytes, or with the copy that was judged. */
typedef enum { CALL_WRITE, CALL_SEND, CALL_SENDTO, CALL_SENDMSG, CALL_WRITEV, CALL_PWRITEV2 } kind;
typedef struct {
    kind kind;
    void *real;
    int fd, flags;
    const void *buf;
    size_t len;
    const struct sockaddr *to;
    socklen_t tolen;
    const struct msghdr *msg;
    const struct iovec *iov;
    int iovcnt;
    off_t offset;
} call;

/* The first `limit` octets of iov[0..n), as at most `cap` iovecs in out
 * (fewer octets then: a short write). Returns the count of iovecs. */
static int trimmed(const struct iovec *iov, int n, size_t limit, struct iovec *out, int cap)
{
    int k = 0;
    for (int i = 0; i < n && limit && k < cap; i++) {
        size_t len = iov[i].iov_len < limit ? iov[i].iov_len : limit;
        out[k++] = (struct iovec){.iov_base = iov[i].iov_base, .iov_len = len};
        limit -= len;
    }
    return k;
}

/* The program's call: with the copy that was judged (copy, len), or with
 * its own bytes, at most `len` of them (SIZE_MAX: all). */
static ssize_t make_call(void *arg, const void *copy, size_t len)
{
    call *c = arg;
    bool sending = c->kind == CALL_SEND || c->kind == CALL_SENDTO || c->kind == CALL_SENDMSG;
    if (copy && sending && (c->flags & MSG_ZEROCOPY)) {
        /* The kernel reads zero-copy bytes after the call returns: from
         * the program's buffer, which it keeps unchanged until told they
         * left (the judged copy, the same bytes, is gone by then). */
        copy = NULL;
        len = SIZE_MAX;
    }
    const void *buf = copy ? copy : c->buf;
    size_t n = copy || len < c->len ? len : c->len;
    struct iovec one = {.iov_base = (void *)copy, .iov_len = len}, cut[64];
    const struct iovec *iov = copy ? &one : c->iov;
    int iovcnt = copy ? 1 : c->iovcnt;
    bool vectored = c->kind == CALL_SENDMSG || c->kind == CALL_WRITEV || c->kind == CALL_PWRITEV2;
    if (!copy && len != SIZE_MAX && vectored) {
        const struct iovec *whole = c->kind == CALL_SENDMSG ? c->msg->msg_iov : c->iov;
        int count = c->kind == CALL_SENDMSG ? (int)c->msg->msg_iovlen : c->iovcnt;
        iovcnt = trimmed(whole, count, len, cut, 64);
        iov = cut;
    }
    switch (c->kind) {
    case CALL_WRITE:
        return ((write_fn)c->real)(c->fd, buf, n);
    case CALL_SEND:
        return ((send_fn)c->real)(c->fd, buf, n, c->flags);
    case CALL_SENDTO:
        return ((sendto_fn)c->real)(c->fd, buf, n, c->flags, c->to, c->tolen);
    case CALL_SENDMSG: {
        if (!copy && len == SIZE_MAX)
            return ((sendmsg_fn)c->real)(c->fd, c->msg, c->flags);
        struct msghdr m = *c->msg; /* its address and control data, with these bytes */
        m.msg_iov = (struct iovec *)iov;
        m.msg_iovlen = (size_t)iovcnt;
        return ((sendmsg_fn)c->real)(c->fd, &m, c->flags);
    }
    case CALL_WRITEV:
        return ((writev_fn)c->real)(c->fd, iov, iovcnt);
    case CALL_PWRITEV2:
        return ((pwritev2_fn)c->real)(c->fd, iov, iovcnt, c->offset, c->flags);
    }
    errno = EINVAL;
    return -1;
}

static ssize_t one_buffer(call *c)
{
    struct iovec iov = {.iov_base = (void *)c->buf, .iov_len = c->len};
    return shim_conn_send(c->fd, &iov, 1, make_call, c);
}

/* TCP Fast Open: the call itself connects an unconnected socket (on a
 * connected one the kernel refuses it, or sends on the connection). */
static void fast_open(int fd, int flags, const struct sockaddr *to, socklen_t tolen)
{
    if (!(flags & MSG_FASTOPEN) || !to || shim_busy)
        return;
    int saved = errno;
    struct sockaddr_storage peer;
    socklen_t len = sizeof(peer);
    if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0) {
        shim_busy++;
        shim_conn_connected(fd, to, tolen, false);
        shim_busy--;
    }
    errno = saved;
}

/* Urgent data (MSG_OOB): a server reading without SO_OOBINLINE takes its
 * last byte out of the stream, so what it reads is not what the guard
 * read. Refused where clear text is restricted. */
static bool urgent_refused(int fd, int flags)
{
    return (flags & MSG_OOB) && shim_guarded(fd) &&
           shim_conn_refuse_opaque(fd, "urgent data (MSG_OOB) on an SMTP connection where TLS is "
                                       "required (the server reads another stream than was "
                                       "sent)") < 0;
}

static ssize_t do_write(const char *name, write_fn *real, int fd, const void *buf, size_t len)
{
    if (!*real && !(*real = (write_fn)shim_real(name))) {
        errno = ENOSYS;
        return -1;
    }
    if (!shim_guarded(fd))
        return (*real)(fd, buf, len);
    call c = {.kind = CALL_WRITE, .real = (void *)*real, .fd = fd, .buf = buf, .len = len};
    return one_buffer(&c);
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
    static write_fn real;
    return do_write("write", &real, fd, buf, len);
}

SHIM_EXPORT ssize_t __write(int fd, const void *buf, size_t len)
{
    static write_fn real;
    return do_write("__write", &real, fd, buf, len);
}

static ssize_t do_send(const char *name, send_fn *real, int fd, const void *buf, size_t len,
                       int flags)
{
    if (!*real && !(*real = (send_fn)shim_real(name))) {
        errno = ENOSYS;
        return -1;
    }
    if (!shim_guarded(fd))
        return (*real)(fd, buf, len, flags);
    if (urgent_refused(fd, flags))
        return -1;
    call c = {
        .kind = CALL_SEND, .real = (void *)*real, .fd = fd, .buf = buf, .len = len, .flags = flags};
    return one_buffer(&c);
}

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    static send_fn real;
    return do_send("send", &real, fd, buf, len, flags);
}

SHIM_EXPORT ssize_t __send(int fd, const void *buf, size_t len, int flags)
{
    static send_fn real;
    return do_send("__send", &real, fd, buf, len, flags);
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                           const struct sockaddr *to, socklen_t tolen)
{
    REAL("sendto", sendto_fn);
    fast_open(fd, flags, to, tolen);
    if (!shim_guarded(fd))
        return real(fd, buf, len, flags, to, tolen);
    if (urgent_refused(fd, flags))
        return -1;
    call c = {.kind = CALL_SENDTO,
              .real = (void *)real,
              .fd = fd,
              .buf = buf,
              .len = len,
              .flags = flags,
              .to = to,
              .tolen = tolen};
    return one_buffer(&c);
}

static ssize_t guarded_sendmsg(sendmsg_fn real, int fd, const struct msghdr *msg, int flags)
{
    if (!msg || !shim_guarded(fd))
        return real(fd, msg, flags);
    if (urgent_refused(fd, flags))
        return -1;
    call c = {.kind = CALL_SENDMSG, .real = (void *)real, .fd = fd, .msg = msg, .flags = flags};
    return shim_conn_send(fd, msg->msg_iov, msg->msg_iovlen, make_call, &c);
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    REAL("sendmsg", sendmsg_fn);
    if (msg)
        fast_open(fd, flags, msg->msg_name, msg->msg_namelen);
    return guarded_sendmsg(real, fd, msg, flags);
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
    REAL("writev", writev_fn);
    if (n <= 0 || !shim_guarded(fd))
        return real(fd, iov, n);
    call c = {.kind = CALL_WRITEV, .real = (void *)real, .fd = fd, .iov = iov, .iovcnt = n};
    return shim_conn_send(fd, iov, (size_t)n, make_call, &c);
}

/* At offset -1, the current position: a writev() with flags. At any
 * other, the kernel refuses a socket (ESPIPE). */
static ssize_t do_pwritev2(const char *name, pwritev2_fn *real, int fd, const struct iovec *iov,
                           int n, off_t offset, int flags)
{
    if (!*real && !(*real = (pwritev2_fn)shim_real(name))) {
        errno = ENOSYS;
        return -1;
    }
    if (n <= 0 || offset != -1 || !shim_guarded(fd))
        return (*real)(fd, iov, n, offset, flags);
    call c = {.kind = CALL_PWRITEV2,
              .real = (void *)*real,
              .fd = fd,
              .iov = iov,
              .iovcnt = n,
              .offset = offset,
              .flags = flags};
    return shim_conn_send(fd, iov, (size_t)n, make_call, &c);
}

SHIM_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int n, off_t offset, int flags)
{
    static pwritev2_fn real;
    return do_pwritev2("pwritev2", &real, fd, iov, n, offset, flags);
}

SHIM_EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int n, off_t offset, int flags)
{
    static pwritev2_fn real;
    return do_pwritev2("pwritev64v2", &real, fd, iov, n, offset, flags);
}

/* Each message through sendmsg() above, so each passes the guard; the
 * count of messages sent, as sendmmsg() returns it. */
static int do_sendmmsg(const char *name, int (**real)(int, struct mmsghdr *, unsigned, int), int fd,
                       struct mmsghdr *v, unsigned n, int flags)
{
    static sendmsg_fn one;
    if (!*real && !(*real = (int (*)(int, struct mmsghdr *, unsigned, int))shim_real(name))) {
        errno = ENOSYS;
        return -1;
    }
    if (n == 0 || !v || (!one && !(one = (sendmsg_fn)shim_real("sendmsg"))))
        return (*real)(fd, v, n, flags);
    if (v[0].msg_hdr.msg_name)
        fast_open(fd, flags, v[0].msg_hdr.msg_name, v[0].msg_hdr.msg_namelen);
    if (!shim_guarded(fd))
        return (*real)(fd, v, n, flags);
    unsigned i = 0;
    for (; i < n; i++) {
        ssize_t r = guarded_sendmsg(one, fd, &v[i].msg_hdr, flags);
        if (r < 0)
            return i ? (int)i : -1;
        v[i].msg_len = (unsigned)r;
    }
    return (int)i;
}

SHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
    static int (*real)(int, struct mmsghdr *, unsigned, int);
    return do_sendmmsg("sendmmsg", &real, fd, v, n, flags);
}

SHIM_EXPORT int __sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
    static int (*real)(int, struct mmsghdr *, unsigned, int);
    return do_sendmmsg("__sendmmsg", &real, fd, v, n, flags);
}

/* --- what the guard cannot read before it leaves --- */

/* Bytes that go from a file or a pipe straight into the socket, or that
 * leave later from another thread (POSIX AIO), cannot be read by the
 * guard first: on a connection where clear text is restricted, they end
 * it. */
static bool opaque_refused(int fd, const char *how)
{
    return shim_guarded(fd) && shim_conn_refuse_opaque(fd, how) < 0;
}

#define UNREADABLE(call)                                                                           \
    call "() onto an SMTP connection where TLS is required (the bytes cannot be read before "      \
         "they leave)"

SHIM_EXPORT ssize_t sendfile(int out, int in, off_t *offset, size_t count)
{
    REAL("sendfile", ssize_t(*)(int, int, off_t *, size_t));
    if (opaque_refused(out, UNREADABLE("sendfile")))
        return -1;
    return real(out, in, offset, count);
}

SHIM_EXPORT ssize_t sendfile64(int out, int in, off64_t *offset, size_t count)
{
    REAL("sendfile64", ssize_t(*)(int, int, off64_t *, size_t));
    if (opaque_refused(out, UNREADABLE("sendfile")))
        return -1;
    return real(out, in, offset, count);
}

SHIM_EXPORT ssize_t splice(int in, loff_t *off_in, int out, loff_t *off_out, size_t len,
                           unsigned flags)
{
    REAL("splice", ssize_t(*)(int, loff_t *, int, loff_t *, size_t, unsigned));
    if (opaque_refused(out, UNREADABLE("splice")))
        return -1;
    return real(in, off_in, out, off_out, len, flags);
}

SHIM_EXPORT int aio_write(struct aiocb *cb)
{
    REAL("aio_write", int (*)(struct aiocb *));
    if (opaque_refused(cb->aio_fildes, UNREADABLE("aio_write")))
        return -1;
    return real(cb);
}

SHIM_EXPORT int aio_write64(struct aiocb64 *cb)
{
    REAL("aio_write64", int (*)(struct aiocb64 *));
    if (opaque_refused(cb->aio_fildes, UNREADABLE("aio_write")))
        return -1;
    return real(cb);
}

/* A list with a write to a guarded connection is not submitted at all.
 * (struct aiocb64 is struct aiocb where off_t has 64 bits, as here.) */
_Static_assert(sizeof(struct aiocb) == sizeof(struct aiocb64), "aiocb64 is aiocb");

static bool list_refused(struct aiocb *const list[], int n)
{
    for (int i = 0; i < n; i++)
        if (list[i] && list[i]->aio_lio_opcode == LIO_WRITE &&
            opaque_refused(list[i]->aio_fildes, UNREADABLE("lio_listio")))
            return true;
    return false;
}

SHIM_EXPORT int lio_listio(int mode, struct aiocb *const list[], int n, struct sigevent *sig)
{
    REAL("lio_listio", int (*)(int, struct aiocb *const[], int, struct sigevent *));
    return list_refused(list, n) ? -1 : real(mode, list, n, sig);
}

SHIM_EXPORT int lio_listio64(int mode, struct aiocb64 *const list[], int n, struct sigevent *sig)
{
    REAL("lio_listio64", int (*)(int, struct aiocb64 *const[], int, struct sigevent *));
    return list_refused((struct aiocb *const *)list, n) ? -1 : real(mode, list, n, sig);
}
