/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hook_state: what the hook's parts share (hook.c: the OpenSSL callbacks;
 * hook_scope.c: which connection an SSL belongs to; hook_preload.c: the
 * preload shim's entry points). Not an interface: engine-internal.
 */
#ifndef MXV_HOOK_STATE_H
#define MXV_HOOK_STATE_H

#include "hook.h"
#include "policy.h"

#include <openssl/ssl.h>
#include <pthread.h>

typedef struct {
    pthread_mutex_t lock;
    bool installed;
    mxv_policy *policy;        /* never NULL once installed */
    char *broken;              /* why the policy could not be loaded: fail closed */
    bool held;                 /* broken only until a check releases it (mxv_hook_hold) */
    const mxv_hook_host *host; /* the preload shim, or NULL (the provider alone) */
    int ctx_index;             /* SSL_CTX ex_data: what mxverify keeps per SSL_CTX */
    int ssl_index;             /* SSL ex_data: what mxverify keeps per SSL */
    int security_index;        /* SSL ex_data: the program's own security callback */
    bool every_port;           /* broken settings whose ports cannot be read */
} mxv_hook_state;

extern mxv_hook_state mxv_hook;

/* Messages that are not decisions (stderr and the mail log, since the
 * configured sink may be what broke). */
void mxv_hook_complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The log line of a refusal under settings that cannot be used (one
 * decision-shaped line: the mistake in why=). `what`: what was refused;
 * `tls`: the line's tls= ("openssl", "gnutls"; "none": clear text
 * refused; NULL: TLS records of a library that cannot be told, no tls=). */
void mxv_hook_broken_line(const char *ip, const char *what, const char *tls);
/* The refusal of a handshake no decision could be made for, `why` (out
 * of memory, mostly), with the log line's tls= ("openssl", "gnutls"). */
void mxv_hook_undecided_line(const char *ip, const char *tls, const char *why);

/* The settings for a connection whose destination is not known yet. */
bool mxv_hook_port_listed(unsigned port);

/*
 * Which connection an SSL's handshake belongs to (its socket, as fd):
 *  OUT       not in scope (server side, another port, not TCP): untouched;
 *  IN        in scope, on socket *fd;
 *  AMBIGUOUS in scope, but which of several connections cannot be told;
 *  NOT_YET   the program gave the SSL a BIO of its own and its ClientHello
 *            has not left yet: the socket is known once it has.
 * A socket BIO names its socket. A BIO of the program's own (memory BIOs,
 * curl) is tied to the socket that carried this SSL's ClientHello: the
 * shim saw it go; without the shim, the one in-scope socket whose sent
 * octets grew between the ClientHello and the server's answer.
 */
typedef enum { MXV_SCOPE_OUT, MXV_SCOPE_IN, MXV_SCOPE_AMBIGUOUS, MXV_SCOPE_NOT_YET } mxv_scope;
mxv_scope mxv_hook_scope(SSL *ssl, bool hello_sent, int *fd);
/* At the ClientHello (the provider alone): what the correlation above
 * starts from. */
void mxv_hook_scope_hello(SSL *ssl);
/* true the first time it is asked in a handshake of ssl: "cannot tell
 * which connection" is said once per handshake. */
bool mxv_hook_scope_untold_first(SSL *ssl);

/* Per SSL: the provider's snapshot, and whether a decision was made for
 * the current handshake (freed with the SSL). */
typedef struct mxv_hook_ssl mxv_hook_ssl;
mxv_hook_ssl *mxv_hook_ssl_get(SSL *ssl, bool create);
void mxv_hook_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp);
int mxv_hook_ssl_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                     long argl, void *argp);

/* The recipient domain a decision takes (the configured one first, then
 * the one the program looked up) and the settings in force for it. */
const char *mxv_hook_destination(const char *domain, mxv_effective *e);
/* A handshake of another TLS library, decided from DER (hook_chain.c). */
mxv_chain_verdict mxv_hook_decide_chain(const mxv_hook_chain *chain, bool *replace_name);
bool mxv_hook_program_anchors(const char *path, bool directory, const void *data, size_t len,
                              bool pem);

/* Whether any destination has a mode other than none (hook_preload.c). */
extern bool mxv_hook_active;
/* The program's own SSL_CTX_set_cert_verify_callback(), seen by the shim:
 * run inside mxverify's. false when mxverify does not hook that SSL_CTX. */
bool mxv_hook_set_program_verify(void *ssl_ctx, mxv_cert_verify_fn cb, void *arg);

#endif
