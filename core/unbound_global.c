/* SPDX-License-Identifier: Apache-2.0 */
/* unbound_global: see unbound_global.h. */
#include "unbound_global.h"
#include "fork_hold.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void hold_across_fork(void)
{
    static mxv_fork_held held = {.lock = &lock};
    mxv_fork_hold(&held);
}

void mxv_unbound_global_lock(void)
{
    pthread_once(&once, hold_across_fork);
    pthread_mutex_lock(&lock);
}

void mxv_unbound_global_unlock(void)
{
    pthread_mutex_unlock(&lock);
}
