/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ssl_verify: mxverify inside a live OpenSSL handshake, through the
 * SSL_CTX cert-verify callback (see shared/design/openssl-hooks.md).
 *
 * The callback runs the program's own checks once (X509_verify_cert(), or
 * the program's cert-verify callback), with the program's verify callback
 * still in the loop (observed, never bypassed), records the first chain
 * error itself (so a program that ignores chain errors, e.g. with
 * SSL_VERIFY_NONE, still gets the policy's chain check), then decides
 * identity with the policy. In enforcing modes the policy's identity check
 * replaces the host name the program set; in the others the program's own
 * checks stay untouched. A rejection by the program is never overturned.
 *
 * Context of a connection, first found wins for each item: what the caller
 * set (mxv_ssl_set) or the settings; for the MX host, the name the program
 * gave OpenSSL (SSL_set1_host, SNI); then what the program's own DNS
 * lookups revealed (hook only); else the engine's own MX lookup.
 */
#include "ssl_verify.h"
#include "log.h"
#include "names.h"
#include "policy.h"
#include "session_verdict.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef struct {
    mxv_request *req;
    mxv_decision *decision;
    int (*program_cb)(int, X509_STORE_CTX *);
    int first_chain_error;
    /* the ClientHello random of the handshake `decision` was made for */
    unsigned char random[MXV_HELLO_RANDOM_LEN];
    /* the session that decision judged, when it was a resumption's: held
     * (a reference of its own), so that no other session can take its
     * address while it is compared with the one the server resumed */
    SSL_SESSION *session;
    /* req->domain is the program's own MX lookup's, not mxv_ssl_set()'s */
    bool domain_derived;
    /* `decision` was made with the hook's settings (not with a policy the
     * program gave mxv_ssl_ctx_enable()) */
    bool decision_hooked;
    /* mxv_ssl_verify() found that the hook's settings verify nothing, for
     * the handshake with ClientHello random nothing_random */
    bool verified_nothing;
    unsigned char nothing_random[MXV_HELLO_RANDOM_LEN];
    /* The SNI the program gave OpenSSL (NULL: none) when the ClientHello
     * with hello_random was written: once a server resumes a TLS 1.2
     * session, OpenSSL 3.0 reports that session's SNI instead, the name
     * of the host the session was made with. */
    bool hello_seen;
    char *hello_host;
    unsigned char hello_random[MXV_HELLO_RANDOM_LEN];
} conn;

static int conn_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    conn *c = ptr;
    if (!c)
        return;
    mxv_request_free(c->req);
    mxv_decision_free(c->decision);
    SSL_SESSION_free(c->session);
    free(c->hello_host);
    free(c);
}

/* Forgets the MX name fill_context() took from the program. */
static void forget_program_mx(conn *c)
{
    if (c->req->mx_from_program) {
        mxv_strlist_clear(&c->req->mx);
        c->req->mx_from_program = false;
    }
}

/* Forgets what fill_context() took from the program (its MX lookup's
 * domain, the name it gave OpenSSL): the context of one connection. */
static void forget_derived(conn *c)
{
    if (c->domain_derived) {
        free(c->req->domain);
        c->req->domain = NULL;
        c->domain_derived = false;
    }
    forget_program_mx(c);
}

/* SSL_dup() of an SSL that has not started (or was cleared) copies its
 * ex_data. The copy gets a state of its own holding what the caller set
 * (mxv_ssl_set()), nothing derived or decided: before, both SSLs held
 * one state and freed it twice. Out of memory: SSL_dup() fails. */
static int conn_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                    long argl, void *argp)
{
    (void)to, (void)from, (void)idx, (void)argl, (void)argp;
    const conn *orig = *from_d;
    if (!orig)
        return 1;
    conn *c = calloc(1, sizeof(*c));
    if (c && !(c->req = mxv_request_dup(orig->req))) {
        free(c);
        c = NULL;
    }
    *from_d = c;
    if (!c)
        return 0;
    c->domain_derived = orig->domain_derived;
    forget_derived(c);
    return 1;
}

static void make_index(void)
{
    conn_index = SSL_get_ex_new_index(0, NULL, NULL, conn_dup, conn_free);
}

static conn *get_conn(const SSL *ssl, bool create)
{
    pthread_once(&index_once, make_index);
    if (conn_index < 0 || !ssl)
        return NULL;
    conn *c = SSL_get_ex_data(ssl, conn_index);
    if (c || !create)
        return c;
    c = calloc(1, sizeof(*c));
    if (!c || !(c->req = mxv_request_new()) || !SSL_set_ex_data((SSL *)ssl, conn_index, c)) {
        if (c)
            mxv_request_free(c->req);
        free(c);
        return NULL;
    }
    return c;
}

bool mxv_ssl_random_note(const SSL *ssl, unsigned char random[MXV_HELLO_RANDOM_LEN])
{
    return SSL_get_client_random(ssl, random, MXV_HELLO_RANDOM_LEN) == MXV_HELLO_RANDOM_LEN;
}

bool mxv_ssl_random_current(const SSL *ssl, const unsigned char random[MXV_HELLO_RANDOM_LEN])
{
    unsigned char now[MXV_HELLO_RANDOM_LEN];
    return mxv_ssl_random_note(ssl, now) && memcmp(now, random, sizeof(now)) == 0;
}

void mxv_ssl_hello_written(SSL *ssl)
{
    conn *c = get_conn(ssl, true);
    if (!c)
        return;
    const char *host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    free(c->hello_host);
    /* Out of memory: as if the program had given no name (then the name
     * it looked up for the address, else the domain's MX hosts). */
    c->hello_host = host ? strdup(host) : NULL;
    c->hello_seen = mxv_ssl_random_note(ssl, c->hello_random);
}

int mxv_ssl_set(SSL *ssl, const char *key, const char *value, char *err, size_t errlen)
{
    conn *c = get_conn(ssl, true);
    if (!c) {
        snprintf(err, errlen, "cannot attach mxverify state to the SSL object");
        return 0;
    }
    /* What the caller sets is its own from now on: never taken for what
     * fill_context() derived from the program, which it forgets at the
     * next handshake. */
    if (strcmp(key, "domain") == 0)
        c->domain_derived = false;
    if (strcmp(key, "mx") == 0)
        forget_program_mx(c);
    return mxv_request_set(c->req, key, value, err, errlen);
}

const mxv_decision *mxv_ssl_decision(const SSL *ssl)
{
    conn *c = get_conn(ssl, false);
    return c ? c->decision : NULL;
}

unsigned mxv_tcp_peer_port(int fd)
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

void mxv_peer_ip(int fd, char *out, size_t outlen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    out[0] = '\0';
    if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        mxv_sockaddr_text(&ss, out, outlen);
}

static bool is_identity_error(int err)
{
    return err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH ||
           err == X509_V_ERR_EMAIL_MISMATCH;
}

/* Wraps the program's verify callback: notes the first chain error, then
 * lets the program have its say exactly as it would without mxverify. */
static int chain_observer(int ok, X509_STORE_CTX *x)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    conn *c = get_conn(ssl, false);
    if (!ok && c && !c->first_chain_error && !is_identity_error(X509_STORE_CTX_get_error(x)))
        c->first_chain_error = X509_STORE_CTX_get_error(x);
    if (c && c->program_cb)
        return c->program_cb(ok, x);
    return ok;
}

static bool enforcing(const mxv_decision *d)
{
    return !d->report_only && mxv_mode_requires_tls(d->mode) && mxv_mode_verifies(d->mode);
}

/* The name the program gave OpenSSL for this handshake's peer:
 * SSL_set1_host, else SNI as the ClientHello was written, when mxverify
 * saw it (the hook), else SNI now. */
static const char *program_host(SSL *ssl, const conn *c)
{
    const char *host = X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl), 0);
    if (host)
        return host;
    if (c->hello_seen && mxv_ssl_random_current(ssl, c->hello_random))
        return c->hello_host;
    return SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
}

static void take_host(mxv_decision *d, conn *c, const char *host, const char *why)
{
    char err[8], name[MXV_NAME_MAX + 1];
    size_t len = strlen(host);
    if (len >= sizeof(name))
        return; /* longer than any DNS name */
    memcpy(name, host, len + 1);
    if (!mxv_request_set(c->req, "mx", name, err, sizeof(err)))
        return; /* an IP literal or junk: not a host name to compare */
    c->req->mx_from_program = true;
    mxv_decision_note(d, "MX host %s: %s", name, why);
    free(d->host);
    d->host = strdup(name);
}

/* Fills the decision's context (see the header comment for the order). */
static void fill_context(mxv_decision *d, const mxv_verify_ctx *v, conn *c, SSL *ssl)
{
    /* What the program revealed (its lookups, the name it gave OpenSSL)
     * is the context of one connection: taken anew at each handshake, so
     * that an SSL used again (SSL_clear()) for another destination judges
     * nothing by the last one's domain, settings or MX name. */
    forget_derived(c);
    mxv_effective e;
    mxv_policy_effective(v->policy, c->req->domain, &e);
    const mxv_observed *seen = v->observed;
    char err[8];
    bool domain_seen = false;
    bool untaken = false;
    if (!c->req->domain && !e.domain && seen && seen->domain[0]) {
        domain_seen = c->domain_derived =
            mxv_request_set(c->req, "domain", seen->domain, err, sizeof(err));
        /* Not a host name, or out of memory: that domain's settings still
         * apply (never the global ones, which may be laxer), with no
         * domain to match. */
        if ((untaken = !domain_seen))
            mxv_policy_effective(v->policy, seen->domain, &e);
    }
    if (untaken) {
        mxv_decision_begin_as(d, c->req, &e);
        mxv_decision_note(d, "the recipient domain the program looked up could not be taken (not "
                             "a host name, or out of memory): its settings apply, without it");
    } else {
        mxv_decision_begin(d, v->policy, c->req, &e);
    }
    if (domain_seen)
        mxv_decision_note(d, "recipient domain %s: from the program's own MX lookup", seen->domain);
    int fd = v->fd >= 0 ? v->fd : SSL_get_fd(ssl);
    mxv_decision_connection(d, fd);
    d->tls = "openssl";
    if (c->req->mx.n || e.mx->n || c->req->route.n || e.route->n)
        return; /* the caller or the settings named the hosts */
    const char *host = program_host(ssl, c);
    if (host)
        take_host(d, c, host, "the name the program gave OpenSSL");
    else if (seen && seen->host[0] && !d->domain)
        take_host(d, c, seen->host, "the name the program looked up for this address");
}

/* The MX host DANE and MTA-STS ask about: the name the program looked up
 * for this address (its own MX lookup named it), else the one it gave
 * OpenSSL. */
static const char *mx_host(const mxv_decision *d, const mxv_verify_ctx *v)
{
    if (v->observed && v->observed->host[0])
        return v->observed->host;
    return d->host;
}

/* The peer port of the connection: the TLSA name is _PORT._tcp.HOST. */
static unsigned peer_port(const mxv_verify_ctx *v, SSL *ssl)
{
    unsigned port = mxv_tcp_peer_port(v->fd >= 0 ? v->fd : SSL_get_fd(ssl));
    return port ? port : 25;
}

/* Did the program enable DANE on this SSL itself (Postfix at its dane
 * levels)? Asked without changing anything: OpenSSL refuses a record of
 * usage 255 with 0 when DANE is enabled, -1 when it is not. */
static bool program_enabled_dane(SSL *ssl)
{
    ERR_set_mark();
    int rc = SSL_dane_tlsa_add(ssl, 255, 0, 0, (const unsigned char *)"", 0);
    ERR_pop_to_mark();
    return rc == 0;
}

/* The program's own DANE, observed after its checks ran, when mxverify's
 * found none to apply (its DNS view may differ): a record that matched
 * with no error, or any refusal, decided (policy=dane); true then, the
 * outcome in d. A program's verify callback may accept errors (Postfix's
 * does, to log them): the error the verification noted counts. */
static bool program_dane_decided(mxv_decision *d, SSL *ssl, X509_STORE_CTX *x, const conn *c,
                                 int program_ok)
{
    uint8_t usage = 0, selector = 0, mtype = 0;
    int depth = SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, NULL, NULL);
    int error = c->first_chain_error ? c->first_chain_error : X509_STORE_CTX_get_error(x);
    if (depth < 0 && program_ok > 0 && error == X509_V_OK)
        return false; /* no record matched, nothing refused: the ESA's turn */
    d->dane_outcome = MXV_DANE_DECIDED;
    d->tlsa_matched = depth >= 0;
    d->tlsa_usage = usage, d->tlsa_selector = selector, d->tlsa_mtype = mtype;
    d->tlsa_depth = depth;
    d->pass = program_ok > 0 && depth >= 0 && error == X509_V_OK;
    d->abort = !d->pass && !d->report_only;
    d->temporary = false;
    d->reason = d->pass ? NULL : "tlsa-invalid";
    if (!d->pass) {
        free(d->why);
        d->why = strdup("the program's own DANE verification refused the server");
    }
    mxv_decision_note(d, "the program's own DANE decided; mxverify observed");
    return true;
}

/* MTA-STS's turn, when DANE found none (policy.md section 7): true when
 * an enforced policy decided. */
static bool sts_decides(mxv_decision *d, const mxv_verify_ctx *v, conn *c)
{
    return d->mta_sts != MXV_STS_OFF && mxv_decide_sts(d, v->policy, c->req, mx_host(d, v), true);
}

/* DANE's turn (policy.md section 7): true when it decided. */
static bool dane_decides(mxv_decision *d, const mxv_verify_ctx *v, conn *c, SSL *ssl, X509 *leaf,
                         STACK_OF(X509) * chain)
{
    return d->dane != MXV_DANE_OFF &&
           mxv_decide_dane(d, v->policy, c->req, mx_host(d, v), peer_port(v, ssl), leaf, chain);
}

static int run_program_checks(X509_STORE_CTX *x, const mxv_verify_ctx *v)
{
    if (v->program_verify)
        return v->program_verify(x, v->program_arg);
    return X509_verify_cert(x);
}

/* The program's store rejected the chain: the policy's anchors (system CAs,
 * ca_file, ca_path) may still accept it for the policy's own verdict. The
 * program's result is left as it is. */
static void policy_anchors(mxv_decision *d, const mxv_verify_ctx *v, X509_STORE_CTX *x)
{
    mxv_decision tmp = {0};
    mxv_check_chain(&tmp, v->policy, X509_STORE_CTX_get0_cert(x), X509_STORE_CTX_get0_untrusted(x));
    if (tmp.chain_ok) {
        d->chain_ok = true;
        d->chain_error = 0;
        d->chain_window = tmp.chain_window;
        d->chain_not_before = tmp.chain_not_before;
        d->chain_not_after = tmp.chain_not_after;
        free(d->chain_error_text);
        d->chain_error_text = NULL;
        mxv_decision_note(d, "chain verified with mxverify's trust anchors (the program's own "
                             "store did not know the issuer)");
    }
    free(tmp.chain_error_text);
}

/* The chain's verdict goes with the session, for its resumptions: they
 * carry the leaf alone once the program has saved and restored them. */
static void remember_chain(SSL *ssl, X509 *leaf, const mxv_decision *d)
{
    mxv_session_verdict sv = {.chain_ok = d->chain_ok};
    if (d->chain_ok && !d->chain_window)
        return; /* dates unreadable: the resumption checks the leaf again */
    if (d->chain_ok) {
        sv.not_before = d->chain_not_before;
        sv.not_after = d->chain_not_after;
    } else {
        sv.chain_error = d->chain_error ? d->chain_error : X509_V_ERR_UNSPECIFIED;
    }
    mxv_session_verdict_store(SSL_get_session(ssl), leaf, &sv);
}

/* The chain of a session offered for resumption: the verdict its full
 * handshake recorded (dates checked again now), else the chain the session
 * still holds in memory, checked with the policy's anchors. */
static void resumed_chain(mxv_decision *d, mxv_policy *policy, SSL_SESSION *sess, X509 *leaf,
                          STACK_OF(X509) * chain)
{
    mxv_session_verdict sv;
    if (!mxv_session_verdict_load(sess, leaf, &sv)) {
        mxv_check_chain(d, policy, leaf, chain);
        return;
    }
    time_t now = time(NULL);
    d->chain_checked = true;
    d->chain_error = sv.chain_error;
    if (sv.chain_ok && now < sv.not_before)
        d->chain_error = X509_V_ERR_CERT_NOT_YET_VALID;
    else if (sv.chain_ok && now > sv.not_after)
        d->chain_error = X509_V_ERR_CERT_HAS_EXPIRED;
    d->chain_ok = d->chain_error == X509_V_OK;
    if (!d->chain_ok)
        d->chain_error_text = strdup(X509_verify_cert_error_string(d->chain_error));
    mxv_decision_note(d, "chain: as verified in the full handshake that made this session%s",
                      sv.chain_ok && !d->chain_ok ? ", and out of date now" : "");
}

static void finish(mxv_decision *d, const mxv_verify_ctx *v, conn *c, SSL *ssl)
{
    mxv_ssl_random_note(ssl, c->random);
    SSL_SESSION_free(c->session);
    c->session = NULL;
    c->decision_hooked = v->hooked;
    mxv_decision_conclude(d);
    mxv_effective e;
    mxv_policy_effective(v->policy, d->domain, &e);
    mxv_log_decision(&e, d);
    mxv_decision_free(c->decision);
    c->decision = d;
}

int mxv_ssl_verify(X509_STORE_CTX *x, SSL *ssl, const mxv_verify_ctx *v)
{
    conn *c = get_conn(ssl, true);
    mxv_decision *d = c ? mxv_decision_new() : NULL;
    if (!d) {
        /* Cannot decide: fail closed, under SSL_VERIFY_NONE too. */
        X509_STORE_CTX_set_error(x, X509_V_ERR_OUT_OF_MEM);
        SSL_set_verify(ssl, SSL_VERIFY_PEER, SSL_get_verify_callback(ssl));
        return 0;
    }
    fill_context(d, v, c, ssl);
    /* Told to the hook only for its own settings, and only by its own
     * check: not by a program's policy given to mxv_ssl_ctx_enable(),
     * whose check runs inside the hook's under the shim. */
    bool nothing = d->algorithm == MXV_ALG_NONE && !mxv_decision_published(d);
    if (v->hooked)
        c->verified_nothing = nothing && mxv_ssl_random_note(ssl, c->nothing_random);
    if (nothing) {
        mxv_decision_free(d);
        return run_program_checks(x, v); /* not a verifying mode: untouched */
    }
    /* A program doing DANE itself keeps it whole: its host names are the
     * DANE-TA names OpenSSL checks (RFC 7672 section 3.2.2). */
    bool program_dane = program_enabled_dane(ssl);
    if (enforcing(d) && !program_dane) {
        /* The policy's identity replaces the program's host-name check. */
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(x);
        X509_VERIFY_PARAM_set1_host(param, NULL, 0);
        X509_VERIFY_PARAM_set1_ip(param, NULL, 0);
    }
    c->program_cb = X509_STORE_CTX_get_verify_cb(x);
    c->first_chain_error = 0;
    X509_STORE_CTX_set_verify_cb(x, chain_observer);
    int program_ok = run_program_checks(x, v);
    X509_STORE_CTX_set_verify_cb(x, c->program_cb);

    d->chain_checked = true;
    d->chain_error = c->first_chain_error;
    if (!d->chain_error && program_ok <= 0 && !is_identity_error(X509_STORE_CTX_get_error(x)))
        d->chain_error = X509_STORE_CTX_get_error(x);
    d->chain_ok = d->chain_error == 0;
    if (d->chain_ok)
        d->chain_window = mxv_chain_window(X509_STORE_CTX_get0_chain(x), &d->chain_not_before,
                                           &d->chain_not_after);
    else
        d->chain_error_text = mxv_chain_error_text(
            d->chain_error, sk_X509_num(X509_STORE_CTX_get0_untrusted(x))); /* leaf included */
    if (!d->chain_ok && v->hooked)
        policy_anchors(d, v, x);
    if (!mxv_presented_from_cert(X509_STORE_CTX_get0_cert(x), &d->presented))
        mxv_decision_note(d, "out of memory reading the certificate's names");
    if (program_dane && d->dane == MXV_DANE_OFF) {
        /* Its DANE is checked by mxverify's rules too (never weaker). */
        d->dane = MXV_DANE_ON;
        mxv_decision_note(d, "the program enabled DANE itself: mxverify's DANE applies too, "
                             "and the program's host names are left as they are");
    }
    bool dane =
        dane_decides(d, v, c, ssl, X509_STORE_CTX_get0_cert(x), X509_STORE_CTX_get0_untrusted(x)) ||
        (program_dane && program_dane_decided(d, ssl, x, c, program_ok));
    bool sts = !dane && sts_decides(d, v, c);
    if (!dane && !sts && d->algorithm != MXV_ALG_NONE)
        mxv_decide_identity(d, v->policy, c->req);
    finish(d, v, c, ssl);
    if (v->hooked && !d->abort && !dane)
        remember_chain(ssl, X509_STORE_CTX_get0_cert(x), d);

    if (d->abort) {
        X509_STORE_CTX_set_error(x, dane          ? X509_V_ERR_DANE_NO_MATCH
                                    : d->chain_ok ? X509_V_ERR_HOSTNAME_MISMATCH
                                                  : d->chain_error);
        /* Makes the failure fatal even under SSL_VERIFY_NONE: libssl reads
         * verify_mode after this callback returns. */
        SSL_set_verify(ssl, SSL_VERIFY_PEER, SSL_get_verify_callback(ssl));
        return 0;
    }
    return program_ok;
}

mxv_decision *mxv_ssl_decide_resumption(SSL *ssl, const mxv_verify_ctx *v, X509 *leaf,
                                        STACK_OF(X509) * chain)
{
    conn *c = get_conn(ssl, true);
    mxv_decision *d = c ? mxv_decision_new() : NULL;
    if (!d)
        return NULL;
    fill_context(d, v, c, ssl);
    d->resumed = true;
    mxv_decision_note(d, "session offered for resumption: decided again with its stored chain "
                         "for this destination");
    if (!mxv_presented_from_cert(leaf, &d->presented))
        mxv_decision_note(d, "out of memory reading the certificate's names");
    /* DANE decides a resumption from the certificates the session holds:
     * a DANE-TA anchor the server sent is gone once the program saved
     * and restored the session, and the resumption then fails (closed). */
    if (dane_decides(d, v, c, ssl, leaf, chain)) {
        finish(d, v, c, ssl);
        return d;
    }
    if (d->algorithm != MXV_ALG_NONE || d->mta_sts != MXV_STS_OFF)
        resumed_chain(d, v->policy, SSL_get_session(ssl), leaf, chain);
    if (!sts_decides(d, v, c) && d->algorithm != MXV_ALG_NONE)
        mxv_decide_identity(d, v->policy, c->req);
    finish(d, v, c, ssl);
    return d;
}

const char *mxv_ssl_callers_domain(const SSL *ssl)
{
    conn *c = get_conn(ssl, false);
    return c && !c->domain_derived ? c->req->domain : NULL;
}

bool mxv_ssl_verified_nothing(const SSL *ssl)
{
    conn *c = get_conn(ssl, false);
    return c && c->verified_nothing && mxv_ssl_random_current(ssl, c->nothing_random);
}

bool mxv_ssl_decided_this_handshake(const SSL *ssl)
{
    conn *c = get_conn(ssl, false);
    return c && c->decision && c->decision_hooked && mxv_ssl_random_current(ssl, c->random);
}

bool mxv_ssl_decided_certificate(const SSL *ssl)
{
    conn *c = get_conn(ssl, false);
    return mxv_ssl_decided_this_handshake(ssl) && !c->decision->resumed;
}

void mxv_ssl_decided_for_session(const SSL *ssl, SSL_SESSION *session)
{
    conn *c = get_conn(ssl, false);
    if (!c || !session || !SSL_SESSION_up_ref(session))
        return; /* not held: not taken for decided (compared, it would fail closed) */
    SSL_SESSION_free(c->session);
    c->session = session;
}

bool mxv_ssl_decided_resumed_session(const SSL *ssl)
{
    conn *c = get_conn(ssl, false);
    return mxv_ssl_decided_this_handshake(ssl) && !c->decision->abort && c->session &&
           c->session == SSL_get_session(ssl);
}

mxv_decision *mxv_ssl_decide_uncertified(SSL *ssl, const mxv_verify_ctx *v, const char *why)
{
    conn *c = get_conn(ssl, true);
    mxv_decision *d = c ? mxv_decision_new() : NULL;
    if (!d)
        return NULL;
    fill_context(d, v, c, ssl);
    if (d->algorithm != MXV_ALG_NONE || mxv_decision_published(d)) {
        d->chain_checked = true;
        d->chain_error = X509_V_ERR_UNSPECIFIED;
        d->chain_error_text = strdup("no certificate decision");
        d->why = strdup(why);
    }
    mxv_decision_conclude(d);
    if (mxv_decision_published(d) && !d->report_only) {
        /* With DANE or MTA-STS on, every handshake needs a certificate
         * they could look at: none here (anonymous suite, a callback
         * taken away). */
        d->pass = false;
        d->abort = true;
    }
    if (!d->pass)
        d->reason = "validation-failure";
    finish(d, v, c, ssl);
    return d;
}

static int api_cert_verify(X509_STORE_CTX *x, void *arg)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    mxv_verify_ctx v = {.policy = arg, .fd = -1};
    return mxv_ssl_verify(x, ssl, &v);
}

int mxv_ssl_ctx_enable(SSL_CTX *ctx, mxv_policy *policy, char *err, size_t errlen)
{
    if (!ctx || !policy) {
        snprintf(err, errlen, "missing SSL_CTX or policy");
        return 0;
    }
    mxv_effective e;
    mxv_policy_effective(policy, NULL, &e);
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    /* The program asked for mxverify: its store gets the system CAs and
     * the configured extras, so its own checks agree with the policy's. */
    if (!mxv_store_add_system_anchors(store) ||
        (e.ca_file && !X509_STORE_load_file(store, e.ca_file)) ||
        (e.ca_path && !X509_STORE_load_path(store, e.ca_path))) {
        snprintf(err, errlen, "cannot load trust anchors (ca_file %s, ca_path %s)",
                 e.ca_file ? e.ca_file : "-", e.ca_path ? e.ca_path : "-");
        return 0;
    }
    pthread_once(&index_once, make_index);
    if (conn_index < 0) {
        snprintf(err, errlen, "cannot allocate SSL ex_data index");
        return 0;
    }
    SSL_CTX_set_cert_verify_callback(ctx, api_cert_verify, policy);
    return 1;
}
