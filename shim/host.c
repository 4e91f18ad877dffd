/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host: what the engine asks the shim about a connection (core/hook.h,
 * mxv_hook_host): the context the program revealed for it, the decision
 * for its handshake (which its guard needs), which socket carried a
 * ClientHello (which ties an SSL with a BIO of the program's own to it:
 * the guard notes each connection's ClientHello random), and which TLS
 * library runs its handshake (the GnuTLS hooks say so too).
 */
#include "conn.h"

#include <string.h>

static bool host_observed(int fd, mxv_observed *out)
{
    bool found = false;
    if (!shim_conns_lock())
        return false;
    const shim_conn *c = shim_conn_of(shim_fd_entry(fd));
    if (c && (c->seen.domain[0] || c->seen.host[0])) {
        *out = c->seen;
        found = true;
    }
    shim_conns_unlock();
    return found;
}

static void host_decided(int fd, const unsigned char random[MXV_HELLO_RANDOM_LEN], bool pass)
{
    if (!shim_conns_lock())
        return;
    shim_conn *c = shim_conn_of(shim_fd_entry(fd));
    if (c)
        mxv_guard_decided(&c->guard, random, pass);
    shim_conns_unlock();
}

static int host_fd_of_hello(const unsigned char random[MXV_HELLO_RANDOM_LEN])
{
    int fd = -1;
    if (!shim_conns_lock())
        return -1;
    const shim_conn *found = NULL;
    uint8_t r[MXV_GUARD_RANDOM_LEN];
    for (const shim_conn *c = shim_conns_live(); c && !found; c = c->next)
        if (mxv_guard_hello_random(&c->guard, r) && memcmp(r, random, sizeof(r)) == 0)
            found = c;
    /* The descriptor that carried it (still naming it: a descriptor is
     * never shared by two connections). */
    if (found && shim_conn_of(shim_fd_entry(found->last_fd)) == found)
        fd = found->last_fd;
    shim_conns_unlock();
    return fd;
}

static void host_tls_started(int fd, const char *library)
{
    if (!shim_conns_lock())
        return;
    shim_conn *c = shim_conn_of(shim_fd_entry(fd));
    if (c)
        c->library = library;
    shim_conns_unlock();
}

const mxv_hook_host shim_host = {
    .observed = host_observed,
    .decided = host_decided,
    .fd_of_hello = host_fd_of_hello,
    .tls_started = host_tls_started,
};
