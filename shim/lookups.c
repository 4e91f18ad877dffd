/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lookups: what this thread of the program just asked DNS, so that a
 * connection can be explained: "the program asked the MX of example.com,
 * then the address of mx01.example.net, then connected to that address".
 * Per thread (an MTA delivers one message per thread or process at a
 * time), newest first, bounded; nothing is shared, nothing is locked.
 */
#include "shim.h"
#include "text_copy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RING      8
#define MAX_ITEMS 16
#define NAME_LEN  256

typedef struct {
    enum { NONE, ADDRESSES, MX } kind;
    char name[NAME_LEN];
    size_t n;
    bool more; /* MX: targets beyond the n kept */
    union {
        struct {
            int family;
            unsigned char bytes[16];
        } addr[MAX_ITEMS];
        char host[MAX_ITEMS / 2][NAME_LEN];
    } u;
} lookup;

typedef struct {
    lookup ring[RING];
    unsigned next;
} thread_lookups;

static __thread thread_lookups *mine __attribute__((tls_model("initial-exec")));
static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void make_key(void)
{
    pthread_key_create(&key, free);
}

static lookup *slot(int kind, const char *name)
{
    if (!mine) {
        pthread_once(&key_once, make_key);
        if (!(mine = calloc(1, sizeof(*mine))))
            return NULL;
        pthread_setspecific(key, mine);
    }
    lookup *l = &mine->ring[mine->next++ % RING];
    /* Its items are written before they count (n); the 2 KB of them are
     * not cleared for every lookup. Readers look at the kind first: it is
     * NONE while the record is rewritten, so a signal handler of this
     * thread that connects meanwhile never reads a stale count or a
     * name without its end. */
    l->kind = NONE;
    atomic_signal_fence(memory_order_seq_cst);
    l->n = 0;
    l->more = false;
    size_t len = strnlen(name, sizeof(l->name) - 1);
    memcpy(l->name, name, len);
    l->name[len] = '\0';
    /* Names are compared as DNS names: lower case, no trailing dot. */
    if (len && l->name[len - 1] == '.')
        l->name[len - 1] = '\0';
    for (char *p = l->name; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p += 32;
    atomic_signal_fence(memory_order_seq_cst);
    l->kind = kind;
    return l;
}

/* `stored` is normalised; `name` is as the program wrote it. */
static bool same_name(const char *stored, const char *name)
{
    size_t n = strlen(stored), m = strlen(name);
    if (m && name[m - 1] == '.')
        m--;
    return n == m && strncasecmp(stored, name, n) == 0;
}

static bool is_ip_literal(const char *name)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

void shim_seen_address_bytes(const char *name, int family, const void *addr)
{
    if (!name || is_ip_literal(name))
        return;
    /* Consecutive answers for one name (A then AAAA) share a slot. */
    lookup *l = mine ? &mine->ring[(mine->next + RING - 1) % RING] : NULL;
    if (!l || l->kind != ADDRESSES || !same_name(l->name, name))
        l = slot(ADDRESSES, name);
    if (!l || l->n >= MAX_ITEMS)
        return;
    l->u.addr[l->n].family = family;
    memcpy(l->u.addr[l->n].bytes, addr, family == AF_INET ? 4 : 16);
    l->n++;
}

void shim_seen_addresses(const char *name, const struct sockaddr *const *addrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (addrs[i]->sa_family == AF_INET)
            shim_seen_address_bytes(name, AF_INET,
                                    &((const struct sockaddr_in *)addrs[i])->sin_addr);
        else if (addrs[i]->sa_family == AF_INET6)
            shim_seen_address_bytes(name, AF_INET6,
                                    &((const struct sockaddr_in6 *)addrs[i])->sin6_addr);
    }
}

void shim_seen_mx(const char *domain, const char *const *hosts, size_t n, bool more)
{
    lookup *l = slot(MX, domain);
    for (size_t i = 0; l && i < n && l->n < MAX_ITEMS / 2; i++) {
        mxv_text_copy(l->u.host[l->n], NAME_LEN, hosts[i]);
        l->n++;
    }
    if (l)
        l->more = more || n > l->n;
}

bool shim_lookups_explain(int family, const void *ip, mxv_observed *out)
{
    memset(out, 0, sizeof(*out));
    if (!mine)
        return false;
    size_t alen = family == AF_INET ? 4 : 16;
    /* Newest first: the address lookup that returned this IP... */
    int found = -1;
    for (unsigned k = 1; k <= RING && found < 0; k++) {
        const lookup *l = &mine->ring[(mine->next + RING - k) % RING];
        for (size_t i = 0; l->kind == ADDRESSES && i < l->n; i++)
            if (l->u.addr[i].family == family && memcmp(l->u.addr[i].bytes, ip, alen) == 0) {
                found = (int)k;
                mxv_text_copy(out->host, sizeof(out->host), l->name);
                break;
            }
    }
    if (found < 0)
        return false;
    /* ...then the MX answer, before it, that named that host, or that had
     * no MX record for that very name: the domain is its own mail host
     * (implicit MX, RFC 5321 section 5.1; Postfix then looks up its A). */
    for (unsigned k = (unsigned)found + 1; k <= RING; k++) {
        const lookup *l = &mine->ring[(mine->next + RING - k) % RING];
        if (l->kind == MX && l->n == 0 && strcmp(l->name, out->host) == 0) {
            mxv_text_copy(out->domain, sizeof(out->domain), l->name);
            return true;
        }
        bool named = false;
        for (size_t i = 0; l->kind == MX && i < l->n && !named; i++)
            named = strcmp(l->u.host[i], out->host) == 0;
        /* An answer with more targets than are kept may name the host
         * among the others: it is that domain's lookup all the same (and
         * mxverify checks the host against the domain's own MX records),
         * never a connection without a domain. */
        if (named || (l->kind == MX && l->more)) {
            mxv_text_copy(out->domain, sizeof(out->domain), l->name);
            return true;
        }
    }
    return true;
}
