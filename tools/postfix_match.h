/* SPDX-License-Identifier: Apache-2.0 */
/*
 * postfix_match: whether Postfix would accept a certificate's names, for
 * `mxverify audit`. Postfix does not use RFC 6125 as mxverify does: its
 * smtp(8) matches the DNS-IDs (the CN only when there are none) against
 * patterns, with Postfix 3.x defaults:
 *   level verify  smtp_tls_verify_cert_match = hostname
 *   level secure  smtp_tls_secure_cert_match = nexthop, dot-nexthop
 *   tls_wildcard_matches_multiple_labels = yes
 * so `*.example.com` matches `mx.a.example.com` at level verify, and any
 * subdomain of the recipient domain passes at level secure.
 * (Behaviour read from Postfix's tls_client.c; see NOTICE.)
 */
#ifndef MXV_POSTFIX_MATCH_H
#define MXV_POSTFIX_MATCH_H

#include <openssl/x509.h>
#include <stdbool.h>

/* Level verify: the certificate names the MX host. */
bool postfix_verify_matches(X509 *leaf, const char *host);
/* Level secure: the certificate names the next-hop domain or a subdomain. */
bool postfix_secure_matches(X509 *leaf, const char *nexthop);

#endif
