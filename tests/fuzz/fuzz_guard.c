/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz: the clear-text and TLS boundary (core/guard.h) over arbitrary
 * bytes a program might write. Invariants: judging never reads out of
 * bounds; the verdict does not depend on how the bytes are cut into writes
 * (the same stream, written at once or in pieces, is allowed or refused
 * alike); a refusal names a reason; a stream allowed at the VERIFIED level
 * is allowed at the TLS level, which is never stricter; passing over the
 * octets the guard says it does not read (mxv_guard_unread, as the shim
 * does with large chunks) gives the same verdict as reading them; judging
 * leaves no trace, so a guard that judged and committed each piece ends
 * byte for byte where one that only committed them does (the shim keeps
 * the judged state of a chunk that left whole, shim/send.c); judging and
 * committing in one pass (mxv_guard_advance) refuses the same octets, for
 * the same reason, and otherwise ends where the two steps end.
 * Input: one octet of level, one of piece size, then the stream. */
#include "guard.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool in_pieces(mxv_guard_level level, const uint8_t *p, size_t n, size_t piece)
{
    mxv_guard g, committed, advanced;
    mxv_guard_init(&g, level);
    mxv_guard_init(&committed, level);
    mxv_guard_init(&advanced, level);
    for (size_t at = 0; at < n; at += piece) {
        size_t len = n - at < piece ? n - at : piece;
        mxv_guard_refusal r = {0}, ra = {0};
        bool ok = mxv_guard_check(&g, p + at, len, &r);
        if (ok != mxv_guard_advance(&advanced, p + at, len, &ra))
            abort();
        if (!ok) {
            if (!r.why || r.why != ra.why || r.tls != ra.tls || r.ask != ra.ask ||
                strcmp(r.head, ra.head) != 0)
                abort();
            return false;
        }
        mxv_guard_commit(&g, p + at, len);
        mxv_guard_commit(&committed, p + at, len);
        if (memcmp(&g, &committed, sizeof(g)) != 0 || memcmp(&g, &advanced, sizeof(g)) != 0)
            abort();
    }
    return true;
}

/* As the shim judges a large chunk: octets the guard does not read are
 * skipped, the rest fed in pieces. */
static bool skipping(mxv_guard_level level, const uint8_t *p, size_t n, size_t piece)
{
    mxv_guard g;
    mxv_guard_init(&g, level);
    for (size_t at = 0; at < n;) {
        size_t unread = mxv_guard_unread(&g);
        if (unread) {
            size_t k = unread < n - at ? unread : n - at;
            mxv_guard_skip(&g, k);
            at += k;
            continue;
        }
        size_t len = n - at < piece ? n - at : piece;
        mxv_guard_refusal r = {0};
        if (!mxv_guard_check(&g, p + at, len, &r))
            return false;
        mxv_guard_commit(&g, p + at, len);
        at += len;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 65536)
        return 0;
    mxv_guard_level level = (mxv_guard_level)(data[0] % 3);
    size_t piece = data[1] ? data[1] : 1;
    const uint8_t *p = data + 2;
    size_t n = size - 2;
    bool whole = in_pieces(level, p, n, n ? n : 1);
    if (whole != in_pieces(level, p, n, piece) || whole != in_pieces(level, p, n, 1))
        abort();
    if (whole != skipping(level, p, n, piece))
        abort();
    if (level == MXV_GUARD_VERIFIED && whole && !in_pieces(MXV_GUARD_TLS, p, n, n ? n : 1))
        abort();
    if (level == MXV_GUARD_WATCH && !whole)
        abort(); /* watching refuses nothing */
    return 0;
}
