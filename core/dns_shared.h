/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns_shared: DNS answers shared, for their TTL, by the processes of one
 * user through a file (the `dns_cache` setting).
 *
 * An MTA delivers from many short-lived processes (Postfix starts a new
 * smtp process every 100 deliveries); each one would otherwise build its
 * own libunbound context, worker thread and cache (~10 ms of CPU here) to
 * ask again what its siblings asked a second ago. With this file only
 * a process that misses in it builds one.
 *
 * The file is a fixed table of checksummed slots with the safety rules
 * of slot_file.h (no mmap, a damaged or torn slot is a miss, only a file
 * of the process's own user and writable by no one else). Answers are tagged with the DNS
 * configuration they came from (`scope`), so programs with different resolvers or DNSSEC settings
 * never share.
 */
#ifndef MXV_DNS_SHARED_H
#define MXV_DNS_SHARED_H

#include "dns.h"

#include <time.h>

typedef struct mxv_dns_shared mxv_dns_shared;

/* Opens, creating it (mode 0600) if absent, the file at `path`; NULL and a
 * reason in err when it cannot be used safely. */
mxv_dns_shared *mxv_dns_shared_open(const char *path, uint64_t scope, char *err, size_t errlen);
void mxv_dns_shared_close(mxv_dns_shared *shared);
/* The scope of answers from a DNS configuration: libunbound's config file
 * (path and identity of its current version) or the system resolver's
 * files, whether answers are validated, and whether a resolver path that
 * strips DNSSEC may make them insecure (mxv_dns_allow_downgrade): such
 * answers must never reach a process that refuses the downgrade. */
uint64_t mxv_dns_shared_scope(const char *unbound_conf, bool validate, bool downgrade);

/* An answer for the file's scope: storage for its rdata, owned by the caller. */
typedef struct {
    mxv_dns_answer answer;
    int ttl; /* seconds left */
    uint8_t data[1024];
} mxv_dns_shared_hit;

bool mxv_dns_shared_get(mxv_dns_shared *shared, const char *name, int rrtype, time_t now,
                        mxv_dns_shared_hit *hit);
/* Stores OK and NODATA answers that fit in a slot; anything else is left out. */
void mxv_dns_shared_put(mxv_dns_shared *shared, const char *name, int rrtype, time_t now, int ttl,
                        const mxv_dns_answer *answer);

/* Exposed for the fuzz target: the size of a raw slot; seals one (writes
 * its checksum, as a put does); decodes one raw slot; false unless it is a
 * whole, consistent answer for (scope, name, rrtype) still valid at now. */
#define MXV_DNS_SHARED_SLOT 1024
void mxv_dns_shared_seal(uint8_t *raw);
bool mxv_dns_shared_decode(const uint8_t *raw, size_t len, uint64_t scope, const char *name,
                           int rrtype, time_t now, mxv_dns_shared_hit *hit);

#endif
