/* SPDX-License-Identifier: Apache-2.0 */
/* fork_hold: see fork_hold.h. */
#include "fork_hold.h"

#include <stddef.h>

static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static mxv_fork_held *first;

static void prepare(void)
{
    pthread_mutex_lock(&registry);
    for (mxv_fork_held *h = first; h; h = h->next)
        pthread_mutex_lock(h->lock);
}

static void done(void)
{
    for (mxv_fork_held *h = first; h; h = h->next)
        pthread_mutex_unlock(h->lock);
    pthread_mutex_unlock(&registry);
}

static void install(void)
{
    pthread_atfork(prepare, done, done);
}

void mxv_fork_hold(mxv_fork_held *held)
{
    pthread_once(&once, install);
    pthread_mutex_lock(&registry);
    held->next = first;
    first = held;
    pthread_mutex_unlock(&registry);
}
