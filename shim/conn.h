/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conn: one in-scope connection, as conns.c (which descriptors name it)
 * and send.c (what may leave on it) share it. Internal to the shim.
 */
#ifndef MXV_SHIM_CONN_H
#define MXV_SHIM_CONN_H

#include "shim.h"

#include <sys/stat.h>
#include <sys/uio.h>

typedef struct shim_conn {
    struct shim_conn *next, *prev; /* every live connection */
    unsigned refs;                 /* descriptors naming it */
    dev_t dev;
    ino_t ino;
    mxv_guard guard;
    bool refused;    /* ended by the shim: every later write fails */
    bool engineless; /* the engine could not be loaded: nothing passes */
    int last_fd;     /* the descriptor it was last used through */
    char ip[64];
    unsigned port;        /* the peer's */
    unsigned long serial; /* this record's number: a record freed and its
                             memory reused is another connection */
    mxv_observed seen;
    const char *library; /* whose TLS handshake ran on it ("openssl", "gnutls"), or NULL */
} shim_conn;

/*
 * The connections' lock. A thread never waits for it twice: when a signal
 * handler interrupts the shim while this thread holds it and the handler
 * writes, shim_conns_lock() returns false and the caller does without
 * (docs/decisions.md: signal handlers).
 */
bool shim_conns_lock(void);
void shim_conns_unlock(void);

/* Is this the process whose descriptors the table describes? false in a
 * child that shares the parent's memory but has descriptors of its own
 * (vfork(), posix_spawn(), clone(CLONE_VM)): its closes and dups must not
 * rewrite the parent's table. A child with memory of its own that was
 * made without fork()'s handlers (_Fork(), clone()) takes the table over. */
bool shim_table_mine(void);

static inline shim_conn *shim_conn_of(uintptr_t entry)
{
    return entry > SHIM_FD_PLAIN ? (shim_conn *)(entry & ~SHIM_FD_GUARDING) : NULL;
}

/* The guard level for what the engine says a connection needs. */
mxv_guard_level shim_guard_level(mxv_hook_level level);
/* Must its bytes still pass the guard? */
bool shim_conn_watching(const shim_conn *c);
/* The table entry for a descriptor naming c. */
uintptr_t shim_conn_entry(shim_conn *c);
/* With the lock: fd now holds `entry`; what it held before lets go. */
void shim_conn_set_locked(int fd, uintptr_t entry);
/* With the lock: the first live connection (then ->next). */
shim_conn *shim_conns_live(void);
/* Does fd still name c's socket? A descriptor closed behind the shim's
 * back (fclose(), freopen()) may name something else now. */
bool shim_conn_same_socket(int fd, const shim_conn *c);

/* Reads up to len octets at offset pos of the chunk iov[0..n) (the
 * process's own memory) into dst: the count read (fewer only where the
 * chunk ends or a piece cannot be read), or -1 when the first cannot be
 * read. errno unchanged (peek.c). */
ssize_t shim_peek(const struct iovec *iov, size_t n, size_t pos, void *dst, size_t len);

#endif
