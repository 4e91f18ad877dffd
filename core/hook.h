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
 * mxv_preload_engine().
 */
#ifndef MXV_HOOK_H
#define MXV_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#define MXV_HOOK_API_VERSION 1

/* What the host program itself revealed about one connection (filled by the
 * shim from the program's DNS lookups; "" when unknown). */
typedef struct {
    char domain[256]; /* the domain whose MX answer named the host */
    char host[256];   /* the name whose address lookup returned the peer IP */
} mxv_observed;

/* Callbacks from the engine into the preload shim. */
typedef struct {
    /* What the program's DNS lookups say about the connection on fd. */
    bool (*observed)(int fd, mxv_observed *out);
    /* TLS on fd was established (true) or refused by the policy (false). */
    void (*tls_state)(int fd, bool established);
    /* The socket an SSL writes to when libssl cannot say (the program gave
     * it a BIO of its own, as curl does): -1 when unknown. */
    int (*fd_of)(const void *ssl);
} mxv_hook_host;

typedef int (*mxv_cert_verify_fn)(void *x509_store_ctx, void *arg);

/* What the engine offers the preload shim. */
typedef struct {
    int version; /* MXV_HOOK_API_VERSION */
    /* Does the policy apply to TCP connections to this peer port? */
    bool (*port_in_scope)(unsigned port);
    /* A new in-scope connection: starts gathering DNS evidence in the
     * background. Returns true when the destination's setting forbids mail
     * in clear on it (the required modes, enforced). */
    bool (*connected)(const char *domain, const char *host, const char *ip);
    /* The program asked DNS for the MX of `domain`: look it up too. */
    void (*mx_lookup_seen)(const char *domain);
    /* The program sent MAIL FROM in clear where that is forbidden: log it. */
    void (*plaintext_refused)(const char *domain, const char *host, const char *ip);
    /* The program's own SSL_CTX_set_cert_verify_callback(). Returns false
     * when mxverify does not hook `ctx`: call the real function. */
    bool (*set_program_cert_verify)(void *ssl_ctx, mxv_cert_verify_fn cb, void *arg);
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
MXV_PRIVATE_API const mxv_hook_api *mxv_preload_engine(const mxv_hook_host *host, char *err,
                                                       size_t errlen);

struct mxv_policy;
/*
 * For the provider: installs the hook with `policy` (taken over; NULL with
 * `broken` set means "fail closed, because ..."). Idempotent: the first
 * caller in a process wins (shim and provider both loaded = one hook).
 */
MXV_PRIVATE_API int mxv_hook_install(struct mxv_policy *policy, const char *broken, char *err,
                                     size_t errlen);

#endif
