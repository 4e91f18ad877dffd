/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz: slots of the shared DNS answer file (dns_cache). The file is
 * writable only by the user the program runs as, but it outlives any
 * process and may be damaged, so every slot is decoded as untrusted.
 *
 * Input: rrtype (1 byte), name length (1 byte), the name, then the slot's
 * bytes (zero-padded to a slot). The slot is sealed with a valid checksum
 * before decoding, so the fuzzer reaches the field checks behind it.
 */
#include "dns_shared.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SCOPE 0x6d78766572696679u
#define NOW   1800000000

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
    uint8_t raw[MXV_DNS_SHARED_SLOT] = {0};
    memcpy(raw, data, size < sizeof(raw) ? size : sizeof(raw));
    mxv_dns_shared_hit hit;
    /* As found: almost always a checksum mismatch, and never a crash. */
    (void)mxv_dns_shared_decode(raw, sizeof(raw), SCOPE, name, rrtype, NOW, &hit);
    mxv_dns_shared_seal(raw);
    if (!mxv_dns_shared_decode(raw, sizeof(raw), SCOPE, name, rrtype, NOW, &hit))
        return 0;
    /* Accepted: a whole answer inside the caller's buffer, still valid. */
    const mxv_dns_answer *a = &hit.answer;
    size_t total = 0;
    if (a->n > MXV_DNS_MAX_RECORDS || hit.ttl <= 0 || hit.ttl > 3600 ||
        (a->status == MXV_DNS_OK) != (a->n > 0) || a->status == MXV_DNS_FAIL ||
        a->sec == MXV_SEC_BOGUS || !memchr(a->detail, 0, sizeof(a->detail)))
        abort();
    for (size_t i = 0; i < a->n; i++) {
        if (a->rdata[i] < hit.data || a->rdata[i] + a->rdlen[i] > hit.data + sizeof(hit.data))
            abort();
        total += a->rdlen[i];
    }
    if (total > sizeof(hit.data))
        abort();
    return 0;
}
