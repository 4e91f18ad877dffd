/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sts_lookup: the MTA-STS policy in force for a recipient domain, by the
 * cache rules of RFC 8461 section 5.1 (policy.md section 7, item 2):
 *
 * - the TXT record `_mta-sts.DOMAIN` is looked up at each decision (the
 *   DNS caches answer it for its TTL);
 * - a cached policy still within its max_age is used, whatever the TXT
 *   lookup says: a missing record or a failed lookup or fetch never drops
 *   it; when the record's id differs from the cached one, or half the
 *   policy's max_age has passed (RFC 8461 section 5.1: refreshed before
 *   it runs out), a refresh is due: made now by a caller that may fetch
 *   (the prefetch worker, `mxverify sts`), else left to them while the
 *   cached policy applies;
 * - no cached policy and an STSv1 record: the policy is fetched now,
 *   within the decision's deadline; a failed fetch means "no policy",
 *   with the RFC 8460 result type of the failure kept for the log;
 * - a subdomain never inherits its parent's policy (only DOMAIN's own
 *   record is asked).
 */
#ifndef MXV_STS_LOOKUP_H
#define MXV_STS_LOOKUP_H

#include "decision.h"
#include "sts_cache.h"

typedef enum {
    MXV_STS_FOUND,    /* a policy applies: `entry` */
    MXV_STS_ABSENT,   /* no policy announced (or a malformed record) */
    MXV_STS_UNFETCHED /* announced, not cached, and the fetch failed */
} mxv_sts_state;

typedef struct {
    mxv_sts_state state;
    mxv_sts_cached entry;
    bool fetched;                    /* entry was fetched by this lookup (else from a cache) */
    bool refresh_due;                /* the record's id differs from the cached policy's */
    char txt_id[MXV_STS_ID_MAX + 1]; /* the record's id, "" when none was read */
    char txt[256];                   /* the STSv1 record's text ("" when none), cut at 255 bytes */
    bool dns_failed;                 /* the record could not be looked up (SERVFAIL, timeout) */
    const char *error;               /* RFC 8460 result type of a failed fetch, else NULL */
    char why[600];                   /* what went wrong, or why no policy; "" when nothing to say */
} mxv_sts_found;

/* How far a lookup may go: from the caches and DNS only; fetching only
 * when no policy is cached (a delivery); fetching also to refresh a
 * policy whose record changed (the background worker, the command). */
typedef enum { MXV_STS_NO_FETCH, MXV_STS_FETCH_MISSING, MXV_STS_FETCH_REFRESH } mxv_sts_reach;

/* Finds d->domain's policy with the policy's resolver and cache, within
 * timeout_ms for DNS plus as much for a fetch; notes in d's trace. */
void mxv_sts_lookup(mxv_decision *d, mxv_policy *policy, mxv_sts_reach reach, int timeout_ms,
                    mxv_sts_found *out);
/* `mxverify sts DOMAIN` (exported privately): the lookup with
 * MXV_STS_FETCH_REFRESH for `domain` under the policy's settings; false
 * when out of memory or `domain` is not a domain (err says). */
MXV_STS_API bool mxv_sts_query(mxv_policy *policy, const char *domain, mxv_sts_found *out,
                               char *err, size_t errlen);

#endif
