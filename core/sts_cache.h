/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sts_cache: MTA-STS policies kept for their max_age (RFC 8461 section
 * 5.1): in the process, and, with the `sts_cache` setting, in a file the
 * processes of one user share (slot_file.h: its safety rules). A policy
 * is kept until its max_age runs out or a newer one replaces it; nothing
 * else (a missing TXT record, a failed fetch) removes it.
 *
 * In the file, each domain's policy lives in one slot of a set of four
 * (the set chosen by a hash of the domain and the scope); a new policy
 * takes its domain's old slot, else an empty or expired one, else the one
 * that expires first. Policies are tagged with the trust they were
 * fetched under (`scope`: resolver and HTTPS trust anchors), so a process
 * never uses a policy it would not have accepted itself.
 */
#ifndef MXV_STS_CACHE_H
#define MXV_STS_CACHE_H

#include "names.h"
#include "sts_policy.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef struct mxv_sts_cached {
    char domain[MXV_NAME_MAX + 1]; /* lower case */
    char id[MXV_STS_ID_MAX + 1];   /* the TXT record's id the policy came with */
    int64_t fetched, expires;      /* wall clock, seconds */
    mxv_sts_policy policy;
} mxv_sts_cached;

typedef struct mxv_sts_cache mxv_sts_cache;

/* A process cache, sharing through the file at `path` when it is not
 * NULL. NULL with a reason in err when the file cannot be used safely (the
 * caller may go on without it: mxv_sts_cache_new(NULL, ...)). */
mxv_sts_cache *mxv_sts_cache_new(const char *path, uint64_t scope, char *err, size_t errlen);
void mxv_sts_cache_free(mxv_sts_cache *cache);
/* The policy of `domain` still valid at `now`, copied into out. */
bool mxv_sts_cache_get(mxv_sts_cache *cache, const char *domain, time_t now, mxv_sts_cached *out);
/* Keeps (or replaces) the policy of entry->domain. */
void mxv_sts_cache_put(mxv_sts_cache *cache, const mxv_sts_cached *entry);
/* The scope of policies fetched with this resolver and these anchors. */
uint64_t mxv_sts_cache_scope(uint64_t dns_scope, const char *ca_file, const char *ca_path);

/* The policy as lines joined by `sep` ("version: STSv1", "mode: ...",
 * each "mx: ...", "max_age: ..."): the log's policy_string (sep "; ") and
 * the file's form (sep "\n"). Caller frees; NULL when out of memory. */
MXV_STS_API char *mxv_sts_policy_lines(const mxv_sts_policy *policy, const char *sep);

/* Exposed for the fuzz target: decodes one raw file slot
 * (MXV_STS_CACHE_SLOT bytes) for (scope, domain) at now. */
#define MXV_STS_CACHE_SLOT 4096
bool mxv_sts_cache_decode(const uint8_t *raw, uint64_t scope, const char *domain, time_t now,
                          mxv_sts_cached *out);

#endif
