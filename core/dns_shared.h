/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns_shared: DNS answers shared, for their TTL, by the processes of one
 * user through a file (the `dns_cache` setting, of `dns_cache_size`).
 *
 * An MTA delivers from many short-lived processes (Postfix starts a new
 * smtp process every 100 deliveries); each one would otherwise build its
 * own libunbound context, worker thread and cache (~10 ms of CPU here) to
 * ask again what its siblings asked a second ago. With this file only
 * a process that misses in it builds one.
 *
 * The file (slot_file.h: no mmap, a damaged or torn slot is a miss, only
 * a file of the process's own user and writable by no one else) is a
 * set-associative table: sets of MXV_DNS_SHARED_WAYS slots of
 * MXV_DNS_SHARED_SLOT bytes, a 4 KiB page each, as many as the size
 * allows. A name and type hash to one set; a lookup reads the set in one
 * pread() and a store writes one slot in one pwrite(). A store takes the
 * slot of the same name and type, else an empty, damaged or expired one,
 * else the least recently used one; a slot's use stamp is rewritten on a
 * hit only when it is five minutes old, so lookups hardly ever write, and a
 * new answer counts as used ten minutes before it was stored, so names
 * looked up once go before names found again in the last five minutes: a
 * flood of one-off names cannot push out the hot ones. Answers are tagged with the
 * DNS configuration they came from (`scope`), so programs with different
 * resolvers or DNSSEC settings never share.
 */
#ifndef MXV_DNS_SHARED_H
#define MXV_DNS_SHARED_H

#include "dns.h"

#include <time.h>

typedef struct mxv_dns_shared mxv_dns_shared;

/* Opens, creating it (mode 0600) if absent, the file at `path`, of at
 * most `size` bytes (the geometry follows: as many whole sets as fit after
 * the header; a file of another size is re-sized, one of the former
 * format re-initialised); NULL and a reason in err when it cannot be used
 * safely, or when `size` holds no set. */
mxv_dns_shared *mxv_dns_shared_open(const char *path, uint64_t size, uint64_t scope, char *err,
                                    size_t errlen);
void mxv_dns_shared_close(mxv_dns_shared *shared);
/* The scope of answers from a DNS configuration: libunbound's config file
 * (path and identity of its current version) or the system resolver's
 * files, whether answers are validated, and whether a resolver path that
 * strips DNSSEC may make them insecure (mxv_dns_allow_downgrade): such
 * answers must never reach a process that refuses the downgrade. */
uint64_t mxv_dns_shared_scope(const char *unbound_conf, bool validate, bool downgrade);

/* The size of a slot, and the slots of a set (one 4 KiB page). */
#define MXV_DNS_SHARED_SLOT 512
#define MXV_DNS_SHARED_WAYS 8

/* An answer for the file's scope: storage for its rdata, owned by the caller. */
typedef struct {
    mxv_dns_answer answer;
    int ttl; /* seconds left */
    uint8_t data[MXV_DNS_SHARED_SLOT];
} mxv_dns_shared_hit;

/* A hit may rewrite its slot's use stamp (at most once in five minutes per slot). */
bool mxv_dns_shared_get(mxv_dns_shared *shared, const char *name, int rrtype, time_t now,
                        mxv_dns_shared_hit *hit);
/* Stores OK and NODATA answers that fit in a slot; anything else is left out. */
void mxv_dns_shared_put(mxv_dns_shared *shared, const char *name, int rrtype, time_t now, int ttl,
                        const mxv_dns_answer *answer);

/* Exposed for the fuzz target and tests: seals a raw slot (writes its
 * checksum, as a put does); decodes one raw slot of `len` bytes: false
 * unless it is a whole, consistent answer for (scope, name, rrtype) still
 * valid at now. mxv_dns_shared_find() decodes a raw set (`len` bytes,
 * MXV_DNS_SHARED_WAYS slots): the way that holds the answer, or -1;
 * mxv_dns_shared_victim(): the way a new answer for (scope, name, rrtype)
 * takes in it. */
void mxv_dns_shared_seal(uint8_t *raw);
bool mxv_dns_shared_decode(const uint8_t *raw, size_t len, uint64_t scope, const char *name,
                           int rrtype, time_t now, mxv_dns_shared_hit *hit);
int mxv_dns_shared_find(const uint8_t *set, size_t len, uint64_t scope, const char *name,
                        int rrtype, time_t now, mxv_dns_shared_hit *hit);
size_t mxv_dns_shared_victim(const uint8_t *set, size_t len, uint64_t scope, const char *name,
                             int rrtype, time_t now);

#endif
