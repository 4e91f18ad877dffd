/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The program's own DNS lookups: getaddrinfo(), gethostbyname*() and the
 * res_* query functions (MTAs ask for MX records with those). Answers are
 * noted per thread (lookups.c) to explain the next connect(); an MX query
 * also starts mxverify's own lookup of that domain's MX in the background.
 */
#include "shim.h"

#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#undef res_query
#undef res_search
#undef res_nquery
#undef res_nsearch

static bool wanted(void)
{
    return !shim_busy;
}

SHIM_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                            struct addrinfo **res)
{
    static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    if (!real && !(real = shim_real("getaddrinfo")))
        return EAI_SYSTEM;
    int r = real(node, service, hints, res);
    if (r != 0 || !node || !res || !wanted())
        return r;
    int saved = errno;
    const struct sockaddr *addrs[16];
    size_t n = 0;
    for (const struct addrinfo *ai = *res; ai && n < 16; ai = ai->ai_next)
        if (ai->ai_addr && (ai->ai_family == AF_INET || ai->ai_family == AF_INET6))
            addrs[n++] = ai->ai_addr;
    shim_seen_addresses(node, addrs, n);
    errno = saved;
    return r;
}

static void note_hostent(const char *name, const struct hostent *h)
{
    if (!h || !name || !wanted() || (h->h_addrtype != AF_INET && h->h_addrtype != AF_INET6))
        return;
    for (size_t i = 0; h->h_addr_list && h->h_addr_list[i] && i < 16; i++)
        shim_seen_address_bytes(name, h->h_addrtype, h->h_addr_list[i]);
}

SHIM_EXPORT struct hostent *gethostbyname(const char *name)
{
    static struct hostent *(*real)(const char *);
    if (!real && !(real = shim_real("gethostbyname")))
        return NULL;
    struct hostent *h = real(name);
    note_hostent(name, h);
    return h;
}

SHIM_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
    static struct hostent *(*real)(const char *, int);
    if (!real && !(real = shim_real("gethostbyname2")))
        return NULL;
    struct hostent *h = real(name, af);
    note_hostent(name, h);
    return h;
}

SHIM_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
                                struct hostent **result, int *h_errnop)
{
    static int (*real)(const char *, struct hostent *, char *, size_t, struct hostent **, int *);
    if (!real && !(real = shim_real("gethostbyname_r")))
        return ENOSYS;
    int r = real(name, ret, buf, buflen, result, h_errnop);
    if (r == 0 && result)
        note_hostent(name, *result);
    return r;
}

SHIM_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
                                 size_t buflen, struct hostent **result, int *h_errnop)
{
    static int (*real)(const char *, int, struct hostent *, char *, size_t, struct hostent **,
                       int *);
    if (!real && !(real = shim_real("gethostbyname2_r")))
        return ENOSYS;
    int r = real(name, af, ret, buf, buflen, result, h_errnop);
    if (r == 0 && result)
        note_hostent(name, *result);
    return r;
}

/* --- res_* --- */

/* MX records kept from one answer: the whole RRset (for the engine's
 * evidence), the first few of them for this thread's lookups. */
#define MX_KEPT 32 /* MXV_DNS_MAX_RECORDS */
#define MX_SEEN 8

typedef struct {
    const char *qname;
    const char *hosts[MX_KEPT];
    unsigned prefs[MX_KEPT];
    char names[MX_KEPT][256];
    size_t n;
    bool more;      /* MX records beyond those kept */
    bool not_rrset; /* a record of another owner (an alias), or one unreadable */
    unsigned ttl;   /* the smallest TTL of the MX records */
} answer_notes;

/* The name as the program asked it and the owner of a record, as DNS
 * names: case and a trailing dot do not count. */
static bool same_owner(const char *qname, const char *owner)
{
    size_t n = strlen(qname);
    if (n && qname[n - 1] == '.')
        n--;
    return n == strlen(owner) && strncasecmp(qname, owner, n) == 0;
}

static void on_mx_record(answer_notes *a, const shim_rr *rr, const uint8_t *msg, size_t msglen)
{
    char owner[256];
    if (!shim_dns_name(msg, msglen, rr->owner, owner, sizeof(owner)) ||
        !same_owner(a->qname, owner) || rr->rdlen < 3) {
        a->not_rrset = true;
        return;
    }
    if (a->n == MX_KEPT) {
        a->more = true;
        return;
    }
    if (!shim_dns_name(msg, msglen, (size_t)(rr->rdata - msg) + 2, a->names[a->n], 256)) {
        a->not_rrset = true;
        return;
    }
    a->prefs[a->n] = (unsigned)rr->rdata[0] << 8 | rr->rdata[1];
    a->hosts[a->n] = a->names[a->n];
    a->ttl = a->n == 0 || rr->ttl < a->ttl ? rr->ttl : a->ttl;
    a->n++;
}

static void on_record(void *arg, const shim_rr *rr, const uint8_t *msg, size_t msglen)
{
    answer_notes *a = arg;
    if (rr->rrtype == ns_t_a && rr->rdlen == 4)
        shim_seen_address_bytes(a->qname, AF_INET, rr->rdata);
    else if (rr->rrtype == ns_t_aaaa && rr->rdlen == 16)
        shim_seen_address_bytes(a->qname, AF_INET6, rr->rdata);
    else if (rr->rrtype == ns_t_mx)
        on_mx_record(a, rr, msg, msglen);
    else if (rr->rrtype != ns_t_rrsig)
        a->not_rrset = true; /* a CNAME or DNAME: the RRset is an alias's */
}

/* The first MX_SEEN targets, without the null MX, for this thread's
 * lookups (lookups.c). */
static void note_mx_seen(const answer_notes *a)
{
    const char *hosts[MX_SEEN];
    size_t n = 0;
    bool more = a->more;
    for (size_t i = 0; i < a->n; i++) {
        if (!a->hosts[i][0])
            continue;
        if (n == MX_SEEN)
            more = true;
        else
            hosts[n++] = a->hosts[i];
    }
    shim_seen_mx(a->qname, hosts, n, more);
}

/* Did the answer come from the resolver /etc/resolv.conf names, the one
 * mxverify's own lookups go to? A program may point its resolver state
 * elsewhere (res_ninit, then its own name servers): then its answers are
 * not evidence (core/program_dns.h). */
static void note_answer(res_state st, const char *qname, int type, const unsigned char *answer,
                        int len)
{
    if (len < 0 && type == ns_t_mx && h_errno == NO_DATA && wanted() && qname) {
        /* The name has no MX record: it is its own mail host (implicit
         * MX), as MTAs then look up its address (lookups.c). */
        shim_seen_mx(qname, NULL, 0, false);
        return;
    }
    if (!wanted() || !qname || len <= 0 || (type != ns_t_mx && type != ns_t_a && type != ns_t_aaaa))
        return;
    int saved = errno;
    answer_notes *a = calloc(1, sizeof(*a));
    if (a && (a->qname = qname) && shim_dns_answer_walk(answer, (size_t)len, on_record, a) &&
        type == ns_t_mx) {
        note_mx_seen(a);
        const mxv_hook_api *api = shim_engine(true); /* an MX query: mail software */
        shim_busy++;
        bool evidence = api && a->n && !a->more && !a->not_rrset && shim_resolver_is_system(st);
        if (api)
            api->mx_lookup_seen(qname, a->prefs, evidence ? a->hosts : NULL, evidence ? a->n : 0,
                                a->ttl);
        shim_busy--;
    }
    free(a);
    errno = saved;
}

/* res_query and res_search, and their res_state variants, under both the
 * old names and the __res_* names <resolv.h> maps them to. */
#define RES_PLAIN(name)                                                                            \
    SHIM_EXPORT int name(const char *dname, int class, int type, unsigned char *answer,            \
                         int anslen)                                                               \
    {                                                                                              \
        static int (*real)(const char *, int, int, unsigned char *, int);                          \
        if (!real && !(real = shim_real(#name))) {                                                 \
            errno = ENOSYS;                                                                        \
            return -1;                                                                             \
        }                                                                                          \
        int r = real(dname, class, type, answer, anslen);                                          \
        note_answer(&_res, dname, type, answer, r < anslen ? r : anslen);                          \
        return r;                                                                                  \
    }

#define RES_STATE(name)                                                                            \
    SHIM_EXPORT int name(res_state st, const char *dname, int class, int type,                     \
                         unsigned char *answer, int anslen)                                        \
    {                                                                                              \
        static int (*real)(res_state, const char *, int, int, unsigned char *, int);               \
        if (!real && !(real = shim_real(#name))) {                                                 \
            errno = ENOSYS;                                                                        \
            return -1;                                                                             \
        }                                                                                          \
        int r = real(st, dname, class, type, answer, anslen);                                      \
        note_answer(st, dname, type, answer, r < anslen ? r : anslen);                             \
        return r;                                                                                  \
    }

RES_PLAIN(res_query)
RES_PLAIN(__res_query)
RES_PLAIN(res_search)
RES_PLAIN(__res_search)
RES_STATE(res_nquery)
RES_STATE(__res_nquery)
RES_STATE(res_nsearch)
RES_STATE(__res_nsearch)
