/*
 * hook: the policy for every SSL_CTX of a program that did not ask for it
 * (see hook.h). Installed once per process by the preload shim or the
 * provider, whichever comes first.
 *
 * Logs one line per decision (log.c); a policy that cannot be loaded is
 * logged once, then every in-scope connection fails closed.
 */
#include "hook.h"
#include "log.h"
#include "policy.h"
#include "prefetch.h"
#include "recent_failures.h"
#include "ssl_verify.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

/* A private-use extension number, never sent: registering it is how
 * mxverify sees every ClientHello, where a resumption is offered. */
#define RESUMPTION_EXT_TYPE 0xfd5a

static struct {
    pthread_mutex_t lock;
    bool installed;
    mxv_policy *policy; /* never NULL once installed */
    char *broken;       /* why the policy could not be loaded: fail closed */
    const mxv_hook_host *host;
    int ctx_index;
} hook = {.lock = PTHREAD_MUTEX_INITIALIZER, .ctx_index = -1};

typedef struct {
    mxv_cert_verify_fn cb;
    void *arg;
} program_verify;

/* Messages that are not decisions, when the policy itself is unusable:
 * stderr and the mail log, since the configured sink may be what broke. */
static void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void complain(const char *fmt, ...)
{
    char msg[768], line[800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int n = snprintf(line, sizeof(line), "mxverify: %s\n", msg);
    if (n > 0) {
        ssize_t w = write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        (void)w;
    }
    syslog(LOG_MAIL | LOG_ERR, "mxverify: %s", msg);
}

static bool port_listed(unsigned port)
{
    mxv_effective e;
    mxv_policy_effective(hook.policy, NULL, &e);
    for (size_t i = 0; i < e.nports; i++)
        if (e.ports[i] == port)
            return true;
    return false;
}

/* The peer port of a connected TCP socket, 0 if fd is not one. */
static unsigned tcp_peer_port(int fd)
{
    int type = 0;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss), tlen = sizeof(type);
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

#define FD_SCAN_MAX 1024

/* The program gave the SSL a BIO of its own (curl does) and no shim tells
 * which socket it writes to: the one in-scope TCP connection the process
 * has. -2 when there are several (cannot tell), -1 when none. */
static int sole_in_scope_socket(void)
{
    int found = -1;
    for (int fd = 0; fd < FD_SCAN_MAX; fd++) {
        unsigned port = tcp_peer_port(fd);
        if (port && port_listed(port)) {
            if (found >= 0)
                return -2;
            found = fd;
        }
    }
    return found;
}

/* A TLS client on a TCP socket whose peer port is in `ports`. *fd_out is
 * -2 for "in scope, but which connection cannot be told". */
static bool in_scope(SSL *ssl, int *fd_out)
{
    if (!ssl || SSL_is_server(ssl))
        return false;
    int fd = SSL_get_fd(ssl);
    if (fd < 0 && hook.host && hook.host->fd_of)
        fd = hook.host->fd_of(ssl);
    if (fd < 0)
        fd = sole_in_scope_socket();
    *fd_out = fd;
    if (fd == -2)
        return true;
    unsigned port = tcp_peer_port(fd);
    return port && port_listed(port);
}

static program_verify *program_verify_of(SSL *ssl)
{
    SSL_CTX *ctx = ssl ? SSL_get_SSL_CTX(ssl) : NULL;
    return ctx ? SSL_CTX_get_ex_data(ctx, hook.ctx_index) : NULL;
}

static mxv_verify_ctx verify_ctx(SSL *ssl, int fd, mxv_observed *seen)
{
    program_verify *pv = program_verify_of(ssl);
    bool have = hook.host && hook.host->observed && hook.host->observed(fd, seen);
    return (mxv_verify_ctx){
        .policy = hook.policy,
        .hooked = true,
        .program_verify = pv ? pv->cb : NULL,
        .program_arg = pv ? pv->arg : NULL,
        .observed = have ? seen : NULL,
        .fd = fd,
    };
}

static void tell_host(int fd, bool established)
{
    if (hook.host && hook.host->tls_state)
        hook.host->tls_state(fd, established);
}

static int refuse_broken(X509_STORE_CTX *x, SSL *ssl, int fd)
{
    char ip[64];
    mxv_peer_ip(fd, ip, sizeof(ip));
    complain("verdict=fail ip=%s action=abort reason=validation-failure: configuration error "
             "(%s)",
             ip[0] ? ip : "-", hook.broken);
    X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
    SSL_set_verify(ssl, SSL_VERIFY_PEER, SSL_get_verify_callback(ssl));
    tell_host(fd, false);
    return 0;
}

/* Several in-scope connections and no way to tell which one this SSL uses:
 * no IP, no destination. Enforcing settings fail closed, others proceed. */
static bool unknown_connection_refused(void)
{
    mxv_effective e;
    mxv_policy_effective(hook.policy, NULL, &e);
    bool enforce = !e.report_only && (e.mode == MXV_MODE_REQUIRED_VERIFY ||
                                      e.mode == MXV_MODE_REQUIRED_VERIFY_HOSTED);
    mxv_log_message(&e, LOG_WARNING,
                    "verdict=fail mode=%s action=%s reason=validation-failure: cannot tell which "
                    "of several SMTP connections this TLS handshake belongs to (the program "
                    "uses its own BIO; the preload shim can tell)",
                    mxv_mode_name(e.mode), enforce ? "abort" : "proceed");
    return enforce;
}

static int refuse_unknown_connection(X509_STORE_CTX *x, SSL *ssl)
{
    if (!unknown_connection_refused()) {
        program_verify *pv = program_verify_of(ssl);
        return pv ? pv->cb(x, pv->arg) : X509_verify_cert(x);
    }
    X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
    SSL_set_verify(ssl, SSL_VERIFY_PEER, SSL_get_verify_callback(ssl));
    return 0;
}

static int hooked_cert_verify(X509_STORE_CTX *x, void *arg)
{
    (void)arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    int fd = -1;
    if (!in_scope(ssl, &fd)) {
        program_verify *pv = program_verify_of(ssl);
        return pv ? pv->cb(x, pv->arg) : X509_verify_cert(x); /* untouched */
    }
    if (hook.broken)
        return refuse_broken(x, ssl, fd);
    if (fd == -2)
        return refuse_unknown_connection(x, ssl);
    mxv_observed seen;
    memset(&seen, 0, sizeof(seen));
    mxv_verify_ctx v = verify_ctx(ssl, fd, &seen);
    int ok = mxv_ssl_verify(x, ssl, &v);
    const mxv_decision *d = mxv_ssl_decision(ssl);
    if (d && d->abort)
        mxv_recent_failure_add(d->ip, d->reason);
    tell_host(fd, !(d && d->abort));
    return ok;
}

/* Every ClientHello: when the program offers a stored session, libssl
 * will not call the cert-verify callback if the server accepts it, so the
 * session's chain is decided again here for this connection's destination
 * (a verdict never travels from one domain, IP or mode to another).
 * Returning -1 ends the handshake. Never adds the extension. */
static int resumption_check(SSL *ssl, unsigned int type, unsigned int context,
                            const unsigned char **out, size_t *outlen, X509 *x, size_t chainidx,
                            int *al, void *arg)
{
    (void)type, (void)context, (void)out, (void)outlen, (void)x, (void)chainidx, (void)arg;
    SSL_SESSION *sess = SSL_get_session(ssl);
    X509 *leaf = sess ? SSL_SESSION_get0_peer(sess) : NULL;
    int fd = -1;
    if (!leaf || !in_scope(ssl, &fd))
        return 0;
    if (fd == -2) {
        *al = SSL_AD_HANDSHAKE_FAILURE;
        return unknown_connection_refused() ? -1 : 0;
    }
    if (hook.broken) {
        complain("session resumption refused: configuration error (%s)", hook.broken);
        *al = SSL_AD_HANDSHAKE_FAILURE;
        return -1;
    }
    mxv_observed seen;
    memset(&seen, 0, sizeof(seen));
    mxv_verify_ctx v = verify_ctx(ssl, fd, &seen);
    mxv_decision *d = mxv_ssl_decide_resumption(ssl, &v, leaf, SSL_get_peer_cert_chain(ssl));
    if (!d || d->abort) {
        if (d)
            mxv_recent_failure_add(d->ip, d->reason);
        tell_host(fd, false);
        *al = SSL_AD_BAD_CERTIFICATE;
        return -1;
    }
    return 0;
}

static void ctx_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)ptr, (void)ad, (void)idx, (void)argl, (void)argp;
    SSL_CTX *ctx = parent;
    if (!ctx)
        return;
    /* Only fields are set: the SSL_CTX is still being built. */
    SSL_CTX_set_cert_verify_callback(ctx, hooked_cert_verify, NULL);
    SSL_CTX_add_custom_ext(ctx, RESUMPTION_EXT_TYPE, SSL_EXT_TLS_ONLY | SSL_EXT_CLIENT_HELLO,
                           resumption_check, NULL, NULL, NULL, NULL);
}

static void ctx_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    free(ptr);
}

/* The parent's libunbound context (its threads, its sockets) and trust
 * store (its locks) are not the child's to use: leave them, build anew. */
static void after_fork_child(void)
{
    mxv_policy *p = hook.policy;
    if (p) {
        pthread_mutex_init(&p->lock, NULL);
        p->dns = NULL;
        p->store = NULL;
        p->store_bundle_loaded = false;
    }
    mxv_prefetch_forget_after_fork();
    mxv_recent_failures_after_fork();
}

static bool any_mode(const mxv_policy *p)
{
    mxv_effective e;
    mxv_policy_effective(p, NULL, &e);
    if (e.mode != MXV_MODE_NONE)
        return true;
    for (size_t i = 0; i < p->ndests; i++)
        if ((p->dests[i].s.set & MXV_SET_MODE) && p->dests[i].s.mode != MXV_MODE_NONE)
            return true;
    return false;
}

int mxv_hook_install(mxv_policy *policy, const char *broken, char *err, size_t errlen)
{
    pthread_mutex_lock(&hook.lock);
    if (hook.installed) {
        pthread_mutex_unlock(&hook.lock);
        mxv_policy_free(policy);
        return 1;
    }
    if (!policy && !(policy = mxv_policy_new())) {
        pthread_mutex_unlock(&hook.lock);
        snprintf(err, errlen, "out of memory");
        return 0;
    }
    hook.ctx_index =
        CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, NULL, ctx_new, NULL, ctx_free);
    if (hook.ctx_index < 0) {
        pthread_mutex_unlock(&hook.lock);
        mxv_policy_free(policy);
        snprintf(err, errlen, "cannot register an SSL_CTX ex_data index");
        return 0;
    }
    hook.policy = policy;
    hook.broken = broken ? strdup(broken) : NULL;
    pthread_atfork(NULL, NULL, after_fork_child);
    hook.installed = true;
    pthread_mutex_unlock(&hook.lock);
    return 1;
}

/* --- the preload shim's entry points --- */

static bool active; /* a mode other than none somewhere, or a broken policy */

static bool api_port_in_scope(unsigned port)
{
    return active && port_listed(port);
}

static bool enforces_tls(const mxv_effective *e)
{
    return !e->report_only &&
           (e->mode == MXV_MODE_REQUIRED || e->mode == MXV_MODE_REQUIRED_VERIFY ||
            e->mode == MXV_MODE_REQUIRED_VERIFY_HOSTED);
}

static bool api_connected(const char *domain, const char *host, const char *ip)
{
    (void)host;
    if (hook.broken)
        return true;
    mxv_effective e;
    mxv_policy_effective(hook.policy, domain, &e);
    if (mxv_mode_algorithm(e.mode) != MXV_ALG_NONE)
        mxv_prefetch(hook.policy, domain ? domain : e.domain, ip);
    return enforces_tls(&e);
}

static void api_mx_lookup_seen(const char *domain)
{
    if (!active || hook.broken)
        return;
    mxv_effective e;
    mxv_policy_effective(hook.policy, domain, &e);
    if (mxv_mode_algorithm(e.mode) != MXV_ALG_NONE)
        mxv_prefetch(hook.policy, domain, NULL);
}

/* How long a refused certificate explains a later clear-text attempt to the
 * same address (Postfix retries in clear in the same delivery, within
 * seconds; its smtp processes live minutes). */
enum { RETRY_WINDOW_SECONDS = 3600 };

static void api_plaintext_refused(const char *domain, const char *host, const char *ip)
{
    if (hook.broken) {
        complain("verdict=fail ip=%s action=abort reason=starttls-not-supported: MAIL FROM in "
                 "clear refused (configuration error: %s)",
                 ip && *ip ? ip : "-", hook.broken);
        return;
    }
    char err[64];
    mxv_request *r = mxv_request_new();
    mxv_decision *d = mxv_decision_new();
    if (r && d) {
        if (domain)
            mxv_request_set(r, "domain", domain, err, sizeof(err));
        if (ip)
            mxv_request_set(r, "ip", ip, err, sizeof(err));
        mxv_effective e;
        mxv_decision_begin(d, hook.policy, r, &e);
        d->host = host ? strdup(host) : NULL;
        d->chain_error_text = strdup("not checked (no TLS)");
        d->reason = "starttls-not-supported";
        d->abort = true;
        mxv_decision_note(d, "MAIL FROM sent in clear under %s: connection ended",
                          mxv_mode_name(d->mode));
        const char *before;
        time_t age;
        char why[200];
        if (mxv_recent_failure_find(d->ip, RETRY_WINDOW_SECONDS, &before, &age))
            snprintf(why, sizeof(why),
                     "clear-text retry refused: this server's certificate was refused %llds ago "
                     "(%s)",
                     (long long)age, before);
        else
            snprintf(why, sizeof(why),
                     "MAIL FROM in clear refused: no TLS on this connection "
                     "(STARTTLS not offered, or not used by the program)");
        d->why = strdup(why);
        mxv_log_decision(&e, d);
    }
    mxv_decision_free(d);
    mxv_request_free(r);
}

static bool api_set_program_cert_verify(void *ssl_ctx, mxv_cert_verify_fn cb, void *arg)
{
    /* mxverify's own callback, being installed by ctx_new(): not the program's. */
    if (!hook.installed || !ssl_ctx || (void *)cb == (void *)hooked_cert_verify)
        return false;
    SSL_CTX *ctx = ssl_ctx;
    program_verify *pv = SSL_CTX_get_ex_data(ctx, hook.ctx_index);
    if (!cb) {
        SSL_CTX_set_ex_data(ctx, hook.ctx_index, NULL);
        free(pv);
        return true;
    }
    if (!pv && !(pv = calloc(1, sizeof(*pv))))
        return false;
    pv->cb = cb;
    pv->arg = arg;
    SSL_CTX_set_ex_data(ctx, hook.ctx_index, pv);
    return true;
}

static const mxv_hook_api api = {
    .version = MXV_HOOK_API_VERSION,
    .port_in_scope = api_port_in_scope,
    .connected = api_connected,
    .mx_lookup_seen = api_mx_lookup_seen,
    .plaintext_refused = api_plaintext_refused,
    .set_program_cert_verify = api_set_program_cert_verify,
};

/* A policy that cannot be loaded: the mode alone decides whether to fail
 * closed (an enforcing or unreadable mode) or to stay out of the way. */
static bool broken_mode_enforces(void)
{
    const char *value = secure_getenv("MXVERIFY_MODE");
    mxv_mode mode;
    if (!value || !mxv_parse_mode(value, &mode))
        return true;
    return mode == MXV_MODE_REQUIRED || mode == MXV_MODE_REQUIRED_VERIFY ||
           mode == MXV_MODE_REQUIRED_VERIFY_HOSTED;
}

const mxv_hook_api *mxv_preload_engine(const mxv_hook_host *host, char *err, size_t errlen)
{
    static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
    static bool done;
    pthread_mutex_lock(&once);
    if (done) {
        pthread_mutex_unlock(&once);
        return &api;
    }
    char why[512];
    mxv_policy *p = mxv_policy_load_default(why, sizeof(why));
    hook.host = host;
    bool ok = true;
    if (p) {
        active = any_mode(p);
        if (active)
            ok = mxv_hook_install(p, NULL, err, errlen);
        else
            mxv_policy_free(p); /* mode none everywhere: nothing to hook */
    } else if (broken_mode_enforces()) {
        complain("configuration error: %s; connections in scope fail closed", why);
        /* Scope still honours a readable MXVERIFY_PORTS. */
        mxv_policy *ports_only = mxv_policy_new();
        const char *ports = secure_getenv("MXVERIFY_PORTS");
        char ignored[64];
        if (ports_only && ports)
            mxv_policy_set(ports_only, "ports", ports, ignored, sizeof(ignored));
        active = true;
        ok = mxv_hook_install(ports_only, why, err, errlen);
    } else {
        complain("configuration error: %s; the mode does not enforce, so mxverify stays off", why);
    }
    done = ok;
    pthread_mutex_unlock(&once);
    return ok ? &api : NULL;
}
