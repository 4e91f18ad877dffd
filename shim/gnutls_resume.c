/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gnutls_resume: the certificates of the GnuTLS sessions this process
 * saved (gnutls_session_get_data*), by the saved data. A resumption
 * carries no certificate; GnuTLS gives the session's back only once the
 * handshake is over, after this client's encrypted Finished has left,
 * which the guard lets through only after a pass decision. So a
 * resumption is decided, before that Finished, with the certificates
 * kept here; one whose certificates are not known here (saved by another
 * process) is not attempted: the handshake is a full one.
 */
#include "gnutls_resume.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEPT 64 /* sessions remembered; the oldest is forgotten first */

typedef struct {
    unsigned char *data; /* the saved session data */
    size_t size;
    shim_chain chain;
} kept;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static kept ring[KEPT];
static size_t next;

void shim_chain_free(shim_chain *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->der[i]);
    memset(c, 0, sizeof(*c));
}

bool shim_chain_copy(shim_chain *dst, const unsigned char *const *der, const size_t *len, size_t n)
{
    shim_chain_free(dst);
    for (size_t i = 0; i < n && i < SHIM_CHAIN_MAX; i++) {
        dst->der[i] = malloc(len[i]);
        if (!dst->der[i]) {
            shim_chain_free(dst);
            return false;
        }
        memcpy(dst->der[i], der[i], len[i]);
        dst->len[i] = len[i];
        dst->n = i + 1;
    }
    return true;
}

void shim_resume_remember(const void *data, size_t size, const shim_chain *chain)
{
    kept k = {.data = malloc(size), .size = size};
    if (!k.data || !chain->n ||
        !shim_chain_copy(&k.chain, (const unsigned char *const *)chain->der, chain->len,
                         chain->n)) {
        free(k.data);
        return;
    }
    memcpy(k.data, data, size);
    pthread_mutex_lock(&lock);
    kept old = ring[next];
    ring[next] = k;
    next = (next + 1) % KEPT;
    pthread_mutex_unlock(&lock);
    free(old.data);
    shim_chain_free(&old.chain);
}

bool shim_resume_find(const void *data, size_t size, shim_chain *out)
{
    bool found = false;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < KEPT && !found; i++)
        if (ring[i].data && ring[i].size == size && memcmp(ring[i].data, data, size) == 0)
            found = shim_chain_copy(out, (const unsigned char *const *)ring[i].chain.der,
                                    ring[i].chain.len, ring[i].chain.n);
    pthread_mutex_unlock(&lock);
    return found;
}
