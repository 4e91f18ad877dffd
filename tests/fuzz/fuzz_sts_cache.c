/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz: slots of the shared MTA-STS policy file (sts_cache). The file is
 * writable only by the user the program runs as, but it outlives any
 * process and may be damaged, so every slot is decoded as untrusted.
 *
 * Input: domain length (1 byte), the domain, then the slot's bytes
 * (zero-padded to a slot). The slot is sealed with a valid checksum
 * before decoding, so the fuzzer reaches the field checks behind it.
 */
#include "slot_file.h"
#include "sts_cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SCOPE 0x6d78766572696679u
#define NOW   1800000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size < 1u + data[0])
        return 0;
    size_t len = data[0];
    char domain[256];
    memcpy(domain, data + 1, len);
    domain[len] = '\0';
    data += 1 + len;
    size -= 1 + len;
    static uint8_t raw[MXV_STS_CACHE_SLOT];
    memset(raw, 0, sizeof(raw));
    memcpy(raw, data, size < sizeof(raw) ? size : sizeof(raw));
    static mxv_sts_cached got;
    /* As found: almost always a checksum mismatch, and never a crash. */
    (void)mxv_sts_cache_decode(raw, SCOPE, domain, NOW, &got);
    mxv_slot_seal(raw, sizeof(raw));
    if (!mxv_sts_cache_decode(raw, SCOPE, domain, NOW, &got))
        return 0;
    /* Accepted: a valid policy for that domain, still in force. */
    if (got.expires <= NOW || got.expires - got.fetched != (int64_t)got.policy.max_age ||
        got.policy.max_age > MXV_STS_MAX_AGE_LIMIT || got.policy.nmx > MXV_STS_MX_MAX ||
        (got.policy.mode != MXV_STS_MODE_NONE && got.policy.nmx == 0) ||
        !memchr(got.id, 0, sizeof(got.id)) || !got.id[0])
        abort();
    return 0;
}
