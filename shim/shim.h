/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The preload shim: a thin layer that watches what an unmodified program
 * does (connects, DNS lookups, every way it can write to a socket,
 * SSL_CTX creation) and hands the decisions to the engine (core/hook.c),
 * loaded only when the program turns out to do TLS or SMTP. It links no
 * OpenSSL and no libunbound, so a program that never uses them pays for a
 * few pointer checks, nothing more.
 *
 * One file per group of interposed calls; each exported symbol resolves the
 * real function once, calls it, and passes what it saw to this layer.
 */
#ifndef MXV_SHIM_H
#define MXV_SHIM_H

#include "guard.h"
#include "hook.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

/* A printf-style entry point that hands its arguments, as a va_list `ap`,
 * to the call `forward` (the matching v- function). `last` is the last
 * named parameter; the parameters follow. */
#define SHIM_VARIADIC(name, forward, last, ...)                                                    \
    SHIM_EXPORT int name(__VA_ARGS__, ...)                                                         \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, last);                                                                        \
        int r = forward;                                                                           \
        va_end(ap);                                                                                \
        return r;                                                                                  \
    }

/* The real function `name` (next in the search order; for OpenSSL symbols,
 * libssl itself when the caller loaded it privately, as Python does). */
void *shim_real(const char *name);

/* Re-entrancy guard: set while the shim itself calls into libc, OpenSSL or
 * the engine, so that those calls are passed straight through. */
extern __thread int shim_busy __attribute__((tls_model("initial-exec")));

/* --- the engine (engine.c) --- */
/* The engine, loaded on first need (`load`), or NULL: not loaded yet, not
 * loadable, or nothing to do (mode none everywhere). */
const mxv_hook_api *shim_engine(bool load);
/* Is there a reason to load the engine at a connect to `port`? */
bool shim_engine_wanted(unsigned port);
/* Is libssl in the process? The program's own, unless the engine (which
 * needs it too) was loaded and then could not start. */
bool shim_program_has_libssl(void);
/* The engine was needed and could not be loaded (or started). */
bool shim_engine_failed(void);
/* Does the process have mxverify settings at all (MXVERIFY_* variables or
 * a config file)? Without any, the shim changes nothing. */
bool shim_settings_present(void);
/* Without the engine: might the settings enforce TLS (an enforcing or
 * unreadable MXVERIFY_MODE, or a config file only the engine can read)? */
bool shim_settings_may_enforce(void);
/* Without the engine: might the settings put `port` in scope
 * (MXVERIFY_PORTS; else every port when a config file is there, whose
 * `ports` only the engine reads; else 25)? */
bool shim_failclosed_port(unsigned port);
/* One line on stderr and in the mail log, for what the engine cannot log. */
void shim_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Does the thread run under a seccomp filter (which may kill it for a
 * system call it did not expect)? Then the shim makes none beyond what
 * libc's own functions make (no process_vm_readv, no kcmp). Read once (peek.c);
 * prctl(PR_SET_SECCOMP) seen later sets it. */
bool shim_syscalls_filtered(void);
void shim_syscalls_filter_set(void);

/* --- the descriptor table (fdtab.c) ---
 * Per descriptor number, lock-free to read: UNKNOWN (never seen: maybe a
 * socket inherited across exec or received from another process), PLAIN
 * (not a connection mxverify watches), or a connection, tagged when its
 * outgoing bytes must pass the guard. Descriptors of any size. */
#define SHIM_FD_UNKNOWN  ((uintptr_t)0)
#define SHIM_FD_PLAIN    ((uintptr_t)1)
#define SHIM_FD_GUARDING ((uintptr_t)2)
#define SHIM_FD_BITS     10
#define SHIM_FD_PAGE     (1u << SHIM_FD_BITS)
#define SHIM_FD_ROOTS    (1u << (31 - 2 * SHIM_FD_BITS)) /* 2048 roots: every int >= 0 */
typedef struct {
    _Atomic uintptr_t e[SHIM_FD_PAGE];
} shim_fd_leaf;
typedef struct {
    _Atomic(shim_fd_leaf *) p[SHIM_FD_PAGE];
} shim_fd_mid;
typedef struct {
    _Atomic(shim_fd_mid *) p[SHIM_FD_ROOTS];
} shim_fd_root;
extern _Atomic(shim_fd_root *) shim_fd_table;

/* Inline: every write() of every program the shim is in reads it. */
static inline uintptr_t shim_fd_entry(int fd)
{
    shim_fd_root *r = atomic_load_explicit(&shim_fd_table, memory_order_acquire);
    if (!r || fd < 0)
        return SHIM_FD_UNKNOWN;
    unsigned u = (unsigned)fd;
    shim_fd_mid *m = atomic_load_explicit(&r->p[u >> (2 * SHIM_FD_BITS)], memory_order_acquire);
    shim_fd_leaf *l = m ? atomic_load_explicit(&m->p[(u >> SHIM_FD_BITS) & (SHIM_FD_PAGE - 1)],
                                               memory_order_acquire)
                        : NULL;
    return l ? atomic_load_explicit(&l->e[u & (SHIM_FD_PAGE - 1)], memory_order_acquire)
             : SHIM_FD_UNKNOWN;
}
/* Callers hold the connection lock (conns.c). false: out of memory. */
bool shim_fd_set(int fd, uintptr_t entry);
/* fd becomes UNKNOWN, without the lock and without allocating: for when
 * the lock cannot be had (a signal handler inside the shim). */
void shim_fd_forget(int fd);
/* The highest descriptor that was ever given an entry, or -1. */
int shim_fd_high(void);

/* --- connections (conns.c) --- */
/* connect() (or sendto() with MSG_FASTOPEN) on fd succeeded or is under
 * way. `fresh`: a connection starting now (connect() returned 0,
 * EINPROGRESS or EINTR); else (EALREADY, EISCONN, Fast Open on a socket
 * connecting) the one already recorded for the socket, if any, goes on. */
void shim_conn_connected(int fd, const struct sockaddr *addr, socklen_t len, bool fresh);
/* fd was closed; or every descriptor from `first` to `last`. */
void shim_conn_closed(int fd);
void shim_conn_closed_range(unsigned first, unsigned last);
/* newfd now names what oldfd names (dup, dup2, dup3, F_DUPFD). */
void shim_conn_duplicated(int oldfd, int newfd);
/* fd came from another process (SCM_RIGHTS): unknown until classified. */
void shim_conn_received(int fd);
/* The program turned kernel TLS on for sending on fd. */
void shim_conn_kernel_tls(int fd);

/* Must bytes written to fd pass the guard? Fast: false for every
 * descriptor that is not an in-scope connection still being guarded. A
 * descriptor never seen is looked at once (shim_settings_present only). */
bool shim_guarded_unknown(int fd);
extern bool shim_no_settings; /* known: no settings at all, nothing to guard */
static inline bool shim_guarded(int fd)
{
    if (shim_busy)
        return false;
    uintptr_t e = shim_fd_entry(fd);
    if (e > SHIM_FD_PLAIN)
        return (e & SHIM_FD_GUARDING) != 0;
    return e == SHIM_FD_UNKNOWN && !shim_no_settings && shim_guarded_unknown(fd);
}
/* The same, for stdio: only where clear text is restricted (not WATCH). */
bool shim_guarded_strictly(int fd);

/* Sends bytes on a guarded fd (send.c). Where clear text is restricted
 * the guard reads them through shim_peek() (an unreadable buffer is
 * EFAULT, as the kernel would say, never a crash, unless the program
 * broke its own heap: peek.c); a chunk up to 2 KiB is
 * judged and sent as a copy, a larger one judged where the guard reads it
 * and sent as it is. If the guard refuses, nothing is sent, the
 * connection is shut down (every descriptor and every later write fails)
 * and one line is logged. `send(arg, buf, len)` makes the program's real
 * call with those bytes instead of its own; with buf NULL, with its own,
 * at most len of them (SIZE_MAX: all). It returns what the call returns. */
typedef ssize_t (*shim_send_fn)(void *arg, const void *buf, size_t len);
ssize_t shim_conn_send(int fd, const struct iovec *iov, size_t n, shim_send_fn send, void *arg);
/* The same for stdio (hook_stdio.c): the bytes are judged where they are
 * (the stream's buffer and the call's data, under the stream's lock) and
 * send(arg, NULL, SIZE_MAX) writes them. */
ssize_t shim_conn_emit(int fd, const struct iovec *iov, size_t n, shim_send_fn send, void *arg);
/* Refuses a way of writing the guard cannot read (sendfile, splice, aio,
 * urgent data, wide-character stdio) on a connection where clear text is
 * restricted: -1 (ECONNABORTED) after ending the connection; 0 when it
 * is not refused (the caller goes on with the real call). */
ssize_t shim_conn_refuse_opaque(int fd, const char *how);

extern const mxv_hook_host shim_host;

/* --- stdio (hook_stdio.c) --- */
/* A standard stream's descriptor (0, 1, 2) now names a guarded connection:
 * what the stream buffered is judged now, and from now on it keeps nothing
 * back (as every stream writing to such a connection, from when the shim
 * first sees it) so that nothing waits in a buffer for a flush the shim
 * cannot see. */
void shim_stdio_std_attached(int fd);
/* The descriptor of a stream whose descriptor is a guarded connection
 * where clear text is restricted, or -1. */
int shim_stream_guarded(FILE *fp);

/* --- what the program looked up in DNS (lookups.c) --- */
void shim_seen_addresses(const char *name, const struct sockaddr *const *addrs, size_t n);
void shim_seen_address_bytes(const char *name, int family, const void *addr);
/* An MX answer: its first n targets; `more`: it had more than those. */
void shim_seen_mx(const char *domain, const char *const *hosts, size_t n, bool more);
/* Fills out->domain/host for a connection to `ip` from this thread's lookups. */
bool shim_lookups_explain(int family, const void *ip, mxv_observed *out);

/* --- the program's resolver state (resolver_state.c) --- */
/* The system resolver's name servers, read now: before a chroot, where
 * /etc/resolv.conf may not be the same. */
void shim_resolver_remember(void);
/* Does `st` (a res_state) name exactly the system resolver's name servers?
 * false when it cannot be told. *trust_ad: resolv.conf says `options
 * trust-ad` (the administrator trusts the resolver's AD bit). */
struct __res_state;
bool shim_resolver_is_system(const struct __res_state *st, bool *trust_ad);

/* --- DNS answers (dns_answer.c): untrusted wire data --- */
typedef struct {
    int rrtype, rrclass;
    unsigned ttl;         /* seconds */
    size_t owner;         /* offset of the owner name in the message */
    const uint8_t *rdata; /* inside the message */
    size_t rdlen;
} shim_rr;
typedef void (*shim_answer_cb)(void *arg, const shim_rr *rr, const uint8_t *msg, size_t msglen);
/* Calls cb for each answer record of a DNS response (RCODE NOERROR only);
 * false when malformed. */
bool shim_dns_answer_walk(const uint8_t *msg, size_t len, shim_answer_cb cb, void *arg);
/* The MX records of the answer to an MX query for `qname` (mx_answer.c). */
#define SHIM_MX_MAX 32 /* MXV_DNS_MAX_RECORDS */
typedef struct {
    const char *qname;
    const char *hosts[SHIM_MX_MAX]; /* lower case, no trailing dot; "" the null MX */
    unsigned prefs[SHIM_MX_MAX];
    size_t n;                     /* hosts[], prefs[] and names[] hold n each */
    bool more;                    /* MX records beyond those kept */
    bool whole;                   /* exactly the whole MX RRset of qname (class IN, not
                                     truncated, no alias, nothing else): evidence */
    bool authenticated;           /* the AD bit (glibc passes it only under trust-ad) */
    unsigned ttl;                 /* the smallest TTL of the MX records, seconds */
    char names[SHIM_MX_MAX][256]; /* last: not zeroed (8 KB, per MX answer) */
} shim_mx_rrset;
/* false when the message is malformed (out->n records were read). */
bool shim_mx_rrset_read(const char *qname, const uint8_t *msg, size_t len, shim_mx_rrset *out);
/* An uncompressed-or-compressed name at `at` in `msg` (libc's dn_expand),
 * lower case, no trailing dot, "" for the root; false when malformed. */
bool shim_dns_name(const uint8_t *msg, size_t len, size_t at, char *out, size_t outlen);

#endif
