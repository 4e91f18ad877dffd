/*
 * The preload shim: a thin layer that watches what an unmodified program
 * does (connects, DNS lookups, writes, SSL_CTX creation) and hands the
 * decisions to the engine (core/hook.c), loaded only when the program
 * turns out to do TLS or SMTP. It links no OpenSSL and no libunbound, so a
 * program that never uses them pays for a few pointer checks, nothing more.
 *
 * One file per group of interposed calls; each exported symbol resolves the
 * real function once, calls it, and passes what it saw to this layer.
 */
#ifndef MXV_SHIM_H
#define MXV_SHIM_H

#include "hook.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

/* The real function `name` (next in the search order; for OpenSSL symbols,
 * libssl itself when the caller loaded it privately, as Python does). */
void *shim_real(const char *name);

/* Re-entrancy guard: set while the shim itself calls into libc, OpenSSL or
 * the engine, so that those calls are passed straight through. */
extern __thread int shim_busy __attribute__((tls_model("initial-exec")));

/* The engine, loaded on first need (`load`), or NULL: not loaded yet, not
 * loadable, or nothing to do (mode none everywhere). */
const mxv_hook_api *shim_engine(bool load);
/* Is there a reason to load the engine at a connect to `port`? */
bool shim_engine_wanted(unsigned port);

/* --- connections (conns.c) --- */
void shim_conn_connected(int fd, const struct sockaddr *addr, socklen_t len);
void shim_conn_closed(int fd);
/* Fast check for the write path: false for every fd not being watched. */
bool shim_conn_watched(int fd);
/* Scans outgoing bytes of a watched fd; false: refuse them (connection ended). */
bool shim_conn_outgoing(int fd, const void *const *bufs, const size_t *lens, size_t n);
extern const mxv_hook_host shim_host;
/* The SSL whose handshake this thread is driving (SSL_connect() and
 * friends), to tie it to the socket its ClientHello goes out on. */
extern __thread const void *shim_current_ssl __attribute__((tls_model("initial-exec")));

/* --- what the program looked up in DNS (lookups.c) --- */
void shim_seen_addresses(const char *name, const struct sockaddr *const *addrs, size_t n);
void shim_seen_address_bytes(const char *name, int family, const void *addr);
void shim_seen_mx(const char *domain, const char *const *hosts, size_t n);
/* Fills out->domain/host for a connection to `ip` from this thread's lookups. */
bool shim_lookups_explain(int family, const void *ip, mxv_observed *out);

/* --- DNS answers (dns_answer.c): untrusted wire data --- */
typedef void (*shim_answer_cb)(void *arg, int rrtype, const uint8_t *rdata, size_t rdlen,
                               const uint8_t *msg, size_t msglen);
/* Calls cb for each answer record of a DNS response; false when malformed. */
bool shim_dns_answer_walk(const uint8_t *msg, size_t len, shim_answer_cb cb, void *arg);
/* An uncompressed-or-compressed name at `at` in `msg`, lower case, no
 * trailing dot; false when malformed. */
bool shim_dns_name(const uint8_t *msg, size_t len, size_t at, char *out, size_t outlen);

#endif
