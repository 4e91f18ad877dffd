/* connect() and close(): where a connection enters and leaves scope. */
#include "shim.h"

#include <errno.h>
#include <unistd.h>

SHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    static int (*real)(int, const struct sockaddr *, socklen_t);
    if (!real && !(real = shim_real("connect"))) {
        errno = ENOSYS;
        return -1;
    }
    int r = real(fd, addr, len);
    if (shim_busy || (r != 0 && errno != EINPROGRESS))
        return r;
    int saved = errno;
    shim_busy++;
    shim_conn_connected(fd, addr, len);
    shim_busy--;
    errno = saved;
    return r;
}

SHIM_EXPORT int close(int fd)
{
    static int (*real)(int);
    if (!real && !(real = shim_real("close"))) {
        errno = ENOSYS;
        return -1;
    }
    shim_conn_closed(fd);
    return real(fd);
}
