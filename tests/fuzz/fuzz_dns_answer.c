/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz: DNS responses a program received and the preload shim reads (its
 * answer walker and name decoder, shim/dns_answer.c; the MX RRset reader,
 * shim/mx_answer.c), then what the shim concludes from them
 * (shim/lookups.c), and the MX RRset kept as the program's evidence
 * (core/program_dns.c). Invariants: decoded names are NUL-terminated, at
 * most 255 octets, lower case; the walker never reads past the exact-size
 * copy (ASan); an RRset that counts as whole has every record's owner
 * equal to the name asked and no other record; what the evidence gives
 * back is what was read, as well-formed MX rdata. */
#include "policy.h"
#include "program_dns.h"
#include "shim.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_record(void *arg, const shim_rr *rr, const uint8_t *msg, size_t msglen)
{
    size_t *records = arg;
    char owner[256];
    assert(rr->rdata >= msg && rr->rdata + rr->rdlen <= msg + msglen && rr->owner < msglen);
    assert(rr->ttl <= 0x7fffffffu);
    if (shim_dns_name(msg, msglen, rr->owner, owner, sizeof(owner)))
        assert(strlen(owner) <= 255);
    if (rr->rrtype == 1 && rr->rdlen == 4)
        shim_seen_address_bytes("mx.fuzz.test", AF_INET, rr->rdata);
    ++*records;
}

/* The evidence of this input: a domain of its own (the evidence outlives
 * the input), under settings where unvalidated answers count. */
static void check_evidence(const shim_mx_rrset *m)
{
    static mxv_policy *policy;
    static unsigned long inputs;
    char err[128], domain[64];
    if (!policy && (!(policy = mxv_policy_new()) ||
                    !mxv_policy_set(policy, "dnssec", "off", err, sizeof(err))))
        abort();
    snprintf(domain, sizeof(domain), "input%lu.fuzz.test", ++inputs);
    mxv_program_mx records[SHIM_MX_MAX];
    for (size_t i = 0; i < m->n; i++)
        records[i] = (mxv_program_mx){m->prefs[i], m->hosts[i]};
    mxv_program_mx_seen(domain, records, m->n, m->ttl, m->authenticated);
    mxv_effective e;
    mxv_policy_effective(policy, domain, &e);
    mxv_dns_answer a;
    static mxv_program_answer_storage keep;
    if (!mxv_program_mx_evidence(policy, &e, domain, true, &a, &keep))
        return;
    assert(a.n == m->n && m->ttl > 0);
    for (size_t i = 0; i < a.n; i++) {
        unsigned pref;
        char host[256];
        assert(a.rdlen[i] >= 3 && a.rdlen[i] <= 2 + MXV_NAME_WIRE_MAX);
        if (mxv_dns_parse_mx(a.rdata[i], a.rdlen[i], &pref, host, sizeof(host)))
            assert(pref == m->prefs[i] && strcmp(host, m->hosts[i]) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65535)
        return 0;
    uint8_t *msg = malloc(size ? size : 1);
    if (!msg)
        return 0;
    memcpy(msg, data, size);
    size_t records = 0;
    bool walked = shim_dns_answer_walk(msg, size, on_record, &records);
    (void)walked; /* only asserted */
    shim_mx_rrset *m = malloc(sizeof(*m));
    if (m && shim_mx_rrset_read("fuzz.test", msg, size, m)) {
        assert(walked && m->n <= records && m->n <= SHIM_MX_MAX);
        assert(!m->whole || (m->n > 0 && !m->more && !(size >= 3 && msg[2] & 0x02)));
        const char *seen[8];
        size_t nseen = 0;
        for (size_t i = 0; i < m->n; i++) {
            assert(strlen(m->hosts[i]) <= 255);
            for (const char *c = m->hosts[i]; *c; c++)
                assert(!(*c >= 'A' && *c <= 'Z'));
            if (m->hosts[i][0] && nseen < 8)
                seen[nseen++] = m->hosts[i];
        }
        shim_seen_mx("fuzz.test", seen, nseen, m->n > nseen);
        if (m->whole)
            check_evidence(m);
    }
    free(m);
    char name[256];
    for (size_t at = 0; at < size && at < 64; at++)
        if (shim_dns_name(msg, size, at, name, sizeof(name)))
            assert(strlen(name) <= 255);
    mxv_observed out;
    unsigned char ip[4] = {127, 0, 0, 21};
    shim_lookups_explain(AF_INET, ip, &out);
    assert(memchr(out.domain, 0, sizeof(out.domain)) && memchr(out.host, 0, sizeof(out.host)));
    free(msg);
    return 0;
}
