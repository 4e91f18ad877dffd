/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resolver_state: is the resolver state a program used the system's, the
 * one mxverify's own lookups go to (/etc/resolv.conf)? Only then may the
 * program's answers stand for mxverify's (core/program_dns.h).
 */
#include "shim.h"

#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Name server i of a resolver state, by glibc's own rule: nsaddr_list[i]
 * unless its family is 0, then _u._ext.nsaddrs[i] (an IPv6 server). A
 * state whose entry is anything else was not made by res_init from a
 * file: not the system's. */
static bool same_server(const struct __res_state *a, const struct __res_state *b, int i)
{
    const struct sockaddr_in *a4 = &a->nsaddr_list[i], *b4 = &b->nsaddr_list[i];
    if (a4->sin_family != b4->sin_family)
        return false;
    if (a4->sin_family == AF_INET)
        return a4->sin_port == b4->sin_port && a4->sin_addr.s_addr == b4->sin_addr.s_addr;
    if (a4->sin_family != 0)
        return false;
    const struct sockaddr_in6 *a6 = a->_u._ext.nsaddrs[i], *b6 = b->_u._ext.nsaddrs[i];
    return a6 && b6 && a6->sin6_family == AF_INET6 && b6->sin6_family == AF_INET6 &&
           a6->sin6_port == b6->sin6_port &&
           memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

static bool same_servers(const struct __res_state *a, const struct __res_state *b)
{
    if (a->nscount != b->nscount || a->nscount < 1 || a->nscount > MAXNS)
        return false;
    for (int i = 0; i < a->nscount; i++)
        if (!same_server(a, b, i))
            return false;
    return true;
}

/* /etc/resolv.conf as this process first read it: read once, like
 * mxverify's own resolver (libunbound reads it once, when built), and
 * before a chroot (shim_resolver_remember), where the file may differ or
 * be missing. Without the file there is no reference: libunbound would
 * then recurse by itself while glibc asks 127.0.0.1. A later change makes
 * the program's servers differ from these: its answers are then not
 * evidence, which only costs lookups. */
static pthread_mutex_t ref_lock = PTHREAD_MUTEX_INITIALIZER;
static struct __res_state *ref;
static bool ref_read;

static void fork_prepare(void)
{
    pthread_mutex_lock(&ref_lock);
}

static void fork_done(void)
{
    pthread_mutex_unlock(&ref_lock);
}

/* Called with ref_lock held. */
static void read_ref(void)
{
    if (ref_read)
        return;
    ref_read = true;
    /* Never taken across fork() (a child would find it held for ever). */
    pthread_atfork(fork_prepare, fork_done, fork_done);
    struct stat st;
    if (stat(_PATH_RESCONF, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    if ((ref = calloc(1, sizeof(*ref))) && res_ninit(ref) != 0) {
        free(ref);
        ref = NULL;
    }
}

void shim_resolver_remember(void)
{
    if (pthread_mutex_trylock(&ref_lock) != 0)
        return;
    read_ref();
    pthread_mutex_unlock(&ref_lock);
}

bool shim_resolver_is_system(const struct __res_state *st, bool *trust_ad)
{
    *trust_ad = false;
    /* Never waited for: without the lock the answer is only not evidence. */
    if (!st || pthread_mutex_trylock(&ref_lock) != 0)
        return false;
    read_ref();
    bool same = ref && same_servers(st, ref);
    *trust_ad = same && (ref->options & RES_TRUSTAD);
    pthread_mutex_unlock(&ref_lock);
    return same;
}
