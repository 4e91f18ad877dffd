/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sts_fetch: one MTA-STS policy fetch (RFC 8461 section 3.3) with libcurl:
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt, HTTPS only, SNI and a
 * WebPKI-valid certificate for mta-sts.DOMAIN (OpenSSL's host check, as
 * libcurl does it), no redirect followed, only status 200 with media type
 * text/plain, at most 64 KB of body, within a deadline.
 *
 * The server's addresses come from the caller (mxverify's own resolver):
 * libcurl does no name lookup, so the policy host is found with the same
 * DNS, and the same DNSSEC rules, as everything else mxverify decides on.
 * No proxy is used, whatever the environment says: a proxy would fetch
 * the policy through a resolver and a path mxverify cannot vouch for.
 */
#ifndef MXV_STS_FETCH_H
#define MXV_STS_FETCH_H

#include "sts_policy.h"

#include <openssl/x509_vfy.h>

#define MXV_STS_BODY_MAX 65536 /* RFC 8461 section 3.3: 64 KB */

/* Fetches and parses DOMAIN's policy from the server at one of `addrs`
 * (IPv4 or IPv6 literals, port 443), trusting the anchors in `store`.
 * NULL: a valid policy in *out. Else the RFC 8460 result type of the
 * failure, with why: "sts-webpki-invalid" (certificate not valid for
 * mta-sts.DOMAIN), "sts-policy-invalid" (served, but not a policy), or
 * "sts-policy-fetch-error" (everything else: status, media type, size,
 * timeout, connection, libcurl unavailable). */
const char *mxv_sts_fetch(const char *domain, const char *const *addrs, size_t naddrs,
                          X509_STORE *store, int timeout_ms, mxv_sts_policy *out, char *why,
                          size_t whylen);

#endif
