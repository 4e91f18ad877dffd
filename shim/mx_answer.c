/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mx_answer: the MX RRset in the answer to a program's MX query: what the
 * program will deliver to (this thread's lookups, lookups.c) and, when it
 * is the whole RRset of the name asked and nothing else, evidence that
 * may stand for mxverify's own MX lookup (core/program_dns.h).
 */
#include "shim.h"

#include <arpa/nameser.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#define FLAG_TC 0x0200 /* truncated: the rest is not in this message */
#define FLAG_AD 0x0020 /* the resolver validated the answer (DNSSEC) */

/* The name as the program asked it and the owner of a record, as DNS
 * names: case and a trailing dot do not count. */
static bool same_owner(const char *qname, const char *owner)
{
    size_t n = strlen(qname);
    if (n && qname[n - 1] == '.')
        n--;
    return n == strlen(owner) && strncasecmp(qname, owner, n) == 0;
}

static void on_mx(shim_mx_rrset *m, const shim_rr *rr, const uint8_t *msg, size_t len)
{
    char owner[256];
    if (rr->rrclass != ns_c_in || rr->rdlen < 3 ||
        !shim_dns_name(msg, len, rr->owner, owner, sizeof(owner)) || !same_owner(m->qname, owner)) {
        m->whole = false;
        return;
    }
    if (m->n == SHIM_MX_MAX) {
        m->more = true;
        m->whole = false;
        return;
    }
    if (!shim_dns_name(msg, len, (size_t)(rr->rdata - msg) + 2, m->names[m->n], 256)) {
        m->whole = false;
        return;
    }
    m->prefs[m->n] = (unsigned)rr->rdata[0] << 8 | rr->rdata[1];
    m->hosts[m->n] = m->names[m->n];
    m->ttl = m->n == 0 || rr->ttl < m->ttl ? rr->ttl : m->ttl;
    m->n++;
}

static void on_record(void *arg, const shim_rr *rr, const uint8_t *msg, size_t len)
{
    shim_mx_rrset *m = arg;
    if (rr->rrtype == ns_t_mx)
        on_mx(m, rr, msg, len);
    else if (rr->rrtype != ns_t_rrsig)
        m->whole = false; /* a CNAME or DNAME (the RRset is an alias's), or anything else */
}

_Static_assert(offsetof(shim_mx_rrset, names) + sizeof(((shim_mx_rrset *)0)->names) ==
                   sizeof(shim_mx_rrset),
               "names[] ends the record: only what comes before it is zeroed");

bool shim_mx_rrset_read(const char *qname, const uint8_t *msg, size_t len, shim_mx_rrset *out)
{
    memset(out, 0, offsetof(shim_mx_rrset, names));
    out->qname = qname;
    out->whole = len >= 4 && !(msg[2] << 8 & FLAG_TC);
    out->authenticated = len >= 4 && (msg[3] & FLAG_AD);
    if (!qname || !shim_dns_answer_walk(msg, len, on_record, out)) {
        out->whole = false;
        return false;
    }
    out->whole = out->whole && out->n > 0;
    return true;
}
