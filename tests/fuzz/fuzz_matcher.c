/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz: the matcher on arbitrary bytes. Input: presented NUL reference
 * (no NUL: the whole input is the presented name, the reference is empty).
 * The reference is normalised as configuration and DNS names are; the
 * presented bytes go to the matcher raw, as a certificate hands them over.
 *
 * Invariants checked (abort on violation):
 *  - a match implies mxv_presented_valid();
 *  - matching ignores ASCII case of the presented name, and of the
 *    reference before normalisation (pure-ASCII references);
 *  - one trailing dot on the presented name changes nothing;
 *  - a normalised reference is a fixed point of normalisation, valid as a
 *    presented name, and matches itself;
 *  - a wildcard match "*.B" ~= R means R is one non-empty label plus B.
 */
#include "names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ascii_case(char *dst, const char *src, size_t len, bool upper)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (upper && c >= 'a' && c <= 'z')
            c = (unsigned char)(c - 32);
        else if (!upper && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        dst[i] = (char)c;
    }
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

static void check(const char *presented, size_t plen, const char *ref_in)
{
    char ref[MXV_NAME_MAX + 1];
    if (!mxv_reference_normalize(ref_in, ref, sizeof(ref), NULL))
        return;
    size_t rlen = strlen(ref);

    /* The normalised form: a fixed point, a valid host name, self-matching. */
    char again[MXV_NAME_MAX + 1];
    if (!mxv_reference_normalize(ref, again, sizeof(again), NULL) || strcmp(ref, again) != 0)
        abort();
    if (rlen == 0 || rlen > MXV_NAME_MAX || ref[rlen - 1] == '.')
        abort();
    if (!mxv_presented_valid(ref, rlen) || !mxv_name_matches(ref, rlen, ref))
        abort();

    bool m = mxv_name_matches(presented, plen, ref);
    if (m && !mxv_presented_valid(presented, plen))
        abort(); /* invalid names never match */

    /* Case of the presented name does not matter. */
    char *variant = malloc(plen + 2);
    if (!variant)
        return;
    for (int upper = 0; upper <= 1; upper++) {
        ascii_case(variant, presented, plen, upper);
        if (mxv_name_matches(variant, plen, ref) != m)
            abort();
    }
    /* Neither does one trailing dot. */
    if (plen && presented[plen - 1] != '.') {
        memcpy(variant, presented, plen);
        variant[plen] = '.';
        if (mxv_name_matches(variant, plen + 1, ref) != m)
            abort();
    }
    free(variant);

    /* Case of the reference as configured does not matter either. */
    if (is_ascii(ref_in)) {
        size_t ilen = strlen(ref_in);
        char *up = malloc(ilen + 1);
        char ref_up[MXV_NAME_MAX + 1];
        if (!up)
            return;
        ascii_case(up, ref_in, ilen, true);
        up[ilen] = '\0';
        if (!mxv_reference_normalize(up, ref_up, sizeof(ref_up), NULL) || strcmp(ref_up, ref))
            abort();
        free(up);
    }

    /* A wildcard match: the reference is one label more than the base. */
    if (m && plen >= 2 && presented[0] == '*') {
        size_t blen = plen - 2 - (presented[plen - 1] == '.');
        const char *dot = strchr(ref, '.');
        if (presented[1] != '.' || !dot || dot == ref || strlen(dot + 1) != blen ||
            strncasecmp(dot + 1, presented + 2, blen) != 0 || !memchr(dot + 1, '.', blen))
            abort();
    } else if (m && (plen != rlen + (presented[plen - 1] == '.') ||
                     strncasecmp(presented, ref, rlen) != 0)) {
        abort(); /* no wildcard: equal but for case and a trailing dot */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul ? (size_t)(nul - data) : size;
    size_t rlen = nul ? size - plen - 1 : 0;
    /* Private copies, so ASan sees any read past either end. */
    char *presented = malloc(plen ? plen : 1);
    char *ref_in = malloc(rlen + 1);
    if (presented && ref_in) {
        memcpy(presented, data, plen);
        memcpy(ref_in, nul ? (const char *)nul + 1 : "", rlen);
        ref_in[rlen] = '\0';
        check(presented, plen, ref_in);
    }
    free(presented);
    free(ref_in);
    return 0;
}
