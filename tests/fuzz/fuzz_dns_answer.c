/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz: DNS responses a program received and the preload shim reads (its
 * own answer walker and name decoder, shim/dns_answer.c), then what the
 * shim concludes from them (shim/lookups.c), and the MX RRset kept as the
 * program's evidence (core/program_dns.c). Invariants: decoded names are
 * NUL-terminated, at most 253 octets, lower case; the walker never reads
 * past the exact-size copy (ASan); what the evidence gives back is
 * well-formed MX rdata. */
#include "program_dns.h"
#include "shim.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const char *hosts[8];
    char names[8][256];
    size_t n;
    mxv_program_mx mx[8];
} seen;

static void on_record(void *arg, const shim_rr *rr, const uint8_t *msg, size_t msglen)
{
    seen *s = arg;
    int type = rr->rrtype;
    const uint8_t *rdata = rr->rdata;
    size_t rdlen = rr->rdlen;
    char owner[256];
    assert(rdata >= msg && rdata + rdlen <= msg + msglen && rr->owner < msglen);
    assert(rr->ttl <= 0x7fffffffu);
    if (shim_dns_name(msg, msglen, rr->owner, owner, sizeof(owner)))
        assert(strlen(owner) <= 255);
    if (type == 1 && rdlen == 4)
        shim_seen_address_bytes("mx.fuzz.test", AF_INET, rdata);
    if (type == 15 && rdlen > 2 && s->n < 8 &&
        shim_dns_name(msg, msglen, (size_t)(rdata - msg) + 2, s->names[s->n], 256)) {
        size_t len = strlen(s->names[s->n]);
        assert(len <= 255);
        for (size_t i = 0; i < len; i++)
            assert(!(s->names[s->n][i] >= 'A' && s->names[s->n][i] <= 'Z'));
        s->hosts[s->n] = s->names[s->n];
        s->mx[s->n] = (mxv_program_mx){(unsigned)rdata[0] << 8 | rdata[1], s->names[s->n]};
        s->n++;
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
    seen s = {.n = 0};
    if (shim_dns_answer_walk(msg, size, on_record, &s)) {
        shim_seen_mx("fuzz.test", s.hosts, s.n, false);
        /* A domain of this input's own: the evidence outlives the input. */
        static unsigned long inputs;
        char domain[64];
        snprintf(domain, sizeof(domain), "input%lu.fuzz.test", ++inputs);
        mxv_program_mx_seen(domain, s.mx, s.n, 300);
        mxv_dns_answer a;
        static mxv_program_answer_storage keep;
        if (mxv_program_mx_get(domain, &a, &keep)) {
            assert(a.n == s.n);
            for (size_t i = 0; i < a.n; i++) {
                unsigned pref;
                char host[256];
                assert(a.rdlen[i] >= 3 && a.rdlen[i] <= 2 + MXV_NAME_WIRE_MAX);
                (void)mxv_dns_parse_mx(a.rdata[i], a.rdlen[i], &pref, host, sizeof(host));
            }
        }
    }
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
