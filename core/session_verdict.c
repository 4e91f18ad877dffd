/* SPDX-License-Identifier: Apache-2.0 */
/* session_verdict: the chain's verdict kept with a TLS session (see the
 * header for why, and why it is safe). */
#include "session_verdict.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

/* Magic, flags, chain error, not-before, not-after, the leaf's digest:
 * fixed size, big-endian, so a record is either exactly this or ignored.
 * "MXV2" records (written) bind the leaf by its SHA-1, which OpenSSL
 * computes once per certificate, when it first checks its extensions (the
 * chain's verification has, by the time a record is stored: X509_digest()
 * then copies it);
 * "MXV1" records (written before 0.1.x, read so that sessions already in
 * a program's cache still resume) by its SHA-256, computed here. */
#define MAGIC_SHA1   "MXV2"
#define MAGIC_SHA256 "MXV1"
#define HEADER_LEN   (4 + 1 + 4 + 8 + 8)
#define FLAG_OK      0x01

/* Seconds since the epoch. OpenSSL's own day count (OPENSSL_gmtime_diff)
 * rather than timegm(), which normalises through the time zone code at
 * ten times the cost, four times a delivery. */
static bool asn1_time_t(const ASN1_TIME *t, time_t *out)
{
    static const struct tm epoch = {.tm_year = 70, .tm_mday = 1};
    struct tm tm;
    int days, secs;
    if (!t || !ASN1_TIME_to_tm(t, &tm) || !OPENSSL_gmtime_diff(&days, &secs, &epoch, &tm))
        return false;
    *out = (time_t)days * 86400 + secs;
    return true;
}

bool mxv_chain_window(STACK_OF(X509) * chain, time_t *not_before, time_t *not_after)
{
    int n = sk_X509_num(chain);
    if (n <= 0)
        return false;
    for (int i = 0; i < n; i++) {
        X509 *c = sk_X509_value(chain, i);
        time_t nb, na;
        if (!asn1_time_t(X509_get0_notBefore(c), &nb) || !asn1_time_t(X509_get0_notAfter(c), &na))
            return false;
        if (i == 0 || nb > *not_before)
            *not_before = nb;
        if (i == 0 || na < *not_after)
            *not_after = na;
    }
    return true;
}

/* The leaf's digest of digest_len octets: 20, SHA-1 (OpenSSL's own,
 * cached with the certificate's extensions: no hashing here once it was
 * verified), or 32, SHA-256. */
static bool leaf_digest(X509 *leaf, unsigned char *out, size_t digest_len)
{
    unsigned int len = 0;
    const EVP_MD *md = digest_len == 20 ? EVP_sha1() : digest_len == 32 ? EVP_sha256() : NULL;
    return leaf && md && X509_digest(leaf, md, out, &len) && len == digest_len;
}

/* The digest length a record's magic names, 0 for none. */
static size_t digest_len_of(const unsigned char *rec, size_t len)
{
    if (len >= 4 && memcmp(rec, MAGIC_SHA1, 4) == 0)
        return 20;
    if (len >= 4 && memcmp(rec, MAGIC_SHA256, 4) == 0)
        return 32;
    return 0;
}

static void put_be(unsigned char *p, unsigned long long v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static unsigned long long get_be(const unsigned char *p, int bytes)
{
    unsigned long long v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    return v;
}

bool mxv_session_verdict_store(SSL_SESSION *session, X509 *leaf, const mxv_session_verdict *v)
{
    void *old = NULL;
    size_t oldlen = 0;
    if (!session || !SSL_SESSION_get0_ticket_appdata(session, &old, &oldlen))
        return false;
    size_t old_digest = oldlen ? digest_len_of(old, oldlen) : 0;
    if (oldlen && (!old_digest || oldlen != HEADER_LEN + old_digest))
        return false; /* the program's own data: not ours to replace */
    unsigned char rec[HEADER_LEN + 20];
    memcpy(rec, MAGIC_SHA1, 4);
    rec[4] = v->chain_ok ? FLAG_OK : 0;
    put_be(rec + 5, (unsigned long long)(unsigned)v->chain_error, 4);
    put_be(rec + 9, (unsigned long long)(long long)v->not_before, 8);
    put_be(rec + 17, (unsigned long long)(long long)v->not_after, 8);
    if (!leaf_digest(leaf, rec + HEADER_LEN, 20))
        return false;
    return SSL_SESSION_set1_ticket_appdata(session, rec, sizeof(rec)) == 1;
}

bool mxv_session_verdict_decode(const unsigned char *rec, size_t len,
                                const unsigned char *leaf_digest, size_t digest_len,
                                mxv_session_verdict *out)
{
    if (digest_len == 0 || digest_len_of(rec, len) != digest_len ||
        len != HEADER_LEN + digest_len || (rec[4] & ~FLAG_OK) != 0 ||
        memcmp(rec + HEADER_LEN, leaf_digest, digest_len) != 0)
        return false;
    mxv_session_verdict v = {
        .chain_ok = rec[4] & FLAG_OK,
        .chain_error = (int)(unsigned)get_be(rec + 5, 4),
        .not_before = (time_t)(long long)get_be(rec + 9, 8),
        .not_after = (time_t)(long long)get_be(rec + 17, 8),
    };
    /* A passing chain has no error; a failing one has one; a window is a
     * window. Anything else was not written by mxv_session_verdict_store(). */
    if (v.chain_ok != (v.chain_error == 0) || v.chain_error < 0 || v.not_before > v.not_after)
        return false;
    *out = v;
    return true;
}

bool mxv_session_verdict_load(const SSL_SESSION *session, X509 *leaf, mxv_session_verdict *out)
{
    void *rec = NULL;
    size_t len = 0, digest_len;
    unsigned char digest[32];
    return session && SSL_SESSION_get0_ticket_appdata((SSL_SESSION *)session, &rec, &len) && rec &&
           (digest_len = digest_len_of(rec, len)) && leaf_digest(leaf, digest, digest_len) &&
           mxv_session_verdict_decode(rec, len, digest, digest_len, out);
}
