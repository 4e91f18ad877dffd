/* SPDX-License-Identifier: Apache-2.0 */
/* session_verdict: the chain's verdict kept with a TLS session (see the
 * header for why, and why it is safe). */
#include "session_verdict.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

/* "MXV1", flags, chain error, not-before, not-after, SHA-256 of the leaf:
 * fixed size, big-endian, so a record is either exactly this or ignored. */
#define MAGIC      "MXV1"
#define RECORD_LEN (4 + 1 + 4 + 8 + 8 + 32)
#define FLAG_OK    0x01

static bool asn1_time_t(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return false;
    *out = timegm(&tm);
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

static bool leaf_digest(X509 *leaf, unsigned char out[32])
{
    unsigned int len = 0;
    return leaf && X509_digest(leaf, EVP_sha256(), out, &len) && len == 32;
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
    if (oldlen && (oldlen != RECORD_LEN || memcmp(old, MAGIC, 4) != 0))
        return false; /* the program's own data: not ours to replace */
    unsigned char rec[RECORD_LEN];
    memcpy(rec, MAGIC, 4);
    rec[4] = v->chain_ok ? FLAG_OK : 0;
    put_be(rec + 5, (unsigned long long)(unsigned)v->chain_error, 4);
    put_be(rec + 9, (unsigned long long)(long long)v->not_before, 8);
    put_be(rec + 17, (unsigned long long)(long long)v->not_after, 8);
    if (!leaf_digest(leaf, rec + 25))
        return false;
    return SSL_SESSION_set1_ticket_appdata(session, rec, sizeof(rec)) == 1;
}

bool mxv_session_verdict_decode(const unsigned char *rec, size_t len,
                                const unsigned char leaf_sha256[32], mxv_session_verdict *out)
{
    if (len != RECORD_LEN || memcmp(rec, MAGIC, 4) != 0 || (rec[4] & ~FLAG_OK) != 0 ||
        memcmp(rec + 25, leaf_sha256, 32) != 0)
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
    size_t len = 0;
    unsigned char digest[32];
    return session && SSL_SESSION_get0_ticket_appdata((SSL_SESSION *)session, &rec, &len) && rec &&
           leaf_digest(leaf, digest) && mxv_session_verdict_decode(rec, len, digest, out);
}
