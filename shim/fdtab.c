/*
 * fdtab: what the shim knows about each descriptor number (see shim.h),
 * for any descriptor a process can have (up to 2^31): a three-level radix
 * table of 1024-entry pages, made at the first entry written into them, so
 * a program that never connects maps nothing, and one with a socket at
 * 70000 maps three pages. Pages are never freed, so a reader needs no lock:
 * it loads pointers and an entry, each atomically.
 */
#include "shim.h"

#include <stdlib.h>

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

bool shim_fd_set(int fd, uintptr_t entry)
{
    if (fd < 0)
        return false;
    unsigned u = (unsigned)fd;
    root *r = atomic_load_explicit(&table, memory_order_acquire);
    if (!r) {
        if (entry == SHIM_FD_UNKNOWN)
            return true; /* nothing to forget */
        if (!(r = calloc(1, sizeof(*r))))
            return false;
        atomic_store_explicit(&table, r, memory_order_release);
    }
    _Atomic(mid *) *mslot = &r->p[u >> (2 * BITS)];
    mid *m = atomic_load_explicit(mslot, memory_order_acquire);
    if (!m) {
        if (entry == SHIM_FD_UNKNOWN)
            return true;
        if (!(m = calloc(1, sizeof(*m))))
            return false;
        atomic_store_explicit(mslot, m, memory_order_release);
    }
    _Atomic(leaf *) *lslot = &m->p[(u >> BITS) & (PAGE - 1)];
    leaf *l = atomic_load_explicit(lslot, memory_order_acquire);
    if (!l) {
        if (entry == SHIM_FD_UNKNOWN)
            return true;
        if (!(l = calloc(1, sizeof(*l))))
            return false;
        atomic_store_explicit(lslot, l, memory_order_release);
    }
    atomic_store_explicit(&l->e[u & (PAGE - 1)], entry, memory_order_release);
    if (fd > atomic_load_explicit(&high, memory_order_relaxed))
        atomic_store_explicit(&high, fd, memory_order_relaxed);
    return true;
}
