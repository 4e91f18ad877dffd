/* SPDX-License-Identifier: Apache-2.0 */
/* gnutls_resume: certificates of saved GnuTLS sessions (gnutls_resume.c). */
#ifndef MXV_SHIM_GNUTLS_RESUME_H
#define MXV_SHIM_GNUTLS_RESUME_H

#include <stdbool.h>
#include <stddef.h>

#define SHIM_CHAIN_MAX 16

/* Certificates, DER, leaf first; owned. */
typedef struct {
    unsigned char *der[SHIM_CHAIN_MAX];
    size_t len[SHIM_CHAIN_MAX];
    size_t n;
} shim_chain;

/* dst (freed first) becomes a copy of the n certificates; false: out of memory. */
bool shim_chain_copy(shim_chain *dst, const unsigned char *const *der, const size_t *len, size_t n);
void shim_chain_free(shim_chain *c);
/* The session saved as `data` had these certificates (a pass decision). */
void shim_resume_remember(const void *data, size_t size, const shim_chain *chain);
/* The certificates of the session saved as `data`, copied into out. */
bool shim_resume_find(const void *data, size_t size, shim_chain *out);

#endif
