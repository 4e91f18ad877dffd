/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lookup_txt: TXT lookups through the policy's resolver, for the command
 * (`tlsrpt` reads the _smtp._tls.DOMAIN record of RFC 8460 section 3), so
 * --unbound-conf worlds and DNSSEC settings apply to them too. Not public
 * API: exported through libmxverify's private version node.
 */
#ifndef MXV_LOOKUP_TXT_H
#define MXV_LOOKUP_TXT_H

#include "mxverify.h"

#include <stddef.h>

#if defined(MXV_BUILDING)
#define MXV_LOOKUP_TXT_API __attribute__((visibility("default")))
#else
#define MXV_LOOKUP_TXT_API
#endif

#define MXV_RR_TXT_TYPE 16

/*
 * The TXT records at `name` (a DNS name as it is, underscore labels
 * allowed; trailing dot optional), each record's character-strings
 * concatenated into one NUL-terminated string, in a NULL-terminated array
 * (free with mxv_free_list) of *n strings. A NUL byte inside a record is
 * written as DEL (0x7f), so that it can neither cut a record short nor
 * pass a check of printable text; a record whose character-strings
 * overrun its RDATA is left out. Returns like mxv_lookup_mx: 1 records
 * found, 0 none (NXDOMAIN or no TXT record), -1 the lookup failed
 * (temporary; err says why); err is set for 0 and -1.
 */
MXV_LOOKUP_TXT_API int mxv_lookup_txt(mxv_policy *policy, const char *name, char ***records,
                                      size_t *n, char *err, size_t errlen);

#endif
