/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dane: a server's chain checked against the TLSA records of its host with
 * OpenSSL's own DANE (SSL_dane_enable, SSL_dane_tlsa_add,
 * X509_STORE_CTX_set0_dane), as DANE for SMTP asks (RFC 7672 section 3.1):
 *
 *   DANE-EE(3)  the leaf's certificate or public key matches; its names,
 *               dates and issuer are not checked (RFC 7671 section 5.1,
 *               DANE_FLAG_NO_DANE_EE_NAMECHECKS);
 *   DANE-TA(2)  the chain is built to the certificate or key that matches
 *               (sent by the server, or the record's own full key) and
 *               verified as a chain, dates included (below the trust
 *               anchor; as in Postfix, not those of an intermediate
 *               anchor itself). Its names are NOT
 *               checked here: the caller matches them with the project's
 *               matcher against the reference identifiers of RFC 7672
 *               section 3.2.2.
 *
 * Only usable records (mxv_tlsa_unusable() == NULL) are given to OpenSSL;
 * no trust store takes part, so nothing but DANE can authenticate. The
 * chain is checked offline (explain); the hooks will use the same records
 * on the live SSL.
 */
#ifndef MXV_DANE_H
#define MXV_DANE_H

#include "tlsa.h"

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    size_t usable;        /* how many of the records were usable (OpenSSL took them) */
    size_t refused;       /* usable-looking records OpenSSL refused: unusable */
    bool matched;         /* a usable record authenticated the chain */
    const mxv_tlsa *tlsa; /* the record that matched (one of those given; also when
                             the chain then failed, e.g. an expired leaf), or NULL */
    int depth;            /* the certificate it matched (0: the leaf), -1 if none */
    int error;            /* X509_V_OK when matched or nothing was checked (no usable
                             record, no leaf), else the chain's error */
    bool names_unchecked; /* a DANE-TA record matched: the chain is good, the leaf's
                             names are still the caller's to match before it passes */
} mxv_dane_result;

/*
 * The chain (`leaf` and the certificates the server sent after it, `sent`,
 * may be NULL) against `n` records. 1: checked, `out` says how (no usable
 * record: matched false, usable 0; records OpenSSL refused are counted in
 * out->refused, the first named in `err`); 0: it could not be checked
 * (the verification itself failed, out of memory), `err` says why.
 * Nothing is kept: `leaf` and `sent` stay the caller's.
 */
int mxv_dane_check(X509 *leaf, STACK_OF(X509) * sent, const mxv_tlsa *tlsa, size_t n,
                   mxv_dane_result *out, char *err, size_t errlen);

#endif
