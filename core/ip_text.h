/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ip_text: inet_ntop(), with IPv4 addresses formatted here.
 *
 * glibc formats an IPv4 address with sprintf("%u.%u.%u.%u"): about 1,700
 * instructions, and a delivery formats three or four (the peer and local
 * addresses of the decision, the shim's connection). This does the same
 * in about a hundred; IPv6 stays glibc's (its zero compression is not
 * worth writing again). docs/decisions.md says why this is not a library.
 */
#ifndef MXV_IP_TEXT_H
#define MXV_IP_TEXT_H

#include <stddef.h>

/* As inet_ntop(3): `addr` is a struct in_addr (AF_INET) or in6_addr
 * (AF_INET6) in network order; writes the text and its NUL into `out`
 * (`outlen` octets) and returns `out`, or NULL with errno EAFNOSUPPORT
 * (another family) or ENOSPC (too small; `out` is then left alone). */
const char *mxv_inet_ntop(int family, const void *addr, char *out, size_t outlen);

#endif
