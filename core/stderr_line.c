/* SPDX-License-Identifier: Apache-2.0 */
/* stderr_line: see the header. */
#include "stderr_line.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

bool mxv_stderr_line(const char *text, size_t len)
{
    int saved = errno;
    struct stat st;
    bool said = false;
    if (fstat(2, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            said = write(2, text, len) >= 0;
        } else {
            int domain = 0;
            socklen_t dlen = sizeof(domain);
            if (getsockopt(2, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) == 0 && domain != AF_INET &&
                domain != AF_INET6)
                said = send(2, text, len, MSG_NOSIGNAL) >= 0 ||
                       (errno == ENOTSOCK && write(2, text, len) >= 0);
        }
    }
    errno = saved;
    return said;
}
