/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns_cache: answers kept for their TTL (an hour at most) in front of
 * libunbound, in the process.
 *
 * libunbound caches too, but in threaded async mode even a cached answer
 * makes a round trip through the resolver thread; a decision needs up to
 * three dependent lookups (MX, PTR, A), so repeated decisions for the same
 * destination are answered here, in memory, instead. A hash table that
 * starts small and doubles as it fills (a process that looks up ten names
 * touches a few hundred bytes, not megabytes), up to MXV_DNS_CACHE_MAX
 * answers and MXV_DNS_CACHE_BYTES of them; when full, the least recently
 * used answers go. An answer above MXV_DNS_CACHE_ENTRY_MAX is not kept.
 * Expired
 * answers are dropped where a put meets them (a get frees nothing).
 * Failures are never cached.
 * Not thread-safe: its owner (mxv_dns) is used under a lock.
 */
#ifndef MXV_DNS_CACHE_H
#define MXV_DNS_CACHE_H

#include "dns.h"

#include <time.h>

/* The most answers one process keeps (most take a few hundred bytes). */
#define MXV_DNS_CACHE_MAX 65536
/* The most bytes they take, each counted by its allocation (the answer's
 * records, names and detail, and about a hundred bytes of fields): 32 MiB,
 * the bucket array (8 bytes an answer at most) aside. */
#define MXV_DNS_CACHE_BYTES ((size_t)32 << 20)
/* The largest answer kept, in bytes counted as above: 16 KiB, room for the
 * largest legitimate RRset (32 TLSA records with SHA-512 digests, about
 * 2 KB); a larger answer is not cached. */
#define MXV_DNS_CACHE_ENTRY_MAX ((size_t)16 << 10)

typedef struct mxv_dns_cache mxv_dns_cache;

/* NULL when out of memory. */
mxv_dns_cache *mxv_dns_cache_new(void);
void mxv_dns_cache_free(mxv_dns_cache *cache);
/* On a hit fills *out; its rdata point into the cache and stay valid until
 * the next mxv_dns_cache_put(). A hit makes the answer the most recently
 * used. */
bool mxv_dns_cache_get(mxv_dns_cache *cache, const char *name, int rrtype, time_t now,
                       mxv_dns_answer *out);
/* Keeps a copy of an OK or NODATA answer for ttl seconds (an hour at
 * most), replacing any for the same name (case-insensitive) and type, and
 * dropping the least recently used answers while the count or the bytes
 * would exceed their bounds; failures, ttl <= 0, names too long and
 * answers above MXV_DNS_CACHE_ENTRY_MAX are ignored, as is the answer when
 * memory runs out. */
void mxv_dns_cache_put(mxv_dns_cache *cache, const char *name, int rrtype, time_t now, int ttl,
                       const mxv_dns_answer *answer);
/* Answers held, and the bytes they take (as MXV_DNS_CACHE_BYTES counts
 * them), expired ones not yet met included: for tests. */
size_t mxv_dns_cache_count(const mxv_dns_cache *cache);
size_t mxv_dns_cache_bytes(const mxv_dns_cache *cache);

#endif
