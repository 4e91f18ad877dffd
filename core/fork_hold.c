/* SPDX-License-Identifier: Apache-2.0 */
/* fork_hold: see fork_hold.h. */
#include "fork_hold.h"

#include <pthread.h>

static pthread_mutex_t locks[MXV_FORK_LOCKS] = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER};
/* The locks this thread holds (a bit each), so that a fork() it makes
 * itself skips them instead of waiting for itself. */
static _Thread_local unsigned held_here;
/* The locks this thread took in prepare(), released by done() (in the
 * same thread, parent or child). */
static _Thread_local unsigned taken;

void mxv_fork_lock(mxv_fork_lock_id id)
{
    pthread_mutex_lock(&locks[id]);
    held_here |= 1u << id;
}

void mxv_fork_unlock(mxv_fork_lock_id id)
{
    held_here &= ~(1u << id);
    pthread_mutex_unlock(&locks[id]);
}

static void prepare(void)
{
    unsigned mine = held_here, now = 0;
    for (int id = 0; id < MXV_FORK_LOCKS; id++)
        if (!(mine & 1u << id)) {
            pthread_mutex_lock(&locks[id]);
            now |= 1u << id;
        }
    taken = now;
}

static void done(void)
{
    for (int id = MXV_FORK_LOCKS - 1; id >= 0; id--)
        if (taken & 1u << id)
            pthread_mutex_unlock(&locks[id]);
}

/* At load, before any thread of mxverify's exists: a registration made
 * later, under pthread_once, could be made twice (glibc runs again, in
 * the child, a pthread_once that a fork() interrupted). */
__attribute__((constructor)) static void install(void)
{
    pthread_atfork(prepare, done, done);
}
