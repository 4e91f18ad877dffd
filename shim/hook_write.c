/*
 * Every call that writes to a socket: write(), send(), sendto(),
 * sendmsg(), writev(), sendmmsg(), and the ones whose bytes the shim
 * cannot read first (sendfile(), splice()). On a descriptor that is not a
 * guarded connection each costs a table read; on one that is, its bytes
 * pass the connection's guard (conns.c) before they leave, however many
 * iovecs they come in. stdio is in hook_stdio.c.
 *
 * sendto() and sendmsg() with MSG_FASTOPEN also open the connection (TCP
 * Fast Open, which Exim uses): it enters scope as at connect().
 */
#include "shim.h"

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

/* One pending call, for shim_conn_send() to make once the guard agrees. */
typedef struct {
    void *real;
    int fd, flags;
    const void *buf;
    size_t len;
    const struct sockaddr *to;
    socklen_t tolen;
    const struct msghdr *msg;
    const struct iovec *iov;
    int iovcnt;
} call;

static ssize_t do_write(void *arg)
{
    call *c = arg;
    return ((write_fn)c->real)(c->fd, c->buf, c->len);
}

static ssize_t do_send(void *arg)
{
    call *c = arg;
    return ((send_fn)c->real)(c->fd, c->buf, c->len, c->flags);
}

static ssize_t do_sendto(void *arg)
{
    call *c = arg;
    return ((sendto_fn)c->real)(c->fd, c->buf, c->len, c->flags, c->to, c->tolen);
}

static ssize_t do_sendmsg(void *arg)
{
    call *c = arg;
    return ((sendmsg_fn)c->real)(c->fd, c->msg, c->flags);
}

static ssize_t do_writev(void *arg)
{
    call *c = arg;
    return ((writev_fn)c->real)(c->fd, c->iov, c->iovcnt);
}

static ssize_t one_buffer(call *c, shim_send_fn how)
{
    struct iovec iov = {.iov_base = (void *)c->buf, .iov_len = c->len};
    return shim_conn_send(c->fd, &iov, 1, how, c);
}

/* TCP Fast Open: the call itself connects. */
static void fast_open(int fd, int flags, const struct sockaddr *to, socklen_t tolen)
{
    if ((flags & MSG_FASTOPEN) && to && !shim_busy) {
        int saved = errno;
        shim_busy++;
        shim_conn_connected(fd, to, tolen);
        shim_busy--;
        errno = saved;
    }
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
    REAL("write", write_fn);
    if (!shim_guarded(fd))
        return real(fd, buf, len);
    call c = {.real = (void *)real, .fd = fd, .buf = buf, .len = len};
    return one_buffer(&c, do_write);
}

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    REAL("send", send_fn);
    if (!shim_guarded(fd))
        return real(fd, buf, len, flags);
    call c = {.real = (void *)real, .fd = fd, .buf = buf, .len = len, .flags = flags};
    return one_buffer(&c, do_send);
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                           const struct sockaddr *to, socklen_t tolen)
{
    REAL("sendto", sendto_fn);
    fast_open(fd, flags, to, tolen);
    if (!shim_guarded(fd))
        return real(fd, buf, len, flags, to, tolen);
    call c = {.real = (void *)real,
              .fd = fd,
              .buf = buf,
              .len = len,
              .flags = flags,
              .to = to,
              .tolen = tolen};
    return one_buffer(&c, do_sendto);
}

static ssize_t guarded_sendmsg(sendmsg_fn real, int fd, const struct msghdr *msg, int flags)
{
    if (!msg || !shim_guarded(fd))
        return real(fd, msg, flags);
    call c = {.real = (void *)real, .fd = fd, .msg = msg, .flags = flags};
    return shim_conn_send(fd, msg->msg_iov, msg->msg_iovlen, do_sendmsg, &c);
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
    call c = {.real = (void *)real, .fd = fd, .iov = iov, .iovcnt = n};
    return shim_conn_send(fd, iov, (size_t)n, do_writev, &c);
}

/* Each message through sendmsg() above, so each passes the guard; the
 * count of messages sent, as sendmmsg() returns it. */
SHIM_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
    REAL("sendmmsg", int (*)(int, struct mmsghdr *, unsigned, int));
    static sendmsg_fn one;
    if (n == 0 || !v || (!one && !(one = (sendmsg_fn)shim_real("sendmsg"))))
        return real(fd, v, n, flags);
    if (v[0].msg_hdr.msg_name)
        fast_open(fd, flags, v[0].msg_hdr.msg_name, v[0].msg_hdr.msg_namelen);
    if (!shim_guarded(fd))
        return real(fd, v, n, flags);
    unsigned i = 0;
    for (; i < n; i++) {
        ssize_t r = guarded_sendmsg(one, fd, &v[i].msg_hdr, flags);
        if (r < 0)
            return i ? (int)i : -1;
        v[i].msg_len = (unsigned)r;
    }
    return (int)i;
}

/* Bytes that go from a file or a pipe straight into the socket cannot be
 * read by the guard first: on a connection where clear text is restricted,
 * they end it. */
static bool opaque_refused(int fd, const char *how)
{
    return shim_guarded(fd) && shim_conn_refuse_opaque(fd, how) < 0;
}

SHIM_EXPORT ssize_t sendfile(int out, int in, off_t *offset, size_t count)
{
    REAL("sendfile", ssize_t(*)(int, int, off_t *, size_t));
    if (opaque_refused(out, "sendfile() onto an SMTP connection before TLS was verified (the "
                            "bytes cannot be read before they leave)"))
        return -1;
    return real(out, in, offset, count);
}

SHIM_EXPORT ssize_t sendfile64(int out, int in, off64_t *offset, size_t count)
{
    REAL("sendfile64", ssize_t(*)(int, int, off64_t *, size_t));
    if (opaque_refused(out, "sendfile() onto an SMTP connection before TLS was verified (the "
                            "bytes cannot be read before they leave)"))
        return -1;
    return real(out, in, offset, count);
}

SHIM_EXPORT ssize_t splice(int in, loff_t *off_in, int out, loff_t *off_out, size_t len,
                           unsigned flags)
{
    REAL("splice", ssize_t(*)(int, loff_t *, int, loff_t *, size_t, unsigned));
    if (opaque_refused(out, "splice() onto an SMTP connection before TLS was verified (the "
                            "bytes cannot be read before they leave)"))
        return -1;
    return real(in, off_in, out, off_out, len, flags);
}
