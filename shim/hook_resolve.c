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

static void on_address(void *arg, const shim_rr *rr, const uint8_t *msg, size_t msglen)
{
    (void)msg, (void)msglen;
    if (rr->rrtype == ns_t_a && rr->rdlen == 4)
        shim_seen_address_bytes(arg, AF_INET, rr->rdata);
    else if (rr->rrtype == ns_t_aaaa && rr->rdlen == 16)
        shim_seen_address_bytes(arg, AF_INET6, rr->rdata);
}

/* The first few targets, without the null MX, for this thread's lookups
 * (lookups.c). */
static void note_mx_seen(const shim_mx_rrset *m)
{
    enum { SEEN = 8 };
    const char *hosts[SEEN];
    size_t n = 0;
    bool more = m->more;
    for (size_t i = 0; i < m->n; i++) {
        if (!m->hosts[i][0])
            continue;
        if (n == SEEN)
            more = true;
        else
            hosts[n++] = m->hosts[i];
    }
    shim_seen_mx(m->qname, hosts, n, more);
}

/* The MX RRset the program received: this thread's context, and evidence
 * for the engine when it is the whole RRset from the system resolver. */
static void note_mx(res_state st, const char *qname, const unsigned char *answer, int len)
{
    shim_mx_rrset *m = malloc(sizeof(*m));
    if (!m || !shim_mx_rrset_read(qname, answer, (size_t)len, m)) {
        free(m);
        return;
    }
    note_mx_seen(m);
    const mxv_hook_api *api = shim_engine(true); /* an MX query: mail software */
    shim_busy++;
    bool trust_ad = false;
    bool evidence = api && m->whole && shim_resolver_is_system(st, &trust_ad);
    if (api)
        api->mx_lookup_seen(qname, m->prefs, evidence ? m->hosts : NULL, evidence ? m->n : 0,
                            m->ttl, evidence && trust_ad && m->authenticated);
    shim_busy--;
    free(m);
}

/* The answer the program received for (qname, type) through resolver
 * state st, len bytes (negative: no answer). */
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
    if (type == ns_t_mx)
        note_mx(st, qname, answer, len);
    else
        shim_dns_answer_walk(answer, (size_t)len, on_address, (void *)qname);
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
