/* SPDX-License-Identifier: Apache-2.0 */
/*
 * names: the `~=` relation of policy.md section 1 (RFC 6125 section 6.4).
 *
 * Presented identifiers come from certificates and are untrusted bytes
 * (length-counted, may hold NUL). Reference identifiers are normalised once
 * (lower case, one trailing dot removed, IDN in A-label form) and then
 * compared many times.
 */
#ifndef MXV_NAMES_H
#define MXV_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define MXV_NAME_MAX 253 /* octets of a DNS name in text form, no trailing dot */

/* True when the presented name may take part in matching at all. */
bool mxv_presented_valid(const char *name, size_t len);

/* The `~=` relation: presented (raw bytes) against a normalised reference. */
bool mxv_name_matches(const char *presented, size_t len, const char *reference);

/*
 * Normalises a reference identifier into out (MXV_NAME_MAX + 1 bytes).
 * Accepts U-labels (UTF-8) and converts them to A-labels. Returns false with
 * a reason in `why` when the name is not a usable host name.
 */
bool mxv_reference_normalize(const char *in, char *out, size_t outlen, const char **why);

/* True when s is a literal IPv4 or IPv6 address. */
bool mxv_is_ip_literal(const char *s);
/* A host name as a person may write one (a normalised reference): no label
 * starts or ends with a hyphen, no empty A-label. false with *why. For
 * names from settings; names from DNS are taken as DNS gives them. */
bool mxv_host_name_ok(const char *name, const char **why);

#endif
