/* SPDX-License-Identifier: Apache-2.0 */
#include "dns_shared.h"
#include "slot_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* The file: a header page (slot_file.h), then sets of WAYS slots of SLOT
 * bytes, a page each. */
#define SLOT    MXV_DNS_SHARED_SLOT
#define WAYS    MXV_DNS_SHARED_WAYS
#define SET     (SLOT * WAYS)
#define MAX_TTL 3600 /* as the in-process cache: an hour at most */
/* A hit rewrites a use stamp older than this (seconds). Half of UNPROVEN,
 * so a name found again in the last FRESH seconds always outranks one
 * stored just now; long enough that a relay's answers, found again every
 * few minutes, are rewritten (a dirty page for the disk) seldom. */
#define FRESH    300
#define UNPROVEN 600 /* a new answer counts as used this long before it was stored */
#define MAGIC    "mxverify shared DNS answers, format 2\n"
#define FORMER   "mxverify shared DNS answers, format 1\n"
_Static_assert(FRESH <= UNPROVEN / 2, "a name found in the last FRESH seconds outranks a new one");

/* One slot: little-endian fields at fixed offsets, then the variable
 * part packed: the name as asked (namelen bytes), the detail (detaillen),
 * n record lengths (u16 each), then the records' rdata (datalen). */
#define OFF_CHECK     0  /* FNV-1a 64 of bytes 8..SLOT */
#define OFF_SCOPE     8  /* u64 */
#define OFF_EXPIRES   16 /* i64, wall clock */
#define OFF_USED      24 /* i64, wall clock: stored (less UNPROVEN) or last found */
#define OFF_RRTYPE    32 /* u16 */
#define OFF_STATUS    34 /* u8: 1 OK, 2 NODATA */
#define OFF_SEC       35 /* u8: mxv_dnssec_status */
#define OFF_N         36 /* u8: records */
#define OFF_NAMELEN   37 /* u8 */
#define OFF_DETAILLEN 38 /* u8 */
#define OFF_DATALEN   40 /* u16 */
#define OFF_VAR       42
#define NAME_MAX_LEN  255
#define DETAIL_MAX    31

_Static_assert(SET == 4096, "a set is a page");
_Static_assert(OFF_VAR + NAME_MAX_LEN + DETAIL_MAX + 2 * MXV_DNS_MAX_RECORDS < SLOT,
               "the fixed part and the longest name fit a slot");
_Static_assert(SLOT <= sizeof(((mxv_dns_shared_hit *)0)->data), "hit buffer too small");

struct mxv_dns_shared {
    mxv_slot_file *file;
    uint64_t scope;
};

/* The hash that places (scope, name, type) in a set. */
static uint64_t place(uint64_t scope, const char *name, int rrtype)
{
    uint64_t h = mxv_fnv_name(mxv_fnv(MXV_FNV_BASIS, &scope, sizeof(scope)), name);
    return mxv_fnv(h, &rrtype, sizeof(rrtype));
}

static uint64_t scope_file(uint64_t h, const char *path)
{
    struct stat st;
    h = mxv_fnv(h, path, strlen(path) + 1);
    if (stat(path, &st) == 0) {
        int64_t id[] = {(int64_t)st.st_dev, (int64_t)st.st_ino, (int64_t)st.st_size,
                        (int64_t)st.st_mtim.tv_sec, (int64_t)st.st_mtim.tv_nsec};
        h = mxv_fnv(h, id, sizeof(id));
    }
    return h;
}

uint64_t mxv_dns_shared_scope(const char *unbound_conf, bool validate, bool downgrade)
{
    uint64_t h = mxv_fnv(MXV_FNV_BASIS, &validate, sizeof(validate));
    h = mxv_fnv(h, &downgrade, sizeof(downgrade));
    if (unbound_conf)
        return scope_file(h, unbound_conf);
    return scope_file(scope_file(h, "/etc/resolv.conf"), "/etc/hosts");
}

mxv_dns_shared *mxv_dns_shared_open(const char *path, uint64_t size, uint64_t scope, char *err,
                                    size_t errlen)
{
    static const mxv_slot_kind kind = {MAGIC, FORMER, SLOT, "DNS cache"};
    uint64_t sets = size > MXV_SLOT_FILE_HEADER ? (size - MXV_SLOT_FILE_HEADER) / SET : 0;
    if (sets == 0 || sets > SIZE_MAX / WAYS) {
        snprintf(err, errlen, "%s: %llu bytes hold no set of answers, or too many", path,
                 (unsigned long long)size);
        return NULL;
    }
    mxv_slot_file *file = mxv_slot_file_open(path, &kind, (size_t)sets * WAYS, err, errlen);
    mxv_dns_shared *shared = file ? malloc(sizeof(*shared)) : NULL;
    if (!shared) {
        if (file)
            snprintf(err, errlen, "%s: out of memory", path);
        mxv_slot_file_close(file);
        return NULL;
    }
    *shared = (mxv_dns_shared){.file = file, .scope = scope};
    return shared;
}

void mxv_dns_shared_close(mxv_dns_shared *shared)
{
    if (!shared)
        return;
    mxv_slot_file_close(shared->file);
    free(shared);
}

void mxv_dns_shared_seal(uint8_t *raw)
{
    mxv_slot_seal(raw, SLOT);
}

/* Does an intact slot hold an answer for (scope, name, rrtype), whatever
 * its age? */
static bool same_key(const uint8_t *raw, uint64_t scope, const char *name, size_t namelen,
                     int rrtype)
{
    return mxv_slot_get(raw + OFF_SCOPE, 8) == scope &&
           (int)mxv_slot_get(raw + OFF_RRTYPE, 2) == rrtype && namelen <= NAME_MAX_LEN &&
           raw[OFF_NAMELEN] == namelen &&
           strncasecmp((const char *)raw + OFF_VAR, name, namelen) == 0;
}

bool mxv_dns_shared_decode(const uint8_t *raw, size_t len, uint64_t scope, const char *name,
                           int rrtype, time_t now, mxv_dns_shared_hit *hit)
{
    if (len != SLOT)
        return false;
    size_t namelen = strlen(name), detaillen = raw[OFF_DETAILLEN], n = raw[OFF_N];
    size_t datalen = (size_t)mxv_slot_get(raw + OFF_DATALEN, 2);
    int64_t expires = (int64_t)mxv_slot_get(raw + OFF_EXPIRES, 8);
    unsigned status = raw[OFF_STATUS], sec = raw[OFF_SEC];
    /* The key first: a set's other slots cost no checksum. */
    if (!same_key(raw, scope, name, namelen, rrtype) || !mxv_slot_intact(raw, SLOT))
        return false; /* another key; or empty, torn by a concurrent write, or damaged */
    if (expires <= (int64_t)now || expires - (int64_t)now > MAX_TTL)
        return false;
    if (!((status == 1 && n >= 1) || (status == 2 && n == 0)) || sec > MXV_SEC_INSECURE ||
        n > MXV_DNS_MAX_RECORDS || detaillen > DETAIL_MAX)
        return false;
    /* Where the record lengths and the rdata start: within the slot, by
     * the assertion above; the rdata must end within it too. */
    size_t rdlens = OFF_VAR + namelen + detaillen, data = rdlens + 2 * n;
    if (datalen > SLOT - data)
        return false;
    memset(&hit->answer, 0, sizeof(hit->answer));
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t rdlen = (size_t)mxv_slot_get(raw + rdlens + 2 * i, 2);
        if (rdlen > datalen - off)
            return false;
        hit->answer.rdata[i] = hit->data + off;
        hit->answer.rdlen[i] = rdlen;
        off += rdlen;
    }
    if (off != datalen)
        return false;
    memcpy(hit->data, raw + data, datalen);
    hit->answer.status = status == 1 ? MXV_DNS_OK : MXV_DNS_NODATA;
    hit->answer.sec = (mxv_dnssec_status)sec;
    hit->answer.n = n;
    memcpy(hit->answer.detail, raw + OFF_VAR + namelen, detaillen);
    hit->ttl = (int)(expires - (int64_t)now);
    return true;
}

int mxv_dns_shared_find(const uint8_t *set, size_t len, uint64_t scope, const char *name,
                        int rrtype, time_t now, mxv_dns_shared_hit *hit)
{
    for (size_t i = 0; i < WAYS && (i + 1) * SLOT <= len; i++)
        if (mxv_dns_shared_decode(set + i * SLOT, SLOT, scope, name, rrtype, now, hit))
            return (int)i;
    return -1;
}

size_t mxv_dns_shared_victim(const uint8_t *set, size_t len, uint64_t scope, const char *name,
                             int rrtype, time_t now)
{
    size_t ways = len / SLOT < WAYS ? len / SLOT : WAYS, namelen = strlen(name);
    size_t free_way = ways, lru = 0;
    int64_t lru_used = INT64_MAX, lru_expires = INT64_MAX;
    for (size_t i = 0; i < ways; i++) {
        const uint8_t *s = set + i * SLOT;
        /* Its own slot, even damaged: an update, never a second copy. */
        if (same_key(s, scope, name, namelen, rrtype))
            return i;
        int64_t expires = (int64_t)mxv_slot_get(s + OFF_EXPIRES, 8);
        int64_t used = (int64_t)mxv_slot_get(s + OFF_USED, 8);
        if (expires <= (int64_t)now || expires - (int64_t)now > MAX_TTL ||
            !mxv_slot_intact(s, SLOT)) {
            free_way = free_way < ways ? free_way : i; /* empty, damaged or spent */
            continue;
        }
        /* A stamp from the future (a clock set back) earns nothing. */
        used = used < (int64_t)now ? used : (int64_t)now;
        if (used < lru_used || (used == lru_used && expires < lru_expires)) {
            lru = i;
            lru_used = used;
            lru_expires = expires;
        }
    }
    return free_way < ways ? free_way : lru;
}

bool mxv_dns_shared_get(mxv_dns_shared *shared, const char *name, int rrtype, time_t now,
                        mxv_dns_shared_hit *hit)
{
    uint8_t set[SET];
    size_t first;
    if (!mxv_slot_file_read_set(shared->file, place(shared->scope, name, rrtype), WAYS, set,
                                &first))
        return false;
    int way = mxv_dns_shared_find(set, sizeof(set), shared->scope, name, rrtype, now, hit);
    if (way < 0)
        return false;
    /* Used now: the stamp that keeps it from eviction, rewritten only when
     * FRESH seconds old, so that most hits write nothing. (A slot another
     * process rewrote meanwhile is overwritten with this still valid
     * answer: a cache entry lost, never wrong data.) */
    uint8_t *s = set + (size_t)way * SLOT;
    if ((int64_t)mxv_slot_get(s + OFF_USED, 8) <= (int64_t)now - FRESH) {
        mxv_slot_put(s + OFF_USED, (uint64_t)(int64_t)now, 8);
        mxv_dns_shared_seal(s);
        mxv_slot_file_write(shared->file, first + (size_t)way, s);
    }
    return true;
}

void mxv_dns_shared_put(mxv_dns_shared *shared, const char *name, int rrtype, time_t now, int ttl,
                        const mxv_dns_answer *answer)
{
    size_t namelen = strlen(name), detaillen = strnlen(answer->detail, DETAIL_MAX), datalen = 0;
    if (answer->status == MXV_DNS_FAIL || answer->sec > MXV_SEC_INSECURE || ttl <= 0 ||
        namelen > NAME_MAX_LEN || answer->n > MXV_DNS_MAX_RECORDS ||
        (answer->status == MXV_DNS_OK) != (answer->n > 0))
        return;
    for (size_t i = 0; i < answer->n; i++)
        datalen += answer->rdlen[i];
    size_t rdlens = OFF_VAR + namelen + detaillen, data = rdlens + 2 * answer->n;
    if (datalen > SLOT - data)
        return; /* a large RRset: this process keeps it to itself */
    uint8_t raw[SLOT] = {0};
    mxv_slot_put(raw + OFF_SCOPE, shared->scope, 8);
    mxv_slot_put(raw + OFF_EXPIRES, (uint64_t)((int64_t)now + (ttl < MAX_TTL ? ttl : MAX_TTL)), 8);
    mxv_slot_put(raw + OFF_USED, (uint64_t)((int64_t)now - UNPROVEN), 8);
    mxv_slot_put(raw + OFF_RRTYPE, (uint64_t)rrtype, 2);
    raw[OFF_STATUS] = answer->status == MXV_DNS_OK ? 1 : 2;
    raw[OFF_SEC] = (uint8_t)answer->sec;
    raw[OFF_N] = (uint8_t)answer->n;
    raw[OFF_NAMELEN] = (uint8_t)namelen;
    raw[OFF_DETAILLEN] = (uint8_t)detaillen;
    mxv_slot_put(raw + OFF_DATALEN, datalen, 2);
    memcpy(raw + OFF_VAR, name, namelen);
    memcpy(raw + OFF_VAR + namelen, answer->detail, detaillen);
    for (size_t i = 0, off = 0; i < answer->n; i++) {
        mxv_slot_put(raw + rdlens + 2 * i, answer->rdlen[i], 2);
        memcpy(raw + data + off, answer->rdata[i], answer->rdlen[i]);
        off += answer->rdlen[i];
    }
    mxv_dns_shared_seal(raw);
    uint8_t set[SET];
    size_t first;
    if (!mxv_slot_file_read_set(shared->file, place(shared->scope, name, rrtype), WAYS, set,
                                &first))
        return;
    size_t way = mxv_dns_shared_victim(set, sizeof(set), shared->scope, name, rrtype, now);
    mxv_slot_file_write(shared->file, first + way, raw);
}
