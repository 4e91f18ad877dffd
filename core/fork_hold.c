/* SPDX-License-Identifier: Apache-2.0 */
/* fork_hold: see fork_hold.h. */
#include "fork_hold.h"

#include <pthread.h>
#include <stdatomic.h>

static pthread_mutex_t locks[MXV_FORK_LOCKS] = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER};
/* The locks this thread holds (a bit each), so that a fork() it makes
 * itself skips them instead of waiting for itself. */
static _Thread_local unsigned held_here;
/* The locks this thread took in prepare(), released by done() (in the
 * same thread, parent or child). */
static _Thread_local unsigned taken;

/* The bit is set before the lock is taken and cleared after it is given
 * back: a signal handler that forks in between finds it set, and skips
 * the lock rather than wait for its own thread. */
void mxv_fork_lock(mxv_fork_lock_id id)
{
    held_here |= 1u << id;
    atomic_signal_fence(memory_order_seq_cst);
    pthread_mutex_lock(&locks[id]);
}

void mxv_fork_unlock(mxv_fork_lock_id id)
{
    pthread_mutex_unlock(&locks[id]);
    atomic_signal_fence(memory_order_seq_cst);
    held_here &= ~(1u << id);
}

/* Locks after the last one this thread holds are taken in order and
 * waited for; one before it (only a fork from a signal handler gets here
 * holding one) is taken only if free: waiting for it, while holding a
 * later one another thread may be waiting for, would never end. */
static void prepare(void)
{
    unsigned mine = held_here, now = 0;
    int last = -1;
    for (int id = 0; id < MXV_FORK_LOCKS; id++)
        if (mine & 1u << id)
            last = id;
    for (int id = 0; id < MXV_FORK_LOCKS; id++) {
        if (mine & 1u << id)
            continue;
        if (id < last ? pthread_mutex_trylock(&locks[id]) == 0
                      : pthread_mutex_lock(&locks[id]) == 0)
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
