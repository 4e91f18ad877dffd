/* SPDX-License-Identifier: Apache-2.0 */
/* text_copy: a string into a fixed buffer, cut to fit (see the header). */
#include "text_copy.h"

#include <string.h>

bool mxv_text_copy(char *dst, size_t size, const char *src)
{
    if (!size)
        return false;
    size_t len = strnlen(src, size);
    bool fits = len < size;
    if (!fits)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return fits;
}
