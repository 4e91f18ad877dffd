/* SPDX-License-Identifier: Apache-2.0 */
/*
 * peek: reading the program's buffers without trusting them. The guard
 * reads what a program hands to write() before the kernel does; a buffer
 * the kernel would answer EFAULT for must not crash the shim, so it is
 * read with process_vm_readv() on the process itself, which reports an
 * unreadable page instead of faulting; unless the process runs under a
 * seccomp filter, which may kill it for a system call it does not expect
 * (systemd's @system-service leaves process_vm_readv out): then the bytes
 * are read directly, as libc's own functions would.
 *
 * Bytes in the program's main heap are read directly too: glibc's heap
 * (the brk area) is mapped and readable from where it starts to the
 * current break (malloc never unmaps or protects pages inside it; the
 * kernel keeps it whole), and sbrk(0) gives the break glibc keeps without
 * a system call. A mail program's buffers live there (Postfix's streams,
 * OpenSSL's record buffers), and process_vm_readv() cost about 4 us a
 * write in smtp(8) (pinning the pages, with cold caches): a fifth of the
 * CPU mxverify added to it. Only a program that makes its own heap pages
 * unreadable or unmaps them (mprotect, munmap, MAP_FIXED), moves the
 * break behind libc's back (a raw brk system call), or writes from memory
 * it has freed and the allocator gave back could crash here where the
 * kernel would say EFAULT.
 */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define PEEK_IOVS 8 /* pieces of the program's iovecs read at once */

static atomic_int filtered = -1; /* not known yet */

/* Where the main heap started: the break when the shim was loaded (malloc
 * grows the heap upwards from the first break; anything the heap held
 * before is below and read the slow way). 0: unknown. */
static atomic_uintptr_t heap_start;

__attribute__((constructor)) static void peek_init(void)
{
    void *start = sbrk(0);
    atomic_store_explicit(&heap_start, start == (void *)-1 ? 0 : (uintptr_t)start,
                          memory_order_relaxed);
}

/* Every piece lies in the main heap, between its start and the current
 * break, read once for all of them. glibc's sbrk(0) reads the break it
 * keeps (a brk system call only to learn it the first time, or in a libc
 * of a dlmopen() namespace): no lock, safe in a signal handler. */
static bool all_in_heap(const struct iovec *piece, size_t k)
{
    uintptr_t lo = atomic_load_explicit(&heap_start, memory_order_relaxed);
    void *end = lo ? sbrk(0) : (void *)-1;
    if (end == (void *)-1)
        return false;
    uintptr_t hi = (uintptr_t)end;
    for (size_t j = 0; j < k; j++) {
        uintptr_t at = (uintptr_t)piece[j].iov_base;
        if (at < lo || at > hi || piece[j].iov_len > hi - at)
            return false;
    }
    return true;
}

/* "Seccomp:" of the thread's status: 0 none; anything else, or a status
 * that cannot be read (no /proc in a chroot), counts as a filter. */
static bool read_filtered(void)
{
    int saved = errno;
    int fd = open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    char buf[4096];
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
    if (fd >= 0)
        close(fd);
    errno = saved;
    if (n <= 0)
        return true;
    buf[n] = '\0';
    const char *field = strstr(buf, "\nSeccomp:");
    return !field || strtol(field + 10, NULL, 10) != 0;
}

bool shim_syscalls_filtered(void)
{
    int f = atomic_load_explicit(&filtered, memory_order_relaxed);
    if (f < 0) {
        f = read_filtered();
        atomic_store_explicit(&filtered, f, memory_order_relaxed);
    }
    return f != 0;
}

void shim_syscalls_filter_set(void)
{
    atomic_store_explicit(&filtered, 1, memory_order_relaxed);
}

/* Up to PEEK_IOVS pieces, read directly when all lie in the heap, else
 * with one process_vm_readv(): the count read, -1 when none, *asked what
 * was asked. */
static ssize_t peek_some(const struct iovec *iov, size_t n, size_t pos, char *dst, size_t len,
                         size_t *asked)
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
    if (!shim_syscalls_filtered() && !all_in_heap(remote, k)) {
        struct iovec local = {.iov_base = dst, .iov_len = *asked};
        ssize_t got = process_vm_readv(getpid(), &local, 1, remote, k, 0);
        if (got >= 0 || (errno != ENOSYS && errno != EPERM))
            return got > 0 ? got : -1;
    }
    /* The heap, a seccomp filter (or no process_vm_readv): an ordinary
     * copy. */
    size_t done = 0;
    for (size_t j = 0; j < k; j++) {
        memcpy(dst + done, remote[j].iov_base, remote[j].iov_len);
        done += remote[j].iov_len;
    }
    return (ssize_t)done;
}

ssize_t shim_peek(const struct iovec *iov, size_t n, size_t pos, void *dst, size_t len)
{
    int saved = errno;
    size_t done = 0;
    while (done < len) {
        size_t asked;
        ssize_t got = peek_some(iov, n, pos + done, (char *)dst + done, len - done, &asked);
        if (got <= 0)
            break;
        done += (size_t)got;
        if ((size_t)got < asked)
            break; /* an unreadable piece */
    }
    errno = saved;
    return done ? (ssize_t)done : -1;
}
