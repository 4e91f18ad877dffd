/* Fuzz: names from DNS answers (untrusted rdata): wire-format names, MX
 * rdata, and reverse names of address text. */
#include "dns.h"
#include "names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[MXV_NAME_MAX + 1];
    size_t used;
    if (mxv_dns_wire_name(data, size, &used, name, sizeof(name))) {
        if (used > size || strlen(name) > MXV_NAME_MAX)
            abort();
        /* A name accepted from DNS is usable as a reference as it is. */
        char norm[MXV_NAME_MAX + 1];
        if (name[0] &&
            (!mxv_reference_normalize(name, norm, sizeof(norm), NULL) || strcmp(norm, name) != 0))
            abort();
    }
    unsigned pref;
    mxv_dns_parse_mx(data, size, &pref, name, sizeof(name));
    char text[128], rev[128];
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    mxv_dns_reverse_name(text, rev, sizeof(rev));
    return 0;
}
