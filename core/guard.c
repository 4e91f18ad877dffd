/* SPDX-License-Identifier: Apache-2.0 */
/* guard: the clear-text and TLS boundary of one SMTP connection (see the
 * header for the rule). Each rule below names where it comes from. */
#include "guard.h"

#include <string.h>

/* The greeting exchange, RFC 5321 4.1.1 and RFC 3207: the only commands
 * that may cross in clear where TLS is mandatory. Their first letters
 * differ, so the first octet of a line chooses the verb. */
enum { ARG_NONE, ARG_ANY };
static const struct {
    const char *name;
    uint8_t len, args;
} verbs[] = {
    {"EHLO", 4, ARG_ANY},  {"HELO", 4, ARG_ANY},  {"STARTTLS", 8, ARG_NONE},
    {"QUIT", 4, ARG_NONE}, {"RSET", 4, ARG_NONE}, {"NOOP", 4, ARG_ANY},
};
#define NVERBS        (sizeof(verbs) / sizeof(verbs[0]))
#define VERB_STARTTLS 2
#define VERB_QUIT     3
#define NO_VERB       0xff

/* TLS record layer, RFC 8446 5.1 / RFC 5246 6.2: content types 20-23,
 * legacy version 3.x, at most 2^14 + 2048 octets of body. */
enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23 };
#define RECORD_MAX      (16384 + 2048)
#define HS_CLIENT_HELLO 1

static uint8_t upper(uint8_t b)
{
    return b >= 'a' && b <= 'z' ? (uint8_t)(b - 32) : b;
}

static bool hello_known(const mxv_guard *g)
{
    return g->hello_done && g->hellolen == sizeof(g->hello) && g->hello[0] == HS_CLIENT_HELLO;
}

/* The engine's decision applies to the handshake whose ClientHello was
 * sent on this connection, never to another one. */
static mxv_guard_decision this_decision(const mxv_guard *g)
{
    if (!hello_known(g) || memcmp(g->decided_random, g->hello + 6, MXV_GUARD_RANDOM_LEN) != 0)
        return MXV_GUARD_UNDECIDED;
    return g->decision;
}

static bool refuse(mxv_guard_refusal *r, const char *why)
{
    if (r)
        r->why = why;
    return false;
}

static bool refuse_tls(mxv_guard_refusal *r, const char *why)
{
    if (r)
        r->tls = true;
    return refuse(r, why);
}

static void line_reset(mxv_guard *g)
{
    g->linelen = 0;
    g->verb = NO_VERB;
    g->cr = 0;
}

/* One octet of a clear-text line, where TLS is mandatory. */
static bool line_octet(mxv_guard *g, uint8_t b, mxv_guard_refusal *r)
{
    static const char *const not_greeting = "no TLS on this connection yet, and only EHLO, HELO, "
                                            "STARTTLS, QUIT, RSET and NOOP may precede it";
    if (g->linelen < sizeof(g->head))
        g->head[g->linelen] = (char)b;
    if (g->linelen == 0) {
        g->spoke = true;
        g->starttls = false;
        g->verb = NO_VERB;
        for (uint8_t v = 0; v < NVERBS; v++)
            if (verbs[v].name[0] == upper(b))
                g->verb = v;
        if (g->phase == MXV_GUARD_AFTER_TLS && g->verb != VERB_QUIT)
            return refuse(r, "the TLS handshake failed or ended, and only QUIT may follow in "
                             "clear");
        if (g->verb == NO_VERB)
            return refuse(r, not_greeting);
        g->linelen = 1;
        return true;
    }
    bool end = b == '\n';
    if (g->cr && !end)
        return refuse(r, "a CR not followed by LF in clear text (servers differ on where that "
                         "line ends)");
    if (b == '\r') {
        g->cr = 1;
        g->linelen++;
        return true;
    }
    if (b == '\0')
        return refuse(r, "a NUL octet in clear text");
    size_t len = verbs[g->verb].len;
    if (g->linelen < len && upper(b) != (uint8_t)verbs[g->verb].name[g->linelen])
        return refuse(r, not_greeting);
    /* "STARTTLS" CRLF, "QUIT" CRLF, "RSET" CRLF take no argument (RFC 5321
     * 4.1.1.5, 4.1.1.10; RFC 3207 4); EHLO, HELO and NOOP take one after
     * a space. A line ending before its verb is complete is refused. */
    size_t at = g->linelen - (g->cr ? 1u : 0u);
    if (end) {
        if (at < len)
            return refuse(r, "an incomplete command, where only EHLO, HELO, STARTTLS, QUIT, RSET "
                             "and NOOP may precede TLS");
        bool starttls = g->verb == VERB_STARTTLS;
        line_reset(g);
        g->starttls = starttls;
        return true;
    }
    if (g->linelen == len && (verbs[g->verb].args == ARG_NONE || b != ' '))
        return refuse(r, not_greeting);
    if (g->linelen + 2u > MXV_GUARD_LINE_MAX)
        return refuse(r, "a command line over 512 octets in clear (RFC 5321 4.5.3.1.4)");
    g->linelen++;
    return true;
}

/* A record header is complete: may a record of this type go now? */
static bool record_allowed(mxv_guard *g, mxv_guard_refusal *r)
{
    uint8_t type = g->hdr[0];
    g->rec_type = type;
    g->body_left = (uint32_t)g->hdr[3] << 8 | g->hdr[4];
    g->hdrlen = 0;
    if (g->hdr[1] != 3 || g->hdr[2] > 4 || g->body_left > RECORD_MAX)
        return g->level == MXV_GUARD_WATCH || refuse_tls(r, "a malformed TLS record header");
    if (g->level == MXV_GUARD_WATCH)
        return true;
    if (type == CT_ALERT && (g->phase == MXV_GUARD_HANDSHAKE || g->body_left == 2))
        return true; /* TLS state, nothing else (encrypted, inside a session) */
    if (type == CT_ALERT)
        return refuse(r, "a TLS alert record longer than an alert, outside TLS");
    if (g->phase == MXV_GUARD_CLEAR && type == CT_HANDSHAKE) {
        /* TLS from the start (implicit TLS), or right after STARTTLS: the
         * server reads anything else as SMTP lines. */
        if (g->spoke && !g->starttls)
            return refuse(r, "a TLS handshake in clear text that does not follow STARTTLS");
        g->phase = MXV_GUARD_HANDSHAKE;
        return true;
    }
    if (g->phase != MXV_GUARD_HANDSHAKE)
        return refuse_tls(r, g->phase == MXV_GUARD_CLEAR
                                 ? "a TLS record before any ClientHello"
                                 : "TLS records after the handshake failed or ended");
    mxv_guard_decision d = this_decision(g);
    if (d == MXV_GUARD_FAILED)
        return refuse_tls(r, "TLS records after mxverify refused this handshake");
    if (type == CT_APPDATA && g->level == MXV_GUARD_VERIFIED && d != MXV_GUARD_PASSED)
        return refuse_tls(r, "TLS application data before the handshake had a pass decision (no "
                             "certificate decision was made for it)");
    return true;
}

/* Octets of a record body: the first handshake message is read as far as
 * its random; the rest is skipped. Returns the octets used. */
static size_t body_octets(mxv_guard *g, const uint8_t *p, size_t n, mxv_guard_refusal *r, bool *ok)
{
    size_t take = n < g->body_left ? n : g->body_left;
    if (g->rec_type == CT_HANDSHAKE && !g->hello_done) {
        size_t i = 0;
        for (; i < take && g->hellolen < sizeof(g->hello); i++) {
            g->hello[g->hellolen++] = p[i];
            if (g->hellolen == 1 && p[i] != HS_CLIENT_HELLO) {
                g->hello_done = true; /* not a ClientHello: no random to note */
                if (g->level != MXV_GUARD_WATCH) {
                    *ok = refuse_tls(r, "a TLS handshake that does not start with a ClientHello");
                    return i + 1;
                }
            }
        }
        if (g->hellolen == sizeof(g->hello))
            g->hello_done = true;
    }
    g->body_left -= (uint32_t)take;
    return take;
}

/* Runs n octets through g; stops at the first refused one. Returns the
 * octets allowed (n when all are). *in_line: the refused octet was part
 * of a clear-text line. */
static size_t run(mxv_guard *g, const uint8_t *p, size_t n, mxv_guard_refusal *r, bool *in_line)
{
    size_t i = 0;
    *in_line = false;
    while (i < n) {
        if (g->phase == MXV_GUARD_KERNEL_TLS)
            return n;
        if (g->body_left) {
            bool ok = true;
            size_t used = body_octets(g, p + i, n - i, r, &ok);
            if (!ok)
                return i + used - 1;
            i += used;
            continue;
        }
        uint8_t b = p[i++];
        if (g->hdrlen) { /* inside a record header */
            g->hdr[g->hdrlen++] = b;
            if (g->hdrlen == sizeof(g->hdr) && !record_allowed(g, r))
                return i - 1;
            continue;
        }
        /* Between records, or in a clear-text line. A record starts where
         * a line would: at the start of one, or right after a record. */
        bool at_start = g->phase == MXV_GUARD_HANDSHAKE || (g->linelen == 0 && !g->cr);
        if (at_start && b >= CT_CCS && b <= CT_APPDATA) {
            g->hdr[0] = b;
            g->hdrlen = 1;
            continue;
        }
        if (g->phase == MXV_GUARD_HANDSHAKE) /* not TLS any more: clear text */
            g->phase = MXV_GUARD_AFTER_TLS;
        if (g->level == MXV_GUARD_WATCH) {
            g->linelen = b == '\n' ? 0 : 1;
            continue;
        }
        if (!line_octet(g, b, r)) {
            *in_line = true;
            return i - 1;
        }
    }
    return n;
}

void mxv_guard_init(mxv_guard *g, mxv_guard_level level)
{
    memset(g, 0, sizeof(*g));
    g->level = level;
    g->verb = NO_VERB;
}

/* The refused line as far as it can be shown: what came before this
 * chunk, then the chunk up to the line's end; printable octets only. */
static void show_line(const mxv_guard *g, const uint8_t *p, size_t n, char *out, size_t outlen)
{
    size_t k = 0;
    for (size_t i = 0; i < g->linelen && i < sizeof(g->head) && k + 1 < outlen; i++)
        out[k++] = g->head[i];
    for (size_t i = 0; i < n && p[i] != '\r' && p[i] != '\n' && k + 1 < outlen; i++)
        out[k++] = (char)p[i];
    for (size_t i = 0; i < k; i++)
        if ((uint8_t)out[i] < 0x20 || (uint8_t)out[i] >= 0x7f)
            out[i] = '?';
    out[k] = '\0';
}

/* Runs len octets through work, which started as *g; false (and why)
 * when one is refused. */
static bool judge(mxv_guard *work, const mxv_guard *g, const void *buf, size_t len,
                  mxv_guard_refusal *why)
{
    mxv_guard_refusal r = {0};
    bool in_line;
    size_t ok = run(work, buf, len, &r, &in_line);
    if (ok == len)
        return true;
    if (why) {
        *why = r;
        why->ask = in_line && g->ask_clear;
        why->head[0] = '\0';
        if (in_line) {
            /* The line's start: the state before this chunk, then the chunk. */
            const uint8_t *p = buf;
            size_t line_start = ok;
            while (line_start > 0 && p[line_start - 1] != '\n')
                line_start--;
            mxv_guard before = *g;
            if (line_start > 0)
                before.linelen = 0;
            show_line(&before, p + line_start, len - line_start, why->head, sizeof(why->head));
        }
    }
    return false;
}

bool mxv_guard_check(const mxv_guard *g, const void *buf, size_t len, mxv_guard_refusal *why)
{
    mxv_guard copy = *g;
    return judge(&copy, g, buf, len, why);
}

bool mxv_guard_advance(mxv_guard *g, const void *buf, size_t len, mxv_guard_refusal *why)
{
    mxv_guard before = *g;
    return judge(g, &before, buf, len, why);
}

void mxv_guard_commit(mxv_guard *g, const void *buf, size_t len)
{
    bool in_line;
    run(g, buf, len, NULL, &in_line);
}

void mxv_guard_ask_clear(mxv_guard *g)
{
    g->ask_clear = true;
}

void mxv_guard_clear_answered(mxv_guard *g, mxv_guard_level level)
{
    g->ask_clear = false;
    g->level = level;
}

void mxv_guard_decided(mxv_guard *g, const uint8_t random[MXV_GUARD_RANDOM_LEN], bool pass)
{
    /* A decision for another handshake on a connection whose ClientHello
     * is known: a renegotiation inside the TLS session. Its pass changes
     * nothing; its failure ends the session as the first one's would. */
    if (hello_known(g) && memcmp(random, g->hello + 6, MXV_GUARD_RANDOM_LEN) != 0) {
        if (!pass && this_decision(g) == MXV_GUARD_PASSED)
            g->decision = MXV_GUARD_FAILED;
        return;
    }
    memcpy(g->decided_random, random, MXV_GUARD_RANDOM_LEN);
    g->decision = pass ? MXV_GUARD_PASSED : MXV_GUARD_FAILED;
}

void mxv_guard_kernel_tls(mxv_guard *g)
{
    /* Only a handshake that may carry data hands over to the kernel. */
    if (g->phase == MXV_GUARD_HANDSHAKE &&
        (g->level != MXV_GUARD_VERIFIED || this_decision(g) == MXV_GUARD_PASSED))
        g->phase = MXV_GUARD_KERNEL_TLS;
}

bool mxv_guard_hello_random(const mxv_guard *g, uint8_t out[MXV_GUARD_RANDOM_LEN])
{
    if (!hello_known(g))
        return false;
    memcpy(out, g->hello + 6, MXV_GUARD_RANDOM_LEN);
    return true;
}

size_t mxv_guard_unread(const mxv_guard *g)
{
    /* A body is read only while it is the first handshake message's. */
    bool reading = g->rec_type == CT_HANDSHAKE && !g->hello_done;
    return g->phase == MXV_GUARD_KERNEL_TLS || reading ? 0 : g->body_left;
}

void mxv_guard_skip(mxv_guard *g, size_t n)
{
    size_t unread = mxv_guard_unread(g);
    g->body_left -= (uint32_t)(n < unread ? n : unread);
}

bool mxv_guard_finished(const mxv_guard *g)
{
    return g->phase == MXV_GUARD_KERNEL_TLS || (g->level == MXV_GUARD_WATCH && g->hello_done);
}

bool mxv_guard_passed(const mxv_guard *g)
{
    return this_decision(g) == MXV_GUARD_PASSED;
}
