/* SPDX-License-Identifier: Apache-2.0 */
#include "program_dns.h"
#include "names.h"
#include "slot_file.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* A hint a decision follows within seconds of the program's lookup: a
 * small table is enough, and a collision only costs mxverify a lookup of
 * its own. */
#define ENTRIES 1024 /* a power of two */
#define MAX_TTL 3600 /* as the DNS caches: an hour at most */

typedef struct {
    char domain[MXV_NAME_MAX + 1];
    time_t expires; /* 0: empty */
    size_t n;
    size_t rdlen[MXV_DNS_MAX_RECORDS];
    uint8_t *data; /* the records' rdata, one after the other */
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *table; /* ENTRIES, allocated at the first answer */

static size_t index_of(const char *domain)
{
    return (size_t)mxv_fnv_name(MXV_FNV_BASIS, domain) & (ENTRIES - 1);
}

/* The RFC 1035 wire form of a host name; 0 when it is not one. */
static size_t to_wire(const char *name, uint8_t *out, size_t outlen)
{
    size_t o = 0;
    for (const char *p = name; *p;) {
        size_t label = strcspn(p, ".");
        if (label == 0 || label > 63 || o + 1 + label + 1 > outlen)
            return 0;
        out[o++] = (uint8_t)label;
        memcpy(out + o, p, label);
        o += label;
        p += label + (p[label] == '.');
    }
    if (o + 1 > outlen)
        return 0;
    out[o++] = 0;
    return o;
}

void mxv_program_mx_seen(const char *domain, const mxv_program_mx *records, size_t n, unsigned ttl)
{
    if (!domain || strlen(domain) > MXV_NAME_MAX || n == 0 || n > MXV_DNS_MAX_RECORDS || ttl == 0)
        return;
    uint8_t *data = malloc(n * (2 + MXV_NAME_WIRE_MAX));
    entry e = {.n = n, .data = data};
    if (!data)
        return;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        data[used] = (uint8_t)(records[i].pref >> 8);
        data[used + 1] = (uint8_t)records[i].pref;
        size_t len = to_wire(records[i].host, data + used + 2, MXV_NAME_WIRE_MAX);
        if (len == 0 || records[i].pref > 0xffff) {
            free(data);
            return;
        }
        e.rdlen[i] = 2 + len;
        used += 2 + len;
    }
    memcpy(e.domain, domain, strlen(domain) + 1);
    e.expires = time(NULL) + (ttl < MAX_TTL ? (time_t)ttl : MAX_TTL);
    pthread_mutex_lock(&lock);
    if (!table)
        table = calloc(ENTRIES, sizeof(*table));
    if (table) {
        entry *slot = &table[index_of(domain)];
        free(slot->data);
        *slot = e;
        data = NULL;
    }
    pthread_mutex_unlock(&lock);
    free(data);
}

bool mxv_program_dns_usable(const mxv_effective *e)
{
    return !e->unbound_conf && e->dnssec != MXV_DNSSEC_REQUIRE && e->dane == MXV_DANE_OFF;
}

bool mxv_program_mx_get(const char *domain, mxv_dns_answer *out, mxv_program_answer_storage *keep)
{
    bool found = false;
    pthread_mutex_lock(&lock);
    const entry *slot = table && domain ? &table[index_of(domain)] : NULL;
    if (slot && slot->expires > time(NULL) && strcasecmp(slot->domain, domain) == 0) {
        memset(out, 0, sizeof(*out));
        out->status = MXV_DNS_OK;
        out->sec = MXV_SEC_INSECURE;
        snprintf(out->detail, sizeof(out->detail), "the program's own lookup");
        size_t off = 0;
        for (size_t i = 0; i < slot->n; i++) {
            memcpy(keep->data + off, slot->data + off, slot->rdlen[i]);
            out->rdata[i] = keep->data + off;
            out->rdlen[i] = slot->rdlen[i];
            off += slot->rdlen[i];
        }
        out->n = slot->n;
        found = true;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

void mxv_program_dns_after_fork(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&lock, &fresh, sizeof(lock));
}
