/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hook: mxverify inside programs that were not built for it, through one
 * mechanism shared by the preload shim and the OpenSSL provider
 * (shared/design/openssl-hooks.md): an SSL_CTX ex_data "new" callback that
 * gives every SSL_CTX created afterwards mxverify's cert-verify callback and
 * a ClientHello callback that re-decides resumed sessions.
 *
 * On a connection in scope (a TLS client on a TCP socket whose peer port is
 * in `ports`) the policy decides as in ssl_verify.c; everything else goes
 * through OpenSSL exactly as without mxverify.
 *
 * This header is also read by the shim, which links no OpenSSL: it only
 * uses the plain types below and reaches the engine through one dlsym() of
 * its entry point, MXV_PRELOAD_ENGINE.
 */
#ifndef MXV_HOOK_H
#define MXV_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#define MXV_HOOK_API_VERSION 9
/* The entry point carries the version in its name: a shim loaded before
 * an upgrade, and an engine loaded after it (Postfix's smtp processes
 * outlive a package upgrade), find no entry point in each other, where
 * they would otherwise read each other's structures at another layout
 * (the engine installs its hooks, which call the shim's callbacks, before
 * the shim can compare versions). */
#define MXV_PRELOAD_ENGINE      mxv_preload_engine_v9
#define MXV_PRELOAD_ENGINE_NAME "mxv_preload_engine_v9"
_Static_assert(MXV_HOOK_API_VERSION == 9, "rename MXV_PRELOAD_ENGINE (and libmxverify.map)");

/* What the host program itself revealed about one connection (filled by the
 * shim from the program's DNS lookups; "" when unknown). */
typedef struct {
    char domain[256]; /* the domain whose MX answer named the host */
    char host[256];   /* the name whose address lookup returned the peer IP */
} mxv_observed;

#define MXV_HELLO_RANDOM_LEN 32

/* Callbacks from the engine into the preload shim. */
typedef struct {
    /* What the program's DNS lookups say about the connection on fd. */
    bool (*observed)(int fd, mxv_observed *out);
    /* The engine decided the handshake whose ClientHello carries `random`
     * on socket fd: pass (TLS data may follow) or not (nothing but an
     * alert and QUIT may follow). */
    void (*decided)(int fd, const unsigned char random[MXV_HELLO_RANDOM_LEN], bool pass);
    /* The socket whose outgoing bytes carried the ClientHello with this
     * random (programs that give the SSL a BIO of their own: memory BIOs,
     * curl): -1 when no in-scope socket carried it. */
    int (*fd_of_hello)(const unsigned char random[MXV_HELLO_RANDOM_LEN]);
    /* A handshake of `library` ("openssl", a static string) runs on
     * in-scope socket fd: the tls= of the log line if the shim later
     * refuses that connection's TLS records. */
    void (*tls_started)(int fd, const char *library);
} mxv_hook_host;

typedef int (*mxv_cert_verify_fn)(void *x509_store_ctx, void *arg);

/* A client handshake of a TLS library mxverify does not reach through
 * OpenSSL (GnuTLS), on in-scope socket fd: what the server sent. */
typedef struct {
    int fd;
    const unsigned char *random;     /* the ClientHello random, MXV_HELLO_RANDOM_LEN octets */
    const char *library;             /* "gnutls": the log line's tls= */
    const char *server_name;         /* the name the program gave its library, or NULL */
    const unsigned char *const *der; /* the certificates, DER, leaf first */
    const size_t *der_len;
    size_t n;
    bool resumed; /* a resumption: the certificates the session kept */
} mxv_hook_chain;

typedef enum {
    MXV_CHAIN_UNTOUCHED, /* nothing to decide here: the program's own checks alone */
    MXV_CHAIN_PASS,      /* decided: the handshake may complete */
    MXV_CHAIN_FAIL,      /* decided: the handshake must fail */
} mxv_chain_verdict;

/* How much of a connection the shim guards (core/guard.h levels).
 * PUBLISHED (DANE or MTA-STS on): TLS data only after a pass decision, and
 * clear text beyond the greeting only when the engine, asked then, finds
 * no policy of the destination that makes TLS mandatory. */
typedef enum {
    MXV_HOOK_WATCH,
    MXV_HOOK_REQUIRE_TLS,
    MXV_HOOK_REQUIRE_VERIFIED,
    MXV_HOOK_PUBLISHED,
} mxv_hook_level;

/* Why the shim ended a connection, for the engine's log line. */
typedef struct {
    const char *domain, *host, *ip; /* NULL when unknown */
    bool no_decision;               /* TLS data without a pass decision (else: clear text) */
    const char *why;                /* the guard's reason */
    const char *line;               /* the refused line's start, "" when not a line */
    const char *reason;             /* the RFC 8460 result, when the engine gave one */
    const char *policy;             /* "dane" or "sts": the policy whose answer it was */
    int fd;                         /* the connection's socket (its session id), or -1 */
    const char *library;            /* no_decision: "openssl" or "gnutls" (the log line's
                                       tls=), NULL when it cannot be told */
} mxv_hook_refusal;

/* What the engine offers the preload shim. */
typedef struct {
    int version; /* MXV_HOOK_API_VERSION */
    /* Does the policy apply to TCP connections to this peer port? */
    bool (*port_in_scope)(unsigned port);
    /* A new in-scope connection to ip:port: starts gathering DNS evidence
     * in the background. Returns how much the destination's setting
     * guards. */
    mxv_hook_level (*connected)(const char *domain, const char *host, const char *ip,
                                unsigned port);
    /* A connection at MXV_HOOK_PUBLISHED is about to send clear text
     * beyond the greeting: may it (no DANE for the host, no enforced
     * MTA-STS policy for the domain)? true: yes, and *level is what the
     * destination's setting guards from now on; false: no (TLS is
     * mandatory, or DANE's evidence could not be had), `why`, *reason (a
     * static RFC 8460 result) and *policy ("dane" or "sts") say why. May
     * wait for DNS and a policy fetch. */
    bool (*clear_text)(const char *domain, const char *host, const char *ip, unsigned port,
                       mxv_hook_level *level, char *why, size_t whylen, const char **reason,
                       const char **policy);
    /* The program asked DNS for the MX of `domain`: look it up too.
     * `records` (n of them, NULL when not known) is the whole MX RRset
     * the program received from the system resolver (owner `domain`, no
     * alias), with prefs[i] the preference of records[i] (lower case, no
     * trailing dot) and `ttl` the smallest TTL in seconds: evidence under
     * core/program_dns.h's rules. `authenticated`: the answer carried the
     * AD bit and resolv.conf says trust-ad. */
    void (*mx_lookup_seen)(const char *domain, const unsigned *prefs, const char *const *records,
                           size_t n, unsigned ttl, bool authenticated);
    /* The shim refused bytes on an in-scope connection: one log line. */
    void (*refused)(const mxv_hook_refusal *r);
    /* The program is about to chroot(): load what deciding needs from the
     * file system (resolver, trust anchors, libraries) while it is there. */
    void (*before_chroot)(void);
    /* The program's own SSL_CTX_set_cert_verify_callback(). Returns false
     * when mxverify does not hook `ctx`: call the real function. */
    bool (*set_program_cert_verify)(void *ssl_ctx, mxv_cert_verify_fn cb, void *arg);
    /* Decides the handshake (policy.md, as for OpenSSL programs), logs it
     * and tells the shim's guard. *replace_name: the policy's identity
     * stands for the program's own host-name check (a verifying mode, as
     * for OpenSSL programs, where the program's name is cleared). */
    mxv_chain_verdict (*decide_chain)(const mxv_hook_chain *chain, bool *replace_name);
    /* Trust anchors the program gave its TLS library (a GnuTLS program's
     * own CA file, directory, or certificates in memory, PEM or DER):
     * added to those decisions use, beside the system's and ca_file's.
     * false when they could not be read. */
    bool (*program_anchors)(const char *path, bool directory, const void *data, size_t len,
                            bool pem);
} mxv_hook_api;

#if defined(MXV_BUILDING)
#define MXV_PRIVATE_API __attribute__((visibility("default")))
#else
#define MXV_PRIVATE_API
#endif

/*
 * For the preload shim: loads the policy (MXVERIFY_CONF or
 * /etc/mxverify.conf, then MXVERIFY_*), installs the hook when any
 * destination has a mode other than none, and returns the entry points.
 * NULL (with err) only when the engine cannot run at all. A broken policy
 * is not NULL: it is logged once and in-scope connections fail closed.
 */
MXV_PRIVATE_API const mxv_hook_api *MXV_PRELOAD_ENGINE(const mxv_hook_host *host, char *err,
                                                       size_t errlen);

struct mxv_policy;
/*
 * For the provider: installs the hook with `policy` (taken over; NULL with
 * `broken` set means "fail closed, because ..."). Idempotent: the first
 * caller in a process wins (shim and provider both loaded = one hook).
 */
MXV_PRIVATE_API int mxv_hook_install(struct mxv_policy *policy, const char *broken, char *err,
                                     size_t errlen);

/*
 * The same, for settings that cannot be used (`broken` says why): in-scope
 * connections fail closed. Scope: MXVERIFY_PORTS (which overrides), else
 * the `ports` value given (a provider section's, may be NULL); when neither
 * is given or the one that counts cannot be read, every TCP port.
 */
MXV_PRIVATE_API int mxv_hook_install_broken(const char *broken, const char *ports, char *err,
                                            size_t errlen);

/*
 * For the provider, whose settings cannot always be checked when it starts
 * (a program that loaded an openssl.cnf of its own): in-scope connections
 * fail closed, saying `why`, until mxv_hook_release() (the configuration
 * module checked the section OpenSSL loaded) or, with `broken` set, for
 * good (the check found a mistake).
 */
MXV_PRIVATE_API void mxv_hook_hold(const char *why);
MXV_PRIVATE_API void mxv_hook_release(const char *broken);

#endif
