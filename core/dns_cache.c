/* SPDX-License-Identifier: Apache-2.0 */
#include "dns_cache.h"
#include "names.h"
#include "slot_file.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TTL       3600 /* an hour at most, whatever the zone says */
#define FIRST_BUCKETS 64   /* a power of two; doubled while answers outnumber buckets */

/* One answer, in one allocation: its fields, then mem: the record
 * lengths, the name, the detail, the canonical name (NUL-terminated), and
 * the rdata. */
typedef struct entry {
    struct entry *next;          /* in its bucket */
    struct entry *newer, *older; /* in the use list */
    uint64_t hash;
    time_t expires;
    int rrtype;
    mxv_dns_status status;
    mxv_dnssec_status sec;
    bool truncated;
    size_t n;
    size_t size;                    /* of the allocation, in bytes */
    size_t detail, canonical, data; /* offsets in mem */
    _Alignas(size_t) unsigned char mem[];
} entry;

/* Buckets are allocated at the first answer and grow with the count: a
 * process that looks up ten names touches a few hundred bytes, not a
 * megabyte of zeroed pages (each first touch of a page is a fault, and
 * faults are dear in virtual machines). */
struct mxv_dns_cache {
    entry **bucket; /* nbuckets chains, or NULL before the first answer */
    size_t nbuckets, count;
    size_t bytes;           /* the entries' allocations */
    entry *newest, *oldest; /* the use list */
};

static const char *name_of(const entry *e)
{
    return (const char *)e->mem + e->n * sizeof(size_t);
}

static uint64_t hash_of(const char *name, int rrtype)
{
    return mxv_fnv(mxv_fnv_name(MXV_FNV_BASIS, name), &rrtype, sizeof(rrtype));
}

mxv_dns_cache *mxv_dns_cache_new(void)
{
    return calloc(1, sizeof(mxv_dns_cache));
}

void mxv_dns_cache_free(mxv_dns_cache *cache)
{
    if (!cache)
        return;
    for (entry *e = cache->newest, *next; e; e = next) {
        next = e->older;
        free(e);
    }
    free(cache->bucket);
    free(cache);
}

size_t mxv_dns_cache_count(const mxv_dns_cache *cache)
{
    return cache->count;
}

size_t mxv_dns_cache_bytes(const mxv_dns_cache *cache)
{
    return cache->bytes;
}

static void list_unlink(mxv_dns_cache *cache, entry *e)
{
    *(e->newer ? &e->newer->older : &cache->newest) = e->older;
    *(e->older ? &e->older->newer : &cache->oldest) = e->newer;
}

static void list_push(mxv_dns_cache *cache, entry *e)
{
    e->newer = NULL;
    e->older = cache->newest;
    *(cache->newest ? &cache->newest->newer : &cache->oldest) = e;
    cache->newest = e;
}

static entry **chain_of(mxv_dns_cache *cache, uint64_t hash)
{
    return &cache->bucket[hash & (cache->nbuckets - 1)];
}

/* Removes the entry *link points to (its bucket's link to it). */
static void drop(mxv_dns_cache *cache, entry **link)
{
    entry *e = *link;
    *link = e->next;
    list_unlink(cache, e);
    cache->count--;
    cache->bytes -= e->size;
    free(e);
}

/* The link to the answer for (name, rrtype), expired or not, or to the
 * chain's end. With `sweep` (a put, which may free: see the header),
 * expired answers met on the way are dropped; a get frees nothing, since
 * a caller may still be reading an answer it got before (a callback that
 * submits a lookup for each record of its answer). */
static entry **find(mxv_dns_cache *cache, uint64_t hash, const char *name, int rrtype, time_t now,
                    bool sweep)
{
    entry **link = chain_of(cache, hash);
    while (*link) {
        entry *e = *link;
        if (e->hash == hash && e->rrtype == rrtype && strcasecmp(name_of(e), name) == 0)
            return link;
        if (sweep && e->expires <= now)
            drop(cache, link);
        else
            link = &e->next;
    }
    return link;
}

/* Twice the buckets, while answers outnumber them (chains stay short);
 * when memory runs out, the chains just grow longer. */
static void grow(mxv_dns_cache *cache)
{
    if (cache->count <= cache->nbuckets || cache->nbuckets >= MXV_DNS_CACHE_MAX)
        return;
    entry **bigger = calloc(cache->nbuckets * 2, sizeof(*bigger));
    if (!bigger)
        return;
    free(cache->bucket);
    cache->bucket = bigger;
    cache->nbuckets *= 2;
    for (entry *e = cache->newest; e; e = e->older) {
        entry **chain = chain_of(cache, e->hash);
        e->next = *chain;
        *chain = e;
    }
}

bool mxv_dns_cache_get(mxv_dns_cache *cache, const char *name, int rrtype, time_t now,
                       mxv_dns_answer *out)
{
    if (!cache->bucket)
        return false;
    entry *e = *find(cache, hash_of(name, rrtype), name, rrtype, now, false);
    if (!e || e->expires <= now)
        return false; /* an expired one goes at the next put that meets it */
    list_unlink(cache, e);
    list_push(cache, e);
    memset(out, 0, sizeof(*out));
    out->status = e->status;
    out->sec = e->sec;
    out->truncated = e->truncated;
    out->n = e->n;
    memcpy(out->detail, e->mem + e->detail, strlen((const char *)e->mem + e->detail) + 1);
    memcpy(out->canonical, e->mem + e->canonical, strlen((const char *)e->mem + e->canonical) + 1);
    const size_t *rdlen = (const size_t *)e->mem;
    for (size_t i = 0, off = e->data; i < e->n; i++) {
        out->rdata[i] = e->mem + off;
        out->rdlen[i] = rdlen[i];
        off += rdlen[i];
    }
    return true;
}

/* A copy of answer for name, or NULL when out of memory or larger than
 * MXV_DNS_CACHE_ENTRY_MAX. */
static entry *copy_of(const char *name, size_t namelen, const mxv_dns_answer *answer)
{
    size_t detail = strnlen(answer->detail, sizeof(answer->detail) - 1);
    size_t canonical = strnlen(answer->canonical, sizeof(answer->canonical) - 1), total = 0;
    for (size_t i = 0; i < answer->n; i++)
        total += answer->rdlen[i];
    size_t lens = answer->n * sizeof(size_t);
    size_t size = sizeof(entry) + lens + namelen + 1 + detail + 1 + canonical + 1 + total;
    entry *e = size <= MXV_DNS_CACHE_ENTRY_MAX ? malloc(size) : NULL;
    if (!e)
        return NULL;
    *e = (entry){.status = answer->status,
                 .size = size,
                 .sec = answer->sec,
                 .truncated = answer->truncated,
                 .n = answer->n,
                 .detail = lens + namelen + 1,
                 .canonical = lens + namelen + 1 + detail + 1,
                 .data = lens + namelen + 1 + detail + 1 + canonical + 1};
    memcpy(e->mem + lens, name, namelen + 1);
    memcpy(e->mem + e->detail, answer->detail, detail);
    e->mem[e->detail + detail] = '\0';
    memcpy(e->mem + e->canonical, answer->canonical, canonical);
    e->mem[e->canonical + canonical] = '\0';
    size_t *rdlen = (size_t *)e->mem;
    for (size_t i = 0, off = e->data; i < answer->n; i++) {
        rdlen[i] = answer->rdlen[i];
        memcpy(e->mem + off, answer->rdata[i], answer->rdlen[i]);
        off += answer->rdlen[i];
    }
    return e;
}

void mxv_dns_cache_put(mxv_dns_cache *cache, const char *name, int rrtype, time_t now, int ttl,
                       const mxv_dns_answer *answer)
{
    size_t namelen = strlen(name);
    if (answer->status == MXV_DNS_FAIL || ttl <= 0 || namelen > MXV_NAME_MAX + 1 ||
        answer->n > MXV_DNS_MAX_RECORDS)
        return;
    if (!cache->bucket) {
        if (!(cache->bucket = calloc(FIRST_BUCKETS, sizeof(*cache->bucket))))
            return;
        cache->nbuckets = FIRST_BUCKETS;
    }
    entry *e = copy_of(name, namelen, answer);
    if (!e)
        return;
    e->hash = hash_of(name, rrtype);
    e->rrtype = rrtype;
    e->expires = now + (ttl < MAX_TTL ? ttl : MAX_TTL);
    entry **link = find(cache, e->hash, name, rrtype, now, true);
    if (*link)
        drop(cache, link); /* replaced */
    while (cache->oldest &&
           (cache->count >= MXV_DNS_CACHE_MAX || cache->bytes + e->size > MXV_DNS_CACHE_BYTES)) {
        /* Full: the least recently used answers go. */
        entry **victim = chain_of(cache, cache->oldest->hash);
        while (*victim != cache->oldest)
            victim = &(*victim)->next;
        drop(cache, victim);
    }
    entry **chain = chain_of(cache, e->hash);
    e->next = *chain;
    *chain = e;
    list_push(cache, e);
    cache->count++;
    cache->bytes += e->size;
    grow(cache);
}
