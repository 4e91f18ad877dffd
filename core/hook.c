/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hook: the policy for every SSL_CTX of a program that did not ask for it
 * (see hook.h). Installed once per process by the preload shim or the
 * provider, whichever comes first.
 *
 * Four points of every client handshake, all reached through an SSL_CTX
 * ex_data "new" callback that sets them on each SSL_CTX as it is made:
 *  - the ClientHello (a custom extension that is never sent): a session
 *    offered for resumption on a socket is decided again here;
 *  - the server's choice of cipher suite (the security callback,
 *    SSL_SECOP_CIPHER_CHECK): a suite without a certificate, or a
 *    resumption on a BIO of the program's own, is decided here (suites
 *    without a certificate are still offered when the program offers
 *    them: a server that prefers one is refused with a log line that says
 *    so, rather than failing in silence for want of a shared suite);
 *  - the certificate (the cert-verify callback): the decision;
 *  - the server's signature (SSL_SECOP_SIGALG_CHECK), after the
 *    certificate: a handshake that reached it with no decision (the program
 *    replaced the callback) fails here.
 * Every decision is reported to the shim (when it is there), whose guard
 * lets TLS data leave only after a pass (core/guard.h).
 *
 * Logs one line per decision (log.c); a policy that cannot be loaded is
 * logged once, then every in-scope connection fails closed.
 */
#include "hook_state.h"
#include "log.h"
#include "prefetch.h"
#include "recent_failures.h"
#include "ssl_verify.h"
#include "stderr_line.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* A private-use extension number, never sent: registering it is how
 * mxverify sees every ClientHello, where a resumption is offered. */
#define RESUMPTION_EXT_TYPE 0xfd5a

mxv_hook_state mxv_hook = {
    .lock = PTHREAD_MUTEX_INITIALIZER, .ctx_index = -1, .ssl_index = -1, .security_index = -1};

typedef int (*security_fn)(const SSL *, const SSL_CTX *, int, int, int, void *, void *);

/* What mxverify keeps per SSL_CTX. */
typedef struct {
    mxv_cert_verify_fn program_verify; /* the program's own cert-verify callback */
    void *program_arg;
    security_fn security; /* the security callback that was there before */
} ctx_hooks;

void mxv_hook_complain(const char *fmt, ...)
{
    char raw[768], line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    char *msg = mxv_log_printable(raw); /* a value with a newline forges nothing */
    if (!msg)
        return;
    int n = snprintf(line, sizeof(line), "mxverify: %s\n", msg);
    if (n > 0)
        mxv_stderr_line(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    mxv_log_syslog(LOG_MAIL | LOG_ERR, msg);
    free(msg);
}

bool mxv_hook_port_listed(unsigned port)
{
    if (mxv_hook.every_port)
        return true;
    mxv_effective e;
    mxv_policy_effective(mxv_hook.policy, NULL, &e);
    for (size_t i = 0; i < e.nports; i++)
        if (e.ports[i] == port)
            return true;
    return false;
}

/* The hooks of ctx: looked up a few times per handshake (the security
 * callback, some 350 calls, does without, see common_security). */
static ctx_hooks *hooks_of_ctx(const SSL_CTX *ctx)
{
    return ctx ? SSL_CTX_get_ex_data(ctx, mxv_hook.ctx_index) : NULL;
}

static ctx_hooks *hooks_of(const SSL *ssl)
{
    return ssl ? hooks_of_ctx(SSL_get_SSL_CTX(ssl)) : NULL;
}

static int run_program_verify(X509_STORE_CTX *x, SSL *ssl)
{
    ctx_hooks *h = hooks_of(ssl);
    return h && h->program_verify ? h->program_verify(x, h->program_arg) : X509_verify_cert(x);
}

static mxv_verify_ctx verify_ctx(SSL *ssl, int fd, mxv_observed *seen)
{
    ctx_hooks *h = hooks_of(ssl);
    bool have = mxv_hook.host && mxv_hook.host->observed && mxv_hook.host->observed(fd, seen);
    return (mxv_verify_ctx){
        .policy = mxv_hook.policy,
        .hooked = true,
        .program_verify = h ? h->program_verify : NULL,
        .program_arg = h ? h->program_arg : NULL,
        .observed = have ? seen : NULL,
        .fd = fd,
    };
}

/* Tells the shim's guard what was decided for this handshake. */
static void tell_host(SSL *ssl, int fd, bool pass)
{
    unsigned char random[MXV_HELLO_RANDOM_LEN];
    if (mxv_hook.host && mxv_hook.host->decided && fd >= 0 && mxv_ssl_random_note(ssl, random))
        mxv_hook.host->decided(fd, random, pass);
}

void mxv_hook_undecided_line(const char *ip, const char *tls, const char *why)
{
    mxv_hook_complain("verdict=fail ip=%s action=abort reason=validation-failure why=\"no "
                      "decision could be made (%s)\"%s%s",
                      ip && *ip ? ip : "-", why, tls ? " tls=" : "", tls ? tls : "");
}

/* A handshake that needed a decision and has none: failed, and said why. */
static void undecided(SSL *ssl, int fd, const char *why)
{
    char ip[64];
    mxv_peer_ip(fd, ip, sizeof(ip));
    mxv_hook_undecided_line(ip, "openssl", why);
    tell_host(ssl, fd, false);
}

/* After a decision (NULL: none could be made, out of memory): the shim
 * is told, a refused server remembered. */
static void decided(SSL *ssl, int fd, const mxv_decision *d)
{
    if (!d) {
        undecided(ssl, fd, "out of memory");
        return;
    }
    if (d->abort)
        mxv_recent_failure_add(d->ip, d->reason);
    tell_host(ssl, fd, !d->abort);
}

/* Makes a failure fatal even under SSL_VERIFY_NONE: libssl reads
 * verify_mode after the cert-verify callback returns. */
static int fail_handshake(X509_STORE_CTX *x, SSL *ssl, int error)
{
    X509_STORE_CTX_set_error(x, error);
    SSL_set_verify(ssl, SSL_VERIFY_PEER, SSL_get_verify_callback(ssl));
    return 0;
}

void mxv_hook_broken_line(const char *ip, const char *what, const char *tls)
{
    const char *value = secure_getenv("MXVERIFY_MODE");
    mxv_mode mode;
    bool clear = tls && strcmp(tls, "none") == 0;
    mxv_hook_complain("verdict=fail mode=%s domain=- ip=%s match=none chain=\"not checked\" "
                      "action=abort reason=%s why=\"configuration error: %s (%s refused)\"%s%s",
                      value && mxv_parse_mode(value, &mode) ? mxv_mode_name(mode) : "-",
                      ip && *ip ? ip : "-", clear ? "starttls-not-supported" : "validation-failure",
                      mxv_hook.broken, what, tls ? " tls=" : "", tls ? tls : "");
}

static void complain_broken(SSL *ssl, int fd, const char *what)
{
    char ip[64];
    mxv_peer_ip(fd, ip, sizeof(ip));
    mxv_hook_broken_line(ip, what, "openssl");
    tell_host(ssl, fd, false);
}

/* Several connections, and no way to tell which one this SSL uses: no IP,
 * no looked-up destination. The settings of the domain the caller gave
 * mxv_ssl_set(), else the configured or global ones: enforcing settings
 * fail closed, others proceed. Said once per handshake. */
static bool unknown_connection_refused(SSL *ssl)
{
    mxv_effective e;
    mxv_policy_effective(mxv_hook.policy, mxv_ssl_callers_domain(ssl), &e);
    bool enforce = mxv_enforces_verify(&e);
    if (mxv_hook_scope_untold_first(ssl))
        mxv_log_message(
            &e, LOG_WARNING,
            "verdict=fail mode=%s action=%s reason=validation-failure why=\"cannot tell "
            "which of the program's connections this TLS handshake belongs to (it uses a "
            "BIO of its own, and several connections sent data at once; the preload shim "
            "can tell)\" tls=openssl",
            mxv_mode_name(e.mode), enforce ? "abort" : "proceed");
    return enforce;
}

static int hooked_cert_verify(X509_STORE_CTX *x, void *arg)
{
    (void)arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    int fd = -1;
    mxv_scope scope = mxv_hook_scope(ssl, true, &fd);
    if (scope == MXV_SCOPE_OUT)
        return run_program_verify(x, ssl); /* untouched */
    if (mxv_hook.broken) {
        complain_broken(ssl, fd, "certificate");
        return fail_handshake(x, ssl, X509_V_ERR_APPLICATION_VERIFICATION);
    }
    if (scope != MXV_SCOPE_IN) {
        if (!unknown_connection_refused(ssl))
            return run_program_verify(x, ssl);
        return fail_handshake(x, ssl, X509_V_ERR_APPLICATION_VERIFICATION);
    }
    mxv_observed seen;
    memset(&seen, 0, sizeof(seen));
    mxv_verify_ctx v = verify_ctx(ssl, fd, &seen);
    int ok = mxv_ssl_verify(x, ssl, &v);
    if (mxv_ssl_decided_certificate(ssl)) {
        decided(ssl, fd, mxv_ssl_decision(ssl));
    } else if (!mxv_ssl_verified_nothing(ssl)) {
        /* No decision where the settings the check itself read (the
         * caller's domain first) ask for one: out of memory, or a path
         * that made none. Failed, whatever the program's checks said;
         * the line and the handshake's end say the same thing. */
        bool oom = X509_STORE_CTX_get_error(x) == X509_V_ERR_OUT_OF_MEM;
        undecided(ssl, fd,
                  oom ? "out of memory"
                      : "the destination's settings ask for one, the certificate check made none");
        return fail_handshake(x, ssl,
                              oom ? X509_V_ERR_OUT_OF_MEM : X509_V_ERR_APPLICATION_VERIFICATION);
    }
    return ok;
}

/* A session offered for resumption, on the connection on fd: libssl will
 * not call the cert-verify callback if the server accepts it, so the
 * session's chain is decided again for this connection's destination (a
 * verdict never travels from one domain, IP or mode to another). false:
 * refused. */
static bool resumption_allowed(SSL *ssl, int fd)
{
    SSL_SESSION *sess = SSL_get_session(ssl);
    X509 *leaf = sess ? SSL_SESSION_get0_peer(sess) : NULL;
    if (mxv_hook.broken) {
        complain_broken(ssl, fd, "session resumption");
        return false;
    }
    mxv_observed seen;
    memset(&seen, 0, sizeof(seen));
    mxv_verify_ctx v = verify_ctx(ssl, fd, &seen);
    mxv_decision *d = leaf ? mxv_ssl_decide_resumption(ssl, &v, leaf, SSL_get_peer_cert_chain(ssl))
                           : mxv_ssl_decide_uncertified(ssl, &v,
                                                        "a session without a certificate (an "
                                                        "anonymous one, or an external "
                                                        "pre-shared key) to resume");
    if (d)
        mxv_ssl_decided_for_session(ssl, sess);
    decided(ssl, fd, d);
    return d && !d->abort;
}

static bool keep_security(SSL *ssl);

/* Tells the shim whose handshake runs on in-scope socket fd. */
static void note_openssl(int fd)
{
    if (fd >= 0 && mxv_hook.host && mxv_hook.host->tls_started)
        mxv_hook.host->tls_started(fd, "openssl");
}

/* Every ClientHello, before it is written. On a socket, an offered session
 * is decided now. On a BIO of the program's own, the socket is not known
 * until the ClientHello has left: the provider notes what each connection
 * had sent so far (hook_scope.c), and a resumption is decided when the
 * server accepts it (server_choice below). Returning -1 ends the
 * handshake. Never adds the extension. */
static int client_hello(SSL *ssl, unsigned int type, unsigned int context,
                        const unsigned char **out, size_t *outlen, X509 *x, size_t chainidx,
                        int *al, void *arg)
{
    (void)type, (void)context, (void)out, (void)outlen, (void)x, (void)chainidx, (void)arg;
    if (!keep_security(ssl)) {
        *al = SSL_AD_INTERNAL_ERROR;
        return -1;
    }
    int fd = -1;
    mxv_scope scope = mxv_hook_scope(ssl, false, &fd);
    if (scope == MXV_SCOPE_NOT_YET && !mxv_hook.host)
        mxv_hook_scope_hello(ssl);
    if (scope == MXV_SCOPE_IN)
        note_openssl(fd);
    if (scope == MXV_SCOPE_IN || scope == MXV_SCOPE_NOT_YET)
        mxv_ssl_hello_written(ssl);
    if (scope != MXV_SCOPE_IN || !SSL_get_session(ssl) ||
        !SSL_SESSION_is_resumable(SSL_get_session(ssl)))
        return 0;
    /* The second ClientHello after a HelloRetryRequest (the same random)
     * offers the session decided at the first: one decision, one line. */
    if (mxv_ssl_decided_resumed_session(ssl))
        return 0;
    if (resumption_allowed(ssl, fd))
        return 0;
    *al = SSL_AD_HANDSHAKE_FAILURE;
    return -1;
}

/* RFC 8446 / 5246 suites that authenticate the server without a
 * certificate: anonymous (aNULL), pre-shared key, SRP. */
static bool certless(const SSL_CIPHER *c)
{
    int auth = c ? SSL_CIPHER_get_auth_nid(c) : NID_undef;
    return auth == NID_auth_null || auth == NID_auth_psk || auth == NID_auth_srp;
}

/* The settings for the destination of ssl's connection on fd. */
static void effective_for(SSL *ssl, int fd, mxv_effective *e)
{
    mxv_observed seen;
    memset(&seen, 0, sizeof(seen));
    /* The domain the caller gave mxv_ssl_set(), the configured recipient
     * domain, then the one the program looked up: as the decision takes
     * them (ssl_verify.c). */
    const char *callers = mxv_ssl_callers_domain(ssl);
    mxv_policy_effective(mxv_hook.policy, callers, e);
    if (callers || e->domain)
        return;
    bool have = mxv_hook.host && mxv_hook.host->observed && mxv_hook.host->observed(fd, &seen);
    if (have && seen.domain[0])
        mxv_policy_effective(mxv_hook.policy, seen.domain, e);
}

/* A handshake that reached a point with no certificate decision: decided
 * (and logged) as failed, with `why`. false: the handshake must end. */
static bool uncertified(SSL *ssl, int fd, const char *why)
{
    mxv_observed seen;
    memset(&seen, 0, sizeof(seen));
    mxv_verify_ctx v = verify_ctx(ssl, fd, &seen);
    mxv_decision *d = mxv_ssl_decide_uncertified(ssl, &v, why);
    decided(ssl, fd, d);
    return d && !d->abort;
}

/* Does the handshake offer a ticket that its ClientHello did not decide
 * (one not of the session the program set)? */
static bool undecided_ticket(SSL *ssl)
{
    const unsigned char *ticket = NULL;
    size_t len = 0;
    SSL_SESSION *sess = SSL_get_session(ssl);
    if (sess)
        SSL_SESSION_get0_ticket(sess, &ticket, &len);
    return len > 0 && !mxv_ssl_decided_resumed_session(ssl);
}

/* The server's choice, in its ServerHello. */
static int server_choice(SSL *ssl, const SSL_CIPHER *c)
{
    int fd;
    mxv_scope scope = mxv_hook_scope(ssl, true, &fd);
    if (scope == MXV_SCOPE_OUT)
        return 1;
    if (mxv_hook.broken) {
        complain_broken(ssl, fd, "handshake");
        return 0;
    }
    if (scope != MXV_SCOPE_IN)
        return !unknown_connection_refused(ssl);
    if (SSL_get_fd(ssl) < 0)
        note_openssl(fd); /* a BIO of the program's own: its socket is known now */
    if (certless(c)) {
        char why[160];
        snprintf(why, sizeof(why),
                 "the server chose a cipher suite without a certificate (%s): nothing to verify",
                 SSL_CIPHER_get_name(c));
        return uncertified(ssl, fd, why);
    }
    mxv_effective e;
    effective_for(ssl, fd, &e);
    /* Without the shim, nothing would notice a handshake that the program
     * took away from mxverify's callback and that has no later checkpoint
     * (no server signature: TLS before 1.2, or a TLS 1.2 key exchange
     * other than ephemeral Diffie-Hellman, which alone signs the
     * ServerKeyExchange: static RSA, RSA-PSK). */
    int kx = SSL_CIPHER_get_kx_nid(c);
    bool signs = kx == NID_kx_ecdhe || kx == NID_kx_dhe || kx == NID_kx_srp || /* SRP-RSA, -DSS */
                 kx == NID_kx_any;                                             /* TLS 1.3 */
    if (!mxv_hook.host && mxv_enforces_verify(&e) && !SSL_session_reused(ssl) &&
        (SSL_version(ssl) < TLS1_2_VERSION || !signs)) {
        char why[200];
        snprintf(why, sizeof(why),
                 "%s with %s has no server signature after the certificate, where mxverify "
                 "could check that its decision was made (use the preload shim, or let the "
                 "server choose a forward-secret suite)",
                 SSL_get_version(ssl), SSL_CIPHER_get_name(c));
        return uncertified(ssl, fd, why);
    }
    /* A resumption of a session its ClientHello did not decide: on a BIO
     * of the program's own (its socket is known now); a session the
     * program supplied while the ClientHello was being written, after
     * mxverify's look at it (a TLS 1.3 external pre-shared key, from
     * SSL_set_psk_use_session_callback() or a PSK client callback: custom
     * extensions are written first), alone or beside a ticket that was
     * decided (the server picks which it resumes); a session swapped in
     * after the ClientHello; or an SSL_CTX that could not get mxverify's
     * ClientHello hook (out of memory when it was made). */
    if (SSL_session_reused(ssl) && !mxv_ssl_decided_resumed_session(ssl))
        return resumption_allowed(ssl, fd);
    /* Before TLS 1.3 a ticket can also be offered outside any session
     * (SSL_set_session_ticket_ext() with a session secret callback, as
     * EAP-FAST does): OpenSSL learns that the server took it only when
     * its ChangeCipherSpec comes, after this point, and such a handshake
     * shows no certificate and signs nothing: no later checkpoint. */
    if (SSL_version(ssl) < TLS1_3_VERSION && !SSL_session_reused(ssl) && undecided_ticket(ssl))
        return uncertified(ssl, fd,
                           "a session ticket the program supplied outside a session "
                           "(SSL_set_session_ticket_ext): a resumption nothing could decide");
    return 1;
}

/* The server's signature, after its certificate: a full handshake that
 * reaches it undecided had mxverify's callback taken away. */
static int checkpoint(SSL *ssl)
{
    int fd;
    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (!peer || SSL_session_reused(ssl) || mxv_ssl_decided_certificate(ssl) ||
        mxv_ssl_verified_nothing(ssl))
        return 1;
    mxv_scope scope = mxv_hook_scope(ssl, true, &fd);
    if (scope == MXV_SCOPE_OUT)
        return 1;
    if (scope != MXV_SCOPE_IN && mxv_hook.broken) {
        complain_broken(ssl, fd, "handshake");
        return 0;
    }
    if (scope != MXV_SCOPE_IN)
        return !unknown_connection_refused(ssl);
    mxv_effective e;
    effective_for(ssl, fd, &e);
    if (mxv_mode_algorithm(e.mode) == MXV_ALG_NONE && !mxv_published_asked(&e) && !mxv_hook.broken)
        return 1;
    return uncertified(ssl, fd,
                       "the certificate was never shown to mxverify (the program replaced its "
                       "certificate-verify callback with SSL_CTX_set_cert_verify_callback)");
}

/* The security callback each SSL_CTX had before mxverify's: OpenSSL sets
 * its default while building the SSL_CTX, before ctx_new() runs, so it is
 * one function for all of them, kept here; the callback, which runs some
 * 350 times per handshake, then looks nothing up. Per SSL_CTX, or per SSL,
 * again once any had another (`mixed`): a security callback the program
 * set after mxverify's (SSL_CTX_set_security_callback() on the SSL_CTX,
 * or SSL_set_security_callback() on the SSL) is found at the ClientHello,
 * kept as that SSL's prior callback, and mxverify's put back in front of
 * it (see keep_security()). */
static _Atomic(security_fn) common_security;
static atomic_bool mixed_security;

static void note_security(security_fn prior)
{
    security_fn seen = NULL;
    if (!prior ||
        (!atomic_compare_exchange_strong(&common_security, &seen, prior) && seen != prior))
        atomic_store(&mixed_security, true);
}

/* The callback that was before mxverify's on the SSL_CTX of ssl (or on
 * ctx when there is no SSL); for an SSL_CTX that could not get its hooks
 * (out of memory, ctx_new()), the default every SSL_CTX starts with. */
static security_fn security_of(const SSL *ssl, const SSL_CTX *ctx)
{
    ctx_hooks *h = ssl ? hooks_of(ssl) : hooks_of_ctx(ctx);
    return h ? h->security : atomic_load(&common_security);
}

/* The SSL whose program-set callback (keep_security()) this thread runs.
 * Such a callback may call the one it replaced, mxverify's: that call
 * answers as the callback before mxverify's, without calling the
 * program's again (it would never end) and without the checkpoints (the
 * outer call makes them). */
static _Thread_local const SSL *in_program_security;

/* The prior callback's answer once callbacks differ (`mixed`): the
 * program's own for this SSL, else the SSL_CTX's; *reentered when this is
 * the program's callback calling mxverify's. Out of line, as the two
 * checkpoints below are: the callback itself stays a few instructions for
 * the hundreds of calls that are neither. */
static __attribute__((noinline)) int mixed_prior(const SSL *ssl, const SSL_CTX *ctx, int op,
                                                 int bits, int nid, void *other, void *ex,
                                                 bool *reentered)
{
    void *own = ssl ? SSL_get_ex_data(ssl, mxv_hook.security_index) : NULL;
    *reentered = own && ssl == in_program_security;
    if (!own || *reentered) {
        security_fn prior = security_of(ssl, ctx);
        return prior ? prior(ssl, ctx, op, bits, nid, other, ex) : 1;
    }
    const SSL *was = in_program_security;
    in_program_security = ssl;
    int ok = ((security_fn)own)(ssl, ctx, op, bits, nid, other, ex);
    in_program_security = was;
    return ok;
}

static __attribute__((noinline)) int client_security(SSL *ssl, int op, void *other)
{
    if (SSL_is_server(ssl))
        return 1;
    return op == SSL_SECOP_CIPHER_CHECK ? server_choice(ssl, other) : checkpoint(ssl);
}

/* The two checkpoints: the prior callback's say first, then mxverify's. */
static __attribute__((noinline)) int checkpoint_security(const SSL *ssl, const SSL_CTX *ctx, int op,
                                                         int bits, int nid, void *other, void *ex)
{
    bool reentered = false;
    int ok;
    if (atomic_load(&mixed_security)) {
        ok = mixed_prior(ssl, ctx, op, bits, nid, other, ex, &reentered);
    } else {
        security_fn prior = atomic_load(&common_security);
        ok = prior ? prior(ssl, ctx, op, bits, nid, other, ex) : 1;
    }
    if (!ok || !ssl || reentered)
        return ok;
    return client_security((SSL *)ssl, op, other);
}

/* Every other call is the prior callback's alone, passed on as a tail
 * call (the hundreds of calls per handshake cost a jump). */
static int security(const SSL *ssl, const SSL_CTX *ctx, int op, int bits, int nid, void *other,
                    void *ex)
{
    if (op == SSL_SECOP_CIPHER_CHECK || op == SSL_SECOP_SIGALG_CHECK)
        return checkpoint_security(ssl, ctx, op, bits, nid, other, ex);
    if (atomic_load(&mixed_security)) {
        bool reentered;
        return mixed_prior(ssl, ctx, op, bits, nid, other, ex, &reentered);
    }
    security_fn prior = atomic_load(&common_security);
    return prior ? prior(ssl, ctx, op, bits, nid, other, ex) : 1;
}

/* At each ClientHello: a security callback the program set after
 * mxverify's took its place, and with it the checks at the server's
 * choice and at its signature (a handshake with no decision passed them
 * unseen). The program's becomes this SSL's prior callback, which still
 * has its say first at every call, and mxverify's goes back in front.
 * false (the handshake fails) when it cannot be kept. */
static bool keep_security(SSL *ssl)
{
    security_fn now = SSL_get_security_callback(ssl);
    if (now == security || SSL_is_server(ssl))
        return true;
    /* A function kept as a data pointer: POSIX dlsym() makes the same
     * promise. */
    if (!SSL_set_ex_data(ssl, mxv_hook.security_index, (void *)now))
        return false;
    atomic_store(&mixed_security, true);
    SSL_set_security_callback(ssl, security);
    return true;
}

static void ctx_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)ptr, (void)ad, (void)idx, (void)argl, (void)argp;
    SSL_CTX *ctx = parent;
    if (!ctx)
        return;
    /* Only fields are set: the SSL_CTX is still being built (its cert,
     * with the security callback, already is). Out of memory here leaves
     * no handshake unwatched: the security callback is set whatever
     * happens (without hooks its prior is the one every SSL_CTX starts
     * with, see security_of()), and a resumption that the ClientHello hook
     * (the custom extension) did not decide is decided at the server's
     * choice (server_choice()). */
    security_fn prior = SSL_CTX_get_security_callback(ctx);
    note_security(prior);
    ctx_hooks *h = calloc(1, sizeof(*h));
    if (h) {
        h->security = prior;
        if (!CRYPTO_set_ex_data(ad, mxv_hook.ctx_index, h))
            free(h);
    }
    SSL_CTX_set_security_callback(ctx, security);
    SSL_CTX_set_cert_verify_callback(ctx, hooked_cert_verify, NULL);
    SSL_CTX_add_custom_ext(ctx, RESUMPTION_EXT_TYPE, SSL_EXT_TLS_ONLY | SSL_EXT_CLIENT_HELLO,
                           client_hello, NULL, NULL, NULL, NULL);
}

static void ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    free(ptr);
}

/* The parent's libunbound context (its threads, its sockets), trust
 * store and MTA-STS cache (their locks) are not the child's to use: leave
 * them, build anew (a shared sts_cache file keeps what the parent
 * fetched). */
static void after_fork_child(void)
{
    mxv_policy *p = mxv_hook.policy;
    if (p) {
        pthread_mutex_init(&p->lock, NULL);
        p->dns = NULL;
        p->store = NULL;
        p->store_bundle_loaded = false;
        p->sts = NULL;
        pthread_mutex_init(&p->sts_fetch_lock, NULL);
    }
    mxv_prefetch_forget_after_fork();
    mxv_recent_failures_after_fork();
}

int mxv_hook_install(mxv_policy *policy, const char *broken, char *err, size_t errlen)
{
    pthread_mutex_lock(&mxv_hook.lock);
    if (mxv_hook.installed) {
        pthread_mutex_unlock(&mxv_hook.lock);
        mxv_policy_free(policy);
        return 1;
    }
    if (!policy && !(policy = mxv_policy_new())) {
        pthread_mutex_unlock(&mxv_hook.lock);
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    mxv_hook.ctx_index =
        CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL, ctx_new, NULL, ctx_free);
    mxv_hook.ssl_index = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, NULL, NULL,
                                                 mxv_hook_ssl_dup, mxv_hook_ssl_free);
    mxv_hook.security_index =
        CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, NULL, NULL, NULL, NULL);
    if (mxv_hook.ctx_index < 0 || mxv_hook.ssl_index < 0 || mxv_hook.security_index < 0) {
        pthread_mutex_unlock(&mxv_hook.lock);
        mxv_policy_free(policy);
        snprintf(err, errlen, "cannot register ex_data indexes");
        return 0;
    }
    mxv_hook.policy = policy;
    mxv_hook.broken = broken ? strdup(broken) : NULL;
    pthread_atfork(NULL, NULL, after_fork_child);
    mxv_hook.installed = true;
    pthread_mutex_unlock(&mxv_hook.lock);
    return 1;
}

int mxv_hook_install_broken(const char *broken, const char *ports, char *err, size_t errlen)
{
    /* The ports meant, when they were said and can be read (MXVERIFY_PORTS,
     * which overrides, else the section's); otherwise every TCP port: the
     * mistake may be in the very setting that named the ports (a broken
     * file's `ports`, a misspelt MXVERIFY_PORT), and failing closed must
     * not miss the connections the settings were written for. */
    mxv_policy *scope = mxv_policy_new();
    const char *env = secure_getenv("MXVERIFY_PORTS");
    const char *meant = env && *env ? env : ports;
    char ignored[256];
    if (!scope || !meant || !mxv_policy_set(scope, "ports", meant, ignored, sizeof(ignored)))
        mxv_hook.every_port = true;
    return mxv_hook_install(scope, broken, err, errlen);
}

void mxv_hook_hold(const char *why)
{
    pthread_mutex_lock(&mxv_hook.lock);
    if (mxv_hook.installed && !mxv_hook.broken) {
        mxv_hook.broken = strdup(why);
        mxv_hook.held = mxv_hook.broken != NULL;
    }
    pthread_mutex_unlock(&mxv_hook.lock);
}

/* The reason a held hook was broken, kept after its release (below). */
static char *retired_broken;

void mxv_hook_release(const char *broken)
{
    pthread_mutex_lock(&mxv_hook.lock);
    if (mxv_hook.held) {
        /* The held reason is kept, not freed: a handshake in another
         * thread may be formatting it now (the hook reads mxv_hook.broken
         * without the lock). One short string, held once per provider
         * load. Out of memory for the new reason: the held one stays, and
         * the hook stays closed. */
        char *now = broken ? strdup(broken) : NULL;
        if (broken && !now) {
            pthread_mutex_unlock(&mxv_hook.lock);
            return;
        }
        retired_broken = mxv_hook.broken;
        mxv_hook.broken = now;
        mxv_hook.held = false;
    } else if (broken && mxv_hook.installed && !mxv_hook.broken) {
        mxv_hook.broken = strdup(broken);
    }
    pthread_mutex_unlock(&mxv_hook.lock);
}

bool mxv_hook_set_program_verify(void *ssl_ctx, mxv_cert_verify_fn cb, void *arg)
{
    /* mxverify's own callback, being installed by ctx_new(): not the program's. */
    if (!mxv_hook.installed || !ssl_ctx || (void *)cb == (void *)hooked_cert_verify)
        return false;
    ctx_hooks *h = SSL_CTX_get_ex_data(ssl_ctx, mxv_hook.ctx_index);
    if (!h)
        return false;
    h->program_verify = cb;
    h->program_arg = cb ? arg : NULL;
    return true;
}
