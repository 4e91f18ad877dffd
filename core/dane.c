/* SPDX-License-Identifier: Apache-2.0 */
/* dane: a chain checked against TLSA records by OpenSSL's DANE (dane.h). */
#include "dane.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    char detail[256] = "";
    if (e)
        ERR_error_string_n(e, detail, sizeof(detail));
    ERR_clear_error();
    snprintf(err, errlen, "DANE: %s%s%s", what, *detail ? ": " : "", detail);
    return 0;
}

/* Adds the usable records to `ssl`; how many. A record OpenSSL refuses
 * (a full key that is no key) is unusable like any malformed one (RFC
 * 7671 section 4): it can match nothing; out->refused counts them and err
 * names the first. -1: DANE could not be used at all. */
static long add_usable(SSL *ssl, const mxv_tlsa *tlsa, size_t n, mxv_dane_result *out, char *err,
                       size_t errlen)
{
    long usable = 0;
    for (size_t i = 0; i < n; i++) {
        if (mxv_tlsa_unusable(&tlsa[i]))
            continue;
        int rc = SSL_dane_tlsa_add(ssl, tlsa[i].usage, tlsa[i].selector, tlsa[i].mtype,
                                   tlsa[i].data, tlsa[i].len);
        if (rc < 0) {
            fail(err, errlen, "DANE is not enabled");
            return -1;
        }
        if (rc == 0) {
            char text[64], what[128];
            snprintf(what, sizeof(what), "OpenSSL refused the record %s",
                     mxv_tlsa_format(&tlsa[i], text, sizeof(text)));
            if (!out->refused++)
                fail(err, errlen, what);
            else
                ERR_clear_error();
            continue;
        }
        usable++;
    }
    return usable;
}

/* Which of `tlsa` OpenSSL says matched. */
static const mxv_tlsa *matched_record(SSL *ssl, const mxv_tlsa *tlsa, size_t n, int *depth)
{
    uint8_t usage, selector, mtype;
    const unsigned char *data;
    size_t len;
    *depth = SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data, &len);
    for (size_t i = 0; *depth >= 0 && i < n; i++)
        if (tlsa[i].usage == usage && tlsa[i].selector == selector && tlsa[i].mtype == mtype &&
            tlsa[i].len == len && memcmp(tlsa[i].data, data, len) == 0)
            return &tlsa[i];
    return NULL;
}

/* One SSL_CTX with DANE enabled for every check, made at the first (an
 * SSL_CTX costs OpenSSL 3.0 more than a DANE-EE check itself); SSLs made
 * from it are each check's own, so threads share nothing else. */
static SSL_CTX *dane_ctx;
static pthread_once_t dane_ctx_once = PTHREAD_ONCE_INIT;

static void make_dane_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx && SSL_CTX_dane_enable(ctx) > 0)
        dane_ctx = ctx;
    else
        SSL_CTX_free(ctx);
}

int mxv_dane_check(X509 *leaf, STACK_OF(X509) * sent, const mxv_tlsa *tlsa, size_t n,
                   mxv_dane_result *out, char *err, size_t errlen)
{
    *out = (mxv_dane_result){.depth = -1, .error = X509_V_OK};
    pthread_once(&dane_ctx_once, make_dane_ctx);
    SSL *ssl = NULL;
    X509_STORE *store = X509_STORE_new(); /* empty: only DANE authenticates */
    X509_STORE_CTX *vctx = X509_STORE_CTX_new();
    int rc = 0;
    if (!dane_ctx || !store || !vctx || !(ssl = SSL_new(dane_ctx))) {
        fail(err, errlen, "cannot set up OpenSSL's DANE");
        goto done;
    }
    /* The base domain is only SNI here: no host is set on the verification
     * below, so OpenSSL checks no name (DANE-TA names are the caller's). */
    if (SSL_dane_enable(ssl, "dane.invalid") <= 0) {
        fail(err, errlen, "cannot enable DANE");
        goto done;
    }
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    long usable = add_usable(ssl, tlsa, n, out, err, errlen);
    if (usable < 0)
        goto done;
    out->usable = (size_t)usable;
    rc = 1;
    if (usable == 0 || !leaf)
        goto done;
    if (!X509_STORE_CTX_init(vctx, store, leaf, sent)) {
        rc = fail(err, errlen, "cannot set up the chain's verification");
        goto done;
    }
    X509_STORE_CTX_set0_dane(vctx, SSL_get0_dane(ssl));
    int ok = X509_STORE_CTX_set_default(vctx, "ssl_server") ? X509_verify_cert(vctx) : -1;
    if (ok < 0) { /* not a mismatch: the check could not be made */
        rc = fail(err, errlen, "the chain could not be verified");
        goto done;
    }
    out->error = ok > 0 ? X509_V_OK : X509_STORE_CTX_get_error(vctx);
    out->tlsa = matched_record(ssl, tlsa, n, &out->depth);
    out->matched = ok > 0 && out->tlsa != NULL;
    if (!out->matched && out->error == X509_V_OK)
        out->error = X509_V_ERR_DANE_NO_MATCH;
    out->names_unchecked = out->matched && out->tlsa->usage == MXV_TLSA_DANE_TA;
    ERR_clear_error();
done:
    X509_STORE_CTX_free(vctx);
    X509_STORE_free(store);
    SSL_free(ssl);
    return rc;
}
