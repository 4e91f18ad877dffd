/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fdtab: what the shim knows about each descriptor number (see shim.h),
 * for any descriptor a process can have (up to 2^31): a three-level radix
 * table of 1024-entry pages, made at the first entry written into them, so
 * a program that never connects maps nothing, and one with a socket at
 * 70000 maps three pages. Pages are never freed, so a reader needs no lock:
 * it loads pointers and an entry, each atomically. Pages come from mmap(),
 * not malloc(): a descriptor first written to inside a signal handler
 * (the self-pipe of an event loop) is classified there, and malloc() is
 * not async-signal-safe.
 */
#include "shim.h"

#include <sys/mman.h>

#define BITS  SHIM_FD_BITS
#define PAGE  SHIM_FD_PAGE
#define ROOTS SHIM_FD_ROOTS
typedef shim_fd_leaf leaf;
typedef shim_fd_mid mid;
typedef shim_fd_root root;
#define table shim_fd_table

_Atomic(root *) shim_fd_table;
static atomic_int high = -1; /* the highest descriptor ever given an entry */

int shim_fd_high(void)
{
    return atomic_load_explicit(&high, memory_order_relaxed);
}

static void *page(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p; /* zero-filled: every entry UNKNOWN */
}

bool shim_fd_set(int fd, uintptr_t entry)
{
    if (fd < 0)
        return false;
    unsigned u = (unsigned)fd;
    root *r = atomic_load_explicit(&table, memory_order_acquire);
    if (!r) {
        if (entry == SHIM_FD_UNKNOWN)
            return true; /* nothing to forget */
        if (!(r = page(sizeof(*r))))
            return false;
        atomic_store_explicit(&table, r, memory_order_release);
    }
    _Atomic(mid *) *mslot = &r->p[u >> (2 * BITS)];
    mid *m = atomic_load_explicit(mslot, memory_order_acquire);
    if (!m) {
        if (entry == SHIM_FD_UNKNOWN)
            return true;
        if (!(m = page(sizeof(*m))))
            return false;
        atomic_store_explicit(mslot, m, memory_order_release);
    }
    _Atomic(leaf *) *lslot = &m->p[(u >> BITS) & (PAGE - 1)];
    leaf *l = atomic_load_explicit(lslot, memory_order_acquire);
    if (!l) {
        if (entry == SHIM_FD_UNKNOWN)
            return true;
        if (!(l = page(sizeof(*l))))
            return false;
        atomic_store_explicit(lslot, l, memory_order_release);
    }
    atomic_store_explicit(&l->e[u & (PAGE - 1)], entry, memory_order_release);
    if (fd > atomic_load_explicit(&high, memory_order_relaxed))
        atomic_store_explicit(&high, fd, memory_order_relaxed);
    return true;
}

void shim_fd_forget(int fd)
{
    if (fd < 0)
        return;
    unsigned u = (unsigned)fd;
    root *r = atomic_load_explicit(&table, memory_order_acquire);
    mid *m = r ? atomic_load_explicit(&r->p[u >> (2 * BITS)], memory_order_acquire) : NULL;
    leaf *l =
        m ? atomic_load_explicit(&m->p[(u >> BITS) & (PAGE - 1)], memory_order_acquire) : NULL;
    if (l) /* no page: UNKNOWN already */
        atomic_store_explicit(&l->e[u & (PAGE - 1)], SHIM_FD_UNKNOWN, memory_order_release);
}
