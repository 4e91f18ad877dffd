/*
 * write(), send(), sendto(), sendmsg(), writev(): the bytes a program sends
 * on a connection whose setting requires TLS are looked at until TLS
 * starts; every other descriptor costs one array read.
 */
#include "shim.h"

#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*send_fn)(int, const void *, size_t, int);
typedef ssize_t (*sendto_fn)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);

#define REAL(name, type)                                                                           \
    static type real;                                                                              \
    if (!real && !(real = (type)shim_real(name))) {                                                \
        errno = ENOSYS;                                                                            \
        return -1;                                                                                 \
    }

static bool allowed(int fd, const void *buf, size_t len)
{
    if (shim_busy || !shim_conn_watched(fd))
        return true;
    const void *bufs[1] = {buf};
    return shim_conn_outgoing(fd, bufs, &len, 1);
}

static bool allowed_iov(int fd, const struct iovec *iov, size_t n)
{
    if (shim_busy || !shim_conn_watched(fd))
        return true;
    enum { MAX_IOV = 64 };
    const void *bufs[MAX_IOV];
    size_t lens[MAX_IOV];
    size_t k = n < MAX_IOV ? n : MAX_IOV;
    for (size_t i = 0; i < k; i++) {
        bufs[i] = iov[i].iov_base;
        lens[i] = iov[i].iov_len;
    }
    return shim_conn_outgoing(fd, bufs, lens, k);
}

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
    REAL("write", write_fn);
    return allowed(fd, buf, len) ? real(fd, buf, len) : -1;
}

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    REAL("send", send_fn);
    return allowed(fd, buf, len) ? real(fd, buf, len, flags) : -1;
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                           const struct sockaddr *to, socklen_t tolen)
{
    REAL("sendto", sendto_fn);
    return allowed(fd, buf, len) ? real(fd, buf, len, flags, to, tolen) : -1;
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    REAL("sendmsg", sendmsg_fn);
    return !msg || allowed_iov(fd, msg->msg_iov, msg->msg_iovlen) ? real(fd, msg, flags) : -1;
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
    REAL("writev", writev_fn);
    return n <= 0 || allowed_iov(fd, iov, (size_t)n) ? real(fd, iov, n) : -1;
}
