/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ssl_verify: the decision inside a live handshake, shared by the
 * verify-callback API (mxv_ssl_ctx_enable) and the hook (shim, provider).
 */
#ifndef MXV_SSL_VERIFY_H
#define MXV_SSL_VERIFY_H

#include "decision.h"
#include "hook.h"

#include <openssl/ssl.h>

typedef struct {
    mxv_policy *policy;
    /* Installed by the hook, not asked for by the program: the program's
     * trust store is left alone, the policy's anchors are tried apart. */
    bool hooked;
    /* The program's own cert-verify callback, run instead of
     * X509_verify_cert() when set (the shim sees it being installed). */
    mxv_cert_verify_fn program_verify;
    void *program_arg;
    const mxv_observed *observed; /* what the program's DNS lookups said, or NULL */
    int fd;                       /* the connection's socket; -1: SSL_get_fd() */
} mxv_verify_ctx;

/* The cert-verify callback body: runs the program's checks once, decides,
 * logs, and fails the handshake when the policy aborts. */
int mxv_ssl_verify(X509_STORE_CTX *x, SSL *ssl, const mxv_verify_ctx *v);

/* A decision made without a fresh certificate check, for a session offered
 * for resumption: the session's stored chain, this connection's context. */
mxv_decision *mxv_ssl_decide_resumption(SSL *ssl, const mxv_verify_ctx *v, X509 *leaf,
                                        STACK_OF(X509) * chain);

/* The recipient domain the caller gave mxv_ssl_set() for ssl (not one
 * taken from the program's lookups), or NULL. */
const char *mxv_ssl_callers_domain(const SSL *ssl);

/* Did mxv_ssl_verify() find, for the handshake now under way (its
 * ClientHello's random), that the destination's settings verify nothing
 * (a mode without an algorithm, no published policy asked)? Then no
 * decision is due, and none was made. false when it did not run for this
 * handshake, or could not tell (out of memory). */
bool mxv_ssl_verified_nothing(const SSL *ssl);

/* Is `random` the ClientHello random of the handshake under way on ssl? */
bool mxv_ssl_random_current(const SSL *ssl, const unsigned char random[MXV_HELLO_RANDOM_LEN]);

/* Copies the ClientHello random of the handshake under way on ssl into
 * `random`: false when OpenSSL has none to give (then `random` tells
 * nothing). */
bool mxv_ssl_random_note(const SSL *ssl, unsigned char random[MXV_HELLO_RANDOM_LEN]);

/* The hook, as each ClientHello of an in-scope (or not yet known) client
 * SSL is written: notes the SNI the program gave OpenSSL for this
 * handshake, which decisions made later in it take (the SNI OpenSSL
 * reports changes to a resumed session's). */
void mxv_ssl_hello_written(SSL *ssl);

/* Was a decision made with the hook's settings for the handshake now
 * under way (its ClientHello's random), not only for an earlier one on
 * the same SSL, and not only with a policy the program gave
 * mxv_ssl_ctx_enable() (which may ask less)? */
bool mxv_ssl_decided_this_handshake(const SSL *ssl);
/* Was the decision for this handshake made on the certificate the server
 * sent in it (not on a session offered for resumption, which the server
 * may have declined: then its new certificate is still to be judged)? */
bool mxv_ssl_decided_certificate(const SSL *ssl);
/* The decision just made for this handshake was one for `session`, a
 * session offered for resumption. */
void mxv_ssl_decided_for_session(const SSL *ssl, SSL_SESSION *session);
/* Did this handshake's decision judge the session it now resumes? (No
 * when the server resumed another one than the one decided: a TLS 1.3
 * external pre-shared key offered beside a ticket, a session the program
 * swapped in after the ClientHello.) */
bool mxv_ssl_decided_resumed_session(const SSL *ssl);

/* A decision for a handshake that has no certificate to decide on (an
 * anonymous cipher suite) or whose certificate mxverify could not check
 * (its callback was replaced): `why` says which. Logged; in a verifying
 * mode it fails. */
mxv_decision *mxv_ssl_decide_uncertified(SSL *ssl, const mxv_verify_ctx *v, const char *why);

/* The connected peer address of socket fd ("" when not a socket). */
void mxv_peer_ip(int fd, char *out, size_t outlen);
/* The peer port of a TCP socket, 0 when fd is not a connected TCP socket. */
unsigned mxv_tcp_peer_port(int fd);

/* Checks a chain with the policy's own trust anchors (decide_offline.c). */
void mxv_check_chain(mxv_decision *d, mxv_policy *policy, X509 *leaf, STACK_OF(X509) * chain);

#endif
