/* SPDX-License-Identifier: Apache-2.0 */
/* test_session_verdict: the chain's verdict kept in a TLS session survives
 * what programs do with sessions (i2d/d2i, as Postfix's cache does), stays
 * bound to its leaf, and refuses what it did not write. */
#include "session_verdict.h"
#include "testcert.h"
#include "unit_main.h"

#include <openssl/ssl.h>
#include <string.h>

static tc_pair ca, leaf, other;

static int setup(void)
{
    static const tc_name names[] = {{"DNS", "mx.example.net", 0}, {NULL, NULL, 0}};
    tc_leaf_spec spec = {.names = names};
    ca = tc_make_ca("session verdict CA", NULL);
    leaf = tc_make_leaf(&spec, &ca);
    other = tc_make_leaf(&spec, &ca);
    return ca.cert && leaf.cert && other.cert ? 0 : 1;
}

static int teardown(void)
{
    tc_free(&ca);
    tc_free(&leaf);
    tc_free(&other);
    return 0;
}

/* A session as a program would save it and read it back. */
static SSL_SESSION *round_trip(SSL_SESSION *s)
{
    unsigned char *der = NULL;
    int len = i2d_SSL_SESSION(s, &der);
    const unsigned char *p = der;
    SSL_SESSION *back = len > 0 ? d2i_SSL_SESSION(NULL, &p, len) : NULL;
    OPENSSL_free(der);
    return back;
}

/* A session complete enough to be serialised: version, cipher, key. */
static SSL_SESSION *full_session(void)
{
    static const unsigned char aes128gcm[2] = {0x13, 0x01}, key[48] = {1};
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    const SSL_CIPHER *cipher = ssl ? SSL_CIPHER_find(ssl, aes128gcm) : NULL;
    SSL_SESSION *s = SSL_SESSION_new();
    if (!cipher || !s || !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION) ||
        !SSL_SESSION_set_cipher(s, cipher) || !SSL_SESSION_set1_master_key(s, key, sizeof(key))) {
        SSL_SESSION_free(s);
        s = NULL;
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return s;
}

static void test_survives_serialisation(void)
{
    SSL_SESSION *s = full_session();
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    mxv_session_verdict in = {.chain_ok = true, .not_before = 1000, .not_after = 2000000000}, out;
    CU_ASSERT_TRUE(mxv_session_verdict_store(s, leaf.cert, &in));
    SSL_SESSION *back = round_trip(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT_TRUE(mxv_session_verdict_load(back, leaf.cert, &out));
    CU_ASSERT_TRUE(out.chain_ok);
    CU_ASSERT_EQUAL(out.chain_error, 0);
    CU_ASSERT_EQUAL(out.not_before, 1000);
    CU_ASSERT_EQUAL(out.not_after, 2000000000);
    /* A copy (what a TLS 1.3 ticket makes of the session) keeps it too. */
    SSL_SESSION *dup = SSL_SESSION_dup(back);
    CU_ASSERT_TRUE(mxv_session_verdict_load(dup, leaf.cert, &out));
    SSL_SESSION_free(dup);
    SSL_SESSION_free(back);
    SSL_SESSION_free(s);
}

static void test_failure_kept(void)
{
    SSL_SESSION *s = SSL_SESSION_new();
    mxv_session_verdict in = {.chain_error = X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT}, out;
    CU_ASSERT_TRUE(mxv_session_verdict_store(s, leaf.cert, &in));
    CU_ASSERT_TRUE(mxv_session_verdict_load(s, leaf.cert, &out));
    CU_ASSERT_FALSE(out.chain_ok);
    CU_ASSERT_EQUAL(out.chain_error, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    SSL_SESSION_free(s);
}

static void test_bound_to_its_leaf(void)
{
    SSL_SESSION *s = SSL_SESSION_new();
    mxv_session_verdict in = {.chain_ok = true, .not_before = 1, .not_after = 2}, out;
    CU_ASSERT_TRUE(mxv_session_verdict_store(s, leaf.cert, &in));
    CU_ASSERT_FALSE(mxv_session_verdict_load(s, other.cert, &out));
    CU_ASSERT_FALSE(mxv_session_verdict_load(s, NULL, &out));
    SSL_SESSION_free(s);
}

/* The session's ticket_appdata is `total` octets long and starts with
 * `want` (`len` octets). */
static bool appdata_starts(SSL_SESSION *s, const void *want, size_t len, size_t total)
{
    void *data = NULL;
    size_t have = 0;
    SSL_SESSION_get0_ticket_appdata(s, &data, &have);
    return have == total && data && memcmp(data, want, len) == 0;
}

static void test_programs_own_data_left_alone(void)
{
    SSL_SESSION *s = SSL_SESSION_new();
    mxv_session_verdict in = {.chain_ok = true, .not_before = 1, .not_after = 2}, out;
    CU_ASSERT_TRUE(SSL_SESSION_set1_ticket_appdata(s, "program data", 12));
    CU_ASSERT_FALSE(mxv_session_verdict_store(s, leaf.cert, &in));
    CU_ASSERT_FALSE(mxv_session_verdict_load(s, leaf.cert, &out));
    CU_ASSERT_TRUE(appdata_starts(s, "program data", 12, 12));
    SSL_SESSION_free(s);
    /* a record's length without a record's magic: the program's too, for
     * both formats' lengths (25 octets is a record's header alone) */
    static const size_t lengths[] = {25, 45, 57};
    for (size_t i = 0; i < 3; i++) {
        unsigned char own[57];
        memset(own, 'p', sizeof(own));
        s = SSL_SESSION_new();
        CU_ASSERT_TRUE(SSL_SESSION_set1_ticket_appdata(s, own, lengths[i]));
        CU_ASSERT_FALSE(mxv_session_verdict_store(s, leaf.cert, &in));
        CU_ASSERT_TRUE(appdata_starts(s, own, lengths[i], lengths[i]));
        SSL_SESSION_free(s);
    }
    s = SSL_SESSION_new();
    CU_ASSERT_FALSE(mxv_session_verdict_load(s, leaf.cert, &out)); /* nothing stored */
    SSL_SESSION_free(s);
}

/* Records mxv_session_verdict_store() never writes: each refused, in
 * both formats ("MXV2": the leaf's SHA-1, written; "MXV1": its SHA-256,
 * written by earlier versions and still read). */
static void test_malformed_records(void)
{
    static const struct {
        const char *magic;
        size_t digest_len;
    } formats[] = {{"MXV2", 20}, {"MXV1", 32}};
    static const struct {
        const char *why;
        int at;
        unsigned char value;
    } rows[] = {
        {"wrong magic", 0, 'X'},
        {"unknown flag bit", 4, 0x03},
        {"ok flag with an error code", 8, 0x05},
        {"not-before after not-after", 9, 0x7f},
    };
    for (size_t f = 0; f < 2; f++) {
        size_t dl = formats[f].digest_len, len = 25 + dl;
        unsigned char digest[32] = {0}, rec[57];
        mxv_session_verdict out;
        /* A valid base: ok, error 0, window [0, 1], digest of zeros. */
        memset(rec, 0, sizeof(rec));
        memcpy(rec, formats[f].magic, 4);
        rec[4] = 1;
        rec[24] = 1;
        CU_ASSERT_TRUE(mxv_session_verdict_decode(rec, len, digest, dl, &out));
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            unsigned char bad[57];
            memcpy(bad, rec, sizeof(bad));
            bad[rows[i].at] = rows[i].value;
            if (mxv_session_verdict_decode(bad, len, digest, dl, &out))
                CU_FAIL(rows[i].why);
        }
        CU_ASSERT_FALSE(mxv_session_verdict_decode(rec, len - 1, digest, dl, &out)); /* short */
        CU_ASSERT_FALSE(mxv_session_verdict_decode(rec, len + 1, digest, dl, &out)); /* long */
        /* the other format's digest length for this magic */
        CU_ASSERT_FALSE(mxv_session_verdict_decode(rec, 25 + formats[1 - f].digest_len, digest,
                                                   formats[1 - f].digest_len, &out));
        digest[0] = 1;
        CU_ASSERT_FALSE(mxv_session_verdict_decode(rec, len, digest, dl, &out)); /* other leaf */
    }
}

/* A record of the first format (the leaf's SHA-256), in a session a
 * program cached before mxverify wrote SHA-1 records, still resumes. */
static void test_first_format_read(void)
{
    SSL_SESSION *s = SSL_SESSION_new();
    unsigned char rec[57] = "MXV1", digest[32];
    unsigned int dl = 0;
    rec[4] = 1;  /* ok */
    rec[16] = 1; /* not-before 1 */
    rec[24] = 2; /* not-after 2 */
    CU_ASSERT_TRUE(X509_digest(leaf.cert, EVP_sha256(), digest, &dl) && dl == 32);
    memcpy(rec + 25, digest, 32);
    CU_ASSERT_TRUE(SSL_SESSION_set1_ticket_appdata(s, rec, sizeof(rec)));
    mxv_session_verdict out = {0};
    CU_ASSERT_TRUE(mxv_session_verdict_load(s, leaf.cert, &out));
    CU_ASSERT_TRUE(out.chain_ok);
    CU_ASSERT_EQUAL(out.not_before, 1);
    CU_ASSERT_EQUAL(out.not_after, 2);
    CU_ASSERT_FALSE(mxv_session_verdict_load(s, ca.cert, &out)); /* another leaf */
    /* and a new verdict replaces it, in the current format */
    mxv_session_verdict in = {
        .chain_ok = false, .chain_error = X509_V_ERR_CERT_REVOKED, .not_before = 3, .not_after = 4};
    CU_ASSERT_TRUE(mxv_session_verdict_store(s, leaf.cert, &in));
    CU_ASSERT_TRUE(appdata_starts(s, "MXV2", 4, 45));
    CU_ASSERT_TRUE(mxv_session_verdict_load(s, leaf.cert, &out));
    CU_ASSERT_EQUAL(out.chain_error, X509_V_ERR_CERT_REVOKED);
    SSL_SESSION_free(s);
}

static void test_chain_window(void)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    time_t nb, na;
    CU_ASSERT_FALSE(mxv_chain_window(chain, &nb, &na)); /* empty */
    sk_X509_push(chain, leaf.cert);
    sk_X509_push(chain, ca.cert);
    CU_ASSERT_TRUE(mxv_chain_window(chain, &nb, &na));
    time_t now = time(NULL);
    CU_ASSERT(nb <= now && now <= na);
    sk_X509_free(chain);
    /* Known dates, before and after 1970, in both ASN.1 forms. */
    static const struct {
        const char *not_before, *not_after;
        time_t nb, na;
    } known[] = {
        {"500101000000Z", "20300101000000Z", -631152000, 1893456000},
        {"19991231235959Z", "491231235959Z", 946684799, 2524607999},
        {"700101000001Z", "21060207062816Z", 1, 4294967296},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        X509 *x = X509_new();
        ASN1_TIME *b = ASN1_TIME_new(), *a = ASN1_TIME_new();
        CU_ASSERT_FATAL(x && a && b && ASN1_TIME_set_string(b, known[i].not_before) &&
                        ASN1_TIME_set_string(a, known[i].not_after) && X509_set1_notBefore(x, b) &&
                        X509_set1_notAfter(x, a));
        chain = sk_X509_new_null();
        sk_X509_push(chain, x);
        CU_ASSERT_TRUE(mxv_chain_window(chain, &nb, &na));
        CU_ASSERT_EQUAL(nb, known[i].nb);
        CU_ASSERT_EQUAL(na, known[i].na);
        sk_X509_free(chain);
        ASN1_TIME_free(a);
        ASN1_TIME_free(b);
        X509_free(x);
    }
}

int main(void)
{
    static const unit_test tests[] = {
        {"the verdict survives i2d/d2i and SSL_SESSION_dup", test_survives_serialisation},
        {"a failing chain's error is kept", test_failure_kept},
        {"a verdict applies to its own leaf only", test_bound_to_its_leaf},
        {"a program's own ticket_appdata is never replaced", test_programs_own_data_left_alone},
        {"malformed records are refused", test_malformed_records},
        {"a record of the first format (SHA-256) is still read", test_first_format_read},
        {"a chain's validity window is the intersection of its dates", test_chain_window},
        {NULL, NULL},
    };
    return unit_run("session_verdict", setup, teardown, tests);
}
