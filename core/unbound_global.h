/* SPDX-License-Identifier: Apache-2.0 */
/*
 * unbound_global: one lock around the libunbound calls that touch its
 * process-wide state, held across fork().
 *
 * libunbound keeps state for the whole process with no lock of its own:
 * ub_ctx_config() reads the file with one global parser (unbound's
 * util/config_file.c, config_read(); only the context's own lock is
 * taken), and building a context or finalising it at its first lookup
 * sets the global log and configuration values. Measured with libunbound
 * 1.17: two threads reading a configuration at once both fail with syntax
 * errors, and so does every later read in that process; a child forked
 * while another thread was reading one crashed in its own read (Exim's
 * transport, forked right after its router's MX lookup started
 * mxverify's prefetch thread). Under this lock one context is built at a
 * time, and fork() waits for the build under way, so a child starts from
 * a finished one.
 *
 * The resolution itself (libunbound's own thread) is not covered: it
 * uses the context's state, and a child never uses its parent's context.
 */
#ifndef MXV_UNBOUND_GLOBAL_H
#define MXV_UNBOUND_GLOBAL_H

/* Around loading libunbound, building a context (ub_ctx_create() to
 * ub_ctx_add_ta_file()), ub_resolve_async() (the first call finalises
 * the context) and ub_ctx_delete(). Not recursive; never call fork()
 * while holding it. */
void mxv_unbound_global_lock(void);
void mxv_unbound_global_unlock(void);

#endif
