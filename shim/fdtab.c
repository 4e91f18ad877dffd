/*
 * fdtab: what the shim knows about each descriptor number (see shim.h),
 * for any descriptor a process can have (up to 2^31): a three-level radix
 * table of 1024-entry pages, made at the first entry written into them, so
 * a program that never connects maps nothing, and one with a socket at
 * 70000 maps three pages. Pages are never freed, so a reader needs no lock:
 * it loads pointers and an entry, each atomically.
 */
#include "shim.h"

#include <stdatomic.h>
#include <stdlib.h>

#define BITS  10
#define PAGE  (1u << BITS)
#define ROOTS (1u << (31 - 2 * BITS)) /* 2048 roots cover every int >= 0 */

typedef struct {
    _Atomic uintptr_t e[PAGE];
} leaf;
typedef struct {
    _Atomic(leaf *) p[PAGE];
} mid;
typedef struct {
    _Atomic(mid *) p[ROOTS];
} root;

static _Atomic(root *) table;
static atomic_int high = -1; /* the highest descriptor ever given an entry */

int shim_fd_high(void)
{
    return atomic_load_explicit(&high, memory_order_relaxed);
}

uintptr_t shim_fd_entry(int fd)
{
    root *r = atomic_load_explicit(&table, memory_order_acquire);
    if (!r || fd < 0)
        return SHIM_FD_UNKNOWN;
    unsigned u = (unsigned)fd;
    mid *m = atomic_load_explicit(&r->p[u >> (2 * BITS)], memory_order_acquire);
    leaf *l =
        m ? atomic_load_explicit(&m->p[(u >> BITS) & (PAGE - 1)], memory_order_acquire) : NULL;
    return l ? atomic_load_explicit(&l->e[u & (PAGE - 1)], memory_order_acquire) : SHIM_FD_UNKNOWN;
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
