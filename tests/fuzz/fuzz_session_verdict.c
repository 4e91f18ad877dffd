/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz: the chain-verdict record a TLS session carries (read back from a
 * program's session cache): whatever the bytes, a record is refused or
 * decodes to a consistent verdict (ok exactly when there is no error, a
 * window that is one). The last 32 bytes of the input are the leaf's
 * digest, so matching and non-matching digests are both reached. */
#include "session_verdict.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char digest[32] = {0};
    if (size >= 32) {
        memcpy(digest, data + size - 32, 32);
        size -= 32;
    }
    mxv_session_verdict v;
    if (mxv_session_verdict_decode(data, size, digest, &v) &&
        (v.chain_ok != (v.chain_error == 0) || v.chain_error < 0 || v.not_before > v.not_after))
        abort();
    return 0;
}
