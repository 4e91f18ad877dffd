/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where descriptors come, go and change: connect() (a connection enters
 * scope), close() and close_range() (it leaves; in a vfork() child, which
 * has descriptors of its own in its parent's memory, nothing changes:
 * conns.c), the dup family (one more
 * descriptor names the same connection), descriptors received from another
 * process (SCM_RIGHTS, pidfd_getfd: unknown until looked at), kernel TLS turned on
 * (setsockopt TLS_TX), and chroot(), before which the engine loads what
 * it will need from the file system.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define REAL(name, type, fail)                                                                     \
    static __typeof__(type) real;                                                                  \
    if (!real && !(real = (type)shim_real(name))) {                                                \
        errno = ENOSYS;                                                                            \
        return fail;                                                                               \
    }

/* linux/tls.h, not included: it pulls in kernel headers the shim does not
 * otherwise need. */
#define SHIM_SOL_TLS 282
#define SHIM_TLS_TX  1

/* A connection starts at connect() returning 0, EINPROGRESS, or EINTR
 * (interrupted, it goes on in the background); connect() again reports
 * EALREADY or EISCONN on the same connection. */
static int connected(int fd, const struct sockaddr *addr, socklen_t len, int r)
{
    int e = errno;
    if (shim_busy || (r != 0 && e != EINPROGRESS && e != EINTR && e != EALREADY && e != EISCONN))
        return r;
    shim_busy++;
    shim_conn_connected(fd, addr, len, r == 0 || e == EINPROGRESS || e == EINTR);
    shim_busy--;
    errno = e;
    return r;
}

SHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    REAL("connect", int (*)(int, const struct sockaddr *, socklen_t), -1);
    return connected(fd, addr, len, real(fd, addr, len));
}

SHIM_EXPORT int __connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    REAL("__connect", int (*)(int, const struct sockaddr *, socklen_t), -1);
    return connected(fd, addr, len, real(fd, addr, len));
}

SHIM_EXPORT int close(int fd)
{
    REAL("close", int (*)(int), -1);
    shim_conn_closed(fd);
    return real(fd);
}

SHIM_EXPORT int __close(int fd)
{
    REAL("__close", int (*)(int), -1);
    shim_conn_closed(fd);
    return real(fd);
}

SHIM_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    REAL("close_range", int (*)(unsigned, unsigned, int), -1);
    int r = real(first, last, flags);
    if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
        shim_conn_closed_range(first, last);
    return r;
}

SHIM_EXPORT void closefrom(int low)
{
    static void (*real)(int);
    if (!real && !(real = (void (*)(int))shim_real("closefrom")))
        return;
    real(low);
    if (low >= 0)
        shim_conn_closed_range((unsigned)low, ~0u);
}

static int duplicated(int oldfd, int newfd)
{
    if (newfd >= 0) {
        int saved = errno;
        shim_conn_duplicated(oldfd, newfd);
        errno = saved;
    }
    return newfd;
}

SHIM_EXPORT int dup(int fd)
{
    REAL("dup", int (*)(int), -1);
    return duplicated(fd, real(fd));
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
    REAL("dup2", int (*)(int, int), -1);
    return duplicated(oldfd, real(oldfd, newfd));
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    REAL("dup3", int (*)(int, int, int), -1);
    return duplicated(oldfd, real(oldfd, newfd, flags));
}

/* fcntl's third argument is an int or a pointer: passed on as glibc reads
 * it, one machine word. */
static int fcntl_common(const char *name, int fd, int cmd, void *arg)
{
    static int (*real_fcntl)(int, int, ...), (*real_fcntl64)(int, int, ...);
    int (**slot)(int, int, ...) = name[5] ? &real_fcntl64 : &real_fcntl;
    if (!*slot && !(*slot = (int (*)(int, int, ...))shim_real(name))) {
        errno = ENOSYS;
        return -1;
    }
    int r = (*slot)(fd, cmd, arg);
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        return duplicated(fd, r);
    return r;
}

SHIM_EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common("fcntl", fd, cmd, arg);
}

SHIM_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common("fcntl64", fd, cmd, arg);
}

SHIM_EXPORT int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
    REAL("setsockopt", int (*)(int, int, int, const void *, socklen_t), -1);
    int r = real(fd, level, name, value, len);
    if (r == 0 && level == SHIM_SOL_TLS && name == SHIM_TLS_TX && !shim_busy)
        shim_conn_kernel_tls(fd);
    return r;
}

static void received(const struct msghdr *msg)
{
    if (!msg || !msg->msg_control || msg->msg_controllen == 0)
        return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
         c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char *data = CMSG_DATA(c);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, data + i * sizeof(int), sizeof(int));
            shim_conn_received(fd);
        }
    }
}

SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    REAL("recvmsg", ssize_t(*)(int, struct msghdr *, int), -1);
    ssize_t r = real(fd, msg, flags);
    if (r >= 0 && !shim_busy)
        received(msg);
    return r;
}

SHIM_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *t)
{
    REAL("recvmmsg", int (*)(int, struct mmsghdr *, unsigned, int, struct timespec *), -1);
    int r = real(fd, v, n, flags, t);
    for (int i = 0; i < r && !shim_busy; i++)
        received(&v[i].msg_hdr);
    return r;
}

/* A descriptor taken from another process: unknown until looked at. */
SHIM_EXPORT int pidfd_getfd(int pidfd, int targetfd, unsigned int flags)
{
    REAL("pidfd_getfd", int (*)(int, int, unsigned), -1);
    int r = real(pidfd, targetfd, flags);
    if (r >= 0 && !shim_busy)
        shim_conn_received(r);
    return r;
}

/* A seccomp filter set now may kill the process for a system call the
 * shim would otherwise make: from now on it makes none (conn.h). */
SHIM_EXPORT int prctl(int option, ...)
{
    va_list ap;
    va_start(ap, option);
    unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long),
                  a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
    va_end(ap);
    REAL("prctl", int (*)(int, ...), -1);
    if (option == PR_SET_SECCOMP)
        shim_syscalls_filter_set();
    return real(option, a2, a3, a4, a5);
}

/* syscall(): a filter loaded through it (libseccomp does so) is seen as
 * through prctl(); the calls the shim interposes (bytes to a socket, what
 * a descriptor names, kernel TLS, chroot) go through its own functions, which return and
 * set errno as syscall() does, so that a program that calls the kernel
 * through libc's syscall() is judged as one that calls write().
 * Six arguments are read whatever the call takes, as glibc's syscall()
 * does: the sixth lies in the caller's frame, which AddressSanitizer
 * reports when the caller passed fewer, hence no_sanitize. */
__attribute__((no_sanitize("address"))) SHIM_EXPORT long syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    REAL("syscall", long (*)(long, ...), -1);
    if (number == SYS_seccomp || (number == SYS_prctl && a[0] == PR_SET_SECCOMP))
        shim_syscalls_filter_set();
    void *p1 = (void *)a[1], *p3 = (void *)a[3], *p4 = (void *)a[4];
    switch (number) {
    case SYS_write:
        return write((int)a[0], p1, (size_t)a[2]);
    case SYS_writev:
        return writev((int)a[0], p1, (int)a[2]);
    case SYS_pwritev2: { /* fd, iov, n, offset (low word, high word), flags */
        off_t offset =
            sizeof(long) >= 8
                ? (off_t)a[3]
                : (off_t)((unsigned long long)(unsigned long)a[4] << 32 | (unsigned long)a[3]);
        return pwritev2((int)a[0], p1, (int)a[2], offset, (int)a[5]);
    }
    case SYS_sendto:
        return sendto((int)a[0], p1, (size_t)a[2], (int)a[3], p4, (socklen_t)a[5]);
    case SYS_sendmsg:
        return sendmsg((int)a[0], p1, (int)a[2]);
    case SYS_sendmmsg:
        return sendmmsg((int)a[0], p1, (unsigned)a[2], (int)a[3]);
    case SYS_sendfile:
        return sendfile((int)a[0], (int)a[1], (void *)a[2], (size_t)a[3]);
    case SYS_splice:
        return splice((int)a[0], p1, (int)a[2], p3, (size_t)a[4], (unsigned)a[5]);
    case SYS_connect:
        return connect((int)a[0], p1, (socklen_t)a[2]);
    case SYS_close:
        return close((int)a[0]);
    case SYS_close_range:
        return close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
    case SYS_fcntl:
        return fcntl((int)a[0], (int)a[1], a[2]);
    case SYS_setsockopt:
        return setsockopt((int)a[0], (int)a[1], (int)a[2], p3, (socklen_t)a[4]);
    case SYS_recvmsg:
        return recvmsg((int)a[0], p1, (int)a[2]);
    case SYS_recvmmsg:
        return recvmmsg((int)a[0], p1, (unsigned)a[2], (int)a[3], p4);
    case SYS_chroot:
        return chroot((const char *)a[0]);
    case SYS_dup:
        return dup((int)a[0]);
#ifdef SYS_dup2
    case SYS_dup2:
        return dup2((int)a[0], (int)a[1]);
#endif
    case SYS_dup3:
        return dup3((int)a[0], (int)a[1], (int)a[2]);
    case SYS_pidfd_getfd: { /* as pidfd_getfd(), which an older glibc lacks */
        long r = real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
        if (r >= 0 && !shim_busy)
            shim_conn_received((int)r);
        return r;
    }
    default:
        return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
}

/* daemon() points descriptors 0-2 at /dev/null with glibc's own dup2:
 * what the table said of them is forgotten (looked at afresh). */
SHIM_EXPORT int daemon(int nochdir, int noclose)
{
    REAL("daemon", int (*)(int, int), -1);
    int r = real(nochdir, noclose);
    if (r == 0 && !noclose)
        for (int fd = 0; fd <= 2; fd++)
            shim_conn_received(fd);
    return r;
}

SHIM_EXPORT int chroot(const char *path)
{
    REAL("chroot", int (*)(const char *), -1);
    if (!shim_busy && shim_settings_present()) {
        shim_syscalls_filtered(); /* read while /proc is there */
        shim_resolver_remember(); /* and /etc/resolv.conf */
        const mxv_hook_api *api = shim_engine(true);
        if (api) {
            shim_busy++;
            api->before_chroot();
            shim_busy--;
        }
    }
    return real(path);
}
