/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gnutls_anchors: the trust anchors a GnuTLS program loads itself (a CA
 * file, a directory, certificates in memory: Exim's
 * tls_verify_certificates, msmtp's tls_trust_file), handed to the engine
 * before its first decision, so that the chain is judged against them
 * plus mxverify's own (the system's, ca_file, ca_path), as it is for
 * OpenSSL programs, whose store the engine reads. The system trust
 * (gnutls_certificate_set_x509_system_trust) is mxverify's already.
 * Anchors of every credentials object of the process are pooled: the
 * program's own check, with its own credentials, still runs and its
 * refusal stands.
 */
#include "gnutls_anchors.h"
#include "gnutls_hooks.h"

#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct anchor {
    struct anchor *next;
    char *path; /* a file or directory, or NULL */
    bool directory;
    unsigned char *data; /* certificates in memory, when no path */
    size_t len;
    bool pem;
    bool given; /* handed to the engine */
} anchor;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static anchor *anchors;
static bool pending;

static void add(const char *path, bool directory, const void *data, size_t len, bool pem)
{
    anchor *a = calloc(1, sizeof(*a));
    if (!a)
        return;
    a->directory = directory;
    a->pem = pem;
    if (path)
        a->path = strdup(path);
    else if ((a->data = malloc(len)))
        memcpy(a->data, data, a->len = len);
    if (!a->path && !a->data) {
        free(a);
        return;
    }
    pthread_mutex_lock(&lock);
    a->next = anchors;
    anchors = a;
    pending = true;
    pthread_mutex_unlock(&lock);
}

void shim_gnutls_anchors_flush(const mxv_hook_api *api)
{
    if (!api || !api->program_anchors || !__atomic_load_n(&pending, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&lock);
    for (anchor *a = anchors; a; a = a->next) {
        if (!a->given) /* once, read or not: unreadable now is unreadable later */
            api->program_anchors(a->path, a->directory, a->data, a->len, a->pem);
        a->given = true;
    }
    pending = false;
    pthread_mutex_unlock(&lock);
}

SHIM_EXPORT int gnutls_certificate_set_x509_trust_file(gnutls_certificate_credentials_t cred,
                                                       const char *file, gnutls_x509_crt_fmt_t type)
{
    REAL(gnutls_certificate_set_x509_trust_file);
    if (!real_gnutls_certificate_set_x509_trust_file)
        return GNUTLS_E_INTERNAL_ERROR;
    int r = real_gnutls_certificate_set_x509_trust_file(cred, file, type);
    if (r > 0 && file && !shim_busy)
        add(file, false, NULL, 0, type == GNUTLS_X509_FMT_PEM);
    return r;
}

SHIM_EXPORT int gnutls_certificate_set_x509_trust_dir(gnutls_certificate_credentials_t cred,
                                                      const char *dir, gnutls_x509_crt_fmt_t type)
{
    REAL(gnutls_certificate_set_x509_trust_dir);
    if (!real_gnutls_certificate_set_x509_trust_dir)
        return GNUTLS_E_INTERNAL_ERROR;
    int r = real_gnutls_certificate_set_x509_trust_dir(cred, dir, type);
    if (r > 0 && dir && !shim_busy)
        add(dir, true, NULL, 0, type == GNUTLS_X509_FMT_PEM);
    return r;
}

SHIM_EXPORT int gnutls_certificate_set_x509_trust_mem(gnutls_certificate_credentials_t cred,
                                                      const gnutls_datum_t *ca,
                                                      gnutls_x509_crt_fmt_t type)
{
    REAL(gnutls_certificate_set_x509_trust_mem);
    if (!real_gnutls_certificate_set_x509_trust_mem)
        return GNUTLS_E_INTERNAL_ERROR;
    int r = real_gnutls_certificate_set_x509_trust_mem(cred, ca, type);
    if (r > 0 && ca && ca->data && !shim_busy)
        add(NULL, false, ca->data, ca->size, type == GNUTLS_X509_FMT_PEM);
    return r;
}
