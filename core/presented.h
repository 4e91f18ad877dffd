/* SPDX-License-Identifier: Apache-2.0 */
/*
 * presented: the identifiers a server's leaf certificate presents
 * (policy.md section 1): every subjectAltName dNSName (DNS-ID) and every
 * subject commonName (CN-ID). Other SAN types are never collected.
 */
#ifndef MXV_PRESENTED_H
#define MXV_PRESENTED_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum { MXV_ID_DNS = 0, MXV_ID_CN = 1 } mxv_id_type;

typedef struct {
    char *name; /* raw bytes as in the certificate, NUL-terminated copy */
    size_t len; /* true length: may be less than strlen() if name holds NUL */
    mxv_id_type type;
    bool valid; /* passes the rules of policy.md section 1 */
} mxv_presented_id;

typedef struct {
    mxv_presented_id *ids;
    size_t n;
    size_t n_dns; /* DNS-IDs, valid or not: any of them hides the CN (RFC 6125) */
} mxv_presented;

/* Fills `out` from the leaf; false only on allocation failure. */
bool mxv_presented_from_cert(X509 *leaf, mxv_presented *out);
void mxv_presented_clear(mxv_presented *p);
const char *mxv_id_type_name(mxv_id_type type);

#endif
