/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A chain against TLSA records with OpenSSL's DANE (core/dane.h): the
 * cases of RFC 7672 section 3.1 with chains built in memory. DANE-EE
 * ignores names and dates; DANE-TA builds the chain and checks dates (its
 * names are the caller's); unusable records authenticate nothing; a key
 * rollover publishes the current and the next record.
 */
#include "dane.h"
#include "testcert.h"
#include "unit_main.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

static tc_pair root, inter, leaf, expired, other;

static int setup(void)
{
    static const tc_name wrong[] = {{"DNS", "not-the-mx.example", 0}, {NULL, NULL, 0}};
    root = tc_make_ca("DANE root", NULL);
    inter = tc_make_ca("DANE intermediate", &root);
    leaf = tc_make_leaf(&(tc_leaf_spec){.names = wrong}, &inter);
    expired = tc_make_leaf(
        &(tc_leaf_spec){.names = wrong, .not_before_days = -30, .not_after_days = -1}, &inter);
    other = tc_make_leaf(&(tc_leaf_spec){.names = wrong}, &inter);
    return root.cert && inter.cert && leaf.cert && expired.cert && other.cert ? 0 : 1;
}

static int teardown(void)
{
    tc_free(&root), tc_free(&inter), tc_free(&leaf), tc_free(&expired), tc_free(&other);
    return 0;
}

/* A record for `cert`: selector Cert(0) or SPKI(1), matching type Full(0)
 * or SHA2-256(1). */
static mxv_tlsa record(uint8_t usage, uint8_t selector, uint8_t mtype, X509 *cert)
{
    mxv_tlsa t = {.usage = usage, .selector = selector, .mtype = mtype};
    unsigned char *der = NULL;
    int len = selector == 0 ? i2d_X509(cert, &der) : i2d_PUBKEY(X509_get0_pubkey(cert), &der);
    CU_ASSERT_FATAL(len > 0 && (size_t)len <= sizeof(t.data));
    if (mtype == 0) {
        memcpy(t.data, der, (size_t)len);
        t.len = (size_t)len;
    } else {
        unsigned int n = 0;
        CU_ASSERT_FATAL(EVP_Digest(der, (size_t)len, t.data, &n, EVP_sha256(), NULL));
        t.len = n;
    }
    OPENSSL_free(der);
    return t;
}

/* The chain leaf + sent (NULL-terminated) against records. */
static int check(X509 *ee, X509 *const *sent, const mxv_tlsa *tlsa, size_t n, mxv_dane_result *out,
                 char *err, size_t errlen)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    for (size_t i = 0; sent && sent[i]; i++)
        sk_X509_push(chain, sent[i]);
    int rc = mxv_dane_check(ee, chain, tlsa, n, out, err, errlen);
    sk_X509_free(chain);
    return rc;
}

static void test_dane_ee(void)
{
    mxv_dane_result r;
    char err[256] = "";
    /* The leaf's key: names and issuer wrong, nothing sent after it. */
    mxv_tlsa ee = record(3, 1, 1, leaf.cert);
    CU_ASSERT_EQUAL(check(leaf.cert, NULL, &ee, 1, &r, err, sizeof(err)), 1);
    CU_ASSERT_TRUE(r.matched);
    CU_ASSERT_EQUAL(r.depth, 0);
    CU_ASSERT_PTR_EQUAL(r.tlsa, &ee);
    CU_ASSERT_EQUAL(r.usable, 1);
    CU_ASSERT_FALSE(r.names_unchecked); /* DANE-EE: names do not count */
    /* An expired leaf whose certificate matches: dates are not checked. */
    mxv_tlsa old = record(3, 0, 1, expired.cert);
    CU_ASSERT_EQUAL(check(expired.cert, NULL, &old, 1, &r, err, sizeof(err)), 1);
    CU_ASSERT_TRUE(r.matched);
    /* Another key: no match. */
    CU_ASSERT_EQUAL(check(other.cert, NULL, &ee, 1, &r, err, sizeof(err)), 1);
    CU_ASSERT_FALSE(r.matched);
    CU_ASSERT_PTR_NULL(r.tlsa);
    CU_ASSERT_EQUAL(r.error, X509_V_ERR_DANE_NO_MATCH);
    /* A rollover: the current key's record and the next one's. */
    mxv_tlsa both[2] = {record(3, 1, 1, other.cert), record(3, 1, 1, leaf.cert)};
    CU_ASSERT_EQUAL(check(leaf.cert, NULL, both, 2, &r, err, sizeof(err)), 1);
    CU_ASSERT_TRUE(r.matched);
    CU_ASSERT_PTR_EQUAL(r.tlsa, &both[1]);
    CU_ASSERT_EQUAL(check(other.cert, NULL, both, 2, &r, err, sizeof(err)), 1);
    CU_ASSERT_PTR_EQUAL(r.tlsa, &both[0]);
}

static void test_dane_ta(void)
{
    mxv_dane_result r;
    char err[256] = "";
    X509 *sent_inter[] = {inter.cert, NULL}, *sent_both[] = {inter.cert, root.cert, NULL};
    /* The intermediate, sent by the server. */
    mxv_tlsa ta = record(2, 0, 1, inter.cert);
    CU_ASSERT_EQUAL(check(leaf.cert, sent_inter, &ta, 1, &r, err, sizeof(err)), 1);
    CU_ASSERT_TRUE(r.matched);
    CU_ASSERT_EQUAL(r.depth, 1);
    CU_ASSERT_TRUE(r.names_unchecked); /* DANE-TA: the leaf's names are the caller's */
    CU_ASSERT_EQUAL(r.error, X509_V_OK);
    /* The root, sent. */
    mxv_tlsa top = record(2, 1, 1, root.cert);
    CU_ASSERT_EQUAL(check(leaf.cert, sent_both, &top, 1, &r, err, sizeof(err)), 1);
    CU_ASSERT_TRUE(r.matched);
    CU_ASSERT_EQUAL(r.depth, 2);
    /* The root not sent, its full key in the record. */
    mxv_tlsa full = record(2, 1, 0, root.cert);
    CU_ASSERT_EQUAL(check(leaf.cert, sent_inter, &full, 1, &r, err, sizeof(err)), 1);
    CU_ASSERT_TRUE(r.matched);
    /* The root's digest, not sent: nothing to build to. */
    CU_ASSERT_EQUAL(check(leaf.cert, sent_inter, &top, 1, &r, err, sizeof(err)), 1);
    CU_ASSERT_FALSE(r.matched);
    /* The intermediate matches, the leaf has expired: dates count. */
    CU_ASSERT_EQUAL(check(expired.cert, sent_inter, &ta, 1, &r, err, sizeof(err)), 1);
    CU_ASSERT_FALSE(r.matched);
    CU_ASSERT_FALSE(r.names_unchecked);
    CU_ASSERT_EQUAL(r.error, X509_V_ERR_CERT_HAS_EXPIRED);
    CU_ASSERT_PTR_EQUAL(r.tlsa, &ta); /* the record matched; the chain failed */
    CU_ASSERT_EQUAL(r.depth, 1);
    /* DANE-TA naming the leaf itself: a trust anchor is never the leaf. */
    mxv_tlsa self = record(2, 0, 1, leaf.cert);
    CU_ASSERT_EQUAL(check(leaf.cert, sent_inter, &self, 1, &r, err, sizeof(err)), 1);
    CU_ASSERT_FALSE(r.matched);
    CU_ASSERT_NOT_EQUAL(r.error, X509_V_OK);
    /* The intermediate not sent: no chain to it. */
    CU_ASSERT_EQUAL(check(leaf.cert, NULL, &ta, 1, &r, err, sizeof(err)), 1);
    CU_ASSERT_FALSE(r.matched);
}

static void test_unusable(void)
{
    mxv_dane_result r;
    char err[256] = "";
    /* PKIX-EE and PKIX-TA that would match: not used, nothing authenticated. */
    mxv_tlsa pkix[2] = {record(1, 1, 1, leaf.cert), record(0, 0, 1, root.cert)};
    CU_ASSERT_EQUAL(check(leaf.cert, NULL, pkix, 2, &r, err, sizeof(err)), 1);
    CU_ASSERT_EQUAL(r.usable, 0);
    CU_ASSERT_FALSE(r.matched);
    CU_ASSERT_EQUAL(r.error, X509_V_OK); /* nothing was checked */
    CU_ASSERT_PTR_NULL(r.tlsa);
    /* ... and beside a DANE-EE record that does not match: no match. */
    mxv_tlsa mixed[2] = {record(1, 1, 1, leaf.cert), record(3, 1, 1, other.cert)};
    CU_ASSERT_EQUAL(check(leaf.cert, NULL, mixed, 2, &r, err, sizeof(err)), 1);
    CU_ASSERT_EQUAL(r.usable, 1);
    CU_ASSERT_FALSE(r.matched);
    CU_ASSERT_EQUAL(r.error, X509_V_ERR_DANE_NO_MATCH);
    /* A DANE-TA record with a full key that is not a key: OpenSSL refuses
     * it; it is unusable (it could match nothing), counted and named. */
    mxv_tlsa bad = {.usage = 2, .selector = 1, .mtype = 0, .len = 4, .data = {1, 2, 3, 4}};
    CU_ASSERT_EQUAL(check(leaf.cert, NULL, &bad, 1, &r, err, sizeof(err)), 1);
    CU_ASSERT_EQUAL(r.refused, 1);
    CU_ASSERT_EQUAL(r.usable, 0);
    CU_ASSERT_FALSE(r.matched);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "OpenSSL refused the record 2 1 0 01020304"));
    /* Beside a record that matches, the refused one changes nothing. */
    mxv_tlsa both[2] = {bad, record(3, 1, 1, leaf.cert)};
    CU_ASSERT_EQUAL(check(leaf.cert, NULL, both, 2, &r, err, sizeof(err)), 1);
    CU_ASSERT_EQUAL(r.refused, 1);
    CU_ASSERT_TRUE(r.matched);
    CU_ASSERT_PTR_EQUAL(r.tlsa, &both[1]);
}

int main(void)
{
    static const unit_test tests[] = {{"DANE-EE", test_dane_ee},
                                      {"DANE-TA", test_dane_ta},
                                      {"unusable and refused records", test_unusable},
                                      {NULL, NULL}};
    return unit_run("dane", setup, teardown, tests);
}
