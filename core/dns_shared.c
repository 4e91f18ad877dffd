/* SPDX-License-Identifier: Apache-2.0 */
#include "dns_shared.h"
#include "slot_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* The file: a header slot, then SLOTS answer slots, each SLOT bytes. */
#define SLOT    MXV_DNS_SHARED_SLOT
#define SLOTS   2048
#define MAX_TTL 3600 /* as the in-process cache: an hour at most */
#define MAGIC   "mxverify shared DNS answers, format 1\n"

/* One slot, little-endian fields at fixed offsets (the file never leaves
 * the machine, but fixed offsets keep the decoder free of padding). */
#define OFF_CHECK   0   /* FNV-1a 64 of bytes 8..SLOT */
#define OFF_SCOPE   8   /* u64 */
#define OFF_EXPIRES 16  /* i64, wall clock */
#define OFF_RRTYPE  24  /* u16 */
#define OFF_STATUS  26  /* u8: 1 OK, 2 NODATA */
#define OFF_SEC     27  /* u8: mxv_dnssec_status */
#define OFF_N       28  /* u8: records */
#define OFF_NAMELEN 29  /* u8 */
#define OFF_DATALEN 30  /* u16 */
#define OFF_DETAIL  32  /* 32 bytes, NUL-terminated */
#define OFF_NAME    64  /* 256 bytes */
#define OFF_RDLEN   320 /* u16 x MXV_DNS_MAX_RECORDS */
#define OFF_DATA    (OFF_RDLEN + 2 * MXV_DNS_MAX_RECORDS)
#define DATA_MAX    (SLOT - OFF_DATA)
#define DETAIL_MAX  32

_Static_assert(OFF_DATA + 256 <= SLOT, "a slot holds at least 256 bytes of rdata");
_Static_assert(DATA_MAX <= sizeof(((mxv_dns_shared_hit *)0)->data), "hit buffer too small");

struct mxv_dns_shared {
    mxv_slot_file *file;
    uint64_t scope;
};

static size_t slot_of(uint64_t scope, const char *name, int rrtype)
{
    uint64_t h = mxv_fnv_name(mxv_fnv(MXV_FNV_BASIS, &scope, sizeof(scope)), name);
    h = mxv_fnv(h, &rrtype, sizeof(rrtype));
    return (size_t)(h % SLOTS);
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

mxv_dns_shared *mxv_dns_shared_open(const char *path, uint64_t scope, char *err, size_t errlen)
{
    mxv_slot_file *file = mxv_slot_file_open(path, MAGIC, SLOT, SLOTS, "DNS cache", err, errlen);
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

bool mxv_dns_shared_decode(const uint8_t *raw, size_t len, uint64_t scope, const char *name,
                           int rrtype, time_t now, mxv_dns_shared_hit *hit)
{
    if (len != SLOT || !mxv_slot_intact(raw, SLOT))
        return false; /* empty, torn by a concurrent write, or damaged */
    size_t namelen = strlen(name);
    int64_t expires = (int64_t)mxv_slot_get(raw + OFF_EXPIRES, 8);
    unsigned status = raw[OFF_STATUS], sec = raw[OFF_SEC], n = raw[OFF_N];
    size_t datalen = (size_t)mxv_slot_get(raw + OFF_DATALEN, 2);
    if (mxv_slot_get(raw + OFF_SCOPE, 8) != scope ||
        (int)mxv_slot_get(raw + OFF_RRTYPE, 2) != rrtype || raw[OFF_NAMELEN] != namelen ||
        namelen > 255 || strncasecmp((const char *)raw + OFF_NAME, name, namelen) != 0)
        return false;
    if (expires <= (int64_t)now || expires - (int64_t)now > MAX_TTL)
        return false;
    if (!((status == 1 && n >= 1) || (status == 2 && n == 0)) || sec > MXV_SEC_INSECURE ||
        n > MXV_DNS_MAX_RECORDS || datalen > DATA_MAX || !memchr(raw + OFF_DETAIL, 0, DETAIL_MAX))
        return false;
    memset(&hit->answer, 0, sizeof(hit->answer));
    size_t off = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t rdlen = (size_t)mxv_slot_get(raw + OFF_RDLEN + 2 * i, 2);
        if (rdlen > datalen - off)
            return false;
        hit->answer.rdata[i] = hit->data + off;
        hit->answer.rdlen[i] = rdlen;
        off += rdlen;
    }
    if (off != datalen)
        return false;
    memcpy(hit->data, raw + OFF_DATA, datalen);
    hit->answer.status = status == 1 ? MXV_DNS_OK : MXV_DNS_NODATA;
    hit->answer.sec = (mxv_dnssec_status)sec;
    hit->answer.n = n;
    snprintf(hit->answer.detail, sizeof(hit->answer.detail), "%s", (const char *)raw + OFF_DETAIL);
    hit->ttl = (int)(expires - (int64_t)now);
    return true;
}

bool mxv_dns_shared_get(mxv_dns_shared *shared, const char *name, int rrtype, time_t now,
                        mxv_dns_shared_hit *hit)
{
    uint8_t raw[SLOT];
    return mxv_slot_file_read(shared->file, slot_of(shared->scope, name, rrtype), 1, raw) &&
           mxv_dns_shared_decode(raw, sizeof(raw), shared->scope, name, rrtype, now, hit);
}

void mxv_dns_shared_put(mxv_dns_shared *shared, const char *name, int rrtype, time_t now, int ttl,
                        const mxv_dns_answer *answer)
{
    size_t namelen = strlen(name), datalen = 0;
    if (answer->status == MXV_DNS_FAIL || answer->sec > MXV_SEC_INSECURE || ttl <= 0 ||
        namelen > 255 || answer->n > MXV_DNS_MAX_RECORDS ||
        (answer->status == MXV_DNS_OK) != (answer->n > 0))
        return;
    for (size_t i = 0; i < answer->n; i++)
        datalen += answer->rdlen[i];
    if (datalen > DATA_MAX)
        return; /* a huge RRset: this process keeps it to itself */
    uint8_t raw[SLOT] = {0};
    mxv_slot_put(raw + OFF_SCOPE, shared->scope, 8);
    mxv_slot_put(raw + OFF_EXPIRES, (uint64_t)((int64_t)now + (ttl < MAX_TTL ? ttl : MAX_TTL)), 8);
    mxv_slot_put(raw + OFF_RRTYPE, (uint64_t)rrtype, 2);
    raw[OFF_STATUS] = answer->status == MXV_DNS_OK ? 1 : 2;
    raw[OFF_SEC] = (uint8_t)answer->sec;
    raw[OFF_N] = (uint8_t)answer->n;
    raw[OFF_NAMELEN] = (uint8_t)namelen;
    mxv_slot_put(raw + OFF_DATALEN, datalen, 2);
    memcpy(raw + OFF_DETAIL, answer->detail, strnlen(answer->detail, DETAIL_MAX - 1));
    memcpy(raw + OFF_NAME, name, namelen);
    for (size_t i = 0, off = 0; i < answer->n; i++) {
        mxv_slot_put(raw + OFF_RDLEN + 2 * i, answer->rdlen[i], 2);
        memcpy(raw + OFF_DATA + off, answer->rdata[i], answer->rdlen[i]);
        off += answer->rdlen[i];
    }
    mxv_dns_shared_seal(raw);
    mxv_slot_file_write(shared->file, slot_of(shared->scope, name, rrtype), raw);
}
