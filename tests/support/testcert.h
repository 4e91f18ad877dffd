/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testcert: certificates built in memory for tests (CA, intermediates,
 * leaves of every shape policy.md talks about). Keys are P-256 for speed,
 * RSA where a leaf asks for it.
 */
#ifndef MXV_TESTCERT_H
#define MXV_TESTCERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    X509 *cert;
    EVP_PKEY *key;
} tc_pair;

/* A name entry of a leaf: type "DNS", "IP", "email", "URI" for the SAN,
 * "CN" for the subject. len 0 means strlen(value); set it to embed NUL. */
typedef struct {
    const char *type;
    const char *value;
    size_t len;
} tc_name;

typedef struct {
    const tc_name *names; /* terminated by an entry with type NULL */
    long not_before_days; /* relative to now; default 0 = one day ago */
    long not_after_days;  /* relative to now; default 0 = +365 */
    bool self_signed;     /* ignore issuer: a self-signed leaf */
    bool cn_bmpstring;    /* encode CNs as BMPString instead of UTF8String */
    bool rsa;             /* an RSA key (2048 bits), for suites that need one */
} tc_leaf_spec;

tc_pair tc_make_ca(const char *cn, const tc_pair *issuer /* NULL: root */);
tc_pair tc_make_leaf(const tc_leaf_spec *spec, const tc_pair *issuer);
void tc_free(tc_pair *p);
/* Writes certificates (and no keys) as PEM, in order; true on success. */
bool tc_write_pem(const char *path, X509 *const *certs, size_t n);
bool tc_write_key(const char *path, EVP_PKEY *key);

#endif
