/* Fuzz: the matcher on arbitrary bytes. Input: presented NUL reference. */
#include "names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul ? (size_t)(nul - data) : size;
    char *ref_in = malloc(size - plen + 1);
    if (!ref_in)
        return 0;
    size_t rlen = nul ? size - plen - 1 : 0;
    memcpy(ref_in, nul ? (const char *)nul + 1 : "", rlen);
    ref_in[rlen] = '\0';
    char ref[MXV_NAME_MAX + 1];
    if (mxv_reference_normalize(ref_in, ref, sizeof(ref), NULL)) {
        bool m = mxv_name_matches((const char *)data, plen, ref);
        if (m && !mxv_presented_valid((const char *)data, plen))
            abort(); /* invalid names never match */
        /* Matching ignores case: an upper-cased presented name agrees. */
        char *upper = malloc(plen + 1);
        if (upper) {
            for (size_t i = 0; i < plen; i++)
                upper[i] = (char)(data[i] >= 'a' && data[i] <= 'z' ? data[i] - 32 : data[i]);
            if (mxv_name_matches(upper, plen, ref) != m)
                abort();
            free(upper);
        }
        /* A normalised reference is a fixed point of normalisation. */
        char again[MXV_NAME_MAX + 1];
        if (!mxv_reference_normalize(ref, again, sizeof(again), NULL) || strcmp(ref, again))
            abort();
    }
    free(ref_in);
    return 0;
}
