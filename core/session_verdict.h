/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session_verdict: what deciding a resumed TLS session needs, kept in the
 * session itself.
 *
 * A session offered for resumption is decided again for the connection's
 * own destination (a verdict never travels between domains, addresses or
 * settings). The identity part needs only the leaf certificate, which every
 * session keeps. The chain does not survive: i2d_SSL_SESSION() stores the
 * leaf alone, so a session that a program saved and read back (Postfix's
 * tlsmgr cache, `s_client -sess_out`) has lost the intermediates, and
 * checking the leaf alone fails as "unable to get local issuer" against any
 * server that sends one. So the chain's verdict from the full handshake is
 * stored with the session, in its ticket_appdata field: serialised with the
 * session, copied to the sessions a TLS 1.3 ticket creates, and never sent
 * by a client (OpenSSL uses it only on the server side, inside tickets).
 *
 * Trust: the record is exactly as trustworthy as the session it rides in.
 * Whoever can write a program's session cache can already give it a
 * session with a known master key and any leaf, so the record adds no way
 * in. It is bound to the leaf, and its dates are checked again at every
 * resumption: an expired chain fails as it would in full.
 *
 * The binding is the leaf's SHA-1, the digest OpenSSL computes once for
 * every certificate it checks (so storing a record hashes nothing: a SHA-256
 * of the leaf was an eighth of mxverify's instructions per delivery). It
 * is a consistency check, not the lock: no party but the session cache's
 * writer, trusted as said above, can put a record beside a leaf other than
 * the one its full handshake judged (the record is written only by
 * mxv_session_verdict_store() for the leaf that handshake verified, and a
 * session's leaf cannot be changed), so a collision of SHA-1 opens no way
 * in. Records of the first format, bound by SHA-256, are still read.
 */
#ifndef MXV_SESSION_VERDICT_H
#define MXV_SESSION_VERDICT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <time.h>

typedef struct {
    bool chain_ok;
    int chain_error;   /* X509_V_ERR_* of the full handshake, X509_V_OK if ok */
    time_t not_before; /* the latest notBefore of the verified chain (UTC) */
    time_t not_after;  /* the earliest notAfter of the verified chain (UTC) */
} mxv_session_verdict;

/* The validity window of a chain: every certificate's dates intersected.
 * false when a date cannot be read. */
bool mxv_chain_window(STACK_OF(X509) * chain, time_t *not_before, time_t *not_after);

/* Records the verdict in `session` for `leaf`. Leaves a ticket_appdata the
 * program set itself alone (returns false). */
bool mxv_session_verdict_store(SSL_SESSION *session, X509 *leaf, const mxv_session_verdict *v);

/* The verdict stored for `leaf` in `session`: false when there is none, it
 * is malformed, or it was made for another certificate. */
bool mxv_session_verdict_load(const SSL_SESSION *session, X509 *leaf, mxv_session_verdict *out);

/* The record's wire form, for tests and the fuzz target: `len` bytes,
 * for a leaf whose digest is `leaf_digest`, `digest_len` octets (20: the
 * SHA-1 of "MXV2" records; 32: the SHA-256 of "MXV1" records). */
bool mxv_session_verdict_decode(const unsigned char *rec, size_t len,
                                const unsigned char *leaf_digest, size_t digest_len,
                                mxv_session_verdict *out);

#endif
