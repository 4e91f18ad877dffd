/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prefetch: DNS evidence gathered in the background from the moment a
 * program starts a connection (or asks DNS for a domain's MX), so that the
 * answers are in the resolver's cache when the certificate arrives a few
 * round trips later, instead of costing MX + PTR + A in series then.
 *
 * The caches are asked first, in the caller's thread and without waiting
 * (dns.h's cache-only mode): when they hold every answer, as they do for
 * a destination this process or another (dns_cache) met lately, there is
 * nothing to fetch. Otherwise one worker thread per process, started at
 * the first such job, looks up; jobs beyond a small bound are dropped
 * (the decision then simply looks up itself).
 */
#ifndef MXV_PREFETCH_H
#define MXV_PREFETCH_H

#include "mxverify.h"

/* Queues the lookups a decision for (domain, ip) would make, and DANE's
 * for the MX host `host` at `port` when DANE is on; any may be NULL. */
void mxv_prefetch(mxv_policy *policy, const char *domain, const char *ip, const char *host,
                  unsigned port);
/* In a forked child: the worker did not survive the fork; forget it. */
void mxv_prefetch_forget_after_fork(void);

#endif
