/* SPDX-License-Identifier: Apache-2.0 */
#include "program_dns.h"
#include "fork_hold.h"
#include "names.h"
#include "policy.h"
#include "slot_file.h"
#include "text_copy.h"

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
    char domain[MXV_NAME_MAX + 1]; /* lower case, no trailing dot */
    time_t expires;
    bool authenticated;
    size_t n;
    size_t rdlen[MXV_DNS_MAX_RECORDS];
    uint8_t data[]; /* the records' rdata, one after the other */
} entry;

/* Pointers (8 KB), each entry allocated with its records: a table of
 * whole entries (half a megabyte) took a fresh page, a page fault, for
 * nearly every new domain a process delivered to. */
static entry *table[ENTRIES];

/* The table's lock, taken across fork() (fork_hold.h), so that no other
 * thread is halfway through a slot when the child's copy is made. */
static void lock(void)
{
    mxv_fork_lock(MXV_FORK_LOCK_PROGRAM_DNS);
}

static void unlock(void)
{
    mxv_fork_unlock(MXV_FORK_LOCK_PROGRAM_DNS);
}

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

void mxv_program_mx_seen(const char *domain, const mxv_program_mx *records, size_t n, unsigned ttl,
                         bool authenticated)
{
    char name[MXV_NAME_MAX + 1];
    if (!mxv_reference_normalize(domain, name, sizeof(name), NULL) || n == 0 ||
        n > MXV_DNS_MAX_RECORDS || ttl == 0)
        return;
    entry *e = malloc(sizeof(*e) + n * (2 + MXV_NAME_WIRE_MAX));
    if (!e)
        return;
    memcpy(e->domain, name, strlen(name) + 1);
    e->n = n;
    e->authenticated = authenticated;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        e->data[used] = (uint8_t)(records[i].pref >> 8);
        e->data[used + 1] = (uint8_t)records[i].pref;
        size_t len = to_wire(records[i].host, e->data + used + 2, MXV_NAME_WIRE_MAX);
        if (len == 0 || records[i].pref > 0xffff) {
            free(e);
            return;
        }
        e->rdlen[i] = 2 + len;
        used += 2 + len;
    }
    e->expires = time(NULL) + (ttl < MAX_TTL ? (time_t)ttl : MAX_TTL);
    entry *fitted = realloc(e, sizeof(*e) + used);
    if (fitted)
        e = fitted;
    lock();
    entry **slot = &table[index_of(e->domain)];
    entry *old = *slot;
    *slot = e;
    unlock();
    free(old);
}

bool mxv_program_dns_usable(const mxv_effective *e)
{
    return !e->unbound_conf && e->dnssec != MXV_DNSSEC_REQUIRE && e->dane == MXV_DANE_OFF;
}

/* The kept RRset of `domain`, within its TTL. */
static bool kept(const char *domain, mxv_dns_answer *out, mxv_program_answer_storage *keep,
                 bool *authenticated)
{
    char name[MXV_NAME_MAX + 1];
    if (!mxv_reference_normalize(domain, name, sizeof(name), NULL))
        return false;
    lock();
    const entry *slot = table[index_of(name)];
    bool found = slot && slot->expires > time(NULL) && strcmp(slot->domain, name) == 0;
    if (found)
        *authenticated = slot->authenticated;
    if (found && out) {
        memset(out, 0, sizeof(*out));
        out->status = MXV_DNS_OK;
        out->sec = MXV_SEC_INSECURE;
        mxv_text_copy(out->detail, sizeof(out->detail), "the program's own lookup");
        size_t off = 0;
        for (size_t i = 0; i < slot->n; i++) {
            memcpy(keep->data + off, slot->data + off, slot->rdlen[i]);
            out->rdata[i] = keep->data + off;
            out->rdlen[i] = slot->rdlen[i];
            off += slot->rdlen[i];
        }
        out->n = slot->n;
    }
    unlock();
    return found;
}

bool mxv_program_mx_evidence(mxv_policy *policy, const mxv_effective *e, const char *domain,
                             bool wait, mxv_dns_answer *out, mxv_program_answer_storage *keep)
{
    bool authenticated = false;
    return mxv_program_dns_usable(e) && kept(domain, out, keep, &authenticated) &&
           (authenticated || mxv_policy_dns_unvalidated(policy, wait));
}
