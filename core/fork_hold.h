/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fork_hold: the locks the thread that calls fork() takes first, so that
 * no thread of mxverify's own (the prefetch worker, which also fetches
 * MTA-STS policies) is halfway through what they guard when the child's
 * copy of memory is made. POSIX fork() gives the child one thread; state
 * another thread left halfway, or a lock it held, stays so in the child
 * for ever, and the child is the host program itself (Exim forks its
 * transport right after its router's MX lookup woke the worker). Parent
 * and child release them after the fork.
 *
 * What each guards, in the order the forking thread takes them (a thread
 * holding one never takes an earlier one):
 * - UNBOUND: libunbound's process-wide state, which it guards with no lock
 *   of its own: one configuration parser (util/config_file.c
 *   config_read()), the log and configuration values that building a
 *   context and its first lookup (finalisation) set. Measured with
 *   libunbound 1.17: two threads reading a configuration at once both
 *   failed with syntax errors, and so did every later read in that
 *   process; a child forked while another thread read one crashed in its
 *   own read. Held around building a context, ub_resolve_async() and
 *   ub_ctx_delete() (dns.c).
 * - LIBS: loading libunbound, libcurl and libidn2 (dlopen() and their
 *   initialisation), and libcurl's global lock (curl_easy_init() and
 *   curl_easy_cleanup() take it) (lazy_libs.c, sts_fetch.c).
 * - PROGRAM_DNS: program_dns's table of the program's MX answers.
 * - SYSLOG: mxverify's syslog() calls: glibc's syslog lock is not reset
 *   in a child, whose next syslog() (mxverify's or the program's own)
 *   would wait for ever (log.c).
 *
 * Needs glibc 2.36 or later (Debian 12): before it, glibc held its own
 * lock of the fork handlers while they ran, and a library loaded under
 * LIBS that registers fork handlers in its constructor (GnuTLS, pulled in
 * by libcurl) would wait for it while the fork waited for LIBS.
 *
 * Not covered (no lock of theirs can be reached from here): libunbound's
 * own thread, which logs under libunbound's log lock (errors only at the
 * default verbosity) and validates DNSSEC with OpenSSL, whose locks a
 * child also inherits as they were; and OpenSSL in the worker's policy
 * fetches. A child that meets one held waits for ever.
 */
#ifndef MXV_FORK_HOLD_H
#define MXV_FORK_HOLD_H

typedef enum {
    MXV_FORK_LOCK_UNBOUND,
    MXV_FORK_LOCK_LIBS,
    MXV_FORK_LOCK_PROGRAM_DNS,
    MXV_FORK_LOCK_SYSLOG,
    MXV_FORK_LOCKS
} mxv_fork_lock_id;

/* Not recursive. A fork() by the thread that holds one (a host's signal
 * handler, a libunbound built without threads that forks its resolver)
 * does not wait for it. */
void mxv_fork_lock(mxv_fork_lock_id id);
void mxv_fork_unlock(mxv_fork_lock_id id);

#endif
