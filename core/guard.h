/* SPDX-License-Identifier: Apache-2.0 */
/*
 * guard: what may leave on one SMTP connection, judged from the bytes the
 * program sends, before they leave. A pure state machine: no system call,
 * no allocation, no libc interposition; the preload shim feeds it every
 * byte written to an in-scope socket and refuses what it refuses.
 *
 * The rule (docs/decisions.md, "The enforcement boundary"), at the levels
 * the destination's setting asks for:
 *
 *   MXV_GUARD_WATCH        nothing is refused; the ClientHello's random is
 *                          noted (it ties an SSL to its socket), then the
 *                          connection needs no more watching.
 *   MXV_GUARD_TLS          TLS is mandatory (`required`): before TLS, only
 *                          the greeting exchange may be sent in clear
 *                          (EHLO, HELO, STARTTLS, QUIT, RSET, NOOP lines),
 *                          then the TLS handshake, which starts either the
 *                          connection (implicit TLS) or right after the
 *                          STARTTLS line; after a handshake that failed or
 *                          ended, nothing in clear but QUIT. Outside a
 *                          handshake, an alert is two octets (RFC 5246
 *                          7.2), so nothing else rides in one.
 *   MXV_GUARD_VERIFIED     the same, and TLS application data only once
 *                          the handshake it belongs to has a pass decision
 *                          (`required-verify*`): a handshake that completes
 *                          without one (anonymous suites, a replaced
 *                          callback, a session no one decided) sends
 *                          nothing.
 *
 * A connection where DANE may apply (policy.md section 7) asks first: at
 * MXV_GUARD_VERIFIED with mxv_guard_ask_clear(), clear text beyond the
 * greeting is refused with `ask` set, and the caller asks the engine
 * whether DANE makes TLS mandatory for the host; if not, it carries on at
 * the level the engine gives (mxv_guard_clear_answered()).
 *
 * Every chunk is judged whole before any of it leaves: a chunk is allowed
 * only when each of its bytes is. Judging does not change the state; the
 * caller commits the bytes that actually left (a short write commits
 * fewer), so a retried tail is never counted twice.
 */
#ifndef MXV_GUARD_H
#define MXV_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { MXV_GUARD_WATCH, MXV_GUARD_TLS, MXV_GUARD_VERIFIED } mxv_guard_level;

/* Where the connection is, as far as its outgoing bytes tell. */
typedef enum {
    MXV_GUARD_CLEAR,     /* SMTP lines before any TLS */
    MXV_GUARD_HANDSHAKE, /* TLS records after a ClientHello */
    MXV_GUARD_AFTER_TLS, /* clear text after TLS failed or ended */
    MXV_GUARD_KERNEL_TLS /* the kernel encrypts what is written (kTLS) */
} mxv_guard_phase;

typedef enum { MXV_GUARD_UNDECIDED, MXV_GUARD_PASSED, MXV_GUARD_FAILED } mxv_guard_decision;

#define MXV_GUARD_RANDOM_LEN 32
/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets with CRLF. */
#define MXV_GUARD_LINE_MAX 512

typedef struct {
    mxv_guard_level level;
    mxv_guard_phase phase;
    /* the current clear-text line */
    uint16_t linelen; /* octets of the line so far */
    uint8_t verb;     /* index of the verb the line starts with, or 0xff */
    uint8_t cr;       /* the last octet was CR: LF must follow */
    char head[16];    /* the line's first octets, for messages */
    bool spoke;       /* some clear text was sent */
    bool starttls;    /* the last complete line was STARTTLS, and nothing followed */
    /* the TLS record stream */
    uint8_t hdr[5], hdrlen; /* a record header being read */
    uint32_t body_left;     /* octets of the current record still to come */
    uint8_t rec_type;
    /* the first handshake message: type, length, version, random */
    uint8_t hello[38], hellolen;
    bool hello_done; /* its random is known (or it was not a ClientHello) */
    /* the decision the engine reported, for the handshake whose
     * ClientHello carried this random */
    mxv_guard_decision decision;
    uint8_t decided_random[MXV_GUARD_RANDOM_LEN];
    bool ask_clear; /* a clear-text refusal is a question to the engine first */
} mxv_guard;

/* Why a chunk was refused: a fixed phrase, and the offending line's start
 * (printable, possibly empty). */
typedef struct {
    const char *why;
    bool tls; /* TLS records were refused (else clear text) */
    bool ask; /* clear text the engine must be asked about (mxv_guard_ask_clear) */
    char head[48];
} mxv_guard_refusal;

void mxv_guard_init(mxv_guard *g, mxv_guard_level level);
/* Would `len` bytes at `buf` be allowed? Does not change g. */
bool mxv_guard_check(const mxv_guard *g, const void *buf, size_t len, mxv_guard_refusal *why);
/* mxv_guard_check() and, when all `len` bytes are allowed,
 * mxv_guard_commit() of them, in one pass over them: true, g moved on.
 * false: why says why, and g is spent (a refused chunk ends the
 * connection; keep a copy to judge again). */
bool mxv_guard_advance(mxv_guard *g, const void *buf, size_t len, mxv_guard_refusal *why);
/* The first `len` bytes at `buf` (already allowed) left: g moves on. */
void mxv_guard_commit(mxv_guard *g, const void *buf, size_t len);
/* Clear text beyond the greeting is a question, not yet a refusal. */
void mxv_guard_ask_clear(mxv_guard *g);
/* The engine answered it: clear text may go as `level` allows. */
void mxv_guard_clear_answered(mxv_guard *g, mxv_guard_level level);
/* The engine decided the handshake whose ClientHello carries `random`
 * (it may be reported before that ClientHello is written). */
void mxv_guard_decided(mxv_guard *g, const uint8_t random[MXV_GUARD_RANDOM_LEN], bool pass);
/* The program turned kernel TLS on for sending (setsockopt TLS_TX): what
 * it writes from now on is encrypted by the kernel. */
void mxv_guard_kernel_tls(mxv_guard *g);
/* The random of the ClientHello sent on this connection, if any. */
bool mxv_guard_hello_random(const mxv_guard *g, uint8_t out[MXV_GUARD_RANDOM_LEN]);
/* How many of the next octets g passes over without reading them (the
 * rest of a TLS record body it does not look into): a caller may move g
 * over them with mxv_guard_skip() instead of reading them. */
size_t mxv_guard_unread(const mxv_guard *g);
/* n octets (at most mxv_guard_unread()) left, or would: g moves on. */
void mxv_guard_skip(mxv_guard *g, size_t n);
/* Nothing more to watch: WATCH level once the ClientHello is past. */
bool mxv_guard_finished(const mxv_guard *g);
/* The current handshake has a pass decision. */
bool mxv_guard_passed(const mxv_guard *g);

#endif
