/*
 * peek: reading the program's buffers without trusting them. The guard
 * reads what a program hands to write() before the kernel does; a buffer
 * the kernel would answer EFAULT for must not crash the shim, so it is
 * read with process_vm_readv() on the process itself, which reports an
 * unreadable page instead of faulting.
 */
#include "conn.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#define PEEK_IOVS 8 /* pieces of the program's iovecs read at once */

/* One process_vm_readv() of up to PEEK_IOVS pieces: the count read, -1 when
 * none, *asked what was asked. */
static ssize_t peek_some(pid_t pid, const struct iovec *iov, size_t n, size_t pos, char *dst,
                         size_t len, size_t *asked)
{
    size_t i = 0;
    while (i < n && pos >= iov[i].iov_len)
        pos -= iov[i].iov_len, i++;
    struct iovec remote[PEEK_IOVS];
    size_t k = 0, want = len;
    for (; i < n && want && k < PEEK_IOVS; i++, pos = 0) {
        size_t take = iov[i].iov_len - pos < want ? iov[i].iov_len - pos : want;
        if (take)
            remote[k++] =
                (struct iovec){.iov_base = (char *)iov[i].iov_base + pos, .iov_len = take};
        want -= take;
    }
    *asked = len - want;
    if (*asked == 0)
        return -1;
    struct iovec local = {.iov_base = dst, .iov_len = *asked};
    ssize_t got = process_vm_readv(pid, &local, 1, remote, k, 0);
    if (got >= 0 || (errno != ENOSYS && errno != EPERM))
        return got > 0 ? got : -1;
    /* No process_vm_readv here (a seccomp filter): an ordinary copy. */
    size_t done = 0;
    for (size_t j = 0; j < k; j++) {
        memcpy(dst + done, remote[j].iov_base, remote[j].iov_len);
        done += remote[j].iov_len;
    }
    return (ssize_t)done;
}

ssize_t shim_peek(pid_t pid, const struct iovec *iov, size_t n, size_t pos, void *dst, size_t len)
{
    int saved = errno;
    size_t done = 0;
    while (done < len) {
        size_t asked;
        ssize_t got = peek_some(pid, iov, n, pos + done, (char *)dst + done, len - done, &asked);
        if (got <= 0)
            break;
        done += (size_t)got;
        if ((size_t)got < asked)
            break; /* an unreadable piece */
    }
    errno = saved;
    return done ? (ssize_t)done : -1;
}
