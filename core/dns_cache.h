/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns_cache: answers kept for their TTL in front of libunbound.
 *
 * libunbound caches too, but in threaded async mode even a cached answer
 * makes a round trip through the resolver thread; a decision needs up to
 * three dependent lookups (MX, PTR, A), so repeated decisions for the same
 * destination are answered here, in memory, instead. Direct-mapped and
 * bounded: a colliding entry replaces the older one. Failures are never
 * cached. Not thread-safe: its owner (mxv_dns) is used under a lock.
 */
#ifndef MXV_DNS_CACHE_H
#define MXV_DNS_CACHE_H

#include "dns.h"

#include <time.h>

typedef struct mxv_dns_cache mxv_dns_cache;

mxv_dns_cache *mxv_dns_cache_new(void);
void mxv_dns_cache_free(mxv_dns_cache *cache);
/* On a hit fills *out; its rdata point into the cache and stay valid until
 * the next mxv_dns_cache_put(). */
bool mxv_dns_cache_get(mxv_dns_cache *cache, const char *name, int rrtype, time_t now,
                       mxv_dns_answer *out);
void mxv_dns_cache_put(mxv_dns_cache *cache, const char *name, int rrtype, time_t now, int ttl,
                       const mxv_dns_answer *answer);

#endif
