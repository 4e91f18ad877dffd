/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dane_lookup_client: the DNS evidence for DANE of one MX host
 * (core/dane_lookup.h), for tests/integration/dane_lookup.sh. Prints
 *   state=none|usable|unusable|failed bogus=0|1 n=N usable=U base=HOST
 *   why=TEXT
 * then one line per record read ("tlsa 3 1 1 ..."). Exit 0, or 2 on usage
 * or set-up errors.
 *
 * usage: dane_lookup_client UNBOUND_CONF HOST [PORT]
 */
#include "dane_lookup.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: dane_lookup_client UNBOUND_CONF HOST [PORT]\n");
        return 2;
    }
    char err[256];
    mxv_dns *dns = mxv_dns_new(argv[1], true, err, sizeof(err));
    if (!dns || !mxv_dns_ready(dns, err, sizeof(err))) {
        fprintf(stderr, "dane_lookup_client: %s\n", err);
        return 2;
    }
    static mxv_dane_evidence ev;
    if (mxv_dane_lookup_start(dns, argv[2], argc > 3 ? (unsigned)atoi(argv[3]) : 25, &ev))
        mxv_dns_run(dns, 5000);
    mxv_dane_lookup_finish(&ev);
    static const char *const states[] = {"none", "usable", "unusable", "failed"};
    printf("state=%s bogus=%d n=%zu usable=%zu base=%s\nwhy=%s\n", states[ev.state], ev.bogus, ev.n,
           ev.usable, ev.base, ev.why);
    if (ev.malformed)
        printf("malformed=%zu (%s)\n", ev.malformed, ev.malformed_why);
    for (size_t i = 0; i < ev.n; i++) {
        char text[200];
        printf("tlsa %s\n", mxv_tlsa_format(&ev.records[i], text, sizeof(text)));
    }
    mxv_dane_evidence_clear(&ev);
    mxv_dns_free(dns);
    return 0;
}
