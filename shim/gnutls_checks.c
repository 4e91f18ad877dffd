/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gnutls_checks: the checks a GnuTLS program makes of the server's
 * certificate after (or inside) the handshake, gnutls_certificate_verify_peers*
 * and gnutls_x509_crt_check_hostname*. Where the policy's identity stands
 * for the program's name check (the verifying modes, as for OpenSSL
 * programs, whose host name is cleared), they report the policy's verdict
 * on the name, so that the program's own log agrees with mxverify's; every
 * other fault of the chain is reported as GnuTLS found it, and only for
 * the session that passed (hook_gnutls.c keeps which).
 */
#include "gnutls_hooks.h"

#include <gnutls/x509.h>

/* Where the policy passed and its identity stands for the program's name
 * check: the name mismatch GnuTLS found is not reported. */
static void policy_name_verdict(gnutls_session_t s, unsigned int *status)
{
    if (!shim_gnutls_name_replaced(s) || !(*status & GNUTLS_CERT_UNEXPECTED_OWNER))
        return;
    *status &= ~(unsigned)GNUTLS_CERT_UNEXPECTED_OWNER;
    if ((*status & ~(unsigned)GNUTLS_CERT_INVALID) == 0)
        *status = 0; /* the name was the only fault */
}

SHIM_EXPORT int gnutls_certificate_verify_peers2(gnutls_session_t s, unsigned int *status)
{
    REAL(gnutls_certificate_verify_peers2);
    if (!real_gnutls_certificate_verify_peers2)
        return GNUTLS_E_INTERNAL_ERROR;
    int r = real_gnutls_certificate_verify_peers2(s, status);
    if (r == GNUTLS_E_SUCCESS && status)
        policy_name_verdict(s, status);
    return r;
}

SHIM_EXPORT int gnutls_certificate_verify_peers3(gnutls_session_t s, const char *hostname,
                                                 unsigned int *status)
{
    REAL(gnutls_certificate_verify_peers3);
    if (!real_gnutls_certificate_verify_peers3)
        return GNUTLS_E_INTERNAL_ERROR;
    int r = real_gnutls_certificate_verify_peers3(s, hostname, status);
    if (r == GNUTLS_E_SUCCESS && status)
        policy_name_verdict(s, status);
    return r;
}

SHIM_EXPORT int gnutls_certificate_verify_peers(gnutls_session_t s, gnutls_typed_vdata_st *data,
                                                unsigned int elements, unsigned int *status)
{
    REAL(gnutls_certificate_verify_peers);
    if (!real_gnutls_certificate_verify_peers)
        return GNUTLS_E_INTERNAL_ERROR;
    int r = real_gnutls_certificate_verify_peers(s, data, elements, status);
    if (r == GNUTLS_E_SUCCESS && status)
        policy_name_verdict(s, status);
    return r;
}

/* Is cert the leaf this thread's last handshake passed with the policy's
 * identity? */
static bool passed_here(gnutls_x509_crt_t cert)
{
    REAL(gnutls_x509_crt_export2);
    gnutls_datum_t der = {0};
    if (!real_gnutls_x509_crt_export2 ||
        real_gnutls_x509_crt_export2(cert, GNUTLS_X509_FMT_DER, &der) != GNUTLS_E_SUCCESS)
        return false;
    bool same = shim_gnutls_passed_leaf(der.data, der.size);
    gnutls_free_function *free_fn = (gnutls_free_function *)shim_gnutls_real("gnutls_free");
    if (free_fn && *free_fn)
        (*free_fn)(der.data);
    return same;
}

SHIM_EXPORT unsigned gnutls_x509_crt_check_hostname(gnutls_x509_crt_t cert, const char *hostname)
{
    REAL(gnutls_x509_crt_check_hostname);
    if (!real_gnutls_x509_crt_check_hostname)
        return 0;
    unsigned r = real_gnutls_x509_crt_check_hostname(cert, hostname);
    return r || !passed_here(cert) ? r : 1;
}

SHIM_EXPORT unsigned gnutls_x509_crt_check_hostname2(gnutls_x509_crt_t cert, const char *hostname,
                                                     unsigned flags)
{
    REAL(gnutls_x509_crt_check_hostname2);
    if (!real_gnutls_x509_crt_check_hostname2)
        return 0;
    unsigned r = real_gnutls_x509_crt_check_hostname2(cert, hostname, flags);
    return r || !passed_here(cert) ? r : 1;
}
