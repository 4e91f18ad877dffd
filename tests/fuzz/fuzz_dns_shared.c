/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz: sets of slots of the shared DNS answer file (dns_cache). The file
 * is writable only by the user the program runs as, but it outlives any
 * process and may be damaged, so every slot is decoded as untrusted.
 *
 * Input: rrtype (1 byte), name length (1 byte), the name, then the set's
 * bytes (zero-padded to a set of MXV_DNS_SHARED_WAYS slots). The set is
 * looked up as found, then with every slot sealed with a valid checksum,
 * so the fuzzer reaches the field checks behind it. Each slot is decoded
 * on its own too, from a buffer of exactly its size, so that ASan sees a
 * read past it.
 */
#include "dns_shared.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SCOPE 0x6d78766572696679u
#define NOW   1800000000
#define SLOT  MXV_DNS_SHARED_SLOT
#define WAYS  MXV_DNS_SHARED_WAYS

/* Accepted: a whole answer inside the caller's buffer, still valid. */
static void check(const mxv_dns_shared_hit *hit)
{
    const mxv_dns_answer *a = &hit->answer;
    size_t total = 0;
    if (a->n > MXV_DNS_MAX_RECORDS || hit->ttl <= 0 || hit->ttl > 3600 ||
        (a->status == MXV_DNS_OK) != (a->n > 0) || a->status == MXV_DNS_FAIL ||
        a->sec == MXV_SEC_BOGUS || !memchr(a->detail, 0, sizeof(a->detail)))
        abort();
    for (size_t i = 0; i < a->n; i++) {
        if (a->rdata[i] < hit->data || a->rdata[i] + a->rdlen[i] > hit->data + sizeof(hit->data))
            abort();
        total += a->rdlen[i];
    }
    if (total > sizeof(hit->data))
        abort();
}

static void look(const uint8_t *set, size_t len, const char *name, int rrtype)
{
    mxv_dns_shared_hit hit;
    int way = mxv_dns_shared_find(set, len, SCOPE, name, rrtype, NOW, &hit);
    if (way >= WAYS || (way >= 0 && (size_t)(way + 1) * SLOT > len))
        abort();
    if (way >= 0)
        check(&hit);
    /* A new answer goes to a slot of the set, and to one of its name's
     * own (the one found, or an earlier one spent or damaged), never to a
     * second copy after the one found. */
    size_t victim = mxv_dns_shared_victim(set, len, SCOPE, name, rrtype, NOW);
    if (victim >= WAYS || (len >= SLOT && (victim + 1) * SLOT > len) ||
        (way >= 0 && victim > (size_t)way))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size < 2u + data[1])
        return 0;
    int rrtype = data[0];
    size_t namelen = data[1];
    char name[256];
    memcpy(name, data + 2, namelen);
    name[namelen] = '\0';
    data += 2 + namelen;
    size -= 2 + namelen;
    /* Buffers of exactly the size passed, so that ASan sees a read past
     * one: the input as it is (short, usually), then a whole set. */
    size_t len = size < SLOT * WAYS ? size : SLOT * WAYS;
    uint8_t *set = calloc(1, SLOT * WAYS), *exact = malloc(len ? len : 1);
    if (!set || !exact) {
        free(set);
        free(exact);
        return 0;
    }
    memcpy(exact, data, len);
    memcpy(set, data, len);
    /* As found: almost always checksum mismatches, and never a crash. */
    look(exact, len, name, rrtype);
    look(set, SLOT * WAYS, name, rrtype);
    for (size_t i = 0; i < WAYS; i++)
        mxv_dns_shared_seal(set + i * SLOT);
    look(set, SLOT * WAYS, name, rrtype);
    uint8_t *one = malloc(SLOT);
    for (size_t i = 0; one && i < WAYS; i++) {
        mxv_dns_shared_hit hit;
        memcpy(one, set + i * SLOT, SLOT);
        if (mxv_dns_shared_decode(one, SLOT, SCOPE, name, rrtype, NOW, &hit))
            check(&hit);
    }
    free(one);
    free(set);
    free(exact);
    return 0;
}
