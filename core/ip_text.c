/* SPDX-License-Identifier: Apache-2.0 */
/* ip_text: inet_ntop() with IPv4 formatted here (see the header). */
#include "ip_text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

const char *mxv_inet_ntop(int family, const void *addr, char *out, size_t outlen)
{
    if (family != AF_INET)
        return inet_ntop(family, addr, out, (socklen_t)outlen);
    const unsigned char *a = addr;
    char text[INET_ADDRSTRLEN];
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = a[i];
        if (v >= 100)
            text[n++] = (char)('0' + v / 100);
        if (v >= 10)
            text[n++] = (char)('0' + v / 10 % 10);
        text[n++] = (char)('0' + v % 10);
        text[n++] = i < 3 ? '.' : '\0';
    }
    if (n > outlen) {
        errno = ENOSPC;
        return NULL;
    }
    memcpy(out, text, n);
    return out;
}
