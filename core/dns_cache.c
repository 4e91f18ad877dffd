/* SPDX-License-Identifier: Apache-2.0 */
#include "dns_cache.h"
#include "names.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SLOTS   1024 /* a power of two */
#define MAX_TTL 3600 /* an hour at most, whatever the zone says */

typedef struct {
    char name[MXV_NAME_MAX + 2];
    int rrtype;
    time_t expires; /* 0: empty */
    mxv_dns_answer answer;
    uint8_t *data; /* the rdata of `answer`, one block */
} slot;

/* Slots are allocated when first filled: a process that looks up ten
 * names touches ten slots, not a megabyte of zeroed pages (each first
 * touch of a page is a fault, and faults are dear in virtual machines). */
struct mxv_dns_cache {
    slot *slots[SLOTS];
};

/* FNV-1a over the lower-cased name and the type. */
static size_t slot_of(const char *name, int rrtype)
{
    uint32_t h = 2166136261u ^ (uint32_t)rrtype;
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) * 16777619u;
    }
    return h & (SLOTS - 1);
}

mxv_dns_cache *mxv_dns_cache_new(void)
{
    return calloc(1, sizeof(mxv_dns_cache));
}

void mxv_dns_cache_free(mxv_dns_cache *cache)
{
    if (!cache)
        return;
    for (size_t i = 0; i < SLOTS; i++)
        if (cache->slots[i]) {
            free(cache->slots[i]->data);
            free(cache->slots[i]);
        }
    free(cache);
}

bool mxv_dns_cache_get(mxv_dns_cache *cache, const char *name, int rrtype, time_t now,
                       mxv_dns_answer *out)
{
    const slot *s = cache->slots[slot_of(name, rrtype)];
    if (!s || s->expires <= now || s->rrtype != rrtype || strcasecmp(s->name, name) != 0)
        return false;
    *out = s->answer;
    return true;
}

void mxv_dns_cache_put(mxv_dns_cache *cache, const char *name, int rrtype, time_t now, int ttl,
                       const mxv_dns_answer *answer)
{
    if (answer->status == MXV_DNS_FAIL || ttl <= 0 || strlen(name) >= sizeof(((slot *)0)->name))
        return;
    size_t total = 0;
    for (size_t i = 0; i < answer->n; i++)
        total += answer->rdlen[i];
    slot **place = &cache->slots[slot_of(name, rrtype)];
    if (!*place && !(*place = calloc(1, sizeof(slot))))
        return;
    uint8_t *data = malloc(total ? total : 1);
    if (!data)
        return;
    slot *s = *place;
    free(s->data);
    s->data = data;
    s->answer = *answer;
    for (size_t i = 0, off = 0; i < answer->n; i++) {
        memcpy(data + off, answer->rdata[i], answer->rdlen[i]);
        s->answer.rdata[i] = data + off;
        off += answer->rdlen[i];
    }
    strcpy(s->name, name);
    s->rrtype = rrtype;
    s->expires = now + (ttl < MAX_TTL ? ttl : MAX_TTL);
}
