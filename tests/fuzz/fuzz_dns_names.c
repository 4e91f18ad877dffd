/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz: names from DNS answers (untrusted rdata): wire-format names, MX
 * rdata, and reverse names of address text.
 *
 * Input: one byte choosing an output buffer size (0..255, so the bounds
 * of every writer are exercised with a buffer of exactly that size on the
 * heap, where ASan sees one byte too many), then the bytes.
 */
#include "dns.h"
#include "names.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A name accepted from DNS is usable as a reference identifier as it is. */
static void check_name(const char *name, size_t outlen)
{
    size_t len = strlen(name);
    if (len >= outlen || len > MXV_NAME_MAX)
        abort();
    char norm[MXV_NAME_MAX + 1];
    if (len && (!mxv_reference_normalize(name, norm, sizeof(norm), NULL) || strcmp(norm, name)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t outlen = data[0];
    data++;
    size--;
    uint8_t *wire = malloc(size ? size : 1); /* exact size: reads past the end are caught */
    char *out = malloc(outlen ? outlen : 1);
    char *text = malloc(size + 1);
    if (!wire || !out || !text)
        goto done;
    memcpy(wire, data, size);

    size_t used = 0;
    if (mxv_dns_wire_name(wire, size, &used, out, outlen)) {
        if (used == 0 || used > size)
            abort();
        check_name(out, outlen);
        /* What was consumed parses alone to the same name. */
        char again[MXV_NAME_MAX + 1];
        size_t used2 = 0;
        if (!mxv_dns_wire_name(wire, used, &used2, again, sizeof(again)) || used2 != used ||
            strcmp(again, out) != 0)
            abort();
    }

    unsigned pref = 0;
    if (mxv_dns_parse_mx(wire, size, &pref, out, outlen)) {
        if (size < 3 || pref != ((unsigned)wire[0] << 8 | wire[1]))
            abort();
        check_name(out, outlen);
    }

    memcpy(text, data, size);
    text[size] = '\0';
    if (mxv_dns_reverse_name(text, out, outlen)) {
        if (!mxv_is_ip_literal(text))
            abort();
        check_name(out, outlen);
        /* The same address in canonical text gives the same owner name. */
        unsigned char a[16];
        char canon[INET6_ADDRSTRLEN], rev[128];
        int af = inet_pton(AF_INET, text, a) == 1 ? AF_INET : AF_INET6;
        if (inet_pton(af, text, a) != 1 || !inet_ntop(af, a, canon, sizeof(canon)) ||
            !mxv_dns_reverse_name(canon, rev, sizeof(rev)) || strcmp(rev, out) != 0)
            abort();
        const char *suffix = af == AF_INET ? ".in-addr.arpa" : ".ip6.arpa";
        size_t olen = strlen(out), slen = strlen(suffix);
        if (olen <= slen || strcmp(out + olen - slen, suffix) != 0)
            abort();
    }
done:
    free(wire);
    free(out);
    free(text);
    return 0;
}
