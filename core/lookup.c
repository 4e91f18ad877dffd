/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lookup: MX and address lookups for callers that deliver (the `check`
 * probe, programs that can be changed), through the policy's resolver,
 * so --unbound-conf worlds and DNSSEC settings apply to them too.
 */
#include "ip_text.h"
#include "names.h"
#include "policy.h"
#include "text_copy.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    mxv_strlist *out;
    int status; /* 1 data, 0 no data, -1 failure */
    char detail[160];
    int family;
    bool mx, ptr;
} collect;

static void on_answer(void *arg, const mxv_dns_answer *a)
{
    collect *c = arg;
    mxv_text_copy(c->detail, sizeof(c->detail), a->detail);
    if (a->status == MXV_DNS_FAIL) {
        c->status = c->status == 1 ? 1 : -1;
        return;
    }
    for (size_t i = 0; a->status == MXV_DNS_OK && i < a->n; i++) {
        char text[MXV_NAME_MAX + 1];
        unsigned pref;
        if (c->ptr) {
            size_t used;
            if (mxv_dns_wire_name(a->rdata[i], a->rdlen[i], &used, text, sizeof(text)) && text[0])
                mxv_strlist_add(c->out, text);
        } else if (c->mx) {
            if (!mxv_dns_parse_mx(a->rdata[i], a->rdlen[i], &pref, text, sizeof(text)))
                continue; /* malformed */
            if (!text[0]) {
                snprintf(c->detail, sizeof(c->detail),
                         "null MX (RFC 7505): the domain accepts no mail");
                continue;
            }
            /* Keep preference order: insert before the first higher one. */
            char entry[MXV_NAME_MAX + 8];
            snprintf(entry, sizeof(entry), "%05u %s", pref, text);
            mxv_strlist_add(c->out, entry);
        } else if ((c->family == AF_INET && a->rdlen[i] == 4) ||
                   (c->family == AF_INET6 && a->rdlen[i] == 16)) {
            mxv_inet_ntop(c->family, a->rdata[i], text, sizeof(text));
            mxv_strlist_add(c->out, text);
        }
    }
    if (c->status != 1)
        c->status = c->out->n ? 1 : 0;
}

static int compare_entries(const void *a, const void *b)
{
    /* "PPPPP name": the zero-padded preference sorts as text; qsort is
     * not stable, so equal preferences fall back to the name. */
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct {
    collect *c;
    const char *name;
    const int *types;
    size_t n;
} lookups;

static void submit_lookups(mxv_dns *dns, void *arg)
{
    lookups *l = arg;
    for (size_t i = 0; i < l->n; i++) {
        l->c[i].status = 0;
        mxv_dns_submit(dns, l->name, l->types[i], on_answer, &l->c[i]);
    }
}

static int run_lookups(mxv_policy *p, collect *c, const char *name, const int *types, size_t n,
                       char *err, size_t errlen)
{
    lookups l = {c, name, types, n};
    if (!mxv_policy_dns_round(p, submit_lookups, &l, err, errlen))
        return -1;
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i].status == 1)
            status = 1;
        else if (c[i].status < 0 && status == 0) {
            status = -1;
            snprintf(err, errlen, "%s: %s", name, c[i].detail);
        }
    }
    if (status == 0)
        snprintf(err, errlen, "%s: %s", name, c[0].detail[0] ? c[0].detail : "no record");
    return status;
}

static char **to_array(mxv_strlist *list, size_t *n, size_t skip)
{
    char **out = calloc(list->n + 1, sizeof(*out));
    for (size_t i = 0; out && i < list->n; i++)
        out[i] = strdup(list->items[i] + skip);
    *n = out ? list->n : 0;
    mxv_strlist_clear(list);
    return out;
}

int mxv_lookup_mx(mxv_policy *p, const char *domain, char ***hosts, size_t *n, char *err,
                  size_t errlen)
{
    char name[MXV_NAME_MAX + 1];
    const char *why;
    *hosts = NULL;
    *n = 0;
    if (!mxv_reference_normalize(domain, name, sizeof(name), &why)) {
        snprintf(err, errlen, "%s: %s", domain, why);
        return -1;
    }
    mxv_strlist list = {0};
    collect c = {.out = &list, .mx = true};
    int status = run_lookups(p, &c, name, (const int[]){MXV_RR_MX}, 1, err, errlen);
    if (list.n) /* qsort(NULL, 0, ...) is undefined */
        qsort(list.items, list.n, sizeof(char *), compare_entries);
    *hosts = to_array(&list, n, 6 /* "PPPPP " */);
    return status;
}

int mxv_lookup_addresses(mxv_policy *p, const char *host, char ***addrs, size_t *n, char *err,
                         size_t errlen)
{
    mxv_strlist list = {0};
    collect c[2] = {{.out = &list, .family = AF_INET}, {.out = &list, .family = AF_INET6}};
    int status = run_lookups(p, c, host, (const int[]){MXV_RR_A, MXV_RR_AAAA}, 2, err, errlen);
    *addrs = to_array(&list, n, 0);
    return status;
}

int mxv_lookup_ptr(mxv_policy *p, const char *ip, char ***names, size_t *n, char *err,
                   size_t errlen)
{
    char rev[128];
    *names = NULL;
    *n = 0;
    if (!mxv_dns_reverse_name(ip, rev, sizeof(rev))) {
        snprintf(err, errlen, "%s: not an IPv4 or IPv6 address", ip);
        return -1;
    }
    mxv_strlist list = {0};
    collect c = {.out = &list, .ptr = true};
    int status = run_lookups(p, &c, rev, (const int[]){MXV_RR_PTR}, 1, err, errlen);
    *names = to_array(&list, n, 0);
    return status;
}

void mxv_free_list(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}
