/* SPDX-License-Identifier: Apache-2.0 */
#include "sts_cache.h"
#include "buf.h"
#include "slot_file.h"
#include "text_copy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SLOT    MXV_STS_CACHE_SLOT
#define SLOTS   4096 /* 16 MB of sparse file at most */
#define WAYS    4
#define MAGIC   "mxverify shared MTA-STS policies, format 1\n"
#define KEPT    10000 /* policies one process keeps; the earliest to expire goes first */
#define BUCKETS 1024

/* One slot, little-endian fields at fixed offsets (slot_file.h). */
#define OFF_SCOPE   8  /* u64 */
#define OFF_EXPIRES 16 /* i64 */
#define OFF_FETCHED 24 /* i64 */
#define OFF_DLEN    32 /* u8 */
#define OFF_IDLEN   33 /* u8 */
#define OFF_TLEN    34 /* u16 */
#define OFF_DOMAIN  40 /* 256 bytes */
#define OFF_ID      296
#define OFF_TEXT    336
#define TEXT_MAX    (SLOT - OFF_TEXT)

/* In the process: the policy's lines, parsed again when asked for (a
 * parsed policy is 16 KB; its lines are a few hundred bytes). */
typedef struct kept {
    struct kept *next;
    char domain[MXV_NAME_MAX + 1];
    char id[MXV_STS_ID_MAX + 1];
    int64_t fetched, expires;
    char *text;
} kept;

struct mxv_sts_cache {
    pthread_mutex_t lock;
    kept *bucket[BUCKETS];
    size_t count;
    mxv_slot_file *file;
    uint64_t scope;
};

uint64_t mxv_sts_cache_scope(uint64_t dns_scope, const char *ca_file, const char *ca_path)
{
    uint64_t h = mxv_fnv(MXV_FNV_BASIS, &dns_scope, sizeof(dns_scope));
    h = mxv_fnv(h, ca_file ? ca_file : "", strlen(ca_file ? ca_file : "") + 1);
    return mxv_fnv(h, ca_path ? ca_path : "", strlen(ca_path ? ca_path : "") + 1);
}

char *mxv_sts_policy_lines(const mxv_sts_policy *policy, const char *sep)
{
    mxv_buf b = {0};
    mxv_buf_printf(&b, "version: STSv1%smode: %s", sep, mxv_sts_mode_name(policy->mode));
    for (size_t i = 0; i < policy->nmx; i++)
        mxv_buf_printf(&b, "%smx: %s", sep, policy->mx[i]);
    mxv_buf_printf(&b, "%smax_age: %u", sep, (unsigned)policy->max_age);
    return mxv_buf_finish(&b);
}

mxv_sts_cache *mxv_sts_cache_new(const char *path, uint64_t scope, char *err, size_t errlen)
{
    mxv_slot_file *file = NULL;
    if (path) {
        static const mxv_slot_kind kind = {MAGIC, NULL, SLOT, "MTA-STS policy cache"};
        file = mxv_slot_file_open(path, &kind, SLOTS, err, errlen);
        if (!file)
            return NULL;
    }
    mxv_sts_cache *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        mxv_slot_file_close(file);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->file = file;
    c->scope = scope;
    return c;
}

void mxv_sts_cache_free(mxv_sts_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < BUCKETS; i++)
        for (kept *k = c->bucket[i], *next; k; k = next) {
            next = k->next;
            free(k->text);
            free(k);
        }
    mxv_slot_file_close(c->file);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Fills out from stored lines; false when they are not a valid policy
 * (a damaged slot) or disagree with the stored lifetime. */
static bool from_text(const char *domain, const char *id, int64_t fetched, int64_t expires,
                      const char *text, size_t len, mxv_sts_cached *out)
{
    char why[128];
    if (!mxv_sts_policy_parse(text, len, &out->policy, why, sizeof(why)) ||
        expires - fetched != (int64_t)out->policy.max_age)
        return false;
    mxv_text_copy(out->domain, sizeof(out->domain), domain);
    mxv_text_copy(out->id, sizeof(out->id), id);
    out->fetched = fetched;
    out->expires = expires;
    return true;
}

bool mxv_sts_cache_decode(const uint8_t *raw, uint64_t scope, const char *domain, time_t now,
                          mxv_sts_cached *out)
{
    size_t dlen = raw[OFF_DLEN], idlen = raw[OFF_IDLEN];
    size_t tlen = (size_t)mxv_slot_get(raw + OFF_TLEN, 2);
    int64_t expires = (int64_t)mxv_slot_get(raw + OFF_EXPIRES, 8);
    int64_t fetched = (int64_t)mxv_slot_get(raw + OFF_FETCHED, 8);
    if (!mxv_slot_intact(raw, SLOT) || mxv_slot_get(raw + OFF_SCOPE, 8) != scope ||
        dlen != strlen(domain) || dlen > MXV_NAME_MAX || idlen < 1 || idlen > MXV_STS_ID_MAX ||
        tlen > TEXT_MAX || strncasecmp((const char *)raw + OFF_DOMAIN, domain, dlen) != 0 ||
        expires <= (int64_t)now || fetched < 0 || fetched > (int64_t)now ||
        expires - fetched > (int64_t)MXV_STS_MAX_AGE_LIMIT)
        return false;
    char id[MXV_STS_ID_MAX + 1];
    memcpy(id, raw + OFF_ID, idlen);
    id[idlen] = '\0';
    for (size_t i = 0; i < idlen; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
              (id[i] >= 'A' && id[i] <= 'Z')))
            return false; /* RFC 8461 section 3.1: 1 to 32 letters and digits */
    return from_text(domain, id, fetched, expires, (const char *)raw + OFF_TEXT, tlen, out);
}

static size_t set_of(const mxv_sts_cache *c, const char *domain)
{
    uint64_t h = mxv_fnv_name(mxv_fnv(MXV_FNV_BASIS, &c->scope, sizeof(c->scope)), domain);
    return (size_t)(h % (SLOTS / WAYS)) * WAYS;
}

static bool file_get(mxv_sts_cache *c, const char *domain, time_t now, mxv_sts_cached *out)
{
    uint8_t *raw = c->file ? malloc((size_t)SLOT * WAYS) : NULL;
    bool found = false;
    if (raw && mxv_slot_file_read(c->file, set_of(c, domain), WAYS, raw))
        for (size_t i = 0; i < WAYS && !found; i++)
            found = mxv_sts_cache_decode(raw + i * SLOT, c->scope, domain, now, out);
    free(raw);
    return found;
}

/* The way a new policy for `domain` takes: its old slot, else one that
 * holds nothing valid, else the one that expires first. */
static size_t way_for(const mxv_sts_cache *c, const uint8_t *raw, const char *domain, time_t now)
{
    size_t best = 0;
    int64_t best_expires = INT64_MAX;
    for (size_t i = 0; i < WAYS; i++) {
        const uint8_t *s = raw + i * SLOT;
        int64_t expires = (int64_t)mxv_slot_get(s + OFF_EXPIRES, 8);
        size_t dlen = s[OFF_DLEN];
        if (!mxv_slot_intact(s, SLOT) || mxv_slot_get(s + OFF_SCOPE, 8) != c->scope ||
            expires <= (int64_t)now)
            return i;
        if (dlen == strlen(domain) && strncasecmp((const char *)s + OFF_DOMAIN, domain, dlen) == 0)
            return i;
        if (expires < best_expires) {
            best = i;
            best_expires = expires;
        }
    }
    return best;
}

static void file_put(mxv_sts_cache *c, const mxv_sts_cached *e, const char *text)
{
    size_t dlen = strlen(e->domain), idlen = strlen(e->id), tlen = strlen(text);
    if (!c->file || tlen > TEXT_MAX || dlen > MXV_NAME_MAX || idlen > MXV_STS_ID_MAX)
        return; /* a policy too large for a slot: this process keeps it to itself */
    uint8_t *set = malloc((size_t)SLOT * WAYS), *raw = calloc(1, SLOT);
    size_t first = set_of(c, e->domain);
    if (set && raw && mxv_slot_file_read(c->file, first, WAYS, set)) {
        mxv_slot_put(raw + OFF_SCOPE, c->scope, 8);
        mxv_slot_put(raw + OFF_EXPIRES, (uint64_t)e->expires, 8);
        mxv_slot_put(raw + OFF_FETCHED, (uint64_t)e->fetched, 8);
        raw[OFF_DLEN] = (uint8_t)dlen;
        raw[OFF_IDLEN] = (uint8_t)idlen;
        mxv_slot_put(raw + OFF_TLEN, tlen, 2);
        memcpy(raw + OFF_DOMAIN, e->domain, dlen);
        memcpy(raw + OFF_ID, e->id, idlen);
        memcpy(raw + OFF_TEXT, text, tlen);
        mxv_slot_seal(raw, SLOT);
        mxv_slot_file_write(c->file, first + way_for(c, set, e->domain, time(NULL)), raw);
    }
    free(set);
    free(raw);
}

static kept **find(mxv_sts_cache *c, const char *domain)
{
    kept **k = &c->bucket[mxv_fnv_name(MXV_FNV_BASIS, domain) % BUCKETS];
    while (*k && strcasecmp((*k)->domain, domain) != 0)
        k = &(*k)->next;
    return k;
}

/* Called with the lock held, when KEPT policies are kept already. */
static void drop_earliest(mxv_sts_cache *c)
{
    kept **victim = NULL;
    for (size_t i = 0; i < BUCKETS; i++)
        for (kept **k = &c->bucket[i]; *k; k = &(*k)->next)
            if (!victim || (*k)->expires < (*victim)->expires)
                victim = k;
    kept *gone = *victim;
    *victim = gone->next;
    free(gone->text);
    free(gone);
    c->count--;
}

/* Keeps e (its lines in `text`, which this takes) in the process. */
static void keep(mxv_sts_cache *c, const mxv_sts_cached *e, char *text)
{
    pthread_mutex_lock(&c->lock);
    kept **slot = find(c, e->domain);
    if (!*slot && c->count >= KEPT) {
        drop_earliest(c);
        slot = find(c, e->domain);
    }
    kept *n = *slot ? *slot : calloc(1, sizeof(*n));
    if (n) {
        if (!*slot) {
            *slot = n;
            c->count++;
        }
        free(n->text);
        n->text = text;
        text = NULL;
        mxv_text_copy(n->domain, sizeof(n->domain), e->domain);
        mxv_text_copy(n->id, sizeof(n->id), e->id);
        n->fetched = e->fetched;
        n->expires = e->expires;
    }
    pthread_mutex_unlock(&c->lock);
    free(text);
}

bool mxv_sts_cache_get(mxv_sts_cache *c, const char *domain, time_t now, mxv_sts_cached *out)
{
    pthread_mutex_lock(&c->lock);
    kept *k = *find(c, domain);
    bool found = k && k->expires > (int64_t)now &&
                 from_text(k->domain, k->id, k->fetched, k->expires, k->text, strlen(k->text), out);
    pthread_mutex_unlock(&c->lock);
    if (found || !file_get(c, domain, now, out))
        return found;
    /* Another process fetched it: kept here too. */
    char *text = mxv_sts_policy_lines(&out->policy, "\n");
    if (text)
        keep(c, out, text);
    return true;
}

void mxv_sts_cache_put(mxv_sts_cache *c, const mxv_sts_cached *e)
{
    char *text = mxv_sts_policy_lines(&e->policy, "\n");
    if (!text)
        return;
    file_put(c, e, text);
    keep(c, e, text);
}
