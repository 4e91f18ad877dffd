/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz: the chain-verdict record a TLS session carries (read back from a
 * program's session cache): whatever the bytes, a record is refused or
 * decodes to a consistent verdict (ok exactly when there is no error, a
 * window that is one). The input's last octet picks the digest's length
 * (even: 20, SHA-1; odd: 32, SHA-256) and the octets before it are the
 * leaf's digest, so both formats, matching and non-matching digests are
 * reached. */
#include "session_verdict.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char digest[32] = {0};
    size_t digest_len = 20;
    if (size >= 1)
        digest_len = data[--size] & 1 ? 32 : 20;
    if (size >= digest_len) {
        memcpy(digest, data + size - digest_len, digest_len);
        size -= digest_len;
    }
    mxv_session_verdict v;
    if (mxv_session_verdict_decode(data, size, digest, digest_len, &v) &&
        (v.chain_ok != (v.chain_error == 0) || v.chain_error < 0 || v.not_before > v.not_after))
        abort();
    return 0;
}
